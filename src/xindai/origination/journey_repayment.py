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

from xindai.errors import InvalidValue, XindaiError
from xindai.integrations.errors import ProviderRejected, ProviderUnavailable
from xindai.integrations.ports import CallbackEvent, TransferStatus
from xindai.integrations.signing import verify_callback
from xindai.money import format_yuan
from xindai.origination.journey_base import JourneyBase, JourneyError
from xindai.origination.journey_base import not_found as _not_found
from xindai.origination.payments import (
    Settlement,
    check_extension,
    new_request_ref,
    refuse_over_room,
    room_of,
)
from xindai.origination.repayment_options import current_due_fen
from xindai.servicing.account import extension_quote, payoff_quote
from xindai.store import repository as repo
from xindai.store.models import Loan
from xindai.store.models_origination import (
    Application,
    BankCard,
    ProviderCallback,
    Withholding,
)


class RepaymentSteps(JourneyBase):
    """Callbacks, loans, repayment and withholding (a part of `OriginationService`)."""

    # ------------------------------------------------------------ callbacks

    def handle_payment_callback(
        self, raw_body: bytes, timestamp: str | None, signature: str | None
    ) -> str:
        """Verify a payment callback, confirm it with the channel's order query and apply
        what the channel confirms, exactly once; returns what was done.

        The dedup row of the event and the posting commit in one transaction, so a crash or
        an error in between loses nothing: the channel's retry applies it. While the channel
        cannot confirm (unreachable, or still pending there), `CallbackUnconfirmed` (503)
        asks the channel to deliver again; the resolver also picks the request up."""
        payload = verify_callback(
            self.p.settings.provider_secret,
            timestamp or "",
            signature or "",
            raw_body,
            now=time.time(),
        )
        event = CallbackEvent.from_payload(payload)
        with self.p.reads() as session:
            if session.get(ProviderCallback, ("payment", event.event_id)) is not None:
                return "duplicate"
        try:
            transfer = self.p.providers.payment.query(event.request_ref)
        except ProviderRejected as exc:
            if exc.status_code == 404:  # the channel never took this request: a forgery
                return self._record_callback(event, raw_body, "not_confirmed_by_channel")
            raise CallbackUnconfirmed(event.request_ref, str(exc)) from None
        except ProviderUnavailable as exc:
            raise CallbackUnconfirmed(event.request_ref, str(exc)) from None
        if transfer.status not in (TransferStatus.SUCCEEDED, TransferStatus.FAILED):
            raise CallbackUnconfirmed(event.request_ref, f"still {transfer.status.value}")
        try:
            with self.p.sessions.begin() as session:
                row = self._callback_row(event, raw_body, "received")
                session.add(row)
                session.flush()  # a duplicate event fails here, before anything is applied
                outcome = Settlement(self.p.loans, self.p.clock(), self._today(session)).apply(
                    session, event.request_ref, transfer
                )
                if outcome == "unknown_reference":
                    # the channel knows it, this platform not yet: the request's own
                    # transaction (e.g. close of business) has not committed. Ask again later.
                    raise CallbackUnconfirmed(event.request_ref, "not yet recorded here")
                if outcome.startswith("ignored_"):
                    pass  # late or out of order: the first confirmed result holds
                elif event.event.succeeded != (transfer.status is TransferStatus.SUCCEEDED):
                    outcome += "_callback_contradicted"
                elif event.event.succeeded and event.amount_fen != transfer.moved_fen:
                    outcome += "_callback_amount_differs"
                row.outcome = outcome[:32]
                return outcome
        except IntegrityError:
            return "duplicate"

    def _callback_row(
        self, event: CallbackEvent, raw_body: bytes, outcome: str
    ) -> ProviderCallback:
        return ProviderCallback(
            provider="payment",
            event_id=event.event_id,
            reference=event.request_ref[:64],
            event=event.event.value,
            payload=raw_body.decode("utf-8"),
            received_at=self.p.clock(),
            outcome=outcome,
        )

    def _record_callback(self, event: CallbackEvent, raw_body: bytes, outcome: str) -> str:
        """Keep a callback that moves nothing (kept for the audit of the channel)."""
        try:
            with self.p.sessions.begin() as session:
                session.add(self._callback_row(event, raw_body, outcome))
        except IntegrityError:
            return "duplicate"
        return outcome

    # ------------------------------------------------------------ repayment

    def loans_of(self, borrower_id: int) -> list[dict[str, Any]]:
        with self.p.reads() as session:
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
        with self.p.reads() as session:
            loan = session.get(Loan, loan_id)
            if loan is None or loan.borrower_id != borrower_id:
                raise _not_found("loan", "贷款")
            return self.loan_view(session, loan_id)

    def repay(
        self, borrower_id: int, loan_id: int, *, mode: str, amount_fen: int | None = None
    ) -> dict[str, Any]:
        """Borrower repayment (主动还款): collect through the bound card; the loan is credited
        when the channel confirms. Modes: current_due, amount, payoff, extension.

        Never asks for more than the payoff minus the collections still in flight (the loan
        row is locked while that is worked out and the request recorded, so concurrent
        requests queue); an extension counts the extensions in flight against the maximum."""
        if mode not in REPAYMENT_MODES:
            raise InvalidValue(
                "mode",
                mode,
                "must be current_due, amount, payoff or extension",
                "还款方式应为 current_due、amount、payoff 或 extension",
            )
        if mode == "amount" and (amount_fen is None or amount_fen <= 0):
            raise InvalidValue("amount", amount_fen, "must be positive", "还款金额必须大于零")
        with self.p.sessions.begin() as session:
            loan = session.get(Loan, loan_id)
            if loan is None or loan.borrower_id != borrower_id:
                raise _not_found("loan", "贷款")
            _, state = repo.load_state(session, loan_id, for_update=True)
            if not state.status.is_open:
                raise JourneyError(
                    "LOAN_NOT_OPEN",
                    f"the loan is {state.status.value}",
                    f"贷款状态为 {state.status.value}",
                )
            today = self._today(session)
            room = room_of(session, loan_id, state, today)
            if mode == "current_due":
                amount = min(room.fen, current_due_fen(state, today))
                refuse_over_room(room, max(amount, 1))
            elif mode == "extension":
                if not state.rules.extension_allowed:
                    raise JourneyError(
                        "EXTENSION_NOT_ALLOWED",
                        "this loan's product does not allow extension",
                        "该产品不支持展期",
                    )
                amount = extension_quote(state, today).total_fen
                check_extension(state, room, today, amount)
                refuse_over_room(room, amount)
            elif mode == "payoff":
                amount = room.fen
                refuse_over_room(room, max(amount, 1))
            else:
                assert amount_fen is not None
                amount = amount_fen
                refuse_over_room(room, amount)
            purpose = "extension" if mode == "extension" else "repayment"
            request_ref = self._new_withholding(session, loan_id, amount, today, purpose)
            card_number = self._card_of_loan(session, loan_id)
        self._send_withholding(request_ref, card_number, amount)
        return {
            "request_ref": request_ref,
            "amount": format_yuan(amount),
            "status": "requested",
            "purpose": purpose,
        }

    def _new_withholding(
        self,
        session: Session,
        loan_id: int,
        amount_fen: int,
        day: date,
        purpose: str,
        origin: str = "borrower",
    ) -> str:
        request_ref = new_request_ref("withholding")
        session.add(
            Withholding(
                request_ref=request_ref,
                loan_id=loan_id,
                business_date=day,
                amount_fen=amount_fen,
                purpose=purpose,
                status="requested",
                origin=origin,
                created_at=self.p.clock(),
            )
        )
        return request_ref

    def _card_of_loan(self, session: Session, loan_id: int) -> str:
        application = session.scalars(
            select(Application).where(Application.loan_id == loan_id)
        ).one()
        card = session.get(BankCard, application.card_id)
        assert card is not None
        return self.p.cipher.decrypt("card", card.card_enc)

    def _send_withholding(self, request_ref: str, card_number: str, amount_fen: int) -> None:
        """Ask the channel; a refusal fails the request at once, an outage leaves it in flight
        unless the channel's order query shows it never arrived (then it fails too)."""
        try:
            self.p.providers.payment.withhold(
                request_ref, card_number, amount_fen, self.p.callback_url
            )
        except ProviderRejected as exc:
            self._fail_withholding(request_ref, exc.detail or "rejected")
            raise
        except ProviderUnavailable:
            try:
                self.p.providers.payment.query(request_ref)
            except ProviderRejected as exc:
                if exc.status_code == 404:
                    self._fail_withholding(request_ref, "never_accepted")
            except ProviderUnavailable:
                pass  # unknown: the resolver asks again later
            raise

    def _fail_withholding(self, request_ref: str, reason: str) -> None:
        with self.p.sessions.begin() as session:
            row = session.get(Withholding, request_ref, with_for_update=True)
            if row is not None and row.status == "requested":
                row.status, row.reason, row.settled_at = "failed", reason[:64], self.p.clock()


REPAYMENT_MODES = ("current_due", "amount", "payoff", "extension")


class CallbackUnconfirmed(XindaiError):
    """The channel could not confirm a callback yet: deliver it again later (HTTP 503)."""

    code = "CALLBACK_UNCONFIRMED"

    def __init__(self, request_ref: str, why: str):
        super().__init__(
            f"the channel has not confirmed {request_ref} yet ({why}); deliver again later",
            f"支付通道尚未确认 {request_ref}（{why}），请稍后重发",
        )


__all__ = ["REPAYMENT_MODES", "CallbackUnconfirmed", "RepaymentSteps"]
