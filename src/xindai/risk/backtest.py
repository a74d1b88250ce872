"""Back-testing a strategy version on stored applications (回溯测试): every stored engine
decision in a date range is decided again — from the inputs as they were at decision time —
under the candidate version and under the live version, and the two are compared: approval
rate, grade mix, expected loss, the applications that swap outcome, and, where the loans'
outcomes are known, the realised bad rate of what each would approve.

Work is split into chunks decided in worker processes (zen-engine's batch call, no traces),
so a back-test uses every core.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from xindai.products.model import Product
from xindai.risk.decision import APPROVE, REJECT, REVIEW, Decision, decide_many
from xindai.risk.engine import StrategyEngine
from xindai.risk.engine.strategy import StrategyVersion
from xindai.servicing.state import LoanStatus
from xindai.store import repository as repo
from xindai.store.models import Loan
from xindai.store.models_origination import Application, DecisionRecord

CHUNK = 500  # small chunks: the two workers finish together (measured best of 500–4,000)
BAD_DPD = 30  # a loan more than 30 days overdue (M2+) or written off is bad
IN_PROCESS_BELOW = 40_000  # below this, starting worker processes costs more than it saves


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
    candidate: SideStats
    live: SideStats
    swaps: Counter[tuple[str, str]] = field(default_factory=Counter)  # (live, candidate)
    seconds: float = 0.0
    workers: int = 1
    steady_applications: int = 0  # decided after the first chunk came back
    steady_seconds: float = 0.0  # … and how long they took (workers' start-up excluded)

    @property
    def applications(self) -> int:
        return self.candidate.applications

    @property
    def per_second(self) -> float:
        return self.applications / self.seconds if self.seconds else 0.0

    @property
    def steady_per_second(self) -> float:
        """Throughput once the workers are up (None of the start-up: importing, loading the
        model, compiling the strategies); equals `per_second` in-process."""
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
        }


Stored = tuple[str | None, str | None, str, str | None, int | None, int | None]
"""A stored decision's strategy hash, model version, outcome, grade, amount and loss."""
Row = tuple[int, str, tuple[str, int], bool, bool, Stored]
"""Application id, inputs (JSON), product, outcome known, bad, the stored decision."""


def _period(start: date, end: date) -> Any:
    return and_(
        DecisionRecord.path == "engine",
        DecisionRecord.inputs.is_not(None),
        DecisionRecord.created_at >= datetime.combine(start, datetime.min.time()),
        DecisionRecord.created_at < datetime.combine(end + timedelta(days=1), datetime.min.time()),
    )


def id_ranges(
    session: Session, start: date, end: date, size: int = CHUNK
) -> tuple[list[tuple[int, int]], int]:
    """The stored decisions of the period as (first id, last id) ranges of `size` each, and
    how many there are."""
    ids = list(
        session.scalars(
            select(DecisionRecord.id).where(_period(start, end)).order_by(DecisionRecord.id)
        )
    )
    ranges = [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]
    return ranges, len(ids)


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
        .execution_options(yield_per=CHUNK)
    )
    if ids is not None:
        query = query.where(DecisionRecord.id.between(*ids))
    for app_id, inputs, code, version, status, max_dpd, *stored in session.execute(query):
        bad = status == LoanStatus.WRITTEN_OFF.value or (max_dpd or 0) > BAD_DPD
        known = bad or status == LoanStatus.SETTLED.value
        yield app_id, inputs or "{}", (code, version), known, bad, tuple(stored)


# ---------------------------------------------------------------- the workers' side

_state: dict[str, Any] = {}


def _init(
    candidate: StrategyVersion,
    live: StrategyVersion,
    products: dict[Any, Product],
    database: str | None = None,
    period: tuple[date, date] | None = None,
) -> None:
    from xindai.risk.scorecard.default_model import load_default_model

    _state.update(
        candidate=candidate,
        live=live,
        products=products,
        engine=StrategyEngine(),
        scorer=load_default_model(),
        period=period,
    )
    if database is not None:  # a worker reads its own rows: nothing large crosses a pipe
        from xindai.store.db import make_engine, session_factory

        _state["sessions"] = session_factory(make_engine(database))


