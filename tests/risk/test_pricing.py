"""Risk-based pricing and limits: components, the cost cap, affordability."""

from dataclasses import replace
from decimal import Decimal

import pytest

from xindai.products.catalogue import demo_products
from xindai.products.cost import annualised_cost
from xindai.products.validation import REFERENCE_START
from xindai.risk.pricing import (
    PricingParams,
    credit_limit,
    max_rate_within_cap,
    price_loan,
    term_years,
)
from xindai.schedules.reference import build_schedule

D = Decimal
INSTALLMENT = demo_products()[1]  # INST12: annuity, 1% amortised fee, 24% cap
SHORT = demo_products()[0]  # CASH14: 14/21-day bullet, 24% cap


def cost_at(product, rate, amount, term):
    terms = replace(product, annual_rate=rate).schedule_terms(amount, term, REFERENCE_START)
    return annualised_cost(build_schedule(terms)).nominal


def test_term_years() -> None:
    assert term_years(INSTALLMENT, 6) == D("0.5")
    assert term_years(SHORT, 14) == D(14) / 360


@pytest.mark.parametrize(
    ("product", "amount", "term"),
    [(INSTALLMENT, 1_000_000, 12), (INSTALLMENT, 100_000, 3), (SHORT, 500_000, 14)],
)
def test_cap_rate_is_the_highest_basis_point_within_the_cap(product, amount, term) -> None:
    cap_rate = max_rate_within_cap(product, amount, term)
    cap = product.rate_cap.annual_rate
    assert cost_at(product, cap_rate, amount, term) <= cap
    assert cost_at(product, cap_rate + D("0.0001"), amount, term) > cap
    # the 1% amortised fee of INST12 must leave room: its cap rate is below 24%
    assert cap_rate < cap


def test_price_components_add_up() -> None:
    pricing = price_loan(
        INSTALLMENT,
        1_000_000,
        12,
        pd=D("0.03"),
        lgd=D("0.8"),
        margin=D("0.03"),
        params=PricingParams(D("0.05"), D("0.04")),
    )
    # expected loss = 3% × 80% = 2.4% a year; break-even 5% + 4% + 2.4% = 11.4%
    assert pricing.expected_loss == D("0.024")
    assert pricing.break_even == D("0.114")
    assert pricing.target_rate == D("0.144")
    assert pricing.rate == D("0.1440") and not pricing.capped and pricing.profitable


def test_price_never_exceeds_the_cap_and_flags_unprofitable() -> None:
    pricing = price_loan(SHORT, 500_000, 14, pd=D("0.16"), lgd=D("0.9"), margin=D("0.05"))
    # 16% × 90% = 14.4% expected loss a year: break-even 24.4%, above a 24% cap
    assert pricing.capped and not pricing.profitable
    assert pricing.rate == pricing.cap_rate
    assert cost_at(SHORT, pricing.rate, 500_000, 14) <= D("0.24")


def test_credit_limit_takes_the_smallest_and_floors_to_the_step() -> None:
    limit = credit_limit(
        INSTALLMENT,
        6,
        grade_cap_fen=1_000_000,
        monthly_income_fen=300_000,
        existing_monthly_payment_fen=23_456,
    )
    # affordability = (3000 × 50% − 234.56) × 6 = 7592.64 → floored to a 100-yuan step
    assert limit.affordability_fen == 759_264
    assert limit.limit_fen == 750_000
    reloan = credit_limit(
        INSTALLMENT,
        6,
        grade_cap_fen=1_000_000,
        monthly_income_fen=10**7,
        existing_monthly_payment_fen=0,
        reloan_limit_fen=450_000,
    )
    assert reloan.limit_fen == 450_000
    none = credit_limit(
        INSTALLMENT,
        6,
        grade_cap_fen=1_000_000,
        monthly_income_fen=10_000,
        existing_monthly_payment_fen=5_000,
    )
    assert none.limit_fen == 0
