"""Maker-checker requests on loans (审批): a servicing action — waiver, deferral, extension,
restructure, write-off, sale, refund of a credit balance — submitted by one staff member
(提交审批) and posted when a second approves it.

A request is checked on submission against the loan as it stands, by the same core that
will post it (`LoanService.approved_txn` then `account.apply`, nothing saved), so that the
maker learns at once what is wrong; it is checked again when it is approved (the loan may
have moved on). Requests are recorded and decided through `LoanService.request_approval`
and `LoanService.decide` (which refuses the maker as checker); withdrawal by the maker is
here. Every step is audited (`approval.submit`, `approval.approve`, `approval.reject`,
`approval.withdraw`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xindai import clock
from xindai.errors import InvalidValue, RateCapExceeded, XindaiError
from xindai.money import Fen, format_percent, format_yuan
from xindai.security import audit
from xindai.servicing.account import apply, extension_quote
from xindai.servicing.allocation import Component
from xindai.servicing.service import APPROVABLE, ApprovalError, LoanService, PostResult
from xindai.servicing.transactions import TxnKind
from xindai.store import repository as repo
from xindai.store.models import ApprovalRequest, Loan
from xindai.store.models_origination import RefundTask

RESOURCE = "approval_request"
STATUSES = ("pending", "approved", "rejected", "withdrawn")


@dataclass(frozen=True, slots=True)
class KindLabel:
    zh: str
    en: str


KINDS: Mapping[TxnKind, KindLabel] = {
    TxnKind.WAIVER: KindLabel("减免", "Waiver"),
    TxnKind.DEFERRAL: KindLabel("延期还款", "Deferral"),
    TxnKind.EXTENSION: KindLabel("展期", "Extension"),
    TxnKind.RESTRUCTURE: KindLabel("债务重组", "Restructure"),
    TxnKind.WRITE_OFF: KindLabel("核销", "Write-off"),
    TxnKind.SALE: KindLabel("债权转让", "Sale"),
    TxnKind.REFUND: KindLabel("溢缴款退款", "Refund of a credit balance"),
}
assert set(KINDS) == APPROVABLE


class ApprovalPendingExists(XindaiError):
    """The loan already has a pending request of this kind."""

    code = "APPROVAL_PENDING_EXISTS"
    http_status = 409

    def __init__(self, request_id: int, kind: TxnKind) -> None:
        label = KINDS[kind]
        super().__init__(
            f"loan already has a pending {label.en.lower()} request (#{request_id})",
            f"该借据已有待审批的{label.zh}申请（#{request_id}）",
        )


@dataclass(frozen=True, slots=True)
class Decided:
    """A decided request's view and, when it was approved, what posting it did."""

    view: dict[str, Any]
    posted: PostResult | None


