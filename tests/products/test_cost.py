"""Comprehensive annualised cost (IRR): known figures and the nominal-rate property."""

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xindai.dates import add_months
from xindai.errors import InvalidValue
from xindai.money import DayCount, format_percent
from xindai.products.catalogue import demo_products
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


# --- the time axis: unit periods counted back from each payment (SPEC §2, Reg Z App. J) ---


def fixed_day_cost(start, rate="0.18", term=6, method="annuity", day=10, **options):
    return cost_of(1_000_000, rate, term, "month", method, start, repayment_day=day, **options)


@pytest.mark.parametrize("start", [date(2026, 1, 20), date(2026, 4, 20)])
def test_fixed_day_loan_of_the_issue_discloses_the_reference_figure(start) -> None:
    # 10,000 at 18 % annuity, 6 months, due on the 10th: the unit-period method gives 18.01 %
    # from either date (the forward month count gave 18.17 % and 17.91 %)
    assert format_percent(fixed_day_cost(start).nominal) == "18.01%"


def test_fixed_day_payments_sit_whole_periods_after_the_odd_days() -> None:
    terms = ScheduleTerms(
        1_000_000,
        D("0.18"),
        6,
        PeriodUnit.MONTH,
        Method.ANNUITY,
        date(2026, 1, 20),
        repayment_day=10,
    )
    plan = cash_flow_plan(build_schedule(terms))
    # Feb 10 is 21 odd days after Jan 20, every later 10th one whole month more
    assert plan.times == tuple(Fraction(21, 30) + k for k in range(6))


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(date(2024, 1, 1), date(2030, 12, 31)),
    day=st.integers(1, 28),
    term=st.integers(1, 36),
    day_count=st.sampled_from(list(DayCount)),
)
def test_fixed_day_payments_are_one_period_apart(start, day, term, day_count) -> None:
    terms = ScheduleTerms(
        1_000_000,
        D("0.18"),
        term,
        PeriodUnit.MONTH,
        Method.EQUAL_PRINCIPAL,
        start,
        day_count=day_count,
        repayment_day=day,
    )
    schedule = build_schedule(terms)
    times = cash_flow_plan(schedule).times
    assert all(later - earlier == 1 for earlier, later in pairwise(times))
    # the first payment: the whole months back from it, then its odd days over basis / 12
    first_due = schedule.installments[0].due_date
    whole = 1 if add_months(first_due, -1) >= start else 0
    odd_days = (add_months(first_due, -whole) - start).days
    assert times[0] == whole + Fraction(odd_days * 12, day_count.days_in_year)


@settings(max_examples=100, deadline=None)
@given(
    first_due_month=st.integers(2024 * 12, 2030 * 12 + 11),
    odd_days=st.integers(15, 27),
    day=st.integers(1, 28),
    method=st.sampled_from(list(Method)[1:]),
    term=st.integers(1, 24),
    rate=st.decimals("0.01", "0.36", places=4),
    day_count=st.sampled_from(list(DayCount)),
)
def test_fixed_day_cost_depends_on_the_odd_days_not_on_the_month(
    first_due_month, odd_days, day, method, term, rate, day_count
) -> None:
    """The same odd days before the first repayment day give the same cost in every month of
    every year (February of common and leap years included)."""
    year, month0 = divmod(first_due_month, 12)
    first_due = date(year, month0 + 1, day)
    reference_due = date(2026, 5, day)

    def cost_for(due: date) -> Decimal:
        start = due - timedelta(days=odd_days)
        return fixed_day_cost(start, rate, term, method.value, day, day_count=day_count).nominal

    assert cost_for(first_due) == cost_for(reference_due)


@pytest.mark.parametrize(
    "start",
    [
        date(2026, 1, 21),
        date(2026, 2, 18),  # Feb 28 in between
        date(2028, 2, 19),  # Feb 29 in between
        date(2026, 4, 20),
        date(2026, 6, 20),
        date(2026, 8, 21),
        date(2026, 12, 21),  # across the year end
    ],
)
def test_catalogue_fixed_day_product_costs_the_same_from_any_month(start) -> None:
    """FLAT6 (12 % flat, due on the 10th) paid out 20 days before a 10th."""
    flat6 = next(p for p in demo_products() if p.code == "FLAT6")
    reference = flat6.schedule_terms(500_000, 6, date(2026, 1, 21))
    terms = flat6.schedule_terms(500_000, 6, start)
    assert (build_schedule(terms).installments[0].due_date - start).days == 20
    expected = annualised_cost(build_schedule(reference))
    assert annualised_cost(build_schedule(terms)) == expected


