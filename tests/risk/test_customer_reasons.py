"""What a customer is told about a decision: a refusal's own reasons (a review rule that also
fired — 需人工复核 — is not a reason to someone refused), a review's for a review, each once,
at most four."""

from __future__ import annotations

from xindai.risk.decision import MAX_CUSTOMER_REASONS, _customer_reasons

HITS = [
    {"code": "AF_RING", "action": "review", "customer": "需人工复核 Needs a manual review"},
    {"code": "BU_OVERDUE", "action": "reject", "customer": "征信记录不良 Adverse credit record"},
    {"code": "AF_MULTI_LENDER_HIGH", "action": "review", "customer": "负债较高 Existing debt high"},
    {
        "code": "AF_GRAPH_OVERDUE",
        "action": "review",
        "customer": "需人工复核 Needs a manual review",
    },
    {"code": "PRICE", "action": "approve", "customer": "利率 18%"},
]


def test_a_refusal_tells_only_the_refusal_reasons() -> None:
    assert _customer_reasons(HITS, "reject") == ("征信记录不良 Adverse credit record",)


def test_a_review_tells_the_review_reasons_once_each() -> None:
    assert _customer_reasons(HITS, "review") == (
        "需人工复核 Needs a manual review",
        "负债较高 Existing debt high",
    )


def test_an_approval_tells_none_and_a_refusal_at_most_four() -> None:
    assert _customer_reasons(HITS, "approve") == ()
    many = [{"action": "reject", "customer": f"理由 {n}"} for n in range(7)]
    assert len(_customer_reasons(many, "reject")) == MAX_CUSTOMER_REASONS
