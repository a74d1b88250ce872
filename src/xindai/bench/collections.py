"""Collections benchmark (`xindai bench collections`): the synthetic book of `bench cob`
(about 15 % of its loans overdue), collectors in the default queues (M1 round robin, M2-M3
by capacity, M3+ three agencies by performance), then close of business with the collection
steps for K days. Reported: each day's steps, the collection steps' share of the day
(reminders, cases, allocate against the rest, measured in the same run), then with the
open cases in place the p95 of the workbench's next-case and case-detail calls over HTTP
(`bench.collections_http`: the app served by `xindai serve`, collectors logged in) and, in
process, of the same service calls without HTTP and of one guardrail check after a day of
calls. Figures, not assertions (ENGINEERING.md: pytest never asserts time).
"""

from __future__ import annotations

import contextlib
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from xindai.bench.cob import DEFAULT_START, _build, _maintain
from xindai.bench.collections_http import (
    WorkbenchHttpResult,
    render_workbench_http,
    time_workbench_http,
)
from xindai.bench.warnings_book import (
    WarningBook,
    WarningDay,
    bench_bureau,
    build_warning_book,
    render_warnings,
    warning_figures,
)
from xindai.cob.registry import DEFAULT_REGISTRY
from xindai.cob.runner import DEFAULT_PARTITION_SIZE, DayResult, run_cob
from xindai.collections.cob import ALLOCATE_STEP, CASES_STEP, WARNING_STEP, register_collections
from xindai.collections.config import Guardrails
from xindai.collections.guardrails import DebtorClock, GuardrailRefused, check_contact
from xindai.collections.scope import CaseScope
from xindai.collections.service import Workbench
from xindai.collections.skiptrace import RankedContact
from xindai.security.pii import PiiCipher
from xindai.settings import get_settings
from xindai.store.db import make_engine, session_factory
from xindai.store.migrate import upgrade
from xindai.store.models_collections import CollectionCase

COLLECTION_STEPS = ("reminders", CASES_STEP, WARNING_STEP, ALLOCATE_STEP)
# the key `xindai serve` uses here too (its settings): the server decrypts what the book holds
BENCH_CIPHER = PiiCipher(get_settings().key_bytes("pii"))
M1_COLLECTORS, SENIOR_COLLECTORS, AGENCIES = 100, 60, 3


@dataclass(frozen=True, slots=True)
class CollectionsBenchResult:
    database: str
    dialect: str
    loans: int
    overdue: int
    build_seconds: float
    days: tuple[DayResult, ...]
    open_cases: tuple[int, ...]
    next_case_ms: tuple[float, ...]
    detail_ms: tuple[float, ...]
    guardrail_ms: tuple[float, ...]
    actions: int
    warning_book: WarningBook | None = None
    warnings: tuple[WarningDay, ...] = ()
    http: WorkbenchHttpResult | None = None

    def split(self, day: int) -> tuple[float, float]:
        """Seconds of the collection steps and of the others on `day`."""
        steps = self.days[day].steps
        mine = sum(s.seconds for s in steps if s.step in COLLECTION_STEPS)
        return mine, sum(s.seconds for s in steps) - mine