@pytest.mark.parametrize(
    "start",
    [
        date(2025, 12, 31),
        date(2026, 2, 28),
        date(2026, 4, 30),
        date(2026, 7, 31),
        date(2028, 2, 29),
    ],
)
def test_month_end_payouts_with_the_same_first_period_cost_the_same(start) -> None:
    """Paid out at a month's end, the first 10th is under 15 days away, so the first period is
    10 odd days and a whole month of 31 days (41 days of interest): 1 + 10/30 periods."""
    schedule = build_schedule(
        ScheduleTerms(
            1_000_000, D("0.18"), 6, PeriodUnit.MONTH, Method.ANNUITY, start, repayment_day=10
        )
    )
    assert schedule.installments[0].days == 41
    assert cash_flow_plan(schedule).times[0] == Fraction(4, 3)
    assert fixed_day_cost(start) == fixed_day_cost(date(2025, 12, 31))
    # 41 days of interest for 4/3 periods cost more than a month's rate: shown, not hidden
    assert format_percent(fixed_day_cost(start).nominal) == "18.14%"


def test_a_shorter_whole_month_in_the_first_period_charges_and_costs_less() -> None:
    # Jan 31 → Mar 10: 10 odd days and February (28 days), 38 days of interest for 4/3 periods
    assert fixed_day_cost(date(2026, 1, 31)).nominal < fixed_day_cost(date(2026, 2, 28)).nominal


def test_act365_odd_days_count_at_the_day_rate_and_keep_the_cost_at_the_cap() -> None:
    terms = ScheduleTerms(
        1_000_000,
        D("0.24"),
        6,
        PeriodUnit.MONTH,
        Method.ANNUITY,
        date(2026, 1, 20),
        day_count=DayCount.ACT365,
        repayment_day=10,
    )
    schedule = build_schedule(terms)
    # 21 odd days over 365/12 days a month; over 30 days the fee-free 24 % loan would
    # disclose 23.94 %, under its own rate and a 24 % cap
    assert cash_flow_plan(schedule).times[0] == Fraction(21 * 12, 365)
    assert annualised_cost(schedule).nominal >= D("0.24")


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(date(2024, 1, 1), date(2030, 12, 31)),
    term=st.integers(1, 60),
    day_count=st.sampled_from(list(DayCount)),
)
def test_same_day_of_month_payments_are_whole_periods(start, term, day_count) -> None:
    """Without a fixed repayment day every due date is whole months after the payout, month
    ends included (Jan 31 → Feb 28/29 → Mar 31 is 1, 2 periods)."""
    terms = ScheduleTerms(
        1_000_000, D("0.18"), term, PeriodUnit.MONTH, Method.ANNUITY, start, day_count=day_count
    )
    assert cash_flow_plan(build_schedule(terms)).times == tuple(
        Fraction(k) for k in range(1, term + 1)
    )


@pytest.mark.parametrize(
    ("unit", "term", "basis_days"),
    [("day", 10, 360), ("week", 8, 360), ("week", 4, 365)],
)
def test_day_and_week_periods_are_whole_unit_periods(unit, term, basis_days) -> None:
    day_count = DayCount.ACT360 if basis_days == 360 else DayCount.ACT365
    terms = ScheduleTerms(
        500_000,
        D("0.20"),
        term,
        PeriodUnit(unit),
        Method.EQUAL_PRINCIPAL,
        date(2028, 2, 27),  # across Feb 29
        day_count=day_count,
    )
    plan = cash_flow_plan(build_schedule(terms))
    assert plan.times == tuple(Fraction(k) for k in range(1, term + 1))
    assert plan.periods_per_year == Fraction(basis_days, PeriodUnit(unit).days or 1)


def test_a_single_payment_loan_is_one_unit_period_of_its_days() -> None:
    terms = ScheduleTerms(100_000, D("0.18"), 14, PeriodUnit.DAY, Method.BULLET, date(2026, 2, 20))
    plan = cash_flow_plan(build_schedule(terms))
    assert plan.times == (Fraction(1),)
    assert plan.periods_per_year == Fraction(360, 14)
