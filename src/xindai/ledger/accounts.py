"""The chart of accounts (科目表) and balanced journal lines: pure values, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from xindai.errors import XindaiError
from xindai.money import Fen


class AccountKind(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"


@dataclass(frozen=True, slots=True)
class AccountDef:
    code: str
    name_zh: str
    name_en: str
    kind: AccountKind


CHANNEL_CASH = AccountDef("1001", "渠道资金", "Channel cash", AccountKind.ASSET)
PRINCIPAL_RECEIVABLE = AccountDef("1101", "应收本金", "Principal receivable", AccountKind.ASSET)
INTEREST_RECEIVABLE = AccountDef("1102", "应收利息", "Interest receivable", AccountKind.ASSET)
FEE_RECEIVABLE = AccountDef("1103", "应收费用", "Fee receivable", AccountKind.ASSET)
PENALTY_RECEIVABLE = AccountDef("1104", "应收罚息", "Penalty receivable", AccountKind.ASSET)
CREDIT_BALANCES = AccountDef(
    "2101", "借款人溢缴款", "Borrower credit balances", AccountKind.LIABILITY
)
INTEREST_INCOME = AccountDef("4101", "利息收入", "Interest income", AccountKind.INCOME)
FEE_INCOME = AccountDef("4102", "手续费收入", "Fee income", AccountKind.INCOME)
PENALTY_INCOME = AccountDef("4103", "罚息收入", "Penalty income", AccountKind.INCOME)
WRITE_OFF_LOSS = AccountDef("6101", "核销损失", "Write-off loss", AccountKind.EXPENSE)
SALE_LOSS = AccountDef("6102", "资产转让损失", "Sale loss", AccountKind.EXPENSE)

CHART: tuple[AccountDef, ...] = (
    CHANNEL_CASH,
    PRINCIPAL_RECEIVABLE,
    INTEREST_RECEIVABLE,
    FEE_RECEIVABLE,
    PENALTY_RECEIVABLE,
    CREDIT_BALANCES,
    INTEREST_INCOME,
    FEE_INCOME,
    PENALTY_INCOME,
    WRITE_OFF_LOSS,
    SALE_LOSS,
)
BY_CODE = {account.code: account for account in CHART}


class UnbalancedEntry(XindaiError):
    code = "LEDGER_UNBALANCED"


@dataclass(frozen=True, slots=True)
class Line:
    """One journal line: exactly one of debit or credit is positive."""

    account: str
    debit_fen: Fen = 0
    credit_fen: Fen = 0
    channel: str | None = None


def debit(account: AccountDef, fen: Fen, channel: str | None = None) -> Line:
    return Line(account.code, fen, 0, channel if account is CHANNEL_CASH else None)


def credit(account: AccountDef, fen: Fen, channel: str | None = None) -> Line:
    return Line(account.code, 0, fen, channel if account is CHANNEL_CASH else None)


def entry(*lines: Line) -> tuple[Line, ...]:
    """Drop zero lines, turn negatives to the other side, and check the entry balances."""
    cleaned: list[Line] = []
    for line in lines:
        amount = line.debit_fen - line.credit_fen
        if amount > 0:
            cleaned.append(Line(line.account, amount, 0, line.channel))
        elif amount < 0:
            cleaned.append(Line(line.account, 0, -amount, line.channel))
    debits = sum(line.debit_fen for line in cleaned)
    credits = sum(line.credit_fen for line in cleaned)
    if debits != credits:
        raise UnbalancedEntry(
            f"journal entry does not balance: debits {debits} ≠ credits {credits}",
            f"分录借贷不平：借 {debits} ≠ 贷 {credits}",
        )
    return tuple(cleaned)


def mirror(lines: tuple[Line, ...]) -> tuple[Line, ...]:
    """The reversing entry: every debit becomes a credit and vice versa."""
    return tuple(Line(ln.account, ln.credit_fen, ln.debit_fen, ln.channel) for ln in lines)
