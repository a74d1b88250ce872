"""Staff passwords: argon2id hashes (argon2-cffi's RFC 9106 defaults) and the password policy.

Hashes are self-describing (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), so that raising the cost
later only needs `verify_password(...).needs_rehash` and a new `hash_password` at next login.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from xindai.security.common_passwords import is_common
from xindai.security.errors import (
    PasswordAllDigits,
    PasswordContainsUsername,
    PasswordTooCommon,
    PasswordTooLong,
    PasswordTooShort,
)

MIN_LENGTH: Final = 10
MAX_LENGTH: Final = 256  # bounds the work an attacker can ask for per login attempt

DEFAULT_HASHER: Final = PasswordHasher()  # argon2id, t=3, m=64 MiB, p=4


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    """The outcome of `verify_password`: `valid`, and whether the stored hash should be
    replaced by `hash_password(password)` because its parameters are outdated."""

    valid: bool
    needs_rehash: bool = False


def check_password_policy(password: str, *, username: str | None = None) -> None:
    """Raise a `PasswordPolicyError` unless `password` has at least 10 and at most 256
    characters, is not digits only, does not contain `username` (case-insensitive) and is
    not common (`PasswordTooCommon`: see `xindai.security.common_passwords.is_common`)."""
    if len(password) < MIN_LENGTH:
        raise PasswordTooShort(MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        raise PasswordTooLong(MAX_LENGTH)
    if password.isdigit():
        raise PasswordAllDigits()
    if username and len(username) >= 3 and username.casefold() in password.casefold():
        raise PasswordContainsUsername()
    if is_common(password):
        raise PasswordTooCommon()


def hash_password(password: str, *, hasher: PasswordHasher = DEFAULT_HASHER) -> str:
    """The argon2id hash of `password` with a fresh random salt (policy not checked here)."""
    return hasher.hash(password)


def verify_password(
    password_hash: str, password: str, *, hasher: PasswordHasher = DEFAULT_HASHER
) -> PasswordCheck:
    """Whether `password` matches `password_hash`; a malformed hash is a mismatch."""
    if len(password) > MAX_LENGTH:
        return PasswordCheck(False)
    try:
        hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return PasswordCheck(False)
    return PasswordCheck(True, hasher.check_needs_rehash(password_hash))


def burn_verification(password: str, *, hasher: PasswordHasher = DEFAULT_HASHER) -> None:
    """Spend the time of one verification against a dummy hash, so that a login for an
    unknown user takes as long as one with a wrong password."""
    verify_password(_dummy_hash(hasher), password, hasher=hasher)


@lru_cache(maxsize=8)
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("xindai-no-such-user")
