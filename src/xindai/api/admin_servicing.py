"""Servicing actions requested on a loan (提交审批), /api/v1/admin.

A maker submits a waiver, deferral, extension, restructure, write-off, sale or refund on a
loan (`POST /loans/{id}/<action>`, each with its own request permission) as a pending
maker-checker request; a second person decides it from the approvals inbox
(`api.admin_approvals`). Submitting is audited (`servicing.approvals`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from xindai.api import views_servicing as views
from xindai.api.deps import PathId, Staff, client_ip, permitted
from xindai.api.listing import reading
from xindai.api.openapi import responses
from xindai.api.schemas import AMOUNT_IN_PATTERN, WholeNumber
from xindai.api.servicing_access import approval_service, loan_in_scope
from xindai.dates import parse_date
from xindai.money import parse_rate, parse_yuan
from xindai.servicing import approvals
from xindai.servicing.allocation import Component
from xindai.servicing.transactions import TxnKind

router = APIRouter(prefix="/api/v1/admin", tags=["admin 审批 approvals"])

SUBMIT_NOTES = {
    400: "the core's refusal of the action on this loan as it stands, e.g. an amount above "
    "what is outstanding (INVALID_VALUE), a restructured rate above the cap (RATE_CAP_EXCEEDED)",
    404: "no such loan (or refund task on it)",
    409: "APPROVAL_PENDING_EXISTS: a request of this kind is already pending on the loan; "
    "LOAN_NOT_OPEN, EXTENSION_NOT_ALLOWED, EXTENSION_LIMIT, DEFERRAL_LIMIT …",
}
REASON = Field(min_length=1, max_length=512, description="why / 申请原因")


# ------------------------------------------------------------------ request bodies


class WaiverLineIn(BaseModel):
    installment: WholeNumber = Field(ge=1, le=1000)
    component: Component
    amount: str = Field(max_length=32, json_schema_extra={"pattern": AMOUNT_IN_PATTERN})


class WaiverIn(BaseModel):
    lines: list[WaiverLineIn] = Field(min_length=1, max_length=100)
    reason: str = REASON


class DeferralIn(BaseModel):
    installment: WholeNumber = Field(ge=1, le=1000)
    new_due_date: str = Field(max_length=10, description="YYYY-MM-DD, at most a month later")
    reason: str = REASON


class ExtensionIn(BaseModel):
    amount: str | None = Field(
        default=None,
        max_length=32,
        description="the extension fee the borrower paid (default: what it costs today)",
        json_schema_extra={"pattern": AMOUNT_IN_PATTERN},
    )
    channel: str = Field(
        default="offline",
        pattern=r"^[a-z0-9_]{1,32}$",
        description="where it was paid (a bank transfer: offline)",
    )
    reason: str = REASON


class RestructureIn(BaseModel):
    term: WholeNumber = Field(ge=1, le=60)
    unit: str = Field(default="month", pattern="^(month|week|day)$")
    method: str = Field(
        default="annuity",
        pattern="^(annuity|equal_principal|flat|interest_first|principal_first)$",
    )
    annual_rate: str = Field(
        max_length=16, description='a fraction ("0.12") or a percent ("12%")', examples=["12%"]
    )
    reason: str = REASON


class WriteOffIn(BaseModel):
    reason: str = REASON


class SaleIn(BaseModel):
    price: str = Field(max_length=32, json_schema_extra={"pattern": AMOUNT_IN_PATTERN})
    buyer: str = Field(min_length=1, max_length=128)
    reason: str = REASON


class RefundIn(BaseModel):
    task_id: WholeNumber = Field(ge=1, le=2**63 - 1, description="the open refund task")
    reason: str = REASON


# ------------------------------------------------------------------ helpers


def _submit(
    request: Request,
    staff: Staff,
    kind: TxnKind,
    loan_id: int,
    payload: dict[str, Any],
    reason: str,
) -> dict[str, Any]:
    loan_in_scope(request, staff, loan_id)
    return approval_service(request).submit(
        kind, loan_id, payload, reason=reason, maker=staff.username, ip=client_ip(request)
    )


SUBMITTED: dict[str, Any] = {"status_code": 201, "response_model": views.Approval}


# ------------------------------------------------------------------ maker


@router.post(
    "/loans/{loan_id}/waivers",
    **SUBMITTED,
    responses=responses(400, 403, 404, 409, notes=SUBMIT_NOTES),
    summary="Request a waiver / 申请减免",
)
def request_waiver(
    loan_id: PathId,
    body: WaiverIn,
    staff: Annotated[Staff, permitted("loans.waive.request")],
    request: Request,
) -> dict[str, Any]:
    """Waive amounts of given installments' components (penalty, fee, interest, principal)."""
    lines = [
        (line.installment, line.component, parse_yuan(line.amount, field="lines.amount"))
        for line in body.lines
    ]
    payload = approvals.waiver_payload(lines)
    return _submit(request, staff, TxnKind.WAIVER, loan_id, payload, body.reason)


