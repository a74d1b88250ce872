"""Application velocity (申请频次): how many applications one ID number, phone, device, IP or
card made in the 1 h, 24 h and 7 days ending at a given time.

Each key keeps a sorted list of its application times; a count over a window is two
bisections, so a full feature set costs a few microseconds whatever the history size.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from xindai.errors import InvalidValue
from xindai.risk.antifraud.identifiers import HashedIdentifiers, check_datetime


class VelocityDimension(StrEnum):
    """The identifier applications are counted by; the value is the feature-name infix."""

    ID = "id"
    PHONE = "phone"
    DEVICE = "device"
    IP = "ip"
    CARD = "card"

    def key_of(self, identifiers: HashedIdentifiers) -> str | None:
        """This dimension's hashed identifier in `identifiers`, or None."""
        if self is VelocityDimension.ID:
            return identifiers.id_number
        value: str | None = getattr(identifiers, self.value)
        return value


class VelocityWindow(StrEnum):
    """A counting window ending at the decision time; the value is the feature-name suffix."""

    HOUR = "1h"
    DAY = "24h"
    WEEK = "7d"

    @property
    def duration(self) -> timedelta:
        return _DURATIONS[self]


_DURATIONS = {
    VelocityWindow.HOUR: timedelta(hours=1),
    VelocityWindow.DAY: timedelta(hours=24),
    VelocityWindow.WEEK: timedelta(days=7),
}


def velocity_feature_name(dimension: VelocityDimension, window: VelocityWindow) -> str:
    """`velocity_<dimension>_<window>`, e.g. `velocity_device_24h`."""
    return f"velocity_{dimension.value}_{window.value}"


VELOCITY_FEATURES: tuple[str, ...] = tuple(
    velocity_feature_name(dimension, window)
    for dimension in VelocityDimension
    for window in VelocityWindow
)
"""Feature names written by `VelocityIndex.features`, in order (5 dimensions × 3 windows)."""

_WINDOWS_BY_DIMENSION: dict[VelocityDimension, tuple[tuple[str, timedelta], ...]] = {
    dimension: tuple(
        (velocity_feature_name(dimension, window), _DURATIONS[window]) for window in VelocityWindow
    )
    for dimension in VelocityDimension
}


@dataclass(frozen=True, slots=True)
class ApplicationEvent:
    """One application: when it was made and the hashed identifiers it was made with."""

    at: datetime
    identifiers: HashedIdentifiers


class VelocityIndex:
    """Application times per (dimension, hashed key), each list kept sorted.

    A window of length w ending at `as_of` is the half-open interval (as_of − w, as_of]: an
    application at exactly `as_of` counts, one exactly w earlier does not, later ones never.
    """

    def __init__(self, events: Iterable[ApplicationEvent] = ()) -> None:
        self._times: dict[VelocityDimension, dict[str, list[datetime]]] = {
            dimension: {} for dimension in VelocityDimension
        }
        self._count = 0
        self.add_many(events)

    def __len__(self) -> int:
        """The number of applications recorded."""
        return self._count

    def add(self, event: ApplicationEvent) -> None:
        """Record one application (in any time order)."""
        at = check_datetime("at", event.at)
        for dimension, by_key in self._times.items():
            key = dimension.key_of(event.identifiers)
            if key is None:
                continue
            times = by_key.get(key)
            if times is None:
                by_key[key] = [at]
            elif times[-1] <= at:
                times.append(at)
            else:
                insort(times, at)
        self._count += 1

    def add_many(self, events: Iterable[ApplicationEvent]) -> None:
        """Record many applications: appended, then each touched list sorted once."""
        touched: set[tuple[VelocityDimension, str]] = set()
        for event in events:
            at = check_datetime("at", event.at)
            for dimension, by_key in self._times.items():
                key = dimension.key_of(event.identifiers)
                if key is not None:
                    by_key.setdefault(key, []).append(at)
                    touched.add((dimension, key))
            self._count += 1
        for dimension, key in touched:
            self._times[dimension][key].sort()

    def count(
        self,
        dimension: VelocityDimension,
        key: str,
        as_of: datetime,
        window: VelocityWindow | timedelta,
    ) -> int:
        """Applications with this hashed `key` in (as_of − window, as_of]."""
        duration = window.duration if isinstance(window, VelocityWindow) else window
        if not isinstance(duration, timedelta) or duration <= timedelta(0):
            raise InvalidValue("window", window, "must be a positive duration", "必须是正时长")
        times = self._times[dimension].get(key)
        if not times:
            return 0
        return bisect_right(times, as_of) - bisect_right(times, as_of - duration)

    def features(self, identifiers: HashedIdentifiers, as_of: datetime) -> dict[str, int]:
        """`velocity_<dimension>_<window>` for every dimension and window (see
        `VELOCITY_FEATURES`); 0 for a dimension the application has no identifier for.

        Counts are of recorded applications: record the application being decided first
        so that it counts itself, as the default thresholds assume.
        """
        check_datetime("as_of", as_of)
        features: dict[str, int] = {}
        for dimension, by_key in self._times.items():
            key = dimension.key_of(identifiers)
            times = by_key.get(key) if key is not None else None
            windows = _WINDOWS_BY_DIMENSION[dimension]
            if not times:
                for name, _ in windows:
                    features[name] = 0
                continue
            end = bisect_right(times, as_of)
            for name, duration in windows:
                features[name] = end - bisect_right(times, as_of - duration, 0, end)
        return features
