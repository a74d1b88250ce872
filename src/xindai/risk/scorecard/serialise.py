"""JSON form of a `ScorecardModel` and its content-hash version id.

The version is "sc-" + the first 16 hex digits of SHA-256 over the canonical JSON of the model
without `version` and `created_at`. Loading checks the format, every field's type and that the
content still matches the stored version (a hand-edited points table must be re-versioned).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from xindai.errors import InvalidValue

if TYPE_CHECKING:
    from xindai.risk.scorecard.model import ScorecardModel

_JSON_SCALARS = (str, int, float, bool, type(None))


def _bin_dict(label: str, b: Any, *, with_categories: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"label": label}
    if with_categories:
        entry["categories"] = list(b.categories)
    entry.update({"count": b.count, "bad": b.bad, "woe": b.woe, "points": b.points})
    return entry


def _payload(model: ScorecardModel) -> dict[str, Any]:
    from xindai.risk.scorecard.model import FORMAT, FORMAT_VERSION

    features = []
    for feature in model.features:
        categorical = feature.kind == "categorical"
        entry: dict[str, Any] = {
            "name": feature.name,
            "kind": feature.kind,
            "coefficient": feature.coefficient,
            "iv": feature.iv,
        }
        if not categorical:
            entry["splits"] = list(feature.splits)
        entry["bins"] = [
            _bin_dict(label, b, with_categories=categorical)
            for label, b in zip(feature.bin_labels(), feature.bins, strict=True)
        ]
        entry["missing"] = {
            **_bin_dict("missing", feature.missing, with_categories=False),
            "source": feature.missing_source,
        }
        if feature.unseen is not None:
            entry["unseen"] = _bin_dict("unseen", feature.unseen, with_categories=False)
        features.append(entry)
    scaling = model.scaling
    training = model.training
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": model.name,
        "target": model.target,
        "bad_value": model.bad_value,
        "scaling": {
            "base_score": scaling.base_score,
            "base_odds": scaling.base_odds,
            "pdo": scaling.pdo,
            "points_decimals": scaling.points_decimals,
            # derived, for readers; rounded so that the hash does not hinge on libm's last bit
            "factor": round(scaling.factor, 6),
            "offset": round(scaling.offset, 6),
        },
        "intercept": model.intercept,
        "base_points": model.base_points,
        "grades": {"labels": list(model.grades.labels), "cutoffs": list(model.grades.cutoffs)},
        "features": features,
        "training": {
            "n": training.n,
            "n_bad": training.n_bad,
            "ks": training.ks,
            "auc": training.auc,
            "score_edges": list(training.score_edges),
            "score_shares": list(training.score_shares),
        },
        "selection": [
            {
                "feature": s.feature,
                "kind": s.kind,
                "iv": s.iv,
                "selected": s.selected,
                "reason": s.reason,
            }
            for s in model.selection
        ],
        "fit_params": dict(model.fit_params),
    }


def _canonical(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)


def content_version(model: ScorecardModel) -> str:
    """The model's version id: a hash of everything but `created_at`."""
    digest = hashlib.sha256(_canonical(_payload(model)).encode("utf-8")).hexdigest()
    return f"sc-{digest[:16]}"


def model_to_dict(model: ScorecardModel) -> dict[str, Any]:
    payload = _payload(model)
    head = {
        "format": payload.pop("format"),
        "format_version": payload.pop("format_version"),
        "version": model.version,
        "created_at": model.created_at,
    }
    return {**head, **payload}


