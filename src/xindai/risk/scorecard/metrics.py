"""Discrimination and stability metrics of a scorecard, in plain numpy.

Conventions: `y_bad` is 1 for a bad outcome and 0 for a good one; `risk` is any number that is
larger for riskier applications (a PD, or minus a score). KS, AUC and Gini are in [0, 1] (Gini
in [-1, 1]); PSI is the population stability index Σ (a − e)·ln(a / e) over score bins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from xindai.errors import InvalidValue

PSI_EPSILON = 1e-4
"""Share given to an empty bin so that ln(a / e) stays finite (the usual 0.01 % floor)."""

FloatArray = npt.NDArray[np.float64]


def _outcomes(y_bad: Any, risk: Any) -> tuple[npt.NDArray[np.bool_], FloatArray]:
    labels = np.asarray(y_bad)
    values = np.asarray(risk, dtype=np.float64)
    if labels.ndim != 1 or values.ndim != 1 or labels.shape != values.shape:
        raise InvalidValue("y_bad", labels.shape, "outcomes and scores must be 1-d of one length")
    if not np.isin(labels, (0, 1)).all():
        raise InvalidValue("y_bad", "…", "outcomes must be 0 (good) or 1 (bad)", "结果应为 0 或 1")
    if np.isnan(values).any():
        raise InvalidValue("risk", "NaN", "scores must not be missing", "分数不能缺失")
    bad = labels.astype(bool)
    if bad.all() or not bad.any():
        raise InvalidValue(
            "y_bad", "…", "needs both good and bad outcomes", "需要同时包含好样本和坏样本"
        )
    return bad, values


@dataclass(frozen=True)
class RocCurve:
    """ROC points from the strictest threshold to the loosest, starting at (0, 0).

    `thresholds[i]` flags every application with risk ≥ it; `tpr` is the share of bads flagged,
    `fpr` the share of goods flagged (both cumulative from the riskiest end).
    """

    fpr: FloatArray
    tpr: FloatArray
    thresholds: FloatArray

    @property
    def ks_values(self) -> FloatArray:
        """|TPR − FPR| at each threshold: the KS curve."""
        return np.abs(self.tpr - self.fpr)


def roc_curve(y_bad: Any, risk: Any) -> RocCurve:
    """ROC points at every distinct risk value (tied applications move together)."""
    bad, values = _outcomes(y_bad, risk)
    order = np.argsort(-values, kind="mergesort")
    sorted_values = values[order]
    sorted_bad = bad[order]
    # the last position of each run of equal values closes one threshold
    last_of_run = np.r_[np.flatnonzero(np.diff(sorted_values) != 0), sorted_values.size - 1]
    cum_bad = np.cumsum(sorted_bad)[last_of_run].astype(np.float64)
    cum_good = (last_of_run + 1 - cum_bad).astype(np.float64)
    tpr = np.r_[0.0, cum_bad / cum_bad[-1]]
    fpr = np.r_[0.0, cum_good / cum_good[-1]]
    thresholds = np.r_[np.inf, sorted_values[last_of_run]]
    return RocCurve(fpr=fpr, tpr=tpr, thresholds=thresholds)


def ks_statistic(y_bad: Any, risk: Any) -> float:
    """Kolmogorov–Smirnov: the largest gap between the bad and good cumulative distributions."""
    return float(roc_curve(y_bad, risk).ks_values.max())


def average_ranks(values: Any) -> FloatArray:
    """Ranks 1…n of `values`, ties given the mean of the ranks they span."""
    array = np.asarray(values, dtype=np.float64)
    _, inverse, counts = np.unique(array, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts).astype(np.float64)
    mean_rank = upper - (counts - 1) / 2.0
    return np.asarray(mean_rank[inverse.reshape(-1)], dtype=np.float64)


def auc_score(y_bad: Any, risk: Any) -> float:
    """Area under the ROC curve by the Mann–Whitney rank sum (ties count one half)."""
    bad, values = _outcomes(y_bad, risk)
    ranks = average_ranks(values)
    n_bad = int(bad.sum())
    n_good = bad.size - n_bad
    rank_sum = float(ranks[bad].sum())
    return (rank_sum - n_bad * (n_bad + 1) / 2.0) / (n_bad * n_good)


def gini_coefficient(y_bad: Any, risk: Any) -> float:
    """Gini (accuracy ratio) = 2·AUC − 1."""
    return 2.0 * auc_score(y_bad, risk) - 1.0


def psi(expected_shares: Any, actual_shares: Any, *, epsilon: float = PSI_EPSILON) -> float:
    """PSI between two distributions over the same bins (shares are normalised here)."""
    return float(psi_contributions(expected_shares, actual_shares, epsilon=epsilon).sum())


def psi_contributions(
    expected_shares: Any, actual_shares: Any, *, epsilon: float = PSI_EPSILON
) -> FloatArray:
    """Each bin's term (a − e)·ln(a / e) of the PSI; empty bins get the share `epsilon`."""
    expected = np.asarray(expected_shares, dtype=np.float64)
    actual = np.asarray(actual_shares, dtype=np.float64)
    if expected.shape != actual.shape or expected.ndim != 1 or expected.size == 0:
        raise InvalidValue("shares", (expected.shape, actual.shape), "bins must line up")
    if (expected < 0).any() or (actual < 0).any() or expected.sum() <= 0 or actual.sum() <= 0:
        raise InvalidValue("shares", "…", "shares must be ≥ 0 and not all zero", "占比应非负")
    e = np.maximum(expected / expected.sum(), epsilon)
    a = np.maximum(actual / actual.sum(), epsilon)
    return np.asarray((a - e) * np.log(a / e), dtype=np.float64)


def quantile_edges(values: Any, n_bins: int = 10) -> FloatArray:
    """Interior cut points giving about `n_bins` equal-count bins (duplicates merged).

    Bins are (−∞, e₀), [e₀, e₁), …, [e_last, ∞), as `np.searchsorted(edges, x, "right")`.
    """
    array = np.asarray(values, dtype=np.float64)
    array = array[~np.isnan(array)]
    if array.size == 0:
        raise InvalidValue("values", "[]", "needs at least one value", "至少需要一个值")
    cuts = np.quantile(array, np.linspace(0, 1, n_bins + 1)[1:-1], method="higher")
    edges = np.unique(cuts)
    # a cut at the minimum would leave the first bin empty
    return np.asarray(edges[edges > array.min()], dtype=np.float64)


def bin_shares(values: Any, edges: Sequence[float] | FloatArray) -> FloatArray:
    """Share of `values` in each bin of `edges` (see `quantile_edges`)."""
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        raise InvalidValue("values", "[]", "needs at least one value", "至少需要一个值")
    index = np.searchsorted(np.asarray(edges, dtype=np.float64), array, side="right")
    counts = np.bincount(index, minlength=len(edges) + 1).astype(np.float64)
    return np.asarray(counts / counts.sum(), dtype=np.float64)


def psi_of_samples(expected: Any, actual: Any, *, n_bins: int = 10) -> float:
    """PSI of `actual` against `expected`, bins at the deciles of `expected`."""
    edges = quantile_edges(expected, n_bins)
    return psi(bin_shares(expected, edges), bin_shares(actual, edges))
