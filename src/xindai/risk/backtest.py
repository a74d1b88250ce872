"""Back-testing a strategy version on stored applications (回溯测试): every stored engine
decision in a date range is decided again — from the inputs as they were at decision time —
under the candidate version and under the live version, and the two are compared: approval
rate, grade mix, expected loss, the applications that swap outcome, and, where the loans'
outcomes are known, the realised bad rate of what each would approve.

The period's decisions are split into id ranges of `CHUNK` (zen-engine's batch call decides
a chunk, without traces). `workers` counts the processes deciding, the caller included: with
`workers` > 1 the caller first starts `workers - 1` worker processes, then plans the period
(one scan: the ranges and the products), and the chunks are *shared*: each process claims
the next chunk from a shared counter, reads that chunk's rows itself and decides it. Nothing
waits for a worker to start (about 0.7 s: imports, the scorecard model, compiling the
versions, a database engine): the caller decides chunks from the first moment, merging what
the workers have sent between its own chunks, and a worker joins in when it is ready, so it
only ever adds throughput. A worker ready after the last claim finds nothing to do; when every
part is merged the workers are stopped. A period of fewer than `IN_PROCESS_BELOW` decisions is
over before a worker could help: its workers are stopped as soon as it is planned.

Workers send back only each chunk's small `Part` (two `SideStats` and the swaps), and any
error, which the caller raises as `BacktestWorkerError`; a worker that dies without a word is
noticed too. They are spawned, never forked (forking a process that has used zen-engine
deadlocks), without re-running the caller's main script (see `_main_module_hidden`).

Measured on two cores (20,000 decisions, a stricter candidate): about 8,400 applications/s
in one process, about 11,000/s with the default `workers=2` (the caller and one worker; two
workers on two cores compete and do worse); at 80,000, 8,500/s and 13,400/s.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import queue
import sys
import time
import traceback
import types
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from xindai.errors import XindaiError
from xindai.risk.decision import (
    APPROVE,
    REJECT,
    REVIEW,
    Decision,
    Scorer,
    decide_many,
    request_from_inputs,
)
from xindai.risk.engine.zen import StrategyEngine
from xindai.servicing.state import LoanStatus
from xindai.store.models import Loan
from xindai.store.models_origination import Application, DecisionRecord

if TYPE_CHECKING:
    from multiprocessing.context import SpawnProcess
    from multiprocessing.queues import Queue
    from multiprocessing.sharedctypes import Synchronized

    from xindai.products.model import Product
    from xindai.risk.engine.strategy import StrategyVersion

CHUNK = 500  # rows per claim: the processes finish close together (250–1,000 measure alike)
BAD_DPD = 30  # a loan more than 30 days overdue (M2+) or written off is bad
IN_PROCESS_BELOW = 8_000  # fewer decisions take under a second: done before a worker is up
WORKER_POLL_SECONDS = 0.5  # how often a caller waiting for results checks its workers live


@dataclass
class SideStats:
    """One version's results over the back-test population."""

    label: str
    applications: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    grades: Counter[str] = field(default_factory=Counter)
    approved_fen: int = 0
    expected_loss_fen: int = 0
    outcome_known: int = 0
    bad: int = 0

    def add(self, decision: Decision, known: bool, bad: bool) -> None:
        self.count(
            decision.outcome,
            decision.grade,
            decision.approved_amount_fen,
            decision.expected_loss_fen,
            known,
            bad,
        )

    def count(
        self, outcome: str, grade: str, approved_fen: int, loss_fen: int, known: bool, bad: bool
    ) -> None:
        self.applications += 1
        self.outcomes[outcome] += 1
        self.grades[grade] += 1
        if outcome == APPROVE:
            self.approved_fen += approved_fen
            self.expected_loss_fen += loss_fen
            if known:
                self.outcome_known += 1
                self.bad += bad

    def merge(self, other: SideStats) -> None:
        self.applications += other.applications
        self.outcomes.update(other.outcomes)
        self.grades.update(other.grades)
        self.approved_fen += other.approved_fen
        self.expected_loss_fen += other.expected_loss_fen
        self.outcome_known += other.outcome_known
        self.bad += other.bad

    def rate(self, outcome: str) -> float:
        return self.outcomes[outcome] / self.applications if self.applications else 0.0

    @property
    def expected_loss_rate(self) -> float:
        """Expected loss as a share of the amount approved (PD × LGD, amount-weighted)."""
        return self.expected_loss_fen / self.approved_fen if self.approved_fen else 0.0

    @property
    def bad_rate(self) -> float | None:
        """Realised bad rate of approved loans whose outcome is known (None if none is)."""
        return self.bad / self.outcome_known if self.outcome_known else None

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "applications": self.applications,
            "approve_rate": round(self.rate(APPROVE), 6),
            "review_rate": round(self.rate(REVIEW), 6),
            "reject_rate": round(self.rate(REJECT), 6),
            "grades": dict(sorted(self.grades.items())),
            "approved_fen": self.approved_fen,
            "expected_loss_fen": self.expected_loss_fen,
            "expected_loss_rate": round(self.expected_loss_rate, 6),
            "outcome_known": self.outcome_known,
            "bad": self.bad,
            "bad_rate": None if self.bad_rate is None else round(self.bad_rate, 6),
        }


