"""One credit decision: features → scorecard → strategy graph → pricing and limit → record.

`decide` is pure given its collaborators (the strategy engine, the registry, the scorer):
the caller gathers the features (application, anti-fraud, bureau, reloan ladder) and stores
the returned `Decision`, which holds everything needed to explain and replay it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import ROUND_HALF_UP, Decimal
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
    features: Mapping[str, Any]  # named features gathered by the caller (the strategy's context)
    monthly_income_fen: Fen | None = 0
    existing_monthly_payment_fen: Fen = 0
    scorecard_inputs: Mapping[str, Any] | None = None  # None: the scorecard reads `features`
    review_codes: tuple[tuple[str, str], ...] = ()  # (code, customer reason) forcing review


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
    hits: tuple[dict[str, Any], ...] = ()
    grade_terms: dict[str, Any] = field(default_factory=dict)

    @property
    def expected_loss_fen(self) -> Fen:
        """PD × LGD × the approved amount (a year's expected loss, fen; 0 unless approved)."""
        if self.outcome != APPROVE or not self.approved_amount_fen:
            return 0
        lgd = Decimal(str(self.grade_terms.get("lgd", "0.9")))
        return int((self.pd * lgd * self.approved_amount_fen).to_integral_value(ROUND_HALF_UP))


def _customer_reasons(hits: list[dict[str, Any]], outcome: str) -> tuple[str, ...]:
    """What the customer is told: a refusal's reasons for a refusal (a review rule that
    also fired, e.g. 需人工复核, means nothing to someone refused), a review's for a review."""
    reasons: list[str] = []
    if outcome not in (REJECT, REVIEW):
        return ()
    for hit in (h for h in hits if h.get("action") == outcome):
        text = str(hit.get("customer", ""))
        if text and text not in reasons:
            reasons.append(text)
    return tuple(reasons[:MAX_CUSTOMER_REASONS])


def _score(request: DecisionRequest, scorer: Scorer) -> tuple[float, Decimal, str]:
    inputs = request.features if request.scorecard_inputs is None else request.scorecard_inputs
    score, pd_float, grade = scorer.score_record(inputs)
    return score, Decimal(str(round(pd_float, 6))), grade


def _context(request: DecisionRequest, score: float, pd: Decimal, grade: str) -> dict[str, Any]:
    return {
        **request.features,
        "amount_fen": request.amount_fen,
        "term": request.term,
        "score": score,
        "pd": float(pd),
        "grade": grade,
    }


def _conclude(
    request: DecisionRequest,
    chosen: StrategyVersion,
    model_version: str,
    scored: tuple[float, Decimal, str],
    outputs: Mapping[str, Any],
    fired: list[FiredRule],
    params: PricingParams,
    timings: dict[str, float],
    started: float,
) -> Decision:
    """The strategy's outputs plus pricing, limit and the post-rules, as a `Decision`."""
    score, pd, grade = scored
    hits = [dict(h) for h in outputs.get("hits") or []]
    outcome = str(outputs.get("outcome", REVIEW))
    terms = dict(outputs.get("grade_terms") or {})
    pricing: Pricing | None = None
    limit: LimitBreakdown | None = None
    post_rules: list[tuple[str, str, str]] = []
    if outcome != REJECT:
        priced_at = time.perf_counter()
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
            existing_monthly_payment_fen=request.existing_monthly_payment_fen,
            reloan_limit_fen=reloan_limit,
        )
        timings["pricing"] = (time.perf_counter() - priced_at) * 1e6
        if not pricing.profitable:
            post_rules.append(
                ("PR_BELOW_BREAK_EVEN", REJECT, "综合评估未通过 Overall assessment not passed")
            )
        if limit.limit_fen < request.product.amount_min_fen:
            post_rules.append(("LM_BELOW_MIN", REJECT, "额度不足 Credit limit too low"))
        post_rules.extend((code, REVIEW, text) for code, text in request.review_codes)
    for code, action, customer in post_rules:
        hits.append({"code": code, "action": action, "customer": customer})
        fired.append(FiredRule("定价定额 Pricing and limit", "post", code, customer, len(fired)))
    if any(action == REJECT for _, action, _ in post_rules):
        outcome = REJECT
    elif any(action == REVIEW for _, action, _ in post_rules):
        outcome = REVIEW
    approved = 0
    if outcome != REJECT and limit is not None:
        approved = min(request.amount_fen, limit.limit_fen)
    codes = [str(h.get("code")) for h in hits if h.get("action") in (REJECT, REVIEW)]
    timings["total"] = (time.perf_counter() - started) * 1e6
    return Decision(
        application_id=request.application_id,
        strategy=chosen.label,
        strategy_hash=chosen.content_hash,
        model_version=model_version,
        inputs=request.features if isinstance(request.features, dict) else dict(request.features),
        score=score,
        pd=pd,
        grade=grade,
        outcome=outcome,
        reason_codes=tuple(codes),
        customer_reasons=_customer_reasons(hits, outcome),
        fired=tuple(fired),
        pricing=pricing,
        limit=limit,
        approved_amount_fen=approved,
        timings_us=timings,
        hits=tuple(hits),
        grade_terms=terms,
    )


