"""Run close of business for a business date, or every date up to one: resumable, idempotent.

Progress lives in `cob_step_runs`, keyed (business date, step):

- `plan`: the partition size (in `rows`) used for the date, fixed by its first run so that a
  rerun resumes on the same partitions;
- `<step>/<k>`: partition k of a partitioned step (loan ids k·size … (k+1)·size − 1), inserted
  in the same database transaction as the partition's work, so that a crash leaves either
  both or neither;
- `<step>`: `running` while its partitions run, `done` (with the total rows) afterwards; an
  unpartitioned step's row is written in its own transaction.

A step or partition already recorded is skipped, so a rerun after a crash resumes where the
last committed partition left off, and running a finished date again changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from xindai.cob.indexes import COB_INDEXES
from xindai.cob.registry import (
    DEFAULT_REGISTRY,
    LAST_STEP,
    Step,
    StepContext,
    StepRegistry,
)
from xindai.cob.sql import Dialect
from xindai.errors import InvalidValue, XindaiError
from xindai.servicing.delinquency import DEFAULT_BUCKET_SCHEME, BucketScheme
from xindai.store.models import CobStepRun, Loan, SystemState
from xindai.store.repository import BUSINESS_DATE_KEY

DEFAULT_PARTITION_SIZE = 200_000
PLAN_STEP = "plan"

_RUNS = CobStepRun.__table__
# per transaction on PostgreSQL: a batch can lose its last commits in a server crash
# (the rerun redoes them), sorts and hashes stay in memory, no JIT compile per statement
_POSTGRES_SETTINGS = (
    "SELECT set_config('synchronous_commit', 'off', true), set_config('work_mem', '256MB', true),"
    " set_config('jit', 'off', true)"
)


class CobError(XindaiError):
    """Close of business cannot run as asked."""

    code = "COB_ERROR"


@dataclass(frozen=True, slots=True)
class CobProgress:
    """A progress event: a step starts (`partition` 0), a partition ends, or the step ends
    (`done`). `rows` and `seconds` are the partition's (the step's when done)."""

    business_date: date
    step: str
    partition: int
    partitions: int
    rows: int = 0
    seconds: float = 0.0
    skipped: bool = False
    done: bool = False


@dataclass(frozen=True, slots=True)
class StepResult:
    step: str
    rows: int
    seconds: float
    partitions: int
    skipped: bool  # already done before this run


@dataclass(frozen=True, slots=True)
class DayResult:
    business_date: date
    steps: tuple[StepResult, ...]

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)

    @property
    def skipped(self) -> bool:
        return all(step.skipped for step in self.steps)


@dataclass(frozen=True, slots=True)
class CobSummary:
    """What a run did: one result per business date, and the business date afterwards."""

    days: tuple[DayResult, ...]
    business_date: date

    @property
    def seconds(self) -> float:
        return sum(day.seconds for day in self.days)


ProgressFn = Callable[[CobProgress], None]


@dataclass
class _Run:
    connection: Connection
    dialect: Dialect
    steps: tuple[Step, ...]
    partition_size: int
    progress: ProgressFn | None
    bucket_scheme: BucketScheme
    indexes: frozenset[str] = frozenset()
    results: list[DayResult] = field(default_factory=list)

    def emit(self, event: CobProgress) -> None:
        if self.progress is not None:
            self.progress(event)


def run_cob(
    target: Engine | sessionmaker[Session],
    *,
    date: date | None = None,
    until: date | None = None,
    progress: ProgressFn | None = None,
    partition_size: int = DEFAULT_PARTITION_SIZE,
    registry: StepRegistry | None = None,
    bucket_scheme: BucketScheme = DEFAULT_BUCKET_SCHEME,
) -> CobSummary:
    """Close business date `date` (default: the current one), or every date from the current
    business date up to and including `until`. A `date` already closed is skipped (nothing
    changes); any other date than the current business date is refused with `CobError`.
    `partition_size` loan ids per partition, each partition one transaction."""
    if date is not None and until is not None:
        raise InvalidValue("date", date, "give a date or an end date, not both", "日期二选一")
    if partition_size < 1:
        raise InvalidValue("partition_size", partition_size, "must be positive", "必须大于零")
    engine = _engine(target)
    steps = (registry or DEFAULT_REGISTRY).steps
    with engine.connect() as connection:
        run = _Run(
            connection, Dialect(connection.dialect), steps, partition_size, progress, bucket_scheme
        )
        current = _business_date(connection)
        run.indexes = _cob_indexes(connection)
        if date is not None:
            if _status(connection, date, LAST_STEP) == "done":
                run.results.append(_skipped_day(run, date))
                return CobSummary(tuple(run.results), current)
            if date != current:
                raise CobError(
                    f"cannot close {date}: the business date is {current}",
                    f"不能对 {date} 执行日终：当前营业日为 {current}",
                )
            days = [date]
        elif until is not None:
            days = [current + timedelta(days=n) for n in range((until - current).days + 1)]
        else:
            days = [current]
        for day in days:
            _run_day(run, day)
        return CobSummary(tuple(run.results), _business_date(connection))


def _engine(target: Engine | sessionmaker[Session]) -> Engine:
    if isinstance(target, Engine):
        return target
    bind = target.kw.get("bind")
    if isinstance(bind, Engine):
        return bind
    raise InvalidValue("target", target, "an engine or a session factory bound to one")


def _cob_indexes(connection: Connection) -> frozenset[str]:
    """Which of the partial indexes of `cob.indexes` the database has (steps use them)."""
    with connection.begin():
        names = {index["name"] for index in inspect(connection).get_indexes("installments")}
    return frozenset(names & set(COB_INDEXES))


def _business_date(connection: Connection) -> date:
    with connection.begin():
        value = connection.scalar(
            select(SystemState.value).where(SystemState.key == BUSINESS_DATE_KEY)
        )
    if value is None:
        raise CobError(
            "the business date is not set: run `xindai db upgrade` and set a start date",
            "营业日未设置",
        )
    return date.fromisoformat(value)


def _status(connection: Connection, day: date, step: str) -> str | None:
    with connection.begin():
        row = connection.execute(
            select(_RUNS.c.status).where(_RUNS.c.business_date == day, _RUNS.c.step == step)
        ).first()
    return None if row is None else str(row[0])


def _skipped_day(run: _Run, day: date) -> DayResult:
    with run.connection.begin():
        rows = dict(
            run.connection.execute(
                select(_RUNS.c.step, _RUNS.c.rows).where(_RUNS.c.business_date == day)
            ).all()
        )
    results = tuple(
        StepResult(step.name, int(rows.get(step.name, 0)), 0.0, 0, True) for step in run.steps
    )
    for result in results:
        run.emit(CobProgress(day, result.step, 0, 0, result.rows, skipped=True, done=True))
    return DayResult(day, results)


def _begin(run: _Run) -> Any:
    """A transaction on the run's connection with the batch settings."""
    transaction = run.connection.begin()
    if not run.dialect.is_sqlite:
        run.connection.execute(text(_POSTGRES_SETTINGS))
    return transaction


