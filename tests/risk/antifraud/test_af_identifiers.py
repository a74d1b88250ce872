"""Identifier normalisation and keyed hashing (anti-fraud, SPEC §7)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from xindai.errors import InvalidValue
from xindai.risk.antifraud import (
    BlacklistKind,
    HashedIdentifiers,
    IdentifierKind,
    hash_identifier,
    normalise_identifier,
)

KEY = b"test-key"


@pytest.mark.parametrize(
    ("kind", "raw", "normalised"),
    [
        ("id_number", " 11010119900307123x ", "11010119900307123X"),
        ("id_number", "110101 19900307 123X", "11010119900307123X"),
        ("phone", "138-0013-8000", "13800138000"),
        ("phone", "+86 138 0013 8000", "13800138000"),
        ("phone", "008613800138000", "13800138000"),
        ("phone", "(010) 6552-9988", "01065529988"),
        ("contact_phone", "+86-138-0013-8000", "13800138000"),
        ("card", "6222 0202 0000 1234 567", "6222020200001234567"),
        ("device", "  ABCD-ef01 ", "abcd-ef01"),
        ("ip", " 192.168.1.10 ", "192.168.1.10"),
        ("ip", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("ip", "::ffff:10.0.0.1", "10.0.0.1"),
    ],
)
def test_normalisation(kind: str, raw: str, normalised: str) -> None:
    assert normalise_identifier(kind, raw) == normalised


@pytest.mark.parametrize(
    ("kind", "raw"),
    [("phone", "--"), ("card", "abc"), ("id_number", "  "), ("ip", "300.1.1.1"), ("device", " ")],
)
def test_nothing_identifying_is_rejected(kind: str, raw: str) -> None:
    with pytest.raises(InvalidValue):
        normalise_identifier(kind, raw)


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(InvalidValue) as error:
        hash_identifier("email", "a@b.c", KEY)
    assert error.value.code == "INVALID_VALUE"


def test_hash_is_hmac_sha256_of_domain_and_normalised_value() -> None:
    expected = hmac.new(KEY, b"id_number:11010119900307123X", hashlib.sha256).hexdigest()
    assert hash_identifier(BlacklistKind.ID_NUMBER, "11010119900307123x", KEY) == expected
    assert hash_identifier(IdentifierKind.ID_NUMBER, "11010119900307123X", KEY) == expected


def test_spellings_of_one_identifier_hash_alike() -> None:
    spellings = ["13800138000", "138 0013 8000", "+86 138-0013-8000", "0086 13800138000"]
    assert len({hash_identifier("phone", s, KEY) for s in spellings}) == 1


def test_contact_phone_hashes_like_a_phone_but_card_does_not() -> None:
    phone = hash_identifier(BlacklistKind.PHONE, "13800138000", KEY)
    assert hash_identifier(BlacklistKind.CONTACT_PHONE, "138-0013-8000", KEY) == phone
    assert hash_identifier(BlacklistKind.CARD, "13800138000", KEY) != phone


def test_the_key_matters_and_must_not_be_empty() -> None:
    assert hash_identifier("phone", "13800138000", KEY) != hash_identifier(
        "phone", "13800138000", b"other-key"
    )
    with pytest.raises(InvalidValue):
        hash_identifier("phone", "13800138000", b"")


def test_hashed_identifiers_refuse_raw_values() -> None:
    with pytest.raises(InvalidValue):
        HashedIdentifiers(phone="13800138000")
    with pytest.raises(InvalidValue):
        HashedIdentifiers(contact_phones=("13800138000",))


def test_from_raw_hashes_every_identifier() -> None:
    ids = HashedIdentifiers.from_raw(
        KEY,
        id_number="11010119900307123x",
        phone="13800138000",
        device="DEV-1",
        ip="10.0.0.1",
        card="6222020200001234567",
        contact_phones=["13900139000", "+86 13700137000"],
    )
    assert ids.id_number == hash_identifier("id_number", "11010119900307123X", KEY)
    assert ids.device == hash_identifier("device", "dev-1", KEY)
    assert ids.contact_phones == (
        hash_identifier("phone", "13900139000", KEY),
        hash_identifier("phone", "13700137000", KEY),
    )
    assert HashedIdentifiers.from_raw(KEY).phone is None
