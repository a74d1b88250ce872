"""Schedule inputs and outputs: loan terms, installments and the schedule with its totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum, StrEnum

from xindai.errors import InvalidValue
from xindai.money import DayCount, Fen

#: Allowed number of units per term, by period unit (inclusive bounds).
TERM_LIMITS: dict[str, tuple[int, int]] = {"day": (1, 366), "week": (1, 104), "month": (1, 60)}


class Method(StrEnum):
    """Repayment method (还款方式), SPEC §3."""

    BULLET = "bullet"  # 一次性还本付息
    ANNUITY = "annuity"  # 等额本息
    EQUAL_PRINCIPAL = "equal_principal"  # 等额本金
    FLAT = "flat"  # 等本等息
    INTEREST_FIRST = "interest_first"  # 先息后本
    PRINCIPAL_FIRST = "principal_first"  # 先本后息

    @property
    def label_zh(self) -> str:
        return _METHOD_ZH[self]


_METHOD_ZH = {
    Method.BULLET: "一次性还本付息",
    Method.ANNUITY: "等额本息",
    Method.EQUAL_PRINCIPAL: "等额本金",
    Method.FLAT: "等本等息",
    Method.INTEREST_FIRST: "先息后本",
    Method.PRINCIPAL_FIRST: "先本后息",
}


class PeriodUnit(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"

    @property
    def days(self) -> int | None:
        """Days per period for day and week units; None for calendar months."""
        return {"day": 1, "week": 7, "month": None}[self.value]


class UpfrontFeeMode(StrEnum):
    """How an upfront fee (头息) is collected."""

    DEDUCT = "deduct"  # taken from the payout (砍头息)
    SEPARATE = "separate"  # paid by the borrower before the payout
    AMORTIZED = "amortized"  # spread over the installments as a service fee


class PeriodicFeeKind(StrEnum):
    RATE = "rate"  # a fraction of the principal per installment
    FIXED = "fixed"  # a fixed amount in fen per installment


def _choice(enum_type: type[Enum], value: object, field_name: str) -> None:
    if not isinstance(value, enum_type):
        allowed = ", ".join(str(m.value) for m in enum_type)
        raise InvalidValue(field_name, value, f"must be one of {allowed}", f"可选值：{allowed}")


@dataclass(frozen=True, slots=True)
class ScheduleTerms:
    """Everything a schedule depends on. Amounts in fen, rates as Decimal fractions.

    For `Method.BULLET`, `term` is the number of units until the single due date; for the
    other methods it is the number of installments, one per unit.
    """

    principal_fen: Fen
    annual_rate: Decimal
    term: int
    unit: PeriodUnit
    method: Method
    start_date: date
    day_count: DayCount = DayCount.ACT360
    interest_start_days: int = 0
    interest_free_days: int = 0
    repayment_day: int | None = None
    upfront_fee_rate: Decimal = Decimal(0)
    upfront_fee_mode: UpfrontFeeMode = UpfrontFeeMode.DEDUCT
    periodic_fee_kind: PeriodicFeeKind = PeriodicFeeKind.RATE
    periodic_fee_value: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        _choice(Method, self.method, "method")
        _choice(PeriodUnit, self.unit, "unit")
        _choice(DayCount, self.day_count, "day_count")
        _choice(UpfrontFeeMode, self.upfront_fee_mode, "upfront_fee_mode")
        _choice(PeriodicFeeKind, self.periodic_fee_kind, "periodic_fee_kind")
        if not isinstance(self.principal_fen, int) or self.principal_fen <= 0:
            raise InvalidValue(
                "principal", self.principal_fen, "must be a positive amount", "本金必须大于零"
            )
        if (
            not isinstance(self.annual_rate, Decimal)
            or not self.annual_rate.is_finite()
            or not (0 <= self.annual_rate <= 1)
        ):
            raise InvalidValue(
                "rate",
                self.annual_rate,
                "must be between 0 and 1 (0%–100%)",
                "年利率必须在 0 到 1（0%–100%）之间",
            )
        low, high = TERM_LIMITS[self.unit.value]
        if not isinstance(self.term, int) or not low <= self.term <= high:
            raise InvalidValue(
                "term",
                self.term,
                f"must be {low}–{high} for unit {self.unit.value}",
                f"期限单位为 {self.unit.value} 时应在 {low}–{high} 之间",
            )
        for name in ("interest_start_days", "interest_free_days"):
            days = getattr(self, name)
            if not isinstance(days, int) or not 0 <= days <= 366:
                raise InvalidValue(name, days, "must be 0–366 days", "应在 0–366 天之间")
        if self.repayment_day is not None:
            if self.unit is not PeriodUnit.MONTH or self.method is Method.BULLET:
                raise InvalidValue(
                    "repayment_day",
                    self.repayment_day,
                    "a fixed repayment day needs monthly installments",
                    "固定还款日仅适用于按月分期",
                )
            if not 1 <= self.repayment_day <= 28:
                raise InvalidValue(
                    "repayment_day", self.repayment_day, "must be 1–28", "固定还款日应在 1–28 之间"
                )
        if not self.upfront_fee_rate.is_finite() or not 0 <= self.upfront_fee_rate < 1:
            raise InvalidValue(
                "upfront_fee",
                self.upfront_fee_rate,
                "must be at least 0 and below 1",
                "头息比例应在 0 到 1 之间",
            )
        if not self.periodic_fee_value.is_finite() or self.periodic_fee_value < 0:
            raise InvalidValue(
                "periodic_fee", self.periodic_fee_value, "must not be negative", "期费不能为负"
            )
        if self.periodic_fee_kind is PeriodicFeeKind.RATE and self.periodic_fee_value >= 1:
            raise InvalidValue(
                "periodic_fee",
                self.periodic_fee_value,
                "a rate per installment must be below 1",
                "每期费率应小于 1",
            )
        if (
            self.periodic_fee_kind is PeriodicFeeKind.FIXED
            and self.periodic_fee_value != self.periodic_fee_value.to_integral_value()
        ):
            raise InvalidValue(
                "periodic_fee",
                self.periodic_fee_value,
                "a fixed fee is a whole number of fen",
                "固定期费应为整数分",
            )

    @property
    def installment_count(self) -> int:
        return 1 if self.method is Method.BULLET else self.term


@dataclass(frozen=True, slots=True)
class Installment:
    """One installment: the period it covers and what is due on `due_date`, in fen."""

    number: int
    start_date: date
    due_date: date
    principal_fen: Fen
    interest_fen: Fen
    fee_fen: Fen

    @property
    def total_fen(self) -> Fen:
        return self.principal_fen + self.interest_fen + self.fee_fen

    @property
    def days(self) -> int:
        return (self.due_date - self.start_date).days


@dataclass(frozen=True, slots=True)
class Schedule:
    """A full repayment schedule.

    `upfront_fee_fen` is the 头息; `disbursed_fen` is what the borrower receives (principal less
    a deducted upfront fee). A `separate` upfront fee is paid by the borrower at the start, so
    the borrower's net cash at the start is `net_received_fen`.
    """

    terms: ScheduleTerms
    installments: tuple[Installment, ...]
    upfront_fee_fen: Fen = 0
    disbursed_fen: Fen = field(default=0)

    @property
    def total_principal_fen(self) -> Fen:
        return sum(i.principal_fen for i in self.installments)

    @property
    def total_interest_fen(self) -> Fen:
        return sum(i.interest_fen for i in self.installments)

    @property
    def total_fee_fen(self) -> Fen:
        """Fees inside the installments (periodic fees and an amortised upfront fee)."""
        return sum(i.fee_fen for i in self.installments)

    @property
    def total_payment_fen(self) -> Fen:
        return sum(i.total_fen for i in self.installments)

    @property
    def net_received_fen(self) -> Fen:
        """The borrower's net cash at the start: payout less a separately paid upfront fee."""
        if self.terms.upfront_fee_mode is UpfrontFeeMode.SEPARATE:
            return self.disbursed_fen - self.upfront_fee_fen
        return self.disbursed_fen

    @property
    def total_cost_fen(self) -> Fen:
        """Everything the borrower pays beyond the money received: interest and all fees."""
        return self.total_payment_fen - self.net_received_fen
