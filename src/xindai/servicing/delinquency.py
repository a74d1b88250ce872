"""Days past due and delinquency buckets (逾期期限, SPEC §4), with bucket edges as data.

DPD = business date − due date of the oldest installment still unpaid, 0 when none is past
due. A `BucketScheme` maps DPD to buckets (M0, M1 … M6+ by default), one value at a time or
a whole NumPy array at once for close of business and reports.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from xindai.errors import InvalidValue


def days_past_due(business_date: date, oldest_unpaid_due_date: date | None) -> int:
    """Days past due on `business_date`: business date − due date of the oldest unpaid
    installment, or 0 when there is none or it is not yet past due (due today is 0)."""
    if oldest_unpaid_due_date is None:
        return 0
    return max(0, (business_date - oldest_unpaid_due_date).days)


def _whole(field: str, value: object, *, minimum: int) -> int:
    # bool is an int subclass, but True is never a day count
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidValue(field, value, "must be a whole number of days", "必须是整数天数")
    if value < minimum:
        raise InvalidValue(field, value, f"must be at least {minimum}", f"必须不小于 {minimum}")
    return value


@dataclass(frozen=True)
class Bucket:
    """A delinquency bucket: DPD from `min_dpd` to `max_dpd` inclusive (None: no upper end)."""

    name: str
    min_dpd: int
    max_dpd: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidValue("bucket.name", self.name, "must be a non-empty name", "名称不能为空")
        _whole(f"bucket {self.name}.min_dpd", self.min_dpd, minimum=0)
        if self.max_dpd is not None:
            _whole(f"bucket {self.name}.max_dpd", self.max_dpd, minimum=self.min_dpd)

    def contains(self, dpd: int) -> bool:
        return self.min_dpd <= dpd and (self.max_dpd is None or dpd <= self.max_dpd)


_DEFAULT_BUCKETS = (
    Bucket("M0", 0, 0),
    Bucket("M1", 1, 30),
    Bucket("M2", 31, 60),
    Bucket("M3", 61, 90),
    Bucket("M4", 91, 120),
    Bucket("M5", 121, 150),
    Bucket("M6", 151, 180),
    Bucket("M6+", 181, None),
)


@dataclass(frozen=True)
class BucketScheme:
    """Buckets in DPD order: the first starts at 0, each next one starts the day after the
    previous ends, only the last is open-ended, and names are unique."""

    buckets: tuple[Bucket, ...]

    def __post_init__(self) -> None:
        buckets = self.buckets
        if not buckets:
            raise InvalidValue(
                "buckets", buckets, "at least one bucket is required", "至少需要一个分组"
            )
        if buckets[0].min_dpd != 0:
            raise InvalidValue(
                "buckets",
                buckets[0].name,
                "the first bucket must start at DPD 0",
                "第一个分组必须从逾期 0 天开始",
            )
        for previous, bucket in pairwise(buckets):
            if previous.max_dpd is None:
                raise InvalidValue(
                    "buckets",
                    previous.name,
                    "only the last bucket may be open-ended",
                    "只有最后一个分组可以没有上限",
                )
            if bucket.min_dpd <= previous.max_dpd:
                raise InvalidValue(
                    "buckets",
                    bucket.name,
                    f"overlaps {previous.name} (ends at {previous.max_dpd})",
                    f"与 {previous.name} 重叠（止于 {previous.max_dpd}）",
                )
            if bucket.min_dpd != previous.max_dpd + 1:
                raise InvalidValue(
                    "buckets",
                    bucket.name,
                    f"leaves a gap after {previous.name} (ends at {previous.max_dpd})",
                    f"与 {previous.name} 之间有空档（止于 {previous.max_dpd}）",
                )
        if buckets[-1].max_dpd is not None:
            raise InvalidValue(
                "buckets",
                buckets[-1].name,
                "the last bucket must be open-ended",
                "最后一个分组不能有上限",
            )
        names = [bucket.name for bucket in buckets]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise InvalidValue(
                "buckets", duplicates, "bucket names must be unique", "分组名称必须唯一"
            )

    @classmethod
    def default(cls) -> BucketScheme:
        """M0 current, M1 1–30, M2 31–60, M3 61–90, M4 91–120, M5 121–150, M6 151–180,
        M6+ over 180 (SPEC §4)."""
        return cls(_DEFAULT_BUCKETS)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(bucket.name for bucket in self.buckets)

    @property
    def lower_bounds(self) -> tuple[int, ...]:
        """The first DPD of each bucket, ascending (the first is 0)."""
        return tuple(bucket.min_dpd for bucket in self.buckets)

    def bucket_for(self, dpd: int) -> Bucket:
        """The bucket holding `dpd` (a whole number ≥ 0)."""
        _whole("dpd", dpd, minimum=0)
        return self.buckets[bisect_right(self.lower_bounds, dpd) - 1]

    def bucket_index(self, dpd: npt.ArrayLike) -> npt.NDArray[np.intp]:
        """Index into `buckets` / `names` of each DPD in an integer array (any shape, all ≥ 0),
        computed at once with `numpy.searchsorted`."""
        values = np.asarray(dpd)
        if values.size == 0:
            return np.zeros(values.shape, dtype=np.intp)
        if values.dtype.kind not in "iu":
            raise InvalidValue(
                "dpd", str(values.dtype), "must be an integer array", "必须是整数数组"
            )
        if values.min() < 0:
            raise InvalidValue("dpd", int(values.min()), "must be at least 0", "必须不小于 0")
        bounds = np.asarray(self.lower_bounds, dtype=np.int64)
        indices: npt.NDArray[np.intp] = np.searchsorted(bounds, values, side="right") - 1
        return indices

    def to_dict(self) -> dict[str, object]:
        """A JSON-friendly dict that `from_dict` reads back into an equal scheme."""
        return {
            "buckets": [
                {"name": b.name, "min_dpd": b.min_dpd, "max_dpd": b.max_dpd} for b in self.buckets
            ]
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> BucketScheme:
        """Read `{"buckets": [{"name", "min_dpd", "max_dpd"}, …]}`; `max_dpd` may be null or
        left out for the open-ended last bucket. Bad input raises `InvalidValue`."""
        if not isinstance(data, Mapping) or set(data) != {"buckets"}:
            raise InvalidValue(
                "bucket_scheme",
                data,
                'must be an object with only "buckets"',
                '必须是只含 "buckets" 的对象',
            )
        items = data["buckets"]
        if not isinstance(items, Sequence) or isinstance(items, str):
            raise InvalidValue("buckets", items, "must be a list", "必须是列表")
        buckets: list[Bucket] = []
        for i, item in enumerate(items):
            field = f"buckets[{i}]"
            if not isinstance(item, Mapping):
                raise InvalidValue(field, item, "must be an object", "必须是对象")
            unknown = sorted(str(key) for key in item if key not in _BUCKET_KEYS)
            if unknown or "name" not in item or "min_dpd" not in item:
                raise InvalidValue(
                    field,
                    dict(item),
                    "needs name and min_dpd, optional max_dpd, nothing else",
                    "需要 name 和 min_dpd，可选 max_dpd，不能有其他字段",
                )
            name = item["name"]
            if not isinstance(name, str):
                raise InvalidValue(f"{field}.name", name, "must be text", "必须是文本")
            max_dpd = item.get("max_dpd")
            buckets.append(
                Bucket(
                    name=name,
                    min_dpd=_whole(f"{field}.min_dpd", item["min_dpd"], minimum=0),
                    max_dpd=None
                    if max_dpd is None
                    else _whole(f"{field}.max_dpd", max_dpd, minimum=0),
                )
            )
        return cls(tuple(buckets))


_BUCKET_KEYS = ("name", "min_dpd", "max_dpd")

DEFAULT_BUCKET_SCHEME = BucketScheme.default()
