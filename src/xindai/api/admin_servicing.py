"""Servicing actions as maker-checker requests (提交审批 → 审批管理), /api/v1/admin.

A maker submits a waiver, deferral, extension, restructure, write-off, sale or refund on a
loan (`POST /loans/{id}/<action>`, each with its own request permission); a second person
holding the kind's approve permission approves or rejects it from the inbox
(`GET /approvals`, only what the caller may approve, never the caller's own), and the
approval posts the loan transaction with its journal entry through `LoanService`. The maker
follows their requests in `GET /approvals/mine` and may withdraw a pending one. Every step is
audited (`servicing.approvals`).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from xindai.api import views_servicing as views
from xindai.api.deps import PathId, Staff, client_ip, permitted, platform
from xindai.api.listing import Listing, ListParams, page_of, reading
from xindai.api.openapi import responses
from xindai.api.schemas import AMOUNT_IN_PATTERN, WholeNumber
from xindai.api.scopes import loan_scope, require_loan
from xindai.dates import parse_date
from xindai.money import format_yuan, parse_rate, parse_yuan
from xindai.origination.refunds import RefundService
from xindai.security.errors import PermissionDenied
from xindai.security.rbac import PERMISSIONS, require_channel_access
from xindai.servicing import approvals
from xindai.servicing.allocation import Component
from xindai.servicing.approvals import KINDS, STATUSES, ApprovalService, approval_view
from xindai.servicing.service import PostResult
from xindai.servicing.transactions import TxnKind
from xindai.store.models import ApprovalRequest, Loan
from xindai.store.repository import NotFound

router = APIRouter(prefix="/api/v1/admin", tags=["admin 审批 approvals"])

REQUEST_PERMISSION: dict[TxnKind, str] = {
    TxnKind.WAIVER: "loans.waive.request",
    TxnKind.DEFERRAL: "loans.defer",
    TxnKind.EXTENSION: "loans.extend",
    TxnKind.RESTRUCTURE: "loans.restructure.request",
    TxnKind.WRITE_OFF: "loans.write_off.request",
    TxnKind.SALE: "loans.sale.request",
    TxnKind.REFUND: "loans.refund",
}
APPROVE_PERMISSION: dict[TxnKind, str] = {
    TxnKind.WAIVER: "loans.waive.approve",
    TxnKind.DEFERRAL: "loans.defer.approve",
    TxnKind.EXTENSION: "loans.extend.approve",
    TxnKind.RESTRUCTURE: "loans.restructure.approve",
    TxnKind.WRITE_OFF: "loans.write_off.approve",
    TxnKind.SALE: "loans.sale.approve",
    TxnKind.REFUND: "loans.refund.approve",
}
assert set(REQUEST_PERMISSION) == set(APPROVE_PERMISSION) == set(KINDS)
assert set(REQUEST_PERMISSION.values()) | set(APPROVE_PERMISSION.values()) <= set(PERMISSIONS)

APPROVALS = Listing(
    "approvals",
    sortable={"id": ApprovalRequest.id, "requested_at": ApprovalRequest.requested_at},
    default_sort="id",
    tiebreak=ApprovalRequest.id,
)
SUBMIT_NOTES = {
    400: "the core's refusal of the action on this loan as it stands, e.g. an amount above "
    "what is outstanding (INVALID_VALUE), a restructured rate above the cap (RATE_CAP_EXCEEDED)",
    404: "no such loan (or refund task on it)",
    409: "APPROVAL_PENDING_EXISTS: a request of this kind is already pending on the loan; "
    "LOAN_NOT_OPEN, EXTENSION_NOT_ALLOWED, EXTENSION_LIMIT, DEFERRAL_LIMIT …",
}
REASON = Field(min_length=1, max_length=512, description="why / 申请原因")
KindFilter = Annotated[
    str | None, Query(max_length=24, json_schema_extra={"enum": [k.value for k in KINDS]})
]
StatusFilter = Annotated[str | None, Query(max_length=16, json_schema_extra={"enum": STATUSES})]
LoanFilter = Annotated[
    WholeNumber | None, Query(ge=1, le=2**63 - 1, description="one loan's requests only")
]


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


class DecisionIn(BaseModel):
    note: str = Field(default="", max_length=512, description="required to reject")


# ------------------------------------------------------------------ helpers


def _service(request: Request) -> ApprovalService:
    return ApprovalService(platform(request).loans)


def _loan_in_scope(request: Request, staff: Staff, loan_id: int) -> None:
    """A 404 for no such loan, or one outside a collector's cases (`api.scopes`); a 403 for
    another channel's (an agent)."""
    with reading(request) as session:
        channel = session.scalar(select(Loan.channel).where(Loan.id == loan_id))
        if channel is None:
            raise NotFound(f"loan {loan_id} does not exist", f"贷款 {loan_id} 不存在")
        require_loan(session, staff, loan_id, f"loan {loan_id}", f"贷款 {loan_id}")
    require_channel_access(staff, channel)


