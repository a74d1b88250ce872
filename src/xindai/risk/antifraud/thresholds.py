"""Anti-fraud thresholds as data: the largest acceptable value of each numeric feature, above
which `antifraud_features` adds the reason code `AF_<FEATURE>` (e.g. `AF_VELOCITY_ID_24H`).

Reason codes are advice to the strategy, which decides what they mean (reject, review …);
the thresholds are versioned with the strategy through `to_dict` / `from_dict`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from xindai.errors import InvalidValue
from xindai.risk.antifraud.catalogue import NUMERIC_FEATURES

DEFAULT_LIMITS: Mapping[str, int | float] = MappingProxyType(
    {
        # applications per identifier; the application being decided counts itself
        "velocity_id_1h": 2,
        "velocity_id_24h": 3,
        "velocity_id_7d": 6,
        "velocity_phone_1h": 2,
        "velocity_phone_24h": 3,
        "velocity_phone_7d": 6,
        "velocity_device_1h": 2,
        "velocity_device_24h": 3,
        "velocity_device_7d": 6,
        # one IP may be a carrier's NAT shared by many honest applicants
        "velocity_ip_1h": 5,
        "velocity_ip_24h": 10,
        "velocity_ip_7d": 30,
        "velocity_card_1h": 2,
        "velocity_card_24h": 3,
        "velocity_card_7d": 6,
        "device_id_count": 3,
        "id_device_count": 3,
        "multi_lender_open_count": 5,
        "multi_lender_outstanding_fen": 5_000_000,  # 50,000 yuan
        "bureau_inquiries_1m": 6,
        "bureau_inquiries_3m": 12,
        "bureau_current_overdue_count": 0,
        "bureau_loans_opened_3m": 4,
        "graph_blacklisted_1hop": 0,
        "graph_blacklisted_2hop": 1,
        "graph_overdue_1hop": 1,
        "graph_overdue_2hop": 3,
        # about 1 in 1,600 of the population the anomaly model was fitted on
        "anomaly_score": 0.8,
    }
)
"""The default limits: a feature value strictly above its limit gives a reason code."""

_NUMERIC = frozenset(NUMERIC_FEATURES)


def reason_code(feature: str) -> str:
    """The reason code of a feature crossing its limit: `AF_` + the name in upper case."""
    return f"AF_{feature.upper()}"


def _limit(feature: str, value: object) -> int | float:
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
    ):
        raise InvalidValue(
            f"limits.{feature}", value, "must be a finite number ≥ 0", "必须是不小于 0 的有限数值"
        )
    return value


@dataclass(frozen=True)
class AntifraudThresholds:
    """`limits` maps a numeric feature to the largest acceptable value (a feature without a
    limit gives no code); `flag_blacklist` adds `AF_BLACKLIST_<KIND>` for every blacklist
    hit, `flag_ring` adds `AF_GRAPH_RING` when the applicant is in a ring."""

    limits: Mapping[str, int | float] = field(default_factory=lambda: DEFAULT_LIMITS)
    flag_blacklist: bool = True
    flag_ring: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.limits, Mapping):
            raise InvalidValue("limits", self.limits, "must be an object", "必须是对象")
        unknown = sorted(str(name) for name in self.limits if name not in _NUMERIC)
        if unknown:
            raise InvalidValue(
                "limits",
                unknown,
                "not numeric anti-fraud features",
                "不是数值型反欺诈特征",
            )
        # kept in catalogue order, so that reasons come out in feature order
        checked = {
            name: _limit(name, self.limits[name])
            for name in NUMERIC_FEATURES
            if name in self.limits
        }
        object.__setattr__(self, "limits", MappingProxyType(checked))
        for name in ("flag_blacklist", "flag_ring"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidValue(
                    name, getattr(self, name), "must be true or false", "必须是布尔值"
                )

    def with_limits(self, changes: Mapping[str, int | float | None]) -> AntifraudThresholds:
        """A copy with some limits changed; None removes a limit."""
        limits = dict(self.limits)
        for name, value in changes.items():
            if value is None:
                limits.pop(name, None)
            else:
                limits[name] = value
        return replace(self, limits=limits)

    def to_dict(self) -> dict[str, object]:
        """A JSON-friendly dict that `from_dict` reads back into equal thresholds."""
        return {
            "limits": dict(self.limits),
            "flag_blacklist": self.flag_blacklist,
            "flag_ring": self.flag_ring,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> AntifraudThresholds:
        """Read thresholds from `to_dict`'s shape; every key is required."""
        keys = {"limits", "flag_blacklist", "flag_ring"}
        if not isinstance(data, Mapping) or set(data) != keys:
            raise InvalidValue(
                "antifraud_thresholds",
                sorted(data) if isinstance(data, Mapping) else data,
                "need exactly the keys limits, flag_blacklist, flag_ring",
                "必须恰好包含 limits、flag_blacklist、flag_ring",
            )
        limits = data["limits"]
        flag_blacklist = data["flag_blacklist"]
        flag_ring = data["flag_ring"]
        if not isinstance(limits, Mapping):
            raise InvalidValue("limits", limits, "must be an object", "必须是对象")
        if not isinstance(flag_blacklist, bool) or not isinstance(flag_ring, bool):
            raise InvalidValue(
                "flags", (flag_blacklist, flag_ring), "must be true or false", "必须是布尔值"
            )
        return cls(
            limits={str(name): _limit(str(name), value) for name, value in limits.items()},
            flag_blacklist=flag_blacklist,
            flag_ring=flag_ring,
        )


DEFAULT_ANTIFRAUD_THRESHOLDS = AntifraudThresholds()