@dataclass
class BacktestReport:
    """The comparison, and how fast it ran.

    `workers` counts the processes that were deciding, the caller included (1: in-process).
    The *steady* figures start when the first worker result came back, so that they show the
    throughput with every process working (the workers' start-up excluded); without a
    worker result they are zero and `steady_per_second` is the overall rate."""

    candidate: SideStats
    live: SideStats
    swaps: Counter[tuple[str, str]] = field(default_factory=Counter)  # (live, candidate)
    seconds: float = 0.0
    workers: int = 1
    worker_applications: int = 0  # decided by the worker processes (the rest: the caller)
    steady_applications: int = 0  # merged after the first worker result came back
    steady_seconds: float = 0.0  # … and how long they took

    @property
    def applications(self) -> int:
        return self.candidate.applications

    @property
    def per_second(self) -> float:
        return self.applications / self.seconds if self.seconds else 0.0

    @property
    def steady_per_second(self) -> float:
        """Throughput with every process working; equals `per_second` in-process."""
        if not self.steady_seconds:
            return self.per_second
        return self.steady_applications / self.steady_seconds

    def to_json(self) -> dict[str, Any]:
        return {
            "applications": self.applications,
            "candidate": self.candidate.to_json(),
            "live": self.live.to_json(),
            "swaps": [
                {"live": live, "candidate": cand, "count": n}
                for (live, cand), n in sorted(self.swaps.items())
                if live != cand
            ],
            "seconds": round(self.seconds, 3),
            "applications_per_second": round(self.per_second),
            "steady_applications_per_second": round(self.steady_per_second),
            "workers": self.workers,
            "worker_applications": self.worker_applications,
        }


class BacktestWorkerError(XindaiError):
    """A worker process failed (its traceback is the `__cause__`) or died without a word."""

    code = "BACKTEST_WORKER_FAILED"


class _RemoteTraceback(Exception):
    """A worker's traceback, shown as the cause of the caller's error (as
    `concurrent.futures` does), so that the real failure is not lost across the pipe."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f'\n"""\n{self.text}"""'


Stored = tuple[str | None, str | None, str, str | None, int | None, int | None]
"""A stored decision's strategy hash, model version, outcome, grade, amount and loss."""
Row = tuple[int, str, tuple[str, int], bool, bool, Stored]
"""Application id, inputs (JSON), product, outcome known, bad, the stored decision."""
Part = tuple[SideStats, SideStats, Counter[tuple[str, str]]]
"""One chunk's result: the candidate's and the live version's stats, and the swaps."""


def _period(start: date, end: date) -> Any:
    return and_(
        DecisionRecord.path == "engine",
        DecisionRecord.inputs.is_not(None),
        DecisionRecord.created_at >= datetime.combine(start, datetime.min.time()),
        DecisionRecord.created_at < datetime.combine(end + timedelta(days=1), datetime.min.time()),
    )


