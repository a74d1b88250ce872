"""The state of a loan account as its transaction log makes it: pure frozen values.

Each installment keeps what is due and what was paid, waived and recognised (booked as a
receivable) per component, so that the ledger's receivables always equal the loans' own.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from xindai.dates import add_days
from xindai.errors import InvalidValue
from xindai.money import DayCount, Fen, percent_of
from xindai.products.model import EarlySettlementInterest, Product
from xindai.schedules.model import Schedule
from xindai.servicing.allocation import DEFAULT_ALLOCATION_ORDER, Component

COMPONENTS = (Component.PRINCIPAL, Component.INTEREST, Component.FEE, Component.PENALTY)


class LoanStatus(StrEnum):
    PENDING = "pending"
    DISBURSING = "disbursing"
    ACTIVE = "active"
    OVERDUE = "overdue"
    SETTLED = "settled"
    CANCELLED = "cancelled"
    WRITTEN_OFF = "written_off"
    SOLD = "sold"

    @property
    def is_open(self) -> bool:
        return self in (LoanStatus.ACTIVE, LoanStatus.OVERDUE)

    @property
    def is_closed(self) -> bool:
        return self in (
            LoanStatus.SETTLED,
            LoanStatus.CANCELLED,
            LoanStatus.WRITTEN_OFF,
            LoanStatus.SOLD,
        )


class InstallmentStatus(StrEnum):
    PENDING = "pending"
    DUE = "due"
    PARTIAL = "partial"
    PAID = "paid"
    OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class Amounts:
    """Fen per component."""

    principal: Fen = 0
    interest: Fen = 0
    fee: Fen = 0
    penalty: Fen = 0

    def get(self, component: Component) -> Fen:
        value: Fen = getattr(self, component.value)
        return value

    def add(self, component: Component, fen: Fen) -> Amounts:
        return replace(self, **{component.value: self.get(component) + fen})

    def plus(self, other: Amounts) -> Amounts:
        return Amounts(
            self.principal + other.principal,
            self.interest + other.interest,
            self.fee + other.fee,
            self.penalty + other.penalty,
        )

    @property
    def total(self) -> Fen:
        return self.principal + self.interest + self.fee + self.penalty


@dataclass(frozen=True, slots=True)
class InstallmentState:
    number: int
    start_date: date
    due_date: date
    due: Amounts  # contractual amounts, penalty as accrued
    paid: Amounts = field(default_factory=Amounts)
    waived: Amounts = field(default_factory=Amounts)
    recognised: Amounts = field(
        default_factory=Amounts
    )  # booked as receivable (principal at disbursement)
    cancelled: bool = False  # replaced by a restructure or ended by early settlement

    def outstanding(self, component: Component) -> Fen:
        return self.due.get(component) - self.paid.get(component) - self.waived.get(component)

    @property
    def outstanding_total(self) -> Fen:
        return sum(self.outstanding(c) for c in COMPONENTS)

    def receivable(self, component: Component) -> Fen:
        """What the ledger holds as receivable for this component."""
        return (
            self.recognised.get(component) - self.paid.get(component) - self.waived.get(component)
        )

    @property
    def is_settled(self) -> bool:
        return self.outstanding_total == 0

    def status(self, as_of: date, grace_days: int) -> InstallmentStatus:
        if self.is_settled:
            return InstallmentStatus.PAID
        if as_of > add_days(self.due_date, grace_days):
            return InstallmentStatus.OVERDUE
        if self.paid.total > 0:
            return InstallmentStatus.PARTIAL
        return InstallmentStatus.DUE if as_of >= self.due_date else InstallmentStatus.PENDING


@dataclass(frozen=True, slots=True)
class LoanRules:
    """The product rules a loan account follows (frozen at booking)."""

    principal_fen: Fen
    annual_rate: Decimal
    day_count: DayCount = DayCount.ACT360
    grace_days: int = 0
    penalty_daily_rate: Decimal = Decimal(0)
    penalty_on_total: bool = False
    penalty_cap_fen: Fen | None = None
    overdue_fee_fen: Fen = 0
    allocation_order: tuple[Component, ...] = DEFAULT_ALLOCATION_ORDER
    allow_prepayment: bool = True
    early_settlement_allowed: bool = True
    early_settlement_interest: EarlySettlementInterest = EarlySettlementInterest.TO_DATE
    early_settlement_fee_rate: Decimal = Decimal(0)
    extension_allowed: bool = False
    extension_fee_rate: Decimal = Decimal(0)
    extension_days: int = 0
    extension_max: int = 0
    deferral_max: int = 2
    single_payment: bool = False

    @classmethod
    def from_product(
        cls, product: Product, principal_fen: Fen, annual_rate: Decimal | None = None
    ) -> LoanRules:
        cap = product.penalty.cap_rate_of_principal
        return cls(
            principal_fen=principal_fen,
            annual_rate=product.annual_rate if annual_rate is None else annual_rate,
            day_count=product.day_count,
            grace_days=product.grace_days,
            penalty_daily_rate=product.penalty.daily_rate,
            penalty_on_total=product.penalty.base.value == "overdue_total",
            penalty_cap_fen=percent_of(principal_fen, cap) if cap is not None else None,
            overdue_fee_fen=product.penalty.overdue_fee_fen,
            allocation_order=product.allocation_order,
            allow_prepayment=product.allow_prepayment,
            early_settlement_allowed=product.early_settlement.allowed,
            early_settlement_interest=product.early_settlement.interest,
            early_settlement_fee_rate=product.early_settlement.fee_rate,
            extension_allowed=product.extension.allowed,
            extension_fee_rate=product.extension.fee_rate,
            extension_days=product.extension.days,
            extension_max=product.extension.max_count,
            single_payment=product.type.value == "single",
        )


@dataclass(frozen=True, slots=True)
class LoanState:
    """A loan account at a point of its log."""

    rules: LoanRules
    status: LoanStatus
    installments: tuple[InstallmentState, ...]
    credit_balance_fen: Fen = 0
    penalty_accrued_fen: Fen = 0
    disbursed_on: date | None = None
    closed_on: date | None = None
    extension_count: int = 0
    deferral_count: int = 0
    overdue_fee_charged: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def booked(cls, rules: LoanRules, schedule: Schedule) -> LoanState:
        installments = tuple(
            InstallmentState(
                i.number,
                i.start_date,
                i.due_date,
                Amounts(i.principal_fen, i.interest_fen, i.fee_fen, 0),
            )
            for i in schedule.installments
        )
        return cls(rules, LoanStatus.PENDING, installments)

    @property
    def live(self) -> tuple[InstallmentState, ...]:
        return tuple(i for i in self.installments if not i.cancelled)

    def outstanding(self, component: Component) -> Fen:
        return sum(i.outstanding(component) for i in self.live)

    def receivable(self, component: Component) -> Fen:
        return sum(i.receivable(component) for i in self.installments)

    @property
    def outstanding_total(self) -> Fen:
        return sum(self.outstanding(c) for c in COMPONENTS)

    def oldest_unpaid_due(self) -> date | None:
        unpaid = [i.due_date for i in self.live if not i.is_settled]
        return min(unpaid) if unpaid else None

    def overdue_installments(self, as_of: date) -> tuple[InstallmentState, ...]:
        grace = self.rules.grace_days
        return tuple(
            i for i in self.live if not i.is_settled and as_of > add_days(i.due_date, grace)
        )

    def installment(self, number: int) -> InstallmentState:
        """Installment `number`; `InvalidValue` when the loan has none of that number (a
        caller's input, e.g. a waiver line or a deferral)."""
        for candidate in self.installments:
            if candidate.number == number:
                return candidate
        last = max((i.number for i in self.installments), default=0)
        raise InvalidValue(
            "installment",
            number,
            f"the loan has installments 1–{last}",
            f"该借据只有第 1–{last} 期",
        )

    @property
    def maturity_date(self) -> date | None:
        live = self.live
        return max(i.due_date for i in live) if live else None
