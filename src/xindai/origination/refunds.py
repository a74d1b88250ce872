"""Refunds of money parked on a borrower's credit balance (溢缴款退款): finance sends a
refund task's amount back to the card the loan was paid out to, through the channel; it is
booked when the channel confirms the refund payout (`payments.Settlement`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from xindai.integrations.errors import ProviderRejected, ProviderUnavailable
from xindai.money import format_yuan
from xindai.origination.journey_base import JourneyBase, JourneyError, not_found
from xindai.origination.payments import new_request_ref
from xindai.store import repository as repo
from xindai.store.models import Borrower
from xindai.store.models_origination import Application, BankCard, RefundTask


def refund_view(task: RefundTask) -> dict[str, Any]:
    return {
        "id": task.id,
        "borrower_id": task.borrower_id,
        "loan_id": task.loan_id,
        "amount": format_yuan(task.amount_fen),
        "source_ref": task.source_ref,
        "reason": task.reason,
        "status": task.status,
        "refund_ref": task.refund_ref,
        "created_at": task.created_at.isoformat(),
        "done_at": task.done_at.isoformat() if task.done_at else None,
        "done_by": task.done_by,
    }


class RefundService(JourneyBase):
    def list(self, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        with self.p.sessions() as session:
            query = select(RefundTask).order_by(RefundTask.id).limit(limit)
            if status is not None:
                query = query.where(RefundTask.status == status)
            return [refund_view(task) for task in session.scalars(query)]

    def send(self, task_id: int, *, actor: str) -> dict[str, Any]:
        """Ask the channel to pay an open refund task back to the borrower's card; the task
        is `refunding` until the channel confirms (then `refunded`) or fails (`open` again)."""
        with self.p.sessions.begin() as session:
            task = session.get(RefundTask, task_id, with_for_update=True)
            if task is None:
                raise not_found("refund task", "退款任务")
            if task.status != "open":
                raise JourneyError(
                    "PAYOUT_REFUND_NOT_OPEN",
                    f"the refund task is {task.status}",
                    f"退款任务状态为 {task.status}，不能发起退款",
                )
            if task.reason != "loan_closed":  # on the loan's own credit balance
                _, state = repo.load_state(session, task.loan_id, for_update=True)
                if state.credit_balance_fen < task.amount_fen:
                    raise JourneyError(
                        "PAYOUT_REFUND_EXCEEDS_CREDIT",
                        f"the credit balance is {format_yuan(state.credit_balance_fen)} yuan",
                        f"溢缴款余额为 {format_yuan(state.credit_balance_fen)} 元",
                    )
            application = session.scalars(
                select(Application).where(Application.loan_id == task.loan_id)
            ).one()
            card = session.get(BankCard, application.card_id)
            borrower = session.get(Borrower, task.borrower_id)
            assert card is not None and borrower is not None
            ref = new_request_ref("refund")
            task.status, task.refund_ref = "refunding", ref
            task.done_at, task.done_by = self.p.clock(), actor[:64]  # sent at, by
            card_number = self.p.cipher.decrypt("card", card.card_enc)
            name = self.p.cipher.decrypt("name", borrower.name_enc or "")
            amount = task.amount_fen
        try:
            self.p.providers.payment.payout(ref, name, card_number, amount, self.p.callback_url)
        except ProviderRejected:
            with self.p.sessions.begin() as session:
                task = session.get(RefundTask, task_id, with_for_update=True)
                if task is not None and task.status == "refunding":
                    task.status, task.refund_ref = "open", None
            raise
        except ProviderUnavailable:
            pass  # may have reached the channel: the resolver asks until it resolves
        with self.p.sessions() as session:
            task = session.get(RefundTask, task_id)
            assert task is not None
            return refund_view(task)


__all__ = ["RefundService", "refund_view"]
