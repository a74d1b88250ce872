"""Columnar input of the vectorised schedule engine: one NumPy array per field of
`ScheduleTerms`, with exact integer rate ratios, validation and conversion back to terms.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import attrgetter
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from xindai.errors import InvalidValue
from xindai.money import DayCount
from xindai.schedules.model import (
    TERM_LIMITS,
    Method,
    PeriodicFeeKind,
    PeriodUnit,
    ScheduleTerms,
    UpfrontFeeMode,
)

I64: TypeAlias = npt.NDArray[np.int64]
Mask: TypeAlias = npt.NDArray[np.bool_]
DayArray: TypeAlias = npt.NDArray[np.datetime64]
IntArray: TypeAlias = npt.NDArray[Any]
"""Integers: int64, or dtype object (exact Python ints) only where a value passes int64."""

METHOD_CODES: dict[Method, int] = {m: i for i, m in enumerate(Method)}
UNIT_CODES: dict[PeriodUnit, int] = {u: i for i, u in enumerate(PeriodUnit)}
FEE_MODE_CODES: dict[UpfrontFeeMode, int] = {m: i for i, m in enumerate(UpfrontFeeMode)}
FEE_KIND_CODES: dict[PeriodicFeeKind, int] = {k: i for i, k in enumerate(PeriodicFeeKind)}

_BULLET, _ANNUITY = METHOD_CODES[Method.BULLET], METHOD_CODES[Method.ANNUITY]
_EQUAL_PRINCIPAL = METHOD_CODES[Method.EQUAL_PRINCIPAL]
_INTEREST_FIRST = METHOD_CODES[Method.INTEREST_FIRST]
_PRINCIPAL_FIRST = METHOD_CODES[Method.PRINCIPAL_FIRST]
_WEEK, _MONTH = UNIT_CODES[PeriodUnit.WEEK], UNIT_CODES[PeriodUnit.MONTH]
_DEDUCT = FEE_MODE_CODES[UpfrontFeeMode.DEDUCT]
_AMORTIZED = FEE_MODE_CODES[UpfrontFeeMode.AMORTIZED]
_FIXED = FEE_KIND_CODES[PeriodicFeeKind.FIXED]
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MIN_DAY, _MAX_DAY = date.min.toordinal() - _EPOCH_ORDINAL, date.max.toordinal() - _EPOCH_ORDINAL


def _enum_codes(values: Iterable[object], codes: dict[Any, int]) -> I64:
    objects = np.array(list(values), dtype=object)
    result = np.full(len(objects), -1, dtype=np.int64)
    for member, code in codes.items():
        result[objects == member] = code
    return result


def _ints(values: Sequence[int]) -> IntArray:
    """int64 when every value fits comfortably, else exact Python ints (dtype object)."""
    if not values or (max(values) < 2**62 and min(values) > -(2**62)):
        return np.array(values, dtype=np.int64)
    return np.array(values, dtype=object)


def _ratios(values: Sequence[Decimal]) -> tuple[IntArray, IntArray]:
    exact = {value: value.as_integer_ratio() for value in set(values)}
    pairs = list(map(exact.__getitem__, values))
    return _ints([p[0] for p in pairs]), _ints([p[1] for p in pairs])


def _decimal(numerator: int, denominator: int, field: str) -> Decimal:
    """The Decimal equal to numerator/denominator; the denominator must divide a power of 10."""
    rest, power = denominator, 0
    while rest % 10 == 0:
        rest, power = rest // 10, power + 1
    while rest % 2 == 0 or rest % 5 == 0:
        rest, power = rest // (2 if rest % 2 == 0 else 5), power + 1
    if rest != 1:
        raise InvalidValue(
            field, f"{numerator}/{denominator}", "not a finite decimal", "不是有限小数"
        )
    return Decimal(f"{numerator * (10**power // denominator)}E-{power}")


@dataclass(frozen=True, slots=True, eq=False)
class ScheduleColumns:
    """Schedule terms as columns (one entry per schedule), the columnar twin of ScheduleTerms.

    Rates are exact fractions `numerator / denominator`; codes follow METHOD_CODES, UNIT_CODES,
    FEE_MODE_CODES and FEE_KIND_CODES; `repayment_day` 0 means the start date's day; a fixed
    periodic fee is `periodic_fee_numerator` fen with denominator 1.
    """

    principal_fen: IntArray
    rate_numerator: IntArray
    rate_denominator: IntArray
    term: I64
    unit: I64
    method: I64
    start_date: DayArray
    days_in_year: I64
    interest_start_days: I64
    interest_free_days: I64
    repayment_day: I64
    upfront_fee_numerator: IntArray
    upfront_fee_denominator: IntArray
    upfront_fee_mode: I64
    periodic_fee_kind: I64
    periodic_fee_numerator: IntArray
    periodic_fee_denominator: IntArray

    def __len__(self) -> int:
        return len(self.principal_fen)

    @classmethod
    def from_terms(cls, terms: Sequence[ScheduleTerms]) -> ScheduleColumns:
        """Columns of already validated terms (one pass of C-level attribute access)."""

        def column(name: str) -> list[Any]:
            return list(map(attrgetter(name), terms))

        rate_num, rate_den = _ratios(column("annual_rate"))
        upfront_num, upfront_den = _ratios(column("upfront_fee_rate"))
        # a fixed periodic fee is a whole number of fen: its ratio has denominator 1
        fee_num, fee_den = _ratios(column("periodic_fee_value"))
        ordinals = [d.toordinal() for d in column("start_date")]
        start = np.array(ordinals, dtype=np.int64) - _EPOCH_ORDINAL
        act365 = _enum_codes(column("day_count"), {DayCount.ACT365: 1}) == 1
        return cls(
            principal_fen=_ints(column("principal_fen")),
            rate_numerator=rate_num,
            rate_denominator=rate_den,
            term=np.array(column("term"), dtype=np.int64),
            unit=_enum_codes(column("unit"), UNIT_CODES),
            method=_enum_codes(column("method"), METHOD_CODES),
            start_date=start.view("datetime64[D]"),
            days_in_year=np.where(act365, 365, 360).astype(np.int64),
            interest_start_days=np.array(column("interest_start_days"), dtype=np.int64),
            interest_free_days=np.array(column("interest_free_days"), dtype=np.int64),
            repayment_day=np.array([d or 0 for d in column("repayment_day")], dtype=np.int64),
            upfront_fee_numerator=upfront_num,
            upfront_fee_denominator=upfront_den,
            upfront_fee_mode=_enum_codes(column("upfront_fee_mode"), FEE_MODE_CODES),
            periodic_fee_kind=_enum_codes(column("periodic_fee_kind"), FEE_KIND_CODES),
            periodic_fee_numerator=fee_num,
            periodic_fee_denominator=fee_den,
        )

    def terms_at(self, i: int) -> ScheduleTerms:
        """Schedule i's ScheduleTerms (rates must be finite decimals)."""
        fee_kind = list(PeriodicFeeKind)[int(self.periodic_fee_kind[i])]
        fee_num, fee_den = (
            int(self.periodic_fee_numerator[i]),
            int(self.periodic_fee_denominator[i]),
        )
        return ScheduleTerms(
            principal_fen=int(self.principal_fen[i]),
            annual_rate=_decimal(
                int(self.rate_numerator[i]), int(self.rate_denominator[i]), "rate"
            ),
            term=int(self.term[i]),
            unit=list(PeriodUnit)[int(self.unit[i])],
            method=list(Method)[int(self.method[i])],
            start_date=date.fromordinal(int(self.start_date[i].astype(np.int64)) + _EPOCH_ORDINAL),
            day_count=DayCount.ACT365 if int(self.days_in_year[i]) == 365 else DayCount.ACT360,
            interest_start_days=int(self.interest_start_days[i]),
            interest_free_days=int(self.interest_free_days[i]),
            repayment_day=int(self.repayment_day[i]) or None,
            upfront_fee_rate=_decimal(
                int(self.upfront_fee_numerator[i]),
                int(self.upfront_fee_denominator[i]),
                "upfront_fee",
            ),
            upfront_fee_mode=list(UpfrontFeeMode)[int(self.upfront_fee_mode[i])],
            periodic_fee_kind=fee_kind,
            periodic_fee_value=_decimal(fee_num, fee_den, "periodic_fee"),
        )

    def validate(self) -> None:
        """Raise InvalidValue naming the first schedule that ScheduleTerms would reject."""

        def check(bad: Mask, field: str, values: npt.NDArray[Any], en: str, zh: str) -> None:
            if bad.any():
                i = int(np.argmax(bad))
                raise InvalidValue(f"{field}[{i}]", values[i : i + 1].tolist()[0], en, zh)

        n = len(self)
        for name in ScheduleColumns.__dataclass_fields__:
            if len(getattr(self, name)) != n:
                raise InvalidValue(
                    name, len(getattr(self, name)), f"must have {n} entries", f"应有 {n} 项"
                )
        check(
            self.principal_fen <= 0,
            "principal",
            self.principal_fen,
            "must be positive",
            "本金必须大于零",
        )
        check(
            (self.rate_denominator <= 0)
            | (self.rate_numerator < 0)
            | (self.rate_numerator > self.rate_denominator),
            "rate",
            self.rate_numerator,
            "must be between 0 and 1",
            "年利率必须在 0 到 1 之间",
        )
        check((self.unit < 0) | (self.unit > 2), "unit", self.unit, "unknown unit code", "未知单位")
        check(
            (self.method < 0) | (self.method >= len(METHOD_CODES)),
            "method",
            self.method,
            "unknown method code",
            "未知还款方式",
        )
        check(
            (self.days_in_year != 360) & (self.days_in_year != 365),
            "day_count",
            self.days_in_year,
            "must be 360 or 365",
            "应为 360 或 365",
        )
        unit = np.clip(self.unit, 0, 2)
        low = np.array([TERM_LIMITS[u.value][0] for u in PeriodUnit])[unit]
        high = np.array([TERM_LIMITS[u.value][1] for u in PeriodUnit])[unit]
        check(
            (self.term < low) | (self.term > high),
            "term",
            self.term,
            "out of the limits for its unit",
            "超出该单位的期限范围",
        )
        for name in ("interest_start_days", "interest_free_days"):
            days = getattr(self, name)
            check((days < 0) | (days > 366), name, days, "must be 0–366 days", "应在 0–366 天之间")
        rd = self.repayment_day
        check(
            (rd < 0) | (rd > 28) | ((rd > 0) & ((self.unit != _MONTH) | (self.method == _BULLET))),
            "repayment_day",
            rd,
            "must be 1–28 with monthly installments",
            "固定还款日应在 1–28 之间且按月分期",
        )
        check(
            (self.upfront_fee_denominator <= 0)
            | (self.upfront_fee_numerator < 0)
            | (self.upfront_fee_numerator >= self.upfront_fee_denominator),
            "upfront_fee",
            self.upfront_fee_numerator,
            "must be at least 0 and below 1",
            "头息比例应在 0 到 1 之间",
        )
        check(
            (self.upfront_fee_mode < 0) | (self.upfront_fee_mode > 2),
            "upfront_fee_mode",
            self.upfront_fee_mode,
            "unknown mode code",
            "未知头息收取方式",
        )
        fixed = self.periodic_fee_kind == _FIXED
        check(
            (self.periodic_fee_kind < 0)
            | (self.periodic_fee_kind > 1)
            | (self.periodic_fee_denominator <= 0)
            | (self.periodic_fee_numerator < 0)
            | (fixed & (self.periodic_fee_denominator != 1))
            | (~fixed & (self.periodic_fee_numerator >= self.periodic_fee_denominator)),
            "periodic_fee",
            self.periodic_fee_numerator,
            "a rate below 1 or a whole number of fen",
            "期费应为小于 1 的费率或整数分",
        )
        start = self.start_date.astype("datetime64[D]").view(np.int64)
        check(
            np.isnat(self.start_date) | (start < _MIN_DAY) | (start > _MAX_DAY),
            "start_date",
            self.start_date,
            "out of range",
            "超出日期范围",
        )
