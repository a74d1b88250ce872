"""Where the borrower's applications are (借款 screen after confirming, 我的 → 借款记录): the
list of their applications, and one application's progress — the decision with the
reasons the customer may see, manual review with the time it may still take and any request
for more, the contract, and the payout to the card.

The review's time is its SLA deadline (`review_tasks.due_at`, set by `risk.review`); while
the reviewer waits for the borrower's answer the clock is stopped and no time is promised.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xindai.money import format_yuan
from xindai.origination.journey_base import JourneyBase
from xindai.store.models_origination import (
    Application,
    BankCard,
    ContractRecord,
    DecisionRecord,
    Payout,
)
from xindai.store.models_risk import ReviewTask

MAX_APPLICATIONS = 100

NEXT_ACTIONS = (
    "wait_decision",
    "wait_review",
    "reply_more_info",
    "sign",
    "wait_payout",
    "done",
    "contact_support",
    "none",
)
"""What the app should offer next on an application."""

STAGES: dict[str, tuple[str, str]] = {
    "deciding": ("审批中", "being decided"),
    "review": ("人工审核中", "in manual review"),
    "approved": ("已批准，待签约", "approved: sign the contract"),
    "rejected": ("未通过", "not approved"),
    "signed": ("已签约，放款准备中", "signed: the payout is being prepared"),
    "disbursing": ("放款中", "being paid out"),
    "disbursed": ("已放款", "paid out"),
    "payout_failed": ("放款未成功，客服将与您联系", "the payout failed: we will contact you"),
    "cancelled": ("已取消", "cancelled"),
}

PAYOUT_REASONS: dict[str, tuple[str, str]] = {
    "bank_declined": ("收款银行拒绝入账", "the receiving bank declined the payment"),
    "account_abnormal": ("收款账户状态异常", "the receiving account is not in order"),
    "account_frozen": ("收款账户已冻结", "the receiving account is frozen"),
    "never_accepted": ("支付通道未受理", "the channel never took the payout"),
}


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _customer_reasons(session: Session, application_id: int) -> list[str]:
    stored = session.scalars(
        select(DecisionRecord.customer_reasons)
        .where(DecisionRecord.application_id == application_id)
        .order_by(DecisionRecord.id.desc())
    ).first()
    return list(json.loads(stored or "[]"))


class ApplicationProgress(JourneyBase):
    """The borrower's applications and the progress of each."""

    def applications(self, borrower_id: int) -> list[dict[str, Any]]:
        """The borrower's applications, newest first (at most `MAX_APPLICATIONS`)."""
        with self.p.reads() as session:
            rows = session.scalars(
                select(Application)
                .where(Application.borrower_id == borrower_id)
                .order_by(Application.id.desc())
                .limit(MAX_APPLICATIONS)
            ).all()
            return [
                {
                    "id": a.id,
                    "status": a.status,
                    "stage": self._stage(a.status),
                    "product": a.product_code,
                    "amount": format_yuan(a.amount_fen),
                    "approved_amount": None
                    if a.approved_amount_fen is None
                    else format_yuan(a.approved_amount_fen),
                    "term": a.term,
                    "apr": a.apr,
                    "created_at": a.created_at.isoformat(),
                    "decided_at": _at(a.decided_at),
                    "loan_id": a.loan_id,
                    "credit_line_draw": a.credit_line_id is not None,
                }
                for a in rows
            ]

    @staticmethod
    def _stage(status: str) -> dict[str, str]:
        zh, en = STAGES.get(status, (status, status))
        return {"zh-CN": zh, "en": en}

    def progress(self, borrower_id: int, application_id: int) -> dict[str, Any]:
        """One application's progress (another borrower's is not found)."""
        with self.p.reads() as session:
            application = self._application(session, borrower_id, application_id)
            status = application.status
            task = session.get(ReviewTask, application_id)
            contract = session.scalars(
                select(ContractRecord).where(ContractRecord.application_id == application_id)
            ).one_or_none()
            payout = session.scalars(
                select(Payout)
                .where(Payout.application_id == application_id)
                .order_by(Payout.attempt.desc())
            ).first()
            card = session.get(BankCard, application.card_id)
            return {
                "id": application.id,
                "status": status,
                "stage": self._stage(status),
                "next_action": self._next_action(status, task),
                "created_at": application.created_at.isoformat(),
                "decided_at": _at(application.decided_at),
                "reasons": _customer_reasons(session, application_id)
                if status == "rejected"
                else [],
                "review": self._review(task),
                "contract": None
                if contract is None
                else {
                    "status": contract.status,
                    "signed_at": _at(contract.signed_at),
                    "sha256": contract.pdf_sha256,
                },
                "payout": None if payout is None else self._payout(payout, card),
                "loan_id": application.loan_id,
            }

    @staticmethod
    def _next_action(status: str, task: ReviewTask | None) -> str:
        if status == "review":
            return (
                "reply_more_info"
                if task is not None and task.status == "more_info"
                else ("wait_review")
            )
        return {
            "deciding": "wait_decision",
            "approved": "sign",
            "signed": "wait_payout",
            "disbursing": "wait_payout",
            "disbursed": "done",
            "payout_failed": "contact_support",
        }.get(status, "none")

    def _review(self, task: ReviewTask | None) -> dict[str, Any] | None:
        """Manual review as the borrower sees it: queued / in review / waiting for their
        answer / done, and by when a decision is due (the SLA deadline; none while the clock
        is stopped for their answer)."""
        if task is None:
            return None
        waiting = task.status == "more_info"
        running = task.status in ("queued", "claimed")
        now = self.p.clock()
        minutes = None
        if running:
            minutes = max(0, int((task.due_at - now).total_seconds() // 60))
        return {
            "status": task.status,
            "queued_at": task.queued_at.isoformat(),
            "expected_by": task.due_at.isoformat() if running else None,
            "minutes_left": minutes,
            "sla_minutes": self.p.settings.review_sla_minutes,
            "awaiting_reply": waiting,
            "request": task.info_request if waiting else None,
            "decided_at": _at(task.decided_at),
        }

    @staticmethod
    def _payout(payout: Payout, card: BankCard | None) -> dict[str, Any]:
        reason = None
        if payout.status == "failed":
            zh, en = PAYOUT_REASONS.get(payout.reason or "", ("放款未成功", "the payout failed"))
            reason = {"code": payout.reason or "failed", "zh-CN": zh, "en": en}
        return {
            "status": payout.status,
            "amount": format_yuan(payout.amount_fen),
            "attempt": payout.attempt,
            "bank": card.bank_name if card is not None else None,
            "last4": card.last4 if card is not None else None,
            "requested_at": payout.created_at.isoformat(),
            "settled_at": _at(payout.settled_at),
            "reason": reason,
        }


__all__ = ["NEXT_ACTIONS", "STAGES", "ApplicationProgress"]
