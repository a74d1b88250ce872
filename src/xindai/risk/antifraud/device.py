"""Device sharing (设备关联): how many distinct ID numbers used one device, and how many
distinct devices one ID number used, within a window ending at a given time.

Observations are kept as sorted times per (device, ID) pair in both directions, so a count is
one bisection per partner of the device (or ID), not a scan of the history.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from xindai.errors import InvalidValue
from xindai.risk.antifraud.identifiers import HashedIdentifiers, check_datetime, check_value_hash

DEFAULT_DEVICE_WINDOW = timedelta(days=30)
"""The default look-back of the device-sharing features."""

DEVICE_FEATURES: tuple[str, ...] = ("device_id_count", "id_device_count")
"""Feature names written by `DeviceIndex.features`, in order."""


@dataclass(frozen=True, slots=True)
class DeviceObservation:
    """ID number `id_number` (hash) was used on device `device` (hash) at time `at`."""

    at: datetime
    device: str
    id_number: str

    def __post_init__(self) -> None:
        check_datetime("at", self.at)
        check_value_hash("device", self.device)
        check_value_hash("id_number", self.id_number)


def _record(
    index: dict[str, dict[str, list[datetime]]], owner: str, partner: str, at: datetime
) -> None:
    times = index.setdefault(owner, {}).setdefault(partner, [])
    if not times or times[-1] <= at:
        times.append(at)
    else:
        insort(times, at)


def _partners_in_window(
    index: dict[str, dict[str, list[datetime]]], owner: str, start: datetime, end: datetime
) -> set[str]:
    # a partner counts when one of its times t satisfies start < t ≤ end
    return {
        partner
        for partner, times in index.get(owner, {}).items()
        if bisect_right(times, end) > bisect_right(times, start)
    }


def _check_window(window: timedelta) -> timedelta:
    if not isinstance(window, timedelta) or window <= timedelta(0):
        raise InvalidValue("window", window, "must be a positive duration", "必须是正时长")
    return window


class DeviceIndex:
    """Which ID numbers used which devices, and when.

    A window of length w ending at `as_of` is (as_of − w, as_of], as for velocity.
    """

    def __init__(self, observations: Iterable[DeviceObservation] = ()) -> None:
        self._ids_by_device: dict[str, dict[str, list[datetime]]] = {}
        self._devices_by_id: dict[str, dict[str, list[datetime]]] = {}
        self._count = 0
        self.add_many(observations)

    def __len__(self) -> int:
        """The number of observations recorded."""
        return self._count

    def add(self, observation: DeviceObservation) -> None:
        """Record one observation (in any time order)."""
        _record(self._ids_by_device, observation.device, observation.id_number, observation.at)
        _record(self._devices_by_id, observation.id_number, observation.device, observation.at)
        self._count += 1

    def add_many(self, observations: Iterable[DeviceObservation]) -> None:
        for observation in observations:
            self.add(observation)

    def ids_on_device(self, device: str, as_of: datetime, window: timedelta) -> set[str]:
        """The ID numbers (hashes) seen on `device` in (as_of − window, as_of]."""
        start = as_of - _check_window(window)
        return _partners_in_window(self._ids_by_device, device, start, as_of)

    def devices_of_id(self, id_number: str, as_of: datetime, window: timedelta) -> set[str]:
        """The devices (hashes) `id_number` was seen on in (as_of − window, as_of]."""
        start = as_of - _check_window(window)
        return _partners_in_window(self._devices_by_id, id_number, start, as_of)

    def features(
        self,
        identifiers: HashedIdentifiers,
        as_of: datetime,
        window: timedelta = DEFAULT_DEVICE_WINDOW,
    ) -> dict[str, int]:
        """`device_id_count`: distinct ID numbers on the application's device in the window;
        `id_device_count`: distinct devices of the application's ID number in the window.

        The application's own (device, ID) pair always counts, recorded or not, so a first
        application scores 1 and 1; a missing device (or ID) scores 0 on its feature.
        """
        check_datetime("as_of", as_of)
        device, id_number = identifiers.device, identifiers.id_number
        device_id_count = id_device_count = 0
        if device is not None:
            ids = self.ids_on_device(device, as_of, window)
            if id_number is not None:
                ids.add(id_number)
            device_id_count = len(ids)
        if id_number is not None:
            devices = self.devices_of_id(id_number, as_of, window)
            if device is not None:
                devices.add(device)
            id_device_count = len(devices)
        return {"device_id_count": device_id_count, "id_device_count": id_device_count}
