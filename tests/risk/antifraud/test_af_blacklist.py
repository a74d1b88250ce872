"""Blacklist entries, expiry, contact phones and the blacklist features (SPEC §7)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from xindai.errors import InvalidValue
from xindai.risk.antifraud import (
    BlacklistEntry,
    BlacklistIndex,
    BlacklistKind,
    HashedIdentifiers,
    blacklist_features,
    hash_identifier,
)

KEY = b"test-key"
T0 = datetime(2026, 3, 1, 9, 0)
TICK = timedelta(microseconds=1)


def h(kind: str, value: str) -> str:
    return hash_identifier(kind, value, KEY)


def entry(kind: BlacklistKind, value: str, **changes: object) -> BlacklistEntry:
    fields: dict[str, object] = dict(
        kind=kind,
        value_hash=h(kind, value),
        reason="confirmed fraud",
        added_by="risk-ops",
        added_at=T0,
        expires_at=None,
    )
    fields.update(changes)
    return BlacklistEntry(**fields)


APPLICANT = HashedIdentifiers.from_raw(
    KEY,
    id_number="11010119900307123X",
    phone="13800138000",
    device="dev-1",
    ip="10.0.0.1",
    card="6222020200001234567",
    contact_phones=["13900139000", "13700137000"],
)


def test_expiry_boundary_is_half_open() -> None:
    index = BlacklistIndex(
        [entry(BlacklistKind.ID_NUMBER, "11010119900307123x", expires_at=T0 + timedelta(days=30))]
    )
    end = T0 + timedelta(days=30)
    assert index.check(APPLICANT, T0 - TICK) == []  # not yet added
    assert [hit.kind for hit in index.check(APPLICANT, T0)] == [BlacklistKind.ID_NUMBER]
    assert len(index.check(APPLICANT, end - TICK)) == 1
    assert index.check(APPLICANT, end) == []  # expired exactly at expires_at


def test_each_identifier_is_checked_against_its_own_list() -> None:
    index = BlacklistIndex(
        [
            entry(BlacklistKind.DEVICE, "DEV-1"),
            entry(BlacklistKind.CARD, "6222 0202 0000 1234 567"),
            # the same digits on the phone list are not the card
            entry(BlacklistKind.PHONE, "6222020200001234567"),
        ]
    )
    hits = index.check(APPLICANT, T0)
    assert [hit.kind for hit in hits] == [BlacklistKind.DEVICE, BlacklistKind.CARD]
    assert blacklist_features(hits) == {
        "blacklist_id_hit": False,
        "blacklist_phone_hit": False,
        "blacklist_device_hit": True,
        "blacklist_card_hit": True,
        "blacklist_contact_hit": False,
        "blacklist_hit_count": 2,
    }


def test_a_contact_phone_is_checked_against_the_phone_list() -> None:
    index = BlacklistIndex([entry(BlacklistKind.PHONE, "+86 139 0013 9000")])
    hits = index.check(APPLICANT, T0)
    assert [(hit.kind, hit.value_hash) for hit in hits] == [
        (BlacklistKind.CONTACT_PHONE, h("phone", "13900139000"))
    ]
    features = blacklist_features(hits)
    assert features["blacklist_contact_hit"] is True
    assert features["blacklist_phone_hit"] is False
    assert hits[0].reason_code == "AF_BLACKLIST_CONTACT"


def test_contact_list_matches_contacts_only() -> None:
    index = BlacklistIndex(
        [
            entry(BlacklistKind.CONTACT_PHONE, "13800138000"),
            entry(BlacklistKind.CONTACT_PHONE, "13700137000"),
        ]
    )
    hits = index.check(APPLICANT, T0)
    # the applicant's own phone 13800138000 is not on the phone list
    assert [hit.kind for hit in hits] == [BlacklistKind.CONTACT_PHONE]
    assert hits[0].value_hash == h("phone", "13700137000")


def test_own_phone_hit_and_several_entries_make_one_hit() -> None:
    index = BlacklistIndex(
        [
            entry(BlacklistKind.PHONE, "13800138000", reason="second", added_at=T0 + TICK),
            entry(BlacklistKind.PHONE, "13800138000", reason="first"),
            entry(
                BlacklistKind.PHONE,
                "13800138000",
                reason="expired",
                added_at=T0 - timedelta(days=9),
                expires_at=T0 - timedelta(days=1),
            ),
        ]
    )
    hits = index.check(APPLICANT, T0 + TICK)
    assert len(hits) == 1 and hits[0].kind is BlacklistKind.PHONE
    assert hits[0].reasons == ("first", "second")
    assert blacklist_features(hits)["blacklist_hit_count"] == 1
    assert len(index) == 3
    assert len(index.entries(BlacklistKind.PHONE, h("phone", "13800138000"))) == 3


def test_duplicate_contacts_count_once_and_the_count_adds_up() -> None:
    applicant = HashedIdentifiers(
        id_number=APPLICANT.id_number,
        phone=APPLICANT.phone,
        contact_phones=(h("phone", "13900139000"),) * 2 + (h("phone", "13700137000"),),
    )
    index = BlacklistIndex(
        [
            entry(BlacklistKind.ID_NUMBER, "11010119900307123X"),
            entry(BlacklistKind.PHONE, "13800138000"),
            entry(BlacklistKind.PHONE, "13900139000"),
            entry(BlacklistKind.CONTACT_PHONE, "13700137000"),
        ]
    )
    hits = index.check(applicant, T0)
    assert [hit.kind for hit in hits] == [
        BlacklistKind.ID_NUMBER,
        BlacklistKind.PHONE,
        BlacklistKind.CONTACT_PHONE,
        BlacklistKind.CONTACT_PHONE,
    ]
    assert blacklist_features(hits)["blacklist_hit_count"] == 4


def test_no_identifiers_no_hits() -> None:
    index = BlacklistIndex([entry(BlacklistKind.PHONE, "13800138000")])
    assert index.check(HashedIdentifiers(), T0) == []
    assert blacklist_features([])["blacklist_hit_count"] == 0


def test_entries_must_hold_hashes_and_sane_times() -> None:
    with pytest.raises(InvalidValue):
        entry(BlacklistKind.PHONE, "x", value_hash="13800138000")
    with pytest.raises(InvalidValue):
        entry(BlacklistKind.PHONE, "13800138000", expires_at=T0)
    with pytest.raises(InvalidValue):
        entry(BlacklistKind.PHONE, "13800138000", added_at="2026-03-01")
    with pytest.raises(InvalidValue):
        BlacklistEntry(kind="ip", value_hash=h("phone", "1"), reason="", added_by="", added_at=T0)
    assert (
        BlacklistEntry(
            kind="card", value_hash=h("card", "1"), reason="", added_by="", added_at=T0
        ).kind
        is BlacklistKind.CARD
    )
