"""Device sharing: distinct IDs per device and devices per ID within a window (SPEC §7)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from xindai.errors import InvalidValue
from xindai.risk.antifraud import DeviceIndex, DeviceObservation, HashedIdentifiers, hash_identifier

KEY = b"test-key"
AS_OF = datetime(2026, 3, 1, 12, 0)
WINDOW = timedelta(days=30)


def dev(n: int) -> str:
    return hash_identifier("device", f"dev-{n}", KEY)


def pid(n: int) -> str:
    return hash_identifier("id_number", f"ID{n}", KEY)


def test_distinct_ids_on_a_device_within_the_window() -> None:
    index = DeviceIndex(
        [
            DeviceObservation(at=AS_OF - timedelta(days=1), device=dev(1), id_number=pid(1)),
            DeviceObservation(at=AS_OF - timedelta(days=2), device=dev(1), id_number=pid(1)),
            DeviceObservation(at=AS_OF - timedelta(days=3), device=dev(1), id_number=pid(2)),
            # exactly 30 days before: outside the window
            DeviceObservation(at=AS_OF - WINDOW, device=dev(1), id_number=pid(3)),
            DeviceObservation(
                at=AS_OF - WINDOW + timedelta(seconds=1), device=dev(1), id_number=pid(4)
            ),
            # after as_of: not seen yet
            DeviceObservation(at=AS_OF + timedelta(seconds=1), device=dev(1), id_number=pid(5)),
            DeviceObservation(at=AS_OF - timedelta(days=5), device=dev(2), id_number=pid(1)),
        ]
    )
    assert index.ids_on_device(dev(1), AS_OF, WINDOW) == {pid(1), pid(2), pid(4)}
    assert index.devices_of_id(pid(1), AS_OF, WINDOW) == {dev(1), dev(2)}
    me = HashedIdentifiers(id_number=pid(1), device=dev(1))
    assert index.features(me, AS_OF, WINDOW) == {"device_id_count": 3, "id_device_count": 2}
    # a wider window reaches the older observation
    assert index.features(me, AS_OF, timedelta(days=31))["device_id_count"] == 4
    assert len(index) == 7


def test_the_application_counts_its_own_pair_recorded_or_not() -> None:
    index = DeviceIndex()
    newcomer = HashedIdentifiers(id_number=pid(7), device=dev(7))
    assert index.features(newcomer, AS_OF) == {"device_id_count": 1, "id_device_count": 1}
    index.add(DeviceObservation(at=AS_OF, device=dev(7), id_number=pid(7)))
    assert index.features(newcomer, AS_OF) == {"device_id_count": 1, "id_device_count": 1}
    index.add(DeviceObservation(at=AS_OF, device=dev(7), id_number=pid(8)))
    assert index.features(newcomer, AS_OF)["device_id_count"] == 2


def test_missing_device_or_id() -> None:
    index = DeviceIndex([DeviceObservation(at=AS_OF, device=dev(1), id_number=pid(2))])
    assert index.features(HashedIdentifiers(device=dev(1)), AS_OF) == {
        "device_id_count": 1,
        "id_device_count": 0,
    }
    assert index.features(HashedIdentifiers(id_number=pid(2)), AS_OF) == {
        "device_id_count": 0,
        "id_device_count": 1,
    }


def test_bad_input() -> None:
    with pytest.raises(InvalidValue):
        DeviceObservation(at=AS_OF, device="raw-device", id_number=pid(1))
    with pytest.raises(InvalidValue):
        DeviceIndex().ids_on_device(dev(1), AS_OF, timedelta(0))
