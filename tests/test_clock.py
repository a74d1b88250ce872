"""The lender's clock is China Standard Time whatever the host's time zone: the business
date turns at midnight in Beijing, as the providers' statements do."""

from datetime import UTC, datetime, timedelta

from xindai import clock


def test_lender_time_is_utc_plus_eight_and_naive() -> None:
    now = clock.now()
    utc = datetime.now(UTC).replace(tzinfo=None)
    assert now.tzinfo is None
    assert abs(now - utc - timedelta(hours=8)) < timedelta(seconds=5)
    assert clock.today() in (now.date(), (now + timedelta(seconds=5)).date())
