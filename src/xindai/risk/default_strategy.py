"""The default origination strategy shipped with the platform, built as a GoRules JDM graph.

Rules are data: each table lists (condition cells, code, action, customer-facing reason).
The risk team copies this graph, edits it in the console and creates new versions; the
graph is what is stored and versioned, not this builder.

Inputs the graph reads (named features): see `REQUIRED_FEATURES`.
Outputs: `outcome` (approve | reject | review), `hits` (every rule that fired with code,
action and customer reason), `grade_terms` (margin, LGD and limit cap of the risk grade),
`whitelisted` (repeat borrower within the reloan ladder's limit).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

REQUIRED_FEATURES: tuple[str, ...] = (
    "age",
    "age_min",
    "age_max",
    "id_valid",
    "kyc_passed",
    "liveness_passed",
    "card_verified",
    "contacts_count",
    "region_blocked",
    "amount_fen",
    "is_repeat",
    "reloan_eligible",
    "reloan_limit_fen",
    "blacklist_hit_count",
    "velocity_id_24h",
    "velocity_device_24h",
    "velocity_ip_24h",
    "device_id_count",
    "multi_lender_open_count",
    "bureau_max_overdue_days",
    "bureau_inquiries_1m",
    "graph_blacklisted_1hop",
    "graph_overdue_1hop",
    "graph_ring",
    "anomaly_score",
    "score",
    "grade",
)

#: A creditworthy first-time applicant: every feature the graph reads, nothing firing but the
#: grade's terms (for trying a strategy: `xindai risk strategy test --features …`).
SAMPLE_APPLICANT: dict[str, object] = dict(
    age=30,
    age_min=18,
    age_max=60,
    id_valid=True,
    kyc_passed=True,
    liveness_passed=True,
    card_verified=True,
    contacts_count=2,
    region_blocked=False,
    amount_fen=300_000,
    is_repeat=False,
    reloan_eligible=True,
    reloan_limit_fen=250_000,
    blacklist_hit_count=0,
    velocity_id_24h=1,
    velocity_device_24h=1,
    velocity_ip_24h=1,
    device_id_count=1,
    multi_lender_open_count=0,
    bureau_max_overdue_days=0,
    bureau_inquiries_1m=1,
    graph_blacklisted_1hop=0,
    graph_overdue_1hop=0,
    graph_ring=False,
    anomaly_score=0.1,
    score=640,
    grade="B",
)

# (node id, name, [(field, condition), …] per rule, code, action, customer reason zh / en)
ADMISSION = [
    (
        [("age", "< age_min")],
        "AD_AGE_BELOW_MIN",
        "reject",
        "年龄不符合产品要求 Age outside the product's range",
    ),
    (
        [("age", "> age_max")],
        "AD_AGE_ABOVE_MAX",
        "reject",
        "年龄不符合产品要求 Age outside the product's range",
    ),
    (
        [("id_valid", "false")],
        "AD_ID_INVALID",
        "reject",
        "身份信息无效 Identity could not be verified",
    ),
    (
        [("kyc_passed", "false")],
        "AD_KYC_INCOMPLETE",
        "reject",
        "实名认证未完成 Identity check incomplete",
    ),
    (
        [("liveness_passed", "false")],
        "AD_LIVENESS_FAILED",
        "reject",
        "人脸识别未通过 Face check failed",
    ),
    (
        [("card_verified", "false")],
        "AD_CARD_UNVERIFIED",
        "reject",
        "银行卡未验证 Bank card not verified",
    ),
    (
        [("contacts_count", "< 2")],
        "AD_CONTACTS_MISSING",
        "reject",
        "紧急联系人不足 Not enough emergency contacts",
    ),
    ([("region_blocked", "true")], "AD_REGION", "reject", "所在地区暂不支持 Region not served"),
]
ANTIFRAUD = [
    (
        [("blacklist_hit_count", "> 0")],
        "AF_BLACKLIST",
        "reject",
        "综合评估未通过 Overall assessment not passed",
    ),
    (
        [("velocity_id_24h", "> 3")],
        "AF_VELOCITY_ID",
        "reject",
        "申请过于频繁 Too many recent applications",
    ),
    (
        [("velocity_device_24h", "> 3")],
        "AF_VELOCITY_DEVICE",
        "reject",
        "申请过于频繁 Too many recent applications",
    ),
    ([("velocity_ip_24h", "> 10")], "AF_VELOCITY_IP", "review", "需人工复核 Needs a manual review"),
    (
        [("device_id_count", "> 3")],
        "AF_DEVICE_SHARED",
        "reject",
        "设备存在风险 Device not accepted",
    ),
    (
        [("multi_lender_open_count", ">= 6")],
        "AF_MULTI_LENDER",
        "reject",
        "负债过高 Existing debt too high",
    ),
    (
        [("multi_lender_open_count", "[4..6)")],
        "AF_MULTI_LENDER_HIGH",
        "review",
        "负债较高 Existing debt high",
    ),
    (
        [("bureau_max_overdue_days", "> 30")],
        "BU_OVERDUE",
        "reject",
        "征信记录不良 Adverse credit record",
    ),
    (
        [("bureau_inquiries_1m", "> 10")],
        "BU_INQUIRIES",
        "review",
        "近期查询较多 Many recent credit inquiries",
    ),
    (
        [("graph_blacklisted_1hop", "> 0")],
        "AF_GRAPH_BLACKLIST",
        "review",
        "需人工复核 Needs a manual review",
    ),
    (
        [("graph_overdue_1hop", "> 2")],
        "AF_GRAPH_OVERDUE",
        "review",
        "需人工复核 Needs a manual review",
    ),
    ([("graph_ring", "true")], "AF_RING", "review", "需人工复核 Needs a manual review"),
    ([("anomaly_score", "> 0.8")], "AF_ANOMALY", "review", "需人工复核 Needs a manual review"),
]
SCORE = [
    ([("score", "< 520")], "SC_LOW", "reject", "综合评分不足 Credit score too low"),
    ([("score", "[520..560)")], "SC_GREY", "review", "需人工复核 Needs a manual review"),
]
RELOAN = [
    (
        [("is_repeat", "true"), ("reloan_eligible", "false")],
        "RL_REFUSED",
        "reject",
        "历史还款记录不符合复贷要求 Repayment history does not qualify",
    ),
    (
        [("is_repeat", "true"), ("reloan_eligible", "true"), ("amount_fen", "> reloan_limit_fen")],
        "RL_ABOVE_LIMIT",
        "review",
        "超出复贷额度 Above the reloan limit",
    ),
]
# grade → target margin, LGD, limit cap in fen
GRADE_TERMS = [
    ("A", "0.03", "0.70", 2_000_000),
    ("B", "0.04", "0.75", 1_000_000),
    ("C", "0.05", "0.80", 500_000),
    ("D", "0.06", "0.85", 300_000),
    ("E", "0.07", "0.90", 100_000),
]


def _node(
    node_id: str, node_type: str, name: str, x: int, content: dict[str, Any] | None = None
) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": node_id,
        "type": node_type,
        "name": name,
        "position": {"x": x, "y": 100},
    }
    if content is not None:
        node["content"] = content
    return node


def _rule_table(node_id: str, name: str, x: int, rules: list[Any]) -> dict[str, Any]:
    fields: list[str] = []
    for conditions, *_ in rules:
        for field, _ in conditions:
            if field not in fields:
                fields.append(field)
    inputs = [{"id": f"{node_id}_in_{i}", "name": f, "field": f} for i, f in enumerate(fields)]
    outputs = [
        {"id": f"{node_id}_out_{key}", "name": key, "field": key}
        for key in ("code", "action", "customer")
    ]
    rows = []
    for conditions, code, action, customer in rules:
        row = {"_id": code, "_description": customer}
        cells = dict(conditions)
        for column in inputs:
            row[column["id"]] = cells.get(column["field"], "")
        # JSON string literals are valid zen strings and survive quotes in the text
        row[f"{node_id}_out_code"] = json.dumps(code, ensure_ascii=False)
        row[f"{node_id}_out_action"] = json.dumps(action)
        row[f"{node_id}_out_customer"] = json.dumps(customer, ensure_ascii=False)
        rows.append(row)
    return _node(
        node_id,
        "decisionTableNode",
        name,
        x,
        {
            "hitPolicy": "collect",
            "passThrough": True,
            "outputPath": f"{node_id}_hits",
            "inputs": inputs,
            "outputs": outputs,
            "rules": rows,
        },
    )


def _grade_table(x: int) -> dict[str, Any]:
    rows = []
    for grade, margin, lgd, limit in GRADE_TERMS:
        rows.append(
            {
                "_id": f"GRADE_{grade}",
                "_description": f"grade {grade}",
                "g_in": json.dumps(grade),
                "g_margin": json.dumps(margin),
                "g_lgd": json.dumps(lgd),
                "g_limit": str(limit),
            }
        )
    return _node(
        "grade",
        "decisionTableNode",
        "定价定额 Pricing and limit by grade",
        x,
        {
            "hitPolicy": "first",
            "passThrough": True,
            "outputPath": "grade_terms",
            "inputs": [{"id": "g_in", "name": "grade", "field": "grade"}],
            "outputs": [
                {"id": "g_margin", "name": "margin", "field": "margin"},
                {"id": "g_lgd", "name": "lgd", "field": "lgd"},
                {"id": "g_limit", "name": "limit_cap_fen", "field": "limit_cap_fen"},
            ],
            "rules": rows,
        },
    )


OUTCOME_EXPRESSIONS = [
    (
        "whitelisted",
        "is_repeat == true and reloan_eligible == true and amount_fen <= reloan_limit_fen",
    ),
    ("hits", "flatMap([admission_hits, antifraud_hits, score_hits, reloan_hits], #)"),
    ("rejects", "map(filter($.hits, #.action == 'reject'), #.code)"),
    (
        "reviews",
        "map(filter($.hits, #.action == 'review' and "
        "not ($.whitelisted and #.code == 'SC_GREY')), #.code)",
    ),
    ("outcome", "len($.rejects) > 0 ? 'reject' : (len($.reviews) > 0 ? 'review' : 'approve')"),
]


def default_strategy_graph() -> dict[str, Any]:
    """The JDM graph of the default strategy."""
    nodes = [
        _node("request", "inputNode", "申请 Request", 0),
        _rule_table("admission", "准入规则 Admission", 200, ADMISSION),
        _rule_table("antifraud", "反欺诈 Anti-fraud", 400, ANTIFRAUD),
        _rule_table("score", "评分切分 Score cut-offs", 600, SCORE),
        _rule_table("reloan", "复贷 Reloan ladder", 800, RELOAN),
        _grade_table(1000),
        _node(
            "outcome",
            "expressionNode",
            "结论 Outcome",
            1200,
            {
                "passThrough": True,
                "expressions": [
                    {"id": f"expr_{key}", "key": key, "value": value}
                    for key, value in OUTCOME_EXPRESSIONS
                ],
            },
        ),
        _node("response", "outputNode", "结果 Response", 1400),
    ]
    order = [n["id"] for n in nodes]
    edges = [
        {"id": f"edge_{a}_{b}", "sourceId": a, "targetId": b, "type": "edge"}
        for a, b in itertools.pairwise(order)
    ]
    return {"contentType": "application/vnd.gorules.decision", "nodes": nodes, "edges": edges}
