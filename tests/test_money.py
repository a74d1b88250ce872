from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xindai.dates import add_months, first_fixed_day, parse_date
from xindai.errors import InvalidValue
from xindai.money import (
    DayCount,
    format_percent,
    format_rate,
    format_yuan,
    interest_for_days,
    parse_rate,
    parse_yuan,
    percent_of,
    round_half_up_ratio,
    to_fen,
)


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (5, 2, 3),
        (3, 2, 2),
        (-5, 2, -3),
        (7, 3, 2),
        (8, 3, 3),
        (1, 2, 1),
        (49, 100, 0),
        (-49, 100, 0),
        (-51, 100, -1),
        (5, -2, -3),
    ],
)
def test_round_half_up_ratio(numerator: int, denominator: int, expected: int) -> None:
    assert round_half_up_ratio(numerator, denominator) == expected


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False))
def test_to_fen_matches_decimal_round_half_up(value: Decimal) -> None:
    assert to_fen(value) == int(value.quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def test_to_fen_of_fraction_is_exact() -> None:
    assert to_fen(Fraction(1, 2)) == 1
    assert to_fen(Fraction(1, 3)) == 0
    assert to_fen(Fraction(2, 3)) == 1


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("10000", 1_000_000),
        ("10,000.5", 1_000_050),
        ("0.01", 1),
        ("¥88.08", 8808),
        ("-1.50", -150),
        ("  12.3 ", 1230),
        ("100元", 10_000),
    ],
)
def test_parse_yuan(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["", "abc", "1.234", "1e3", "--1", "1.2.3", "NaN"])
def test_parse_yuan_rejects_bad_text_naming_it(text: str) -> None:
    with pytest.raises(InvalidValue) as info:
        parse_yuan(text, field="--principal")
    assert "--principal" in str(info.value)
    assert info.value.code == "INVALID_VALUE"


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_format_and_parse_round_trip(fen: int) -> None:
    assert parse_yuan(format_yuan(fen)) == fen
    assert parse_yuan(format_yuan(fen, thousands=True)) == fen


def test_format_yuan() -> None:
    assert format_yuan(123456) == "1234.56"
    assert format_yuan(5) == "0.05"
    assert format_yuan(-5) == "-0.05"
    assert format_yuan(123456789, thousands=True, symbol=True) == "¥1,234,567.89"


def test_rates() -> None:
    assert parse_rate("0.18") == Decimal("0.18")
    assert parse_rate("18%") == Decimal("0.18")
    assert format_rate(Decimal("0.1956181")) == "0.195618"
    assert format_rate(Decimal("0.0000005")) == "0.000001"
    assert format_percent(Decimal("0.19565")) == "19.57%"
    with pytest.raises(InvalidValue):
        parse_rate("eighteen")


def test_day_counts_and_interest() -> None:
    assert DayCount.ACT360.days_in_year == 360
    assert DayCount.ACT365.days_in_year == 365
    # 1000.00 × 18% × 14 / 360 = 7.00 ; / 365 = 6.904… → 6.90
    assert interest_for_days(100_000, Decimal("0.18"), 14, DayCount.ACT360) == 700
    assert interest_for_days(100_000, Decimal("0.18"), 14, DayCount.ACT365) == 690
    assert percent_of(333_333, Decimal("0.015")) == 5000  # 4999.995 → 5000


def test_add_months_clamps_and_keeps_the_original_day() -> None:
    start = date(2026, 1, 31)
    assert add_months(start, 1) == date(2026, 2, 28)
    assert add_months(start, 2) == date(2026, 3, 31)
    assert add_months(start, 3) == date(2026, 4, 30)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)


def test_first_fixed_day_is_at_least_15_days_away() -> None:
    assert first_fixed_day(date(2026, 1, 5), 10) == date(2026, 2, 10)
    assert first_fixed_day(date(2026, 1, 5), 20) == date(2026, 1, 20)  # exactly 15 days
    assert first_fixed_day(date(2026, 1, 6), 20) == date(2026, 2, 20)
    assert first_fixed_day(date(2026, 12, 28), 5) == date(2027, 2, 5)  # Jan 5 is 8 days


def test_parse_date_names_the_bad_value() -> None:
    assert parse_date("2026-02-28") == date(2026, 2, 28)
    with pytest.raises(InvalidValue) as info:
        parse_date("2026-02-30", field="--start")
    assert "2026-02-30" in str(info.value)
