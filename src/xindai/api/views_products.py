"""What the product routes answer: versions, a version's definition and its comprehensive
annualised cost against the cap. Conventions as in `api.views`."""

from __future__ import annotations

from typing import Any

from xindai.api.views import View, one_of, shown, yuan
from xindai.origination.product_versions import STATUSES
from xindai.products.model import ProductType, RateCapKind
from xindai.schedules.model import Method

PERCENT_PATTERN = r"^-?[0-9]+\.[0-9]{2}%$"


class ProductVersion(View):
    code: str
    version: int
    name: str
    type: str = one_of(ProductType)
    method: str = one_of(Method)
    status: str = one_of(STATUSES)
    note: str | None = shown("what this version changes")
    created_by: str
    created_at: str | None
    approved_by: str | None = shown("who activated it (a second person)")
    activated_on: str | None = shown("business date, YYYY-MM-DD")
    retired_by: str | None
    retired_on: str | None


class CostPoint(View):
    term: int
    amount: str = yuan()
    nominal: str = shown(
        "comprehensive annualised cost, IRR × periods a year", pattern=PERCENT_PATTERN
    )
    effective: str = shown("(1 + IRR)^periods − 1", pattern=PERCENT_PATTERN)


class ProductCost(View):
    points: list[CostPoint] = shown("every allowed term at the minimum and maximum amounts")
    worst: CostPoint = shown("the highest over every first period a year of payouts gives")
    cap_kind: str = one_of(RateCapKind)
    cap: str = shown(pattern=PERCENT_PATTERN)
    within_cap: bool = shown("false: the product cannot be saved or activated")
    compliance_flags: list[str] = shown("e.g. UPFRONT_FEE_DEDUCTED (砍头息)")


class ProductDetail(ProductVersion):
    definition: dict[str, Any] = shown(
        "the product's fields; amounts (amount_min, amount_max, amount_step, "
        "penalty.overdue_fee) in yuan, rates as fractions"
    )
    cost: ProductCost
