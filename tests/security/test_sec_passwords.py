"""Staff passwords: argon2id hashing, verification with rehash detection, and the policy."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from xindai.security.errors import PasswordPolicyError
from xindai.security.passwords import (
    check_password_policy,
    hash_password,
    verify_password,
)

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def test_hash_is_argon2id_salted_and_verifies() -> None:
    first = hash_password("correct horse 42")
    assert first.startswith("$argon2id$")
    assert first != hash_password("correct horse 42")  # random salt
    check = verify_password(first, "correct horse 42")
    assert check.valid and not check.needs_rehash
    assert not verify_password(first, "correct horse 43").valid
    assert not verify_password(first, "").valid


def test_outdated_parameters_ask_for_a_rehash() -> None:
    old = hash_password("correct horse 42", hasher=CHEAP)
    check = verify_password(old, "correct horse 42")
    assert check.valid and check.needs_rehash
    assert verify_password(old, "correct horse 42", hasher=CHEAP) == verify_password(
        hash_password("correct horse 42", hasher=CHEAP), "correct horse 42", hasher=CHEAP
    )


@pytest.mark.parametrize("stored", ["", "not a hash", "$argon2id$v=19$garbage"])
def test_a_malformed_stored_hash_is_a_mismatch(stored: str) -> None:
    assert not verify_password(stored, "correct horse 42").valid


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short1", "PASSWORD_TOO_SHORT"),
        ("123456789", "PASSWORD_TOO_SHORT"),
        ("1234567890", "PASSWORD_ALL_DIGITS"),
        ("138001380001", "PASSWORD_ALL_DIGITS"),
        ("x" * 257, "PASSWORD_TOO_LONG"),
        ("my-ZhangWei-pass", "PASSWORD_CONTAINS_USERNAME"),
    ],
)
def test_policy_refusals_are_typed(password: str, code: str) -> None:
    with pytest.raises(PasswordPolicyError) as caught:
        check_password_policy(password, username="zhangwei")
    assert caught.value.code == code
    assert password not in str(caught.value) and password not in caught.value.message_zh
    assert caught.value.message_zh != caught.value.message_en


# ("abcdefghij" and "1234567890a" were accepted before the common-password check: a
# sequence and a sequence with one letter are among the first guesses of any attacker)
@pytest.mark.parametrize(
    "password", ["correct-horse-battery-9", "blue-lamp-orbit-77", "密码是很长的一句话吧"]
)
def test_policy_accepts(password: str) -> None:
    check_password_policy(password, username="zhangwei")
