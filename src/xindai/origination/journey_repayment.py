"""The borrower journey after the payout: the payment channel's callbacks (payouts and
withholdings, verified and de-duplicated), the borrower's loans, repayment through the
channel and automatic withholding (代扣)."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xindai.errors import InvalidValue
from xindai.integrations.ports import CallbackEvent, CallbackEventType
from xindai.integrations.signing import verify_callback
from xindai.money import format_yuan
from xindai.origination.journey_base import JourneyBase, JourneyError
from xindai.origination.journey_base import not_found as _not_found
from xindai.servicing.account import extension_quote, payoff_quote
from xindai.store import repository as repo
from xindai.store.models import Loan
from xindai.store.models_origination import (
    Application,
    BankCard,
    Payout,
    ProviderCallback,
    Withholding,
)


class RepaymentSteps(JourneyBase):
    """Callbacks, loans, repayment and withholding (a part of `OriginationService`)."""

    # ------------------------------------------------------------ callbacks

    def handle_payment_callback(
        self, raw_body: bytes, timestamp: str | None, signature: str | None
    ) -> str:
        """Verify, deduplicate and apply a payment callback; returns what was done."""
        payload = verify_callback(
            self.p.settings.provider_secret,
            timestamp or "",
            signature or "",
            raw_body,
            now=time.time(),
        )
        event = CallbackEvent.from_payload(payload)
        try:
            with self.p.sessions.begin() as session:
                session.add(
                    ProviderCallback(
                        provider="payment",
                        event_id=event.event_id,
                        reference=event.request_ref,
                        event=event.event.value,
                        payload=raw_body.decode("utf-8"),
                        received_at=self.p.clock(),
                        outcome="received",
                    )
                )
        except IntegrityError:
            return "duplicate"
        if event.event in (CallbackEventType.PAYOUT_SUCCEEDED, CallbackEventType.PAYOUT_FAILED):
            outcome = self._payout_result(event)
        else:
            outcome = self._withhold_result(event)
        with self.p.sessions.begin() as session:
            row = session.get(ProviderCallback, ("payment", event.event_id))
            if row is not None:
                row.outcome = outcome
        return outcome

    def _payout_result(self, event: CallbackEvent) -> str:
        with self.p.sessions.begin() as session:
            payout = session.scalars(
                select(Payout).where(Payout.request_ref == event.request_ref).with_for_update()
            ).one_or_none()
            if payout is None:
                return "unknown_reference"
            if payout.status != "requested":
                return f"ignored_{payout.status}"  # late or out-of-order: the first result holds
            if event.amount_fen != payout.amount_fen:
                return "amount_mismatch"
            application = self._application(session, None, payout.application_id, lock=True)
            if event.event is CallbackEventType.PAYOUT_FAILED:
                payout.status, application.status = "failed", "payout_failed"
                return "payout_failed"
            payout.status, payout.settled_at = "succeeded", self.p.clock()
            application.status = "disbursed"
            loan_id, request_ref = payout.loan_id, payout.request_ref
            self.p.loans.disburse(
                loan_id,
                value_date=self._today(session),
                channel="simpay",
                idempotency_key=f"payout:{request_ref}",
                external_ref=request_ref,
                session=session,
            )
            return "disbursed"

    def _withhold_result(self, event: CallbackEvent) -> str:
        with self.p.sessions.begin() as session:
            row = session.get(Withholding, event.request_ref, with_for_update=True)
            if row is None:
                return "unknown_reference"
            if row.status != "requested":
                return f"ignored_{row.status}"
            if event.event is CallbackEventType.WITHHOLD_FAILED:
                row.status = "failed"
                return "withhold_failed"
            row.status = "succeeded"
            if row.purpose == "extension":
                self.p.loans.extend(
                    row.loan_id,
                    channel="simpay",
                    idempotency_key=f"withhold:{row.request_ref}",
                    external_ref=row.request_ref,
                    session=session,
                )
                return "extended"
            self.p.loans.repay(
                row.loan_id,
                row.amount_fen,
                channel="simpay",
                idempotency_key=f"withhold:{row.request_ref}",
                external_ref=row.request_ref,
                session=session,
            )
            return "repaid"

    # ------------------------------------------------------------ repayment

    def loans_of(self, borrower_id: int) -> list[dict[str, Any]]:
        with self.p.sessions() as session:
            rows = session.scalars(
                select(Loan).where(Loan.borrower_id == borrower_id).order_by(Loan.id)
            ).all()
            return [self.loan_view(session, loan.id) for loan in rows]

    def loan_view(self, session: Session, loan_id: int) -> dict[str, Any]:
        loan, state = repo.load_state(session, loan_id)
        today = repo.get_business_date(session) or self.p.clock().date()
        due = sum(i.outstanding_total for i in state.live if i.due_date <= today)
        current = next((i for i in state.live if not i.is_settled), None)
        payoff = payoff_quote(state, today).total_fen if state.status.is_open else 0
        return {
            "id": loan.id,
            "status": state.status.value,
            "principal": format_yuan(loan.principal_fen),
            "outstanding": format_yuan(state.outstanding_total),
            "due_now": format_yuan(due),
            "next_due_date": current.due_date.isoformat() if current else None,
            "next_due": format_yuan(current.outstanding_total) if current else "0.00",
            "payoff": format_yuan(payoff),
            "dpd": repo.loan_cache(state, today)["dpd"],
            "installments": [
                {
                    "number": i.number,
                    "due_date": i.due_date.isoformat(),
                    "total": format_yuan(i.due.total),
                    "paid": format_yuan(i.paid.total),
                    "outstanding": format_yuan(i.outstanding_total),
                    "status": i.status(today, state.rules.grace_days).value,
                }
                for i in state.live
            ],
        }

    def borrower_loan(self, borrower_id: int, loan_id: int) -> dict[str, Any]:
        with self.p.sessions() as session:
            loan = session.get(Loan, loan_id)
            if loan is None or loan.borrower_id != borrower_id:
                raise _not_found("loan", "贷款")
            return self.loan_view(session, loan_id)

    def repay(
        self, borrower_id: int, loan_id: int, *, mode: str, amount_fen: int | None = None
    ) -> dict[str, Any]:
        """Borrower repayment (主动还款): collect through the bound card; the loan is credited
        when the channel's signed callback confirms. Modes: current_due, amount, payoff."""
        with self.p.sessions() as session:
            loan = session.get(Loan, loan_id)
            if loan is None or loan.borrower_id != borrower_id:
                raise _not_found("loan", "贷款")
            _, state = repo.load_state(session, loan_id)
            if not state.status.is_open:
                raise JourneyError(
                    "LOAN_NOT_OPEN",
                    f"the loan is {state.status.value}",
                    f"贷款状态为 {state.status.value}",
                )
            today = repo.get_business_date(session) or self.p.clock().date()
            if mode == "current_due":
                current = next(i for i in state.live if not i.is_settled)
                amount = sum(
                    i.outstanding_total
                    for i in state.live
                    if not i.is_settled and i.due_date <= max(today, current.due_date)
                )
            elif mode == "extension":
                if not state.rules.extension_allowed:
                    raise JourneyError(
                        "EXTENSION_NOT_ALLOWED",
                        "this loan's product does not allow extension",
                        "该产品不支持展期",
                    )
                amount = extension_quote(state, today).total_fen
            elif mode == "payoff":
                amount = payoff_quote(state, today).total_fen
            elif mode == "amount":
                if amount_fen is None or amount_fen <= 0:
                    raise InvalidValue(
                        "amount", amount_fen, "must be positive", "还款金额必须大于零"
                    )
                amount = amount_fen
            else:
                raise InvalidValue(
                    "mode",
                    mode,
                    "must be current_due, amount, payoff or extension",
                    "还款方式应为 current_due、amount、payoff 或 extension",
                )
            application = session.scalars(
                select(Application).where(Application.loan_id == loan_id)
            ).one()
            card = session.get(BankCard, application.card_id)
            assert card is not None
            card_number = self.p.cipher.decrypt("card", card.card_enc)
        return self.request_withholding(
            loan_id,
            amount,
            card_number,
            today,
            purpose="extension" if mode == "extension" else "repayment",
        )

    def request_withholding(
        self, loan_id: int, amount_fen: int, card_number: str, day: date, *, purpose: str
    ) -> dict[str, Any]:
        with self.p.sessions.begin() as session:
            count = len(
                session.scalars(
                    select(Withholding.request_ref).where(Withholding.loan_id == loan_id)
                ).all()
            )
            request_ref = f"WH{loan_id:08d}N{count + 1}"
            session.add(
                Withholding(
                    request_ref=request_ref,
                    loan_id=loan_id,
                    business_date=day,
                    amount_fen=amount_fen,
                    purpose=purpose,
                    status="requested",
                    created_at=self.p.clock(),
                )
            )
        self.p.providers.payment.withhold(request_ref, card_number, amount_fen, self.p.callback_url)
        return {
            "request_ref": request_ref,
            "amount": format_yuan(amount_fen),
            "status": "requested",
            "purpose": purpose,
        }


__all__ = ["RepaymentSteps"]