@router.post(
    "/loans/{loan_id}/deferrals",
    **SUBMITTED,
    responses=responses(400, 403, 404, 409, notes=SUBMIT_NOTES),
    summary="Request a deferral / 申请延期还款",
)
def request_deferral(
    loan_id: PathId,
    body: DeferralIn,
    staff: Annotated[Staff, permitted("loans.defer")],
    request: Request,
) -> dict[str, Any]:
    """Move an installment's due date by at most a month (at most two per loan)."""
    new_due = parse_date(body.new_due_date, field="new_due_date")
    payload = approvals.deferral_payload(body.installment, new_due)
    return _submit(request, staff, TxnKind.DEFERRAL, loan_id, payload, body.reason)


@router.post(
    "/loans/{loan_id}/extensions",
    **SUBMITTED,
    responses=responses(400, 403, 404, 409, notes=SUBMIT_NOTES),
    summary="Request an extension paid outside the app / 申请展期",
)
def request_extension(
    loan_id: PathId,
    body: ExtensionIn,
    staff: Annotated[Staff, permitted("loans.extend")],
    request: Request,
) -> dict[str, Any]:
    """Extend a single-payment loan whose extension fee the borrower paid by other means
    (a transfer: channel `offline`); approved only while that is still what it costs."""
    loan_in_scope(request, staff, loan_id)
    service = approval_service(request)
    amount = (
        parse_yuan(body.amount) if body.amount is not None else service.extension_fee_fen(loan_id)
    )
    payload = approvals.extension_payload(amount, body.channel)
    return service.submit(
        TxnKind.EXTENSION,
        loan_id,
        payload,
        reason=body.reason,
        maker=staff.username,
        ip=client_ip(request),
    )


@router.post(
    "/loans/{loan_id}/restructures",
    **SUBMITTED,
    responses=responses(400, 403, 404, 409, notes=SUBMIT_NOTES),
    summary="Request a restructure / 申请债务重组",
)
def request_restructure(
    loan_id: PathId,
    body: RestructureIn,
    staff: Annotated[Staff, permitted("loans.restructure.request")],
    request: Request,
) -> dict[str, Any]:
    """A new schedule over everything outstanding, from the day it is approved."""
    rate = parse_rate(body.annual_rate, field="annual_rate")
    payload = approvals.restructure_payload(body.term, rate, body.unit, body.method)
    return _submit(request, staff, TxnKind.RESTRUCTURE, loan_id, payload, body.reason)


@router.post(
    "/loans/{loan_id}/write-offs",
    **SUBMITTED,
    responses=responses(400, 403, 404, 409, notes=SUBMIT_NOTES),
    summary="Request a write-off / 申请核销",
)
def request_write_off(
    loan_id: PathId,
    body: WriteOffIn,
    staff: Annotated[Staff, permitted("loans.write_off.request")],
    request: Request,
) -> dict[str, Any]:
    return _submit(request, staff, TxnKind.WRITE_OFF, loan_id, {}, body.reason)


@router.post(
    "/loans/{loan_id}/sales",
    **SUBMITTED,
    responses=responses(400, 403, 404, 409, notes=SUBMIT_NOTES),
    summary="Request a sale of the loan / 申请债权转让",
)
def request_sale(
    loan_id: PathId,
    body: SaleIn,
    staff: Annotated[Staff, permitted("loans.sale.request")],
    request: Request,
) -> dict[str, Any]:
    payload = approvals.sale_payload(parse_yuan(body.price, field="price"), body.buyer)
    return _submit(request, staff, TxnKind.SALE, loan_id, payload, body.reason)


@router.post(
    "/loans/{loan_id}/refunds",
    **SUBMITTED,
    responses=responses(400, 403, 404, 409, notes=SUBMIT_NOTES),
    summary="Request a refund of a credit balance / 申请溢缴款退款",
)
def request_refund(
    loan_id: PathId,
    body: RefundIn,
    staff: Annotated[Staff, permitted("loans.refund")],
    request: Request,
) -> dict[str, Any]:
    """Refund an open refund task of the loan (money parked on the credit balance) to the
    borrower's card once a second person approves."""
    from xindai.store.models_origination import RefundTask

    with reading(request) as session:
        task = session.get(RefundTask, body.task_id)
        amount = task.amount_fen if task is not None and task.loan_id == loan_id else 0
    payload = approvals.refund_payload(body.task_id, amount)
    return _submit(request, staff, TxnKind.REFUND, loan_id, payload, body.reason)


__all__ = [
    "DeferralIn",
    "ExtensionIn",
    "RefundIn",
    "RestructureIn",
    "SaleIn",
    "WaiverIn",
    "WriteOffIn",
    "router",
]
