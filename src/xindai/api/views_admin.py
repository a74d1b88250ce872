"""What the admin routes answer (Pydantic response models): staff, borrowers as staff see
them, decisions, payouts, blacklists and the review queue. Conventions as in `api.views`."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from xindai.api.views import (
    APPLICATION_STATUSES,
    DECISION_OUTCOMES,
    DECISION_PATHS,
    KYC_STATUSES,
    PHONE_SHOWN_PATTERN,
    RATE_PATTERN,
    View,
    one_of,
    shown,
    yuan,
)
from xindai.origination.contacts import Relation
from xindai.origination.purposes import LoanPurpose
from xindai.risk.antifraud.blacklist import BlacklistKind
from xindai.risk.review_rules import CHECKLIST_ITEMS, STATUSES
from xindai.schedules.model import PeriodUnit
from xindai.security.rbac import ROLES

ID_SHOWN_PATTERN = r"^([0-9]{6}(\*{8}|[0-9]{8})[0-9]{3}[0-9X])?$"
"""A resident ID as shown: whole, or masked 110101********4578 (empty when none is known)."""


class StaffSession(View):
    token: str = shown("bearer token for the Authorization header")
    role: str = one_of(ROLES)
    expires_at: str


class StaffCreated(View):
    id: int
    username: str
    role: str = one_of(ROLES)
    totp_uri: str | None = Field(
        default=None, description="otpauth:// URI, shown once, when a second factor was enrolled"
    )


class TotpEnrolment(View):
    """A new second factor, shown once; pending until confirmed with a first code from it."""

    totp_uri: str = shown("otpauth:// URI for the authenticator app")
    secret: str = shown("the same secret, base32, to type in by hand")
    status: str = one_of(("pending",), "active only after POST /me/totp/confirm")


class TotpConfirmed(View):
    status: str = one_of(("active",), "the new secret is now the second factor")


class BorrowerAsStaff(View):
    id: int
    name: str | None = shown("whole with `borrowers.pii.read`, else masked")
    phone: str = shown(pattern=PHONE_SHOWN_PATTERN)
    id_number: str = shown(pattern=ID_SHOWN_PATTERN)
    kyc_status: str = one_of(KYC_STATUSES)


class PayoutRequested(View):
    request_ref: str
    attempt: int


# ------------------------------------------------------------------ decisions


class ExplainedApplication(View):
    id: int
    status: str = one_of(APPLICATION_STATUSES)
    product: str
    amount_fen: int
    term: int
    approved_amount_fen: int | None
    offered_rate: str | None
    created_at: str


class ExplainedDecision(View):
    id: int
    path: str = one_of(DECISION_PATHS)
    outcome: str = one_of(DECISION_OUTCOMES)
    reviewer: str | None
    created_at: str
    reason_codes: list[str]
    customer_reasons: list[str]
    strategy: str | None = shown("name@vN")
    model_version: str | None
    score: float | None
    pd: str | None
    grade: str | None
    rate: str | None
    approved_amount_fen: int | None
    detail: dict[str, Any] = shown("fired rules, price, limit, timings")
    inputs: dict[str, Any] | None = shown("the features as at decision time")


class Explanation(View):
    application: ExplainedApplication
    decisions: list[ExplainedDecision]


# ------------------------------------------------------------------ blacklist


class BlacklistEntry(View):
    """An entry as the screens show it: the masked identifier, never its hash."""

    id: int
    kind: str = one_of(BlacklistKind)
    value_masked: str
    reason: str
    source: str = one_of(("manual", "import"))
    status: str = one_of(("active", "pending", "expired", "removed"))
    created_by: str
    created_at: str | None
    expires_at: str | None
    removed_at: str | None
    removed_by: str | None
    removed_reason: str | None


# ------------------------------------------------------------------ review queue


class ReviewApplication(View):
    id: int
    status: str = one_of(APPLICATION_STATUSES)
    product: str
    product_version: int
    amount: str = yuan()
    amount_fen: int
    term: int
    purpose: str = one_of(LoanPurpose)
    created_at: str | None
    borrower_id: int
    channel: str | None
    applicant_name: str
    applicant_phone: str = shown(pattern=PHONE_SHOWN_PATTERN)


class ReviewApplicationDetail(ReviewApplication):
    applicant_id_number: str = shown(pattern=ID_SHOWN_PATTERN)
    term_unit: str = one_of(PeriodUnit, "what the term counts")


class DecisionSummary(View):
    id: int
    outcome: str = one_of(DECISION_OUTCOMES)
    score: float | None
    grade: str | None
    pd: str | None
    rate: str | None
    approved_amount: str | None = yuan(optional=True)
    customer_reasons: list[str]


class DecisionDetail(DecisionSummary):
    reason_codes: list[str]
    fired_rules: list[dict[str, Any]] = shown("node, rule_id, description, inputs")
    hits: list[dict[str, Any]] = shown("code, action, customer text")
    strategy: str | None
    model_version: str | None
    at: str | None


class TaskTimer(View):
    application_id: int
    status: str = one_of(STATUSES)
    reasons: list[str] = shown("why the engine referred it")
    queued_at: str | None
    due_at: str | None
    minutes_left: int | None = shown("before the SLA deadline; null while the clock is stopped")
    overdue: bool
    claimed_by: str | None
    claimed_at: str | None


class QueuedTask(TaskTimer):
    application: ReviewApplication
    decision: DecisionSummary | None


class ReviewTask(TaskTimer):
    """A task with its checklist, the request for more and the reply, and the outcome."""

    checklist: dict[str, bool | str | None] = shown(
        f"item → result (null: not done): {', '.join(CHECKLIST_ITEMS)}"
    )
    info_request: str | None
    info_reply: str | None
    outcome: str | None = one_of(("approve", "reject"), optional=True)
    decided_by: str | None
    decided_at: str | None
    note: str | None


class Offer(View):
    max_amount: str = yuan()
    max_amount_fen: int
    rate: str = shown(pattern=RATE_PATTERN)


class ChecklistItem(View):
    item: str = one_of(tuple(CHECKLIST_ITEMS))
    label: dict[str, str] = shown("zh-CN and en")
    required_to_approve: bool


class ReviewContact(View):
    seq: int
    relation: str = one_of(Relation)
    name: str
    phone: str = shown(pattern=PHONE_SHOWN_PATTERN)


class ReviewHistory(View):
    path: str = one_of(DECISION_PATHS)
    outcome: str = one_of(DECISION_OUTCOMES)
    reviewer: str | None
    reasons: list[str]
    at: str | None


class ReviewDetail(ReviewTask):
    application: ReviewApplicationDetail
    decision: DecisionDetail | None
    offer: Offer
    checklist_items: list[ChecklistItem]
    contacts: list[ReviewContact]
    history: list[ReviewHistory]
    unmasked: bool = shown("personal data shown whole (`borrowers.pii.read`)")


# ------------------------------------------------------------------ payments and refunds

REFUND_STATUSES = ("open", "refunding", "refunded")


class RefundTaskView(View):
    id: int
    borrower_id: int
    loan_id: int
    amount: str = yuan()
    source_ref: str = shown("the collection whose money is parked")
    reason: str = one_of(
        (
            "loan_settled",
            "overpaid",
            "loan_closed",
            "extension_no_longer_applies",
            "partial_extension_fee",
        ),
        "why it could not be applied to the loan",
    )
    status: str = one_of(REFUND_STATUSES)
    refund_ref: str | None = shown("the refund payout, once sent")
    created_at: str
    done_at: str | None = None
    done_by: str | None = None


class PendingPayment(View):
    kind: str = one_of(("payout", "withholding"))
    request_ref: str
    loan_id: int
    amount: str = yuan()
    purpose: str = one_of(("payout", "repayment", "extension"))
    created_at: str


class ResolveResult(View):
    outcomes: dict[str, int] = Field(description="request kind:outcome → how many")
    unreachable: int = Field(description="requests the channel could not be asked about")