def _decide_range(ids: tuple[int, int]) -> tuple[SideStats, SideStats, Counter[tuple[str, str]]]:
    """A worker's chunk: the stored decisions with ids in `ids`, read by the worker."""
    start, end = _state["period"]
    from xindai.store.db import transaction

    with transaction(_state["sessions"], read_only=True) as session:
        rows = list(load_rows(session, start, end, ids))
        products = _state["products"]
        for key in {row[2] for row in rows} - set(products):
            products[key] = repo.load_product(session, *key)
    return _decide_chunk(rows)


def _decide_chunk(rows: Sequence[Row]) -> tuple[SideStats, SideStats, Counter[tuple[str, str]]]:
    """Both sides of a chunk. The live side reuses a stored decision made by the live version
    and the loaded model (a replay gives the same result) and decides the rest again."""
    from xindai.risk.service import request_from_inputs

    products = _state["products"]
    engine, scorer = _state["engine"], _state["scorer"]
    candidate_version: StrategyVersion = _state["candidate"]
    live_version: StrategyVersion = _state["live"]
    requests = [
        request_from_inputs(str(row[0]), json.loads(row[1]), products[row[2]]) for row in rows
    ]
    reuse = [row[5][0] == live_version.content_hash and row[5][1] == scorer.version for row in rows]
    candidates = decide_many(requests, version=candidate_version, engine=engine, scorer=scorer)
    if candidate_version.content_hash == live_version.content_hash:
        redo = candidates
    else:
        redone = decide_many(
            [r for r, again in zip(requests, reuse, strict=True) if not again],
            version=live_version,
            engine=engine,
            scorer=scorer,
        )
        pending = iter(redone)
        redo = [None if again else next(pending) for again in reuse]  # type: ignore[misc]
    candidate, live = SideStats("candidate"), SideStats("live")
    swaps: Counter[tuple[str, str]] = Counter()
    for row, cand, again, now in zip(rows, candidates, reuse, redo, strict=True):
        known, bad = row[3], row[4]
        candidate.add(cand, known, bad)
        if again or now is None:
            _, _, outcome, grade, amount, loss = row[5]
            live.count(outcome, grade or "", amount or 0, loss or 0, known, bad)
            live_outcome = outcome
        else:
            live.add(now, known, bad)
            live_outcome = now.outcome
        swaps[(live_outcome, cand.outcome)] += 1
    return candidate, live, swaps


def _chunks(rows: Iterator[Row]) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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
    """Run `candidate` and `live` over the stored applications decided in [start, end]."""
    started = time.perf_counter()
    report = BacktestReport(SideStats(candidate.label), SideStats(live.label))

    def merge(part: tuple[SideStats, SideStats, Counter[tuple[str, str]]]) -> None:
        report.candidate.merge(part[0])
        report.live.merge(part[1])
        report.swaps.update(part[2])
        if progress is not None:
            progress(part[0].applications)

    ranges, count = id_ranges(session, start, end)
    if workers <= 1 or count < IN_PROCESS_BELOW:
        rows = list(load_rows(session, start, end))
        products = {key: repo.load_product(session, *key) for key in {row[2] for row in rows}}
        _init(candidate, live, products)
        for chunk in _chunks(iter(rows)):
            merge(_decide_chunk(chunk))
        report.workers = 1
    else:
        database = session.get_bind().engine.url.render_as_string(hide_password=False)
        context = multiprocessing.get_context("spawn")  # zen's runtime must not be forked
        setup: tuple[Any, ...] = (candidate, live, {}, database, (start, end))
        with context.Pool(workers, _init, setup) as pool:
            first: float | None = None
            for part in pool.imap_unordered(_decide_range, ranges):
                merge(part)
                if first is None:
                    first = time.perf_counter()
                else:
                    report.steady_applications += part[0].applications
            report.steady_seconds = time.perf_counter() - (first or started)
            pool.close()
            pool.join()
        report.workers = workers
    report.seconds = time.perf_counter() - started
    return report
