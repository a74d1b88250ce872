"""What the borrower may pay on a loan today (还款 screen), each amount exactly what
`RepaymentSteps.repay` would ask the card for in that mode, and the loan's receipts
(还款记录): every collection asked of the card with the channel's result and where the
money went, and repayments posted by other means.

Nothing here computes money of its own: the payoff and extension figures are servicing's
quotes (`payoff_quote`, `extension_quote`), what may still be asked is `room_of` (the payoff
minus collections in flight), and the extension is dry-run by `check_extension`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xindai.dates import add_days
from xindai.errors import XindaiError
from xindai.money import Fen, format_yuan
from xindai.origination.journey_base import JourneyBase, JourneyError, not_found
from xindai.origination.payments import check_extension, room_of
from xindai.servicing.account import extension_quote, payoff_quote
from xindai.servicing.state import LoanState
from xindai.store import repository as repo
from xindai.store.models import Loan, LoanTransaction
from xindai.store.models_origination import Withholding

RECEIPT_KINDS = ("repayment", "early_settlement", "extension")
"""Loan transactions that are money the borrower paid."""
MAX_RECEIPTS = 200

FAILURE_REASONS: dict[str, tuple[str, str]] = {
    "insufficient_balance": ("银行卡余额不足", "the card's balance was not enough"),
    "card_limit_exceeded": ("超出银行卡单笔或单日限额", "over the card's payment limit"),
    "never_accepted": ("支付通道未受理，未扣款", "the channel never took the request"),
    "forced_failure": ("扣款失败", "the collection failed"),
    "rejected": ("支付通道拒绝了该笔扣款", "the channel refused the collection"),
    "extension_no_longer_applies": (
        "展期条件已变化，款项已作为还款入账",
        "the extension no longer applied; the money was credited as a repayment",
    ),
    "partial_extension_fee": (
        "展期费未足额扣收，款项已作为还款入账",
        "the extension fee was not collected in full; credited as a repayment",
    ),
}
"""What a borrower is told of a collection's reason (the channel's code → zh-CN, English)."""


def current_due_fen(state: LoanState, today: date) -> Fen:
    """What the `current_due` mode asks before the cap of what may still be asked: every
    unsettled installment due on or before the later of `today` and the current (oldest
    unsettled) installment's due date; 0 when nothing is unsettled."""
    unsettled = [i for i in state.live if not i.is_settled]
    if not unsettled:
        return 0
    until = max(today, unsettled[0].due_date)
    return sum(i.outstanding_total for i in unsettled if i.due_date <= until)