def _submit(
    request: Request,
    staff: Staff,
    kind: TxnKind,
    loan_id: int,
    payload: dict[str, Any],
    reason: str,
) -> dict[str, Any]:
    _loan_in_scope(request, staff, loan_id)
    return _service(request).submit(
        kind, loan_id, payload, reason=reason, maker=staff.username, ip=client_ip(request)
    )


def _approvable(staff: Staff) -> list[str]:
    return [k.value for k, p in APPROVE_PERMISSION.items() if p in staff.permissions]


def _posting(result: PostResult) -> dict[str, Any]:
    return {
        "seq": result.seq,
        "kind": result.kind,
        "loan_status": result.status,
        "applied": {k: format_yuan(v) for k, v in result.applied.items()},
        "credit": format_yuan(result.credit_fen),
    }


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
    _loan_in_scope(request, staff, loan_id)
    service = _service(request)
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


@router.get(
    "/approvals/mine",
    response_model=page_of(views.Approval),
    responses=responses(403),
    summary="My requests / 我的申请",
)
def my_requests(
    staff: Annotated[Staff, permitted("loans.read")],
    request: Request,
    params: Annotated[ListParams, APPROVALS.params()],
    status: StatusFilter = None,
    kind: KindFilter = None,
    loan_id: LoanFilter = None,
) -> dict[str, Any]:
    """The caller's own requests, any status unless filtered; `loan_id`: on one loan only
    (the loan page's 申请 tab)."""
    stmt = select(ApprovalRequest, Loan).outerjoin(Loan, Loan.id == ApprovalRequest.loan_id)
    stmt = stmt.where(ApprovalRequest.requested_by == staff.username)
    return _page(request, staff, stmt, params, status, kind, loan_id)


@router.post(
    "/approvals/{request_id}/withdraw",
    response_model=views.Approval,
    responses=responses(
        403, 404, 409, notes={409: "APPROVAL_INVALID: not pending, or not your request"}
    ),
    summary="Withdraw my pending request / 撤回申请",
)
def withdraw(
    request_id: PathId, staff: Annotated[Staff, permitted("loans.read")], request: Request
) -> dict[str, Any]:
    return _service(request).withdraw(request_id, maker=staff.username, ip=client_ip(request))


# ------------------------------------------------------------------ checker


def _page(
    request: Request,
    staff: Staff,
    stmt: Any,
    params: ListParams,
    status: str | None,
    kind: str | None,
    loan_id: int | None,
) -> dict[str, Any]:
    stmt = stmt.where(*loan_scope(staff, ApprovalRequest.loan_id))  # a collector: its cases'
    if loan_id is not None:
        stmt = stmt.where(ApprovalRequest.loan_id == loan_id)
    if status is not None:
        stmt = stmt.where(ApprovalRequest.status == status)
    if kind is not None:
        stmt = stmt.where(ApprovalRequest.kind == kind)
    with reading(request) as session:
        rows, total = APPROVALS.page(session, stmt, params)
        return params.answer([approval_view(r, loan) for r, loan in rows], total)