def id_ranges(
    session: Session, start: date, end: date, size: int | None = None
) -> tuple[list[tuple[int, int]], int]:
    """The stored decisions of the period as (first id, last id) ranges of `size` (default
    `CHUNK`) each, and how many there are."""
    ranges, count, _ = _plan(session, start, end, size or CHUNK)
    return ranges, count


def _plan(
    session: Session, start: date, end: date, size: int
) -> tuple[list[tuple[int, int]], int, set[tuple[str, int]]]:
    """`id_ranges`, and the (code, version) of every product the period's applications were
    made for: one scan of the period (the decisions' rows are large, a scan is the cost)."""
    query = (
        select(DecisionRecord.id, Application.product_code, Application.product_version)
        .join(Application, Application.id == DecisionRecord.application_id)
        .where(_period(start, end))
        .order_by(DecisionRecord.id)
        .execution_options(yield_per=10 * size)
    )
    ids: list[int] = []
    products: set[tuple[str, int]] = set()
    for decision_id, code, version in session.connection().execute(query):
        ids.append(decision_id)
        products.add((code, version))
    ranges = [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]
    return ranges, len(ids), products


def load_rows(
    session: Session, start: date, end: date, ids: tuple[int, int] | None = None
) -> Iterator[Row]:
    """Stored engine decisions made on `start` … `end` (inclusive), optionally only those
    with ids in the inclusive range `ids`, with the loan outcome."""
    query = (
        select(
            DecisionRecord.application_id,
            DecisionRecord.inputs,
            Application.product_code,
            Application.product_version,
            Loan.status,
            Loan.max_dpd,
            DecisionRecord.strategy_hash,
            DecisionRecord.model_version,
            DecisionRecord.outcome,
            DecisionRecord.grade,
            DecisionRecord.approved_amount_fen,
            DecisionRecord.expected_loss_fen,
        )
        .join(Application, Application.id == DecisionRecord.application_id)
        .outerjoin(Loan, Loan.id == Application.loan_id)
        .where(_period(start, end))
        .order_by(DecisionRecord.id)
    )
    if ids is not None:
        query = query.where(DecisionRecord.id.between(*ids))
    # Core execution: plain rows, without the ORM's per-row loading (about 2 µs a row)
    rows = session.connection().execute(query.execution_options(yield_per=CHUNK))
    for app_id, inputs, code, version, status, max_dpd, *stored in rows:
        bad = status == LoanStatus.WRITTEN_OFF.value or (max_dpd or 0) > BAD_DPD
        known = bad or status == LoanStatus.SETTLED.value
        yield app_id, inputs or "{}", (code, version), known, bad, tuple(stored)


def load_products(
    session: Session, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], Product]:
    """The product versions `keys`, loaded once by the caller and handed to the workers:
    a worker then never reads the product tables (nor imports the repository)."""
    from xindai.store import repository as repo

    return {(code, version): repo.load_product(session, code, version) for code, version in keys}


# ---------------------------------------------------------------- deciding a chunk


@dataclass
class _Decider:
    """What deciding chunks needs, built once per process: the two versions, an engine that
    has compiled them, the scorer, and the products (known once the period is planned)."""

    candidate: StrategyVersion
    live: StrategyVersion
    engine: StrategyEngine
    scorer: Scorer
    products: dict[tuple[str, int], Product] = field(default_factory=dict)

    @classmethod
    def build(cls, candidate: StrategyVersion, live: StrategyVersion) -> _Decider:
        from xindai.risk.scorecard.default_model import load_default_model

        engine = StrategyEngine()
        engine.compiled(candidate)
        engine.compiled(live)
        return cls(candidate, live, engine, load_default_model())

    def decide(self, rows: Sequence[Row]) -> Part:
        """Both sides of a chunk. The live side reuses a stored decision made by the live
        version and the loaded model (a replay gives the same result) and decides the rest
        again."""
        products, engine, scorer = self.products, self.engine, self.scorer
        loads = json.loads
        requests = [
            request_from_inputs(str(row[0]), loads(row[1]), products[row[2]]) for row in rows
        ]
        candidates = decide_many(requests, version=self.candidate, engine=engine, scorer=scorer)
        if self.candidate.content_hash == self.live.content_hash:
            return _tally(rows, candidates, [None] * len(rows))
        reusable = (self.live.content_hash, scorer.version)  # once per chunk, not per row
        reuse = [row[5][:2] == reusable for row in rows]
        redone = iter(
            decide_many(
                [r for r, again in zip(requests, reuse, strict=True) if not again],
                version=self.live,
                engine=engine,
                scorer=scorer,
            )
        )
        return _tally(rows, candidates, [None if again else next(redone) for again in reuse])


