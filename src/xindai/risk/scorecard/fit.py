"""Fitting a scorecard: optimal binning (optbinning), WOE, feature selection, logistic regression.

Steps: every candidate column is binned by `OptimalBinning` (numeric columns monotonic unless
told otherwise, categorical columns grouped by bad rate, missing values in their own bin); bins
get WOE = ln(bad share / good share); features are kept by IV, then de-correlated, then a
logistic regression on the WOE columns drops any feature whose coefficient comes out ≤ 0
(a reversed or collinear characteristic). Coefficients and WOE are rounded to 6 decimals and
points to `points_decimals`, so the artifact — and its version hash — is reproducible.

Defaults (chosen on German credit over many stratified 70/30 splits, never on one test fold):
a numeric feature is binned both ascending and descending and keeps the direction with the
larger training IV — optbinning's "auto_asc_desc" guesses the direction from the shape of the
pre-bins and can pick the wrong one (credit_amount once came out with IV 0.0005 instead of
0.14); bins hold at least 2.5 % of the rows (5 % merged away useful detail: test AUC −0.003).
An L2 strength picked by cross-validation on the training rows, smoothed WOE, out-of-fold WOE
and stepwise selection were tried too and gained nothing, so C stays 1.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]

from xindai.errors import InvalidValue
from xindai.risk.scorecard.metrics import auc_score, bin_shares, ks_statistic, quantile_edges
from xindai.risk.scorecard.model import (
    Bin,
    FeatureBinning,
    FeatureKind,
    FeatureSelection,
    Grades,
    Scaling,
    ScorecardModel,
    TrainingSummary,
    category_key,
)
from xindai.risk.scorecard.serialise import check_json_scalars

Progress = Callable[[str, int, int], None]
"""Called as progress(step, done, total) while fitting; for a progress bar."""

ASCENDING_OR_DESCENDING = "ascending_or_descending"
MONOTONIC_TRENDS = (
    ASCENDING_OR_DESCENDING,
    "auto_asc_desc",
    "auto",
    "auto_heuristic",
    "ascending",
    "descending",
    "concave",
    "convex",
    "peak",
    "valley",
    "peak_heuristic",
    "valley_heuristic",
)
"""Bad-rate trends of numeric bins: optbinning's, plus "ascending_or_descending" (the default),
which bins both ways and keeps the direction with the larger training IV."""
_DECIMALS = 6
_SMOOTHING = 0.5  # added to bad and good counts of a bin that has none of one class


def target_is_bad(
    values: pd.Series, bad_value: object, *, field: str = "target", bad_field: str = "bad_value"
) -> pd.Series:
    """Boolean bad flag of a target column; InvalidValue when `bad_value` never occurs."""
    if values.isna().any():
        raise InvalidValue(
            field,
            values.name,
            f"has {int(values.isna().sum())} missing outcomes; drop or label them first",
            "目标列存在缺失值，请先剔除或标注",
        )
    wanted = category_key(bad_value)
    keys = values.map(category_key)
    is_bad = keys == wanted
    if not is_bad.any():
        raise InvalidValue(
            bad_field,
            bad_value,
            f"does not occur in {values.name!r} (values: {', '.join(sorted(set(keys))[:8])})",
            f"目标列 {values.name!r} 中没有该取值",
        )
    if is_bad.all():
        raise InvalidValue(field, values.name, "has no good outcomes", "目标列没有好样本")
    return is_bad.astype(bool)


def _json_bad_value(values: pd.Series, is_bad: pd.Series) -> str | int | float | bool:
    first = values[is_bad].iloc[0]
    scalar = first.item() if isinstance(first, np.generic) else first
    if isinstance(scalar, bool | int | float | str):
        return scalar
    return str(scalar)


def _kind(series: pd.Series, forced_categorical: bool) -> FeatureKind:
    if forced_categorical or pd.api.types.is_bool_dtype(series):
        return "categorical"
    return "numeric" if pd.api.types.is_numeric_dtype(series) else "categorical"


def _optbinning_input(series: pd.Series, kind: FeatureKind) -> npt.NDArray[Any]:
    if kind == "numeric":
        return np.asarray(series.astype("float64"), dtype=np.float64)
    keys = series.map(category_key)
    return np.asarray([np.nan if k is None else k for k in keys], dtype=object)


def _optimal_splits(
    series: pd.Series,
    kind: FeatureKind,
    is_bad: npt.NDArray[np.int64],
    *,
    max_n_bins: int,
    min_bin_size: float,
    monotonic_trend: str,
) -> tuple[tuple[float, ...], tuple[tuple[str, ...], ...]] | None:
    from optbinning import OptimalBinning  # type: ignore[import-untyped]

    binning = OptimalBinning(
        name=str(series.name),
        dtype="numerical" if kind == "numeric" else "categorical",
        solver="cp",
        prebinning_method="cart",
        max_n_prebins=20,
        min_prebin_size=0.02,
        max_n_bins=max_n_bins,
        min_bin_size=min_bin_size,
        monotonic_trend=monotonic_trend if kind == "numeric" else "auto",
        time_limit=60,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        binning.fit(_optbinning_input(series, kind), is_bad)
    if binning.status not in ("OPTIMAL", "FEASIBLE"):
        return None
    if kind == "numeric":
        return tuple(float(s) for s in binning.splits), ()
    groups = tuple(tuple(str(c) for c in group) for group in binning.splits)
    return (), groups


def _woe(bad: float, good: float, total_bad: float, total_good: float) -> float:
    if bad == 0 or good == 0:
        bad, good = bad + _SMOOTHING, good + _SMOOTHING
    return math.log((bad / total_bad) / (good / total_good))


def _binned_feature(
    name: str,
    kind: FeatureKind,
    series: pd.Series,
    is_bad: npt.NDArray[np.bool_],
    splits: tuple[float, ...],
    groups: tuple[tuple[str, ...], ...],
    *,
    min_missing_share: float,
) -> tuple[FeatureBinning, npt.NDArray[np.int64]]:
    """Counts, WOE and IV of the bins on the training data (points still zero)."""
    empty_bin = Bin(count=0, bad=0, woe=0.0, points=0.0)
    draft = FeatureBinning(
        name=name,
        kind=kind,
        bins=tuple(dataclasses.replace(empty_bin, categories=g) for g in groups)
        or tuple(empty_bin for _ in range(len(splits) + 1)),
        missing=empty_bin,
        coefficient=0.0,
        iv=0.0,
        splits=splits,
        unseen=empty_bin if kind == "categorical" else None,
    )
    index = draft.bin_index(series)
    total_bad = float(is_bad.sum())
    total_good = float(is_bad.size - total_bad)
    n_bins = len(draft.bins)
    counts = np.bincount(index[index >= 0], minlength=n_bins)
    bads = np.bincount(index[index >= 0], weights=is_bad[index >= 0], minlength=n_bins)
    bins = []
    iv = 0.0
    for i, group in enumerate(draft.bins):
        count, bad = int(counts[i]), int(np.rint(bads[i]))
        woe = _woe(bad, count - bad, total_bad, total_good)
        iv += (bad / total_bad - (count - bad) / total_good) * woe
        bins.append(Bin(count, bad, round(woe, _DECIMALS), 0.0, group.categories))
    riskiest = max(b.woe for b in bins)
    missing_mask = index == -1
    missing_count = int(missing_mask.sum())
    missing_bad = int(is_bad[missing_mask].sum())
    if missing_count >= max(1.0, min_missing_share * index.size):
        woe = _woe(missing_bad, missing_count - missing_bad, total_bad, total_good)
        iv += (missing_bad / total_bad - (missing_count - missing_bad) / total_good) * woe
        missing = Bin(missing_count, missing_bad, round(woe, _DECIMALS), 0.0)
        source = "data"
    else:  # too little evidence: score a missing value like the riskiest bin
        missing = Bin(missing_count, missing_bad, riskiest, 0.0)
        source = "conservative"
    feature = dataclasses.replace(
        draft,
        bins=tuple(bins),
        missing=missing,
        iv=round(iv, _DECIMALS),
        unseen=Bin(0, 0, riskiest, 0.0) if kind == "categorical" else None,
        missing_source="data" if source == "data" else "conservative",
    )
    return feature, index


def _woe_column(feature: FeatureBinning, index: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    woes = np.asarray([b.woe for b in feature.bins] + [0.0, 0.0], dtype=np.float64)
    woes[-1] = feature.missing.woe
    woes[-2] = feature.unseen.woe if feature.unseen is not None else np.nan
    return np.asarray(woes[index], dtype=np.float64)


def _correlation(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    """|Pearson correlation|, 0 when either column is constant."""
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return abs(float(np.corrcoef(a, b)[0, 1]))


def _with_points(feature: FeatureBinning, coefficient: float, scaling: Scaling) -> FeatureBinning:
    def points(b: Bin) -> Bin:
        value = round(-scaling.factor * coefficient * b.woe, scaling.points_decimals)
        return dataclasses.replace(b, points=value + 0.0)  # + 0.0 turns −0.0 into 0.0

    return dataclasses.replace(
        feature,
        coefficient=coefficient,
        bins=tuple(points(b) for b in feature.bins),
        missing=points(feature.missing),
        unseen=points(feature.unseen) if feature.unseen is not None else None,
    )


def _grade_cutoffs(
    scores: npt.NDArray[np.float64], n_grades: int, decimals: int
) -> tuple[float, ...]:
    """Lower score bounds that split the training scores into equal shares, best grade first."""
    shares = np.linspace(1, 0, n_grades + 1)[1:-1]
    step = 10.0**-decimals
    cutoffs: list[float] = []
    for share in shares:
        cut = round(float(np.quantile(scores, share)), decimals)
        if cutoffs and cut >= cutoffs[-1]:
            cut = round(cutoffs[-1] - step, decimals)
        cutoffs.append(cut)
    return tuple(cutoffs)


def fit_scorecard(
    df: pd.DataFrame,
    target: str,
    bad_value: object,
    *,
    created_at: str,
    features: Sequence[str] | None = None,
    categorical: Sequence[str] = (),
    base_score: float = 600.0,
    base_odds: float = 50.0,
    pdo: float = 20.0,
    points_decimals: int = 0,
    min_iv: float = 0.02,
    max_correlation: float = 0.7,
    max_features: int | None = None,
    max_n_bins: int = 6,
    min_bin_size: float = 0.025,
    min_missing_share: float = 0.01,
    monotonic_trend: Mapping[str, str] | None = None,
    numeric_trend: str = ASCENDING_OR_DESCENDING,
    regularisation: float = 1.0,
    grade_labels: Sequence[str] = ("A", "B", "C", "D", "E"),
    grade_cutoffs: Sequence[float] | None = None,
    name: str = "scorecard",
    progress: Progress | None = None,
) -> ScorecardModel:
    """Fit a WOE logistic-regression scorecard on `df`; deterministic for the same inputs.

    `target`'s rows equal to `bad_value` are bad; `features` defaults to every other column.
    Numeric columns follow `numeric_trend` unless `monotonic_trend` names their own trend.
    Grade cut-offs default to equal shares of the training scores. Raises InvalidValue for an
    unknown column, a bad value that never occurs, or when no feature carries information.
    """
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    scaling = Scaling(float(base_score), float(base_odds), float(pdo), int(points_decimals))
    if target not in df.columns:
        raise InvalidValue("target", target, "is not a column of the data", "数据中没有该列")
    candidates = list(features) if features is not None else [c for c in df if c != target]
    unknown = [c for c in [*candidates, *categorical] if c not in df.columns or c == target]
    if unknown:
        raise InvalidValue("features", ", ".join(map(str, unknown)), "are not feature columns")
    if len(df) < 50:
        raise InvalidValue("data", len(df), "needs at least 50 rows to fit", "至少需要 50 行")
    is_bad_series = target_is_bad(df[target], bad_value)
    is_bad = is_bad_series.to_numpy(dtype=bool)
    trends = dict(monotonic_trend or {})
    allowed = ", ".join(MONOTONIC_TRENDS)
    for column, trend in trends.items():
        if trend not in MONOTONIC_TRENDS:
            raise InvalidValue(f"monotonic_trend[{column}]", trend, f"must be one of {allowed}")
    if numeric_trend not in MONOTONIC_TRENDS:
        raise InvalidValue("numeric_trend", numeric_trend, f"must be one of {allowed}")
    n = len(df)

    selection: dict[str, FeatureSelection] = {}
    binned: dict[str, tuple[FeatureBinning, npt.NDArray[np.int64]]] = {}
    for done, column in enumerate(candidates):
        if progress is not None:
            progress(f"binning {column}", done, len(candidates))
        series = df[column]
        kind = _kind(series, column in categorical)
        present = series.dropna()
        reason = ""
        if present.nunique() <= 1:
            reason = "constant or empty / 常量或全缺失"
        elif kind == "categorical" and present.nunique() > max(50, n // 2):
            reason = "identifier-like: too many categories / 类别过多（疑似编号）"
        else:
            trend = trends.get(column, numeric_trend)
            both = kind == "numeric" and trend == ASCENDING_OR_DESCENDING
            directions = ("ascending", "descending") if both else (trend,)
            best: tuple[FeatureBinning, npt.NDArray[np.int64]] | None = None
            for direction in directions:
                found = _optimal_splits(
                    series,
                    kind,
                    is_bad.astype(np.int64),
                    max_n_bins=max_n_bins,
                    min_bin_size=min_bin_size,
                    monotonic_trend=direction,
                )
                if found is None:
                    continue
                candidate = _binned_feature(
                    column, kind, series, is_bad, *found, min_missing_share=min_missing_share
                )
                if best is None or candidate[0].iv > best[0].iv:  # a tie keeps ascending
                    best = candidate
            if best is None:
                reason = "binning found no solution / 分箱无解"
            else:
                feature = best[0]
                binned[column] = best
                if feature.iv < min_iv:
                    reason = f"IV {feature.iv:.4f} < {min_iv} / 信息值不足"
        iv = binned[column][0].iv if column in binned else 0.0
        selection[column] = FeatureSelection(column, kind, iv, not reason, reason)
    if progress is not None:
        progress("logistic regression", len(candidates), len(candidates))

    def drop(column: str, reason: str) -> None:
        selection[column] = dataclasses.replace(selection[column], selected=False, reason=reason)

    kept = sorted(
        (c for c in candidates if selection[c].selected), key=lambda c: (-selection[c].iv, c)
    )
    woe = {c: _woe_column(binned[c][0], binned[c][1]) for c in kept}
    chosen: list[str] = []
    for column in kept:
        partner = next(
            (o for o in chosen if _correlation(woe[column], woe[o]) > max_correlation), None
        )
        if np.ptp(woe[column]) == 0:
            drop(column, "one WOE value for every row / 单一分箱")
        elif partner is not None:
            drop(column, f"WOE correlated > {max_correlation} with {partner} / 与其高度相关")
        elif max_features is not None and len(chosen) >= max_features:
            drop(column, f"beyond max_features={max_features} / 超出特征数上限")
        else:
            chosen.append(column)

    while True:
        if not chosen:
            raise InvalidValue(
                "data",
                target,
                "no feature carries enough information value",
                "没有足够信息值的特征",
            )
        matrix = np.column_stack([woe[c] for c in chosen])
        # tight tolerance: the optimum, not the path to it, fixes the rounded coefficients
        regression = LogisticRegression(
            C=regularisation, solver="lbfgs", tol=1e-10, max_iter=10_000
        )
        regression.fit(matrix, is_bad.astype(np.int64))
        coefficients = [round(float(c), _DECIMALS) for c in regression.coef_[0]]
        worst = min(range(len(chosen)), key=lambda i: coefficients[i])
        if coefficients[worst] > 0:
            break
        drop(chosen[worst], "logistic coefficient ≤ 0 / 回归系数符号不符")
        chosen.pop(worst)

    intercept = round(float(regression.intercept_[0]), _DECIMALS)
    scored_features = tuple(
        _with_points(binned[c][0], coefficients[i], scaling) for i, c in enumerate(chosen)
    )
    base_points = round(scaling.offset - scaling.factor * intercept, points_decimals) + 0.0
    params = check_json_scalars(
        {
            "features": candidates,
            "categorical": list(categorical),
            "min_iv": min_iv,
            "max_correlation": max_correlation,
            "max_features": max_features,
            "max_n_bins": max_n_bins,
            "min_bin_size": min_bin_size,
            "min_missing_share": min_missing_share,
            "monotonic_trend": trends,
            "numeric_trend": numeric_trend,
            "regularisation": regularisation,
        }
    )
    labels = tuple(grade_labels)
    provisional = ScorecardModel(
        name=name,
        created_at=created_at,
        target=target,
        bad_value=_json_bad_value(df[target], is_bad_series),
        scaling=scaling,
        intercept=intercept,
        base_points=base_points,
        features=scored_features,
        grades=Grades(labels, tuple(float(-i) for i in range(len(labels) - 1))),
        training=TrainingSummary(n, int(is_bad.sum()), 0.0, 0.0, (), (1.0,)),
        selection=tuple(selection[c] for c in candidates),
        fit_params=params,
    )
    scores = provisional.score_frame(df)["score"].to_numpy()
    cutoffs = (
        tuple(float(c) for c in grade_cutoffs)
        if grade_cutoffs is not None
        else _grade_cutoffs(scores, len(labels), points_decimals)
    )
    edges = quantile_edges(scores, 10)
    training = TrainingSummary(
        n=n,
        n_bad=int(is_bad.sum()),
        ks=round(ks_statistic(is_bad, -scores), _DECIMALS),
        auc=round(auc_score(is_bad, -scores), _DECIMALS),
        score_edges=tuple(float(e) for e in edges),
        score_shares=tuple(round(float(s), _DECIMALS) for s in bin_shares(scores, edges)),
    )
    return dataclasses.replace(provisional, grades=Grades(labels, cutoffs), training=training)