def _p95(values: tuple[float, ...]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


def _staff(engine: Engine) -> None:
    """Collectors and agencies as members of the default queues."""
    now = datetime(2026, 1, 1)
    with engine.begin() as connection:

        def add_staff(name: str) -> int:
            connection.execute(
                text(
                    "INSERT INTO staff_users (username, password_hash, role, active, created_at)"
                    " VALUES (:u, 'bench', 'collector', :t, :now)"
                ),
                {"u": name, "t": True, "now": now},
            )
            return int(
                connection.scalar(
                    text("SELECT id FROM staff_users WHERE username = :u"), {"u": name}
                )
            )

        queues: dict[str, int] = {
            str(c): int(i)
            for c, i in connection.execute(text("SELECT code, id FROM collection_queues")).all()
        }
        for n in range(M1_COLLECTORS):
            staff = add_staff(f"m1_{n:03d}")
            connection.execute(
                text(
                    "INSERT INTO collection_queue_members (queue_id, staff_id, weight, team)"
                    " VALUES (:q, :s, 100, 'early')"
                ),
                {"q": queues["M1"], "s": staff},
            )
        for n in range(SENIOR_COLLECTORS):
            staff = add_staff(f"senior_{n:03d}")
            connection.execute(
                text(
                    "INSERT INTO collection_queue_members (queue_id, staff_id, weight, capacity,"
                    " team) VALUES (:q, :s, 100, 1000, 'senior')"
                ),
                {"q": queues["M2M3"], "s": staff},
            )
        for n in range(AGENCIES):
            connection.execute(
                text(
                    "INSERT INTO collection_agencies (code, name, commission_rate, window_days,"
                    " active, created_at) VALUES (:c, :n, '0.15', 30, :t, :now)"
                ),
                {"c": f"agency_{n}", "n": f"委外{n}", "t": True, "now": now},
            )
            agency = connection.scalar(
                text("SELECT id FROM collection_agencies WHERE code = :c"), {"c": f"agency_{n}"}
            )
            connection.execute(
                text(
                    "INSERT INTO collection_queue_members (queue_id, agency_id, weight)"
                    " VALUES (:q, :a, :w)"
                ),
                {"q": queues["M3P"], "a": agency, "w": 100 + 50 * n},
            )


def _calls(engine: Engine, day: date) -> int:
    """A day of calls: two per open case (one unanswered, one connected), set-based."""
    with engine.begin() as connection:
        for connection_kind, party in (("no_answer", None), ("connected", "self")):
            connection.execute(
                text(
                    "INSERT INTO collection_actions (case_id, loan_id, borrower_id, at,"
                    " business_date, local_day, actor_id, actor, kind, contact_ref, phone_hash,"
                    " connection, party, result) SELECT id, loan_id, borrower_id, :at, :d, :d,"
                    " COALESCE(assignee_id, 0), 'bench', 'call', 'borrower',"
                    " 'h' || borrower_id, :c, :p, :r FROM collection_cases WHERE status = 'open'"
                ),
                {
                    "at": datetime.combine(day, datetime.min.time()) + timedelta(hours=10),
                    "d": day,
                    "c": connection_kind,
                    "p": party,
                    "r": "refused" if party else None,
                },
            )
        return int(connection.scalar(text("SELECT COUNT(*) FROM collection_actions")) or 0)


def run_collections_bench(
    database: str | None,
    *,
    loans: int,
    days: int = 2,
    samples: int = 300,
    seed: int = 20260302,
    partition_size: int = DEFAULT_PARTITION_SIZE,
    on_phase: Callable[[str], None] | None = None,
) -> CollectionsBenchResult:
    phase = on_phase or (lambda _message: None)
    with tempfile.TemporaryDirectory(prefix="xindai-bench-collections-") as scratch:
        url = database or f"sqlite:///{Path(scratch) / 'bench.db'}"
        engine = make_engine(url)
        exits = contextlib.ExitStack()
        try:
            upgrade(engine)
            phase(f"building {loans:,} loans …")
            book, build_seconds = _build(url, loans, DEFAULT_START, seed)
            phase("adding borrowers, applications, contacts, withholdings …")
            warning_book = build_warning_book(engine, DEFAULT_START, BENCH_CIPHER, seed)
            _maintain(engine, True)
            _staff(engine)
            # early warning asks the bureau simulator (a process), reminders are only queued
            bureau = exits.enter_context(bench_bureau(engine, BENCH_CIPHER))
            registry = register_collections(
                DEFAULT_REGISTRY.copy(), bureau, send_reminders=False
            )
            results: list[DayResult] = []
            open_cases: list[int] = []
            warning_days: list[WarningDay] = []
            reports = 0
            for n in range(days):
                phase(f"close of business, day {n + 1} …")
                summary = run_cob(
                    engine,
                    date=DEFAULT_START + timedelta(days=n),
                    partition_size=partition_size,
                    registry=registry,
                )
                results.extend(summary.days)
                figures, reports = warning_figures(
                    engine, DEFAULT_START + timedelta(days=n), reports
                )
                warning_days.append(figures)
                with engine.connect() as connection:
                    open_cases.append(
                        int(
                            connection.scalar(
                                select(func.count())
                                .select_from(CollectionCase)
                                .where(CollectionCase.status == "open")
                            )
                            or 0
                        )
                    )
            today = DEFAULT_START + timedelta(days=days)
            phase("a day of calls …")
            actions = _calls(engine, today)
            phase("workbench calls …")
            next_ms, detail_ms, check_ms = _time_workbench(engine, today, samples, seed)
            http = time_workbench_http(
                url, Path(scratch), samples=samples, seed=seed, on_phase=on_phase
            )
            return CollectionsBenchResult(
                database=make_url(url).render_as_string(hide_password=True),
                dialect=engine.dialect.name,
                loans=book.loans,
                overdue=book.overdue,
                build_seconds=build_seconds,
                days=tuple(results),
                open_cases=tuple(open_cases),
                next_case_ms=next_ms,
                detail_ms=detail_ms,
                guardrail_ms=check_ms,
                actions=actions,
                warning_book=warning_book,
                warnings=tuple(warning_days),
                http=http,
            )
        finally:
            exits.close()
            engine.dispose()


def _time_workbench(
    engine: Engine, today: date, samples: int, seed: int
) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    sessions = session_factory(engine)
    rng = random.Random(seed)
    now = datetime.combine(today, datetime.min.time()) + timedelta(hours=15)
    bench = Workbench(sessions, BENCH_CIPHER, lambda: now)
    with sessions() as session:
        collectors = [
            int(i)
            for i in session.scalars(
                text(
                    "SELECT DISTINCT assignee_id FROM collection_cases WHERE status = 'open'"
                    " AND assignee_id IS NOT NULL"
                )
            )
        ]
        cases = [
            int(i)
            for i in session.scalars(text("SELECT id FROM collection_cases WHERE status = 'open'"))
        ]
    next_ms: list[float] = []
    detail_ms: list[float] = []
    check_ms: list[float] = []
    guardrails = Guardrails()
    with sessions() as session:
        for _ in range(samples):
            staff = rng.choice(collectors)
            scope = CaseScope(staff, None, staff, "bench")
            started = time.perf_counter()
            bench.next_case(session, scope)
            next_ms.append((time.perf_counter() - started) * 1000)
        everything = CaseScope(None, None, 0, "bench")
        for _ in range(samples):
            case_id = rng.choice(cases)
            started = time.perf_counter()
            bench.detail(session, everything, case_id)
            detail_ms.append((time.perf_counter() - started) * 1000)
        for _ in range(samples):
            case = session.get(CollectionCase, rng.choice(cases))
            assert case is not None
            number = RankedContact(
                "borrower",
                "self",
                None,
                "本人",
                f"h{case.borrower_id}",
                "",
                "",
                100,
                "",
                0,
                0,
                None,
                False,
            )
            clock = DebtorClock(now, 8)
            started = time.perf_counter()
            with contextlib.suppress(GuardrailRefused):  # a refusal costs the same reads
                check_contact(
                    session,
                    kind="call",
                    guardrails=guardrails,
                    clock=clock,
                    borrower_id=case.borrower_id,
                    contact=number,
                    own_number=number,
                )
            check_ms.append((time.perf_counter() - started) * 1000)
    return tuple(next_ms), tuple(detail_ms), tuple(check_ms)


def render_collections_bench(result: CollectionsBenchResult) -> Group:
    table = Table(
        title=f"Close of business with collections · {result.dialect} · "
        f"{result.loans:,} loans, {result.overdue:,} overdue"
    )
    table.add_column("day")
    table.add_column("date")
    table.add_column("open cases", justify="right")
    table.add_column("collection steps s", justify="right")
    table.add_column("other steps s", justify="right")
    table.add_column("added", justify="right")
    table.add_column("reminders / cases / early warning / allocate s", justify="right")
    for n, day in enumerate(result.days):
        mine, rest = result.split(n)
        by_step = {s.step: s.seconds for s in day.steps}
        table.add_row(
            str(n + 1),
            day.business_date.isoformat(),
            f"{result.open_cases[n]:,}",
            f"{mine:.2f}",
            f"{rest:.2f}",
            f"{100 * mine / rest:.1f} %" if rest else "—",
            " / ".join(f"{by_step.get(s, 0):.2f}" for s in COLLECTION_STEPS),
        )
    opened = result.open_cases[-1]
    calls = Table(title=f"In process, no HTTP: {opened:,} open cases and {result.actions:,} calls")
    calls.add_column("call")
    calls.add_column("samples", justify="right")
    calls.add_column("median ms", justify="right")
    calls.add_column("p95 ms", justify="right")
    for name, values in (
        ("next case, in process", result.next_case_ms),
        ("case detail, in process", result.detail_ms),
        ("guardrail check", result.guardrail_ms),
    ):
        calls.add_row(
            name, str(len(values)), f"{statistics.median(values):.2f}", f"{_p95(values):.2f}"
        )
    over_http = [] if result.http is None else [render_workbench_http(result.http, opened)]
    return Group(
        table,
        *render_warnings(result.warnings, result.days, result.warning_book),
        *over_http,
        calls,
        Text(f"book built in {result.build_seconds:.1f} s · {result.database}"),
    )


__all__ = ["CollectionsBenchResult", "render_collections_bench", "run_collections_bench"]
