"""Scorecard metrics (KS, AUC, Gini, ROC, PSI) against scikit-learn and hand-worked values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from xindai.errors import InvalidValue
from xindai.risk.scorecard.metrics import (
    PSI_EPSILON,
    auc_score,
    average_ranks,
    bin_shares,
    gini_coefficient,
    ks_statistic,
    psi,
    psi_contributions,
    psi_of_samples,
    quantile_edges,
    roc_curve,
)


def sample(seed: int, n: int = 2000, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(int)
    risk = rng.normal(size=n) + 0.8 * y
    if ties:
        risk = np.round(risk * 3) / 3  # heavy ties, as integer scorecard points give
    return y, risk


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_auc_matches_sklearn(seed: int, ties: bool) -> None:
    y, risk = sample(seed, ties=ties)
    assert auc_score(y, risk) == pytest.approx(roc_auc_score(y, risk), abs=1e-12)
    assert gini_coefficient(y, risk) == pytest.approx(2 * roc_auc_score(y, risk) - 1, abs=1e-12)


@pytest.mark.parametrize("ties", [False, True])
def test_roc_points_and_ks_match_sklearn(ties: bool) -> None:
    y, risk = sample(4, ties=ties)
    fpr, tpr, _ = sk_roc_curve(y, risk, drop_intermediate=False)
    ours = roc_curve(y, risk)
    np.testing.assert_allclose(ours.fpr, fpr, atol=1e-12)
    np.testing.assert_allclose(ours.tpr, tpr, atol=1e-12)
    assert ks_statistic(y, risk) == pytest.approx(float(np.max(tpr - fpr)), abs=1e-12)
    # the trapezoid area under our ROC points is the rank AUC (ties count one half)
    area = float(np.sum(np.diff(ours.fpr) * (ours.tpr[1:] + ours.tpr[:-1]) / 2))
    assert area == pytest.approx(auc_score(y, risk), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(-5, 5)), min_size=2, max_size=60).filter(
        lambda rows: 0 < sum(b for b, _ in rows) < len(rows)
    )
)
def test_auc_property_against_sklearn(rows: list[tuple[bool, int]]) -> None:
    y = np.array([int(b) for b, _ in rows])
    risk = np.array([float(v) for _, v in rows])
    assert auc_score(y, risk) == pytest.approx(roc_auc_score(y, risk), abs=1e-12)
    assert 0.0 <= ks_statistic(y, risk) <= 1.0


def test_hand_worked_ks_auc() -> None:
    y = [1, 1, 0, 1, 0, 0]
    risk = [0.9, 0.8, 0.7, 0.6, 0.5, 0.5]
    # pairs (bad, good): 3 × 3 = 9; bad 0.6 loses to good 0.7 → 8 / 9
    assert auc_score(y, risk) == pytest.approx(8 / 9)
    # after the two riskiest: 2/3 of bads, 0 goods
    assert ks_statistic(y, risk) == pytest.approx(2 / 3)
    # a perfect and a reversed ranking
    assert auc_score([0, 0, 1, 1], [1, 2, 3, 4]) == 1.0
    assert auc_score([1, 1, 0, 0], [1, 2, 3, 4]) == 0.0
    # one tie between a bad and a good counts one half
    assert auc_score([0, 1], [1, 1]) == 0.5


def test_average_ranks() -> None:
    np.testing.assert_array_equal(average_ranks([10, 20, 20, 5]), [2, 3.5, 3.5, 1])


def test_metrics_reject_bad_input() -> None:
    with pytest.raises(InvalidValue):
        auc_score([0, 0, 0], [1, 2, 3])
    with pytest.raises(InvalidValue):
        ks_statistic([0, 1, 2], [1, 2, 3])
    with pytest.raises(InvalidValue):
        auc_score([0, 1], [1.0, math.nan])
    with pytest.raises(InvalidValue):
        auc_score([0, 1, 1], [1.0, 2.0])


def test_psi_hand_worked_and_epsilon() -> None:
    expected = [0.5, 0.5]
    actual = [0.25, 0.75]
    by_hand = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert psi(expected, actual) == pytest.approx(by_hand)
    # counts are normalised like shares
    assert psi([50, 50], [25, 75]) == pytest.approx(by_hand)
    # an empty bin gets the epsilon share instead of an infinite term
    terms = psi_contributions([0.5, 0.5, 0.0], [0.4, 0.4, 0.2])
    assert np.isfinite(terms).all()
    assert terms[2] == pytest.approx((0.2 - PSI_EPSILON) * math.log(0.2 / PSI_EPSILON))
    with pytest.raises(InvalidValue):
        psi([0.5, 0.5], [1.0])


def test_psi_of_a_sample_against_itself_and_a_shifted_one() -> None:
    rng = np.random.default_rng(9)
    scores = np.round(rng.normal(560, 30, 5000))
    assert psi_of_samples(scores, scores) == pytest.approx(0.0, abs=1e-12)
    resampled = rng.choice(scores, size=5000, replace=True)
    assert psi_of_samples(scores, resampled) < 0.01
    assert psi_of_samples(scores, scores - 15) > 0.1
    assert psi_of_samples(scores, scores + 15) > 0.1


def test_quantile_edges_and_shares() -> None:
    values = np.arange(100.0)
    edges = quantile_edges(values, 10)
    assert len(edges) == 9
    np.testing.assert_allclose(bin_shares(values, edges), np.full(10, 0.1))
    # heavy ties merge edges instead of leaving empty bins
    tied = np.array([1.0] * 90 + [2.0] * 10)
    edges = quantile_edges(tied, 10)
    shares = bin_shares(tied, edges)
    assert (shares > 0).all() and shares.sum() == pytest.approx(1.0)
