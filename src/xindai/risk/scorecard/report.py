"""Monitoring report of a scorecard on a sample: KS, AUC, Gini, binning tables, PSI, charts.

The sample's outcome column (the model's target) is optional: without outcomes — a recent
month that has not matured — the report still gives the score PSI and each feature's
stability (CSI), and the performance figures are None. Rows whose outcome is missing are left
out of the performance figures only. Charts are PNGs drawn with matplotlib's Agg canvas (no
pyplot, no global backend switch).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]

from xindai.errors import InvalidValue
from xindai.risk.scorecard.metrics import (
    auc_score,
    bin_shares,
    ks_statistic,
    psi_contributions,
    quantile_edges,
    roc_curve,
)
from xindai.risk.scorecard.model import (
    MISSING_LABEL,
    UNSEEN_LABEL,
    FeatureBinning,
    ScorecardModel,
    category_key,
    interval_labels,
)

CHART_FILES = {
    "score_distribution": "score_distribution.png",
    "roc": "roc.png",
    "ks": "ks_curve.png",
}


@dataclass(frozen=True)
class ScorecardReport:
    """Performance and stability of `model_version` on a sample of `n` rows."""

    model_version: str
    n: int
    n_with_outcome: int
    n_bad: int | None
    ks: float | None
    auc: float | None
    psi: float
    psi_reference: str
    psi_table: pd.DataFrame
    binning_tables: dict[str, pd.DataFrame]
    feature_csi: dict[str, float]
    scores: pd.DataFrame
    charts: dict[str, Path] = field(default_factory=dict)

    @property
    def gini(self) -> float | None:
        return None if self.auc is None else 2.0 * self.auc - 1.0

    @property
    def bad_rate(self) -> float | None:
        if self.n_bad is None or self.n_with_outcome == 0:
            return None
        return self.n_bad / self.n_with_outcome


def _outcomes(model: ScorecardModel, frame: pd.DataFrame) -> pd.Series | None:
    """1.0 bad, 0.0 good, NaN unknown per row; None when the sample has no target column."""
    if model.target not in frame.columns:
        return None
    values = frame[model.target]
    wanted = category_key(model.bad_value)
    keys = values.map(category_key)
    flags = (keys == wanted).astype("float64")
    return flags.where(values.notna())


def _psi_frame(
    edges: npt.NDArray[np.float64],
    expected: npt.NDArray[np.float64],
    actual_scores: npt.NDArray[np.float64],
) -> pd.DataFrame:
    actual = bin_shares(actual_scores, edges)
    return pd.DataFrame(
        {
            "bin": interval_labels(edges.tolist()),
            "expected_share": expected,
            "actual_share": actual,
            "psi": psi_contributions(expected, actual),
        }
    )


def _woe_iv(
    bad: npt.NDArray[np.float64], good: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    total_bad, total_good = bad.sum(), good.sum()
    if total_bad == 0 or total_good == 0:
        nan = np.full(bad.shape, np.nan)
        return nan, nan
    empty = (bad == 0) | (good == 0)
    smoothed_bad = np.where(empty, bad + 0.5, bad)
    smoothed_good = np.where(empty, good + 0.5, good)
    woe = np.log((smoothed_bad / total_bad) / (smoothed_good / total_good))
    woe = np.where(bad + good == 0, np.nan, woe)
    iv = np.where(bad + good == 0, 0.0, (bad / total_bad - good / total_good) * woe)
    return woe, iv


def binning_table(
    feature: FeatureBinning, values: pd.Series, outcomes: pd.Series | None, training_n: int
) -> pd.DataFrame:
    """A feature's bins on a sample: count, share, bads, bad rate, observed WOE and IV, the
    model's points, the training share and each bin's stability (CSI) term."""
    index = feature.bin_index(values)
    slots = len(feature.bins) + 2  # regular bins, then missing (−1), then unseen (−2)
    position = np.where(index >= 0, index, np.where(index == -1, slots - 2, slots - 1))
    counts = np.bincount(position, minlength=slots).astype(np.float64)
    labels = [*feature.bin_labels(), MISSING_LABEL, UNSEEN_LABEL]
    points = [b.points for b in feature.bins] + [
        feature.missing.points,
        feature.unseen.points if feature.unseen is not None else np.nan,
    ]
    training = np.asarray(
        [b.count for b in feature.bins] + [feature.missing.count, 0], dtype=np.float64
    ) / max(training_n, 1)
    share = counts / max(counts.sum(), 1.0)
    table = pd.DataFrame(
        {
            "bin": labels,
            "count": counts.astype(np.int64),
            "share": share,
            "bad": np.nan,
            "bad_rate": np.nan,
            "woe": np.nan,
            "iv": np.nan,
            "points": points,
            "train_share": training,
            "csi": psi_contributions(training, share) if counts.sum() else np.nan,
        }
    )
    if outcomes is not None:
        known = outcomes.notna().to_numpy()
        flags = outcomes.fillna(0.0).to_numpy()
        bad = np.bincount(position[known], weights=flags[known], minlength=slots)
        seen = np.bincount(position[known], minlength=slots).astype(np.float64)
        woe, iv = _woe_iv(bad.astype(np.float64), seen - bad)
        with np.errstate(invalid="ignore", divide="ignore"):
            table["bad"] = bad.astype(np.int64)
            table["bad_rate"] = np.where(seen > 0, bad / np.maximum(seen, 1), np.nan)
        table["woe"] = woe
        table["iv"] = iv
    if feature.unseen is None:  # numeric features have no unseen category
        table = table.iloc[:-1]
    return table.reset_index(drop=True)


def scorecard_report(
    model: ScorecardModel,
    df: pd.DataFrame,
    baseline: pd.DataFrame | None = None,
    *,
    charts_dir: str | Path | None = None,
    n_bins: int = 10,
) -> ScorecardReport:
    """Score `df` and measure the model on it.

    PSI compares the score distribution of `df` with `baseline`'s (deciles of the baseline) or,
    without a baseline, with the training distribution stored in the model. With `charts_dir`
    the PNG charts are written there (created if needed) and listed in `charts`.
    """
    if len(df) == 0:
        raise InvalidValue("data", 0, "has no rows", "数据为空")
    scores = model.score_frame(df)
    score_values = scores["score"].to_numpy()
    outcomes = _outcomes(model, df)
    ks = auc = None
    n_bad: int | None = None
    n_known = 0
    if outcomes is not None:
        known = outcomes.notna().to_numpy()
        n_known = int(known.sum())
        flags = outcomes.to_numpy()[known]
        n_bad = int(flags.sum())
        if 0 < n_bad < n_known:
            ks = ks_statistic(flags, -score_values[known])
            auc = auc_score(flags, -score_values[known])

    if baseline is not None:
        if len(baseline) == 0:
            raise InvalidValue("baseline", 0, "has no rows", "基准数据为空")
        baseline_scores = model.score_frame(baseline)["score"].to_numpy()
        edges = quantile_edges(baseline_scores, n_bins)
        psi_table = _psi_frame(edges, bin_shares(baseline_scores, edges), score_values)
        reference = "baseline"
    else:
        edges = np.asarray(model.training.score_edges, dtype=np.float64)
        expected = np.asarray(model.training.score_shares, dtype=np.float64)
        psi_table = _psi_frame(edges, expected, score_values)
        reference = "training"

    tables = {
        f.name: binning_table(f, df[f.name], outcomes, model.training.n) for f in model.features
    }
    report = ScorecardReport(
        model_version=model.version,
        n=len(df),
        n_with_outcome=n_known,
        n_bad=n_bad,
        ks=ks,
        auc=auc,
        psi=float(psi_table["psi"].sum()),
        psi_reference=reference,
        psi_table=psi_table,
        binning_tables=tables,
        feature_csi={name: float(t["csi"].sum()) for name, t in tables.items()},
        scores=scores,
    )
    if charts_dir is None:
        return report
    charts = write_charts(score_values, outcomes, Path(charts_dir), model.version)
    return dataclasses.replace(report, charts=charts)


def write_charts(
    scores: npt.NDArray[np.float64], outcomes: pd.Series | None, folder: Path, title: str
) -> dict[str, Path]:
    """Score distribution (good vs bad), ROC and KS curve as PNGs in `folder`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidValue(
            "charts", str(folder), f"cannot create folder: {exc}", "无法创建目录"
        ) from None
    written: dict[str, Path] = {}

    def save(figure: Figure, key: str) -> None:
        FigureCanvasAgg(figure)
        path = folder / CHART_FILES[key]
        figure.savefig(path, dpi=110, bbox_inches="tight")
        written[key] = path

    known = outcomes.notna().to_numpy() if outcomes is not None else np.zeros(scores.size, bool)
    flags = outcomes.to_numpy()[known] if outcomes is not None else np.zeros(0)
    both_classes = flags.size > 0 and 0 < flags.sum() < flags.size

    figure = Figure(figsize=(7, 4.2))
    axes = figure.add_subplot()
    bins = np.histogram_bin_edges(scores, bins=40).tolist()
    if both_classes:
        axes.hist(scores[known][flags == 0], bins=bins, density=True, alpha=0.6, label="good")
        axes.hist(scores[known][flags == 1], bins=bins, density=True, alpha=0.6, label="bad")
        axes.legend()
    else:
        axes.hist(scores, bins=bins, density=True, alpha=0.8, label="all")
    axes.set(xlabel="score", ylabel="density", title=f"Score distribution · {title}")
    save(figure, "score_distribution")
    if not both_classes:
        return written

    risk = -scores[known]
    roc = roc_curve(flags, risk)
    auc = auc_score(flags, risk)
    figure = Figure(figsize=(5, 5))
    axes = figure.add_subplot()
    axes.plot(roc.fpr, roc.tpr, label=f"AUC {auc:.3f}")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey")
    axes.set(xlabel="false positive rate (goods flagged)", ylabel="true positive rate (bads)")
    axes.set_title(f"ROC · {title}")
    axes.legend(loc="lower right")
    save(figure, "roc")

    figure = Figure(figsize=(7, 4.2))
    axes = figure.add_subplot()
    cut_scores = -roc.thresholds[1:]
    gap = roc.ks_values[1:]
    best = int(np.argmax(gap))
    axes.plot(cut_scores, roc.tpr[1:], label="cumulative bad share")
    axes.plot(cut_scores, roc.fpr[1:], label="cumulative good share")
    axes.vlines(cut_scores[best], roc.fpr[1:][best], roc.tpr[1:][best], colors="red")
    axes.set(xlabel="score cut-off (reject at or below)", ylabel="share")
    axes.set_title(f"KS {gap[best]:.3f} at score {cut_scores[best]:g} · {title}")
    axes.legend()
    save(figure, "ks")
    return written
