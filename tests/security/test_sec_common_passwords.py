"""Staff passwords are checked against the shipped list of common passwords and the rules an
attacker's cracking run applies to it first (case, digits and symbols around a word,
leetspeak, separators, repetitions, sequences, dates)."""

from __future__ import annotations

import pytest

from xindai.security.common_passwords import common_passwords, is_common
from xindai.security.errors import PasswordPolicyError, PasswordTooCommon
from xindai.security.passwords import check_password_policy

# what the demo, the tests and the README use must stay acceptable
IN_USE = [
    "correct-horse-battery-9",
    "Correct-Horse-42",
    "Another-Horse-43",
    "collector-pass-2026",
    "long-enough-pass",
    "correct horse 42",
]


def test_the_list_is_shipped_with_thousands_of_entries() -> None:
    listed = common_passwords()
    assert len(listed) >= 10_000
    for entry in ["123456", "password", "woaini1314", "qq123456", "5201314", "1qaz2wsx"]:
        assert entry in listed
    assert all(entry == entry.lower() and entry.strip() == entry for entry in listed)


@pytest.mark.parametrize(
    "password",
    [
        # listed as they are, in any case
        "qwertyuiop",
        "1qaz2wsx3edc",
        "woaini1314",
        "WoAiNi1314",
        "qq123456789",
        "zhangwei1990",
        "iloveyou520",
        "correcthorsebatterystaple",
        # a listed word with a weak decoration: few digits or symbols, sequences, dates
        "Password123",
        "Password2024!",
        "Admin@123456",
        "Xindai2026!!",
        "Liverpool1892",
        "dragon19901231",
        "sunshine1234567890",
        "monkey!!!!!!!!",
        "!!woaini-1314",
        # leetspeak and separators
        "P@ssw0rd2024!",
        "Pa$$w0rd!!",
        "Pass.Word.123",
        "p-a-s-s-w-o-r-d",
        "L1verpool99",
        # repetitions, sequences, keyboard walks, too few letters
        "aaaaaaaaaa",
        "abcabcabcabc",
        "abcdefghij",
        "!@#$%^&*()",
        "1234567890a",
        "abc-123456",
        "Zxcvbnm123",
        "1q2w3e4r5t6y",
    ],
)
def test_common_passwords_are_refused_with_their_own_code(password: str) -> None:
    assert is_common(password)
    with pytest.raises(PasswordTooCommon) as caught:
        check_password_policy(password, username="li.na")
    error = caught.value
    assert isinstance(error, PasswordPolicyError)  # the API's 422 with the field "password"
    assert error.code == "PASSWORD_TOO_COMMON"
    assert "too common" in error.message_en and "过于常见" in error.message_zh
    assert password not in str(error) and password not in error.message_zh


@pytest.mark.parametrize(
    "password",
    [
        *IN_USE,
        "blue-lamp-orbit-77",
        "Tr0ub4dor&3x",
        "xy#8392017",
        "dragon-738291-kite",
        "密码是很长的一句话吧",
        "wrong-password-1",
    ],
)
def test_uncommon_passwords_pass(password: str) -> None:
    assert not is_common(password)
    check_password_policy(password, username="li.na")


def test_the_other_rules_come_first() -> None:
    # a common password that breaks an earlier rule reports that rule
    with pytest.raises(PasswordPolicyError) as caught:
        check_password_policy("123456", username="li.na")
    assert caught.value.code == "PASSWORD_TOO_SHORT"
    with pytest.raises(PasswordPolicyError) as caught:
        check_password_policy("1234567890", username="li.na")
    assert caught.value.code == "PASSWORD_ALL_DIGITS"
