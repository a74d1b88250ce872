"""The decision service: runs the live strategy on an application inside the caller's
transaction (features from the database, scorecard, rules, pricing, limit), stores the
decision with everything needed to explain and replay it, and applies its outcome.

Strategy versions are read from the database (`risk.engine.store`) and compiled once; the
registry is re-read only when a strategy event has been recorded since.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xindai import jsontext
from xindai.errors import InvalidValue, XindaiError
from xindai.origination.applications import record_offer
from xindai.platform import Platform
from xindai.products.model import Product
from xindai.risk import review
from xindai.risk.bureau_cache import UNAVAILABLE, BureauLookup, bureau_report, cached_reports
from xindai.risk.decision import (
    APPROVE,
    DEFAULT_PRICING,
    REJECT,
    REVIEW,
    Decision,
    DecisionRequest,
    Scorer,
    decide,
    decision_differences,
    decision_from_json,
    decision_to_json,
    request_from_inputs,
)
from xindai.risk.default_strategy import default_strategy_graph
from xindai.risk.engine import StrategyEngine
from xindai.risk.engine.registry import StrategyRegistry
from xindai.risk.engine.store import load_registry, record
from xindai.risk.engine.strategy import StrategyVersion
from xindai.risk.features import Gathered, Subject, default_anomaly_model, gather_many, plain
from xindai.risk.pricing import PricingParams
from xindai.risk.scorecard.default_model import load_default_model
from xindai.store import repository as repo
from xindai.store.fastsql import (
    columns_of,
    detached,
    executemany,
    fetch,
    in_list,
    param_markers,
)
from xindai.store.models import Borrower
from xindai.store.models_origination import Application, DecisionRecord

ENGINE_PATH = "engine"


def business_date(session: Session) -> date | None:
    """The business date read with one driver statement (a fresh session: nothing pending)."""
    rows = fetch(session, "SELECT value FROM system_state WHERE key = ?", (repo.BUSINESS_DATE_KEY,))
    return date.fromisoformat(rows[0][0]) if rows else None


BUREAU_UNAVAILABLE = ("BU_UNAVAILABLE", "需人工复核 Needs a manual review")


class DecisionNotFound(XindaiError):
    code = "DECISION_NOT_FOUND"


class DecisionConflict(XindaiError):
    code = "DECISION_CONFLICT"


def ensure_default_strategy(session: Session, name: str, *, actor: str, at: str) -> None:
    """Install the shipped default strategy as v1 and make it live, if `name` has no versions."""
    registry = load_registry(session, name)
    if registry.versions:
        return
    registry, version, event = registry.create(
        default_strategy_graph(), actor=actor, at=at, notes="shipped default strategy"
    )
    record(session, event, version)
    registry, promoted = registry.promote(
        version.version, actor=actor, at=at, reason="shipped default strategy"
    )
    record(session, promoted)


_APPLICATION_COLUMNS = columns_of(Application)
_BORROWER_COLUMNS = columns_of(Borrower)
_PENDING = (
    "SELECT "
    + ", ".join(f"a.{c}" for c in _APPLICATION_COLUMNS)
    + ", "
    + ", ".join(f"b.{c}" for c in _BORROWER_COLUMNS)
    + " FROM applications a JOIN borrowers b ON b.id = a.borrower_id"
    " WHERE a.id {test} AND a.status = 'deciding' ORDER BY a.id"
)
_DECISION_COLUMNS = (
    "application_id",
    "path",
    "outcome",
    "reasons",
    "customer_reasons",
    "detail",
    "inputs",
    "strategy",
    "strategy_hash",
    "model_version",
    "score",
    "pd",
    "grade",
    "approved_amount_fen",
    "expected_loss_fen",
    "rate",
    "micros",
    "created_at",
)
_INSERT_DECISION = (
    f"INSERT INTO decisions ({', '.join(_DECISION_COLUMNS)})"
    f" VALUES {param_markers(len(_DECISION_COLUMNS))}"
)
_WRITE_OUTCOME = (
    "UPDATE applications SET status = ?, decided_at = ?, approved_amount_fen = ?,"
    " offered_rate = ?, annual_rate = ?, apr = ?, quote = ?"
    " WHERE id = ? AND status = 'deciding'"
)


def _not_pending(application_id: int) -> DecisionNotFound:
    return DecisionNotFound(
        f"application {application_id} is not waiting for a decision",
        f"申请 {application_id} 不在待决策状态",
    )


def _load_pending(
    session: Session, application_ids: Sequence[int]
) -> list[tuple[Application, Borrower]]:
    """The applications among `application_ids` still waiting for a decision, with their
    applicants, as read-only copies, in id order — one statement; on PostgreSQL the rows
    are locked until the transaction ends, so that no one else decides them meanwhile
    (SQLite's write transaction already excludes every other writer)."""
    test, params = in_list(session, sorted(set(application_ids)))
    sql = _PENDING.format(test=test)
    if session.get_bind().dialect.name == "postgresql":
        sql += " FOR UPDATE OF a"
    split = len(_APPLICATION_COLUMNS)
    return [
        (detached(Application, row[:split]), detached(Borrower, row[split:]))
        for row in fetch(session, sql, params)
    ]


def _store_decisions(session: Session, rows: Sequence[Sequence[Any]]) -> None:
    """Insert decision rows (in `_DECISION_COLUMNS` order) with one statement."""
    executemany(session, _INSERT_DECISION, rows)


def _settle(
    application: Application, decision: Decision, product: Product, now: datetime, today: date
) -> bool:
    """Approve `application` (with the offer) or reject it, in memory; False when the
    decision sends it to manual review instead (the caller queues it)."""
    if decision.outcome == APPROVE and decision.pricing is not None:
        application.decided_at = now
        record_offer(
            application, product, decision.approved_amount_fen, decision.pricing.rate, today
        )
        return True
    if decision.outcome == REJECT:
        application.decided_at, application.status = now, "rejected"
        return True
    return False


def _write_outcomes(session: Session, applications: Sequence[Application]) -> int:
    """Write approvals (with their offers) and rejections of read-only copies, one
    statement; returns how many rows still `deciding` it changed."""
    return executemany(
        session,
        _WRITE_OUTCOME,
        [
            (
                a.status,
                a.decided_at,
                a.approved_amount_fen,
                a.offered_rate,
                a.annual_rate,
                a.apr,
                a.quote,
                a.id,
            )
            for a in applications
        ],
    )


def _configured_model(path: str) -> Scorer:
    """The scorecard the strategy reads: a fitted model file, or the shipped default."""
    if not path:
        return load_default_model()
    from pathlib import Path

    from xindai.risk.scorecard.model import ScorecardModel

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidValue(
            "scorecard_model", path, f"cannot be read ({exc.strerror})", "无法读取模型文件"
        ) from None
    return ScorecardModel.from_json(text, source=path)


@dataclass(frozen=True, slots=True)
class StoredDecision:
    record_id: int
    application_id: int
    decision: Decision
    inputs: dict[str, Any]
    created_at: datetime


class DecisionService:
    """One per process: holds the compiled strategies, the scorecard and the anomaly model."""

    def __init__(
        self,
        platform: Platform,
        *,
        scorer: Scorer | None = None,
        params: PricingParams = DEFAULT_PRICING,
    ) -> None:
        self.p = platform
        self.name = platform.settings.strategy_name
        self.engine = StrategyEngine()
        self.scorer: Scorer = scorer or _configured_model(platform.settings.scorecard_model)
        self.anomaly_model = default_anomaly_model()
        self.params = params
        self.blocked_regions = frozenset(
            code.strip() for code in platform.settings.blocked_regions.split(",") if code.strip()
        )
        self._registry: tuple[int, StrategyRegistry] | None = None
        self._products: dict[tuple[str, int], Product] = {}

    # ------------------------------------------------------------ strategy versions

    def registry(self, session: Session) -> StrategyRegistry:
        """The registry as stored (cached until the next strategy event)."""
        last = fetch(session, "SELECT MAX(id) FROM strategy_events WHERE name = ?", (self.name,))
        key = int(last[0][0] or 0)
        if self._registry is None or self._registry[0] != key:
            self._registry = (key, load_registry(session, self.name))
        return self._registry[1]

    def version_by_hash(self, session: Session, content_hash: str) -> StrategyVersion:
        for version in self.registry(session).versions:
            if version.content_hash == content_hash:
                return version
        raise DecisionNotFound(
            f"strategy version {content_hash[:12]} is not stored",
            f"策略版本 {content_hash[:12]} 不存在",
        )

    # ------------------------------------------------------------ deciding

    def lookup_bureau(self, borrower: Borrower, now: datetime) -> BureauLookup:
        """The applicant's credit report (cached per person)."""
        cipher = self.p.cipher
        assert borrower.id_number_hash is not None
        return bureau_report(
            self.p.sessions,
            cipher,
            self.p.providers.bureau,
            id_number=cipher.decrypt("id_number", borrower.id_number_enc or ""),
            name=cipher.decrypt("name", borrower.name_enc or ""),
            id_number_hash=borrower.id_number_hash,
            now=now,
            days=self.p.settings.bureau_cache_days,
        )

    def decide_application(
        self,
        session: Session,
        application: Application,
        *,
        borrower: Borrower,
        product: Product,
        bureau: BureauLookup,
        now: datetime,
        today: date,
    ) -> Decision:
        """Decide `application` (flushed, in the caller's transaction) and store the
        decision."""
        return self.decide_group(
            session, [(application, borrower, product, bureau)], now=now, today=today
        )[0]

    def decide_group(
        self,
        session: Session,
        group: Sequence[tuple[Application, Borrower, Product, BureauLookup]],
        *,
        now: datetime,
        today: date,
    ) -> list[Decision]:
        """Decide each application of `group` in the caller's transaction and store the
        decisions: the features of all are read with the same few statements
        (`features.gather_many`), each is decided on its own, and the decision rows are
        written with one statement. The `features` timing of each is its share of the
        group's reading."""
        started = time.perf_counter()
        subjects = [
            Subject(application, borrower, product, bureau.report, self._region(borrower))
            for application, borrower, product, bureau in group
        ]
        gathered = gather_many(
            session,
            subjects,
            as_of=now,
            today=today,
            blocked_regions=self.blocked_regions,
            anomaly_model=self.anomaly_model,
        )
        features_us = (time.perf_counter() - started) * 1e6 / len(group)
        registry = self.registry(session)
        decisions: list[Decision] = []
        rows: list[list[Any]] = []
        for (application, _, product, bureau), found in zip(group, gathered, strict=True):
            decision, row = self._decide_one(
                application, product, bureau, found, registry, now, features_us
            )
            decisions.append(decision)
            rows.append(row)
        _store_decisions(session, rows)
        return decisions

    def _region(self, borrower: Borrower) -> str | None:
        """The applicant's region code (the ID number's first six digits) when any region
        is blocked; None otherwise (no decryption)."""
        if self.blocked_regions and borrower.id_number_enc:
            return self.p.cipher.decrypt("id_number", borrower.id_number_enc)[:6]
        return None

    def _decide_one(
        self,
        application: Application,
        product: Product,
        bureau: BureauLookup,
        gathered: Gathered,
        registry: StrategyRegistry,
        now: datetime,
        features_us: float,
    ) -> tuple[Decision, list[Any]]:
        """One application's decision from its gathered features, and its `decisions` row
        (in `_DECISION_COLUMNS` order)."""
        began = time.perf_counter()
        review_codes = (BUREAU_UNAVAILABLE,) if bureau.source == UNAVAILABLE else ()
        request = DecisionRequest(
            application_id=str(application.id),
            product=product,
            amount_fen=application.amount_fen,
            term=application.term,
            features=gathered.features,
            monthly_income_fen=application.monthly_income_fen,
            existing_monthly_payment_fen=gathered.existing_monthly_payment_fen,
            scorecard_inputs=gathered.scorecard_inputs,
            review_codes=review_codes,
        )
        decision = decide(
            request,
            registry=registry,
            engine=self.engine,
            scorer=self.scorer,
            params=self.params,
        )
        inputs = {
            "features": plain(gathered.features),
            "scorecard_inputs": plain(gathered.scorecard_inputs),
            "monthly_income_fen": application.monthly_income_fen,
            "existing_monthly_payment_fen": gathered.existing_monthly_payment_fen,
            "review_codes": [list(code) for code in review_codes],
            "amount_fen": application.amount_fen,
            "term": application.term,
            "product": [product.code, product.version],
        }
        detail = {
            **decision_to_json(decision),
            "bureau": {
                "source": bureau.source,
                "fetched_at": bureau.fetched_at.isoformat() if bureau.fetched_at else None,
                "error": bureau.error,
            },
            "antifraud_reasons": [
                {
                    "code": r.code,
                    "feature": r.feature,
                    "message": {"zh-CN": r.message_zh, "en": r.message_en},
                }
                for r in gathered.antifraud.reasons
            ],
            "reloan": {
                "settled_max_dpd": list(gathered.history.settled_max_dpd),
                "eligible": gathered.features["reloan_eligible"],
                "level": gathered.features["reloan_level"],
                "limit_fen": gathered.features["reloan_limit_fen"],
            },
        }
        timings = decision.timings_us
        timings["features"] = features_us
        timings["total"] = features_us + (time.perf_counter() - began) * 1e6
        detail["timings_us"] = {k: round(v, 1) for k, v in timings.items()}
        row = [
            application.id,
            ENGINE_PATH,
            decision.outcome,
            jsontext.dumps(list(decision.reason_codes)),
            jsontext.dumps(list(decision.customer_reasons)),
            jsontext.dumps(detail),
            jsontext.dumps(inputs),
            decision.strategy,
            decision.strategy_hash,
            decision.model_version,
            decision.score,
            str(decision.pd),
            decision.grade,
            decision.approved_amount_fen,
            decision.expected_loss_fen,
            None if decision.pricing is None else str(decision.pricing.rate),
            int(timings["total"]),
            now,
        ]
        return decision, row

    def apply_outcome(
        self,
        session: Session,
        application: Application,
        decision: Decision,
        *,
        product: Product,
        now: datetime,
        today: date,
    ) -> None:
        """Approve (with the offer), send to manual review, or reject."""
        if not _settle(application, decision, product, now, today):
            application.status, application.decided_at = "review", None
            review.enqueue(session, application.id, decision.reason_codes, now, self.review_sla)

    @property
    def review_sla(self) -> timedelta:
        return timedelta(minutes=self.p.settings.review_sla_minutes)

    def product(self, session: Session, code: str, version: int) -> Product:
        """A product version (immutable, so cached)."""
        key = (code, version)
        found = self._products.get(key)
        if found is None:
            found = self._products[key] = repo.load_product(session, code, version)
        return found

    def decide_pending(self, application_id: int) -> Decision:
        """Decide an application left in `deciding` (see `decide_pending_many`)."""
        found = self.decide_pending_many([application_id]).get(application_id)
        if found is None:
            raise _not_pending(application_id)
        return found

    def decide_pending_many(self, application_ids: Sequence[int]) -> dict[int, Decision]:
        """Decide applications waiting in `deciding` — created but not decided: a crash in
        between, applications taken in from a channel in bulk, or a benchmark's — as one
        group, in one transaction: read with one statement, their features gathered
        together, each decided on its own, the decisions written with one statement and
        the outcomes with one more. Applicants whose credit report is not cached are
        decided afterwards one by one, each after asking the bureau outside any
        transaction. Returns the decisions by application id; an id not waiting for a
        decision (decided meanwhile, or unknown) is left out."""
        decided, missing = self._decide_pending_group(application_ids, {})
        for application_id, borrower in missing:
            lookup = self.lookup_bureau(borrower, self.p.clock())
            more, _ = self._decide_pending_group([application_id], {application_id: lookup})
            decided.update(more)
        return decided

    def _decide_pending_group(
        self, application_ids: Sequence[int], reports: Mapping[int, BureauLookup]
    ) -> tuple[dict[int, Decision], list[tuple[int, Borrower]]]:
        """One transaction: decide those of `application_ids` still pending whose report
        is in `reports` or cached; returns the decisions and the applicants still
        needing the bureau."""
        if not application_ids:
            return {}, []
        now = self.p.clock()
        with self.p.sessions.begin() as session:
            pending = _load_pending(session, application_ids)
            cached = cached_reports(
                session,
                self.p.cipher,
                [b.id_number_hash for _, b in pending if b.id_number_hash],
                now,
                self.p.settings.bureau_cache_days,
            )
            group: list[tuple[Application, Borrower, Product, BureauLookup]] = []
            missing: list[tuple[int, Borrower]] = []
            for application, borrower in pending:
                report = reports.get(application.id) or cached.get(borrower.id_number_hash or "")
                if report is None:
                    missing.append((application.id, borrower))
                    continue
                product = self.product(
                    session, application.product_code, application.product_version
                )
                group.append((application, borrower, product, report))
            if not group:
                return {}, missing
            today = business_date(session) or now.date()
            decisions = self.decide_group(session, group, now=now, today=today)
            settled: list[Application] = []
            referrals: list[tuple[int, Sequence[str]]] = []
            for (application, _, product, _), decision in zip(group, decisions, strict=True):
                if _settle(application, decision, product, now, today):
                    settled.append(application)
                else:
                    referrals.append((application.id, decision.reason_codes))
            moved = _write_outcomes(session, settled) if settled else 0
            moved += review.enqueue_many(session, referrals, now, self.review_sla)
            if moved != len(group):  # decided by someone else meanwhile: undo this group
                raise DecisionConflict(
                    "applications were decided by another process meanwhile; nothing was"
                    " stored, try again",
                    "申请已被其他进程决策，本批未保存，请重试",
                )
        return {a.id: d for (a, *_), d in zip(group, decisions, strict=True)}, missing

    # ------------------------------------------------------------ explain and replay

    def stored(self, session: Session, application_id: int) -> StoredDecision:
        """The latest engine decision of an application."""
        row = session.scalars(
            select(DecisionRecord)
            .where(
                DecisionRecord.application_id == application_id,
                DecisionRecord.path == ENGINE_PATH,
            )
            .order_by(DecisionRecord.id.desc())
        ).first()
        if row is None or row.inputs is None:
            raise DecisionNotFound(
                f"application {application_id} has no engine decision",
                f"申请 {application_id} 没有决策引擎的决策记录",
            )
        inputs = json.loads(row.inputs)
        return StoredDecision(
            row.id,
            application_id,
            decision_from_json(json.loads(row.detail), inputs["features"]),
            inputs,
            row.created_at,
        )

    def request_from(self, session: Session, stored: StoredDecision) -> DecisionRequest:
        inputs = stored.inputs
        code, version = inputs["product"]
        return request_from_inputs(
            str(stored.application_id), inputs, self.product(session, code, version)
        )

    def replay(self, application_id: int) -> tuple[Decision, Decision, list[tuple[str, Any, Any]]]:
        """Re-run the stored decision under the version it ran (same inputs, same model
        version if it is loaded) and list what differs."""
        with self.p.sessions() as session:
            stored = self.stored(session, application_id)
            version = self.version_by_hash(session, stored.decision.strategy_hash)
            request = self.request_from(session, stored)
        replayed = decide(
            request,
            registry=StrategyRegistry(version.name, (version,)),
            engine=self.engine,
            scorer=self.scorer,
            params=self.params,
            version=version,
        )
        return stored.decision, replayed, decision_differences(stored.decision, replayed)

    def explain(self, application_id: int) -> dict[str, Any]:
        """Every decision on an application (engine, manual review, credit line) in order."""
        with self.p.sessions() as session:
            application = session.get(Application, application_id)
            if application is None:
                raise DecisionNotFound(
                    f"application {application_id} not found", f"申请 {application_id} 不存在"
                )
            rows = session.scalars(
                select(DecisionRecord)
                .where(DecisionRecord.application_id == application_id)
                .order_by(DecisionRecord.id)
            ).all()
            return {
                "application": {
                    "id": application.id,
                    "status": application.status,
                    "product": application.product_code,
                    "amount_fen": application.amount_fen,
                    "term": application.term,
                    "approved_amount_fen": application.approved_amount_fen,
                    "offered_rate": application.offered_rate,
                    "created_at": application.created_at.isoformat(),
                },
                "decisions": [
                    {
                        "id": row.id,
                        "path": row.path,
                        "outcome": row.outcome,
                        "reviewer": row.reviewer,
                        "created_at": row.created_at.isoformat(),
                        "reason_codes": json.loads(row.reasons),
                        "customer_reasons": json.loads(row.customer_reasons or "[]"),
                        "strategy": row.strategy,
                        "model_version": row.model_version,
                        "score": row.score,
                        "pd": row.pd,
                        "grade": row.grade,
                        "rate": row.rate,
                        "approved_amount_fen": row.approved_amount_fen,
                        "detail": json.loads(row.detail),
                        "inputs": json.loads(row.inputs) if row.inputs else None,
                    }
                    for row in rows
                ],
            }


__all__ = [
    "APPROVE",
    "REJECT",
    "REVIEW",
    "DecisionNotFound",
    "DecisionService",
    "StoredDecision",
    "ensure_default_strategy",
    "request_from_inputs",
]
