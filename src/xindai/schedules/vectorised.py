"""Many schedules at once with NumPy integers, equal to `reference.build_schedule` to the fen.

Layout: one flat array per installment field in CSR form (`offsets[i]:offsets[i + 1]` are
schedule i's installments). Exactness: a period's rate is the integer fraction
`a · mult_k / (ad · L)` (annual rate `a / ad`, `L` = lcm(12, basis), `mult_k` the days or the
regular multiplier), so every ROUND_HALF_UP to the fen is integer floor division. Rows whose
intermediate products could pass 2^62 run the same kernel on Python ints (dtype object).
The annuity payment is the only float: see `_annuity_payments` for why it is still exact.

Work is array-at-a-time: dates and the closed-form methods (bullet, flat, equal principal,
interest first, principal first, whose balances are `max(0, P − (k−1)·part)`) are whole-batch
vector expressions; annuity balances are recursive, so annuity loans, sorted by installment
count, run one loop step per installment number over all still-active loans at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from xindai.errors import InvalidValue
from xindai.schedules.columns import (
    _AMORTIZED,
    _ANNUITY,
    _BULLET,
    _DEDUCT,
    _EQUAL_PRINCIPAL,
    _FIXED,
    _INTEREST_FIRST,
    _MAX_DAY,
    _MONTH,
    _PRINCIPAL_FIRST,
    _WEEK,
    FEE_KIND_CODES,
    FEE_MODE_CODES,
    I64,
    METHOD_CODES,
    UNIT_CODES,
    DayArray,
    IntArray,
    Mask,
    ScheduleColumns,
)
from xindai.schedules.model import (
    Installment,
    Schedule,
    ScheduleTerms,
)
from xindai.schedules.reference import annuity_payment

_FIXED_DAY_MIN_GAP = 15  # days from the start to the first fixed repayment day (dates.py)
_SAFE_MAGNITUDE = 2.0**62  # int64 rows keep every intermediate below this (limit 2^63)
_ANNUITY_REL_TOL = 1e-9  # float annuity error is below 1e-13 relative, see _annuity_payments


@dataclass(frozen=True, slots=True, eq=False)
class ScheduleBatch:
    """Many schedules as flat arrays: installments of schedule i are `offsets[i]:offsets[i+1]`.

    Amounts are fen (int64; dtype object only if an amount passes the int64 range).
    """

    offsets: I64
    number: I64
    period_start: DayArray
    due_date: DayArray
    principal_fen: IntArray
    interest_fen: IntArray
    fee_fen: IntArray
    upfront_fee_fen: IntArray
    disbursed_fen: IntArray
    columns: ScheduleColumns
    terms: Sequence[ScheduleTerms] | None = None

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def installment_count(self) -> int:
        """Installments in the whole batch."""
        return int(self.offsets[-1])

    @property
    def installment_counts(self) -> I64:
        """Installments per schedule."""
        return np.diff(self.offsets)

    def schedule(self, i: int) -> Schedule:
        """Schedule i as the reference dataclasses (for comparison and display)."""
        lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
        terms = self.terms[i] if self.terms is not None else self.columns.terms_at(i)
        rows = zip(
            self.number[lo:hi].tolist(),
            self.period_start[lo:hi].tolist(),
            self.due_date[lo:hi].tolist(),
            self.principal_fen[lo:hi].tolist(),
            self.interest_fen[lo:hi].tolist(),
            self.fee_fen[lo:hi].tolist(),
            strict=True,
        )
        return Schedule(
            terms,
            tuple(Installment(*row) for row in rows),
            upfront_fee_fen=int(self.upfront_fee_fen[i]),
            disbursed_fen=int(self.disbursed_fen[i]),
        )

    def to_schedules(self) -> list[Schedule]:
        return [self.schedule(i) for i in range(len(self))]


def build_schedules(terms: Sequence[ScheduleTerms]) -> ScheduleBatch:
    """The schedules of `terms`, each equal to `reference.build_schedule` to the fen.

    Converting the dataclasses costs about as much as the build itself; callers that hold
    columns already should use `build_schedules_columns`.
    """
    return _build(ScheduleColumns.from_terms(terms), tuple(terms))


def build_schedules_columns(
    *,
    principal_fen: npt.ArrayLike,
    rate_numerator: npt.ArrayLike,
    rate_denominator: npt.ArrayLike,
    term: npt.ArrayLike,
    unit: npt.ArrayLike,
    method: npt.ArrayLike,
    start_date: npt.ArrayLike,
    days_in_year: npt.ArrayLike = 360,
    interest_start_days: npt.ArrayLike = 0,
    interest_free_days: npt.ArrayLike = 0,
    repayment_day: npt.ArrayLike = 0,
    upfront_fee_numerator: npt.ArrayLike = 0,
    upfront_fee_denominator: npt.ArrayLike = 1,
    upfront_fee_mode: npt.ArrayLike = _DEDUCT,
    periodic_fee_kind: npt.ArrayLike = 0,
    periodic_fee_numerator: npt.ArrayLike = 0,
    periodic_fee_denominator: npt.ArrayLike = 1,
) -> ScheduleBatch:
    """Schedules from int64 columns (see ScheduleColumns); scalars broadcast. Validates first,
    raising InvalidValue for any row that ScheduleTerms would reject."""
    count = len(np.asarray(principal_fen))

    def column(values: npt.ArrayLike) -> I64:
        return np.broadcast_to(np.asarray(values, dtype=np.int64), (count,)).copy()

    columns = ScheduleColumns(
        principal_fen=column(principal_fen),
        rate_numerator=column(rate_numerator),
        rate_denominator=column(rate_denominator),
        term=column(term),
        unit=column(unit),
        method=column(method),
        start_date=np.broadcast_to(np.asarray(start_date, dtype="datetime64[D]"), (count,)).copy(),
        days_in_year=column(days_in_year),
        interest_start_days=column(interest_start_days),
        interest_free_days=column(interest_free_days),
        repayment_day=column(repayment_day),
        upfront_fee_numerator=column(upfront_fee_numerator),
        upfront_fee_denominator=column(upfront_fee_denominator),
        upfront_fee_mode=column(upfront_fee_mode),
        periodic_fee_kind=column(periodic_fee_kind),
        periodic_fee_numerator=column(periodic_fee_numerator),
        periodic_fee_denominator=column(periodic_fee_denominator),
    )
    columns.validate()
    return _build(columns, None)


@dataclass(frozen=True, slots=True)
class _Calendar:
    """Per installment: schedule row, number, last flag, dates (days since 1970) and the rate
    multiplier `mult` (period rate = a · mult / (ad · L)); per schedule: counts and offsets."""

    count: I64
    offsets: I64
    row: I64
    number: I64
    last: Mask
    period_start: I64
    due: I64
    mult: I64
    regular_mult: I64
    den_mult: I64  # L = lcm(12, basis)


def _calendar(cols: ScheduleColumns) -> _Calendar:
    """Due dates and period rate multipliers, vectorised mirror of periods.periods()."""
    size = len(cols)
    method, unit = cols.method, cols.unit
    bullet, month_unit = method == _BULLET, unit == _MONTH
    count = np.where(bullet, 1, cols.term)
    offsets = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(count, out=offsets[1:])
    total = int(offsets[-1])
    start = cols.start_date.astype("datetime64[D]").view(np.int64)
    start_month = cols.start_date.astype("datetime64[M]").view(np.int64)
    low = int(start_month.min()) if size else 0
    # first day (days since 1970) of every month that any due date can fall in
    months = np.arange(low, (int(start_month.max()) if size else low) + 66, dtype=np.int64)
    month_first: I64 = months.view("datetime64[M]").astype("datetime64[D]").view(np.int64)

    def on_day(month: I64, day: I64) -> I64:  # `day` of month index `month`, clamped
        first: I64 = month_first[month - low]
        clamped: I64 = first + np.minimum(day, month_first[month - low + 1] - first) - 1
        return clamped

    start_day = start - month_first[start_month - low] + 1
    fixed = cols.repayment_day > 0
    # first repayment day at least 15 days away: at most two months after the start month
    skip = np.zeros(size, dtype=np.int64)
    for j in (0, 1):
        skip += on_day(start_month + j, cols.repayment_day) - start < _FIXED_DAY_MIN_GAP
    first_fixed = on_day(start_month + skip, cols.repayment_day)
    broken = fixed & (first_fixed != on_day(start_month + 1, start_day))
    base_month = start_month + np.where(fixed, skip - 1, 0)
    anchor = np.where(fixed, cols.repayment_day, start_day)
    month_step = np.where(month_unit, np.where(bullet, cols.term, 1), 0)
    unit_days = np.where(unit == _WEEK, 7, 1)
    day_step = unit_days * np.where(bullet, cols.term, 1)

    row = np.repeat(np.arange(size, dtype=np.int64), count)
    number = np.ones(total, dtype=np.int64)
    number[offsets[1:-1]] = 1 - count[:-1]
    number = np.cumsum(number)
    last = number == count[row]
    month_due = on_day(base_month[row] + number * month_step[row], anchor[row])
    due = np.where(month_unit[row], month_due, start[row] + number * day_step[row])
    period_start = np.empty(total, dtype=np.int64)
    period_start[1:] = due[:-1]
    period_start[offsets[:-1]] = start

    act365 = cols.days_in_year == 365
    per_day = np.where(act365, 12, 1)  # L / basis
    den_mult = np.where(act365, 4380, 360)
    regular_mult = np.where(month_unit, den_mult // 12, unit_days * per_day)
    free_until = (start + np.maximum(cols.interest_start_days, cols.interest_free_days))[row]
    day_based = (number == 1) & (bullet | broken)[row]
    charged = due - np.maximum(period_start, free_until)
    mult = np.where(
        free_until >= due,
        0,
        np.where(
            (free_until > period_start) | day_based, charged * per_day[row], regular_mult[row]
        ),
    )
    if total and int(due.max()) > _MAX_DAY:
        i = int(row[np.argmax(due)])
        raise InvalidValue(
            f"start_date[{i}]",
            cols.start_date[i],
            "a due date passes 9999-12-31",
            "到期日超出日期范围",
        )
    return _Calendar(
        count, offsets, row, number, last, period_start, due, mult, regular_mult, den_mult
    )


def _magnitude(values: IntArray) -> npt.NDArray[np.float64]:
    """An upper bound of |values| as float64 (inf when huge)."""
    if values.dtype != object:
        return np.abs(values).astype(np.float64) * (1 + 2.0**-50)
    bits = [abs(int(v)).bit_length() for v in values]
    return np.array([math.ldexp(1.0, b) if b < 1000 else math.inf for b in bits])


def _int64_safe(cols: ScheduleColumns, cal: _Calendar) -> Mask:
    """Rows whose every intermediate product stays below 2^62 (see _amounts)."""
    if not len(cols):
        return np.ones(0, dtype=np.bool_)
    principal = _magnitude(cols.principal_fen) + cal.count
    max_mult = np.maximum.reduceat(cal.mult, cal.offsets[:-1]).astype(np.float64)
    fixed = cols.periodic_fee_kind == _FIXED
    fee_num, fee_den = (
        _magnitude(cols.periodic_fee_numerator),
        _magnitude(cols.periodic_fee_denominator),
    )
    bounds = (
        2 * principal * _magnitude(cols.rate_numerator) * max_mult
        + _magnitude(cols.rate_denominator) * cal.den_mult,
        2 * principal * np.where(fixed, 0, fee_num) + fee_den + fee_num,
        2 * principal * _magnitude(cols.upfront_fee_numerator)
        + _magnitude(cols.upfront_fee_denominator),
        4 * principal + fee_num,
    )
    safe: Mask = np.ones(len(cols), dtype=np.bool_)
    for bound in bounds:
        safe &= bound < _SAFE_MAGNITUDE
    return safe


def _round_half_up(numerator: IntArray, denominator: IntArray) -> IntArray:
    """ROUND_HALF_UP of numerator/denominator for numerator ≥ 0 and denominator > 0 (every
    amount here is: balances never go below zero)."""
    rounded: IntArray = (2 * numerator + denominator) // (2 * denominator)
    return rounded


def _annuity_payments(
    principal: IntArray, rate_num: IntArray, rate_den: IntArray, count: I64
) -> IntArray:
    """round(P·r·g/(g−1)), g = (1+r)^n, r = rate_num/rate_den; round(P/n) when r = 0.

    Why float64 is exact here: with g − 1 = expm1(n·log1p(r)) there is no cancellation, and
    n·log1p(r) ≤ 60·log(13/12) < 5 for every rate ≤ 1 the terms allow, so the relative error
    of the float result is below ~100 ulp (≈1e-14). Rounding half up of the exact value equals
    rounding of the float whenever the float's fractional part is farther from .5 than
    1e-9·A + 1e-9 (10^4 times the error bound); other rows, non-int64 rows and A ≥ 2^52 are
    recomputed exactly with reference.annuity_payment.
    """
    payment = _round_half_up(principal, count)  # the zero-rate answer
    exact = rate_num != 0
    if principal.dtype != object and exact.any():
        idx = np.flatnonzero(exact)
        rate = rate_num[idx].astype(np.float64) / rate_den[idx].astype(np.float64)
        growth_less_one = np.expm1(count[idx] * np.log1p(rate))
        value = principal[idx].astype(np.float64) * rate * (growth_less_one + 1) / growth_less_one
        whole = np.floor(value)
        fraction = value - whole
        safe = (np.abs(fraction - 0.5) > _ANNUITY_REL_TOL * (value + 1)) & (value < 2.0**52)
        payment[idx[safe]] = whole[safe].astype(np.int64) + (fraction[safe] >= 0.5)
        exact[idx[safe]] = False
    for i in np.flatnonzero(exact).tolist():
        payment[i] = annuity_payment(
            int(principal[i]), Fraction(int(rate_num[i]), int(rate_den[i])), int(count[i])
        )
    return payment


def _amounts(cols: ScheduleColumns, cal: _Calendar, dtype: type) -> tuple[IntArray, ...]:
    """principal, interest, fee per installment and upfront fee, payout per schedule."""

    def as_int(values: IntArray) -> IntArray:
        return values.astype(dtype)

    principal, count, row, last = as_int(cols.principal_fen), cal.count, cal.row, cal.last
    rate_num, method = as_int(cols.rate_numerator), cols.method
    rate_den = as_int(cols.rate_denominator) * cal.den_mult
    even_part = _round_half_up(principal, count)
    before = cal.number - 1
    # what is left before installment k of an even split (reference._even_split never lets a
    # part take more than is left): max(0, P − (k−1)·part)
    left = np.maximum(0, principal[row] - before * even_part[row])
    principal_k = np.where(last, left, np.minimum(left, even_part[row]))
    interest_first = method == _INTEREST_FIRST
    if interest_first.any():
        principal_k = np.where(interest_first[row], np.where(last, principal[row], 0), principal_k)
    # balance before installment k: what is left for equal principal and principal first, P
    # for bullet, flat and interest first; annuity installments are overwritten below
    declining = ((method == _EQUAL_PRINCIPAL) | (method == _PRINCIPAL_FIRST))[row]
    balance = np.where(declining, left, principal[row])
    interest_k = _round_half_up(balance * (rate_num[row] * cal.mult), rate_den[row])
    principal_first = method == _PRINCIPAL_FIRST
    if principal_first.any():
        accrued = np.add.reduceat(interest_k, cal.offsets[:-1])
        interest_k = np.where(principal_first[row], np.where(last, accrued[row], 0), interest_k)
    annuity_rows = np.flatnonzero(method == _ANNUITY)
    if len(annuity_rows):
        _annuity(principal, rate_num, rate_den, cal, annuity_rows, principal_k, interest_k)

    head = _round_half_up(
        principal * as_int(cols.upfront_fee_numerator), as_int(cols.upfront_fee_denominator)
    )
    fixed = cols.periodic_fee_kind == _FIXED
    fee_num = as_int(cols.periodic_fee_numerator)
    periodic = np.where(
        fixed,
        fee_num,
        _round_half_up(
            principal * np.where(fixed, 0, fee_num), as_int(cols.periodic_fee_denominator)
        ),
    )
    amortized = np.where(cols.upfront_fee_mode == _AMORTIZED, head, 0)
    head_part = _round_half_up(amortized, count)
    head_left = np.maximum(0, amortized[row] - before * head_part[row])
    fee_k = periodic[row] + np.where(last, head_left, np.minimum(head_left, head_part[row]))
    disbursed = principal - np.where(cols.upfront_fee_mode == _DEDUCT, head, 0)
    return principal_k, interest_k, fee_k, head, disbursed


def _annuity(
    principal: IntArray,
    rate_num: IntArray,
    rate_den: IntArray,
    cal: _Calendar,
    rows: I64,
    principal_k: IntArray,
    interest_k: IntArray,
) -> None:
    """Fill the annuity installments: a loop over installment number, vectors across loans."""
    order = rows[np.argsort(-cal.count[rows], kind="stable")]
    count = cal.count[order]
    payment = _annuity_payments(
        principal[order], rate_num[order] * cal.regular_mult[order], rate_den[order], count
    )
    balance = principal[order].copy()
    first, rate_num, rate_den = cal.offsets[order], rate_num[order], rate_den[order]
    active_by_number = np.searchsorted(-count, -np.arange(1, int(count[0]) + 1), side="right")
    for number, active in enumerate(active_by_number.tolist(), start=1):
        at = first[:active] + (number - 1)
        owed = balance[:active]
        interest = _round_half_up(owed * (rate_num[:active] * cal.mult[at]), rate_den[:active])
        part = np.where(
            count[:active] == number,
            owed,
            np.minimum(owed, np.maximum(0, payment[:active] - interest)),
        )
        balance[:active] = owed - part
        principal_k[at] = part
        interest_k[at] = interest


def _take(cols: ScheduleColumns, rows: I64) -> ScheduleColumns:
    return ScheduleColumns(
        **{name: getattr(cols, name)[rows] for name in ScheduleColumns.__dataclass_fields__}
    )


def _sub_calendar(cal: _Calendar, rows: I64, inst: I64) -> _Calendar:
    count = cal.count[rows]
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(count, out=offsets[1:])
    return _Calendar(
        count,
        offsets,
        np.repeat(np.arange(len(rows), dtype=np.int64), count),
        cal.number[inst],
        cal.last[inst],
        cal.period_start[inst],
        cal.due[inst],
        cal.mult[inst],
        cal.regular_mult[rows],
        cal.den_mult[rows],
    )


def _fits_int64(values: IntArray) -> bool:
    return values.dtype != object or all(-(2**63) <= int(v) < 2**63 for v in values)


def _build(cols: ScheduleColumns, terms: Sequence[ScheduleTerms] | None) -> ScheduleBatch:
    cal = _calendar(cols)
    safe = _int64_safe(cols, cal)
    if safe.all():
        amounts = _amounts(cols, cal, np.int64)
    else:
        parts = []
        for mask, dtype in ((safe, np.int64), (~safe, object)):
            rows = np.flatnonzero(mask)
            if not len(rows):
                continue
            inst = np.flatnonzero(mask[cal.row])
            parts.append(
                (rows, inst, _amounts(_take(cols, rows), _sub_calendar(cal, rows, inst), dtype))
            )
        wide = not all(_fits_int64(values) for _, _, amounts in parts for values in amounts)
        merged = []
        for j, size in enumerate((len(cal.row),) * 3 + (len(cols),) * 2):
            out = np.zeros(size, dtype=object if wide else np.int64)
            for rows, inst, values in parts:
                out[inst if j < 3 else rows] = values[j]
            merged.append(out)
        amounts = tuple(merged)
    principal_k, interest_k, fee_k, head, disbursed = amounts
    return ScheduleBatch(
        offsets=cal.offsets,
        number=cal.number,
        period_start=cal.period_start.view("datetime64[D]"),
        due_date=cal.due.view("datetime64[D]"),
        principal_fen=principal_k,
        interest_fen=interest_k,
        fee_fen=fee_k,
        upfront_fee_fen=head,
        disbursed_fen=disbursed,
        columns=cols,
        terms=terms,
    )


__all__ = [
    "FEE_KIND_CODES",
    "FEE_MODE_CODES",
    "METHOD_CODES",
    "UNIT_CODES",
    "ScheduleBatch",
    "ScheduleColumns",
    "build_schedules",
    "build_schedules_columns",
]
