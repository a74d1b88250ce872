"""Staff accounts and their login: argon2id passwords, optional TOTP second factor (secret
encrypted with `PiiCipher` kind "totp"), lockout after repeated failures, session tokens.

Failed and successful logins are audit entries (`staff.login_failed`, `staff.login`); the
lockout counts the failures of a username in the trailing window since its last success,
and the TOTP replay guard reads the time step stored with the last success. Failures of
unknown usernames are counted the same way, so that the answers do not reveal which
usernames exist.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from xindai.errors import InvalidValue
from xindai.security import audit, totp
from xindai.security._support import db_time, lock_key
from xindai.security.errors import (
    LoginFailed,
    LoginLocked,
    SecurityError,
    StaffExists,
    StaffNotFound,
    TotpInvalid,
    TotpRequired,
)
from xindai.security.passwords import (
    DEFAULT_HASHER,
    burn_verification,
    check_password_policy,
    hash_password,
    verify_password,
)
from xindai.security.pii import TOTP, PiiCipher
from xindai.security.rbac import Scope, check_role
from xindai.security.tokens import STAFF_TTL, SubjectKind, issue_token, revoke_all
from xindai.store.db import transaction
from xindai.store.models_origination import AuditEvent, StaffUser

LOGIN_OK: Final = "staff.login"
LOGIN_FAILED: Final = "staff.login_failed"
LOGIN_LOCKED: Final = "staff.login_locked"
RESOURCE: Final = "staff_user"
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """Lockout after `max_failures` failed logins within `window`; staff token lifetime."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    token_ttl: timedelta = STAFF_TTL


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    """A new TOTP secret (show once, as a QR code of `uri`)."""

    secret: str
    uri: str

    def __repr__(self) -> str:
        return "TotpEnrolment(secret='…')"


@dataclass(frozen=True, slots=True)
class NewStaff:
    id: int
    username: str
    role: str
    totp: TotpEnrolment | None


@dataclass(frozen=True, slots=True)
class StaffLogin:
    """A successful login: the bearer token (shown once) and who it is for."""

    token: str
    expires_at: datetime
    staff_id: int
    username: str
    role: str

    def __repr__(self) -> str:
        return f"StaffLogin(staff_id={self.staff_id}, username={self.username!r}, token='…')"


def normalise_username(username: str) -> str:
    """Lower-cased and stripped; 3–64 of a-z 0-9 . _ - starting with a letter or digit."""
    name = (username or "").strip().lower()
    if _USERNAME.fullmatch(name) is None:
        raise InvalidValue(
            "username",
            username,
            "3–64 characters of a-z, 0-9, '.', '_', '-'",
            "须为 3–64 位小写字母、数字或 . _ -",
        )
    return name


