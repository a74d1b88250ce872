"""Anomaly score: planted outliers score above the bulk; calibration; JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xindai.errors import InvalidValue
from xindai.risk.antifraud import AnomalyModel

FEATURES = ("age", "income", "amount", "tenure")


def population(rows: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.normal(32, 7, rows)
    income = 4_000 + 250 * (age - 32) + rng.normal(0, 900, rows)  # income rises with age
    amount = np.clip(income * 0.6 + rng.normal(0, 400, rows), 500, None)
    tenure = rng.exponential(150, rows)
    return pd.DataFrame({"age": age, "income": income, "amount": amount, "tenure": tenure})


@pytest.fixture(scope="module")
def model() -> AnomalyModel:
    return AnomalyModel.fit(population(5_000), FEATURES)


def test_planted_outliers_score_higher_than_the_bulk(model: AnomalyModel) -> None:
    bulk = population(2_000, seed=8)
    outliers = pd.DataFrame(
        {
            "age": [33, 19, 60, 30, 45],
            # young with a very high income; old with a tiny one: only the combination is odd
            "income": [40_000, 12_000, 900, 4_000, 30_000],
            "amount": [2_400, 7_000, 500, 20_000, 18_000],
            "tenure": [100, 2, 3_000, 20, 50],
        }
    )
    bulk_scores = model.score_frame(bulk)
    outlier_scores = model.score_frame(outliers)
    assert outlier_scores.min() > np.quantile(bulk_scores, 0.99)
    assert outlier_scores.mean() > 0.75
    assert np.median(bulk_scores) < 0.15


def test_a_correlation_breaker_is_unusual_though_each_value_is_not(model: AnomalyModel) -> None:
    usual = {"age": 24.0, "income": 2_000.0, "amount": 1_200.0, "tenure": 150.0}
    odd = {"age": 24.0, "income": 6_500.0, "amount": 1_200.0, "tenure": 150.0}
    assert model.score(odd) > model.score(usual) + 0.3


def test_scores_are_calibrated_rarities_in_the_unit_interval(model: AnomalyModel) -> None:
    fresh = model.score_frame(population(20_000, seed=9))
    assert fresh.min() >= 0.0 and fresh.max() <= 1.0
    # score 0.5 ≈ 1 in 100 and 0.75 ≈ 1 in 1,000 of the usual population
    assert 0.005 < (fresh > 0.5).mean() < 0.02
    assert (fresh > 0.75).mean() < 0.004


def test_score_matches_score_frame_and_ignores_extra_keys(model: AnomalyModel) -> None:
    frame = population(20, seed=10)
    scores = model.score_frame(frame)
    for i, row in enumerate(frame.to_dict("records")):
        row["unrelated"] = "x"
        assert model.score(row) == pytest.approx(scores[i], abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=2, max_size=2))
def test_score_rises_with_distance(model: AnomalyModel, steps: list[float]) -> None:
    near, far = sorted(abs(s) for s in steps)
    # along a ray from the fitted centre the robust Mahalanobis distance grows with the step
    # (from any other point it need not: the ray can first pass closer to the centre)
    base = dict(zip(model.feature_names, model.medians, strict=True))

    def at(step: float) -> dict[str, float]:
        return {**base, "income": base["income"] + 900 * step}

    assert model.distance(at(near)) <= model.distance(at(far)) + 1e-9
    assert model.score(at(near)) <= model.score(at(far)) + 1e-12


def test_json_round_trip(model: AnomalyModel) -> None:
    data = json.loads(json.dumps(model.to_dict()))
    again = AnomalyModel.from_dict(data)
    assert again == model
    frame = population(50, seed=11)
    np.testing.assert_array_equal(again.score_frame(frame), model.score_frame(frame))
    with pytest.raises(InvalidValue):
        AnomalyModel.from_dict({**data, "method": "isolation_forest"})
    with pytest.raises(InvalidValue):
        AnomalyModel.from_dict({**data, "medians": data["medians"][:-1]})
    with pytest.raises(InvalidValue):
        AnomalyModel.from_dict({k: v for k, v in data.items() if k != "tail_scale"})


def test_fit_is_deterministic_and_handles_a_constant_feature() -> None:
    frame = population(500).assign(flag=1.0)
    first = AnomalyModel.fit(frame)
    assert first == AnomalyModel.fit(frame)
    assert first.feature_names == (*FEATURES, "flag")
    usual = frame.iloc[0].to_dict()
    assert first.score({**usual, "flag": 2.0}) > first.score(usual)


def test_bad_input_is_rejected(model: AnomalyModel) -> None:
    with pytest.raises(InvalidValue):
        model.score({"age": 30, "income": 1, "amount": 1})  # tenure missing
    with pytest.raises(InvalidValue):
        model.score({"age": 30, "income": float("nan"), "amount": 1, "tenure": 1})
    with pytest.raises(InvalidValue):
        model.score({"age": "30", "income": 1, "amount": 1, "tenure": 1})
    with pytest.raises(InvalidValue):
        AnomalyModel.fit(population(10))
    with pytest.raises(InvalidValue):
        AnomalyModel.fit(population(100), ["age", "missing"])
    with pytest.raises(InvalidValue):
        AnomalyModel.fit(population(100).assign(age=np.nan))
    with pytest.raises(InvalidValue):
        AnomalyModel.fit(population(100).assign(age="old"))


def test_one_record_scores_as_the_vectorised_frame() -> None:
    """`score` (plain floats, one record) and `score_frame` (NumPy) are the same arithmetic."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "a": rng.normal(10, 2, 400),
            "b": rng.exponential(3, 400),
            "c": rng.integers(0, 50, 400).astype(float),
        }
    )
    model = AnomalyModel.fit(frame)
    probes = pd.DataFrame(
        {
            "a": np.concatenate([rng.normal(10, 2, 200), rng.normal(10, 30, 100)]),
            "b": np.concatenate([rng.exponential(3, 200), rng.exponential(40, 100)]),
            "c": rng.integers(-100, 200, 300).astype(float),
        }
    )
    vectorised = model.score_frame(probes)
    for i, row in enumerate(probes.to_dict("records")):
        assert abs(model.score(row) - float(vectorised[i])) < 1e-9, (i, row)
    assert vectorised.max() == 1.0 and vectorised.min() < 0.5  # both ends are exercised
