"""TOTP second factor: RFC 6238 codes, the ±1 step window and replay protection."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyotp
import pytest

from xindai.clock import LENDER_TZ
from xindai.security import totp
from xindai.security.errors import TotpInvalid, TotpReplayed

AT = datetime(2024, 3, 7, 10, 0, 15)


def test_secret_and_provisioning_uri() -> None:
    secret = totp.new_secret()
    assert len(secret) == 32 and secret != totp.new_secret()
    uri = totp.provisioning_uri("zhang.wei", secret)
    assert uri.startswith("otpauth://totp/Xindai:zhang.wei?") and f"secret={secret}" in uri


def test_codes_match_pyotp() -> None:
    """A naive time is the lender's local time (CST), whatever the host's zone."""
    secret = totp.new_secret()
    assert totp.code_at(secret, AT) == pyotp.TOTP(secret).at(AT.replace(tzinfo=LENDER_TZ))
    assert totp.code_at(secret, AT.replace(tzinfo=LENDER_TZ)) == totp.code_at(secret, AT)


@pytest.mark.parametrize("offset", [-30, 0, 30])
def test_window_of_one_step_either_side(offset: int) -> None:
    secret = totp.new_secret()
    code = totp.code_at(secret, AT + timedelta(seconds=offset))
    assert totp.verify(secret, code, AT) == totp.time_step(AT) + offset // 30


@pytest.mark.parametrize("offset", [-60, 60, 90])
def test_outside_the_window_is_refused(offset: int) -> None:
    secret = totp.new_secret()
    code = totp.code_at(secret, AT + timedelta(seconds=offset))
    if code in {totp.code_at(secret, AT + timedelta(seconds=s)) for s in (-30, 0, 30)}:
        pytest.skip("codes collided by chance")
    with pytest.raises(TotpInvalid) as caught:
        totp.verify(secret, code, AT)
    assert caught.value.code == "TOTP_INVALID"


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", None])
def test_malformed_codes_are_invalid(code: str | None) -> None:
    with pytest.raises(TotpInvalid):
        totp.verify(totp.new_secret(), code or "", AT)


def test_replay_of_the_same_or_an_older_step_is_refused() -> None:
    secret = totp.new_secret()
    code = totp.code_at(secret, AT)
    step = totp.verify(secret, code, AT)
    with pytest.raises(TotpReplayed) as caught:
        totp.verify(secret, code, AT + timedelta(seconds=5), last_step=step)
    assert caught.value.code == "TOTP_REPLAYED"
    assert isinstance(caught.value, TotpInvalid)
    previous = totp.code_at(secret, AT - timedelta(seconds=30))
    with pytest.raises(TotpReplayed):
        totp.verify(secret, previous, AT, last_step=step)
    following = totp.code_at(secret, AT + timedelta(seconds=30))
    assert totp.verify(secret, following, AT + timedelta(seconds=30), last_step=step) == step + 1
    assert totp.verify(secret, f" {code[:3]} {code[3:]} ", AT) == step  # spaces are ignored