def _run_day(run: _Run, day: date) -> None:
    connection = run.connection
    with connection.begin():
        current = connection.scalar(
            select(SystemState.value).where(SystemState.key == BUSINESS_DATE_KEY)
        )
        if current != day.isoformat():
            raise CobError(
                f"cannot close {day}: the business date is {current}",
                f"不能对 {day} 执行日终：当前营业日为 {current}",
            )
        size = connection.scalar(
            select(_RUNS.c.rows).where(_RUNS.c.business_date == day, _RUNS.c.step == PLAN_STEP)
        )
        if size is None:
            size = run.partition_size
            _insert(connection, day, PLAN_STEP, "done", size)
    results = [_run_step(run, day, step, int(size)) for step in run.steps]
    run.results.append(DayResult(day, tuple(results)))


def _insert(connection: Connection, day: date, step: str, status: str, rows: int) -> None:
    now = datetime.now()
    connection.execute(
        _RUNS.insert().values(
            business_date=day,
            step=step,
            status=status,
            rows=rows,
            started_at=now,
            finished_at=now if status == "done" else None,
        )
    )


def _finish(connection: Connection, day: date, step: str, rows: int) -> None:
    connection.execute(
        _RUNS.update()
        .where(_RUNS.c.business_date == day, _RUNS.c.step == step)
        .values(status="done", rows=rows, finished_at=datetime.now())
    )


