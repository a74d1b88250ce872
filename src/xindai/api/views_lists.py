"""What the console's list and detail routes answer (Pydantic response models): who am I
and the menus, borrowers, applications, payouts, loans, repayments, withholdings, the
overview, the ledger and the audit log. Conventions as in `api.views`: money in yuan strings
with two decimals, dates YYYY-MM-DD, timestamps ISO 8601, personal data masked unless the
role has `borrowers.pii.read`."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from xindai.api.views import (
    APPLICATION_STATUSES,
    DECISION_OUTCOMES,
    DECISION_PATHS,
    KYC_STATUSES,
    RATE_PATTERN,
    View,
    one_of,
    shown,
    yuan,
)
from xindai.origination.contacts import Relation
from xindai.origination.purposes import LoanPurpose
from xindai.schedules.model import PeriodUnit
from xindai.security.rbac import PERMISSIONS, ROLES
from xindai.servicing.delinquency import DEFAULT_BUCKET_SCHEME
from xindai.servicing.state import InstallmentStatus, LoanStatus
from xindai.servicing.transactions import TxnKind


class Menu(View):
    key: str
    zh: str
    en: str
    path: str = shown("the console's route", pattern=r"^/[a-z0-9/-]*$")
    icon: str = shown("an Element Plus icon name")
    children: list[Menu] = Field(description="sub-menus the staff member may see")


class Me(View):
    id: int
    username: str
    role: str = one_of(ROLES)
    role_zh: str
    role_en: str
    channel: str | None = shown("an agent's channel (it sees only that channel's customers)")
    permissions: list[str] = Field(
        description="what the role may do now",
        json_schema_extra={"items": {"enum": list(PERMISSIONS)}},
    )
    totp_active: bool = shown("a second factor is enrolled and confirmed")
    business_date: str = shown("营业日, YYYY-MM-DD")
    menus: list[Menu]


# ------------------------------------------------------------------ borrowers

PHONE_MASKED = r"^(1[3-9][0-9]\*{4}[0-9]{4})?$"
ID_MASKED = r"^([0-9]{6}\*{8}[0-9]{3}[0-9X])?$"
CARD_MASKED = r"^[0-9]{4} \*{4} \*{4} [0-9]{4}$"
REVEALABLE = ("name", "phone", "id_number")
BUCKETS = tuple(DEFAULT_BUCKET_SCHEME.names)
PAYOUT_STATUSES = ("requested", "succeeded", "failed", "cancelled")
WITHHOLDING_STATUSES = ("requested", "succeeded", "failed")


class BorrowerRow(View):
    id: int
    name: str = shown("masked: 张*")
    phone: str = shown("masked", pattern=PHONE_MASKED)
    id_number: str = shown("masked", pattern=ID_MASKED)
    channel: str | None
    kyc_status: str = one_of(KYC_STATUSES)
    liveness_passed: bool
    registered_on: str = shown("YYYY-MM-DD")
    loans: int = shown("loans ever taken")
    open_loans: int


class Acceptance(View):
    code: str
    version: int
    accepted_at: str


class Kyc(View):
    status: str = one_of(KYC_STATUSES)
    liveness_passed: bool
    birth_year: int | None = shown("the year of birth (the date itself is not shown)")
    photos: list[str] = shown("the identity photos on file: id_front, id_back, face")
    agreements: list[Acceptance]


class ContactRow(View):
    seq: int
    relation: str = one_of(Relation)
    name: str = shown("masked")
    phone: str = shown("masked", pattern=PHONE_MASKED)


class CardRow(View):
    id: int
    bank: str
    bank_code: str
    card: str = shown("masked", pattern=CARD_MASKED)
    last4: str = shown(pattern=r"^[0-9]{4}$")
    status: str = one_of(("pending", "verified", "failed"))
    created_at: str


class DecisionRow(View):
    id: int
    application_id: int
    path: str = one_of(DECISION_PATHS)
    outcome: str = one_of(DECISION_OUTCOMES)
    score: float | None
    grade: str | None
    rate: str | None
    approved_amount: str | None = yuan(optional=True)
    reasons: list[str] = shown("reason codes")
    strategy: str | None
    reviewer: str | None
    created_at: str


class AuditRow(View):
    id: int
    at: str
    actor: str
    action: str
    resource: str
    resource_id: str | None
    ip: str | None
    before: dict[str, Any] | None = shown("the state before, personal data masked")
    after: dict[str, Any] | None = shown("the state after, personal data masked")


# ------------------------------------------------------------------ applications


class ApplicationRow(View):
    id: int
    status: str = one_of(APPLICATION_STATUSES)
    product: str
    product_version: int
    amount: str = yuan("applied for")
    approved_amount: str | None = yuan("the offer; null until approved", optional=True)
    term: int
    term_unit: str | None = one_of(
        PeriodUnit, "what the term counts (null: product unknown)", optional=True
    )
    purpose: str = one_of(LoanPurpose)
    borrower_id: int
    applicant_name: str = shown("masked")
    applicant_phone: str = shown("masked", pattern=PHONE_MASKED)
    channel: str | None
    score: float | None = shown("the engine's score")
    grade: str | None
    offered_rate: str | None = shown("the offer's annual rate", pattern=RATE_PATTERN)
    loan_id: int | None
    created_at: str
    decided_at: str | None


class ApplicationDetail(View):
    application: ApplicationRow
    declared: dict[str, Any] = shown(
        "what the applicant declared: income, employment, education, city, phone-book size"
    )
    decisions: list[DecisionRow]
    review: dict[str, Any] | None = shown("the manual-review task, if it went to review")
    payouts: list[PayoutRow]
    contract: dict[str, Any] | None = shown("status, e-sign reference, signed at")


# ------------------------------------------------------------------ payouts


class PayoutRow(View):
    id: int
    application_id: int
    loan_id: int
    borrower_id: int | None
    borrower_name: str | None = shown("masked")
    product: str | None
    channel: str | None
    request_ref: str
    amount: str = yuan()
    status: str = one_of(PAYOUT_STATUSES)
    attempt: int
    reason: str | None = shown("why it failed")
    created_at: str
    settled_at: str | None


class PayoutQueried(View):
    request_ref: str
    status: str = one_of(PAYOUT_STATUSES, "after the channel's answer")
    outcomes: dict[str, int] = Field(description="what the order query did: kind:outcome → 1")
    unreachable: int = Field(description="1 when the channel could not be asked")


# ------------------------------------------------------------------ loans


class LoanRow(View):
    id: int
    borrower_id: int
    borrower_name: str | None = shown("masked")
    product: str
    status: str = one_of(LoanStatus)
    channel: str
    principal: str = yuan()
    principal_outstanding: str = yuan()
    outstanding: str = yuan("principal, interest, fees and penalty still owed")
    overdue: str = yuan("past due and unpaid")
    dpd: int = shown("days past due")
    max_dpd: int
    bucket: str = one_of(BUCKETS)
    term: int
    term_unit: str | None = one_of(
        PeriodUnit, "what the term counts (null: product unknown)", optional=True
    )
    annual_rate: str = shown(pattern=RATE_PATTERN)
    disbursed_on: str | None
    maturity_date: str | None
    closed_on: str | None


class Balances(View):
    principal: str = yuan()
    interest: str = yuan()
    fee: str = yuan()
    penalty: str = yuan()
    total: str = yuan()
    overdue: str = yuan()
    credit_balance: str = yuan("overpaid, to refund (溢缴款)")
    penalty_accrued: str = yuan("penalty accrued so far (the cap counts it)")
    payoff: str = yuan("to settle on the business date")


class ScheduleRow(View):
    number: int
    start_date: str
    due_date: str
    status: str = one_of(InstallmentStatus)
    principal_due: str = yuan()
    interest_due: str = yuan()
    fee_due: str = yuan()
    penalty_due: str = yuan()
    paid: str = yuan()
    waived: str = yuan()
    outstanding: str = yuan()


class TransactionRow(View):
    loan_id: int
    seq: int
    kind: str = one_of(TxnKind)
    value_date: str
    posted_on: str
    amount: str = yuan()
    principal: str = yuan()
    interest: str = yuan()
    fee: str = yuan()
    penalty: str = yuan()
    credit: str = yuan("to the credit balance")
    channel: str | None
    external_ref: str | None
    reversed: bool
    reverses_seq: int | None
    actor: str
    created_at: str


class JournalLineRow(View):
    business_date: str
    loan_id: int
    entry_no: int
    line_no: int
    kind: str | None = shown("the entry's kind")
    description: str | None
    account: str
    account_zh: str
    account_en: str
    channel: str | None
    debit: str = yuan()
    credit: str = yuan()
    external_ref: str | None


class LoanDetail(View):
    loan: LoanRow
    product_version: int
    booked_on: str
    grace_days: int
    extension_count: int
    deferral_count: int
    oldest_unpaid_due: str | None
    balances: Balances
    schedule: list[ScheduleRow]
    transactions: list[TransactionRow] = shown("newest first, at most 500")
    transactions_total: int
    journal: list[JournalLineRow] = shown("newest first, at most 1000 lines")
    journal_total: int
    payouts: list[PayoutRow]
    withholdings: list[WithholdingRow] = shown("newest first, at most 200")
    application_id: int | None


# ------------------------------------------------------------------ repayments


class WithholdingRow(View):
    request_ref: str
    loan_id: int
    business_date: str
    amount: str = yuan("asked of the card")
    collected: str | None = yuan("what the channel confirmed collected", optional=True)
    purpose: str = one_of(("repayment", "extension"))
    status: str = one_of(WITHHOLDING_STATUSES)
    origin: str = one_of(("borrower", "auto"), "asked by the borrower or by close of business")
    reason: str | None = shown("why it failed")
    created_at: str
    settled_at: str | None


REPAYMENT_KINDS = ("repayment", "early_settlement", "extension", "refund", "reversal")


class RepaymentRow(TransactionRow):
    borrower_id: int | None
    product: str | None


# ------------------------------------------------------------------ ledger


class TrialBalanceRow(View):
    account: str
    name_zh: str
    name_en: str
    kind: str = one_of(("asset", "liability", "equity", "income", "expense", "unknown"))
    debit: str = yuan()
    credit: str = yuan()
    balance: str = yuan("debit − credit")


class TrialBalance(View):
    as_of: str
    rows: list[TrialBalanceRow]
    total_debit: str = yuan()
    total_credit: str = yuan()
    balanced: bool


# ------------------------------------------------------------------ overview


class OverviewToday(View):
    registrations: int
    applications: int
    approvals: int
    payouts: int
    payouts_amount: str = yuan()
    repayments: int
    repayments_amount: str = yuan()


class OverviewBook(View):
    as_of: str | None = shown("the last closed business date the book is read at")
    open_loans: int
    principal_outstanding: str = yuan()
    overdue_loans: int
    overdue_principal: str = yuan("principal outstanding of loans 1+ days past due")
    overdue_rate: str = shown(
        "overdue principal ÷ principal outstanding, percent with two decimals",
        pattern=r"^[0-9]+\.[0-9]{2}$",
    )


class TrendPoint(View):
    business_date: str
    registrations: int
    applications: int
    approvals: int
    payouts: int
    payouts_amount: str = yuan()
    repayments: int
    repayments_amount: str = yuan()
    open_loans: int
    principal_outstanding: str = yuan()
    overdue_principal: str = yuan()
    overdue_rate: str = shown("percent, two decimals", pattern=r"^[0-9]+\.[0-9]{2}$")


class Overview(View):
    business_date: str
    channel: str | None = shown("an agent's overview covers its own channel only")
    today: OverviewToday
    book: OverviewBook
    trend: list[TrendPoint] = shown("the closed business dates of the last 30 days, oldest first")
    definitions: dict[str, str] = shown("how each figure is counted (zh-CN)")


# ------------------------------------------------------------------ composite views


class BorrowerDetail(View):
    borrower: BorrowerRow
    registered_ip: str | None
    kyc: Kyc
    contacts: list[ContactRow]
    cards: list[CardRow]
    applications: list[ApplicationRow]
    loans: list[LoanRow]
    decisions: list[DecisionRow]
    credit_line: dict[str, Any] | None = shown("the revolving credit line, if any")
    audit: list[AuditRow] = shown("the latest 50 entries about this borrower, newest first")


class Revealed(View):
    field: str = one_of(REVEALABLE)
    value: str = shown("unmasked; the reveal is audited")


ApplicationDetail.model_rebuild()
LoanDetail.model_rebuild()
