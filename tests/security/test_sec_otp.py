"""Borrower SMS codes (SPEC §7 step 1) on SQLite and PostgreSQL, driven by a fake clock:
6 digits, 5-minute life, 5 tries, resend after 60 s, daily caps per number and per IP, a new
code replaces the old one, only hashes stored."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xindai.errors import InvalidValue
from xindai.security import otp as otp_module
from xindai.security.errors import (
    OtpDailyLimit,
    OtpExpired,
    OtpInvalid,
    OtpNotFound,
    OtpResendTooSoon,
    OtpTooManyTries,
    PhoneInvalid,
)
from xindai.security.otp import OtpLimits, OtpService, mobile_number
from xindai.store.models_origination import OtpCode

KEY = b"otp-test-key-0123456789abcdef"
PHONE = "13812345678"
IP = "203.0.113.7"
START = datetime(2024, 3, 7, 9, 0, 0)


class FakeClock:
    def __init__(self, now: datetime = START):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(session_factory: sessionmaker[Session], clock: FakeClock) -> OtpService:
    return OtpService(session_factory, KEY, clock=clock)


@pytest.fixture
def scripted_codes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Make the next codes 111111, 222222, … so that tests never depend on chance."""
    values: list[int] = []

    class Script:
        @staticmethod
        def randbelow(_n: int) -> int:
            values.append((len(values) % 9 + 1) * 111111)
            return values[-1]

    monkeypatch.setattr(otp_module, "secrets", Script)
    yield values


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_issue_and_verify_once_with_only_hashes_stored(
    service: OtpService, session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    issued = service.issue("login", "+86 138-1234-5678", IP)
    assert len(issued.code) == 6 and issued.code.isdigit()
    assert issued.expires_at == START + timedelta(minutes=5)
    assert issued.resend_at == START + timedelta(seconds=60)
    assert issued.code not in repr(issued)
    with session_factory() as session:
        row = session.scalars(select(OtpCode)).one()
        stored = [str(getattr(row, c.key)) for c in OtpCode.__table__.columns]
    assert not any(issued.code in value for value in stored)
    assert not any(PHONE in value for value in stored)
    assert row.target_hash == service.target_hash(PHONE) and row.ip == IP
    clock.advance(seconds=30)
    service.verify("login", PHONE, issued.code)
    with pytest.raises(OtpNotFound) as caught:
        service.verify("login", PHONE, issued.code)  # used once only
    assert caught.value.code == "OTP_NOT_FOUND"
    with pytest.raises(OtpNotFound):
        service.verify("card", PHONE, issued.code)  # another purpose has no code


def test_expiry_at_exactly_five_minutes(service: OtpService, clock: FakeClock) -> None:
    first = service.issue("login", PHONE, IP)
    clock.advance(minutes=5, microseconds=-1)
    service.verify("login", PHONE, first.code)
    second = service.issue("login", PHONE, IP)
    clock.advance(minutes=5)
    with pytest.raises(OtpExpired) as caught:
        service.verify("login", PHONE, second.code)
    assert caught.value.code == "OTP_EXPIRED" and "过期" in caught.value.message_zh


def test_five_tries_then_even_the_right_code_is_refused(
    service: OtpService, clock: FakeClock
) -> None:
    issued = service.issue("login", PHONE, IP)
    for tries_left in (4, 3, 2, 1, 0):
        with pytest.raises(OtpInvalid) as caught:
            service.verify("login", PHONE, wrong(issued.code))
        assert caught.value.code == "OTP_INVALID" and caught.value.tries_left == tries_left
    with pytest.raises(OtpTooManyTries) as too_many:
        service.verify("login", PHONE, issued.code)
    assert too_many.value.code == "OTP_TOO_MANY_TRIES"
    # the fifth try may still be the right one
    clock.advance(seconds=60)
    again = service.issue("login", PHONE, IP)
    for _ in range(4):
        with pytest.raises(OtpInvalid):
            service.verify("login", PHONE, "abc")  # malformed input counts as a try
    service.verify("login", PHONE, again.code)


def test_resend_only_after_sixty_seconds(service: OtpService, clock: FakeClock) -> None:
    service.issue("login", PHONE, IP)
    clock.advance(seconds=59)
    with pytest.raises(OtpResendTooSoon) as caught:
        service.issue("login", PHONE, IP)
    assert caught.value.code == "OTP_RESEND_TOO_SOON" and caught.value.seconds_left == 1
    clock.advance(seconds=0.5)
    with pytest.raises(OtpResendTooSoon) as half:
        service.issue("login", "+8613812345678", IP)
    assert half.value.seconds_left == 1
    service.issue("card", PHONE, IP)  # another purpose has its own interval
    clock.advance(seconds=0.5)
    service.issue("login", PHONE, IP)


def test_a_new_code_invalidates_the_previous_one(
    service: OtpService, clock: FakeClock, scripted_codes: list[int]
) -> None:
    old = service.issue("login", PHONE, IP)
    clock.advance(seconds=60)
    new = service.issue("login", PHONE, IP)
    assert (old.code, new.code) == ("111111", "222222")
    with pytest.raises(OtpInvalid) as caught:
        service.verify("login", PHONE, old.code)
    assert caught.value.tries_left == 4
    service.verify("login", PHONE, new.code)


def test_daily_cap_per_number(service: OtpService, clock: FakeClock) -> None:
    for i in range(10):  # default cap, all purposes and IPs together
        service.issue("login" if i % 2 else "card", PHONE, f"198.51.100.{i}")
        clock.advance(seconds=60)
    with pytest.raises(OtpDailyLimit) as caught:
        service.issue("login", PHONE, "198.51.100.99")
    assert caught.value.code == "OTP_DAILY_LIMIT" and caught.value.scope == "phone"
    assert caught.value.limit == 10 and "10" in caught.value.message_zh
    service.issue("login", "13900000000", IP)  # other numbers are not affected
    clock.now = datetime(2024, 3, 8, 0, 0, 0)
    service.issue("login", PHONE, IP)  # a new day


def test_daily_cap_per_ip_and_configured_caps(
    session_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    service = OtpService(
        session_factory, KEY, clock=clock, limits=OtpLimits(daily_per_phone=2, daily_per_ip=3)
    )
    for i in range(3):
        service.issue("login", f"1390000000{i}", "::ffff:192.0.2.1")  # = 192.0.2.1
    with pytest.raises(OtpDailyLimit) as caught:
        service.issue("login", "13900000009", "192.0.2.1")
    assert caught.value.scope == "ip" and caught.value.limit == 3
    service.issue("login", "13900000009", "192.0.2.2")
    service.issue("login", "13900000008", None)  # no IP known: only the number's cap
    clock.advance(seconds=60)
    service.issue("login", "13900000008", None)
    clock.advance(seconds=60)
    with pytest.raises(OtpDailyLimit) as per_phone:
        service.issue("login", "13900000008", None)
    assert per_phone.value.scope == "phone" and per_phone.value.limit == 2
    assert OtpService(session_factory, KEY, clock=clock).limits == OtpLimits()
    assert (OtpLimits().daily_per_phone, OtpLimits().daily_per_ip) == (10, 50)


def test_bad_input_is_refused_before_touching_the_database() -> None:
    def no_database() -> Session:
        raise AssertionError("the database must not be used")

    service = OtpService(no_database, KEY, clock=FakeClock())  # type: ignore[arg-type]
    for phone in ["12345", "23812345678", "", "1381234567x8"]:
        with pytest.raises(PhoneInvalid) as caught:
            service.issue("login", phone, IP)
        assert caught.value.code == "PHONE_INVALID"
        assert "1381234567" not in str(caught.value)  # the number is masked in messages
    with pytest.raises(InvalidValue):
        service.issue("Login!", PHONE, IP)
    with pytest.raises(InvalidValue):
        service.issue("login", PHONE, "not an ip")
    with pytest.raises(InvalidValue):
        OtpService(no_database, b"short", clock=FakeClock())  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        OtpLimits(max_tries=0)
    assert mobile_number("0086 138 1234 5678") == PHONE


def test_concurrent_requests_take_turns(service: OtpService) -> None:
    """Eight simultaneous sends for one number: one code; eight wrong tries: five counted."""
    barrier = threading.Barrier(8)

    def send() -> str:
        barrier.wait()
        try:
            service.issue("login", PHONE, IP)
        except OtpResendTooSoon:
            return "too soon"
        return "sent"

    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(lambda _: send(), range(8)))
    assert outcomes == ["sent"] + ["too soon"] * 7

    def guess() -> str:
        barrier.wait()
        try:
            service.verify("login", PHONE, "abcdef")
        except (OtpInvalid, OtpTooManyTries) as error:
            return error.code
        return "accepted"

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(lambda _: guess(), range(8)))
    assert codes == ["OTP_INVALID"] * 5 + ["OTP_TOO_MANY_TRIES"] * 3
