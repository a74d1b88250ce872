"""Loan products (产品设计, SPEC §2): definitions, validation and the comprehensive annualised
cost with its compliance cap. Imports money, dates and schedules; no I/O.
"""

from xindai.products.cost import AnnualisedCost, annualised_cost
from xindai.products.model import (
    EarlySettlement,
    EarlySettlementInterest,
    Extension,
    PenaltyBase,
    PenaltyTerms,
    Product,
    ProductType,
    RateCap,
    RateCapKind,
)
from xindai.products.validation import check_rate_cap, cost_range

__all__ = [
    "AnnualisedCost",
    "EarlySettlement",
    "EarlySettlementInterest",
    "Extension",
    "PenaltyBase",
    "PenaltyTerms",
    "Product",
    "ProductType",
    "RateCap",
    "RateCapKind",
    "annualised_cost",
    "check_rate_cap",
    "cost_range",
]
