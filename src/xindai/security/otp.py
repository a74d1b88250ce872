"""Borrower SMS verification codes (SPEC §7 step 1) over the `otp_codes` table.

A code is 6 random digits, lives 5 minutes, allows 5 tries, can be re-sent after 60 s, and
each number and IP address gets a daily cap of codes (10 and 50 by default). A new code
replaces the previous one of its number and purpose. Only keyed hashes are stored: the phone
as `hash_identifier("phone", …)` and the code as an HMAC bound to that phone and purpose.
Time comes from the injected clock (naive local times, as the database stores them); the
"day" of the caps is the clock's calendar day.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Final

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from xindai.errors import InvalidValue
from xindai.risk.antifraud.identifiers import hash_identifier, normalise_identifier
from xindai.security._support import db_time, lock_key
from xindai.security.errors import (
    OtpDailyLimit,
    OtpError,
    OtpExpired,
    OtpInvalid,
    OtpNotFound,
    OtpResendTooSoon,
    OtpTooManyTries,
    PhoneInvalid,
)
from xindai.security.pii import mask_phone
from xindai.store.db import transaction
from xindai.store.models_origination import OtpCode

CODE_DIGITS: Final = 6
LOGIN, CARD = "login", "card"  # the purposes the platform uses; any short name is accepted
_PURPOSE = re.compile(r"[a-z][a-z0-9_]{0,15}")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_PHONE_SPELLING = re.compile(r"\+?[0-9][0-9 ().-]*")  # digits and the usual separators


@dataclass(frozen=True, slots=True)
class OtpLimits:
    """The SMS-code rules; the daily caps are configuration (XINDAI_OTP_DAILY_PER_PHONE,
    XINDAI_OTP_DAILY_PER_IP)."""

    lifetime: timedelta = timedelta(minutes=5)
    max_tries: int = 5
    resend_after: timedelta = timedelta(seconds=60)
    daily_per_phone: int = 10
    daily_per_ip: int = 50

    def __post_init__(self) -> None:
        for name in ("max_tries", "daily_per_phone", "daily_per_ip"):
            if getattr(self, name) < 1:
                raise InvalidValue(name, getattr(self, name), "must be at least 1", "至少为 1")
        for name in ("lifetime", "resend_after"):
            if getattr(self, name) <= timedelta(0):
                raise InvalidValue(name, getattr(self, name), "must be positive", "必须为正")


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """A code to send by SMS (never stored in clear), when it expires and when the next
    one may be requested."""

    code: str
    expires_at: datetime
    resend_at: datetime

    def __repr__(self) -> str:  # keep the code out of logs and tracebacks
        return f"IssuedCode(code='******', expires_at={self.expires_at!r})"


def mobile_number(phone: str) -> str:
    """The 11-digit mainland mobile number in `phone` (`+86 138-1234-5678` → `13812345678`),
    or `PhoneInvalid`."""
    if not isinstance(phone, str) or _PHONE_SPELLING.fullmatch(phone.strip()) is None:
        raise PhoneInvalid(mask_phone(str(phone or "")))
    national = normalise_identifier("phone", phone)
    if _MOBILE.fullmatch(national) is None:
        raise PhoneInvalid(mask_phone(national))
    return national


class OtpService:
    """Issues and verifies SMS codes; every call is one database transaction.

    `hasher_key` keys the phone and code hashes (e.g. `PiiCipher.lookup_key`, so that the
    stored phone hash equals `Borrower.mobile_hash`); `clock` gives the current time."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        hasher_key: bytes,
        *,
        clock: Callable[[], datetime],
        limits: OtpLimits | None = None,
    ):
        if not isinstance(hasher_key, bytes) or len(hasher_key) < 16:
            raise InvalidValue(
                "hasher_key", "<secret>", "must be at least 16 bytes", "至少 16 字节"
            )
        self._sessions = session_factory
        self._key = hasher_key
        self._clock = clock
        self.limits = limits or OtpLimits()

    # ------------------------------------------------------------ hashing

    def target_hash(self, phone: str) -> str:
        """The stored hash of a mobile number (normalised first)."""
        return hash_identifier("phone", mobile_number(phone), self._key)

    def _code_hash(self, purpose: str, target_hash: str, code: str) -> str:
        message = f"otp:v1:{purpose}:{target_hash}:{code}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    @staticmethod
    def _purpose(purpose: str) -> str:
        if not isinstance(purpose, str) or _PURPOSE.fullmatch(purpose) is None:
            raise InvalidValue(
                "purpose",
                purpose,
                "must be a short lower-case name like 'login'",
                "必须是形如 'login' 的名称",
            )
        return purpose

    @staticmethod
    def _latest(session: Session, purpose: str, target_hash: str) -> OtpCode | None:
        return session.scalars(
            select(OtpCode)
            .where(OtpCode.purpose == purpose, OtpCode.target_hash == target_hash)
            .order_by(OtpCode.created_at.desc(), OtpCode.id.desc())
            .limit(1)
        ).first()

    # ------------------------------------------------------------ issue

    def issue(self, purpose: str, phone: str, ip: str | None) -> IssuedCode:
        """A new code for `phone` (the caller sends it through the SMS gateway); the previous
        code of this number and purpose stops working. Raises `OtpResendTooSoon` within the
        resend interval (per number and purpose), `OtpDailyLimit` when the number's or the IP
        address's codes of the calendar day (all purposes) reach their cap, `PhoneInvalid`."""
        purpose = self._purpose(purpose)
        target = self.target_hash(phone)
        address = normalise_identifier("ip", ip) if ip else None
        limits = self.limits
        now = db_time(self._clock())
        day_start = datetime.combine(now.date(), time())
        today = (
            OtpCode.created_at >= day_start,
            OtpCode.created_at < day_start + timedelta(days=1),
        )
        with transaction(self._sessions) as session:
            lock_key(session, "otp", target)
            previous = self._latest(session, purpose, target)
            if previous is not None:
                wait = previous.created_at + limits.resend_after - now
                if wait > timedelta(0):
                    raise OtpResendTooSoon(math.ceil(wait.total_seconds()))
            sent_to_phone = session.scalar(
                select(func.count())
                .select_from(OtpCode)
                .where(OtpCode.target_hash == target, *today)
            )
            if (sent_to_phone or 0) >= limits.daily_per_phone:
                raise OtpDailyLimit("phone", limits.daily_per_phone)
            if address is not None:
                sent_from_ip = session.scalar(
                    select(func.count()).select_from(OtpCode).where(OtpCode.ip == address, *today)
                )
                if (sent_from_ip or 0) >= limits.daily_per_ip:
                    raise OtpDailyLimit("ip", limits.daily_per_ip)
            session.execute(
                update(OtpCode)
                .where(
                    OtpCode.purpose == purpose,
                    OtpCode.target_hash == target,
                    OtpCode.consumed.is_(False),
                )
                .values(consumed=True)
            )
            code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
            expires_at = now + limits.lifetime
            session.add(
                OtpCode(
                    purpose=purpose,
                    target_hash=target,
                    code_hash=self._code_hash(purpose, target, code),
                    ip=address,
                    created_at=now,
                    expires_at=expires_at,
                    attempts=0,
                    consumed=False,
                )
            )
        return IssuedCode(code, expires_at, now + limits.resend_after)

    # ------------------------------------------------------------ verify

    def verify(self, purpose: str, phone: str, code: str) -> None:
        """Accept `code` for `phone` once, or raise: `OtpNotFound` (none pending: never sent,
        already used or replaced), `OtpExpired` (at or after 5 minutes), `OtpTooManyTries`
        (the 5 tries are used up, even for the right code), `OtpInvalid` (wrong; with the
        tries left). A wrong try is counted (committed) before the error is raised."""
        purpose = self._purpose(purpose)
        target = self.target_hash(phone)
        candidate = "".join(str(code or "").split())
        now = db_time(self._clock())
        error: OtpError | None = None
        with transaction(self._sessions) as session:
            lock_key(session, "otp", target)
            row = self._latest(session, purpose, target)
            if row is None or row.consumed:
                error = OtpNotFound()
            elif now >= row.expires_at:
                error = OtpExpired()
            elif row.attempts >= self.limits.max_tries:
                error = OtpTooManyTries()
            else:
                row.attempts += 1
                expected = self._code_hash(purpose, target, candidate)
                if hmac.compare_digest(expected, row.code_hash):
                    row.consumed = True
                else:
                    error = OtpInvalid(self.limits.max_tries - row.attempts)
        if error is not None:
            raise error

    def purge(self, before: datetime) -> int:
        """Delete codes created before `before` (housekeeping; keep at least today's rows,
        which the daily caps count). Returns the number deleted."""
        with transaction(self._sessions) as session:
            result = session.execute(delete(OtpCode).where(OtpCode.created_at < db_time(before)))
            return int(getattr(result, "rowcount", 0) or 0)
