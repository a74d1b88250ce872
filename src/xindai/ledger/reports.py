"""Trial balance (试算平衡表) as of any business date, from the journal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xindai.ledger.accounts import BY_CODE
from xindai.money import Fen
from xindai.store.models import JournalLine


@dataclass(frozen=True, slots=True)
class TrialBalanceRow:
    account: str
    name_zh: str
    name_en: str
    kind: str
    debit_fen: Fen
    credit_fen: Fen

    @property
    def balance_fen(self) -> Fen:
        """Debit − credit (positive: a debit balance)."""
        return self.debit_fen - self.credit_fen


@dataclass(frozen=True, slots=True)
class TrialBalance:
    as_of: date
    rows: tuple[TrialBalanceRow, ...]

    @property
    def total_debit_fen(self) -> Fen:
        return sum(r.debit_fen for r in self.rows)

    @property
    def total_credit_fen(self) -> Fen:
        return sum(r.credit_fen for r in self.rows)

    @property
    def balanced(self) -> bool:
        return self.total_debit_fen == self.total_credit_fen

    def balance(self, account: str) -> Fen:
        return sum(r.balance_fen for r in self.rows if r.account == account)


def trial_balance(session: Session, as_of: date) -> TrialBalance:
    """Debits and credits per account of every line booked on or before `as_of`."""
    query = (
        select(
            JournalLine.account_code,
            func.sum(JournalLine.debit_fen),
            func.sum(JournalLine.credit_fen),
        )
        .where(JournalLine.business_date <= as_of)
        .group_by(JournalLine.account_code)
        .order_by(JournalLine.account_code)
    )
    rows = []
    for code, debits, credits in session.execute(query).all():
        account = BY_CODE.get(code)
        rows.append(
            TrialBalanceRow(
                code,
                account.name_zh if account else code,
                account.name_en if account else code,
                account.kind.value if account else "unknown",
                int(debits or 0),
                int(credits or 0),
            )
        )
    return TrialBalance(as_of, tuple(rows))
