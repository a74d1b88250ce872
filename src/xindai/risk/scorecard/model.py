"""The scorecard artifact (评分卡模型): binning, WOE, points, scaling, grades — and scoring.

A `ScorecardModel` is a frozen value serialised to JSON; its `version` is a hash of its content
(everything but `created_at`), so two files with one version score identically. Scoring needs
only numpy and pandas: the points table is the authority, PD and grade follow from the score.

Scaling: score = offset + factor·ln(good:bad odds), factor = PDO / ln 2,
offset = base_score − factor·ln(base_odds); hence PD = 1 / (1 + exp((score − offset) / factor)).
WOE is ln(bad share / good share) of a bin, so riskier bins have larger WOE and fewer points.
"""

from __future__ import annotations

import itertools
import math
import sys
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from xindai.errors import InvalidValue

if TYPE_CHECKING:  # loaded where frames are used: scoring one record needs neither
    import numpy as np
    import numpy.typing as npt
    import pandas as pd  # type: ignore[import-untyped]

FORMAT = "xindai.scorecard"
FORMAT_VERSION = 1
FeatureKind = Literal["numeric", "categorical"]
MISSING_LABEL = "missing / 缺失"
UNSEEN_LABEL = "unseen / 未见类别"
_MAX_EXPONENT = 700.0  # keeps math.exp finite for absurd scores


def _pandas_missing(value: object) -> bool:
    """`pd.NA` or `pd.NaT` — checked only when pandas is loaded: without it, no value can
    be either (a decision scores plain Python values; a worker need not load pandas)."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and (value is pandas.NA or value is pandas.NaT)


def _numpy_types(name: str) -> tuple[type, ...]:
    """numpy's scalar type `name` when numpy is loaded (else no value can be one)."""
    numpy = sys.modules.get("numpy")
    return (getattr(numpy, name),) if numpy is not None else ()


def category_key(value: object) -> str | None:
    """The text a category is matched by; None for a missing value (None, NaN, NA, "")."""
    if value is None or _pandas_missing(value):
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, (bool, *_numpy_types("bool_"))):
        return str(bool(value))
    if isinstance(value, (int, *_numpy_types("integer"))):
        return str(int(value))  # type: ignore[call-overload]
    if isinstance(value, (float, *_numpy_types("floating"))):
        number = float(value)  # type: ignore[arg-type]
        if math.isnan(number):
            return None
        return str(int(number)) if number.is_integer() else repr(number)
    return str(value)


def number_or_none(value: object, feature: str) -> float | None:
    """A numeric feature value as float; None when missing; InvalidValue when not a number."""
    if value is None or _pandas_missing(value):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            number = float(Decimal(text))
        except InvalidOperation:
            raise InvalidValue(feature, value, "must be a number", "必须是数字") from None
    elif isinstance(
        value, (int, float, Decimal, *_numpy_types("integer"), *_numpy_types("floating"))
    ):
        number = float(value)  # type: ignore[arg-type]
    else:
        raise InvalidValue(feature, value, "must be a number", "必须是数字")
    return None if math.isnan(number) else number


def format_number(value: float) -> str:
    """A split point as a person writes it: 8.5, 1200, 0.033."""
    return f"{value:.6g}" if abs(value) < 1e6 else f"{value:.0f}"


def interval_labels(splits: Sequence[float]) -> list[str]:
    """Labels of the bins (−∞, s₀), [s₀, s₁), …, [s_last, ∞)."""
    bounds = [-math.inf, *splits, math.inf]
    labels = []
    for low, high in itertools.pairwise(bounds):
        left = "(-inf" if low == -math.inf else f"[{format_number(low)}"
        right = "inf)" if high == math.inf else f"{format_number(high)})"
        labels.append(f"{left}, {right}")
    return labels


