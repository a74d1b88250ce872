"""Application velocity: window boundaries and a brute-force property (SPEC §7)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from xindai.risk.antifraud import (
    ApplicationEvent,
    HashedIdentifiers,
    VelocityDimension,
    VelocityIndex,
    VelocityWindow,
    hash_identifier,
)
from xindai.risk.antifraud.velocity import VELOCITY_FEATURES

KEY = b"test-key"
AS_OF = datetime(2026, 3, 1, 12, 0)
TICK = timedelta(microseconds=1)


def ids(n: int, *, device: int | None = None) -> HashedIdentifiers:
    return HashedIdentifiers(
        id_number=hash_identifier("id_number", f"ID{n}", KEY),
        phone=hash_identifier("phone", f"1380013{n:04d}", KEY),
        device=hash_identifier("device", f"dev-{n if device is None else device}", KEY),
        ip=hash_identifier("ip", "10.0.0.1", KEY),
        card=hash_identifier("card", f"62220202{n:04d}", KEY),
    )


def test_feature_names_cover_five_dimensions_and_three_windows() -> None:
    assert len(VELOCITY_FEATURES) == 15
    assert VELOCITY_FEATURES[:3] == ("velocity_id_1h", "velocity_id_24h", "velocity_id_7d")
    assert "velocity_device_24h" in VELOCITY_FEATURES
    assert VELOCITY_FEATURES[-1] == "velocity_card_7d"


def test_window_boundaries_exactly_at_1h_24h_7d() -> None:
    me = ids(1)
    offsets = [
        timedelta(0),  # at as_of: in every window
        timedelta(hours=1) - TICK,  # just inside 1 h
        timedelta(hours=1),  # exactly 1 h before: outside 1 h, inside 24 h
        timedelta(hours=24) - TICK,
        timedelta(hours=24),  # exactly 24 h before: outside 24 h
        timedelta(days=7) - TICK,
        timedelta(days=7),  # exactly 7 days before: outside every window
        -TICK,  # after as_of: never counted
    ]
    index = VelocityIndex(ApplicationEvent(at=AS_OF - offset, identifiers=me) for offset in offsets)
    features = index.features(me, AS_OF)
    assert features["velocity_id_1h"] == 2
    assert features["velocity_id_24h"] == 4
    assert features["velocity_id_7d"] == 6
    for dimension in ("phone", "device", "card"):
        assert features[f"velocity_{dimension}_24h"] == 4
    assert index.count(VelocityDimension.ID, me.id_number or "", AS_OF, VelocityWindow.WEEK) == 6
    assert index.count(VelocityDimension.ID, me.id_number or "", AS_OF, timedelta(days=30)) == 7


def test_shared_ip_counts_everybody_and_missing_identifiers_count_zero() -> None:
    index = VelocityIndex()
    for n in range(5):
        index.add(ApplicationEvent(at=AS_OF - timedelta(minutes=n), identifiers=ids(n)))
    features = index.features(ids(0), AS_OF)
    assert features["velocity_ip_1h"] == 5
    assert features["velocity_id_1h"] == 1
    empty = index.features(HashedIdentifiers(), AS_OF)
    assert list(empty) == list(VELOCITY_FEATURES)
    assert set(empty.values()) == {0}
    assert len(index) == 5


def test_device_shared_by_several_ids() -> None:
    index = VelocityIndex(
        ApplicationEvent(at=AS_OF - timedelta(hours=n), identifiers=ids(n, device=99))
        for n in range(5)
    )
    features = index.features(ids(0, device=99), AS_OF)
    assert features["velocity_device_1h"] == 1  # the one 1 h before is outside
    assert features["velocity_device_24h"] == 5
    assert features["velocity_id_24h"] == 1


MINUTES = 60 * 24 * 10


@settings(max_examples=60, deadline=None)
@given(
    events=st.lists(
        st.tuples(st.integers(0, MINUTES), st.integers(0, 3), st.integers(0, 2)), max_size=60
    ),
    queries=st.lists(st.integers(0, MINUTES), min_size=1, max_size=5),
    batch=st.booleans(),
)
def test_counts_equal_a_brute_force_count(
    events: list[tuple[int, int, int]], queries: list[int], batch: bool
) -> None:
    start = datetime(2026, 1, 1)
    recorded = [
        ApplicationEvent(at=start + timedelta(minutes=m), identifiers=ids(person, device=device))
        for m, person, device in events
    ]
    index = VelocityIndex()
    if batch:
        index.add_many(recorded)
    else:
        for event in recorded:
            index.add(event)
    for q in queries:
        as_of = start + timedelta(minutes=q)
        for person in range(4):
            me = ids(person, device=0)
            features = index.features(me, as_of)
            for window in VelocityWindow:
                lower = as_of - window.duration
                by_id = sum(
                    1
                    for e in recorded
                    if e.identifiers.id_number == me.id_number and lower < e.at <= as_of
                )
                by_device = sum(
                    1
                    for e in recorded
                    if e.identifiers.device == me.device and lower < e.at <= as_of
                )
                assert features[f"velocity_id_{window.value}"] == by_id
                assert features[f"velocity_device_{window.value}"] == by_device
                assert features[f"velocity_ip_{window.value}"] == sum(
                    1 for e in recorded if lower < e.at <= as_of
                )