def _tally(
    rows: Sequence[Row], candidates: Sequence[Decision], lives: Sequence[Decision | None]
) -> Part:
    """A chunk's stats: `lives[i]` is the live version's new decision, or None where the
    stored one stands (or the candidate is the live version: then `candidates[i]` is it)."""
    candidate, live = SideStats("candidate"), SideStats("live")
    swaps: Counter[tuple[str, str]] = Counter()
    for row, cand, now in zip(rows, candidates, lives, strict=True):
        known, bad = row[3], row[4]
        candidate.add(cand, known, bad)
        if now is None:
            _, _, outcome, grade, amount, loss = row[5]
            live.count(outcome, grade or "", amount or 0, loss or 0, known, bad)
            live_outcome = outcome
        else:
            live.add(now, known, bad)
            live_outcome = now.outcome
        swaps[(live_outcome, cand.outcome)] += 1
    return candidate, live, swaps


def _claim(claims: Synchronized[int], total: int) -> int | None:
    """The index of the next unclaimed chunk (claimed now), or None when all are taken."""
    with claims.get_lock():
        index = claims.value
        if index >= total:
            return None
        claims.value = index + 1
    return index


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """Everything alive now is left out of the cyclic garbage collector's full passes while
    the block runs (`gc.freeze`). Deciding a chunk allocates many containers that outlive
    the young generations, so full collections come every few chunks, and each walked the
    whole heap of a loaded process — about 0.1 s, a fifth of the back-test's time in all.
    The back-test makes almost no cyclic garbage (ten objects over 20,000 applications).
    A heap frozen already (a benchmark freezes its own) is left as it is."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# ---------------------------------------------------------------- the workers' side


@dataclass(frozen=True)
class _Job:
    """What a worker is started with: enough to get ready while the caller plans."""

    candidate: StrategyVersion
    live: StrategyVersion
    database: str  # the URL, password included: a worker opens its own connection
    start: date
    end: date


@dataclass(frozen=True)
class _Plan:
    """What a worker is sent once the caller has planned the period: the chunks' id ranges
    and the products (small; the rows a worker reads itself)."""

    ranges: list[tuple[int, int]]
    products: dict[tuple[str, int], Product]


def _work(
    number: int,
    job: _Job,
    plans: Queue[_Plan],
    claims: Synchronized[int],
    results: Queue[Any],
) -> None:
    """A worker process: get ready (imports, model, compiled versions, a database engine),
    take the plan, then claim and decide chunks until none is left; every part, then "done"
    (or the error) goes back on `results`. Claiming only when ready means a slow start never
    holds a chunk back, and a worker ready after the last claim just says "done". A worker
    whose caller has gone away (killed) stops too."""
    try:
        from xindai.store.db import make_engine, session_factory, transaction

        decider = _Decider.build(job.candidate, job.live)
        sessions = session_factory(make_engine(job.database))
        gc.freeze()  # see `_frozen_heap`: the imports are the bulk of a worker's heap
        caller = multiprocessing.parent_process()
        plan = _take(plans, caller)
        decider.products.update(plan.products)
        while (index := _claim(claims, len(plan.ranges))) is not None:
            with transaction(sessions, read_only=True) as session:
                rows = list(load_rows(session, job.start, job.end, plan.ranges[index]))
            results.put(("part", number, decider.decide(rows)))
            if caller is not None and not caller.is_alive():
                return
        results.put(("done", number, None))
    except BaseException as exc:  # anything, even an interrupt, is reported: the caller waits
        summary = f"{type(exc).__name__}: {str(exc).strip().partition(chr(10))[0]}"
        results.put(("error", number, (summary, traceback.format_exc())))


def _take(plans: Queue[_Plan], caller: Any) -> _Plan:
    """The plan, as soon as the caller sends it (usually long before a worker is ready);
    raises if the caller is gone, rather than waiting for ever."""
    while True:
        try:
            return plans.get(timeout=WORKER_POLL_SECONDS)
        except queue.Empty:
            if caller is not None and not caller.is_alive():
                raise RuntimeError("the back-test's calling process has gone") from None


# ---------------------------------------------------------------- the caller's side


class _Merger:
    """Adds parts to the report as they arrive, and keeps the throughput figures."""

    def __init__(self, report: BacktestReport, progress: Callable[[int], None] | None):
        self.report = report
        self.progress = progress
        self.parts = 0
        self.steady_from: float | None = None  # when the first worker part was merged

    def __call__(self, part: Part, *, from_worker: bool = False) -> None:
        report = self.report
        report.candidate.merge(part[0])
        report.live.merge(part[1])
        report.swaps.update(part[2])
        self.parts += 1
        applications = part[0].applications
        if self.steady_from is not None:
            report.steady_applications += applications
        if from_worker:
            report.worker_applications += applications
            if self.steady_from is None:
                self.steady_from = time.perf_counter()
        if self.progress is not None:
            self.progress(applications)

    def finish(self) -> None:
        if self.steady_from is not None:
            self.report.steady_seconds = time.perf_counter() - self.steady_from


class _Workers:
    """The caller's side of its worker processes: starting them, sending the plan, their
    results, their health, their end."""

    def __init__(self, count: int, job: _Job) -> None:
        context = multiprocessing.get_context("spawn")  # zen's runtime must not be forked
        self.claims: Synchronized[int] = context.Value("i", 0)
        self.plans: Queue[_Plan] = context.Queue()
        self.results: Queue[Any] = context.Queue()
        self.processes: list[SpawnProcess] = [
            context.Process(
                target=_work,
                args=(number, job, self.plans, self.claims, self.results),
                name=f"xindai-backtest-{number}",
                daemon=True,  # never outlive the caller
            )
            for number in range(1, count + 1)
        ]
        self.finished: set[int] = set()  # workers that said "done"

    def start(self) -> None:
        with _main_module_hidden():
            for process in self.processes:
                process.start()

    def send(self, plan: _Plan) -> None:
        """The plan, once for each worker."""
        for _ in self.processes:
            self.plans.put(plan)

    def drain(self, merge: _Merger, *, wait: float = 0.0) -> None:
        """Merge every result already sent (waiting up to `wait` seconds for the first);
        raises `BacktestWorkerError` on a worker's error."""
        while True:
            try:
                if wait:
                    message = self.results.get(timeout=wait)
                    wait = 0.0
                else:
                    message = self.results.get_nowait()
            except queue.Empty:
                return
            kind, number, payload = message
            if kind == "part":
                merge(payload, from_worker=True)
            elif kind == "done":
                self.finished.add(number)
            else:
                summary, text = payload
                raise BacktestWorkerError(
                    f"back-test worker {number} failed: {summary}",
                    f"回溯测试工作进程 {number} 失败：{summary}",
                ) from _RemoteTraceback(text)

    def check_alive(self, merge: _Merger) -> None:
        """Raise if a worker ended without saying "done" (killed, out of memory): a chunk
        it had claimed would otherwise be waited for forever."""
        for number, process in enumerate(self.processes, start=1):
            if number in self.finished or process.exitcode is None:
                continue
            self.drain(merge)  # its last words may still be in the pipe
            if number not in self.finished:
                raise BacktestWorkerError(
                    f"back-test worker {number} exited (code {process.exitcode}) "
                    "without finishing its work",
                    f"回溯测试工作进程 {number} 意外退出（退出码 {process.exitcode}）",
                )

    def wait(self, merge: _Merger, total: int) -> None:
        """Merge results until all `total` parts are in."""
        while merge.parts < total:
            self.drain(merge, wait=WORKER_POLL_SECONDS)
            self.check_alive(merge)

    def stop(self) -> None:
        """End every worker now. Each part is merged (or the back-test failed, or needs no
        worker), so none has anything left to do: one that said "done" is only shutting its
        interpreter down, any other would find no chunk. None holds a lock that matters or
        writes anything, so it is terminated rather than waited for."""
        for process in self.processes:
            if process.pid is None:
                continue  # never started
            if process.exitcode is None:
                process.terminate()
            process.join()
        self.plans.cancel_join_thread()  # a plan no worker took is dropped, not waited on
        self.plans.close()
        self.results.close()


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """While workers are started, `__main__` is a blank module. A spawned child otherwise
    runs the parent's main script again (as `__mp_main__`) before anything else: for the
    `xindai` console script that is importing the whole CLI, about half a second per worker,
    and a script without a `__main__` guard would even start a back-test of its own. The
    workers need nothing from `__main__`: what they run and receive lives in `xindai`."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _database_url(session: Session) -> str:
    """The URL a worker connects with: the caller's database, password included."""
    return session.get_bind().engine.url.render_as_string(hide_password=False)


