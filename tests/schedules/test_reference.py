"""Golden tables (checked by hand against SPEC §3) and properties of the reference schedules."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xindai.errors import InvalidValue
from xindai.money import DayCount
from xindai.schedules import (
    Method,
    PeriodicFeeKind,
    PeriodUnit,
    ScheduleTerms,
    UpfrontFeeMode,
    build_schedule,
)
from xindai.schedules.model import TERM_LIMITS
from xindai.schedules.reference import annuity_payment

D = Decimal


def rows(schedule):  # (due date, principal, interest, fee) per installment, in fen
    return [
        (i.due_date.isoformat(), i.principal_fen, i.interest_fen, i.fee_fen)
        for i in schedule.installments
    ]


def terms(principal, rate, term, unit, method, start=date(2026, 1, 31), **options):
    return ScheduleTerms(
        principal, D(rate), term, PeriodUnit(unit), Method(method), start, **options
    )


def test_bullet_14_days_act360_and_act365() -> None:
    # 1000.00 × 18% × 14/360 = 7.00; × 14/365 = 6.9041… → 6.90
    s = build_schedule(terms(100_000, "0.18", 14, "day", "bullet"))
    assert rows(s) == [("2026-02-14", 100_000, 700, 0)]
    s = build_schedule(terms(100_000, "0.18", 14, "day", "bullet", day_count=DayCount.ACT365))
    assert rows(s) == [("2026-02-14", 100_000, 690, 0)]


def test_bullet_in_months_charges_actual_days() -> None:
    # Jan 31 + 1 month = Feb 28: 28 days; 1000.00 × 18% × 28/360 = 14.00
    s = build_schedule(terms(100_000, "0.18", 1, "month", "bullet"))
    assert rows(s) == [("2026-02-28", 100_000, 1400, 0)]
    # 2 weeks = 14 days
    s = build_schedule(terms(100_000, "0.18", 2, "week", "bullet"))
    assert rows(s) == [("2026-02-14", 100_000, 700, 0)]


def test_annuity_10000_at_18_percent_over_12_months() -> None:
    # r = 1.5%/month; A = 10000 × 0.015 × 1.015^12 / (1.015^12 − 1) = 916.7999… → 916.80.
    # k=1: interest 10000 × 1.5% = 150.00, principal 766.80, B = 9233.20
    # k=2: interest 9233.20 × 1.5% = 138.498 → 138.50, principal 778.30, B = 8454.90
    # k=3: interest 126.8235 → 126.82, principal 789.98 … last: principal = remaining B.
    s = build_schedule(terms(1_000_000, "0.18", 12, "month", "annuity"))
    assert rows(s) == [
        ("2026-02-28", 76680, 15000, 0),
        ("2026-03-31", 77830, 13850, 0),
        ("2026-04-30", 78998, 12682, 0),
        ("2026-05-31", 80183, 11497, 0),
        ("2026-06-30", 81385, 10295, 0),
        ("2026-07-31", 82606, 9074, 0),
        ("2026-08-31", 83845, 7835, 0),
        ("2026-09-30", 85103, 6577, 0),
        ("2026-10-31", 86379, 5301, 0),
        ("2026-11-30", 87675, 4005, 0),
        ("2026-12-31", 88990, 2690, 0),
        ("2027-01-31", 90326, 1355, 0),
    ]
    assert [i.total_fen for i in s.installments] == [91680] * 11 + [91681]
    assert s.total_interest_fen == 100_161  # 916.80 × 12 + 0.01 − 10000


def test_annuity_payment_formula_and_zero_rate() -> None:
    from fractions import Fraction

    assert annuity_payment(1_000_000, Fraction(15, 1000), 12) == 91680
    assert annuity_payment(100_000, Fraction(0), 3) == 33333
    s = build_schedule(terms(100_000, "0", 3, "month", "annuity"))
    assert [i.principal_fen for i in s.installments] == [33333, 33333, 33334]
    assert s.total_interest_fen == 0


def test_equal_principal() -> None:
    # 1200.00 at 12% over 3 months: r = 1%; principal 400.00 each; interest 12, 8, 4
    s = build_schedule(terms(120_000, "0.12", 3, "month", "equal_principal"))
    assert rows(s) == [
        ("2026-02-28", 40000, 1200, 0),
        ("2026-03-31", 40000, 800, 0),
        ("2026-04-30", 40000, 400, 0),
    ]
    # 1000.00: principal 333.33, 333.33, 333.34 (last takes the remainder);
    # interest 10.00, 666.67 fen → 6.67, 333.34 fen → 3.33
    s = build_schedule(terms(100_000, "0.12", 3, "month", "equal_principal"))
    assert rows(s) == [
        ("2026-02-28", 33333, 1000, 0),
        ("2026-03-31", 33333, 667, 0),
        ("2026-04-30", 33334, 333, 0),
    ]


def test_flat() -> None:
    # 等本等息: principal round(P/n), interest round(P·r) = 10.00 every period
    s = build_schedule(terms(100_000, "0.12", 3, "month", "flat"))
    assert rows(s) == [
        ("2026-02-28", 33333, 1000, 0),
        ("2026-03-31", 33333, 1000, 0),
        ("2026-04-30", 33334, 1000, 0),
    ]


def test_interest_first() -> None:
    s = build_schedule(terms(100_000, "0.12", 3, "month", "interest_first"))
    assert rows(s) == [
        ("2026-02-28", 0, 1000, 0),
        ("2026-03-31", 0, 1000, 0),
        ("2026-04-30", 100_000, 1000, 0),
    ]


def test_principal_first() -> None:
    # interest round(B·r) per period: 10.00 + 6.67 + 3.33 = 20.00, all with the last
    s = build_schedule(terms(100_000, "0.12", 3, "month", "principal_first"))
    assert rows(s) == [
        ("2026-02-28", 33333, 0, 0),
        ("2026-03-31", 33333, 0, 0),
        ("2026-04-30", 33334, 2000, 0),
    ]


def test_weekly_and_daily_periods() -> None:
    # r = 36.5% × 7 / 365 = 0.7% per week: interest 700.00 × 0.7% = 4.90, then 2.45
    s = build_schedule(
        terms(70_000, "0.365", 2, "week", "equal_principal", day_count=DayCount.ACT365)
    )
    assert rows(s) == [("2026-02-07", 35000, 490, 0), ("2026-02-14", 35000, 245, 0)]
    # daily, ACT/360: r = 36% / 360 = 0.1% per day on 300.00: 0.30, 0.20, 0.10
    s = build_schedule(terms(30_000, "0.36", 3, "day", "equal_principal"))
    assert rows(s) == [
        ("2026-02-01", 10000, 30, 0),
        ("2026-02-02", 10000, 20, 0),
        ("2026-02-03", 10000, 10, 0),
    ]


def test_month_end_clamping_keeps_the_original_day_and_leap_years() -> None:
    s = build_schedule(
        terms(120_000, "0.12", 4, "month", "equal_principal", start=date(2028, 1, 31))
    )
    assert [i.due_date.isoformat() for i in s.installments] == [
        "2028-02-29",
        "2028-03-31",
        "2028-04-30",
        "2028-05-31",
    ]


def test_fixed_repayment_day_with_broken_first_period() -> None:
    # start Jan 5, repay on the 10th: Jan 10 is 5 days away (< 15) so the first due date is
    # Feb 10, 36 days: interest 3000.00 × 12% × 36/360 = 36.00; then 1% a month.
    s = build_schedule(
        terms(
            300_000, "0.12", 3, "month", "equal_principal", start=date(2026, 1, 5), repayment_day=10
        )
    )
    assert rows(s) == [
        ("2026-02-10", 100_000, 3600, 0),
        ("2026-03-10", 100_000, 2000, 0),
        ("2026-04-10", 100_000, 1000, 0),
    ]
    # a first period of exactly one month is a regular period
    s = build_schedule(
        terms(
            300_000, "0.12", 2, "month", "interest_first", start=date(2026, 1, 10), repayment_day=10
        )
    )
    assert rows(s) == [("2026-02-10", 0, 3000, 0), ("2026-03-10", 300_000, 3000, 0)]


def test_interest_start_offset_and_interest_free_days() -> None:
    # interest from day 3: 1000.00 × 18% × 11/360 = 5.50
    s = build_schedule(terms(100_000, "0.18", 14, "day", "bullet", interest_start_days=3))
    assert rows(s) == [("2026-02-14", 100_000, 550, 0)]
    # 30 free days on a monthly loan from Jan 31: period 1 (28 days) is free, period 2
    # (Feb 28 → Mar 31, 31 days) charges the 29 days from Mar 2: 1000 × 12% × 29/360 = 9.666… → 9.67
    s = build_schedule(terms(100_000, "0.12", 3, "month", "interest_first", interest_free_days=30))
    assert rows(s) == [
        ("2026-02-28", 0, 0, 0),
        ("2026-03-31", 0, 967, 0),
        ("2026-04-30", 100_000, 1000, 0),
    ]


@pytest.mark.parametrize(
    ("mode", "disbursed", "fees"),
    [("deduct", 95_000, [0]), ("separate", 100_000, [0]), ("amortized", 100_000, [5000])],
)
def test_upfront_fee_modes(mode: str, disbursed: int, fees: list[int]) -> None:
    s = build_schedule(
        terms(
            100_000,
            "0.18",
            14,
            "day",
            "bullet",
            upfront_fee_rate=D("0.05"),
            upfront_fee_mode=UpfrontFeeMode(mode),
        )
    )
    assert s.upfront_fee_fen == 5000
    assert s.disbursed_fen == disbursed
    assert [i.fee_fen for i in s.installments] == fees
    assert s.net_received_fen == 95_000 if mode != "amortized" else s.net_received_fen == 100_000


def test_amortized_fee_split_and_periodic_fees() -> None:
    # 5% of 1000.00 = 50.00 over 3: 16.67, 16.67, 16.66; plus 0.1% of principal = 1.00 each
    s = build_schedule(
        terms(
            100_000,
            "0.12",
            3,
            "month",
            "equal_principal",
            upfront_fee_rate=D("0.05"),
            upfront_fee_mode=UpfrontFeeMode.AMORTIZED,
            periodic_fee_value=D("0.001"),
        )
    )
    assert [i.fee_fen for i in s.installments] == [1767, 1767, 1766]
    s = build_schedule(
        terms(
            100_000,
            "0.12",
            2,
            "month",
            "flat",
            periodic_fee_kind=PeriodicFeeKind.FIXED,
            periodic_fee_value=D(500),
        )
    )
    assert [i.fee_fen for i in s.installments] == [500, 500]
    assert s.total_payment_fen == 100_000 + 2 * 1000 + 1000


@pytest.mark.parametrize(
    ("field", "options"),
    [
        ("principal", {"principal": 0}),
        ("principal", {"principal": -100}),
        ("rate", {"rate": "-0.01"}),
        ("rate", {"rate": "1.5"}),
        ("term", {"term": 0}),
        ("term", {"term": 61}),
        ("repayment_day", {"repayment_day": 29}),
        ("repayment_day", {"unit": "day", "repayment_day": 10}),
        ("upfront_fee", {"upfront_fee_rate": D("1")}),
        ("periodic_fee", {"periodic_fee_value": D("-1")}),
        ("interest_start_days", {"interest_start_days": -1}),
    ],
)
def test_bad_terms_raise_typed_errors_naming_the_field(field: str, options: dict) -> None:
    base = {"principal": 100_000, "rate": "0.12", "term": 3, "unit": "month", "method": "annuity"}
    extra = {k: v for k, v in options.items() if k not in base}
    base.update({k: v for k, v in options.items() if k in base})
    with pytest.raises(InvalidValue) as info:
        terms(base["principal"], base["rate"], base["term"], base["unit"], base["method"], **extra)
    assert info.value.field == field
    assert info.value.message_zh != info.value.message_en


@st.composite
def schedule_terms(draw: st.DrawFn) -> ScheduleTerms:
    unit = draw(st.sampled_from(list(PeriodUnit)))
    method = draw(st.sampled_from(list(Method)))
    low, high = TERM_LIMITS[unit.value]
    fixed_day = (
        draw(st.one_of(st.none(), st.integers(1, 28)))
        if unit is PeriodUnit.MONTH and method is not Method.BULLET
        else None
    )
    return ScheduleTerms(
        principal_fen=draw(st.integers(1, 10**10)),
        annual_rate=draw(st.decimals(0, 1, places=4)),
        term=draw(st.integers(low, min(high, 48))),
        unit=unit,
        method=method,
        start_date=draw(st.dates(date(2020, 1, 1), date(2035, 12, 31))),
        day_count=draw(st.sampled_from(list(DayCount))),
        interest_start_days=draw(st.integers(0, 40)),
        interest_free_days=draw(st.sampled_from([0, 0, 7, 30])),
        repayment_day=fixed_day,
        upfront_fee_rate=draw(st.decimals(0, "0.2", places=3)),
        upfront_fee_mode=draw(st.sampled_from(list(UpfrontFeeMode))),
        periodic_fee_value=draw(st.decimals(0, "0.01", places=4)),
    )


@settings(max_examples=300, deadline=None)
@given(schedule_terms())
def test_schedule_invariants(t: ScheduleTerms) -> None:
    s = build_schedule(t)
    assert s.total_principal_fen == t.principal_fen  # principal sums to the loan
    assert len(s.installments) == t.installment_count
    for i in s.installments:
        for amount in (i.principal_fen, i.interest_fen, i.fee_fen):
            assert isinstance(amount, int) and amount >= 0  # whole fen, never negative
    dues = [i.due_date for i in s.installments]
    assert dues == sorted(dues) and len(set(dues)) == len(dues)
    assert dues[0] > t.start_date
    assert all(
        a.due_date == b.start_date for a, b in zip(s.installments, s.installments[1:], strict=False)
    )
    assert (
        s.disbursed_fen + (s.upfront_fee_fen if t.upfront_fee_mode is UpfrontFeeMode.DEDUCT else 0)
        == t.principal_fen
    )
