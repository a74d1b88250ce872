"""What the borrower app's routes answer (api.borrower_app): products, the home screen,
messages, cards, the masked profile, application progress, repayment options and receipts.
Conventions as in `api.views` (yuan strings with two decimals, rates as decimal fractions,
ISO dates, `additionalProperties: false`)."""

from __future__ import annotations

from pydantic import Field

from xindai.api.views import (
    APPLICATION_STATUSES,
    KYC_STATUSES,
    PHONE_SHOWN_PATTERN,
    RATE_PATTERN,
    CreditLine,
    View,
    one_of,
    shown,
    yuan,
)
from xindai.origination.application_progress import NEXT_ACTIONS
from xindai.servicing.state import LoanStatus

CARD_STATUSES = ("pending", "verified", "failed")


class Bilingual(View):
    """A message for the borrower in both languages."""

    zh_cn: str = Field(alias="zh-CN")
    en: str


class Refusal(View):
    """Why an option is not available: a stable code and the message in both languages."""

    code: str
    zh_cn: str = Field(alias="zh-CN")
    en: str


# ------------------------------------------------------------------ products, home


class TermCost(View):
    term: int
    apr_min: str = shown(
        "comprehensive annualised cost (综合年化成本), nominal, lowest over the amounts",
        pattern=RATE_PATTERN,
    )
    apr_max: str = shown("… highest over the amounts", pattern=RATE_PATTERN)
    apr_effective_max: str = shown("effective annual rate, highest", pattern=RATE_PATTERN)


class AppProduct(View):
    """A product as the app offers it, with its cost at every term on the business date."""

    code: str
    version: int
    name: str
    type: str = one_of(("single", "installment"))
    method: str
    period_unit: str = one_of(("day", "week", "month"))
    terms: list[int]
    amount_min: str = yuan()
    amount_max: str = yuan()
    amount_step: str = yuan()
    annual_rate: str = shown("nominal annual interest rate", pattern=RATE_PATTERN)
    day_count: str
    upfront_fee_rate: str = shown(pattern=RATE_PATTERN)
    upfront_fee_mode: str
    grace_days: int
    penalty_daily_rate: str = shown(pattern=RATE_PATTERN)
    overdue_fee: str = yuan()
    early_settlement: bool
    early_settlement_fee_rate: str = shown(pattern=RATE_PATTERN)
    extension: bool = shown("展期 offered (single-payment products)")
    extension_days: int | None
    extension_fee_rate: str = shown(pattern=RATE_PATTERN)
    extension_max: int
    costs: list[TermCost]
    apr_min: str = shown("lowest comprehensive annualised cost", pattern=RATE_PATTERN)
    apr_max: str = shown("highest comprehensive annualised cost", pattern=RATE_PATTERN)
    eligible: bool = shown("the borrower's age is within the product's range")
    ineligible_reason: Refusal | None


class Limit(View):
    kind: str = one_of(("credit_line", "products"), "the credit line's, or the products' range")
    amount: str = yuan("what may be borrowed now (the headline figure)")
    min: str | None = yuan("smallest amount (products)", optional=True)
    max: str = yuan()
    can_draw: bool = shown("a draw on the credit line is possible now")


class NextDue(View):
    loan_id: int
    installment: int
    due_date: str
    amount: str = yuan("that installment's outstanding")
    days_left: int = shown("negative when past due")
    overdue: bool
    due_now: str = yuan("due on or before the business date, all open loans")
    open_loans: int


class Steps(View):
    agreements: bool
    kyc: bool
    contacts: bool
    card: bool


class ApplicationRef(View):
    id: int
    status: str = one_of(APPLICATION_STATUSES)


class Message(View):
    id: int
    sent_at: str
    kind: str = shown("login, review, reminder, collection, notice, marketing")
    template: str
    text: str | None = shown("as sent; verification codes shown as ******")
    phone: str = shown("the number it went to, masked")


class Home(View):
    business_date: str
    limit: Limit
    credit_line: CreditLine | None
    products: list[AppProduct]
    next_due: NextDue | None
    steps: Steps = shown("onboarding steps done: 实名 → 联系人 → 绑卡")
    application: ApplicationRef | None = shown("the application in progress, if any")
    messages: list[Message] = shown("the latest three")


# ------------------------------------------------------------------ 我的


class CardView(View):
    card_id: int
    bank: str
    bank_code: str
    last4: str = shown(pattern=r"^[0-9]{4}$")
    status: str = one_of(CARD_STATUSES)
    phone: str = shown("reserved phone, masked", pattern=PHONE_SHOWN_PATTERN)
    created_at: str


class BinLookup(View):
    bank_code: str | None = shown("null: the BIN is not a supported bank's")
    bank_name: str | None
    bank_short_name: str | None
    bank_name_en: str | None
    kind: str | None = one_of(("debit", "credit"), optional=True)
    length: int | None = shown("the usual number of digits")
    supported: bool = shown("a debit card of a supported bank: it can receive a loan")
    complete: bool = shown("as many digits as such a card has")
    luhn_valid: bool | None = shown("the check digit, once complete")
    message: Bilingual | None


class Bank(View):
    code: str
    name: str
    short_name: str
    name_en: str