class StaffService:
    """Creates staff users and logs them in; `login` runs its own transaction, the other
    methods join the caller's session."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        cipher: PiiCipher,
        *,
        policy: LoginPolicy | None = None,
        hasher: PasswordHasher = DEFAULT_HASHER,
    ):
        self._sessions = session_factory
        self._cipher = cipher
        self.policy = policy or LoginPolicy()
        self._hasher = hasher

    # ------------------------------------------------------------ accounts

    def create(
        self,
        session: Session,
        *,
        username: str,
        password: str,
        role: str,
        now: datetime,
        channel: str | None = None,
        with_totp: bool = False,
        actor: str = "system",
    ) -> NewStaff:
        """A new active staff user (audited). An agent needs its `channel`; the password
        must pass the policy; `with_totp` enrols a second factor at once."""
        name = normalise_username(username)
        if check_role(role).scope is Scope.OWN_CHANNEL and not channel:
            raise InvalidValue(
                "channel", channel, "an agent needs its channel", "代理商必须指定渠道"
            )
        check_password_policy(password, username=name)
        if session.scalar(select(StaffUser.id).where(StaffUser.username == name)) is not None:
            raise StaffExists(name)
        enrolment = self._new_enrolment(name) if with_totp else None
        staff = StaffUser(
            username=name,
            password_hash=hash_password(password, hasher=self._hasher),
            totp_secret_enc=self._cipher.encrypt(TOTP, enrolment.secret) if enrolment else None,
            role=role,
            channel=channel,
            active=True,
            created_at=db_time(now),
        )
        session.add(staff)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="staff.create",
            resource=RESOURCE,
            resource_id=staff.id,
            after=audit.snapshot(staff),
            at=now,
        )
        return NewStaff(staff.id, name, role, enrolment)

    def _new_enrolment(self, username: str) -> TotpEnrolment:
        secret = totp.new_secret()
        return TotpEnrolment(secret, totp.provisioning_uri(username, secret))

    def _get(self, session: Session, staff_id: int) -> StaffUser:
        staff = session.get(StaffUser, staff_id)
        if staff is None:
            raise StaffNotFound(staff_id)
        return staff

    def enrol_totp(
        self, session: Session, staff_id: int, *, now: datetime, actor: str = "system"
    ) -> TotpEnrolment:
        """A new TOTP secret for the staff user (replacing any previous one), audited."""
        staff = self._get(session, staff_id)
        enrolment = self._new_enrolment(staff.username)
        staff.totp_secret_enc = self._cipher.encrypt(TOTP, enrolment.secret)
        audit.record(
            session,
            actor=actor,
            action="staff.totp_enrol",
            resource=RESOURCE,
            resource_id=staff.id,
            at=now,
        )
        return enrolment

    def set_password(
        self,
        session: Session,
        staff_id: int,
        password: str,
        *,
        now: datetime,
        actor: str = "system",
    ) -> None:
        """Replace the password (policy checked) and end the user's sessions; audited."""
        staff = self._get(session, staff_id)
        check_password_policy(password, username=staff.username)
        staff.password_hash = hash_password(password, hasher=self._hasher)
        revoke_all(session, SubjectKind.STAFF, staff.id)
        audit.record(
            session,
            actor=actor,
            action="staff.password_set",
            resource=RESOURCE,
            resource_id=staff.id,
            at=now,
        )

    def deactivate(
        self, session: Session, staff_id: int, *, now: datetime, actor: str = "system"
    ) -> None:
        """Disable the account and end its sessions; audited."""
        staff = self._get(session, staff_id)
        before = audit.snapshot(staff)
        staff.active = False
        revoke_all(session, SubjectKind.STAFF, staff.id)
        audit.record(
            session,
            actor=actor,
            action="staff.deactivate",
            resource=RESOURCE,
            resource_id=staff.id,
            before=before,
            after=audit.snapshot(staff),
            at=now,
        )

    # ------------------------------------------------------------ login

    def _lockout_until(self, session: Session, username: str, at: datetime) -> datetime | None:
        """When the lock on `username` ends, or None when it is not locked at `at`: locked
        while `max_failures` failures recorded after its last success fall in the window."""
        last_success = session.scalar(
            select(func.max(AuditEvent.id)).where(
                AuditEvent.actor == username, AuditEvent.action == LOGIN_OK
            )
        )
        query = select(AuditEvent.at).where(
            AuditEvent.actor == username,
            AuditEvent.action == LOGIN_FAILED,
            AuditEvent.at > at - self.policy.window,
            AuditEvent.at <= at,
        )
        if last_success is not None:
            query = query.where(AuditEvent.id > last_success)
        failures = list(session.scalars(query.order_by(AuditEvent.at)))
        if len(failures) < self.policy.max_failures:
            return None
        # unlocked once fewer than max_failures remain in the trailing window
        return failures[len(failures) - self.policy.max_failures] + self.policy.window

    def _last_totp_step(self, session: Session, staff_id: int) -> int | None:
        after = session.scalar(
            select(AuditEvent.after)
            .where(
                AuditEvent.action == LOGIN_OK,
                AuditEvent.resource == RESOURCE,
                AuditEvent.resource_id == str(staff_id),
            )
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(1)
        )
        if not after:
            return None
        step = json.loads(after).get("totp_step")
        return step if isinstance(step, int) else None

    def login(
        self,
        username: str,
        password: str,
        totp_code: str | None,
        at: datetime,
        *,
        ip: str | None = None,
    ) -> StaffLogin:
        """A session token for valid credentials, or: `LoginLocked` after `max_failures`
        failures in the window (even with the right password), `LoginFailed` for an unknown
        user, a wrong password or an inactive account alike, `TotpRequired` when the account
        has TOTP and no code was given (not counted as a failure), `TotpInvalid` for a wrong
        or replayed code (counted). Every outcome is audited and committed."""
        now = db_time(at)
        name = (username or "").strip().lower()[:64]
        with transaction(self._sessions) as session:
            lock_key(session, "staff-login", name)
            until = self._lockout_until(session, name, now)
            if until is not None:
                audit.record(
                    session, actor=name, action=LOGIN_LOCKED, resource=RESOURCE, ip=ip, at=now
                )
                attempt = _Attempt(LoginLocked(max(1, _ceil_seconds(until - now)), until))
            else:
                attempt = self._attempt(session, name, password, totp_code, now)
                staff_id = None if attempt.staff is None else attempt.staff.id
                if attempt.login is not None:
                    audit.record(
                        session,
                        actor=name,
                        action=LOGIN_OK,
                        resource=RESOURCE,
                        resource_id=staff_id,
                        ip=ip,
                        after={"totp_step": attempt.totp_step},
                        at=now,
                    )
                elif not isinstance(attempt.error, TotpRequired):
                    audit.record(
                        session,
                        actor=name,
                        action=LOGIN_FAILED,
                        resource=RESOURCE,
                        resource_id=staff_id,
                        ip=ip,
                        after={"reason": attempt.reason},
                        at=now,
                    )
        if attempt.login is None:
            raise attempt.error or LoginFailed()
        return attempt.login

    def _attempt(
        self, session: Session, name: str, password: str, totp_code: str | None, now: datetime
    ) -> _Attempt:
        """One login attempt against the stored account, nothing audited yet."""
        staff = session.scalars(
            select(StaffUser).where(StaffUser.username == name).with_for_update()
        ).first()
        if staff is None:
            burn_verification(password or "", hasher=self._hasher)
            return _Attempt(LoginFailed(), reason="unknown_user")
        check = verify_password(staff.password_hash, password or "", hasher=self._hasher)
        if not check.valid:
            return _Attempt(LoginFailed(), reason="wrong_password", staff=staff)
        if not staff.active:
            return _Attempt(LoginFailed(), reason="inactive", staff=staff)
        step: int | None = None
        if staff.totp_secret_enc:
            if not (totp_code or "").strip():
                return _Attempt(TotpRequired(), reason="totp_required", staff=staff)
            secret = self._cipher.decrypt(TOTP, staff.totp_secret_enc)
            last_step = self._last_totp_step(session, staff.id)
            try:
                step = totp.verify(secret, totp_code or "", now, last_step=last_step)
            except TotpInvalid as error:
                # a replayed code answers like a wrong one; the audit keeps the difference
                return _Attempt(TotpInvalid(), reason=error.code.lower(), staff=staff)
        if check.needs_rehash:
            staff.password_hash = hash_password(password, hasher=self._hasher)
        issued = issue_token(
            session, SubjectKind.STAFF, staff.id, now=now, ttl=self.policy.token_ttl
        )
        login = StaffLogin(issued.token, issued.expires_at, staff.id, staff.username, staff.role)
        return _Attempt(None, login=login, staff=staff, totp_step=step)


@dataclass(slots=True)
class _Attempt:
    error: SecurityError | None
    login: StaffLogin | None = None
    reason: str = ""
    staff: StaffUser | None = None
    totp_step: int | None = None


def _ceil_seconds(delta: timedelta) -> int:
    return math.ceil(delta.total_seconds())
