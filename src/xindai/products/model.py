"""The product definition: every field of SPEC §2, validated on construction.

A `Product` is one immutable version of a product; bad or contradictory values raise
`ProductError` naming the field, in English and zh-CN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from xindai.errors import InvalidValue, ProductError
from xindai.money import DayCount, Fen, format_yuan
from xindai.schedules.model import (
    TERM_LIMITS,
    Method,
    PeriodicFeeKind,
    PeriodUnit,
    ScheduleTerms,
    UpfrontFeeMode,
)
from xindai.servicing.allocation import DEFAULT_ALLOCATION_ORDER, Component


class ProductType(StrEnum):
    SINGLE = "single"  # one payment at maturity
    INSTALLMENT = "installment"


class PenaltyBase(StrEnum):
    OVERDUE_PRINCIPAL = "overdue_principal"
    OVERDUE_TOTAL = "overdue_total"


class EarlySettlementInterest(StrEnum):
    TO_DATE = "to_date"  # interest accrued up to the settlement date
    FULL_PERIOD = "full_period"  # interest of the whole current period


class RateCapKind(StrEnum):
    CAP_24 = "24"
    CAP_36 = "36"
    LPR_4X = "lpr4x"  # 4 × the one-year LPR at signing (court cap since 2020)


def _fail(name: str, value: object, en: str, zh: str) -> None:
    raise ProductError(name, value, en, zh)


def _rate_in(
    name: str, value: Decimal, low: Decimal, high: Decimal, *, upper_open: bool = False
) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        _fail(name, value, "must be a decimal number", "必须是数值")
    if value < low or value > high or (upper_open and value == high):
        _fail(name, value, f"must be between {low} and {high}", f"应在 {low} 到 {high} 之间")


@dataclass(frozen=True, slots=True)
class RateCap:
    """The compliance cap on the comprehensive annualised cost (nominal IRR)."""

    kind: RateCapKind = RateCapKind.CAP_24
    lpr: Decimal | None = None  # one-year LPR at signing, for LPR_4X

    def __post_init__(self) -> None:
        if self.kind is RateCapKind.LPR_4X:
            if self.lpr is None:
                _fail(
                    "rate_cap.lpr",
                    None,
                    "the 4 × LPR cap needs the one-year LPR",
                    "4 倍 LPR 上限需要一年期 LPR",
                )
            else:
                _rate_in("rate_cap.lpr", self.lpr, Decimal(0), Decimal("0.25"))
        elif self.lpr is not None:
            _fail(
                "rate_cap.lpr",
                self.lpr,
                "an LPR is only used by the 4 × LPR cap",
                "仅 4 倍 LPR 上限使用 LPR",
            )

    @property
    def annual_rate(self) -> Decimal:
        if self.kind is RateCapKind.CAP_24:
            return Decimal("0.24")
        if self.kind is RateCapKind.CAP_36:
            return Decimal("0.36")
        assert self.lpr is not None
        return 4 * self.lpr


@dataclass(frozen=True, slots=True)
class PenaltyTerms:
    """罚息: a daily rate on the overdue base from the day after grace ends, a one-off
    overdue fee (逾期费) and a cap on total penalty as a share of principal."""

    daily_rate: Decimal = Decimal("0.0005")
    base: PenaltyBase = PenaltyBase.OVERDUE_PRINCIPAL
    overdue_fee_fen: Fen = 0
    cap_rate_of_principal: Decimal | None = Decimal("0.24")

    def __post_init__(self) -> None:
        _rate_in("penalty.daily_rate", self.daily_rate, Decimal(0), Decimal("0.01"))
        if not isinstance(self.base, PenaltyBase):
            _fail(
                "penalty.base",
                self.base,
                "must be overdue_principal or overdue_total",
                "罚息基数应为逾期本金或逾期总额",
            )
        if not isinstance(self.overdue_fee_fen, int) or self.overdue_fee_fen < 0:
            _fail(
                "penalty.overdue_fee",
                self.overdue_fee_fen,
                "must not be negative",
                "逾期费不能为负",
            )
        if self.cap_rate_of_principal is not None:
            _rate_in("penalty.cap", self.cap_rate_of_principal, Decimal(0), Decimal(1))


@dataclass(frozen=True, slots=True)
class EarlySettlement:
    """提前结清 terms."""

    allowed: bool = True
    interest: EarlySettlementInterest = EarlySettlementInterest.TO_DATE
    fee_rate: Decimal = Decimal(0)  # share of the outstanding principal

    def __post_init__(self) -> None:
        _rate_in("early_settlement.fee_rate", self.fee_rate, Decimal(0), Decimal("0.2"))


@dataclass(frozen=True, slots=True)
class Extension:
    """展期 for single-payment loans: fee share of principal, days added, max count."""

    allowed: bool = False
    fee_rate: Decimal = Decimal(0)
    days: int = 0
    max_count: int = 0

    def __post_init__(self) -> None:
        _rate_in("extension.fee_rate", self.fee_rate, Decimal(0), Decimal("0.2"))
        if self.allowed and not (isinstance(self.days, int) and 1 <= self.days <= 90):
            _fail(
                "extension.days",
                self.days,
                "must be 1–90 when extension is allowed",
                "展期天数应在 1–90 之间",
            )
        if self.allowed and not (isinstance(self.max_count, int) and 1 <= self.max_count <= 12):
            _fail(
                "extension.max_count",
                self.max_count,
                "must be 1–12 when extension is allowed",
                "展期次数上限应在 1–12 之间",
            )


@dataclass(frozen=True, slots=True)
class Product:
    """One version of a loan product (SPEC §2). Amounts in fen, rates as Decimal fractions."""

    code: str
    name: str
    type: ProductType
    terms: tuple[int, ...]
    period_unit: PeriodUnit
    amount_min_fen: Fen
    amount_max_fen: Fen
    amount_step_fen: Fen
    annual_rate: Decimal
    method: Method
    day_count: DayCount = DayCount.ACT360
    version: int = 1
    interest_start_days: int = 0
    repayment_day: int | None = None  # None: same day-of-month as disbursement
    upfront_fee_rate: Decimal = Decimal(0)
    upfront_fee_mode: UpfrontFeeMode = UpfrontFeeMode.SEPARATE
    periodic_fee_kind: PeriodicFeeKind = PeriodicFeeKind.RATE
    periodic_fee_value: Decimal = Decimal(0)
    grace_days: int = 0
    interest_free_days: int = 0  # first-loan promotion (免息期)
    penalty: PenaltyTerms = field(default_factory=PenaltyTerms)
    allocation_order: tuple[Component, ...] = DEFAULT_ALLOCATION_ORDER
    early_settlement: EarlySettlement = field(default_factory=EarlySettlement)
    extension: Extension = field(default_factory=Extension)
    rate_cap: RateCap = field(default_factory=RateCap)
    allow_prepayment: bool = True  # overpayment prepays principal; else a credit balance
    age_min: int = 18
    age_max: int = 60

    def __post_init__(self) -> None:
        if not self.code or not self.code.replace("-", "").replace("_", "").isalnum():
            _fail("code", self.code, "must be letters, digits, - or _", "只能包含字母、数字、-、_")
        if not self.name.strip():
            _fail("name", self.name, "must not be empty", "不能为空")
        for name, enum_type in (
            ("type", ProductType),
            ("period_unit", PeriodUnit),
            ("method", Method),
            ("day_count", DayCount),
            ("upfront_fee_mode", UpfrontFeeMode),
            ("periodic_fee_kind", PeriodicFeeKind),
        ):
            if not isinstance(getattr(self, name), enum_type):
                allowed = ", ".join(str(m.value) for m in enum_type)
                _fail(name, getattr(self, name), f"must be one of {allowed}", f"可选值：{allowed}")
        self._check_terms()
        self._check_amounts()
        _rate_in("annual_rate", self.annual_rate, Decimal(0), Decimal(1))
        _rate_in("upfront_fee_rate", self.upfront_fee_rate, Decimal(0), Decimal(1), upper_open=True)
        if self.periodic_fee_kind is PeriodicFeeKind.RATE:
            _rate_in(
                "periodic_fee", self.periodic_fee_value, Decimal(0), Decimal(1), upper_open=True
            )
        elif self.periodic_fee_value < 0 or self.periodic_fee_value != int(self.periodic_fee_value):
            _fail(
                "periodic_fee",
                self.periodic_fee_value,
                "a fixed fee is a whole number of fen",
                "固定期费应为非负整数分",
            )
        for name in ("interest_start_days", "grace_days", "interest_free_days"):
            days = getattr(self, name)
            if not isinstance(days, int) or not 0 <= days <= 90:
                _fail(name, days, "must be 0–90 days", "应在 0–90 天之间")
        self._check_options()
        order = tuple(self.allocation_order)
        if sorted(c.value for c in order) != sorted(c.value for c in Component):
            _fail(
                "allocation_order",
                [getattr(c, "value", c) for c in order],
                "must list penalty, fee, interest and principal once each",
                "应包含罚息、费用、利息、本金各一次",
            )
        if not (
            isinstance(self.age_min, int)
            and isinstance(self.age_max, int)
            and 18 <= self.age_min <= self.age_max <= 70
        ):
            _fail(
                "age_range",
                (self.age_min, self.age_max),
                "must satisfy 18 ≤ min ≤ max ≤ 70",
                "年龄范围应满足 18 ≤ 下限 ≤ 上限 ≤ 70",
            )

    def _check_terms(self) -> None:
        if not self.terms:
            _fail("terms", self.terms, "at least one term is needed", "至少需要一个期限")
        low, high = TERM_LIMITS[self.period_unit.value]
        for term in self.terms:
            if not isinstance(term, int) or isinstance(term, bool) or not low <= term <= high:
                _fail(
                    "terms",
                    term,
                    f"each term must be {low}–{high} {self.period_unit.value}s",
                    f"每个期限应在 {low}–{high} 之间",
                )
        if len(set(self.terms)) != len(self.terms):
            _fail("terms", self.terms, "terms are listed twice", "期限重复")

    def _check_amounts(self) -> None:
        for name in ("amount_min_fen", "amount_max_fen", "amount_step_fen"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                _fail(
                    name.removesuffix("_fen"),
                    value,
                    "must be a positive amount in fen",
                    "金额必须大于零",
                )
        if self.amount_min_fen > self.amount_max_fen:
            _fail(
                "amount",
                (self.amount_min_fen, self.amount_max_fen),
                "the minimum is above the maximum",
                "最低金额高于最高金额",
            )
        if (self.amount_max_fen - self.amount_min_fen) % self.amount_step_fen:
            _fail(
                "amount_step",
                self.amount_step_fen,
                "max − min must be a whole number of steps",
                "最高与最低金额之差应为步长的整数倍",
            )

    def _check_options(self) -> None:
        single = self.type is ProductType.SINGLE
        if single != (self.method is Method.BULLET):
            _fail(
                "method",
                self.method.value,
                "single-payment products use bullet and installment products do not",
                "单期产品须用一次性还本付息，分期产品不能用",
            )
        if self.repayment_day is not None:
            if self.period_unit is not PeriodUnit.MONTH or single:
                _fail(
                    "repayment_day",
                    self.repayment_day,
                    "a fixed repayment day needs monthly installments",
                    "固定还款日仅适用于按月分期",
                )
            if not 1 <= self.repayment_day <= 28:
                _fail("repayment_day", self.repayment_day, "must be 1–28", "应在 1–28 之间")
        if self.extension.allowed and not single:
            _fail(
                "extension",
                "allowed",
                "extension is for single-payment loans only",
                "展期仅适用于单期产品",
            )

    @property
    def deducts_upfront_fee(self) -> bool:
        """砍头息: the fee is taken from the payout (banned for licensed lenders since 2017)."""
        return self.upfront_fee_rate > 0 and self.upfront_fee_mode is UpfrontFeeMode.DEDUCT

    @property
    def compliance_flags(self) -> tuple[str, ...]:
        return ("UPFRONT_FEE_DEDUCTED",) if self.deducts_upfront_fee else ()

    def amounts(self) -> range:
        return range(self.amount_min_fen, self.amount_max_fen + 1, self.amount_step_fen)

    def schedule_terms(
        self, amount_fen: Fen, term: int, start_date: date, *, first_loan: bool = False
    ) -> ScheduleTerms:
        """The schedule inputs for a loan of this product; checks amount and term."""
        if term not in self.terms:
            raise InvalidValue(
                "term",
                term,
                f"must be one of {list(self.terms)}",
                f"期限应为 {list(self.terms)} 之一",
            )
        if (
            not isinstance(amount_fen, int)
            or not self.amount_min_fen <= amount_fen <= self.amount_max_fen
            or (amount_fen - self.amount_min_fen) % self.amount_step_fen
        ):
            raise InvalidValue(
                "amount",
                format_yuan(amount_fen) if isinstance(amount_fen, int) else amount_fen,
                f"must be {format_yuan(self.amount_min_fen)}–{format_yuan(self.amount_max_fen)}"
                f" in steps of {format_yuan(self.amount_step_fen)}",
                f"金额应在 {format_yuan(self.amount_min_fen)}–{format_yuan(self.amount_max_fen)}"
                f" 之间，步长 {format_yuan(self.amount_step_fen)}",
            )
        return ScheduleTerms(
            principal_fen=amount_fen,
            annual_rate=self.annual_rate,
            term=term,
            unit=self.period_unit,
            method=self.method,
            start_date=start_date,
            day_count=self.day_count,
            interest_start_days=self.interest_start_days,
            interest_free_days=self.interest_free_days if first_loan else 0,
            repayment_day=self.repayment_day,
            upfront_fee_rate=self.upfront_fee_rate,
            upfront_fee_mode=self.upfront_fee_mode,
            periodic_fee_kind=self.periodic_fee_kind,
            periodic_fee_value=self.periodic_fee_value,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (enums as values, Decimals as strings)."""
        from xindai.products.serialise import product_to_dict

        return product_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Product:
        from xindai.products.serialise import product_from_dict

        return product_from_dict(data)
