"""The lender's wall clock: China Standard Time (UTC+8, no daylight saving) as naive
datetimes — how timestamps are stored and when a business day begins. One place, so that the
platform, the command line and the providers (which keep CST too) agree on the date whatever
the server's own time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

LENDER_TZ = timezone(timedelta(hours=8), "CST")


def now() -> datetime:
    """The lender's local time now (naive, CST)."""
    return datetime.now(LENDER_TZ).replace(tzinfo=None)


def today() -> date:
    """The lender's calendar date now (CST)."""
    return now().date()
