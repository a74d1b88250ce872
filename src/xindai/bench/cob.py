"""Close-of-business benchmark (`xindai bench cob`): a synthetic book of N open loans written
with bulk inserts (not timed), then K business days of close of business, timed per day and
per step, with the peak memory of this process and, on PostgreSQL, of its server backend.

The book is built in a child process so that its arrays do not count in the peak memory of
close of business (`ru_maxrss` cannot be reset).
"""

from __future__ import annotations

import multiprocessing
import resource
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from xindai.cob.portfolio import BookStats, build_book
from xindai.cob.runner import (
    DEFAULT_PARTITION_SIZE,
    DayResult,
    ProgressFn,
    default_workers,
    run_cob,
)
from xindai.cob.tuning import COB_FILLFACTOR, create_cob_indexes, set_cob_fillfactor
from xindai.store.db import make_engine
from xindai.store.migrate import upgrade
from xindai.store.models import LoanSnapshot

DEFAULT_START = date(2026, 3, 2)


@dataclass(frozen=True, slots=True)
class CobBenchResult:
    """Figures of one run; seconds are wall clock, memory in bytes."""

    database: str
    dialect: str
    book: BookStats
    build_seconds: float
    maintenance_seconds: float  # ANALYZE / VACUUM after the bulk load, extra indexes
    days: tuple[DayResult, ...]
    open_loans: tuple[int, ...]  # snapshot rows per day
    peak_rss_bytes: int  # this process, building excluded
    server_peak_rss_bytes: int | None = None  # the PostgreSQL backend that ran COB
    server_settings: dict[str, str] = field(default_factory=dict)
    tuned: bool = True  # cob.tuning applied: partial indexes, fill factors (PostgreSQL)
    workers: int = 1
    wal_bytes: int | None = None  # PostgreSQL write-ahead log written by close of business
    report_fold_seconds: tuple[float, ...] = ()  # after each day: the reports' daily tables

    def loans_per_second(self, day: int) -> float:
        seconds = self.days[day].seconds
        return self.open_loans[day] / seconds if seconds else 0.0


def _build_in_child(url: str, loans: int, start: date, seed: int, queue: Any) -> None:
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":  # a fresh file: nothing to lose in a crash
                connection.connection.dbapi_connection.execute("PRAGMA synchronous = OFF")  # type: ignore[union-attr]
            with connection.begin():
                if engine.dialect.name == "postgresql":
                    connection.execute(text("SET LOCAL synchronous_commit = off"))
                stats = build_book(connection, loans=loans, start=start, seed=seed)
        queue.put((stats, time.perf_counter() - started))
    except BaseException as exc:  # reported to the parent, which raises it
        queue.put(exc)
        raise
    finally:
        engine.dispose()


def _build(url: str, loans: int, start: date, seed: int) -> tuple[BookStats, float]:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_build_in_child, args=(url, loans, start, seed, queue))
    child.start()
    outcome = queue.get()
    child.join()
    if isinstance(outcome, BaseException):
        raise outcome
    stats, seconds = outcome
    return stats, seconds


def _maintain(engine: Engine, tuned: bool) -> float:
    """What an operator runs after a bulk load: statistics (and the visibility map), and the
    indexes of `cob.tuning`."""
    started = time.perf_counter()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE)"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    if tuned:
        with engine.begin() as connection:
            create_cob_indexes(connection)
            connection.execute(text("ANALYZE installments"))
    return time.perf_counter() - started


def _server(engine: Engine) -> tuple[int | None, dict[str, str]]:
    """The backend pid of the pooled connection close of business will use, and settings."""
    if engine.dialect.name != "postgresql":
        return None, {}
    with engine.connect() as connection:
        pid = int(connection.scalar(text("SELECT pg_backend_pid()")))
        settings = {
            name: str(connection.scalar(text(f"SHOW {name}")))
            for name in ("server_version", "shared_buffers", "work_mem", "max_wal_size")
        }
    return pid, settings


def _wal_position(engine: Engine) -> int | None:
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')")))


def _workers(engine: Engine, workers: int | None) -> int:
    """The workers run_cob uses for `workers` (see its docstring)."""
    if engine.dialect.name == "sqlite":
        return 1
    return workers or default_workers()


