"""One credit decision: features → scorecard → strategy graph → pricing and limit → record.

`decide` is pure given its collaborators (the strategy engine, the registry, the scorer):
the caller gathers the features (application, anti-fraud, bureau, reloan ladder) and stores
the returned `Decision`, which holds everything needed to explain and replay it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from xindai.money import Fen
from xindai.products.model import Product
from xindai.risk.engine.registry import StrategyRegistry
from xindai.risk.engine.strategy import StrategyVersion
from xindai.risk.engine.zen import FiredRule, StrategyEngine
from xindai.risk.pricing import LimitBreakdown, Pricing, PricingParams, credit_limit, price_loan

MAX_CUSTOMER_REASONS = 4
DEFAULT_PRICING = PricingParams()
APPROVE, REJECT, REVIEW = "approve", "reject", "review"


class Scorer(Protocol):
    """A scorecard as the engine sees it (see `xindai.risk.scorecard`)."""

    @property
    def version(self) -> str: ...

    def score_record(self, record: Mapping[str, Any]) -> tuple[float, float, str]: ...


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    application_id: str
    product: Product
    amount_fen: Fen
    term: int
    features: Mapping[str, Any]  # named features gathered by the caller
    monthly_income_fen: Fen = 0
    existing_debt_fen: Fen = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """Everything about one decision, enough to explain and replay it."""

    application_id: str
    strategy: str  # name@vN
    strategy_hash: str
    model_version: str
    inputs: dict[str, Any]
    score: float
    pd: Decimal
    grade: str
    outcome: str
    reason_codes: tuple[str, ...]
    customer_reasons: tuple[str, ...]
    fired: tuple[FiredRule, ...]
    pricing: Pricing | None
    limit: LimitBreakdown | None
    approved_amount_fen: Fen
    timings_us: dict[str, float] = field(default_factory=dict)


def _customer_reasons(hits: list[dict[str, Any]]) -> tuple[str, ...]:
    ordered = [h for h in hits if h.get("action") == REJECT] + [
        h for h in hits if h.get("action") == REVIEW
    ]
    reasons: list[str] = []
    for hit in ordered:
        text = str(hit.get("customer", ""))
        if text and text not in reasons:
            reasons.append(text)
    return tuple(reasons[:MAX_CUSTOMER_REASONS])


def decide(
    request: DecisionRequest,
    *,
    registry: StrategyRegistry,
    engine: StrategyEngine,
    scorer: Scorer,
    params: PricingParams = DEFAULT_PRICING,
    version: StrategyVersion | None = None,
) -> Decision:
    """Run the routed (or the given) strategy version for one application."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    chosen = version or registry.version_for(request.application_id)
    score, pd_float, grade = scorer.score_record(request.features)
    pd = Decimal(str(round(pd_float, 6)))
    timings["scorecard"] = (time.perf_counter() - started) * 1e6
    context = {
        **request.features,
        "amount_fen": request.amount_fen,
        "term": request.term,
        "score": score,
        "pd": float(pd),
        "grade": grade,
    }
    result = engine.evaluate(chosen, context)
    timings["strategy"] = result.total_micros
    outputs = result.outputs
    hits = list(outputs.get("hits") or [])
    outcome = str(outputs.get("outcome", REVIEW))
    codes = [str(h.get("code")) for h in hits if h.get("action") in (REJECT, REVIEW)]
    fired = list(result.fired)
    pricing: Pricing | None = None
    limit: LimitBreakdown | None = None
    approved = 0
    if outcome != REJECT:
        priced_at = time.perf_counter()
        terms = outputs.get("grade_terms") or {}
        pricing = price_loan(
            request.product,
            request.amount_fen,
            request.term,
            pd=pd,
            lgd=Decimal(str(terms.get("lgd", "0.9"))),
            margin=Decimal(str(terms.get("margin", "0.05"))),
            params=params,
        )
        reloan_limit = (
            int(request.features["reloan_limit_fen"]) if outputs.get("whitelisted") else None
        )
        limit = credit_limit(
            request.product,
            request.term,
            grade_cap_fen=int(terms.get("limit_cap_fen", 0)),
            monthly_income_fen=request.monthly_income_fen,
            existing_debt_fen=request.existing_debt_fen,
            reloan_limit_fen=reloan_limit,
        )
        timings["pricing"] = (time.perf_counter() - priced_at) * 1e6
        post_rules: list[tuple[str, str, str]] = []
        if not pricing.profitable:
            post_rules.append(
                ("PR_BELOW_BREAK_EVEN", REJECT, "综合评估未通过 Overall assessment not passed")
            )
        if limit.limit_fen < request.product.amount_min_fen:
            post_rules.append(("LM_BELOW_MIN", REJECT, "额度不足 Credit limit too low"))
        for code, action, customer in post_rules:
            hits.append({"code": code, "action": action, "customer": customer})
            codes.append(code)
            fired.append(
                FiredRule("定价定额 Pricing and limit", "post", code, customer, len(fired))
            )
        if post_rules:
            outcome = REJECT
        else:
            approved = min(request.amount_fen, limit.limit_fen)
    timings["total"] = (time.perf_counter() - started) * 1e6
    return Decision(
        application_id=request.application_id,
        strategy=chosen.label,
        strategy_hash=chosen.content_hash,
        model_version=scorer.version,
        inputs=dict(request.features),
        score=score,
        pd=pd,
        grade=grade,
        outcome=outcome,
        reason_codes=tuple(codes),
        customer_reasons=_customer_reasons(hits),
        fired=tuple(fired),
        pricing=pricing,
        limit=limit,
        approved_amount_fen=approved if outcome != REJECT else 0,
        timings_us=timings,
    )


def decision_differences(before: Decision, after: Decision) -> list[tuple[str, Any, Any]]:
    """What changed between a stored decision and its replay (empty when identical)."""
    fields = (
        "strategy",
        "model_version",
        "score",
        "pd",
        "grade",
        "outcome",
        "reason_codes",
        "customer_reasons",
        "approved_amount_fen",
    )
    differences = [
        (name, getattr(before, name), getattr(after, name))
        for name in fields
        if getattr(before, name) != getattr(after, name)
    ]
    rate_before = before.pricing.rate if before.pricing else None
    rate_after = after.pricing.rate if after.pricing else None
    if rate_before != rate_after:
        differences.append(("rate", rate_before, rate_after))
    if [f.rule_id for f in before.fired] != [f.rule_id for f in after.fired]:
        differences.append(
            ("fired", [f.rule_id for f in before.fired], [f.rule_id for f in after.fired])
        )
    return differences
