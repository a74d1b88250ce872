"""Personal data at rest and on screen (SPEC §11): encryption bound to the kind, lookup
hashes shared with anti-fraud, masks, free-text redaction and the logging filter."""

from __future__ import annotations

import base64
import logging
import os
import stat
from pathlib import Path

import pytest

from xindai.risk.antifraud.identifiers import HashedIdentifiers, hash_identifier
from xindai.security.errors import PiiDecryptFailed, PiiKeyInvalid
from xindai.security.pii import (
    PiiCipher,
    PiiRedactingFilter,
    cipher_from_settings,
    development_cipher,
    mask,
    mask_card,
    mask_id,
    mask_name,
    mask_phone,
    new_key_text,
    redact,
)

KEY = bytes(range(32))
ID_NUMBER = "110101199003074573"  # valid GB 11643 check digit


@pytest.fixture
def cipher() -> PiiCipher:
    return PiiCipher(KEY)


def test_round_trip_of_each_kind(cipher: PiiCipher) -> None:
    for kind, value in [("phone", "13812345678"), ("id_number", ID_NUMBER), ("name", "欧阳娜娜")]:
        token = cipher.encrypt(kind, value)
        assert token.startswith("v1:")
        assert value not in token
        assert cipher.decrypt(kind, token) == value


def test_nonce_is_random_so_equal_values_give_different_tokens(cipher: PiiCipher) -> None:
    assert cipher.encrypt("phone", "13812345678") != cipher.encrypt("phone", "13812345678")


def test_a_token_of_one_kind_cannot_be_read_as_another(cipher: PiiCipher) -> None:
    token = cipher.encrypt("phone", "13812345678")
    with pytest.raises(PiiDecryptFailed) as caught:
        cipher.decrypt("id_number", token)
    assert caught.value.code == "PII_DECRYPT_FAILED"


@pytest.mark.parametrize("position", [3, 10, 20, -1])
def test_tampered_token_fails(cipher: PiiCipher, position: int) -> None:
    token = cipher.encrypt("card", "6222021234567890123")
    raw = bytearray(base64.urlsafe_b64decode(token[3:]))
    raw[position] ^= 0x01
    forged = "v1:" + base64.urlsafe_b64encode(bytes(raw)).decode()
    with pytest.raises(PiiDecryptFailed):
        cipher.decrypt("card", forged)


@pytest.mark.parametrize("token", ["", "v2:abcd", "v1:", "v1:!!!", "plain 13812345678"])
def test_malformed_tokens_fail(cipher: PiiCipher, token: str) -> None:
    with pytest.raises(PiiDecryptFailed):
        cipher.decrypt("phone", token)


def test_another_key_cannot_decrypt(cipher: PiiCipher) -> None:
    token = cipher.encrypt("phone", "13812345678")
    with pytest.raises(PiiDecryptFailed):
        PiiCipher(bytes(32)).decrypt("phone", token)


def test_from_config_accepts_base64_and_refuses_short_or_bad_keys() -> None:
    text = base64.b64encode(KEY).decode()
    token = PiiCipher.from_config(text).encrypt("phone", "13812345678")
    assert PiiCipher(KEY).decrypt("phone", token) == "13812345678"
    urlsafe = base64.urlsafe_b64encode(KEY).decode().rstrip("=")
    assert PiiCipher.from_config(urlsafe).decrypt("phone", token) == "13812345678"
    for bad in ["", "   ", base64.b64encode(b"short key").decode(), "not base64 at all!"]:
        with pytest.raises(PiiKeyInvalid) as caught:
            PiiCipher.from_config(bad)
        assert caught.value.code == "PII_KEY_INVALID"
    with pytest.raises(PiiKeyInvalid):
        PiiCipher(b"x" * 31)
    assert len(base64.b64decode(new_key_text())) == 32
    assert "secret" in repr(PiiCipher(KEY)) and str(KEY) not in repr(PiiCipher(KEY))


