"""The console's list benchmark (`xindai bench console`): a lender of N loans
(`bench.console_book`, bulk inserts, not timed; or a database built by an earlier run), the
real app served by uvicorn on loopback, and for every list endpoint the latency of its
first page, a filtered page and a sorted deep page, as staff members call them over HTTP:
p50, p95 and the slowest of `samples` calls each. The target (UI.md) is p95 ≤ 200 ms with a
million loans.

Also timed once: the first overview and trial balance after a close of business (they fold
the closed days into their daily tables), an export of a filtered list, and two details.

With `under_load`, the calls are timed while two other processes write to the same
database: one closes business days one after another (close of business with all its steps,
from the current business date on), the other posts a stream of repayments on open loans
through the servicing service. What they wrote while the calls ran is reported with the
figures (`WriteLoad`).
"""

from __future__ import annotations

import multiprocessing
import random
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.table import Table
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from xindai.store.db import make_engine, session_factory
from xindai.store.migrate import upgrade
from xindai.store.models import Loan

START = date(2026, 3, 2)
PASSWORD = "bench-console-password-9"
STAFF = {"bench_risk": "risk", "bench_finance": "finance", "bench_admin": "admin"}
AGENT = ("bench_agent", "agent_a")
TARGET_MS = 200.0


@dataclass(frozen=True, slots=True)
class Probe:
    """One call the benchmark times: who, which endpoint, which query."""

    name: str
    user: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Timing:
    probe: Probe
    millis: list[float]
    status: int
    total: int | None

    def percentile(self, share: float) -> float:
        ordered = sorted(self.millis)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]

    @property
    def p95(self) -> float:
        return self.percentile(0.95)


@dataclass(frozen=True, slots=True)
class WriteLoad:
    """What the writers did while the calls were timed."""

    cob_days_closed: int  # days whose close of business finished in the window
    cob_seconds: tuple[float, ...]  # of those days
    cob_busy_share: float  # share of the window in which a close of business ran
    repayments: int  # posted in the window
    repayments_refused: int  # e.g. a loan that had just closed; a domain answer, not a crash
    seconds: float  # the window

    @property
    def repayments_per_second(self) -> float:
        return self.repayments / self.seconds if self.seconds else 0.0


@dataclass
class ConsoleBenchResult:
    database: str
    dialect: str
    loans: int
    build_seconds: float | None
    samples: int
    timings: list[Timing]
    once: dict[str, float]
    load: WriteLoad | None = None

    @property
    def worst_p95(self) -> float:
        return max(t.p95 for t in self.timings)


