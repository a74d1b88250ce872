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

On PostgreSQL the partitions of a step marked `parallel` (the built-in SQL steps) run on
several connections at once, one thread each; they touch disjoint loans. SQLite has one
writer, so there it is one partition after the other.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from xindai import clock
from xindai.cob.registry import (
    DEFAULT_REGISTRY,
    LAST_STEP,
    Step,
    StepContext,
    StepRegistry,
)
from xindai.cob.sql import OPEN_STATUSES, Dialect
from xindai.cob.tuning import COB_INDEXES
from xindai.errors import InvalidValue, XindaiError
from xindai.servicing.delinquency import DEFAULT_BUCKET_SCHEME, BucketScheme
from xindai.store.models import CobStepRun, Loan, SystemState
from xindai.store.repository import BUSINESS_DATE_KEY

DEFAULT_PARTITION_SIZE = 200_000
AFTER_COMMIT_CALLS = 8  # a step's calls after commit (e.g. to the channel) at once
PLAN_STEP = "plan"

_RUNS = cast(Table, CobStepRun.__table__)
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
    """A progress event: a step starts (`partition` 0), a partition ends (`partition` is how
    many of the step's `partitions` are finished, including those `skipped` as done before),
    or the step ends (`done`). `rows` and `seconds` are the partition's (the step's when
    done). With several workers, events come from their threads (one at a time)."""

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
    report_fold_seconds: float = 0.0  # folding the closed days for the reports, afterwards

    @property
    def seconds(self) -> float:
        return sum(day.seconds for day in self.days)


ProgressFn = Callable[[CobProgress], None]


@dataclass
class _Run:
    engine: Engine
    connection: Connection
    dialect: Dialect
    steps: tuple[Step, ...]
    partition_size: int
    workers: int
    progress: ProgressFn | None
    bucket_scheme: BucketScheme
    indexes: frozenset[str] = frozenset()
    results: list[DayResult] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def emit(self, event: CobProgress) -> None:
        if self.progress is not None:
            with self.lock:  # worker threads report too
                self.progress(event)

    def context(
        self, connection: Connection, day: date, *, lo: int = 0, hi: int = 0
    ) -> StepContext:
        return StepContext(
            connection,
            self.dialect,
            day,
            lo=lo,
            hi=hi,
            bucket_scheme=self.bucket_scheme,
            indexes=self.indexes,
        )


