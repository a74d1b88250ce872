"""DPD and delinquency buckets (SPEC §4): every default edge, custom schemes, vectorised lookup."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xindai.errors import InvalidValue
from xindai.servicing.delinquency import (
    DEFAULT_BUCKET_SCHEME,
    Bucket,
    BucketScheme,
    days_past_due,
)

# --- days past due -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("business_date", "due_date", "dpd"),
    [
        (date(2024, 3, 1), None, 0),
        (date(2024, 3, 1), date(2024, 3, 1), 0),  # due today is not past due
        (date(2024, 3, 1), date(2024, 3, 2), 0),  # not yet due
        (date(2024, 3, 1), date(2024, 2, 29), 1),
        (date(2024, 3, 1), date(2024, 1, 31), 30),  # across a leap February
        (date(2023, 3, 1), date(2023, 1, 31), 29),
        (date(2025, 1, 1), date(2024, 1, 1), 366),
    ],
)
def test_days_past_due(business_date: date, due_date: date | None, dpd: int) -> None:
    assert days_past_due(business_date, due_date) == dpd


@given(st.dates(), st.integers(min_value=-400, max_value=4000))
def test_days_past_due_counts_days_after_the_due_date(due: date, offset: int) -> None:
    try:
        business_date = due + timedelta(days=offset)
    except OverflowError:
        return
    assert days_past_due(business_date, due) == (offset if offset > 0 else 0)


# --- the default scheme --------------------------------------------------------------------

DEFAULT_EDGES = [
    (0, "M0"),
    (1, "M1"),
    (30, "M1"),
    (31, "M2"),
    (60, "M2"),
    (61, "M3"),
    (90, "M3"),
    (91, "M4"),
    (120, "M4"),
    (121, "M5"),
    (150, "M5"),
    (151, "M6"),
    (180, "M6"),
    (181, "M6+"),
    (10_000, "M6+"),
]


@pytest.mark.parametrize(("dpd", "name"), DEFAULT_EDGES)
def test_default_edges(dpd: int, name: str) -> None:
    bucket = DEFAULT_BUCKET_SCHEME.bucket_for(dpd)
    assert bucket.name == name
    assert bucket.contains(dpd)
    index = DEFAULT_BUCKET_SCHEME.bucket_index(np.array([dpd]))
    assert DEFAULT_BUCKET_SCHEME.names[int(index[0])] == name


def test_default_edges_vectorised_in_one_call() -> None:
    dpd = np.array([d for d, _ in DEFAULT_EDGES], dtype=np.int64)
    names = np.array(DEFAULT_BUCKET_SCHEME.names)[DEFAULT_BUCKET_SCHEME.bucket_index(dpd)]
    assert names.tolist() == [name for _, name in DEFAULT_EDGES]


def test_default_scheme_shape() -> None:
    scheme = BucketScheme.default()
    assert scheme == DEFAULT_BUCKET_SCHEME
    assert scheme.names == ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "M6+")
    assert scheme.lower_bounds == (0, 1, 31, 61, 91, 121, 151, 181)
    assert scheme.buckets[0] == Bucket("M0", 0, 0)
    assert scheme.buckets[-1] == Bucket("M6+", 181, None)


def test_default_scheme_round_trips_through_json() -> None:
    data = json.loads(json.dumps(DEFAULT_BUCKET_SCHEME.to_dict()))
    assert data["buckets"][0] == {"name": "M0", "min_dpd": 0, "max_dpd": 0}
    assert data["buckets"][-1] == {"name": "M6+", "min_dpd": 181, "max_dpd": None}
    assert BucketScheme.from_dict(data) == DEFAULT_BUCKET_SCHEME


# --- custom schemes ------------------------------------------------------------------------


def test_custom_scheme_from_dict() -> None:
    scheme = BucketScheme.from_dict(
        {
            "buckets": [
                {"name": "current", "min_dpd": 0, "max_dpd": 3},  # a 3-day grace period
                {"name": "early", "min_dpd": 4, "max_dpd": 7},
                {"name": "late", "min_dpd": 8},  # max_dpd left out: open-ended
            ]
        }
    )
    assert scheme.names == ("current", "early", "late")
    assert [scheme.bucket_for(d).name for d in (0, 3, 4, 7, 8, 99)] == [
        "current",
        "current",
        "early",
        "early",
        "late",
        "late",
    ]
    assert scheme.bucket_index([0, 3, 4, 7, 8, 99]).tolist() == [0, 0, 1, 1, 2, 2]
    assert BucketScheme.from_dict(scheme.to_dict()) == scheme


def test_single_open_bucket() -> None:
    scheme = BucketScheme((Bucket("all", 0),))
    assert scheme.bucket_for(0).name == "all"
    assert scheme.bucket_for(500).name == "all"
    assert scheme.bucket_index(np.array([0, 9, 500])).tolist() == [0, 0, 0]


@pytest.mark.parametrize(
    ("buckets", "reason"),
    [
        ((), "at least one bucket"),
        ((Bucket("A", 1, 5), Bucket("B", 6)), "must start at DPD 0"),
        ((Bucket("A", 0, 5), Bucket("B", 7)), "gap after A"),
        ((Bucket("A", 0, 5), Bucket("B", 5)), "overlaps A"),
        ((Bucket("A", 0, 5), Bucket("B", 3, 9), Bucket("C", 10)), "overlaps A"),
        ((Bucket("A", 0), Bucket("B", 1)), "only the last bucket may be open-ended"),
        ((Bucket("A", 0, 5), Bucket("B", 6, 9)), "last bucket must be open-ended"),
        ((Bucket("A", 0, 5), Bucket("A", 6)), "names must be unique"),
    ],
)
def test_scheme_validation(buckets: tuple[Bucket, ...], reason: str) -> None:
    with pytest.raises(InvalidValue, match=reason) as caught:
        BucketScheme(buckets)
    assert caught.value.code == "INVALID_VALUE"
    assert caught.value.message_zh != caught.value.message_en


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "", "min_dpd": 0},
        {"name": "  ", "min_dpd": 0},
        {"name": "A", "min_dpd": -1},
        {"name": "A", "min_dpd": 5, "max_dpd": 4},
        {"name": "A", "min_dpd": True},
        {"name": "A", "min_dpd": 1.0},
    ],
)
def test_bucket_validation(fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidValue):
        Bucket(**fields)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"buckets": [{"name": "M0", "min_dpd": 0}], "extra": 1},
        {"buckets": "M0"},
        {"buckets": [["M0", 0, None]]},
        {"buckets": [{"name": "M0"}]},
        {"buckets": [{"min_dpd": 0}]},
        {"buckets": [{"name": "M0", "min_dpd": 0, "max": 3}]},
        {"buckets": [{"name": 0, "min_dpd": 0}]},
        {"buckets": [{"name": "M0", "min_dpd": "0"}]},
        {"buckets": [{"name": "M0", "min_dpd": 0, "max_dpd": -2}, {"name": "M1", "min_dpd": 1}]},
        {"buckets": []},
    ],
)
def test_from_dict_rejects_bad_shapes(data: dict[str, Any]) -> None:
    with pytest.raises(InvalidValue):
        BucketScheme.from_dict(data)


@pytest.mark.parametrize("dpd", [-1, True, 1.5, "3"])
def test_bucket_for_rejects_bad_dpd(dpd: Any) -> None:
    with pytest.raises(InvalidValue) as caught:
        DEFAULT_BUCKET_SCHEME.bucket_for(dpd)
    assert caught.value.field == "dpd"


def test_bucket_index_rejects_bad_arrays() -> None:
    with pytest.raises(InvalidValue, match="integer array"):
        DEFAULT_BUCKET_SCHEME.bucket_index(np.array([1.0, 2.0]))
    with pytest.raises(InvalidValue, match="at least 0"):
        DEFAULT_BUCKET_SCHEME.bucket_index(np.array([3, -1, 5]))


def test_bucket_index_keeps_shape_and_handles_empty_input() -> None:
    result = DEFAULT_BUCKET_SCHEME.bucket_index(np.array([[0, 200], [45, 61]], dtype=np.int32))
    assert result.shape == (2, 2)
    assert result.tolist() == [[0, 7], [2, 3]]
    assert DEFAULT_BUCKET_SCHEME.bucket_index(np.array([], dtype=np.int64)).shape == (0,)
    assert DEFAULT_BUCKET_SCHEME.bucket_index(np.array([200], dtype=np.uint8)).tolist() == [7]


# --- properties ----------------------------------------------------------------------------


@st.composite
def schemes(draw: st.DrawFn) -> BucketScheme:
    widths = draw(st.lists(st.integers(min_value=1, max_value=40), max_size=8))
    buckets: list[Bucket] = []
    start = 0
    for i, width in enumerate(widths):
        buckets.append(Bucket(f"B{i}", start, start + width - 1))
        start += width
    buckets.append(Bucket("open", start))
    return BucketScheme(tuple(buckets))


dpd_values = st.lists(st.integers(min_value=0, max_value=400), max_size=60)


@given(schemes(), dpd_values)
def test_vectorised_equals_scalar(scheme: BucketScheme, dpds: list[int]) -> None:
    indices = scheme.bucket_index(np.array(dpds, dtype=np.int64))
    assert [scheme.buckets[int(i)] for i in indices] == [scheme.bucket_for(d) for d in dpds]


@given(schemes(), st.integers(min_value=0, max_value=400))
def test_every_dpd_is_in_exactly_one_bucket(scheme: BucketScheme, dpd: int) -> None:
    holders = [bucket for bucket in scheme.buckets if bucket.contains(dpd)]
    assert holders == [scheme.bucket_for(dpd)]


@given(dpd_values)
def test_default_vectorised_equals_scalar(dpds: list[int]) -> None:
    indices = DEFAULT_BUCKET_SCHEME.bucket_index(np.array(dpds, dtype=np.int64))
    assert [DEFAULT_BUCKET_SCHEME.names[int(i)] for i in indices] == [
        DEFAULT_BUCKET_SCHEME.bucket_for(d).name for d in dpds
    ]
    assert all(0 <= int(i) < len(DEFAULT_BUCKET_SCHEME.buckets) for i in indices)


@given(schemes())
def test_scheme_round_trips(scheme: BucketScheme) -> None:
    assert BucketScheme.from_dict(json.loads(json.dumps(scheme.to_dict()))) == scheme
