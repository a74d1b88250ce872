"""Due dates and the exact interest rate of every period of a schedule.

A period's rate is an exact `Fraction` applied to the outstanding balance: the regular
periodic rate `r` (annual/12 for months; annual × days / basis for day and week periods), or
a day-based rate `annual × charged_days / basis` for a broken first period, a bullet term, or
a period that is partly interest-free (interest start offset, first-loan 免息期).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from xindai.dates import add_days, add_months, first_fixed_day
from xindai.schedules.model import Method, PeriodUnit, ScheduleTerms


@dataclass(frozen=True, slots=True)
class Period:
    number: int
    start_date: date
    due_date: date
    rate: Fraction  # exact rate applied to the outstanding balance for this period


def due_dates(terms: ScheduleTerms) -> list[date]:
    """The due date of every installment (one for a bullet loan)."""
    start, unit = terms.start_date, terms.unit
    if terms.method is Method.BULLET:
        if unit is PeriodUnit.MONTH:
            return [add_months(start, terms.term)]
        return [add_days(start, terms.term * (unit.days or 1))]
    count = terms.term
    if unit is PeriodUnit.MONTH:
        if terms.repayment_day is None:
            return [add_months(start, k) for k in range(1, count + 1)]
        first = first_fixed_day(start, terms.repayment_day)
        return [add_months(first, k, anchor_day=terms.repayment_day) for k in range(count)]
    step = unit.days or 1
    return [add_days(start, k * step) for k in range(1, count + 1)]


def regular_rate(terms: ScheduleTerms) -> Fraction:
    """The regular periodic rate r of SPEC §3."""
    annual = Fraction(terms.annual_rate)
    if terms.unit is PeriodUnit.MONTH:
        return annual / 12
    return annual * (terms.unit.days or 1) / terms.day_count.days_in_year


def interest_free_until(terms: ScheduleTerms) -> date:
    """Interest accrues only from this date on (start + offset or first-loan free days)."""
    return add_days(terms.start_date, max(terms.interest_start_days, terms.interest_free_days))


def periods(terms: ScheduleTerms) -> list[Period]:
    """Every period with its exact rate."""
    annual = Fraction(terms.annual_rate)
    basis = terms.day_count.days_in_year
    regular = regular_rate(terms)
    free_until = interest_free_until(terms)
    result: list[Period] = []
    period_start = terms.start_date
    dues = due_dates(terms)
    broken_first = terms.repayment_day is not None and dues[0] != add_months(terms.start_date, 1)
    for number, due in enumerate(dues, start=1):
        day_based = terms.method is Method.BULLET or (number == 1 and broken_first)
        if free_until >= due:
            rate = Fraction(0)
        elif free_until > period_start:
            rate = annual * (due - free_until).days / basis
        elif day_based:
            rate = annual * (due - period_start).days / basis
        else:
            rate = regular
        result.append(Period(number, period_start, due, rate))
        period_start = due
    return result