def test_development_key_is_created_once_private_and_reused(tmp_path: Path) -> None:
    first = development_cipher(tmp_path / "data")
    key_file = tmp_path / "data" / "pii-dev.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    token = first.encrypt("phone", "13812345678")
    assert development_cipher(tmp_path / "data").decrypt("phone", token) == "13812345678"
    assert cipher_from_settings("", tmp_path / "data").decrypt("phone", token) == "13812345678"
    configured = cipher_from_settings(base64.b64encode(KEY).decode(), tmp_path / "data")
    with pytest.raises(PiiDecryptFailed):
        configured.decrypt("phone", token)


def test_lookup_hash_is_stable_normalised_and_equals_anti_fraud_hash(cipher: PiiCipher) -> None:
    hashed = cipher.lookup_hash("phone", "13812345678")
    assert len(hashed) == 64
    for spelling in ["+86 138 1234 5678", "138-1234-5678", "0086 13812345678", " 13812345678 "]:
        assert cipher.lookup_hash("phone", spelling) == hashed
    assert cipher.lookup_hash("contact_phone", "13812345678") == hashed
    assert cipher.lookup_hash("id_number", "11010119900307457x") == cipher.lookup_hash(
        "id_number", "110101 19900307 457X"
    )
    assert cipher.lookup_hash("card", "13812345678") != hashed  # other domain
    assert PiiCipher(KEY).lookup_hash("phone", "13812345678") == hashed  # stable
    assert PiiCipher(bytes(32)).lookup_hash("phone", "13812345678") != hashed  # keyed
    assert hash_identifier("phone", "13812345678", cipher.lookup_key) == hashed
    assert HashedIdentifiers.from_raw(cipher.lookup_key, phone="+8613812345678").phone == hashed
    # the lookup key is not the encryption key material
    assert cipher.lookup_key != KEY and cipher.derive_key("otp") not in (KEY, cipher.lookup_key)


def test_masks() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert mask_id("110101199003074578") == "110101********4578"
    assert mask_id("11010119900307457x") == "110101********457X"
    assert mask_id("110101900307457") == "110101******457"
    assert mask_card("6222021234567890123") == "6222 **** **** 0123"
    assert mask_card("6222 0212 3456 7890") == "6222 **** **** 7890"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("张") == "*"
    assert mask_phone("") == "" and mask_name("") == ""
    assert mask("contact_phone", "13912345678") == "139****5678"
    assert mask("id_number", ID_NUMBER) == "110101********4573"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call 13812345678 now", "call 138****5678 now"),
        (
            "手机号13812345678，身份证110101199003074578",
            "手机号138****5678，身份证110101********4578",
        ),
        ("+86 138 1234 5678 called", "138****5678 called"),
        ("tel:138-1234-5678.", "tel:138****5678."),
        ("card 6222 0212 3456 7890 123 bound", "card 6222 **** **** 0123 bound"),
        ("card=6222021234567890123&x=1", "card=6222 **** **** 0123&x=1"),
        ("id 11010119900307457x.", "id 110101********457X."),
        ("id 110101 19900307 4573", "id 110101********4573"),
        ("2024-03-07 13812345678", "2024-03-07 138****5678"),
        ("loan 12345 13812345678", "loan 12345 138****5678"),
        ("paid 123456 fen on 2024-03-07 12:00:00", "paid 123456 fen on 2024-03-07 12:00:00"),
        ("ts 20240307120000 amount 99999999", "ts 20240307120000 amount 99999999"),
        ("", ""),
    ],
)
def test_redact_free_text(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_logging_filter_redacts_message_args_and_exceptions() -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("xindai.test.security.pii")
    logger.propagate = False
    handler = Keep()
    handler.addFilter(PiiRedactingFilter())
    logger.addHandler(handler)
    try:
        logger.warning("payout to card %s for %s", "6222021234567890123", "13812345678")
        try:
            raise ValueError("bad id 110101199003074573")
        except ValueError:
            logger.exception("failed for %s", "13812345678")
        logger.warning("bad args %s %s", "13812345678")  # must not raise
    finally:
        logger.removeHandler(handler)
    formatted = [logging.Formatter().format(record) for record in records]
    assert formatted[0] == "payout to card 6222 **** **** 0123 for 138****5678"
    assert "13812345678" not in formatted[1] and "110101199003074573" not in formatted[1]
    assert "110101********4573" in formatted[1] and "ValueError" in formatted[1]
    assert "13812345678" not in formatted[2]
