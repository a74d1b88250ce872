"""What the maker-checker routes answer (审批): a request as the approvals inbox shows it,
and a decision with what it posted. Conventions as in `api.views`."""

from __future__ import annotations

from pydantic import Field

from xindai.api.views import AMOUNT_PATTERN, View, one_of, shown, yuan
from xindai.servicing.approvals import KINDS, STATUSES
from xindai.servicing.state import LoanStatus

COMPONENTS = ("principal", "interest", "fee", "penalty")


class ApprovalLoan(View):
    product_code: str
    status: str = one_of(LoanStatus)
    bucket: str
    dpd: int
    principal_outstanding: str = yuan()
    credit_balance: str = yuan()


class WaiverLineView(View):
    installment: int
    component: str = one_of(COMPONENTS)
    amount: str = yuan()


class ApprovalDetails(View):
    """What is asked: the fields of the request's kind (the others are absent)."""

    lines: list[WaiverLineView] | None = Field(default=None, description="waiver")
    amount: str | None = Field(
        default=None,
        description="waiver: the total; extension: the fee paid; refund: the task's amount",
        json_schema_extra={"pattern": AMOUNT_PATTERN},
    )
    installment: int | None = Field(default=None, description="deferral")
    new_due_date: str | None = Field(default=None, description="deferral, YYYY-MM-DD")
    channel: str | None = Field(default=None, description="extension: where the fee was paid")
    term: int | None = Field(default=None, description="restructure")
    unit: str | None = Field(default=None, description="restructure: month, week or day")
    method: str | None = Field(default=None, description="restructure: repayment method")
    annual_rate: str | None = Field(default=None, description="restructure, percent")
    price: str | None = Field(
        default=None, description="sale", json_schema_extra={"pattern": AMOUNT_PATTERN}
    )
    buyer: str | None = Field(default=None, description="sale")
    task_id: int | None = Field(default=None, description="refund: the refund task")


class Approval(View):
    id: int
    kind: str = one_of(KINDS)
    kind_zh: str
    kind_en: str
    loan_id: int
    loan: ApprovalLoan | None
    details: ApprovalDetails
    reason: str
    status: str = one_of(STATUSES)
    requested_by: str
    requested_at: str
    decided_by: str | None = shown("the checker (the maker when withdrawn)")
    decided_at: str | None
    decision_note: str | None
    txn_seq: int | None = shown("the loan transaction the approval posted")


class Applied(View):
    principal: str = yuan()
    interest: str = yuan()
    fee: str = yuan()
    penalty: str = yuan()


class Posting(View):
    """The loan transaction an approval posted (its journal entry balances)."""

    seq: int
    kind: str
    loan_status: str = one_of(LoanStatus)
    applied: Applied
    credit: str = yuan("to (negative: from) the borrower's credit balance")


class RefundSent(View):
    id: int
    status: str = one_of(("open", "refunding", "refunded"))
    refund_ref: str | None


class ApprovalDecision(Approval):
    posting: Posting | None = Field(default=None, description="when approved and posted")
    refund: RefundSent | None = Field(
        default=None, description="a refund approved: the payout sent to the card"
    )
