"""Risk-based pricing and limits (定额定费, SPEC §7): pure functions, Decimal rates, fen.

Break-even annual rate = funding cost + operating cost + expected loss, where the expected
loss is PD × LGD a year (the scorecard's PD is a twelve-month probability of default — its
performance window — so it is an annual rate whatever the loan's term); the offered rate
adds the grade's target margin and is never above the highest rate whose comprehensive
annualised cost (IRR, all fees in) stays within the product's cap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import lru_cache

from xindai.money import Fen
from xindai.products.cost import annualised_cost
from xindai.products.model import Product
from xindai.products.validation import REFERENCE_START
from xindai.schedules.model import PeriodUnit
from xindai.schedules.reference import build_schedule

RATE_STEP = Decimal("0.0001")  # prices are quoted to a basis point


@dataclass(frozen=True, slots=True)
class PricingParams:
    """The lender's cost structure (annual rates)."""

    funding_cost: Decimal = Decimal("0.06")
    operating_cost: Decimal = Decimal("0.04")
    min_rate: Decimal = Decimal("0.06")


@dataclass(frozen=True, slots=True)
class Pricing:
    """Every component of a price, for the decision record."""

    funding_cost: Decimal
    operating_cost: Decimal
    expected_loss: Decimal  # annualised PD × LGD
    margin: Decimal
    break_even: Decimal  # funding + operating + expected loss
    target_rate: Decimal  # break-even + margin
    cap_rate: Decimal  # highest nominal rate within the product's cost cap
    rate: Decimal  # offered: max(min_rate, min(target, cap)), to a basis point
    capped: bool  # the cap bound the price
    profitable: bool  # the offered rate covers break-even


def term_years(product: Product, term: int) -> Decimal:
    """The loan's life in years by the product's day count."""
    basis = product.day_count.days_in_year
    if product.period_unit is PeriodUnit.MONTH:
        return Decimal(term) / 12
    days = term * (7 if product.period_unit is PeriodUnit.WEEK else 1)
    return Decimal(days) / basis


@lru_cache(maxsize=4096)
def max_rate_within_cap(product: Product, amount_fen: Fen, term: int) -> Decimal:
    """The highest nominal rate (to a basis point, ≤ 100%) at which this loan's
    comprehensive annualised cost stays within the product's cap, on the exact schedule
    and IRR, cached per (product version, amount, term).

    The cost is close to linear in the rate (fees add a near-constant excess; a flat rate
    a near-constant factor), so the search starts where the line through the costs at 0
    and at the cap crosses the cap, and brackets from there: about four exact costs where
    a bisection over every basis point took thirteen (a miss cost 9 ms)."""
    cap = product.rate_cap.annual_rate

    def cost(step: int) -> Decimal:
        candidate = _with_rate(product, step * RATE_STEP)
        terms = candidate.schedule_terms(amount_fen, term, REFERENCE_START)
        return annualised_cost(build_schedule(terms)).nominal

    def within(step: int) -> bool:
        return cost(step) <= cap

    top = int(cap / RATE_STEP)  # a rate above the cap can never fit
    at_zero = cost(0)
    if at_zero > cap:
        return Decimal(0)
    at_top = cost(top)
    if at_top <= cap:
        return top * RATE_STEP
    # the cost is close to linear in the rate: interpolate between the two ends
    guess = int(top * (cap - at_zero) / (at_top - at_zero))
    return highest_within(within, max(0, min(top - 1, guess)), 0, top - 1) * RATE_STEP


def highest_within(within: Callable[[int], bool], guess: int, low: int, high: int) -> int:
    """The largest k in [low, high] with `within(k)`, for a `within` true up to some k and
    false after it, with `within(low)` true: gallops from `guess` to bracket the answer,
    then bisects the bracket."""
    step = 1
    if within(guess):
        low = guess  # the answer is at or above the guess
        while low < high:
            probe = min(high, guess + step)
            if not within(probe):
                high = probe - 1
                break
            low, step = probe, step * 2
    else:
        high = guess - 1  # the answer is below the guess
        while low < high:
            probe = max(low, guess - step)
            if within(probe):
                low = probe
                break
            high, step = probe - 1, step * 2
    while low < high:
        middle = (low + high + 1) // 2
        if within(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _with_rate(product: Product, rate: Decimal) -> Product:
    from dataclasses import replace

    return replace(product, annual_rate=rate)


def price_loan(
    product: Product,
    amount_fen: Fen,
    term: int,
    *,
    pd: Decimal,
    lgd: Decimal,
    margin: Decimal,
    params: PricingParams = PricingParams(),
) -> Pricing:
    """Price one loan for a borrower with twelve-month probability of default `pd`."""
    params = params or PricingParams()
    expected_loss = pd * lgd  # annual: PD is a twelve-month probability of default
    break_even = params.funding_cost + params.operating_cost + expected_loss
    target = break_even + margin
    cap_rate = max_rate_within_cap(product, amount_fen, term)
    rate = min(target, cap_rate).quantize(RATE_STEP, rounding=ROUND_CEILING)
    if rate > cap_rate:
        rate = cap_rate.quantize(RATE_STEP, rounding=ROUND_FLOOR)
    rate = max(rate, min(params.min_rate, cap_rate))
    return Pricing(
        funding_cost=params.funding_cost,
        operating_cost=params.operating_cost,
        expected_loss=expected_loss.quantize(Decimal("0.000001")),
        margin=margin,
        break_even=break_even.quantize(Decimal("0.000001")),
        target_rate=target.quantize(Decimal("0.000001")),
        cap_rate=cap_rate,
        rate=rate,
        capped=target > cap_rate,
        profitable=rate >= break_even,
    )


@dataclass(frozen=True, slots=True)
class LimitBreakdown:
    grade_cap_fen: Fen
    affordability_fen: Fen
    product_max_fen: Fen
    reloan_limit_fen: Fen | None
    limit_fen: Fen  # the smallest, floored to the product's amount step (0 if below min)


def credit_limit(
    product: Product,
    term: int,
    *,
    grade_cap_fen: Fen,
    monthly_income_fen: Fen | None,
    existing_monthly_payment_fen: Fen,
    max_debt_to_income: Decimal = Decimal("0.5"),
    reloan_limit_fen: Fen | None = None,
) -> LimitBreakdown:
    """The limit by grade and affordability: what the borrower can repay each month is
    `max_debt_to_income` × monthly income less what they already pay each month, times the
    term in months (at least one month). Without a declared income (None) affordability does
    not bind: the grade's cap does."""
    months = max(Decimal(1), term_years(product, term) * 12)
    if monthly_income_fen is None:
        affordability = product.amount_max_fen
    else:
        capacity = monthly_income_fen * max_debt_to_income - existing_monthly_payment_fen
        affordability = int((capacity * months).to_integral_value(rounding=ROUND_FLOOR))
    candidates = [grade_cap_fen, max(0, affordability), product.amount_max_fen]
    if reloan_limit_fen is not None:
        candidates.append(reloan_limit_fen)
    limit = min(candidates)
    steps = (limit - product.amount_min_fen) // product.amount_step_fen
    floored = product.amount_min_fen + steps * product.amount_step_fen if steps >= 0 else 0
    return LimitBreakdown(
        grade_cap_fen, max(0, affordability), product.amount_max_fen, reloan_limit_fen, floored
    )