def _decide_here(
    session: Session, decider: _Decider, start: date, end: date, ids: tuple[int, int]
) -> Part:
    """A chunk decided by the calling process, read with its own session."""
    return decider.decide(list(load_rows(session, start, end, ids)))


def backtest(
    session: Session,
    *,
    candidate: StrategyVersion,
    live: StrategyVersion,
    start: date,
    end: date,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> BacktestReport:
    """Run `candidate` and `live` over the stored applications decided in [start, end].

    `workers` counts the processes deciding, this one included: 1 decides everything here;
    n starts n - 1 worker processes, first of all, that share the chunks with this one
    (unless the period has fewer than `IN_PROCESS_BELOW` decisions, or a single chunk: then
    they are stopped unused). `progress` is called with the number of applications of every
    part merged."""
    started = time.perf_counter()
    report = BacktestReport(SideStats(candidate.label), SideStats(live.label))
    merge = _Merger(report, progress)
    helpers: _Workers | None = None
    with _frozen_heap():
        if workers > 1:  # first of all: a worker takes about a second to be ready
            job = _Job(candidate, live, _database_url(session), start, end)
            helpers = _Workers(workers - 1, job)
            helpers.start()
        try:
            ranges, total, product_keys = _plan(session, start, end, CHUNK)
            decider = _Decider.build(candidate, live)
            decider.products.update(load_products(session, product_keys))
            if helpers is not None and (total < IN_PROCESS_BELOW or len(ranges) < 2):
                helpers.stop()
                helpers = None
            report.workers = 1 if helpers is None else workers
            if helpers is None:
                for ids in ranges:
                    merge(_decide_here(session, decider, start, end, ids))
            else:
                helpers.send(_Plan(ranges, decider.products))
                _share(session, decider, (start, end), ranges, helpers, merge)
        finally:
            if helpers is not None:
                helpers.stop()
    merge.finish()
    report.seconds = time.perf_counter() - started
    return report


def _share(
    session: Session,
    decider: _Decider,
    period: tuple[date, date],
    ranges: list[tuple[int, int]],
    helpers: _Workers,
    merge: _Merger,
) -> None:
    """Decide `ranges` here and in the workers, each claiming chunks in turn; between its
    own chunks this process merges what the workers have sent."""
    start, end = period
    while (index := _claim(helpers.claims, len(ranges))) is not None:
        merge(_decide_here(session, decider, start, end, ranges[index]))
        helpers.drain(merge)
    helpers.wait(merge, len(ranges))