def run_cob(
    target: Engine | sessionmaker[Session],
    *,
    date: date | None = None,
    until: date | None = None,
    progress: ProgressFn | None = None,
    partition_size: int = DEFAULT_PARTITION_SIZE,
    workers: int | None = None,
    registry: StepRegistry | None = None,
    bucket_scheme: BucketScheme = DEFAULT_BUCKET_SCHEME,
) -> CobSummary:
    """Close business date `date` (default: the current one), or every date from the current
    business date up to and including `until`. A `date` already closed is skipped (nothing
    changes); any other date than the current business date is refused with `CobError`.
    `partition_size` loan ids per partition, each partition one transaction; `workers`
    connections run a step's partitions at once (default: 1 on SQLite, whose writers queue
    anyway; on PostgreSQL `default_workers()`)."""
    if date is not None and until is not None:
        raise InvalidValue("date", date, "give a date or an end date, not both", "日期二选一")
    if partition_size < 1:
        raise InvalidValue("partition_size", partition_size, "must be positive", "必须大于零")
    if workers is not None and workers < 1:
        raise InvalidValue("workers", workers, "must be positive", "必须大于零")
    engine = _engine(target)
    if engine.dialect.name == "sqlite":
        workers = 1
    elif workers is None:
        workers = default_workers()
    steps = (registry or DEFAULT_REGISTRY).steps
    with engine.connect() as connection:
        run = _Run(
            engine,
            connection,
            Dialect(connection.dialect),
            steps,
            partition_size,
            workers,
            progress,
            bucket_scheme,
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
        started = time.perf_counter()
        _fold_for_reports(engine)
        return CobSummary(
            tuple(run.results), _business_date(connection), time.perf_counter() - started
        )


def _fold_for_reports(engine: Engine) -> None:
    """The closed days folded into the reports' daily tables (`reports.closed`)."""
    from xindai.reports.closed import fold_closed_days_for_reports
    from xindai.store.db import session_factory

    fold_closed_days_for_reports(session_factory(engine))


def default_workers() -> int:
    """Connections close of business uses on PostgreSQL unless told: one per CPU but one,
    up to 4 — a CPU is left to the API, so that staff pages stay fast while it runs (on 2
    CPUs, two workers made the loan lists of `xindai bench console --under-load` 3–10×
    slower)."""
    return min(4, max(1, (os.cpu_count() or 1) - 1))


def _engine(target: Engine | sessionmaker[Session]) -> Engine:
    if isinstance(target, Engine):
        return target
    bind = target.kw.get("bind")
    if isinstance(bind, Engine):
        return bind
    raise InvalidValue("target", target, "an engine or a session factory bound to one")


def _cob_indexes(connection: Connection) -> frozenset[str]:
    """Which of the partial indexes of `cob.tuning` the database has (steps use them)."""
    with connection.begin():
        names = {str(index["name"]) for index in inspect(connection).get_indexes("installments")}
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


def _begin(run: _Run, connection: Connection) -> Any:
    """A transaction on `connection` with the batch settings."""
    transaction = connection.begin()
    if not run.dialect.is_sqlite:
        connection.execute(text(_POSTGRES_SETTINGS))
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
    now = clock.now()
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
        .values(status="done", rows=rows, finished_at=clock.now())
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
        context = run.context(connection, day)
        with _begin(run, connection):
            _claim(connection, day, step.name)
            rows = step.run(context) if step.run is not None else 0
            if not context.after_commit:
                _finish(connection, day, step.name, rows)
        if context.after_commit:
            _after_commit(connection, context, day, step.name, rows)
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
    progress = _StepProgress(run, day, step.name, len(partitions))
    run.emit(CobProgress(day, step.name, 0, len(partitions)))
    for k in partitions:
        if k in done:
            progress.finished(done[k], 0.0, skipped=True)
    todo = [k for k in partitions if k not in done]
    if run.workers > 1 and step.parallel and len(todo) > 1:
        _run_parallel(run, day, step, size, todo, progress)
    else:
        for k in todo:
            _run_partition(run, connection, day, step, size, k, progress)
    with connection.begin():
        _finish(connection, day, step.name, progress.rows)
    seconds = time.perf_counter() - started
    run.emit(
        CobProgress(
            day, step.name, len(partitions), len(partitions), progress.rows, seconds, done=True
        )
    )
    return StepResult(step.name, progress.rows, seconds, len(partitions), False)


class _StepProgress:
    """Rows and finished partitions of a step, counted across worker threads."""

    def __init__(self, run: _Run, day: date, step: str, partitions: int) -> None:
        self.run, self.day, self.step, self.partitions = run, day, step, partitions
        self.count = 0
        self.rows = 0
        self.lock = threading.Lock()

    def finished(self, rows: int, seconds: float, *, skipped: bool = False) -> None:
        with self.lock:
            self.count += 1
            self.rows += rows
            event = CobProgress(
                self.day, self.step, self.count, self.partitions, rows, seconds, skipped
            )
            self.run.emit(event)


def _run_partition(
    run: _Run,
    connection: Connection,
    day: date,
    step: Step,
    size: int,
    k: int,
    progress: _StepProgress,
) -> None:
    """Partition k of `step` and its progress row, in one transaction."""
    assert step.run is not None
    started = time.perf_counter()
    key = f"{step.name}/{k}"
    context = run.context(connection, day, lo=k * size, hi=(k + 1) * size - 1)
    with _begin(run, connection):
        # the partition's row first: a second runner on the same date waits here, then fails
        _claim(connection, day, key)
        if step.locks_loans and not run.dialect.is_sqlite:
            _lock_open_loans(connection, context)
        rows = step.run(context)
        if not context.after_commit:
            _finish(connection, day, key, rows)
    if context.after_commit:
        _after_commit(connection, context, day, key, rows)
    progress.finished(rows, time.perf_counter() - started)


def _lock_open_loans(connection: Connection, context: StepContext) -> None:
    """Lock the partition's open loans (PostgreSQL) before the step reads them: a step reads
    a loan's balances and last sequence number, then writes what follows from them, and a
    repayment committed in between (the channel's callbacks do not wait for the night) would
    make the step post on stale figures or a taken sequence number. Postings lock their
    loan first (`load_state(for_update=True)`), so they wait for the partition's commit and
    then see what close of business wrote; on SQLite the partition holds the only write
    lock already."""
    connection.execute(
        text(
            "SELECT count(*) FROM (SELECT id FROM loans WHERE id BETWEEN :lo AND :hi"
            f" AND status IN {OPEN_STATUSES} ORDER BY id FOR NO KEY UPDATE) locked"
        ),
        {"lo": context.lo, "hi": context.hi},
    )


def _claim(connection: Connection, day: date, key: str) -> None:
    """The progress row of `key`, running: a new one, or the one an attempt left running
    when its calls after commit failed (a resumed run takes it over)."""
    connection.execute(
        _RUNS.delete().where(
            _RUNS.c.business_date == day, _RUNS.c.step == key, _RUNS.c.status == "running"
        )
    )
    _insert(connection, day, key, "running", 0)


def _after_commit(
    connection: Connection, context: StepContext, day: date, key: str, rows: int
) -> None:
    """The step's calls once its rows are committed, `AFTER_COMMIT_CALLS` at a time (each
    waits on the channel: one request per loan, one after another, was most of a night's
    close of business); `key` done only when all returned (a failure leaves it running,
    the calls not yet started are dropped, and a resumed run does the partition again)."""
    calls = context.after_commit
    if len(calls) == 1:
        calls[0]()
    elif calls:
        workers = min(AFTER_COMMIT_CALLS, len(calls))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cob-after") as pool:
            futures = [pool.submit(call) for call in calls]
            for future in futures:
                if future.exception() is not None:  # (waits for it)
                    for later in futures:
                        later.cancel()
                    break
        errors = [f.exception() for f in futures if not f.cancelled()]
        failed = [error for error in errors if error is not None]
        if failed:
            raise failed[0]
    with connection.begin():
        _finish(connection, day, key, rows)


def _run_parallel(
    run: _Run, day: date, step: Step, size: int, todo: list[int], progress: _StepProgress
) -> None:
    """The partitions `todo` on `run.workers` connections at once (each partition is its
    own transaction on disjoint loans); the first failure stops the others' next pick."""
    pending = list(reversed(todo))
    lock = threading.Lock()
    failed = threading.Event()

    def work() -> None:
        with run.engine.connect() as connection:
            while not failed.is_set():
                with lock:
                    if not pending:
                        return
                    k = pending.pop()
                try:
                    _run_partition(run, connection, day, step, size, k, progress)
                except BaseException:
                    failed.set()
                    raise

    with ThreadPoolExecutor(max_workers=run.workers, thread_name_prefix="cob") as pool:
        futures = [pool.submit(work) for _ in range(min(run.workers, len(todo)))]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        raise errors[0]  # type: ignore[misc]
