"""What the routes answer (Pydantic response models), separate from the request bodies
(`schemas`) and the ORM models; the JSON is the services' views, field for field.

Amounts are yuan strings with two decimals (`AMOUNT_PATTERN`), dates ISO 8601. Enumerations
(statuses, kinds, modes) are taken from the code that sets them and documented with `enum`;
like keys a model does not list, a value outside them is not refused at run time (an
answer is never turned into a 500 by its documentation), but the schemathesis run in the
test suite checks every answer against this document (`additionalProperties: false`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from xindai.origination.agreements import AgreementCode
from xindai.origination.purposes import LoanPurpose
from xindai.servicing.state import InstallmentStatus, LoanStatus

AMOUNT_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"
"""An amount the API answers with: yuan, exactly two decimals (format_yuan)."""
RATE_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
"""A rate as a decimal fraction: "0.180000"."""
PHONE_SHOWN_PATTERN = r"^(1[3-9][0-9](\*{4}|[0-9]{4})[0-9]{4})?$"
"""A mainland mobile as shown: whole, or masked 138****5678 (empty when none is known)."""

APPLICATION_STATUSES = (
    "deciding",
    "approved",
    "rejected",
    "review",
    "signed",
    "disbursing",
    "disbursed",
    "payout_failed",
    "cancelled",
)
"""Where an application is (origination.applications, risk.review, origination.journey)."""
KYC_STATUSES = ("none", "verified")
DECISION_OUTCOMES = ("approve", "reject", "review")
DECISION_PATHS = ("engine", "manual_review", "credit_line")


def shown(description: str | None = None, **schema: Any) -> Any:
    """A field documented with extra JSON-schema keywords (enum, pattern …) that are not
    enforced when the answer is built."""
    return Field(description=description, json_schema_extra=schema or None)


def yuan(description: str = "yuan, two decimals", *, optional: bool = False) -> Any:
    if optional:
        return Field(default=None, description=description, json_schema_extra=_nullable_amount)
    return shown(description, pattern=AMOUNT_PATTERN, examples=["3000.00"])


def _nullable_amount(schema: dict[str, Any]) -> None:
    for option in schema.get("anyOf", []):
        if option.get("type") == "string":
            option["pattern"] = AMOUNT_PATTERN


def one_of(values: Any, description: str | None = None, *, optional: bool = False) -> Any:
    """A string field whose values are `values` (an enum class or strings), documented."""
    allowed = [getattr(v, "value", v) for v in values]
    if optional:
        return Field(
            default=None, description=description, json_schema_extra={"enum": [*allowed, None]}
        )
    return shown(description, enum=allowed)


class View(BaseModel):
    """A response model: keys it does not list are passed on (and flagged by the tests)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": False})


# ------------------------------------------------------------------ borrower: login, profile


class CodeSent(View):
    sent: bool
    expires_at: str = shown("when the code stops working (ISO 8601)")


class BorrowerSession(View):
    token: str = shown("bearer token for the Authorization header")
    borrower_id: int
    new_borrower: bool = shown("registered by this login")
    expires_at: str


class Profile(View):
    id: int
    name: str | None = shown("masked: 张*")
    phone: str = shown("masked", pattern=PHONE_SHOWN_PATTERN)
    kyc_status: str = one_of(KYC_STATUSES)


class Agreement(View):
    code: str = one_of(AgreementCode)
    version: int
    title: str
    body: str = shown("the text in Chinese")


class Acceptance(View):
    code: str = one_of(AgreementCode)
    version: int
    accepted_at: str


class Identity(View):
    kyc_status: str = one_of(KYC_STATUSES)
    name: str = shown("masked: 张*")
    birth_date: str


class ContactsSaved(View):
    contacts: int = shown("how many emergency contacts are on file")


class CardStarted(View):
    card_id: int
    bank: str
    last4: str = shown(pattern=r"^[0-9]{4}$")
    status: str = one_of(("sms_sent",), "a code was sent by SMS to the card's phone")


class Card(View):
    card_id: int
    status: str = one_of(("verified",))
    bank: str
    last4: str = shown(pattern=r"^[0-9]{4}$")


