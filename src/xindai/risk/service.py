"""The decision service: runs the live strategy on an application inside the caller's
transaction (features from the database, scorecard, rules, pricing, limit), stores the
decision with everything needed to explain and replay it, and applies its outcome.

Strategy versions are read from the database (`risk.engine.store`) and compiled once; the
registry is re-read only when a strategy event has been recorded since.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xindai.errors import InvalidValue, XindaiError
from xindai.origination.applications import record_offer
from xindai.platform import Platform
from xindai.products.model import Product
from xindai.risk import review
from xindai.risk.bureau_cache import UNAVAILABLE, BureauLookup, bureau_report, cached_report
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
)
from xindai.risk.default_strategy import default_strategy_graph
from xindai.risk.engine import StrategyEngine
from xindai.risk.engine.registry import StrategyRegistry
from xindai.risk.engine.store import load_registry, record
from xindai.risk.engine.strategy import StrategyVersion
from xindai.risk.features import default_anomaly_model, gather, plain
from xindai.risk.pricing import PricingParams
from xindai.risk.scorecard.default_model import load_default_model
from xindai.store import repository as repo
from xindai.store.fastsql import columns_of, detached, execute, fetch, param_markers
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
    + " FROM applications a JOIN borrowers b ON b.id = a.borrower_id WHERE a.id = ?"
)
_STATUS = _APPLICATION_COLUMNS.index("status")


def _not_pending(application_id: int) -> DecisionNotFound:
    return DecisionNotFound(
        f"application {application_id} is not waiting for a decision",
        f"申请 {application_id} 不在待决策状态",
    )


def _load_pending(session: Session, application_id: int) -> tuple[Application, Borrower]:
    """The application waiting for a decision and its applicant, as read-only copies."""
    rows = fetch(session, _PENDING, (application_id,))
    if not rows or rows[0][_STATUS] != "deciding":
        raise _not_pending(application_id)
    split = len(_APPLICATION_COLUMNS)
    return detached(Application, rows[0][:split]), detached(Borrower, rows[0][split:])


def _write_outcome(session: Session, application: Application) -> int:
    """Write an approval (with its offer) or a rejection of a read-only copy; 0 when the
    application has been decided meanwhile."""
    return execute(
        session,
        "UPDATE applications SET status = ?, decided_at = ?, approved_amount_fen = ?,"
        " offered_rate = ?, annual_rate = ?, apr = ?, quote = ?"
        " WHERE id = ? AND status = 'deciding'",
        (
            application.status,
            application.decided_at,
            application.approved_amount_fen,
            application.offered_rate,
            application.annual_rate,
            application.apr,
            application.quote,
            application.id,
        ),
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
    ) -> tuple[Decision, int]:
        """Decide `application` (flushed, in the caller's transaction) and store the decision;
        returns it and the stored record's id."""
        started = time.perf_counter()
        region = None
        if self.blocked_regions and borrower.id_number_enc:
            region = self.p.cipher.decrypt("id_number", borrower.id_number_enc)[:6]
        gathered = gather(
            session,
            application,
            borrower=borrower,
            product=product,
            as_of=now,
            today=today,
            bureau_report=bureau.report,
            blocked_regions=self.blocked_regions,
            region_code=region,
            anomaly_model=self.anomaly_model,
        )
        gathered_at = time.perf_counter()
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
            registry=self.registry(session),
            engine=self.engine,
            scorer=self.scorer,
            params=self.params,
        )
        decision.timings_us["features"] = (gathered_at - started) * 1e6
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
        decision.timings_us["total"] = (time.perf_counter() - started) * 1e6
        detail["timings_us"] = {k: round(v, 1) for k, v in decision.timings_us.items()}
        values = {
            "application_id": application.id,
            "path": ENGINE_PATH,
            "outcome": decision.outcome,
            "reasons": json.dumps(list(decision.reason_codes)),
            "customer_reasons": json.dumps(list(decision.customer_reasons), ensure_ascii=False),
            "detail": json.dumps(detail, ensure_ascii=False),
            "inputs": json.dumps(inputs, ensure_ascii=False),
            "strategy": decision.strategy,
            "strategy_hash": decision.strategy_hash,
            "model_version": decision.model_version,
            "score": decision.score,
            "pd": str(decision.pd),
            "grade": decision.grade,
            "approved_amount_fen": decision.approved_amount_fen,
            "expected_loss_fen": decision.expected_loss_fen,
            "rate": None if decision.pricing is None else str(decision.pricing.rate),
            "micros": int(decision.timings_us["total"]),
            "created_at": now,
        }
        # a driver statement: an ORM insert costs more than the rest of storing the decision
        row = fetch(
            session,
            f"INSERT INTO decisions ({', '.join(values)})"
            f" VALUES {param_markers(len(values))} RETURNING id",
            list(values.values()),
        )
        return decision, int(row[0][0])

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
        application.decided_at = now
        if decision.outcome == APPROVE and decision.pricing is not None:
            record_offer(
                application, product, decision.approved_amount_fen, decision.pricing.rate, today
            )
        elif decision.outcome == REJECT:
            application.status = "rejected"
        else:
            application.status = "review"
            application.decided_at = None
            review.enqueue(
                session,
                application.id,
                decision.reason_codes,
                now,
                timedelta(minutes=self.p.settings.review_sla_minutes),
            )

    def product(self, session: Session, code: str, version: int) -> Product:
        """A product version (immutable, so cached)."""
        key = (code, version)
        found = self._products.get(key)
        if found is None:
            found = self._products[key] = repo.load_product(session, code, version)
        return found

    def decide_pending(self, application_id: int) -> Decision:
        """Decide an application left in `deciding` (its creation committed, its decision
        not: a crash in between, or a batch of applications loaded for a benchmark). One
        transaction when the applicant's credit report is cached; otherwise the bureau is
        asked first, outside any transaction.

        The batch path of the decision, written for throughput: the application and the
        applicant are read with one driver statement (as read-only copies) and an approval
        or rejection written with one UPDATE guarded by the status, so that a concurrent
        decision makes it hit nothing and this one rolls back; a referral to review goes
        through the queue's own transaction-bound `enqueue`.
        """
        bureau: BureauLookup | None = None
        for _ in range(2):
            now = self.p.clock()
            with self.p.sessions.begin() as session:
                application, borrower = _load_pending(session, application_id)
                assert borrower.id_number_hash is not None
                if bureau is None:
                    bureau = cached_report(
                        session,
                        self.p.cipher,
                        borrower.id_number_hash,
                        now,
                        self.p.settings.bureau_cache_days,
                    )
                if bureau is not None:
                    product = self.product(
                        session, application.product_code, application.product_version
                    )
                    today = business_date(session) or now.date()
                    decision, _ = self.decide_application(
                        session,
                        application,
                        borrower=borrower,
                        product=product,
                        bureau=bureau,
                        now=now,
                        today=today,
                    )
                    if decision.outcome == REVIEW or (
                        decision.outcome == APPROVE and decision.pricing is None
                    ):
                        persistent = session.get(Application, application_id)
                        assert persistent is not None
                        self.apply_outcome(
                            session, persistent, decision, product=product, now=now, today=today
                        )
                        return decision
                    self.apply_outcome(
                        session, application, decision, product=product, now=now, today=today
                    )
                    if _write_outcome(session, application) != 1:
                        raise _not_pending(application_id)  # rolls this decision back
                    return decision
            bureau = self.lookup_bureau(borrower, now)
        raise AssertionError("unreachable: the second pass has a report")

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


def request_from_inputs(
    application_id: str, inputs: Mapping[str, Any], product: Product
) -> DecisionRequest:
    """The decision request a stored decision's inputs describe."""
    return DecisionRequest(
        application_id=application_id,
        product=product,
        amount_fen=int(inputs["amount_fen"]),
        term=int(inputs["term"]),
        features=inputs["features"],
        monthly_income_fen=inputs.get("monthly_income_fen"),
        existing_monthly_payment_fen=int(inputs.get("existing_monthly_payment_fen") or 0),
        scorecard_inputs=inputs.get("scorecard_inputs"),
        review_codes=tuple((str(c), str(t)) for c, t in inputs.get("review_codes", [])),
    )


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
