"""Who may request and approve each servicing action, and whose loan it is, for the
maker's routes (`api.admin_servicing`) and the checker's inbox (`api.admin_approvals`)."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import select

from xindai.api.deps import Staff, platform
from xindai.api.listing import reading
from xindai.api.scopes import require_loan
from xindai.security.rbac import PERMISSIONS, require_channel_access
from xindai.servicing.approvals import KINDS, ApprovalService
from xindai.servicing.transactions import TxnKind
from xindai.store.models import Loan
from xindai.store.repository import NotFound

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


def approval_service(request: Request) -> ApprovalService:
    return ApprovalService(platform(request).loans)


def loan_in_scope(request: Request, staff: Staff, loan_id: int) -> None:
    """A 404 for no such loan, or one outside a collector's cases (`api.scopes`); a 403 for
    another channel's (an agent)."""
    with reading(request) as session:
        channel = session.scalar(select(Loan.channel).where(Loan.id == loan_id))
        if channel is None:
            raise NotFound(f"loan {loan_id} does not exist", f"贷款 {loan_id} 不存在")
        require_loan(session, staff, loan_id, f"loan {loan_id}", f"贷款 {loan_id}")
    require_channel_access(staff, channel)


__all__ = ["APPROVE_PERMISSION", "REQUEST_PERMISSION", "approval_service", "loan_in_scope"]
