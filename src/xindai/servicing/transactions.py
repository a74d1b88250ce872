"""Loan transactions (SPEC §4): what goes on a loan's log, and what posting one produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from xindai.ledger.accounts import Line
from xindai.money import Fen
from xindai.servicing.allocation import Component
from xindai.servicing.state import Amounts


class TxnKind(StrEnum):
    DISBURSEMENT = "disbursement"  # 放款
    REPAYMENT = "repayment"  # 还款
    REVERSAL = "reversal"  # 冲正
    DUE = "due"  # 到期应收确认 (close of business)
    PENALTY_ACCRUAL = "penalty_accrual"  # 罚息计提 (close of business)
    FEE_CHARGE = "fee_charge"
    WAIVER = "waiver"  # 减免
    EARLY_SETTLEMENT = "early_settlement"  # 提前结清
    EXTENSION = "extension"  # 展期
    DEFERRAL = "deferral"  # 延期还款
    RESTRUCTURE = "restructure"  # 债务重组
    WRITE_OFF = "write_off"  # 核销
    SALE = "sale"  # 资产转让
    REFUND = "refund"  # 溢缴款退款
    CANCELLATION = "cancellation"

    @property
    def is_system(self) -> bool:
        """Posted by close of business and recomputed when a back-dated change replays."""
        return self in (TxnKind.DUE, TxnKind.PENALTY_ACCRUAL)

    @property
    def needs_approval(self) -> bool:
        """Maker-checker: requested by one user, effective when a second approves."""
        return self in (TxnKind.WAIVER, TxnKind.RESTRUCTURE, TxnKind.WRITE_OFF, TxnKind.SALE)


@dataclass(frozen=True, slots=True)
class TxnLine:
    """An explicit amount on one installment's component (due, penalty, waiver, fee)."""

    installment: int
    component: Component
    fen: Fen


@dataclass(frozen=True, slots=True)
class NewInstallment:
    number: int
    start_date: date
    due_date: date
    principal_fen: Fen
    interest_fen: Fen
    fee_fen: Fen


@dataclass(frozen=True, slots=True)
class Txn:
    """One entry of a loan's log. Which optional fields matter depends on `kind`."""

    seq: int
    kind: TxnKind
    value_date: date
    amount_fen: Fen = 0
    lines: tuple[TxnLine, ...] = ()
    channel: str = "default"
    reverses_seq: int | None = None
    installment: int | None = None  # deferral, fee charge
    new_due_date: date | None = None  # deferral
    days: int | None = None  # extension
    upfront_fee_fen: Fen = 0  # disbursement
    upfront_fee_mode: str = "separate"  # disbursement: deduct | separate | amortized
    new_installments: tuple[NewInstallment, ...] = ()  # restructure
    overdue_fee_installments: tuple[int, ...] = ()  # penalty accrual: one-off fees charged


@dataclass(frozen=True, slots=True)
class Posting:
    """What posting a transaction did: the journal lines and where the money went."""

    lines: tuple[Line, ...] = ()
    applied: Amounts = field(
        default_factory=Amounts
    )  # paid, waived, charged or recognised per component
    credit_fen: Fen = 0  # to (or, negative, from) the borrower's credit balance
    by_installment: tuple[TxnLine, ...] = field(default=())
