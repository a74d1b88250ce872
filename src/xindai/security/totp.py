"""Time-based one-time passwords (RFC 6238: SHA-1, 6 digits, 30-second steps) for staff
second-factor login, with a ±1 step window and replay protection by time step.

Replay protection: `verify` returns the time step the code matched; the caller stores it
and passes it back as `last_step` next time, so that a code (or an older one) is never
accepted twice.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Final

import pyotp

from xindai.clock import LENDER_TZ
from xindai.security.errors import TotpInvalid, TotpReplayed

STEP_SECONDS: Final = 30
DIGITS: Final = 6
WINDOW: Final = 1  # steps accepted either side of the current one (clock drift)
ISSUER: Final = "Xindai"


def new_secret() -> str:
    """A fresh random secret: 32 base32 characters (160 bits, RFC 4226's recommendation)."""
    return pyotp.random_base32()


def provisioning_uri(username: str, secret: str, *, issuer: str = ISSUER) -> str:
    """The `otpauth://totp/...` URI an authenticator app scans as a QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=issuer
    )


def time_step(at: datetime) -> int:
    """The RFC 6238 counter of instant `at` (a naive time is the lender's local time, CST:
    see `xindai.clock`)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=LENDER_TZ)
    return int(at.timestamp()) // STEP_SECONDS


def code_at(secret: str, at: datetime) -> str:
    """The code an authenticator shows at `at` (for tests and enrolment checks)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(time_step(at))


def verify(secret: str, code: str, at: datetime, *, last_step: int | None = None) -> int:
    """The time step at which `code` is valid for `secret` at `at`, within ±1 step; raises
    `TotpInvalid` for a wrong or malformed code, and `TotpReplayed` when that step is not
    after `last_step` (the step of the last accepted code, which the caller remembers)."""
    candidate = "".join((code or "").split())
    if len(candidate) != DIGITS or not candidate.isdigit():
        raise TotpInvalid()
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now = time_step(at)
    matched: int | None = None
    for step in range(now - WINDOW, now + WINDOW + 1):  # compare all: no early exit on match
        if hmac.compare_digest(totp.generate_otp(step), candidate):
            matched = step  # the latest step wins if two share a code
    if matched is None:
        raise TotpInvalid()
    if last_step is not None and matched <= last_step:
        raise TotpReplayed()
    return matched
