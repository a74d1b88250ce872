"""The demo catalogue: typical cash-loan products a small lender starts with.

These are data, used by the demo and as templates in the console; a lender edits its own.
"""

from __future__ import annotations

from decimal import Decimal

from xindai.money import DayCount
from xindai.products.model import (
    Extension,
    PenaltyTerms,
    Product,
    ProductType,
    RateCap,
    RateCapKind,
)
from xindai.schedules.model import Method, PeriodUnit, UpfrontFeeMode


def demo_products() -> tuple[Product, ...]:
    return (
        Product(
            code="CASH14",
            name="14/21 天小额现金贷 Short cash loan",
            type=ProductType.SINGLE,
            terms=(14, 21),
            period_unit=PeriodUnit.DAY,
            amount_min_fen=50_000,
            amount_max_fen=500_000,
            amount_step_fen=10_000,
            annual_rate=Decimal("0.18"),
            method=Method.BULLET,
            grace_days=2,
            penalty=PenaltyTerms(daily_rate=Decimal("0.0005"), overdue_fee_fen=2_000),
            extension=Extension(allowed=True, fee_rate=Decimal("0.005"), days=7, max_count=2),
            rate_cap=RateCap(RateCapKind.CAP_24),
        ),
        Product(
            code="INST12",
            name="等额本息分期 Monthly installment loan",
            type=ProductType.INSTALLMENT,
            terms=(3, 6, 12),
            period_unit=PeriodUnit.MONTH,
            amount_min_fen=100_000,
            amount_max_fen=5_000_000,
            amount_step_fen=10_000,
            annual_rate=Decimal("0.18"),
            method=Method.ANNUITY,
            grace_days=3,
            upfront_fee_rate=Decimal("0.01"),
            upfront_fee_mode=UpfrontFeeMode.AMORTIZED,
            rate_cap=RateCap(RateCapKind.CAP_24),
        ),
        Product(
            code="FLAT6",
            name="等本等息分期 Flat-rate installment loan",
            type=ProductType.INSTALLMENT,
            terms=(3, 6),
            period_unit=PeriodUnit.MONTH,
            amount_min_fen=100_000,
            amount_max_fen=2_000_000,
            amount_step_fen=10_000,
            annual_rate=Decimal("0.12"),
            method=Method.FLAT,
            repayment_day=10,
            rate_cap=RateCap(RateCapKind.CAP_24),
        ),
        Product(
            code="WEEK8",
            name="按周分期 Weekly installment loan",
            type=ProductType.INSTALLMENT,
            terms=(4, 8),
            period_unit=PeriodUnit.WEEK,
            amount_min_fen=50_000,
            amount_max_fen=1_000_000,
            amount_step_fen=10_000,
            annual_rate=Decimal("0.20"),
            method=Method.EQUAL_PRINCIPAL,
            day_count=DayCount.ACT365,
            rate_cap=RateCap(RateCapKind.CAP_24),
        ),
    )
