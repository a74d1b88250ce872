"""Activation checks of a product: its comprehensive annualised cost against its cap.

The cost depends on amount and term (fixed fees weigh more on small loans), so it is computed
for every allowed term at the minimum and maximum amounts, and the highest figure is compared
with the cap. With a fixed repayment day it also depends on the payout date: the first
period's interest is charged for its actual days (15 to about 46), so the cap is checked on
a payout date for every distinct first period a year of payouts gives (`payout_dates`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from xindai.errors import RateCapExceeded
from xindai.money import Fen, format_percent, format_yuan
from xindai.products.cost import AnnualisedCost, annualised_cost
from xindai.products.model import Product
from xindai.schedules.reference import build_schedule

#: A start date whose months are all reachable without clamping (day 15).
REFERENCE_START = date(2026, 1, 15)


@dataclass(frozen=True, slots=True)
class CostPoint:
    amount_fen: Fen
    term: int
    cost: AnnualisedCost


def cost_range(
    product: Product, *, start_date: date = REFERENCE_START, first_loan: bool = False
) -> tuple[CostPoint, ...]:
    """The annualised cost at every allowed term and at the minimum and maximum amounts."""
    points: list[CostPoint] = []
    for term in product.terms:
        for amount in sorted({product.amount_min_fen, product.amount_max_fen}):
            terms = product.schedule_terms(amount, term, start_date, first_loan=first_loan)
            points.append(CostPoint(amount, term, annualised_cost(build_schedule(terms))))
    return tuple(points)


def payout_dates(product: Product, year: int = REFERENCE_START.year) -> tuple[date, ...]:
    """Payout dates that between them give every first period a product can have: the
    reference date alone for a product due on the payout's own day of the month; for a fixed
    repayment day, one payout date per distinct (first-period days, days of the month before
    the first due date) over the year — what the first period's interest and its unit-period
    time depend on."""
    if product.repayment_day is None:
        return (REFERENCE_START,)
    seen: dict[tuple[int, int], date] = {}
    day = date(year, 1, 1)
    while day.year == year:
        terms = product.schedule_terms(product.amount_min_fen, product.terms[0], day)
        first = build_schedule(terms).installments[0]
        month_before = first.due_date.replace(day=1) - timedelta(days=1)
        key = ((first.due_date - day).days, month_before.day)
        seen.setdefault(key, day)
        day += timedelta(days=1)
    return tuple(sorted(seen.values()))


def worst_cost(product: Product, *, start_date: date | None = None) -> CostPoint:
    """The product's highest nominal annualised cost: on `start_date`, or on every distinct
    first period of `payout_dates`."""
    starts = (start_date,) if start_date is not None else payout_dates(product)
    return max(
        (point for start in starts for point in cost_range(product, start_date=start)),
        key=lambda p: p.cost.nominal,
    )


def check_rate_cap(product: Product, *, start_date: date | None = None) -> CostPoint:
    """Raise `RateCapExceeded` with the computed figure when the product's highest nominal
    annualised cost (`worst_cost`) is above its cap; otherwise return that highest point."""
    worst = worst_cost(product, start_date=start_date)
    cap = product.rate_cap.annual_rate
    if worst.cost.nominal > cap:
        figure, limit = format_percent(worst.cost.nominal), format_percent(cap)
        amount, unit = format_yuan(worst.amount_fen), product.period_unit.value
        raise RateCapExceeded(
            f"product {product.code}: comprehensive annualised cost {figure} (IRR, term"
            f" {worst.term} {unit}, amount {amount}) exceeds its cap {limit}",
            f"产品 {product.code} 的综合年化成本 {figure}（IRR，期限 {worst.term}，金额 {amount}）"
            f"超过上限 {limit}",
        )
    return worst
