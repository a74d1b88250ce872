"""The vectorised schedule engine equals the exact reference, schedule by schedule, to the fen."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xindai.errors import InvalidValue
from xindai.money import DayCount
from xindai.schedules.columns import METHOD_CODES, UNIT_CODES, ScheduleColumns
from xindai.schedules.model import (
    TERM_LIMITS,
    Method,
    PeriodicFeeKind,
    PeriodUnit,
    ScheduleTerms,
    UpfrontFeeMode,
)
from xindai.schedules.reference import build_schedule
from xindai.schedules.vectorised import (
    build_schedules,
    build_schedules_columns,
)

TIE_PRONE_RATES = [
    "0",
    "0.2",
    "0.24",
    "0.365",
    "0.36",
    "0.18",
    "0.12",
    "0.0365",
    "0.1825",
    "0.3333",
    "0.333333",
    "0.3333333333",
    "0.6666667",
    "1",
    "0.000001",
]
DEFAULTS = {"unit": PeriodUnit.MONTH, "start_date": date(2024, 1, 15)}


def terms(**overrides: object) -> ScheduleTerms:
    values: dict[str, object] = {
        "principal_fen": 1_000_000,
        "annual_rate": Decimal("0.24"),
        "term": 12,
        "method": Method.ANNUITY,
        **DEFAULTS,
        **overrides,
    }
    return ScheduleTerms(**values)  # type: ignore[arg-type]


BATCH_ARRAYS = (
    "offsets",
    "number",
    "due_date",
    "period_start",
    "principal_fen",
    "interest_fen",
    "fee_fen",
    "upfront_fee_fen",
    "disbursed_fen",
)


def assert_matches_reference(batch_terms: list[ScheduleTerms]) -> None:
    batch = build_schedules(batch_terms)
    assert len(batch) == len(batch_terms)
    assert batch.installment_count == sum(t.installment_count for t in batch_terms)
    for i, t in enumerate(batch_terms):
        assert batch.schedule(i) == build_schedule(t), f"schedule {i}: {t}"
    columns = ScheduleColumns.from_terms(batch_terms)
    if all(getattr(columns, name).dtype != object for name in ScheduleColumns.__dataclass_fields__):
        by_columns = build_schedules_columns(
            **{name: getattr(columns, name) for name in ScheduleColumns.__dataclass_fields__}
        )
        for name in BATCH_ARRAYS:
            assert np.array_equal(getattr(by_columns, name), getattr(batch, name)), name


@st.composite
def schedule_terms(draw: st.DrawFn) -> ScheduleTerms:
    unit = draw(st.sampled_from(PeriodUnit))
    method = draw(st.sampled_from(Method))
    low, high = TERM_LIMITS[unit.value]
    term = draw(st.one_of(st.integers(low, min(high, 36)), st.integers(low, high), st.just(high)))
    rate = draw(
        st.one_of(
            st.sampled_from(TIE_PRONE_RATES).map(Decimal),
            st.decimals(min_value=0, max_value=1, places=draw(st.integers(0, 12))),
            st.just(Decimal(1) / Decimal(3)),  # 28 digits: a denominator past int64
        )
    )
    principal = draw(
        st.one_of(
            st.integers(1, 100),
            st.integers(1, 10**7),
            st.integers(1, 10**10),
            st.integers(1, 10**8).map(lambda p: p * 100),
            st.integers(10**15, 10**20),
        )
    )
    start = draw(
        st.one_of(
            st.dates(date(1990, 1, 1), date(2080, 12, 31)),
            st.sampled_from(
                [
                    date(2024, 1, 31),
                    date(2023, 1, 31),
                    date(2024, 2, 29),
                    date(2024, 3, 30),
                    date(2024, 12, 31),
                    date(2023, 8, 31),
                ]
            ),
        )
    )
    monthly_installments = unit is PeriodUnit.MONTH and method is not Method.BULLET
    repayment_day = draw(st.none() | st.integers(1, 28)) if monthly_installments else None
    small_days = st.sampled_from([0, 0, 0, 1, 3, 7, 15, 30, 31, 45, 366]) | st.integers(0, 366)
    fee_kind = draw(st.sampled_from(PeriodicFeeKind))
    fee_value = draw(
        st.decimals(min_value=0, max_value=Decimal("0.999"), places=draw(st.integers(0, 6)))
        if fee_kind is PeriodicFeeKind.RATE
        else st.integers(0, 10**6).map(Decimal)
    )
    return ScheduleTerms(
        principal_fen=principal,
        annual_rate=rate,
        term=term,
        unit=unit,
        method=method,
        start_date=start,
        day_count=draw(st.sampled_from(DayCount)),
        interest_start_days=draw(small_days),
        interest_free_days=draw(small_days),
        repayment_day=repayment_day,
        upfront_fee_rate=draw(
            st.sampled_from([Decimal(0), Decimal("0.01"), Decimal("0.05"), Decimal("0.333")])
            | st.decimals(min_value=0, max_value=Decimal("0.999999"), places=6)
        ),
        upfront_fee_mode=draw(st.sampled_from(UpfrontFeeMode)),
        periodic_fee_kind=fee_kind,
        periodic_fee_value=fee_value,
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(schedule_terms(), min_size=1, max_size=6))
def test_batches_equal_the_reference(batch_terms: list[ScheduleTerms]) -> None:
    assert_matches_reference(batch_terms)


def test_month_end_start_clamps_and_keeps_the_day() -> None:
    t = terms(method=Method.EQUAL_PRINCIPAL, term=4, start_date=date(2024, 1, 31))
    batch = build_schedules([t])
    assert batch.due_date.tolist() == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]
    assert batch.period_start.tolist()[0] == date(2024, 1, 31)
    assert batch.schedule(0) == build_schedule(t)


def test_bullet_month_term_is_day_based_and_clamped() -> None:
    t = terms(
        method=Method.BULLET,
        term=1,
        start_date=date(2023, 1, 31),
        principal_fen=360_000,
        annual_rate=Decimal("0.36"),
    )
    (due,) = build_schedules([t]).due_date.tolist()
    assert due == date(2023, 2, 28)
    assert build_schedules([t]).interest_fen.tolist() == [360_000 * 36 * 28 // 36000]
    assert_matches_reference([t])


def test_fixed_repayment_day_with_a_broken_first_period() -> None:
    t = terms(
        method=Method.EQUAL_PRINCIPAL,
        term=3,
        start_date=date(2024, 3, 20),
        repayment_day=10,
        principal_fen=360_000,
        annual_rate=Decimal("0.36"),
    )
    batch = build_schedules([t])
    # Mar 10 is behind the start and Apr 10 is 21 days away (≥ 15): the first period is broken
    assert batch.due_date.tolist() == [date(2024, 4, 10), date(2024, 5, 10), date(2024, 6, 10)]
    assert batch.interest_fen.tolist()[0] == 360_000 * 36 * 21 // 36000  # actual days
    assert batch.interest_fen.tolist()[1] == 240_000 * 3 // 100  # regular annual / 12
    assert_matches_reference([t])


@pytest.mark.parametrize(
    ("start", "day"),
    [
        (date(2024, 3, 10), 10),
        (date(2024, 1, 31), 28),
        (date(2024, 3, 1), 5),
        (date(2024, 12, 20), 2),
        (date(2024, 2, 14), 28),
    ],
)
def test_fixed_repayment_day_edges(start: date, day: int) -> None:
    batch_terms = [
        terms(method=m, term=6, start_date=start, repayment_day=day)
        for m in Method
        if m is not Method.BULLET
    ]
    assert_matches_reference(batch_terms)


@pytest.mark.parametrize("mode", list(UpfrontFeeMode))
@pytest.mark.parametrize(
    ("kind", "value"), [(PeriodicFeeKind.RATE, "0.003"), (PeriodicFeeKind.FIXED, "500")]
)
def test_fee_modes(mode: UpfrontFeeMode, kind: PeriodicFeeKind, value: str) -> None:
    t = terms(
        principal_fen=1_000_001,
        upfront_fee_rate=Decimal("0.0333"),
        upfront_fee_mode=mode,
        periodic_fee_kind=kind,
        periodic_fee_value=Decimal(value),
        term=7,
    )
    batch = build_schedules([t])
    head = (1_000_001 * 333 + 5000) // 10000
    assert batch.upfront_fee_fen.tolist() == [head]
    assert batch.disbursed_fen.tolist() == [
        1_000_001 - (head if mode is UpfrontFeeMode.DEDUCT else 0)
    ]
    periodic = 500 if kind is PeriodicFeeKind.FIXED else (1_000_001 * 3 + 500) // 1000
    amortized = head if mode is UpfrontFeeMode.AMORTIZED else 0
    assert int(batch.fee_fen.sum()) == 7 * periodic + amortized
    assert_matches_reference([t])


def test_tiny_amounts_never_let_a_part_exceed_what_is_left() -> None:
    batch_terms = [
        terms(
            principal_fen=p,
            method=m,
            unit=PeriodUnit.WEEK,
            term=48,
            upfront_fee_rate=Decimal("0.5"),
            upfront_fee_mode=UpfrontFeeMode.AMORTIZED,
        )
        for p in (1, 24, 31, 47, 71)
        for m in Method
    ]
    batch = build_schedules(batch_terms)
    assert int(batch.principal_fen.min()) >= 0 and int(batch.fee_fen.min()) >= 0
    assert_matches_reference(batch_terms)


@pytest.mark.parametrize(("principal", "rate"), [(3630, "0.2"), (18150, "0.2"), (239875, "0.24")])
def test_annuity_payment_on_an_exact_half_fen(principal: int, rate: str) -> None:
    # A is exactly k + ½ fen; float64 lands just below and would round down
    t = terms(principal_fen=principal, annual_rate=Decimal(rate), term=2)
    batch = build_schedules([t])
    expected = build_schedule(t)
    assert batch.schedule(0) == expected
    r = float(rate) / 12
    naive = round(principal * r * (1 + r) ** 2 / ((1 + r) ** 2 - 1) - 1e-9)
    first = expected.installments[0]
    assert first.principal_fen + first.interest_fen == naive + 1


def test_overflow_rows_fall_back_to_exact_integers() -> None:
    normal = terms()
    wide_rate = terms(
        principal_fen=10**12,
        annual_rate=Decimal("0.333333333333"),
        term=60,
        method=Method.EQUAL_PRINCIPAL,
        day_count=DayCount.ACT365,
    )
    past_int64 = terms(
        principal_fen=10**20,
        annual_rate=Decimal(1) / Decimal(3),
        method=Method.PRINCIPAL_FIRST,
        term=36,
    )
    assert_matches_reference([normal, wide_rate])
    assert build_schedules([normal, wide_rate]).principal_fen.dtype == np.int64
    batch = build_schedules([normal, wide_rate, past_int64])
    assert batch.principal_fen.dtype == object  # amounts past int64 stay exact
    assert sum(batch.principal_fen[batch.offsets[2] :].tolist()) == 10**20
    assert_matches_reference([normal, wide_rate, past_int64])


def random_terms(rng: random.Random) -> ScheduleTerms:
    unit = rng.choice(list(PeriodUnit))
    method = rng.choice(list(Method))
    low, high = TERM_LIMITS[unit.value]
    monthly = unit is PeriodUnit.MONTH and method is not Method.BULLET
    kind = rng.choice(list(PeriodicFeeKind))
    return ScheduleTerms(
        principal_fen=rng.choice(
            [rng.randint(1, 500), rng.randint(50_000, 5_000_000), rng.randint(1, 10**10)]
        ),
        annual_rate=Decimal(rng.choice(TIE_PRONE_RATES)),
        term=rng.randint(low, min(high, 36)),
        unit=unit,
        method=method,
        start_date=date(2023, 1, 1) + timedelta(days=rng.randint(0, 1000)),
        day_count=rng.choice(list(DayCount)),
        interest_start_days=rng.choice([0, 0, 1, 3, 40]),
        interest_free_days=rng.choice([0, 0, 7, 30, 366]),
        repayment_day=rng.randint(1, 28) if monthly and rng.random() < 0.4 else None,
        upfront_fee_rate=Decimal(rng.choice(["0", "0.01", "0.05"])),
        upfront_fee_mode=rng.choice(list(UpfrontFeeMode)),
        periodic_fee_kind=kind,
        periodic_fee_value=Decimal(
            rng.choice(["0", "0.001"]) if kind is PeriodicFeeKind.RATE else rng.choice(["0", "500"])
        ),
    )


def test_a_mixed_batch_of_everything() -> None:
    rng = random.Random(20261128)
    assert_matches_reference([random_terms(rng) for _ in range(1500)])


def test_columns_entry_point_equals_terms_entry_point() -> None:
    rng = random.Random(7)
    batch_terms = [random_terms(rng) for _ in range(300)]
    columns = ScheduleColumns.from_terms(batch_terms)
    by_columns = build_schedules_columns(
        **{name: getattr(columns, name) for name in ScheduleColumns.__dataclass_fields__}
    )
    by_terms = build_schedules(batch_terms)
    for name in (
        "offsets",
        "number",
        "due_date",
        "period_start",
        "principal_fen",
        "interest_fen",
        "fee_fen",
        "upfront_fee_fen",
        "disbursed_fen",
    ):
        assert np.array_equal(getattr(by_columns, name), getattr(by_terms, name)), name
    # a columns batch rebuilds its ScheduleTerms exactly
    for i in range(0, 300, 17):
        assert by_columns.schedule(i) == build_schedule(batch_terms[i])


def test_columns_defaults_broadcast() -> None:
    batch = build_schedules_columns(
        principal_fen=np.array([100_000, 200_000]),
        rate_numerator=6,
        rate_denominator=25,
        term=np.array([3, 14]),
        unit=np.array([UNIT_CODES[PeriodUnit.MONTH], UNIT_CODES[PeriodUnit.DAY]]),
        method=np.array([METHOD_CODES[Method.FLAT], METHOD_CODES[Method.BULLET]]),
        start_date=np.datetime64("2024-05-31"),
    )
    assert batch.installment_counts.tolist() == [3, 1]
    assert batch.schedule(0) == build_schedule(
        terms(principal_fen=100_000, term=3, method=Method.FLAT, start_date=date(2024, 5, 31))
    )
    assert batch.schedule(1) == build_schedule(
        terms(
            principal_fen=200_000,
            term=14,
            unit=PeriodUnit.DAY,
            method=Method.BULLET,
            start_date=date(2024, 5, 31),
        )
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("term", 0),
        ("term", 61),
        ("principal_fen", 0),
        ("rate_numerator", 26),
        ("repayment_day", 29),
        ("days_in_year", 366),
        ("method", 9),
    ],
)
def test_columns_reject_what_schedule_terms_rejects(field: str, value: int) -> None:
    columns: dict[str, object] = {
        "principal_fen": [100_000],
        "rate_numerator": [6],
        "rate_denominator": [25],
        "term": [12],
        "unit": [UNIT_CODES[PeriodUnit.MONTH]],
        "method": [METHOD_CODES[Method.ANNUITY]],
        "start_date": ["2024-01-15"],
    }
    columns[field] = [value]
    with pytest.raises(InvalidValue):
        build_schedules_columns(**columns)  # type: ignore[arg-type]


def test_fixed_repayment_day_needs_monthly_installments_in_columns() -> None:
    with pytest.raises(InvalidValue, match="repayment_day"):
        build_schedules_columns(
            principal_fen=[100_000],
            rate_numerator=[6],
            rate_denominator=[25],
            term=[12],
            unit=[UNIT_CODES[PeriodUnit.WEEK]],
            method=[METHOD_CODES[Method.ANNUITY]],
            start_date=["2024-01-15"],
            repayment_day=[10],
        )


def test_empty_batch() -> None:
    batch = build_schedules([])
    assert len(batch) == 0 and batch.installment_count == 0 and batch.to_schedules() == []


def test_every_schedule_terms_field_reaches_the_columns() -> None:
    # a new ScheduleTerms option must be carried into ScheduleColumns (and the engine)
    handled = {
        "principal_fen",
        "annual_rate",
        "term",
        "unit",
        "method",
        "start_date",
        "day_count",
        "interest_start_days",
        "interest_free_days",
        "repayment_day",
        "upfront_fee_rate",
        "upfront_fee_mode",
        "periodic_fee_kind",
        "periodic_fee_value",
    }
    assert set(ScheduleTerms.__dataclass_fields__) == handled


def test_due_dates_past_year_9999_are_rejected() -> None:
    late = terms(start_date=date(9999, 11, 30), term=3)
    with pytest.raises(InvalidValue, match=r"start_date\[1\]"):
        build_schedules([terms(), late])