def probes(deep_page: int, loans: int) -> list[Probe]:
    """First page, a filtered page and a sorted deep page of every list; the agent's loans."""
    deep = {"page": deep_page, "page_size": 20}
    day = (START.replace(day=1)).isoformat()
    lists: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
        ("borrowers", "bench_risk", {"channel": "douyin"}, {"sort": "registered_on"}),
        ("applications", "bench_risk", {"status": "rejected"}, {"sort": "-created_at"}),
        ("payouts", "bench_finance", {"status": "failed"}, {"sort": "created_at"}),
        ("loans", "bench_risk", {"status": "overdue", "bucket": "M1"}, {"sort": "-principal"}),
        ("loans?overdue", "bench_risk", {"dpd_min": 31, "dpd_max": 90}, {"sort": "-dpd"}),
        ("withholdings", "bench_finance", {"status": "failed"}, {"sort": "business_date"}),
        ("repayments", "bench_finance", {"date_from": day}, {"sort": "posted_on"}),
        ("audit", "bench_admin", {"action": "export"}, {"sort": "at"}),
        ("ledger/journal", "bench_finance", {"account": "1001"}, {"sort": "business_date"}),
    ]
    found = []
    for resource, user, filters, sort in lists:
        path = "/api/v1/admin/" + resource.split("?")[0]
        found.append(Probe(f"{resource} first page", user, path))
        found.append(Probe(f"{resource} filtered", user, path, filters))
        found.append(Probe(f"{resource} sorted, page {deep_page}", user, path, {**sort, **deep}))
    for resource in ("loans", "borrowers", "applications", "repayments"):
        found.append(Probe(f"{resource} (agent) first page", AGENT[0], f"/api/v1/admin/{resource}"))
    found.append(
        Probe("loans (agent) filtered", AGENT[0], "/api/v1/admin/loans", {"status": "overdue"})
    )
    found.append(Probe("overview", "bench_risk", "/api/v1/admin/overview"))
    found.append(Probe("trial balance", "bench_finance", "/api/v1/admin/ledger/trial-balance"))
    middle = max(1, loans // 2)
    found.append(Probe("borrower detail", "bench_risk", f"/api/v1/admin/borrowers/{middle}"))
    found.append(Probe("loan detail", "bench_risk", f"/api/v1/admin/loans/{middle}"))
    return found


def build(url: str, loans: int, *, snapshot_days: int = 2) -> float:
    """The lender of `loans` loans in the empty database at `url`, statistics gathered as
    an operator does after a bulk load, and the benchmark's staff; seconds taken."""
    from xindai.bench.console_book import build_console_book
    from xindai.bootstrap import bootstrap
    from xindai.security.staff import StaffService

    started = time.perf_counter()
    engine = make_engine(url)
    try:
        upgrade(engine)
        platform = _platform(url, engine)
        with engine.begin() as connection:
            build_console_book(
                connection, platform.cipher, loans=loans, start=START, snapshot_days=snapshot_days
            )
        _analyze(engine)
        bootstrap(
            platform.sessions,
            cipher=platform.cipher,
            today=START,
            admin_password=PASSWORD,
            staff={u: r for u, r in STAFF.items() if r != "admin"},
        )
        with platform.sessions.begin() as session:
            service = StaffService(platform.sessions, platform.cipher)
            service.create(
                session,
                username=AGENT[0],
                password=PASSWORD,
                role="agent",
                channel=AGENT[1],
                now=platform.clock(),
            )
            service.create(
                session,
                username="bench_admin",
                password=PASSWORD,
                role="admin",
                now=platform.clock(),
            )
    finally:
        engine.dispose()
    return time.perf_counter() - started


def _analyze(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE)"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def _platform(url: str, engine: Engine) -> Any:
    from xindai.platform import Platform
    from xindai.settings import get_settings

    settings = get_settings().model_copy(update={"database_url": url})
    return Platform.from_settings(
        settings,
        sessions=session_factory(engine),
        clock=lambda: datetime.combine(START, datetime.min.time()).replace(hour=12),
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(url: str) -> Iterator[str]:
    """The app on `url`'s database, served by uvicorn on a loopback port in this process."""
    import uvicorn

    from xindai.api.app import create_app

    engine = make_engine(url)
    app = create_app(_platform(url, engine))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, name="bench-console-server", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the benchmark's server did not start")
        time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(30)
        engine.dispose()


REPAYMENT_FEN = 5_000  # ¥50, less than any open loan of the book owes


def _close_days(url: str, ready: Any, stop: Any, report: Any) -> None:
    """Close business days one after another until `stop` (a day started is finished: the
    database is left between days); report each day's (start, end) wall-clock times."""
    from xindai.cob.runner import run_cob

    engine = make_engine(url)
    days: list[tuple[float, float]] = []
    try:
        ready.set()
        while not stop.is_set():
            started = time.time()
            run_cob(engine)
            days.append((started, time.time()))
        report.put(("cob", days))
    except BaseException as exc:  # the parent raises it
        report.put(("cob", exc))
        raise
    finally:
        engine.dispose()


def _post_repayments(url: str, ready: Any, stop: Any, report: Any) -> None:
    """Post ¥50 repayments on random open loans through the servicing service until `stop`;
    report the (wall-clock time) of each one posted and how many were refused."""
    from xindai.errors import XindaiError
    from xindai.servicing.service import LoanService
    from xindai.servicing.state import LoanStatus

    engine = make_engine(url)
    posted: list[float] = []
    refused = 0
    try:
        with engine.connect() as connection:
            open_ids = list(
                connection.scalars(
                    select(Loan.id).where(Loan.status.in_((LoanStatus.ACTIVE, LoanStatus.OVERDUE)))
                )
            )
        pick = random.Random(20260302)
        service = LoanService(session_factory(engine))
        ready.set()
        while not stop.is_set() and open_ids:
            try:
                service.repay(pick.choice(open_ids), REPAYMENT_FEN, channel="bench")
                posted.append(time.time())
            except XindaiError:
                refused += 1
        report.put(("repayments", (posted, refused)))
    except BaseException as exc:
        report.put(("repayments", exc))
        raise
    finally:
        engine.dispose()


@contextmanager
def writing(url: str) -> Iterator[Callable[[], WriteLoad]]:
    """The two writer processes on `url`'s database, started and ready; yields a function
    that marks the end of the timed window and returns what they wrote in it."""
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    report = context.Queue()
    readies = [context.Event(), context.Event()]
    children = [
        context.Process(target=target, args=(url, ready, stop, report), daemon=True)
        for target, ready in zip((_close_days, _post_repayments), readies, strict=True)
    ]
    for child in children:
        child.start()
    for child, ready in zip(children, readies, strict=True):
        while not ready.wait(0.5):
            if not child.is_alive():
                raise RuntimeError(f"a writer of the benchmark stopped: exit {child.exitcode}")
    begun = time.time()
    window: list[float] = []

    def finish() -> WriteLoad:
        window.append(time.time())
        stop.set()
        outcome = dict(report.get() for _ in children)
        for value in outcome.values():
            if isinstance(value, BaseException):
                raise value
        end = window[0]
        days = [(a, b) for a, b in outcome["cob"] if a < end]
        busy = sum(max(0.0, min(b, end) - max(a, begun)) for a, b in days)
        posted, refused = outcome["repayments"]
        return WriteLoad(
            cob_days_closed=sum(1 for _, b in days if b <= end),
            cob_seconds=tuple(b - a for a, b in days if b <= end),
            cob_busy_share=busy / (end - begun) if end > begun else 0.0,
            repayments=sum(1 for at in posted if begun <= at <= end),
            repayments_refused=refused,
            seconds=end - begun,
        )

    try:
        yield finish
    finally:
        stop.set()
        for child in children:
            child.join(600)
            if child.is_alive():
                child.terminate()


def run_console_bench(
    database: str | None,
    *,
    loans: int = 1_000_000,
    samples: int = 30,
    reuse: bool = False,
    deep_page: int = 500,
    under_load: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ConsoleBenchResult:
    """Build the lender in `database` (default a temporary SQLite file; with `reuse`, use
    the one an earlier run built there), serve the app and time every probe `samples` times
    (after one warm-up call each); with `under_load`, while close of business and a stream
    of repayments write (`writing`)."""
    say = progress or (lambda _message: None)
    with tempfile.TemporaryDirectory(prefix="xindai-bench-console-") as scratch:
        url = database or f"sqlite:///{Path(scratch) / 'console.db'}"
        build_seconds: float | None = None
        if not reuse:
            say(f"building {loans:,} loans …")
            build_seconds = build(url, loans)
        engine = make_engine(url)
        if reuse:  # a database an earlier version built: its indexes and their statistics
            from xindai.store.migrate import current

            before = current(engine)
            if upgrade(engine) != before:
                say("new indexes: statistics …")
                _analyze(engine)
        with engine.connect() as connection:
            built = int(connection.scalar(select(func.count()).select_from(Loan)) or 0)
            dialect = engine.dialect.name
        engine.dispose()
        timings: list[Timing] = []
        once: dict[str, float] = {}
        with serving(url) as base, httpx.Client(base_url=base, timeout=600) as client:
            tokens = {user: _login(client, user) for user in (*STAFF, AGENT[0])}
            for probe in probes(deep_page, built)[-4:-2]:  # the folds after a close of business
                started = time.perf_counter()
                answer = client.get(probe.path, headers=tokens[probe.user])
                answer.raise_for_status()
                once[f"first {probe.name} (folds the closed days)"] = _ms(started)
            started = time.perf_counter()
            export = client.get(
                "/api/v1/admin/loans/export",
                headers=tokens["bench_risk"],
                params={"status": "overdue", "bucket": "M2"},
            )
            export.raise_for_status()
            once[f"export of M2 loans ({len(export.content):,} bytes)"] = _ms(started)
            load: WriteLoad | None = None
            with ExitStack() as writers:
                if under_load:
                    say("starting the writers: close of business, repayments …")
                    finish = writers.enter_context(writing(url))
                for probe in probes(deep_page, built):
                    say(probe.name)
                    headers = tokens[probe.user]
                    answer = client.get(probe.path, headers=headers, params=probe.params)
                    millis = []
                    for _ in range(samples):
                        started = time.perf_counter()
                        answer = client.get(probe.path, headers=headers, params=probe.params)
                        millis.append(_ms(started))
                    body = answer.json() if answer.status_code == 200 else {}
                    timings.append(Timing(probe, millis, answer.status_code, body.get("total")))
                if under_load:
                    say("waiting for the writers to finish their day …")
                    load = finish()
        return ConsoleBenchResult(
            database=make_url(url).render_as_string(hide_password=True),
            dialect=dialect,
            loans=built,
            build_seconds=build_seconds,
            samples=samples,
            timings=timings,
            once=once,
            load=load,
        )


def _login(client: httpx.Client, user: str) -> dict[str, str]:
    answer = client.post("/api/v1/admin/auth/login", json={"username": user, "password": PASSWORD})
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def render_console_bench(result: ConsoleBenchResult) -> Table:
    table = Table(
        title=f"控制台列表基准 Console lists: {result.loans:,} loans, {result.dialect}, "
        f"{result.samples} calls each (target p95 ≤ {TARGET_MS:.0f} ms)"
        + (", while close of business and repayments write" if result.load else "")
    )
    table.add_column("接口 Endpoint")
    table.add_column("total", justify="right")
    table.add_column("p50 ms", justify="right")
    table.add_column("p95 ms", justify="right")
    table.add_column("max ms", justify="right")
    for t in result.timings:
        p95 = f"{t.p95:.1f}" if t.p95 <= TARGET_MS else f"[red]{t.p95:.1f}[/red]"
        table.add_row(
            t.probe.name if t.status == 200 else f"{t.probe.name} [red]HTTP {t.status}[/red]",
            "" if t.total is None else f"{t.total:,}",
            f"{statistics.median(t.millis):.1f}",
            p95,
            f"{max(t.millis):.1f}",
        )
    for name, millis in result.once.items():
        table.add_row(f"once: {name}", "", "", "", f"{millis:.0f}")
    if result.load is not None:
        load = result.load
        days = ", ".join(f"{s:.0f} s" for s in load.cob_seconds) or "none finished"
        table.add_row(
            f"while writing: close of business ran {load.cob_busy_share:.0%} of the "
            f"{load.seconds:.0f} s (days closed: {days}); {load.repayments:,} repayments "
            f"posted ({load.repayments_per_second:.0f}/s, {load.repayments_refused} refused)",
            "",
            "",
            "",
            "",
        )
    if result.build_seconds is not None:
        table.add_row("build (not timed above)", "", "", "", f"{result.build_seconds:.0f} s")
    return table