# ------------------------------------------------------------------ quote, applications


class Installment(View):
    number: int
    due_date: str
    principal: str = yuan()
    interest: str = yuan()
    fee: str = yuan()
    total: str = yuan()


class Schedule(View):
    """A schedule and its comprehensive annualised cost (products.disclosure.schedule_json)."""

    method: str
    principal: str = yuan()
    disbursed: str = yuan("what reaches the borrower's card")
    upfront_fee: str = yuan()
    upfront_fee_mode: str | None = None
    installments: list[Installment]
    total_interest: str = yuan()
    total_fee: str = yuan()
    total_payment: str = yuan()
    apr: str = shown("comprehensive annualised cost (综合年化成本), nominal", pattern=RATE_PATTERN)
    apr_effective: str = shown("effective annual rate", pattern=RATE_PATTERN)


class Quote(Schedule):
    product: str
    term: int


class Application(View):
    """An application; when approved, the offer (amount, rate, schedule); when rejected, at
    most four reasons for the customer."""

    id: int
    status: str = one_of(APPLICATION_STATUSES)
    product: str
    amount: str = yuan("applied for")
    term: int
    purpose: str = one_of(LoanPurpose)
    approved_amount: str | None = yuan("the offer; null until approved", optional=True)
    annual_rate: str = shown("the product's nominal annual rate", pattern=RATE_PATTERN)
    apr: str = shown(pattern=RATE_PATTERN)
    loan_id: int | None
    reasons: list[str] = shown("for the customer, when rejected")
    quote: Schedule


# ------------------------------------------------------------------ loans, repayment


class LoanInstallment(View):
    number: int
    due_date: str
    total: str = yuan()
    paid: str = yuan()
    outstanding: str = yuan()
    status: str = one_of(InstallmentStatus)


class Loan(View):
    id: int
    status: str = one_of(LoanStatus)
    principal: str = yuan()
    outstanding: str = yuan()
    due_now: str = yuan("due on or before the business date")
    next_due_date: str | None
    next_due: str = yuan()
    payoff: str = yuan("to settle today")
    dpd: int = shown("days past due")
    installments: list[LoanInstallment]


class RepaymentRequested(View):
    request_ref: str = shown("the collection request at the payment channel")
    amount: str = yuan("asked of the card")
    status: str = one_of(("requested",), "the loan is credited when the channel confirms")
    purpose: str = one_of(("repayment", "extension"))


# ------------------------------------------------------------------ credit line, review


class CreditLine(View):
    id: int
    borrower_id: int
    status: str = one_of(("active", "frozen", "closed"))
    level: int = shown("rung of the reloan ladder")
    limit: str = yuan()
    outstanding: str = yuan()
    available: str = yuan()
    expires_on: str = shown("the last day it can be drawn on")
    expired: bool
    can_draw: bool
    granted_at: str
    freeze_reason: str | None


class InfoRequest(View):
    """What the borrower sees of a reviewer's request for more (never who asked)."""

    application_id: int
    status: str = one_of(("none", "awaiting_reply", "answered"))
    request: str | None
    reply: str | None


class CallbackResult(View):
    ok: bool
    outcome: str = shown(
        "what was done: duplicate, not_confirmed_by_channel, or the settlement's outcome"
        " (e.g. posted, ignored_late …, with _callback_contradicted or"
        " _callback_amount_differs when the callback disagreed with the channel)"
    )


class Health(View):
    status: str = one_of(("ok",))
    business_date: str


__all__ = [
    "AMOUNT_PATTERN",
    "APPLICATION_STATUSES",
    "Acceptance",
    "Agreement",
    "Application",
    "BorrowerSession",
    "CallbackResult",
    "Card",
    "CardStarted",
    "CodeSent",
    "ContactsSaved",
    "CreditLine",
    "Health",
    "Identity",
    "InfoRequest",
    "Loan",
    "Profile",
    "Quote",
    "RepaymentRequested",
    "View",
    "one_of",
    "shown",
    "yuan",
]