def model_to_json(model: ScorecardModel) -> str:
    return json.dumps(model_to_dict(model), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


# --- loading -------------------------------------------------------------------------------


class _Malformed(Exception):
    pass


def _get(data: Any, key: str) -> Any:
    if not isinstance(data, Mapping) or key not in data:
        raise _Malformed(f"missing field {key!r}")
    return data[key]


def _number(data: Any, key: str) -> float:
    value = _get(data, key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Malformed(f"field {key!r} must be a finite number")
    return float(value)


def _integer(data: Any, key: str) -> int:
    value = _get(data, key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Malformed(f"field {key!r} must be a whole number ≥ 0")
    return value


def _text(data: Any, key: str) -> str:
    value = _get(data, key)
    if not isinstance(value, str):
        raise _Malformed(f"field {key!r} must be text")
    return value


def _list(data: Any, key: str) -> list[Any]:
    value = _get(data, key)
    if not isinstance(value, list):
        raise _Malformed(f"field {key!r} must be a list")
    return value


def _numbers(data: Any, key: str) -> tuple[float, ...]:
    return tuple(_item_number(v, key) for v in _list(data, key))


def _item_number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Malformed(f"entries of {key!r} must be finite numbers")
    return float(value)


def _bin(data: Any, *, categorical: bool = False) -> Any:
    from xindai.risk.scorecard.model import Bin

    categories: tuple[str, ...] = ()
    if categorical:
        raw = _list(data, "categories")
        if not all(isinstance(c, str) for c in raw):
            raise _Malformed("categories must be text")
        categories = tuple(raw)
    return Bin(
        count=_integer(data, "count"),
        bad=_integer(data, "bad"),
        woe=_number(data, "woe"),
        points=_number(data, "points"),
        categories=categories,
    )


def _feature(data: Any) -> Any:
    from xindai.risk.scorecard.model import FeatureBinning

    kind = _text(data, "kind")
    if kind not in ("numeric", "categorical"):
        raise _Malformed(f"feature kind {kind!r} is neither numeric nor categorical")
    categorical = kind == "categorical"
    missing = _get(data, "missing")
    source = _text(missing, "source")
    if source not in ("data", "conservative"):
        raise _Malformed(f"missing source {source!r} is unknown")
    return FeatureBinning(
        name=_text(data, "name"),
        kind="categorical" if categorical else "numeric",
        bins=tuple(_bin(b, categorical=categorical) for b in _list(data, "bins")),
        missing=_bin(missing),
        coefficient=_number(data, "coefficient"),
        iv=_number(data, "iv"),
        splits=() if categorical else _numbers(data, "splits"),
        unseen=_bin(_get(data, "unseen")) if categorical else None,
        missing_source="data" if source == "data" else "conservative",
    )


def _build(data: Mapping[str, Any]) -> ScorecardModel:
    from xindai.risk.scorecard.model import (
        FORMAT,
        FORMAT_VERSION,
        FeatureSelection,
        Grades,
        Scaling,
        ScorecardModel,
        TrainingSummary,
    )

    if data.get("format") != FORMAT:
        raise _Malformed(f"format is {data.get('format')!r}, not {FORMAT!r}")
    if data.get("format_version") != FORMAT_VERSION:
        raise _Malformed(f"format_version {data.get('format_version')!r} is not supported")
    bad_value = _get(data, "bad_value")
    if not isinstance(bad_value, str | int | float | bool):
        raise _Malformed("bad_value must be text, a number or a boolean")
    scaling = _get(data, "scaling")
    grades = _get(data, "grades")
    training = _get(data, "training")
    labels = _list(grades, "labels")
    if not all(isinstance(label, str) for label in labels):
        raise _Malformed("grade labels must be text")
    selection = []
    for entry in _list(data, "selection"):
        kind = _text(entry, "kind")
        selected = _get(entry, "selected")
        if kind not in ("numeric", "categorical") or not isinstance(selected, bool):
            raise _Malformed("selection entries need a kind and a true/false selected")
        selection.append(
            FeatureSelection(
                feature=_text(entry, "feature"),
                kind="numeric" if kind == "numeric" else "categorical",
                iv=_number(entry, "iv"),
                selected=selected,
                reason=_text(entry, "reason"),
            )
        )
    fit_params = _get(data, "fit_params")
    if not isinstance(fit_params, Mapping):
        raise _Malformed("fit_params must be an object")
    return ScorecardModel(
        name=_text(data, "name"),
        created_at=_text(data, "created_at"),
        target=_text(data, "target"),
        bad_value=bad_value,
        scaling=Scaling(
            base_score=_number(scaling, "base_score"),
            base_odds=_number(scaling, "base_odds"),
            pdo=_number(scaling, "pdo"),
            points_decimals=_integer(scaling, "points_decimals"),
        ),
        intercept=_number(data, "intercept"),
        base_points=_number(data, "base_points"),
        features=tuple(_feature(f) for f in _list(data, "features")),
        grades=Grades(labels=tuple(labels), cutoffs=_numbers(grades, "cutoffs")),
        training=TrainingSummary(
            n=_integer(training, "n"),
            n_bad=_integer(training, "n_bad"),
            ks=_number(training, "ks"),
            auc=_number(training, "auc"),
            score_edges=_numbers(training, "score_edges"),
            score_shares=_numbers(training, "score_shares"),
        ),
        selection=tuple(selection),
        fit_params=dict(fit_params),
    )


def model_from_dict(data: Any, *, source: str = "model") -> ScorecardModel:
    """Rebuild a model; InvalidValue naming `source` when it is not a valid scorecard."""
    if not isinstance(data, Mapping):
        raise InvalidValue(
            "model", source, "is not a scorecard (not a JSON object)", "不是评分卡模型"
        )
    try:
        model = _build(data)
    except _Malformed as exc:
        raise InvalidValue(
            "model", source, f"is not a scorecard: {exc}", f"不是评分卡模型：{exc}"
        ) from None
    except InvalidValue as exc:
        raise InvalidValue(
            "model", source, f"is not a valid scorecard: {exc}", f"评分卡模型无效：{exc.message_zh}"
        ) from None
    stored = data.get("version")
    if stored != model.version:
        raise InvalidValue(
            "model",
            source,
            f"content does not match its version {stored!r} (computed {model.version})",
            f"内容与版本号 {stored!r} 不符（计算得 {model.version}）",
        )
    return model


def model_from_json(text: str, *, source: str = "model") -> ScorecardModel:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidValue("model", source, f"is not JSON ({exc.msg})", "不是 JSON 文件") from None
    return model_from_dict(data, source=source)


def check_json_scalars(params: Mapping[str, Any]) -> dict[str, Any]:
    """Fit parameters as JSON values (scalars, lists and objects of them)."""

    def convert(value: Any) -> Any:
        if isinstance(value, _JSON_SCALARS):
            return value
        if isinstance(value, list | tuple):
            return [convert(v) for v in value]
        if isinstance(value, Mapping):
            return {str(k): convert(v) for k, v in value.items()}
        raise InvalidValue("fit_params", value, "must be JSON values")

    return {str(k): convert(v) for k, v in params.items()}