@dataclass(frozen=True)
class Scaling:
    """Points scaling: `base_score` points at good:bad odds `base_odds`; `pdo` doubles the odds."""

    base_score: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0
    points_decimals: int = 0

    def __post_init__(self) -> None:
        if not (self.pdo > 0 and math.isfinite(self.pdo)):
            raise InvalidValue("pdo", self.pdo, "must be a positive number", "必须为正数")
        if not (self.base_odds > 0 and math.isfinite(self.base_odds)):
            raise InvalidValue("base_odds", self.base_odds, "must be positive", "必须为正数")
        if not math.isfinite(self.base_score):
            raise InvalidValue("base_score", self.base_score, "must be a number", "必须是数字")
        if not 0 <= self.points_decimals <= 6:
            raise InvalidValue("points_decimals", self.points_decimals, "must be 0–6", "应为 0–6")

    @property
    def factor(self) -> float:
        """Points per unit of ln(odds): PDO / ln 2."""
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        """Score at odds 1:1."""
        return self.base_score - self.factor * math.log(self.base_odds)

    def pd_of_score(self, score: float) -> float:
        """Probability of bad implied by a score."""
        exponent = min(max((score - self.offset) / self.factor, -_MAX_EXPONENT), _MAX_EXPONENT)
        return 1.0 / (1.0 + math.exp(exponent))

    def score_of_pd(self, pd_bad: float) -> float:
        """Score implied by a probability of bad in (0, 1)."""
        return self.offset + self.factor * math.log((1.0 - pd_bad) / pd_bad)


@dataclass(frozen=True)
class Bin:
    """One bin of a feature: training count and bads, WOE and the points it adds to a score."""

    count: int
    bad: int
    woe: float
    points: float
    categories: tuple[str, ...] = ()

    @property
    def bad_rate(self) -> float:
        return self.bad / self.count if self.count else float("nan")


@dataclass(frozen=True)
class FeatureBinning:
    """A characteristic of the scorecard.

    Numeric: bins (−∞, s₀), [s₀, s₁), …, [s_last, ∞) over `splits`. Categorical: each bin lists
    its categories; `unseen` scores categories not met in training. `missing` scores absent
    values; when training had too few of them it carries the riskiest bin's WOE (`missing_source`
    "conservative").
    """

    name: str
    kind: FeatureKind
    bins: tuple[Bin, ...]
    missing: Bin
    coefficient: float
    iv: float
    splits: tuple[float, ...] = ()
    unseen: Bin | None = None
    missing_source: Literal["data", "conservative"] = "data"

    def __post_init__(self) -> None:
        if self.kind == "numeric":
            if len(self.bins) != len(self.splits) + 1:
                raise InvalidValue(self.name, len(self.bins), "needs one bin more than splits")
            if list(self.splits) != sorted(set(self.splits)):
                raise InvalidValue(self.name, self.splits, "splits must be strictly increasing")
        elif self.kind == "categorical":
            if self.unseen is None:
                raise InvalidValue(self.name, None, "a categorical feature needs an unseen bin")
            seen: set[str] = set()
            for group in self.bins:
                if not group.categories or seen.intersection(group.categories):
                    raise InvalidValue(self.name, group.categories, "bad category group")
                seen.update(group.categories)
        else:
            raise InvalidValue(self.name, self.kind, "kind must be numeric or categorical")

    def bin_labels(self) -> list[str]:
        """Human-readable bin labels, in bin order."""
        if self.kind == "categorical":
            return [", ".join(group.categories) for group in self.bins]
        return interval_labels(self.splits)

    def table(self) -> pd.DataFrame:
        """Training binning table: bin, count, bad, bad rate, WOE, points (missing/unseen last)."""
        import pandas as pd

        rows: list[tuple[str, Bin]] = list(zip(self.bin_labels(), self.bins, strict=True))
        rows.append((MISSING_LABEL, self.missing))
        if self.unseen is not None:
            rows.append((UNSEEN_LABEL, self.unseen))
        return pd.DataFrame(
            {
                "bin": [label for label, _ in rows],
                "count": [b.count for _, b in rows],
                "bad": [b.bad for _, b in rows],
                "bad_rate": [b.bad_rate for _, b in rows],
                "woe": [b.woe for _, b in rows],
                "points": [b.points for _, b in rows],
            }
        )

    def bin_index(self, values: pd.Series) -> npt.NDArray[np.int64]:
        """Bin of each value: 0…len(bins)−1, −1 for missing, −2 for an unseen category."""
        import numpy as np
        import pandas as pd

        if self.kind == "numeric":
            numbers = numeric_values(values, self.name)
            index = np.searchsorted(np.asarray(self.splits), numbers, side="right")
            return np.where(np.isnan(numbers), -1, index).astype(np.int64)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        lookup = {key: i for i, group in enumerate(self.bins) for key in group.categories}
        per_unique = np.array(
            [_category_bin(category_key(u), lookup) for u in uniques], dtype=np.int64
        )
        return np.where(codes < 0, -1, per_unique[codes] if len(uniques) else -1).astype(np.int64)