def decide(
    request: DecisionRequest,
    *,
    registry: StrategyRegistry,
    engine: StrategyEngine,
    scorer: Scorer,
    params: PricingParams = DEFAULT_PRICING,
    version: StrategyVersion | None = None,
) -> Decision:
    """Run the routed (or the given) strategy version for one application, with its trace."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    chosen = version or registry.version_for(request.application_id)
    scored = _score(request, scorer)
    timings["scorecard"] = (time.perf_counter() - started) * 1e6
    result = engine.evaluate(chosen, _context(request, *scored))
    timings["strategy"] = result.total_micros
    return _conclude(
        request,
        chosen,
        scorer.version,
        scored,
        result.outputs,
        list(result.fired),
        params,
        timings,
        started,
    )


def decide_many(
    requests: Sequence[DecisionRequest],
    *,
    version: StrategyVersion,
    engine: StrategyEngine,
    scorer: Scorer,
    params: PricingParams = DEFAULT_PRICING,
) -> list[Decision]:
    """Decide many applications under one version in one engine call, without traces (the
    outcome, reasons, price and limit are the same as `decide`'s; `fired` holds only the
    post-rules). For back-testing."""
    started = time.perf_counter()
    scored = [_score(r, scorer) for r in requests]
    outputs = engine.compiled(version).evaluate_batch(
        [_context(r, *s) for r, s in zip(requests, scored, strict=True)]
    )
    return [
        _conclude(r, version, scorer.version, s, o, [], params, {}, started)
        for r, s, o in zip(requests, scored, outputs, strict=True)
    ]


def request_from_inputs(
    application_id: str, inputs: Mapping[str, Any], product: Product
) -> DecisionRequest:
    """The decision request a stored decision's inputs describe (replay, back-test)."""
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


def _plain_fields(value: Any) -> dict[str, Any]:
    """A flat dataclass as JSON-safe fields (Decimals as strings); cheaper than `asdict`."""
    return {
        f.name: (str(v) if isinstance(v, Decimal) else v)
        for f in fields(value)
        for v in (getattr(value, f.name),)
    }


def decision_to_json(decision: Decision) -> dict[str, Any]:
    """A stored decision (JSON-safe: Decimals as strings)."""
    data = {
        "application_id": decision.application_id,
        "strategy": decision.strategy,
        "strategy_hash": decision.strategy_hash,
        "model_version": decision.model_version,
        "score": decision.score,
        "pd": str(decision.pd),
        "grade": decision.grade,
        "outcome": decision.outcome,
        "reason_codes": list(decision.reason_codes),
        "customer_reasons": list(decision.customer_reasons),
        "fired": [
            {
                "node": f.node,
                "node_type": f.node_type,
                "rule_id": f.rule_id,
                "description": f.description,
                "index": f.index,
                "inputs": [[k, v] for k, v in f.inputs],
            }
            for f in decision.fired
        ],
        "pricing": None if decision.pricing is None else _plain_fields(decision.pricing),
        "limit": None if decision.limit is None else _plain_fields(decision.limit),
        "approved_amount_fen": decision.approved_amount_fen,
        "timings_us": {k: round(v, 1) for k, v in decision.timings_us.items()},
        "hits": list(decision.hits),
        "grade_terms": decision.grade_terms,
    }
    return data  # everything else the engine returned is JSON already


def decision_from_json(data: Mapping[str, Any], inputs: Mapping[str, Any]) -> Decision:
    """The `Decision` a stored record describes (`inputs`: its stored features)."""
    pricing = data.get("pricing")
    limit = data.get("limit")
    return Decision(
        application_id=str(data["application_id"]),
        strategy=str(data["strategy"]),
        strategy_hash=str(data["strategy_hash"]),
        model_version=str(data["model_version"]),
        inputs=dict(inputs),
        score=float(data["score"]),
        pd=Decimal(str(data["pd"])),
        grade=str(data["grade"]),
        outcome=str(data["outcome"]),
        reason_codes=tuple(data["reason_codes"]),
        customer_reasons=tuple(data["customer_reasons"]),
        fired=tuple(
            FiredRule(
                f["node"],
                f["node_type"],
                f["rule_id"],
                f["description"],
                int(f["index"]),
                tuple((k, v) for k, v in f.get("inputs", [])),
            )
            for f in data.get("fired", [])
        ),
        pricing=None
        if pricing is None
        else Pricing(
            **{k: (Decimal(v) if isinstance(v, str) else v) for k, v in pricing.items()}  # type: ignore[arg-type]
        ),
        limit=None if limit is None else LimitBreakdown(**limit),
        approved_amount_fen=int(data["approved_amount_fen"]),
        timings_us=dict(data.get("timings_us", {})),
        hits=tuple(data.get("hits", [])),
        grade_terms=dict(data.get("grade_terms", {})),
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
