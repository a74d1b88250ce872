"""Money at the edge with the payment channel (SPEC §12): request references nobody can guess,
what may still be asked of a loan while collections are in flight, and the one step that
applies a result the channel has confirmed (by its order query, 主动查询) — shared by the
signed callback and by the resolver of requests whose callback never came.

Applying is exactly-once: the request row is locked and must still be in flight, and the
loan postings carry the request's idempotency key. Money the channel confirms is always
posted: to the loan where it applies, else to the borrower's credit balance (溢缴款) with a
refund task for finance.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from xindai.errors import XindaiError
from xindai.integrations.ports import Transfer, TransferStatus
from xindai.ledger import accounts as acc
from xindai.ledger.journal import post_entry
from xindai.money import Fen, format_yuan
from xindai.servicing.account import apply, payoff_quote
from xindai.servicing.service import LoanService
from xindai.servicing.state import LoanState
from xindai.servicing.transactions import Txn, TxnKind
from xindai.store.models import Loan
from xindai.store.models_origination import Application, Payout, RefundTask, Withholding

CHANNEL = "simpay"
REF_PREFIX = {"payout": "PO", "withholding": "WH", "refund": "RF"}


def new_request_ref(kind: str) -> str:
    """A fresh reference for a payout, withholding or refund: 96 random bits, so that nobody
    who saw one can guess another (they are the key of the channel's callbacks)."""
    return f"{REF_PREFIX[kind]}{secrets.token_hex(12).upper()}"


class CollectionRefused(XindaiError):
    """A collection the platform will not ask the channel for (it would collect more than is
    owed, or an extension beyond the product's maximum)."""

    def __init__(self, code: str, en: str, zh: str, **details: object):
        super().__init__(en, zh, code=code)
        self.details = details


# ------------------------------------------------------------------ what may still be asked


def in_flight(session: Session, loan_id: int) -> tuple[Fen, int]:
    """The fen of the loan's collections still awaiting the channel's result, and how many
    of them pay for an extension."""
    row = session.execute(
        select(
            func.coalesce(func.sum(Withholding.amount_fen), 0),
            func.coalesce(func.sum(case((Withholding.purpose == "extension", 1), else_=0)), 0),
        ).where(Withholding.loan_id == loan_id, Withholding.status == "requested")
    ).one()
    return int(row[0]), int(row[1])


@dataclass(frozen=True, slots=True)
class Room:
    """What the loan may still be asked for on `day`: the payoff minus what is in flight."""

    payoff_fen: Fen
    in_flight_fen: Fen
    extensions_in_flight: int

    @property
    def fen(self) -> Fen:
        return max(0, self.payoff_fen - self.in_flight_fen)


def room_of(session: Session, loan_id: int, state: LoanState, day: date) -> Room:
    amount, extensions = in_flight(session, loan_id)
    return Room(payoff_quote(state, day).total_fen, amount, extensions)


def refuse_over_room(room: Room, asked_fen: Fen) -> None:
    """Refuse asking `asked_fen` when it is more than the loan may still be asked for."""
    if asked_fen <= room.fen:
        return
    if room.fen == 0 and room.in_flight_fen:
        raise CollectionRefused(
            "LOAN_COLLECTION_IN_FLIGHT",
            f"collections of {format_yuan(room.in_flight_fen)} yuan are still awaiting the "
            "channel's result; nothing more is owed until they resolve",
            f"尚有 {format_yuan(room.in_flight_fen)} 元扣款正在处理中，结果返回前无需再还款",
            in_flight=format_yuan(room.in_flight_fen),
        )
    raise CollectionRefused(
        "REPAYMENT_EXCEEDS_OWED",
        f"at most {format_yuan(room.fen)} yuan may be collected now (payoff "
        f"{format_yuan(room.payoff_fen)}, in flight {format_yuan(room.in_flight_fen)})",
        f"当前最多可还 {format_yuan(room.fen)} 元（结清金额 {format_yuan(room.payoff_fen)} 元，"
        f"处理中 {format_yuan(room.in_flight_fen)} 元）",
        max_amount=format_yuan(room.fen),
    )


def check_extension(state: LoanState, room: Room, day: date, amount_fen: Fen) -> None:
    """Refuse an extension the loan could not take when its fee arrives: the product's rules
    with the extensions already in flight counted as done (a dry run of the transaction)."""
    from dataclasses import replace

    counted = replace(state, extension_count=state.extension_count + room.extensions_in_flight)
    apply(counted, Txn(0, TxnKind.EXTENSION, day, amount_fen, days=state.rules.extension_days))


# ------------------------------------------------------------------ applying a confirmed result


class Settlement:
    """Applies results the channel confirmed, inside the caller's transaction."""

    def __init__(self, loans: LoanService, now: datetime, today: date):
        self.loans = loans
        self.now = now
        self.today = today

    def apply(self, session: Session, request_ref: str, transfer: Transfer) -> str:
        """Apply `transfer` (the channel's own record of `request_ref`) once; what was done.
        A request no longer in flight is left as it is (`ignored_<status>`)."""
        if transfer.status not in (TransferStatus.SUCCEEDED, TransferStatus.FAILED):
            return "pending"
        withholding = session.get(Withholding, request_ref, with_for_update=True)
        if withholding is not None:
            return self._withholding(session, withholding, transfer)
        payout = session.scalars(
            select(Payout).where(Payout.request_ref == request_ref).with_for_update()
        ).one_or_none()
        if payout is not None:
            return self._payout(session, payout, transfer)
        refund = session.scalars(
            select(RefundTask).where(RefundTask.refund_ref == request_ref).with_for_update()
        ).one_or_none()
        if refund is not None:
            return self._refund(session, refund, transfer)
        return "unknown_reference"

    # --- payouts

    def _payout(self, session: Session, payout: Payout, transfer: Transfer) -> str:
        if payout.status != "requested":
            return f"ignored_{payout.status}"
        application = session.scalars(
            select(Application).where(Application.id == payout.application_id).with_for_update()
        ).one()
        if transfer.status is TransferStatus.FAILED:
            payout.status, payout.reason = "failed", (transfer.reason or "failed")[:64]
            payout.settled_at = self.now
            application.status = "payout_failed"
            return "payout_failed"
        if transfer.moved_fen != payout.amount_fen:
            payout.status, payout.reason = "mismatch", "amount_mismatch"
            return "amount_mismatch"  # the channel paid another amount: finance investigates
        payout.status, payout.settled_at = "succeeded", self.now
        application.status = "disbursed"
        self.loans.disburse(
            payout.loan_id,
            value_date=self.today,
            channel=CHANNEL,
            idempotency_key=f"payout:{payout.request_ref}",
            external_ref=payout.request_ref,
            session=session,
        )
        return "disbursed"

    # --- collections

    def _withholding(self, session: Session, row: Withholding, transfer: Transfer) -> str:
        if row.status != "requested":
            return f"ignored_{row.status}"
        row.settled_at = self.now
        if transfer.status is TransferStatus.FAILED:
            row.status, row.reason = "failed", (transfer.reason or "failed")[:64]
            return "withhold_failed"
        collected = transfer.moved_fen
        row.status, row.collected_fen = "succeeded", collected
        key, ref = f"withhold:{row.request_ref}", row.request_ref
        if row.purpose == "extension" and collected == row.amount_fen:
            try:
                with session.begin_nested():
                    self.loans.extend(
                        row.loan_id,
                        amount_fen=collected,  # only if it is still what the extension costs
                        channel=CHANNEL,
                        idempotency_key=key,
                        external_ref=ref,
                        session=session,
                    )
                return "extended"
            except XindaiError:
                row.reason = "extension_no_longer_applies"
        elif row.purpose == "extension":
            row.reason = "partial_extension_fee"
        try:
            with session.begin_nested():
                result = self.loans.repay(
                    row.loan_id,
                    collected,
                    channel=CHANNEL,
                    idempotency_key=key,
                    external_ref=ref,
                    session=session,
                )
        except XindaiError:
            self._park(session, row.loan_id, collected, ref, "loan_closed")
            return "parked_credit"
        if result.credit_fen > 0:
            reason = row.reason or (
                "loan_settled" if result.credit_fen == collected else "overpaid"
            )
            self._refund_task(session, row.loan_id, result.credit_fen, ref, reason)
            return "repaid_with_credit" if result.credit_fen < collected else "parked_credit"
        return "repaid" if collected == row.amount_fen else "repaid_partial"

    def _park(self, session: Session, loan_id: int, amount_fen: Fen, ref: str, why: str) -> None:
        """Money for a loan that takes no repayment (written off, sold, cancelled): channel
        cash against the borrower's credit balances on the loan's journal, and a refund task."""
        loan = session.get(Loan, loan_id, with_for_update=True)
        assert loan is not None
        post_entry(
            session,
            loan,
            [
                acc.debit(acc.CHANNEL_CASH, amount_fen, CHANNEL),
                acc.credit(acc.CREDIT_BALANCES, amount_fen),
            ],
            kind="unapplied_receipt",
            business_date=self.today,
            value_date=self.today,
            txn_seq=None,
            description=f"unapplied receipt {ref}",
            external_ref=ref,
        )
        self._refund_task(session, loan_id, amount_fen, ref, why)

    def _refund_task(
        self, session: Session, loan_id: int, amount_fen: Fen, ref: str, reason: str
    ) -> None:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        session.add(
            RefundTask(
                borrower_id=loan.borrower_id,
                loan_id=loan_id,
                amount_fen=amount_fen,
                source_ref=ref,
                reason=reason[:64],
                status="open",
                created_at=self.now,
            )
        )

    # --- refunds of credit balances

    def _refund(self, session: Session, task: RefundTask, transfer: Transfer) -> str:
        if task.status != "refunding":
            return f"ignored_{task.status}"
        if transfer.status is TransferStatus.FAILED:
            task.status, task.refund_ref = "open", None  # finance may send it again
            return "refund_failed"
        amount = transfer.moved_fen
        ref = transfer.request_ref
        loan, _ = _loan_with_credit(session, task.loan_id)
        if task.reason == "loan_closed":
            post_entry(
                session,
                loan,
                [
                    acc.debit(acc.CREDIT_BALANCES, amount),
                    acc.credit(acc.CHANNEL_CASH, amount, CHANNEL),
                ],
                kind="unapplied_refund",
                business_date=self.today,
                value_date=self.today,
                txn_seq=None,
                description=f"refund of unapplied receipt {task.source_ref}",
                external_ref=ref,
            )
        else:
            self.loans.refund(
                task.loan_id,
                amount_fen=amount,
                channel=CHANNEL,
                idempotency_key=f"refund:{ref}",
                external_ref=ref,
                session=session,
            )
        task.status, task.done_at = "refunded", self.now
        return "refunded"


def _loan_with_credit(session: Session, loan_id: int) -> tuple[Loan, Fen]:
    from xindai.store import repository as repo

    loan, state = repo.load_state(session, loan_id, for_update=True)
    return loan, state.credit_balance_fen


__all__ = [
    "CHANNEL",
    "CollectionRefused",
    "Room",
    "Settlement",
    "check_extension",
    "in_flight",
    "new_request_ref",
    "refuse_over_room",
    "room_of",
]