def _category_bin(key: str | None, lookup: Mapping[str, int]) -> int:
    return -1 if key is None else lookup.get(key, -2)


def numeric_values(values: pd.Series, feature: str) -> npt.NDArray[np.float64]:
    """A column as float64 with NaN for missing; InvalidValue names the first non-number."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return np.asarray(values.astype("float64"), dtype=np.float64)
    present = values.notna() & (values.astype("string").str.strip() != "")
    numbers = pd.to_numeric(values.where(present), errors="coerce")
    bad = present & numbers.isna()
    if bad.any():
        raise InvalidValue(feature, values[bad].iloc[0], "must be a number", "必须是数字")
    return np.asarray(numbers.astype("float64"), dtype=np.float64)


@dataclass(frozen=True)
class Grades:
    """Risk grades best first; a score ≥ `cutoffs[i]` earns at least `labels[i]`."""

    labels: tuple[str, ...] = ("A", "B", "C", "D", "E")
    cutoffs: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if len(self.cutoffs) != len(self.labels) - 1 or len(set(self.labels)) != len(self.labels):
            raise InvalidValue("grades", self.labels, "needs one cut-off fewer than grades")
        if list(self.cutoffs) != sorted(set(self.cutoffs), reverse=True):
            raise InvalidValue("grades", self.cutoffs, "cut-offs must strictly decrease")


@dataclass(frozen=True)
class FeatureSelection:
    """Why a candidate feature is in the scorecard or not (kept for the audit trail)."""

    feature: str
    kind: FeatureKind
    iv: float
    selected: bool
    reason: str


@dataclass(frozen=True)
class TrainingSummary:
    """Training sample and performance, and its score distribution for PSI."""

    n: int
    n_bad: int
    ks: float
    auc: float
    score_edges: tuple[float, ...]
    score_shares: tuple[float, ...]

    @property
    def gini(self) -> float:
        return 2.0 * self.auc - 1.0

    @property
    def bad_rate(self) -> float:
        return self.n_bad / self.n if self.n else float("nan")


@dataclass(frozen=True)
class ScorecardModel:
    """A fitted scorecard. Build with `fit_scorecard` or `ScorecardModel.load`."""

    name: str
    created_at: str
    target: str
    bad_value: str | int | float | bool
    scaling: Scaling
    intercept: float
    base_points: float
    features: tuple[FeatureBinning, ...]
    grades: Grades
    training: TrainingSummary
    selection: tuple[FeatureSelection, ...] = ()
    fit_params: Mapping[str, Any] = field(default_factory=dict)
    _plan: tuple[Any, ...] = field(init=False, repr=False, compare=False)
    _ascending_cutoffs: list[float] = field(init=False, repr=False, compare=False)
    _version: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [f.name for f in self.features]
        if len(set(names)) != len(names):
            raise InvalidValue("features", names, "feature names must be unique")
        # lookups precomputed once so that score_record is a few list/dict look-ups per feature
        plan: list[tuple[Any, ...]] = []
        for feature in self.features:
            points = [b.points for b in feature.bins]
            missing = feature.missing.points
            if feature.kind == "numeric":
                plan.append((feature.name, True, list(feature.splits), points, missing, None, 0.0))
            else:
                assert feature.unseen is not None
                lookup = {key: b.points for b in feature.bins for key in b.categories}
                unseen = feature.unseen.points
                plan.append((feature.name, False, None, points, missing, lookup, unseen))
        object.__setattr__(self, "_plan", tuple(plan))
        object.__setattr__(self, "_ascending_cutoffs", sorted(self.grades.cutoffs))
        from xindai.risk.scorecard.serialise import content_version

        object.__setattr__(self, "_version", content_version(self))

    # --- identity -------------------------------------------------------------------------

    @property
    def version(self) -> str:
        """Content-hash version id, e.g. "sc-3f2a…" (independent of `created_at`)."""
        return self._version

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def feature(self, name: str) -> FeatureBinning:
        for feature in self.features:
            if feature.name == name:
                return feature
        raise InvalidValue("feature", name, "is not in the scorecard", "不在评分卡中")

    # --- scoring --------------------------------------------------------------------------

    def score_record(self, record: Mapping[str, Any]) -> tuple[float, float, str]:
        """(score, pd, grade) of one application; every feature must be a key (None = missing)."""
        total = self.base_points
        try:
            for name, numeric, splits, points, missing, lookup, unseen in self._plan:
                value = record[name]
                if numeric:
                    if type(value) is float or type(value) is int:
                        number: float | None = value if value == value else None
                    else:
                        number = number_or_none(value, name)
                    total += missing if number is None else points[bisect_right(splits, number)]
                else:
                    key = value if type(value) is str else category_key(value)
                    total += missing if not key else lookup.get(key, unseen)
        except KeyError as exc:
            raise InvalidValue(
                "record", exc.args[0], "feature is missing from the application", "申请缺少该特征"
            ) from None
        return total, self.scaling.pd_of_score(total), self._grade(total)

    def _grade(self, score: float) -> str:
        labels = self.grades.labels
        return labels[len(labels) - 1 - bisect_right(self._ascending_cutoffs, score)]

    def points_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Points each feature contributes to each row (columns = features, input order)."""
        import numpy as np
        import pandas as pd

        self._check_columns(frame)
        columns: dict[str, npt.NDArray[np.float64]] = {}
        for feature in self.features:
            index = feature.bin_index(frame[feature.name])
            points = np.asarray([b.points for b in feature.bins] + [0.0, 0.0], dtype=np.float64)
            points[-1] = feature.missing.points  # index −1
            points[-2] = feature.unseen.points if feature.unseen is not None else np.nan
            columns[feature.name] = points[index]
        return pd.DataFrame(columns, index=frame.index)

    def score_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Columns `score`, `pd`, `grade` for every row of `frame`, same index and order."""
        import numpy as np
        import pandas as pd

        points = self.points_frame(frame)
        total = np.full(len(frame), self.base_points, dtype=np.float64)
        for name in self.feature_names:  # same order of additions as score_record
            total = total + points[name].to_numpy()
        uniques, inverse = np.unique(total, return_inverse=True)
        pd_values = np.array([self.scaling.pd_of_score(s) for s in uniques.tolist()])
        asc = np.asarray(self._ascending_cutoffs, dtype=np.float64)
        labels = np.asarray(self.grades.labels[::-1], dtype=object)
        grades = labels[np.searchsorted(asc, total, side="right")]
        return pd.DataFrame(
            {"score": total, "pd": pd_values[inverse.reshape(-1)], "grade": grades},
            index=frame.index,
        )

    def _check_columns(self, frame: pd.DataFrame) -> None:
        absent = [name for name in self.feature_names if name not in frame.columns]
        if absent:
            raise InvalidValue(
                "data",
                ", ".join(absent),
                "columns the scorecard needs are missing",
                "缺少评分卡所需的列",
            )

    # --- tables ---------------------------------------------------------------------------

    def scorecard_table(self) -> pd.DataFrame:
        """The whole points table: feature, bin, count, bad rate, WOE, points."""
        import pandas as pd

        frames = []
        for feature in self.features:
            table = feature.table()
            table.insert(0, "feature", feature.name)
            frames.append(table)
        return pd.concat(frames, ignore_index=True)

    # --- persistence ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        from xindai.risk.scorecard.serialise import model_to_dict

        return model_to_dict(self)

    def to_json(self) -> str:
        from xindai.risk.scorecard.serialise import model_to_json

        return model_to_json(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "model") -> ScorecardModel:
        from xindai.risk.scorecard.serialise import model_from_dict

        return model_from_dict(data, source=source)

    @classmethod
    def from_json(cls, text: str, *, source: str = "model") -> ScorecardModel:
        from xindai.risk.scorecard.serialise import model_from_json

        return model_from_json(text, source=source)

    def save(self, path: str | Path) -> Path:
        """Write the JSON artifact (UTF-8, stable key order) and return its path."""
        target = Path(path)
        target.write_text(self.to_json(), encoding="utf-8")
        return target

    @classmethod
    def load(cls, path: str | Path) -> ScorecardModel:
        """Read a JSON artifact; InvalidValue when the file is absent or not a scorecard."""
        source = Path(path)
        try:
            text = source.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InvalidValue("model", str(path), "file not found", "文件不存在") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidValue("model", str(path), f"cannot be read: {exc}", "无法读取") from None
        return cls.from_json(text, source=str(path))
