"""Product validation: every bad or contradictory value raises a typed error naming it."""

import json
from datetime import date
from decimal import Decimal

import pytest

from xindai.errors import InvalidValue, ProductError, RateCapExceeded
from xindai.products import (
    Extension,
    PenaltyTerms,
    Product,
    ProductType,
    RateCap,
    RateCapKind,
    check_rate_cap,
)
from xindai.products.catalogue import demo_products
from xindai.schedules import Method, PeriodUnit, UpfrontFeeMode
from xindai.servicing.allocation import Component

D = Decimal


def make(**changes) -> Product:
    fields = dict(
        code="P1",
        name="测试 Test",
        type=ProductType.INSTALLMENT,
        terms=(3, 6, 12),
        period_unit=PeriodUnit.MONTH,
        amount_min_fen=100_000,
        amount_max_fen=1_000_000,
        amount_step_fen=10_000,
        annual_rate=D("0.18"),
        method=Method.ANNUITY,
    )
    fields.update(changes)
    return Product(**fields)


def test_a_valid_product_and_its_schedule_terms() -> None:
    product = make()
    terms = product.schedule_terms(500_000, 6, date(2026, 1, 31))
    assert terms.principal_fen == 500_000 and terms.term == 6
    assert product.compliance_flags == ()


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("amount_min", {"amount_min_fen": 0}),
        ("amount_min", {"amount_min_fen": -100}),
        ("amount", {"amount_min_fen": 2_000_000}),
        ("amount_step", {"amount_step_fen": 7_000}),
        ("terms", {"terms": ()}),
        ("terms", {"terms": (3, 61)}),
        ("terms", {"terms": (3, 3)}),
        ("annual_rate", {"annual_rate": D("-0.01")}),
        ("annual_rate", {"annual_rate": D("1.01")}),
        ("upfront_fee_rate", {"upfront_fee_rate": D("1")}),
        ("method", {"method": Method.BULLET}),
        ("method", {"type": ProductType.SINGLE}),
        ("repayment_day", {"repayment_day": 31}),
        ("repayment_day", {"period_unit": PeriodUnit.WEEK, "terms": (4,), "repayment_day": 5}),
        (
            "extension",
            {"extension": Extension(allowed=True, fee_rate=D("0.01"), days=7, max_count=1)},
        ),
        ("allocation_order", {"allocation_order": (Component.PENALTY, Component.FEE)}),
        ("grace_days", {"grace_days": -1}),
        ("age_range", {"age_min": 17}),
        ("code", {"code": "bad code!"}),
    ],
)
def test_bad_products_are_rejected_naming_the_field(field: str, changes: dict) -> None:
    with pytest.raises(ProductError) as info:
        make(**changes)
    assert info.value.field == field
    assert info.value.code == "PRODUCT_INVALID"


@pytest.mark.parametrize(
    "build",
    [
        lambda: PenaltyTerms(daily_rate=D("-0.001")),
        lambda: PenaltyTerms(overdue_fee_fen=-1),
        lambda: RateCap(RateCapKind.LPR_4X),
        lambda: RateCap(RateCapKind.CAP_24, lpr=D("0.03")),
        lambda: Extension(allowed=True, days=0, max_count=1),
    ],
)
def test_bad_nested_options(build) -> None:
    with pytest.raises(ProductError):
        build()


def test_loan_amount_and_term_must_fit_the_product() -> None:
    product = make()
    with pytest.raises(InvalidValue) as info:
        product.schedule_terms(500_000, 9, date(2026, 1, 31))
    assert info.value.field == "term"
    for amount in (99_000, 1_010_000, 105_000):
        with pytest.raises(InvalidValue) as info:
            product.schedule_terms(amount, 6, date(2026, 1, 31))
        assert info.value.field == "amount"


def test_rate_cap_rejects_with_the_computed_figure() -> None:
    product = make(
        annual_rate=D("0.20"), upfront_fee_rate=D("0.05"), upfront_fee_mode=UpfrontFeeMode.DEDUCT
    )
    assert product.compliance_flags == ("UPFRONT_FEE_DEDUCTED",)
    with pytest.raises(RateCapExceeded) as info:
        check_rate_cap(product)
    # 5% deducted on a 3-month loan at 20%: about 20% + 5% over ~2 months of average life,
    # i.e. ≈ 52%; the message names the figure and the cap
    message = str(info.value)
    assert "exceeds its cap 24.00%" in message and "term 3" in message
    figure = D(message.split("cost ")[1].split("%")[0])
    assert D(48) < figure < D(56)
    assert "24.00%" in info.value.message_zh


def test_lpr_cap_and_36_cap() -> None:
    product = make(annual_rate=D("0.30"), rate_cap=RateCap(RateCapKind.CAP_36))
    assert check_rate_cap(product).cost.nominal < D("0.36")
    capped = make(annual_rate=D("0.15"), rate_cap=RateCap(RateCapKind.LPR_4X, lpr=D("0.0345")))
    assert capped.rate_cap.annual_rate == D("0.1380")
    with pytest.raises(RateCapExceeded):
        check_rate_cap(capped)


def test_demo_products_are_valid_and_within_their_caps() -> None:
    for product in demo_products():
        assert check_rate_cap(product).cost.nominal <= product.rate_cap.annual_rate


def test_round_trip_through_json() -> None:
    for product in demo_products():
        data = json.loads(json.dumps(product.to_dict()))
        assert Product.from_dict(data) == product


def test_from_dict_names_unknown_and_bad_fields() -> None:
    data = make().to_dict()
    with pytest.raises(ProductError) as info:
        Product.from_dict({**data, "colour": "red"})
    assert info.value.field == "colour"
    with pytest.raises(ProductError) as info:
        Product.from_dict({**data, "method": "balloon"})
    assert info.value.field == "method"
    with pytest.raises(ProductError) as info:
        Product.from_dict({**data, "penalty": {**data["penalty"], "daily_rate": "x"}})
    assert info.value.field == "penalty.daily_rate"


def test_fixed_day_cap_is_checked_on_the_worst_first_period() -> None:
    """FLAT6 (due on the 10th) costs 20.63 % paid out on 15 January but 21.71 % when the
    first period is longest: a 21 % cap (4 × an LPR of 5.25 %) passes on the reference date
    alone and must fail on the product as a whole."""
    from dataclasses import replace

    from xindai.products.catalogue import demo_products
    from xindai.products.validation import REFERENCE_START, payout_dates

    flat6 = next(p for p in demo_products() if p.code == "FLAT6")
    capped = replace(flat6, rate_cap=RateCap(RateCapKind.LPR_4X, lpr=D("0.0525")))
    assert check_rate_cap(capped, start_date=REFERENCE_START).cost.nominal < D("0.21")
    with pytest.raises(RateCapExceeded) as info:
        check_rate_cap(capped)
    assert "21.71%" in str(info.value)
    dates = payout_dates(capped)
    assert len(dates) == len(set(dates)) > 28  # every first period of a year, each once
    assert payout_dates(make()) == (REFERENCE_START,)  # due on the payout's own day
