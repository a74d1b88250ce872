"""The approvals inbox of servicing requests (审批管理), /api/v1/admin.

A second person holding a kind's approve permission approves or rejects a request from the
inbox (`GET /approvals`, only what the caller may approve, never the caller's own), and the
approval posts the loan transaction with its journal entry through `LoanService` (a refund
is sent to the card). The maker follows their requests (`GET /approvals/mine`) and may
withdraw a pending one. Requests are submitted on the loan (`api.admin_servicing`); every
step is audited (`servicing.approvals`).
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
from xindai.api.schemas import WholeNumber
from xindai.api.scopes import loan_scope
from xindai.api.servicing_access import APPROVE_PERMISSION, approval_service, loan_in_scope
from xindai.money import format_yuan
from xindai.origination.refunds import RefundService
from xindai.security.errors import PermissionDenied
from xindai.security.rbac import PERMISSIONS
from xindai.servicing.approvals import KINDS, STATUSES, approval_view
from xindai.servicing.service import PostResult
from xindai.servicing.transactions import TxnKind
from xindai.store.models import ApprovalRequest, Loan

router = APIRouter(prefix="/api/v1/admin", tags=["admin 审批 approvals"])

APPROVALS = Listing(
    "approvals",
    sortable={"id": ApprovalRequest.id, "requested_at": ApprovalRequest.requested_at},
    default_sort="id",
    tiebreak=ApprovalRequest.id,
)
KindFilter = Annotated[
    str | None, Query(max_length=24, json_schema_extra={"enum": [k.value for k in KINDS]})
]
StatusFilter = Annotated[str | None, Query(max_length=16, json_schema_extra={"enum": STATUSES})]
LoanFilter = Annotated[
    WholeNumber | None, Query(ge=1, le=2**63 - 1, description="one loan's requests only")
]


class DecisionIn(BaseModel):
    note: str = Field(default="", max_length=512, description="required to reject")


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


# ------------------------------------------------------------------ the maker's requests


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
    return approval_service(request).withdraw(
        request_id, maker=staff.username, ip=client_ip(request)
    )


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
    row, view = approval_service(request).get(request_id)
    loan_in_scope(request, staff, row.loan_id)
    return view


def _decide(
    request_id: int, staff: Staff, request: Request, *, approve: bool, note: str
) -> dict[str, Any]:
    service = approval_service(request)
    row, _ = service.get(request_id)
    loan_in_scope(request, staff, row.loan_id)
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


__all__ = ["router"]
