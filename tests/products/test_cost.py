"""Comprehensive annualised cost (IRR): known figures and the nominal-rate property."""

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xindai.errors import InvalidValue
from xindai.money import DayCount
from xindai.products.cost import CashFlowPlan, annualised_cost, cash_flow_plan, periodic_irr
from xindai.schedules import Method, PeriodUnit, ScheduleTerms, UpfrontFeeMode, build_schedule

D = Decimal


def cost_of(principal, rate, term, unit, method, start=date(2026, 1, 31), **options):
    terms = ScheduleTerms(
        principal, D(rate), term, PeriodUnit(unit), Method(method), start, **options
    )
    return annualised_cost(build_schedule(terms))


def test_bullet_cost_is_the_nominal_rate_and_effective_compounds_per_term() -> None:
    cost = cost_of(100_000, "0.18", 14, "day", "bullet")
    assert abs(cost.nominal - D("0.18")) < D("1e-20")
    # i = 0.18 × 14/360 = 0.007 per 14 days; effective = 1.007^(360/14) − 1
    expected = (1 + 0.007) ** (360 / 14) - 1
    assert abs(float(cost.effective) - expected) < 1e-12


def test_annuity_cost_close_to_nominal_and_effective() -> None:
    cost = cost_of(1_000_000, "0.18", 12, "month", "annuity")
    assert cost.periods_per_year == 12
    # only the fen rounding of the schedule moves it off 18% (the last installment +0.01)
    assert abs(cost.nominal - D("0.18")) < D("0.000005")
    assert abs(cost.effective - D("0.195618")) < D("0.000005")


def test_upfront_fee_raises_the_cost_and_deduct_costs_most() -> None:
    base = cost_of(1_000_000, "0.18", 12, "month", "annuity").nominal
    by_mode = {
        mode: cost_of(
            1_000_000,
            "0.18",
            12,
            "month",
            "annuity",
            upfront_fee_rate=D("0.05"),
            upfront_fee_mode=UpfrontFeeMode(mode),
        ).nominal
        for mode in ("deduct", "separate", "amortized")
    }
    # deduct and separate: the borrower nets 9500 at the start → the same cash flows
    assert by_mode["deduct"] == by_mode["separate"]
    assert by_mode["deduct"] > by_mode["amortized"] > base
    assert D("0.27") < by_mode["deduct"] < D("0.28")


def test_flat_rate_costs_nearly_twice_its_nominal_rate() -> None:
    cost = cost_of(1_200_000, "0.12", 12, "month", "flat")
    # 等本等息 at 12% flat over 12 months: IRR ≈ 21.45% (well known from disclosures)
    assert D("0.2140") < cost.nominal < D("0.2150")


def test_irregular_first_period_uses_day_fractions() -> None:
    terms = ScheduleTerms(
        300_000,
        D("0.12"),
        3,
        PeriodUnit.MONTH,
        Method.EQUAL_PRINCIPAL,
        date(2026, 1, 5),
        repayment_day=10,
    )
    plan = cash_flow_plan(build_schedule(terms))
    # Feb 10 is 1 month and 5 days after Jan 5: 1 + 5/30 periods; then 2 + 5/30, 3 + 5/30
    assert plan.times == (Fraction(7, 6), Fraction(13, 6), Fraction(19, 6))


def test_no_rate_without_money_received() -> None:
    with pytest.raises(InvalidValue):
        periodic_irr(CashFlowPlan(0, (Fraction(1),), (100,), Fraction(12)))
    # paying back less than received is a negative rate, not an error
    assert periodic_irr(CashFlowPlan(1000, (Fraction(1),), (900,), Fraction(12))) == D("-0.1")


def test_zero_rate_loan_costs_zero() -> None:
    assert cost_of(100_000, "0", 3, "month", "annuity").nominal == 0


@settings(max_examples=150, deadline=None)
@given(
    principal=st.integers(1_000_000, 10**9),
    rate=st.decimals("0.01", "0.36", places=4),
    method=st.sampled_from(
        [Method.ANNUITY, Method.EQUAL_PRINCIPAL, Method.INTEREST_FIRST, Method.BULLET]
    ),
    unit=st.sampled_from(list(PeriodUnit)),
    term=st.integers(1, 36),
    day_count=st.sampled_from(list(DayCount)),
    start=st.dates(date(2024, 1, 1), date(2030, 12, 31)),
)
def test_irr_at_its_own_rate_reproduces_the_nominal_rate(
    principal, rate, method, unit, term, day_count, start
) -> None:
    """For a fee-free schedule on regular periods, the IRR × periods per year is the nominal
    rate up to the effect of rounding each amount to the fen."""
    terms = ScheduleTerms(principal, rate, term, unit, method, start, day_count=day_count)
    schedule = build_schedule(terms)
    cost = annualised_cost(schedule)
    count = len(schedule.installments)
    mean_time = sum(range(1, count + 1)) / count
    # each rounded amount is off by at most half a fen (the last absorbs up to n/2 fen)
    bound = float(cost.periods_per_year) * (count + 1) / (principal * mean_time)
    assert abs(float(cost.nominal - rate)) <= bound + 1e-12
