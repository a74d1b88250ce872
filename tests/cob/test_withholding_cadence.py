"""How often automatic withholding (代扣) asks for a loan past due: every day up to the
settings' `withhold_daily_until_dpd`, then every `withhold_then_every_days`-th day; the SQL
condition the close-of-business step filters with says the same on both databases."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from xindai.errors import InvalidValue
from xindai.origination.withholding import WithholdingCadence
from xindai.settings import Settings
from xindai.store.db import make_engine


def days_withheld(cadence: WithholdingCadence, up_to: int = 40) -> list[int]:
    return [dpd for dpd in range(up_to + 1) if cadence.withholds_at(dpd)]


def test_the_default_withholds_daily_for_a_week_then_weekly() -> None:
    cadence = WithholdingCadence.from_settings(Settings())
    assert cadence == WithholdingCadence(7, 7)
    assert days_withheld(cadence) == [0, 1, 2, 3, 4, 5, 6, 7, 14, 21, 28, 35]


def test_other_cadences_from_the_settings() -> None:
    assert days_withheld(WithholdingCadence(2, 3), 12) == [0, 1, 2, 5, 8, 11]
    assert days_withheld(WithholdingCadence(0, 5), 12) == [0, 5, 10]
    every_day = WithholdingCadence.from_settings(Settings(withhold_then_every_days=1))
    assert days_withheld(every_day, 12) == list(range(13))


def test_a_cadence_that_would_never_withhold_is_refused() -> None:
    with pytest.raises(InvalidValue):
        WithholdingCadence(7, 0)
    with pytest.raises(InvalidValue):
        WithholdingCadence(-1, 7)
    with pytest.raises(ValidationError):
        Settings(withhold_then_every_days=0)


CADENCES = [(7, 7), (2, 3), (0, 5), (5, 1)]


@pytest.mark.parametrize("daily,every", CADENCES)
def test_the_sql_condition_agrees_with_the_rule(database_url: str, daily: int, every: int) -> None:
    cadence = WithholdingCadence(daily, every)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = " UNION ALL ".join(f"SELECT {n} AS dpd" for n in range(41))
            found = connection.execute(
                text(f"SELECT dpd FROM ({rows}) x WHERE {cadence.sql('x.dpd')} ORDER BY dpd")
            ).scalars()
            assert list(found) == days_withheld(cadence)
    finally:
        engine.dispose()