@router.get(
    "/approvals",
    response_model=page_of(views.Approval),
    responses=responses(403),
    summary="Approvals inbox: what I may approve / 审批管理",
)
def inbox(
    staff: Annotated[Staff, permitted("loans.read")],
    request: Request,
    params: Annotated[ListParams, APPROVALS.params()],
    status: StatusFilter = "pending",
    kind: KindFilter = None,
    loan_id: LoanFilter = None,
) -> dict[str, Any]:
    """The requests of the kinds the caller holds the approve permission for (empty when
    none); pending ones exclude the caller's own (a maker never checks)."""
    stmt = select(ApprovalRequest, Loan).outerjoin(Loan, Loan.id == ApprovalRequest.loan_id)
    stmt = stmt.where(ApprovalRequest.kind.in_(_approvable(staff)))
    if status == "pending":
        stmt = stmt.where(ApprovalRequest.requested_by != staff.username)
    return _page(request, staff, stmt, params, status, kind, loan_id)


@router.get(
    "/approvals/{request_id}",
    response_model=views.Approval,
    responses=responses(403, 404),
    summary="One request / 审批详情",
)
def approval(
    request_id: PathId, staff: Annotated[Staff, permitted("loans.read")], request: Request
) -> dict[str, Any]:
    row, view = _service(request).get(request_id)
    _loan_in_scope(request, staff, row.loan_id)
    return view


def _decide(
    request_id: int, staff: Staff, request: Request, *, approve: bool, note: str
) -> dict[str, Any]:
    service = _service(request)
    row, _ = service.get(request_id)
    _loan_in_scope(request, staff, row.loan_id)
    kind = TxnKind(row.kind)
    needed = APPROVE_PERMISSION[kind]
    if needed not in staff.permissions:
        label = PERMISSIONS[needed]
        raise PermissionDenied(needed, label.en, label.zh)
    decided = service.decide(
        request_id, checker=staff.username, approve=approve, note=note, ip=client_ip(request)
    )
    result: dict[str, Any] = dict(decided.view)
    if decided.posted is not None:
        result["posting"] = _posting(decided.posted)
    if approve and kind is TxnKind.REFUND:  # the money goes out now; booked on confirmation
        sent = RefundService(platform(request)).send(
            int(json.loads(row.payload)["task_id"]), actor=f"{row.requested_by}+{staff.username}"
        )
        result["refund"] = {k: sent[k] for k in ("id", "status", "refund_ref")}
    return result


DECIDE_NOTES = {
    403: "PERMISSION_DENIED: the caller may not approve requests of this kind",
    409: "APPROVAL_INVALID: already decided or withdrawn, or the caller made the request "
    "(maker-checker); on approval, the core's refusal of the action as the loan now stands "
    "(LOAN_NOT_OPEN, EXTENSION_LIMIT …)",
}


@router.post(
    "/approvals/{request_id}/approve",
    response_model=views.ApprovalDecision,
    responses=responses(400, 403, 404, 409, 502, 503, notes=DECIDE_NOTES),
    summary="Approve a request: it posts / 审批通过",
)
def approve(
    request_id: PathId,
    staff: Annotated[Staff, permitted("loans.read")],
    request: Request,
    body: DecisionIn | None = None,
) -> dict[str, Any]:
    """The loan transaction posts with its balanced journal entry in the same database
    transaction as the approval; a refund is sent to the card (booked when the channel
    confirms; 502/503 when the channel refuses or cannot be reached)."""
    return _decide(request_id, staff, request, approve=True, note=body.note if body else "")


@router.post(
    "/approvals/{request_id}/reject",
    response_model=views.Approval,
    responses=responses(400, 403, 404, 409, notes=DECIDE_NOTES),
    summary="Reject a request / 审批驳回",
)
def reject(
    request_id: PathId,
    body: DecisionIn,
    staff: Annotated[Staff, permitted("loans.read")],
    request: Request,
) -> dict[str, Any]:
    return _decide(request_id, staff, request, approve=False, note=body.note)


__all__ = ["APPROVE_PERMISSION", "REQUEST_PERMISSION", "router"]
