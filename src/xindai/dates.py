"""Calendar arithmetic for schedules: month addition with end-of-month clamping, day counts.

Pure functions; the business date is always passed in, never read from the clock.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from xindai.errors import InvalidValue


def days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def add_months(start: date, months: int, *, anchor_day: int | None = None) -> date:
    """`start` plus `months` calendar months, on `anchor_day` (default: start's day), clamped
    to the month's last day: Jan 31 + 1 → Feb 28/29, Jan 31 + 2 → Mar 31."""
    day = anchor_day if anchor_day is not None else start.day
    month_index = start.year * 12 + (start.month - 1) + months
    year, month0 = divmod(month_index, 12)
    return date(year, month0 + 1, min(day, days_in_month(year, month0 + 1)))


def add_days(start: date, days: int) -> date:
    return start + timedelta(days=days)


def days_between(start: date, end: date) -> int:
    """Actual days from `start` to `end` (end − start)."""
    return (end - start).days


def parse_date(text: str, *, field: str = "date") -> date:
    """Parse an ISO date (YYYY-MM-DD) with a clear error naming the bad value."""
    try:
        cleaned = text.strip()
        if len(cleaned) != 10 or cleaned[4] != "-" or cleaned[7] != "-":
            raise ValueError(cleaned)  # only the extended form YYYY-MM-DD
        return date.fromisoformat(cleaned)
    except (ValueError, AttributeError, IndexError):
        raise InvalidValue(
            field, text, "not a date in the form YYYY-MM-DD", "日期格式应为 YYYY-MM-DD"
        ) from None


def first_fixed_day(start: date, repayment_day: int, *, min_days: int = 15) -> date:
    """The first date on `repayment_day` of a month that is at least `min_days` after `start`
    (the broken first period of a fixed-repayment-day schedule)."""
    candidate = add_months(start.replace(day=1), 0, anchor_day=repayment_day)
    while days_between(start, candidate) < min_days:
        candidate = add_months(candidate, 1, anchor_day=repayment_day)
    return candidate