def _details(kind: TxnKind, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The request's payload as the screens show it (yuan strings, rates in percent)."""
    if kind is TxnKind.WAIVER:
        lines = [
            {"installment": int(n), "component": str(c), "amount": format_yuan(int(f))}
            for n, c, f in payload["lines"]
        ]
        total = sum(int(f) for _, _, f in payload["lines"])
        return {"lines": lines, "amount": format_yuan(total)}
    if kind is TxnKind.DEFERRAL:
        return {
            "installment": int(payload["installment"]),
            "new_due_date": str(payload["new_due_date"]),
        }
    if kind is TxnKind.EXTENSION:
        return {"amount": format_yuan(int(payload["amount_fen"])), "channel": payload["channel"]}
    if kind is TxnKind.RESTRUCTURE:
        return {
            "term": int(payload["term"]),
            "unit": str(payload.get("unit", "month")),
            "method": str(payload.get("method", "annuity")),
            "annual_rate": format_percent(Decimal(str(payload["annual_rate"]))),
        }
    if kind is TxnKind.SALE:
        return {"price": format_yuan(int(payload["price_fen"])), "buyer": payload.get("buyer", "")}
    if kind is TxnKind.REFUND:
        return {
            "task_id": int(payload["task_id"]),
            "amount": format_yuan(int(payload["amount_fen"])),
        }
    return {}


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def approval_view(request: ApprovalRequest, loan: Loan | None) -> dict[str, Any]:
    """One request as the approvals inbox shows it."""
    kind = TxnKind(request.kind)
    label = KINDS[kind]
    return {
        "id": request.id,
        "kind": kind.value,
        "kind_zh": label.zh,
        "kind_en": label.en,
        "loan_id": request.loan_id,
        "loan": None
        if loan is None
        else {
            "product_code": loan.product_code,
            "status": loan.status,
            "bucket": loan.bucket,
            "dpd": loan.dpd,
            "principal_outstanding": format_yuan(loan.principal_outstanding_fen),
            "credit_balance": format_yuan(loan.credit_balance_fen),
        },
        "details": _details(kind, json.loads(request.payload)),
        "reason": request.reason,
        "status": request.status,
        "requested_by": request.requested_by,
        "requested_at": request.requested_at.isoformat(),
        "decided_by": request.decided_by,
        "decided_at": _time(request.decided_at),
        "decision_note": request.decision_note,
        "txn_seq": request.txn_seq,
    }


def _require_text(field: str, value: str, en: str, zh: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidValue(field, value, en, zh)
    return text


class ApprovalService:
    """Submit, list, decide and withdraw maker-checker requests over `loans`' database."""

    def __init__(self, loans: LoanService):
        self.loans = loans
        self.sessions = loans.sessions

    # ------------------------------------------------------------ maker

    def submit(
        self,
        kind: TxnKind,
        loan_id: int,
        payload: dict[str, Any],
        *,
        reason: str,
        maker: str,
        ip: str | None = None,
    ) -> dict[str, Any]:
        """Check the request against the loan as it stands (nothing is posted), record it as
        pending (one pending request per loan and kind) and audit it; its view."""
        if kind not in APPROVABLE:
            raise InvalidValue(
                "kind", kind.value, "is not a maker-checker action", "不是需审批的业务"
            )
        reason = _require_text("reason", reason, "a request needs a reason", "申请需要说明原因")
        with self.sessions() as session:
            self._check(session, kind, loan_id, payload)
            pending = session.scalar(
                select(ApprovalRequest.id).where(
                    ApprovalRequest.loan_id == loan_id,
                    ApprovalRequest.kind == kind.value,
                    ApprovalRequest.status == "pending",
                )
            )
            if pending is not None:
                raise ApprovalPendingExists(pending, kind)
        request_id = self.loans.request_approval(
            kind, loan_id, payload, reason=reason, requested_by=maker
        )
        with self.sessions.begin() as session:
            request = session.get(ApprovalRequest, request_id)
            assert request is not None
            view = approval_view(request, session.get(Loan, loan_id))
            audit.record(
                session,
                actor=maker,
                action="approval.submit",
                resource=RESOURCE,
                resource_id=request_id,
                ip=ip,
                after={"kind": kind.value, "loan_id": loan_id, **view["details"], "reason": reason},
            )
        return view

    def _check(
        self, session: Session, kind: TxnKind, loan_id: int, payload: dict[str, Any]
    ) -> None:
        """What approving the request now would post, computed and thrown away: the core's
        refusal (LOAN_NOT_OPEN, EXTENSION_LIMIT, an amount above what is outstanding …) is
        the maker's answer."""
        loan, state = repo.load_state(session, loan_id)
        today = repo.get_business_date(session) or clock.today()
        if kind is TxnKind.REFUND:
            self._check_refund(session, loan, payload)
            return
        if kind is TxnKind.RESTRUCTURE:
            product = repo.load_product(session, loan.product_code, loan.product_version)
            rate = Decimal(str(payload["annual_rate"]))
            if rate > product.rate_cap.annual_rate:
                cap = format_percent(product.rate_cap.annual_rate)
                raise RateCapExceeded(
                    f"the restructured rate {format_percent(rate)} is above the cap {cap}",
                    f"重组利率 {format_percent(rate)} 超过上限 {cap}",
                )
        apply(state, LoanService.approved_txn(kind, payload, state, today))

    @staticmethod
    def _check_refund(session: Session, loan: Loan, payload: dict[str, Any]) -> None:
        task = session.get(RefundTask, int(payload["task_id"]))
        if task is None or task.loan_id != loan.id:
            raise repo.NotFound("refund task not found on this loan", "该借据下没有此退款任务")
        if task.status != "open":
            raise ApprovalError(
                f"the refund task is {task.status}", f"退款任务状态为 {task.status}"
            )
        if int(payload["amount_fen"]) != task.amount_fen:
            raise InvalidValue(
                "amount",
                format_yuan(int(payload["amount_fen"])),
                f"the refund task is for {format_yuan(task.amount_fen)} yuan",
                f"退款任务金额为 {format_yuan(task.amount_fen)} 元",
            )

    def extension_fee_fen(self, loan_id: int) -> Fen:
        """What extending the loan costs today (the fee and the interest so far)."""
        with self.sessions() as session:
            _, state = repo.load_state(session, loan_id)
            today = repo.get_business_date(session) or clock.today()
            return extension_quote(state, today).total_fen

    def withdraw(self, request_id: int, *, maker: str, ip: str | None = None) -> dict[str, Any]:
        """The maker takes back a pending request (nobody else may)."""
        with self.sessions.begin() as session:
            request = self._locked(session, request_id)
            if request.requested_by != maker:
                raise ApprovalError(
                    "only the requester may withdraw a request", "只有申请人可以撤回申请"
                )
            self._require_pending(request)
            request.status = "withdrawn"
            request.decided_by, request.decided_at = maker, clock.now()
            audit.record(
                session,
                actor=maker,
                action="approval.withdraw",
                resource=RESOURCE,
                resource_id=request_id,
                ip=ip,
                before={"status": "pending"},
                after={"status": "withdrawn"},
            )
            return approval_view(request, session.get(Loan, request.loan_id))

    # ------------------------------------------------------------ checker

    def decide(
        self,
        request_id: int,
        *,
        checker: str,
        approve: bool,
        note: str = "",
        ip: str | None = None,
    ) -> Decided:
        """Approve (the transaction posts, with its journal entry, in the same database
        transaction as the decision) or reject (a note is required) a pending request; the
        maker cannot be the checker (`APPROVAL_INVALID`)."""
        if not approve:
            note = _require_text("note", note, "a rejection needs a reason", "驳回需要说明原因")
        posted = self.loans.decide(request_id, approver=checker, approve=approve, note=note)
        with self.sessions.begin() as session:
            request = session.get(ApprovalRequest, request_id)
            assert request is not None
            view = approval_view(request, session.get(Loan, request.loan_id))
            after: dict[str, Any] = {"status": request.status, "note": note}
            if posted is not None:
                after |= {"txn_seq": posted.seq, "loan_status": posted.status}
            audit.record(
                session,
                actor=checker,
                action=f"approval.{'approve' if approve else 'reject'}",
                resource=RESOURCE,
                resource_id=request_id,
                ip=ip,
                before={"status": "pending"},
                after=after,
            )
        return Decided(view, posted)

    # ------------------------------------------------------------ reading

    def get(self, request_id: int) -> tuple[ApprovalRequest, dict[str, Any]]:
        """The request row (detached) and its view."""
        with self.sessions() as session:
            request = session.get(ApprovalRequest, request_id)
            if request is None:
                raise repo.NotFound(
                    f"approval request {request_id} does not exist", f"审批申请 {request_id} 不存在"
                )
            view = approval_view(request, session.get(Loan, request.loan_id))
            session.expunge(request)
            return request, view

    @staticmethod
    def _locked(session: Session, request_id: int) -> ApprovalRequest:
        request = session.scalars(
            select(ApprovalRequest).where(ApprovalRequest.id == request_id).with_for_update()
        ).one_or_none()
        if request is None:
            raise repo.NotFound(
                f"approval request {request_id} does not exist", f"审批申请 {request_id} 不存在"
            )
        return request

    @staticmethod
    def _require_pending(request: ApprovalRequest) -> None:
        if request.status != "pending":
            raise ApprovalError(
                f"request {request.id} is already {request.status}",
                f"申请 {request.id} 已{request.status}",
            )


# ------------------------------------------------------------------ payloads


def waiver_payload(lines: list[tuple[int, Component, Fen]]) -> dict[str, Any]:
    """A waiver of `lines` (installment, component, fen); each line once."""
    if not lines:
        raise InvalidValue("lines", [], "a waiver needs at least one line", "减免至少需要一项")
    seen: set[tuple[int, Component]] = set()
    for number, component, fen in lines:
        if (number, component) in seen:
            raise InvalidValue(
                "lines",
                f"{number} {component.value}",
                "each installment and component once",
                "同一期同一项只能出现一次",
            )
        seen.add((number, component))
        if fen <= 0:
            raise InvalidValue(
                "lines.amount", format_yuan(fen), "must be positive", "金额必须大于零"
            )
    return {"lines": [[n, c.value, f] for n, c, f in lines]}


def deferral_payload(installment: int, new_due_date: date) -> dict[str, Any]:
    return {"installment": installment, "new_due_date": new_due_date.isoformat()}


def extension_payload(amount_fen: Fen, channel: str) -> dict[str, Any]:
    return {"amount_fen": amount_fen, "channel": channel}


def restructure_payload(term: int, annual_rate: Decimal, unit: str, method: str) -> dict[str, Any]:
    return {"term": term, "annual_rate": str(annual_rate), "unit": unit, "method": method}


def sale_payload(price_fen: Fen, buyer: str) -> dict[str, Any]:
    if price_fen < 0:
        raise InvalidValue(
            "price", format_yuan(price_fen), "must not be negative", "转让价格不能为负"
        )
    buyer = _require_text("buyer", buyer, "name the buyer", "请填写受让方")
    return {"price_fen": price_fen, "buyer": buyer}


def refund_payload(task_id: int, amount_fen: Fen) -> dict[str, Any]:
    return {"task_id": task_id, "amount_fen": amount_fen}


__all__ = [
    "KINDS",
    "STATUSES",
    "ApprovalPendingExists",
    "ApprovalService",
    "Decided",
    "approval_view",
]