def _reason(code: str | None) -> dict[str, str] | None:
    if not code:
        return None
    zh, en = FAILURE_REASONS.get(code, ("扣款未成功", "the collection did not succeed"))
    return {"code": code, "zh-CN": zh, "en": en}


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class RepaymentOptions(JourneyBase):
    """The repayment screen's figures and the receipts of one of the borrower's loans."""

    def _loan(self, session: Session, borrower_id: int, loan_id: int) -> Loan:
        loan = session.get(Loan, loan_id)
        if loan is None or loan.borrower_id != borrower_id:
            raise not_found("loan", "贷款")  # never reveal another borrower's
        return loan

    def options(self, borrower_id: int, loan_id: int) -> dict[str, Any]:
        """Today's amounts per mode (`current_due`, `amount`, `payoff`, `extension`), as
        `repay` would ask them; `LOAN_NOT_OPEN` for a loan that takes no repayment."""
        with self.p.reads() as session:
            self._loan(session, borrower_id, loan_id)
            _, state = repo.load_state(session, loan_id)
            if not state.status.is_open:
                raise JourneyError(
                    "LOAN_NOT_OPEN",
                    f"the loan is {state.status.value}",
                    f"贷款状态为 {state.status.value}",
                )
            today = self._today(session)
            room = room_of(session, loan_id, state, today)
            payoff = payoff_quote(state, today)
            unsettled = [i for i in state.live if not i.is_settled]
            until = max(today, unsettled[0].due_date) if unsettled else today
            current = min(room.fen, current_due_fen(state, today))
            return {
                "loan_id": loan_id,
                "as_of": today.isoformat(),
                "status": state.status.value,
                "in_flight": format_yuan(room.in_flight_fen),
                "max_amount": format_yuan(room.fen),
                "current_due": {
                    "amount": format_yuan(current),
                    "due_date": unsettled[0].due_date.isoformat() if unsettled else None,
                    "installments": [i.number for i in unsettled if i.due_date <= until],
                    "available": current > 0,
                },
                "payoff": {
                    "amount": format_yuan(room.fen),
                    "total": format_yuan(payoff.total_fen),
                    "principal": format_yuan(payoff.amounts.principal),
                    "interest": format_yuan(payoff.amounts.interest),
                    "fee": format_yuan(payoff.amounts.fee),
                    "penalty": format_yuan(payoff.amounts.penalty),
                    "settlement_fee": format_yuan(payoff.settlement_fee_fen),
                    "interest_saved": format_yuan(payoff.interest_saved_fen),
                    "available": room.fen > 0,
                },
                "any_amount": {
                    "min": format_yuan(1 if room.fen > 0 else 0),
                    "max": format_yuan(room.fen),
                    "available": room.fen > 0,
                },
                "extension": self._extension(state, room, today),
            }

    @staticmethod
    def _extension(state: LoanState, room: Any, today: date) -> dict[str, Any]:
        rules = state.rules
        offered = rules.extension_allowed and rules.single_payment
        view: dict[str, Any] = {
            "allowed": offered,
            "available": False,
            "amount": None,
            "fee": None,
            "interest": None,
            "days": rules.extension_days if offered else None,
            "new_due_date": None,
            "used": state.extension_count + room.extensions_in_flight,
            "max": rules.extension_max if offered else 0,
            "refusal": None,
        }
        if not offered:
            view["refusal"] = {
                "code": "EXTENSION_NOT_ALLOWED",
                "zh-CN": "该产品不支持展期",
                "en": "this loan's product does not allow extension",
            }
            return view
        quote = extension_quote(state, today)
        item = next(i for i in state.live if not i.is_settled)
        view |= {
            "amount": format_yuan(quote.total_fen),
            "fee": format_yuan(quote.fee_fen),
            "interest": format_yuan(quote.interest_fen),
            "new_due_date": add_days(item.due_date, rules.extension_days).isoformat(),
        }
        try:
            check_extension(state, room, today, quote.total_fen)
            if quote.total_fen > room.fen:
                raise JourneyError(
                    "REPAYMENT_EXCEEDS_OWED",
                    "collections in flight leave no room for the extension fee",
                    "处理中的扣款尚未返回，暂不能展期",
                )
        except XindaiError as refused:
            view["refusal"] = {
                "code": refused.code,
                "zh-CN": refused.message_zh,
                "en": refused.message_en,
            }
            return view
        view["available"] = True
        return view

    def receipts(self, borrower_id: int, loan_id: int) -> list[dict[str, Any]]:
        """The loan's collections and payments, newest first (at most `MAX_RECEIPTS`): each
        collection asked of the card with what the channel confirmed and how the loan was
        credited; repayments posted by other means (offline) as `offline`."""
        with self.p.reads() as session:
            self._loan(session, borrower_id, loan_id)
            asked = session.scalars(
                select(Withholding)
                .where(Withholding.loan_id == loan_id)
                .order_by(Withholding.created_at.desc(), Withholding.request_ref.desc())
                .limit(MAX_RECEIPTS)
            ).all()
            posted = session.scalars(
                select(LoanTransaction)
                .where(
                    LoanTransaction.loan_id == loan_id,
                    LoanTransaction.kind.in_(RECEIPT_KINDS),
                )
                .order_by(LoanTransaction.seq.desc())
            ).all()
        by_ref = {t.external_ref: t for t in posted if t.external_ref}
        refs = {w.request_ref for w in asked}
        found: list[tuple[datetime, dict[str, Any]]] = []
        for row in asked:
            txn = by_ref.get(row.request_ref)
            found.append((row.created_at, self._collection(row, txn)))
        for txn in posted:
            if txn.external_ref in refs or (txn.external_ref or "").startswith("WH"):
                continue  # a collection's posting (listed with it), older than the page
            found.append((txn.created_at, self._offline(txn)))
        found.sort(key=lambda pair: pair[0], reverse=True)
        return [view for _, view in found[:MAX_RECEIPTS]]

    @staticmethod
    def _applied(txn: LoanTransaction | None) -> dict[str, str] | None:
        if txn is None:
            return None
        return {
            "principal": format_yuan(txn.principal_fen),
            "interest": format_yuan(txn.interest_fen),
            "fee": format_yuan(txn.fee_fen),
            "penalty": format_yuan(txn.penalty_fen),
        }

    def _collection(self, row: Withholding, txn: LoanTransaction | None) -> dict[str, Any]:
        succeeded = row.status == "succeeded"
        return {
            "reference": row.request_ref,
            "origin": row.origin if row.origin in ("borrower", "auto") else "borrower",
            "purpose": row.purpose,
            "status": row.status,
            "asked": format_yuan(row.amount_fen),
            "amount": format_yuan(row.collected_fen or 0) if succeeded else "0.00",
            "applied": self._applied(txn),
            "credit": format_yuan(txn.credit_fen) if txn is not None else None,
            "reversed": bool(txn is not None and txn.reversed),
            "business_date": row.business_date.isoformat(),
            "requested_at": row.created_at.isoformat(),
            "settled_at": _at(row.settled_at),
            "reason": _reason(row.reason),
        }

    def _offline(self, txn: LoanTransaction) -> dict[str, Any]:
        return {
            "reference": txn.external_ref,
            "origin": "offline",
            "purpose": "extension" if txn.kind == "extension" else "repayment",
            "status": "succeeded",
            "asked": None,
            "amount": format_yuan(txn.amount_fen),
            "applied": self._applied(txn),
            "credit": format_yuan(txn.credit_fen),
            "reversed": txn.reversed,
            "business_date": txn.posted_on.isoformat(),
            "requested_at": txn.created_at.isoformat(),
            "settled_at": txn.created_at.isoformat(),
            "reason": None,
        }


__all__ = ["FAILURE_REASONS", "RepaymentOptions", "current_due_fen"]