def _peak_rss_of(pid: int | None) -> int | None:
    """VmHWM of a process (needs permission to read /proc/<pid>/status)."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def run_cob_bench(
    database: str | None,
    *,
    loans: int,
    days: int = 1,
    seed: int = 20260302,
    start: date = DEFAULT_START,
    partition_size: int = DEFAULT_PARTITION_SIZE,
    workers: int | None = None,
    tuned: bool = True,
    progress: ProgressFn | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> CobBenchResult:
    """Build the book in `database` (an empty database; default a temporary SQLite file,
    deleted afterwards) and time `days` business days of close of business. `tuned`: with
    the schema tuning of `cob.tuning` (fill factors set before the load, indexes after)."""
    phase = on_phase or (lambda _message: None)
    with tempfile.TemporaryDirectory(prefix="xindai-bench-cob-") as scratch:
        url = database or f"sqlite:///{Path(scratch) / 'bench.db'}"
        engine = make_engine(url)
        try:
            upgrade(engine)
            if tuned:
                with engine.begin() as connection:
                    set_cob_fillfactor(connection)
            phase(f"building {loans:,} loans …")
            book, build_seconds = _build(url, loans, start, seed)
            phase("statistics and indexes …")
            maintenance = _maintain(engine, tuned)
            pid, settings = _server(engine)
            wal_before = _wal_position(engine)
            results: list[DayResult] = []
            open_loans: list[int] = []
            folds: list[float] = []
            for n in range(days):
                day = start + timedelta(days=n)
                summary = run_cob(
                    engine,
                    date=day,
                    partition_size=partition_size,
                    workers=workers,
                    progress=progress,
                )
                results.extend(summary.days)
                folds.append(summary.report_fold_seconds)
                with engine.connect() as connection:
                    open_loans.append(
                        int(
                            connection.scalar(
                                select(func.count())
                                .select_from(LoanSnapshot)
                                .where(LoanSnapshot.business_date == day)
                            )
                            or 0
                        )
                    )
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            wal_after = _wal_position(engine)
            return CobBenchResult(
                database=make_url(url).render_as_string(hide_password=True),
                dialect=engine.dialect.name,
                book=book,
                build_seconds=build_seconds,
                maintenance_seconds=maintenance,
                days=tuple(results),
                open_loans=tuple(open_loans),
                peak_rss_bytes=peak,
                server_peak_rss_bytes=_peak_rss_of(pid),
                server_settings=settings,
                tuned=tuned,
                workers=_workers(engine, workers),
                wal_bytes=None
                if wal_before is None or wal_after is None
                else wal_after - wal_before,
                report_fold_seconds=tuple(folds),
            )
        finally:
            engine.dispose()


def _mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:,.0f} MiB"


def _tuning(result: CobBenchResult) -> str:
    if not result.tuned:
        return "as migrated (no cob.tuning)"
    fill = ", ".join(f"{t} {p}" for t, p in COB_FILLFACTOR.items())
    parts = ["cob.tuning partial indexes"]
    if result.dialect == "postgresql":
        parts.append(f"fillfactor {fill}")
    return " + ".join(parts) + " (recommended for store.models)"


def render_cob_bench(result: CobBenchResult) -> Group:
    book = result.book
    head = Text(
        f"{result.dialect} · {result.database}\n"
        f"book: {book.loans:,} open loans, {book.installments:,} installments, "
        f"{book.past_due:,} past due ({book.past_due / max(1, book.loans):.1%}), "
        f"{book.overdue:,} overdue, {book.transactions:,} log rows — built in "
        f"{result.build_seconds:.1f} s (not timed), statistics"
        f"{' and COB indexes' if result.tuned else ''} {result.maintenance_seconds:.1f} s\n"
        f"schema: {_tuning(result)} · workers: {result.workers}"
    )
    days = Table(title="close of business per business day 日终批处理")
    days.add_column("business date")
    days.add_column("open loans", justify="right")
    days.add_column("seconds", justify="right")
    days.add_column("loans/s", justify="right")
    days.add_column("then reports' fold s", justify="right")
    for n, day in enumerate(result.days):
        folds = result.report_fold_seconds
        days.add_row(
            day.business_date.isoformat(),
            f"{result.open_loans[n]:,}",
            f"{day.seconds:.2f}",
            f"{result.loans_per_second(n):,.0f}",
            f"{folds[n]:.2f}" if n < len(folds) else "",
        )
    steps = Table(title="per step (seconds; rows)")
    steps.add_column("step")
    for day in result.days:
        steps.add_column(day.business_date.isoformat(), justify="right")
    for i, step in enumerate(result.days[0].steps if result.days else ()):
        steps.add_row(
            step.step,
            *(f"{d.steps[i].seconds:.2f}; {d.steps[i].rows:,}" for d in result.days),
        )
    memory = Text(
        f"peak memory (ru_maxrss, this process, building excluded): "
        f"{_mib(result.peak_rss_bytes)}"
        + (
            f"\nPostgreSQL backend peak (VmHWM, shared buffers it touched included): "
            f"{_mib(result.server_peak_rss_bytes)}; write-ahead log written "
            f"{_mib(result.wal_bytes)}; "
            + ", ".join(f"{k} {v}" for k, v in result.server_settings.items())
            if result.dialect == "postgresql"
            else ""
        )
    )
    return Group(head, days, steps, memory)
