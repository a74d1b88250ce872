"""What the strategy routes answer: versions, a version's graph, a decision tried on inputs,
back-test runs and their reports. Conventions as in `api.views`."""

from __future__ import annotations

from typing import Any

from xindai.api.views import RATE_PATTERN, View, one_of, shown
from xindai.risk.decision import APPROVE, REJECT, REVIEW
from xindai.risk.strategies import ROLES, RUN_STATUSES


class StrategyVersion(View):
    name: str
    version: int
    label: str = shown("name@vN, as decisions name it")
    role: str = one_of(ROLES, "champion: live; challenger: a share of traffic; previous: once live")
    share: str = shown("of applications it decides now", pattern=RATE_PATTERN)
    content_hash: str = shown("SHA-256 of the canonical graph")
    note: str
    created_by: str
    created_at: str
    promoted_at: str | None


class GraphNode(View):
    id: str | None
    type: str | None
    name: str


class GraphEdge(View):
    id: str | None
    source: str | None
    target: str | None


class StrategyDetail(StrategyVersion):
    graph: dict[str, Any] = shown("the JDM decision graph (GoRules): nodes, edges")
    nodes: list[GraphNode]
    edges: list[GraphEdge]


class TestedDecision(View):
    application_id: str
    strategy: str
    strategy_hash: str
    model_version: str
    score: float
    pd: str
    grade: str
    outcome: str = one_of((APPROVE, REJECT, REVIEW))
    reason_codes: list[str]
    customer_reasons: list[str]
    fired: list[dict[str, Any]] = shown("node, node_type, rule_id, description, index, inputs")
    pricing: dict[str, Any] | None = shown("funding, operating, expected loss, margin, rate …")
    limit: dict[str, Any] | None = shown("grade cap, affordability, product max → limit_fen")
    approved_amount_fen: int
    expected_loss_fen: int
    timings_us: dict[str, float]
    hits: list[dict[str, Any]]
    grade_terms: dict[str, Any]


class Difference(View):
    field: str
    stored: str
    now: str


class StrategyTest(View):
    decision: TestedDecision
    stored: TestedDecision | None = None
    differences: list[Difference] | None = None


class BacktestRun(View):
    id: int
    strategy: str
    version: int
    live_version: int
    first_day: str
    last_day: str
    status: str = one_of(RUN_STATUSES)
    applications: int = shown("decided so far")
    error: str | None
    requested_by: str
    requested_at: str
    finished_at: str | None


class BacktestDetail(BacktestRun):
    report: dict[str, Any] | None = shown(
        "candidate and live: applications, approve/review/reject rates, grades, approved "
        "and expected loss, bad rate where known; swaps (live → candidate); speed"
    )