class ContactShown(View):
    name: str = shown("masked: 张*")
    phone: str = shown("masked", pattern=PHONE_SHOWN_PATTERN)
    relation: str


class AcceptedAgreement(View):
    code: str
    version: int
    title: str
    accepted_at: str
    current: bool = shown("the version in force")


class MaskedProfile(View):
    id: int
    name: str | None = shown("masked: 张*")
    phone: str = shown("masked", pattern=PHONE_SHOWN_PATTERN)
    id_number: str | None = shown("masked: 110101********4578")
    kyc_status: str = one_of(KYC_STATUSES)
    liveness_passed: bool
    photos: list[str] = shown("identity photos on file: face, id_back, id_front")
    registered_on: str
    contacts: list[ContactShown]
    agreements: list[AcceptedAgreement]


# ------------------------------------------------------------------ applications


class ApplicationSummary(View):
    id: int
    status: str = one_of(APPLICATION_STATUSES)
    stage: Bilingual
    product: str
    amount: str = yuan("applied for")
    approved_amount: str | None = yuan("the offer", optional=True)
    term: int
    apr: str = shown(pattern=RATE_PATTERN)
    created_at: str
    decided_at: str | None
    loan_id: int | None
    credit_line_draw: bool


class ReviewProgress(View):
    status: str = one_of(("queued", "claimed", "more_info", "done"))
    queued_at: str
    expected_by: str | None = shown("decision due by (SLA); null while waiting for you")
    minutes_left: int | None
    sla_minutes: int
    awaiting_reply: bool = shown("the reviewer asked for more: answer with POST more-info")
    request: str | None = shown("what the reviewer asks for")
    decided_at: str | None


class ContractState(View):
    status: str = one_of(("issued", "signed"))
    signed_at: str | None
    sha256: str = shown("SHA-256 of the PDF (X-Content-SHA256 of contract.pdf)")


class PayoutProgress(View):
    status: str = one_of(("requested", "succeeded", "failed", "mismatch", "cancelled"))
    amount: str = yuan("to the card")
    attempt: int
    bank: str | None
    last4: str | None
    requested_at: str
    settled_at: str | None
    reason: Refusal | None = shown("when it failed")


class Progress(View):
    id: int
    status: str = one_of(APPLICATION_STATUSES)
    stage: Bilingual
    next_action: str = one_of(NEXT_ACTIONS)
    created_at: str
    decided_at: str | None
    reasons: list[str] = shown("for the customer, when rejected (at most four)")
    review: ReviewProgress | None
    contract: ContractState | None
    payout: PayoutProgress | None
    loan_id: int | None


# ------------------------------------------------------------------ repayment


class CurrentDueOption(View):
    amount: str = yuan("what mode current_due asks")
    due_date: str | None
    installments: list[int]
    available: bool


class PayoffOption(View):
    amount: str = yuan("what mode payoff asks: the payoff less collections in flight")
    total: str = yuan("servicing's payoff quote for the business date")
    principal: str = yuan()
    interest: str = yuan()
    fee: str = yuan()
    penalty: str = yuan()
    settlement_fee: str = yuan()
    interest_saved: str = yuan("contractual interest no longer charged")
    available: bool


class AmountOption(View):
    min: str = yuan()
    max: str = yuan("more is refused (REPAYMENT_EXCEEDS_OWED)")
    available: bool


class ExtensionOption(View):
    allowed: bool = shown("the product offers extension")
    available: bool = shown("it can be asked for now")
    amount: str | None = yuan("what mode extension asks: fee + interest so far", optional=True)
    fee: str | None = yuan(optional=True)
    interest: str | None = yuan(optional=True)
    days: int | None
    new_due_date: str | None
    used: int = shown("extensions taken or in flight")
    max: int
    refusal: Refusal | None


class RepaymentOptions(View):
    loan_id: int
    as_of: str = shown("the business date the amounts are for")
    status: str = one_of(LoanStatus)
    in_flight: str = yuan("collections awaiting the channel's result")
    max_amount: str = yuan("the most that may be asked now")
    current_due: CurrentDueOption
    payoff: PayoffOption
    any_amount: AmountOption
    extension: ExtensionOption


class Applied(View):
    principal: str = yuan()
    interest: str = yuan()
    fee: str = yuan()
    penalty: str = yuan()


class Receipt(View):
    reference: str | None
    origin: str = one_of(("borrower", "auto", "offline"), "you, automatic withholding, other")
    purpose: str = one_of(("repayment", "extension"))
    status: str = one_of(("requested", "succeeded", "failed"))
    asked: str | None = yuan("asked of the card", optional=True)
    amount: str = yuan("collected (0.00 until the channel confirms)")
    applied: Applied | None = shown("how the loan was credited")
    credit: str | None = yuan("to the credit balance (溢缴款)", optional=True)
    reversed: bool
    business_date: str
    requested_at: str
    settled_at: str | None
    reason: Refusal | None = shown("why it failed or was credited otherwise")


__all__ = [
    "AppProduct",
    "Bank",
    "BinLookup",
    "CardView",
    "Home",
    "MaskedProfile",
    "Message",
    "Progress",
    "Receipt",
    "RepaymentOptions",
]