def _run_step(run: _Run, day: date, step: Step, size: int) -> StepResult:
    connection = run.connection
    status = _status(connection, day, step.name)
    if status == "done":
        with connection.begin():
            rows = connection.scalar(
                select(_RUNS.c.rows).where(_RUNS.c.business_date == day, _RUNS.c.step == step.name)
            )
        run.emit(CobProgress(day, step.name, 0, 0, int(rows or 0), skipped=True, done=True))
        return StepResult(step.name, int(rows or 0), 0.0, 0, True)
    started = time.perf_counter()
    if step.run is None or not step.partitioned:
        run.emit(CobProgress(day, step.name, 0, 1))
        with _begin(run):
            _insert(connection, day, step.name, "running", 0)
            context = StepContext(
                connection,
                run.dialect,
                day,
                bucket_scheme=run.bucket_scheme,
                indexes=run.indexes,
            )
            rows = step.run(context) if step.run is not None else 0
            _finish(connection, day, step.name, rows)
        seconds = time.perf_counter() - started
        run.emit(CobProgress(day, step.name, 1, 1, rows, seconds))
        run.emit(CobProgress(day, step.name, 1, 1, rows, seconds, done=True))
        return StepResult(step.name, rows, seconds, 1, False)
    with connection.begin():
        if status is None:
            _insert(connection, day, step.name, "running", 0)
        # two statements: SQLite answers a lone min() or max() from the index, not both
        first = connection.scalar(select(func.min(Loan.id)))
        last = connection.scalar(select(func.max(Loan.id)))
        prefix = f"{step.name}/"
        done = {
            int(name.removeprefix(prefix)): int(rows)
            for name, rows in connection.execute(
                select(_RUNS.c.step, _RUNS.c.rows).where(
                    _RUNS.c.business_date == day,
                    _RUNS.c.step.like(f"{prefix}%"),
                    _RUNS.c.status == "done",
                )
            ).all()
        }
    partitions = (
        [] if first is None or last is None else list(range(first // size, last // size + 1))
    )
    run.emit(CobProgress(day, step.name, 0, len(partitions)))
    total = 0
    for index, k in enumerate(partitions, start=1):
        if k in done:
            total += done[k]
            run.emit(CobProgress(day, step.name, index, len(partitions), done[k], skipped=True))
            continue
        part_started = time.perf_counter()
        with _begin(run):
            # the partition's row first: a second runner on the same date waits here, then fails
            _insert(connection, day, f"{prefix}{k}", "running", 0)
            context = StepContext(
                connection,
                run.dialect,
                day,
                lo=k * size,
                hi=(k + 1) * size - 1,
                bucket_scheme=run.bucket_scheme,
                indexes=run.indexes,
            )
            rows = step.run(context)
            _finish(connection, day, f"{prefix}{k}", rows)
        total += rows
        run.emit(
            CobProgress(
                day, step.name, index, len(partitions), rows, time.perf_counter() - part_started
            )
        )
    with connection.begin():
        _finish(connection, day, step.name, total)
    seconds = time.perf_counter() - started
    run.emit(
        CobProgress(day, step.name, len(partitions), len(partitions), total, seconds, done=True)
    )
    return StepResult(step.name, total, seconds, len(partitions), False)
