"""Staff accounts and their login: argon2id passwords, a TOTP second factor (secret encrypted
with `PiiCipher` kind "totp"), lockout per account and client (`xindai.security.lockout`),
session tokens.

Failed and successful logins are audit entries (`staff.login_failed`, `staff.login`) that the
lockout counts; failures of unknown usernames are counted the same way, so that the answers
do not reveal which usernames exist. Once a second factor is active, no login (whatever the
role: the administrator's included) gets a session without a fresh code from it.

Second factor: `enrol_totp` (the current password, and the current code when one is active)
stores a new secret as pending; `confirm_totp` with a first code from it makes it active,
and until then the previous secret, if any, stays in force. `reset_totp` (the command line,
for a lost device) removes both; `unlock` forgets earlier failed logins. All audited.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xindai.errors import InvalidValue
from xindai.security import audit, lockout, totp
from xindai.security._support import db_time, lock_key
from xindai.security.errors import (
    LoginFailed,
    LoginLocked,
    ReauthFailed,
    SecurityError,
    StaffExists,
    StaffNotFound,
    TotpInvalid,
    TotpNotPending,
    TotpRequired,
)
from xindai.security.lockout import LOGIN_FAILED, LOGIN_OK, LockoutPolicy
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

LOGIN_LOCKED: Final = "staff.login_locked"
RESOURCE: Final = "staff_user"
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """When failed logins lock a client out of an account; staff token lifetime."""

    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)
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
    """Creates staff users and logs them in; `login`, `enrol_totp` and `confirm_totp` run
    their own transaction (a failure is recorded even though the call raises), the other
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
        must pass the policy; `with_totp` gives it an active second factor at once (the
        creating administrator hands the secret over)."""
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

    def _get(self, session: Session, staff_id: int, *, for_update: bool = False) -> StaffUser:
        query = select(StaffUser).where(StaffUser.id == staff_id)
        staff = session.scalars(query.with_for_update() if for_update else query).first()
        if staff is None:
            raise StaffNotFound(staff_id)
        return staff

    def _named(self, session: Session, username: str) -> StaffUser:
        name = (username or "").strip().lower()
        staff = session.scalars(
            select(StaffUser).where(StaffUser.username == name).with_for_update()
        ).first()
        if staff is None:
            raise StaffNotFound(name)
        return staff

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

    def unlock(self, session: Session, username: str, *, now: datetime, actor: str) -> int:
        """Forget the failed logins of `username` so far, from every client (audited);
        returns the staff id."""
        staff = self._named(session, username)
        staff.failures_cleared_at = db_time(now)
        audit.record(
            session,
            actor=actor,
            action="staff.unlock",
            resource=RESOURCE,
            resource_id=staff.id,
            at=now,
        )
        return staff.id

    def reset_totp(self, session: Session, username: str, *, now: datetime, actor: str) -> int:
        """Remove the second factor of `username` (active and pending) and end its sessions,
        e.g. for a lost device: the next login needs the password only and should enrol
        again. Audited; returns the staff id."""
        staff = self._named(session, username)
        had = {"active": staff.totp_secret_enc is not None, "pending": bool(staff.totp_pending_enc)}
        staff.totp_secret_enc = None
        staff.totp_pending_enc = None
        staff.totp_last_step = None
        revoke_all(session, SubjectKind.STAFF, staff.id)
        audit.record(
            session,
            actor=actor,
            action="staff.totp_reset",
            resource=RESOURCE,
            resource_id=staff.id,
            before=had,
            at=now,
        )
        return staff.id

    # ------------------------------------------------------------ second factor

    def enrol_totp(
        self,
        staff_id: int,
        *,
        password: str,
        code: str | None,
        now: datetime,
        ip: str | None = None,
    ) -> TotpEnrolment:
        """A new TOTP secret for the staff user, stored as pending (replacing an earlier
        pending one) until `confirm_totp`; the active secret, if any, stays in force.

        Needs the current `password` (`ReauthFailed`) and, when a second factor is active, a
        fresh `code` from it (`TotpRequired`, `TotpInvalid`): a stolen session alone cannot
        take the second factor over. Wrong ones count as failed logins of the account and
        client, and a locked client gets `LoginLocked`. Audited."""
        at = db_time(now)
        enrolment: TotpEnrolment | None = None
        with transaction(self._sessions) as session:
            staff = self._get(session, staff_id, for_update=True)
            lock_key(session, "staff-login", staff.username)
            error: SecurityError | None = self._locked(session, staff.username, staff, at, ip)
            if error is None:
                check = self._check_factors(session, staff, password, code, at)
                if check.reason == "wrong_password":
                    error = ReauthFailed()
                elif check.error is not None:
                    error = check.error
                if error is None:
                    if check.totp_step is not None:
                        staff.totp_last_step = check.totp_step
                    enrolment = self._new_enrolment(staff.username)
                    replaces = staff.totp_secret_enc is not None
                    staff.totp_pending_enc = self._cipher.encrypt(TOTP, enrolment.secret)
                    audit.record(
                        session,
                        actor=staff.username,
                        action="staff.totp_enrol",
                        resource=RESOURCE,
                        resource_id=staff.id,
                        ip=ip,
                        after={"pending": True, "replaces_active": replaces},
                        at=at,
                    )
                elif not isinstance(error, TotpRequired):
                    self._record_failure(
                        session, staff.username, staff.id, ip, f"reauth_{check.reason}", at
                    )
        if error is not None:
            raise error
        assert enrolment is not None
        return enrolment

    def confirm_totp(
        self, staff_id: int, code: str, *, now: datetime, ip: str | None = None
    ) -> None:
        """Make the pending secret the active second factor, given a first `code` from it
        (`TotpInvalid` otherwise, `TotpNotPending` when none waits); its time step is
        remembered, so that the same code cannot log in. Audited."""
        at = db_time(now)
        with transaction(self._sessions) as session:
            staff = self._get(session, staff_id, for_update=True)
            if not staff.totp_pending_enc:
                raise TotpNotPending()
            secret = self._cipher.decrypt(TOTP, staff.totp_pending_enc)
            step = totp.verify(secret, code, at)
            replaced = staff.totp_secret_enc is not None
            staff.totp_secret_enc = staff.totp_pending_enc
            staff.totp_pending_enc = None
            staff.totp_last_step = step
            audit.record(
                session,
                actor=staff.username,
                action="staff.totp_confirm",
                resource=RESOURCE,
                resource_id=staff.id,
                ip=ip,
                after={"replaced": replaced, "totp_step": step},
                at=at,
            )

    # ------------------------------------------------------------ login

    def login(
        self,
        username: str,
        password: str,
        totp_code: str | None,
        at: datetime,
        *,
        ip: str | None = None,
    ) -> StaffLogin:
        """A session token for valid credentials, or: `LoginLocked` while this client (`ip`)
        is locked out of the account (even with the right password; see
        `xindai.security.lockout`), `LoginFailed` for an unknown user, a wrong password or an
        inactive account alike, `TotpRequired` when the account has an active second factor
        and no code was given (not counted as a failure), `TotpInvalid` for a wrong or
        replayed code (counted). Every outcome is audited and committed."""
        now = db_time(at)
        name = (username or "").strip().lower()[:64]
        with transaction(self._sessions) as session:
            lock_key(session, "staff-login", name)
            staff = session.scalars(
                select(StaffUser).where(StaffUser.username == name).with_for_update()
            ).first()
            locked = self._locked(session, name, staff, now, ip)
            if locked is not None:
                attempt = _Attempt(locked)
            else:
                attempt = self._attempt(session, staff, password, totp_code, now)
                if attempt.login is not None:
                    audit.record(
                        session,
                        actor=name,
                        action=LOGIN_OK,
                        resource=RESOURCE,
                        resource_id=attempt.login.staff_id,
                        ip=ip,
                        after={"totp_step": attempt.totp_step},
                        at=now,
                    )
                elif not isinstance(attempt.error, TotpRequired):
                    staff_id = None if staff is None else staff.id
                    self._record_failure(session, name, staff_id, ip, attempt.reason, now)
        if attempt.login is None:
            raise attempt.error or LoginFailed()
        return attempt.login

    def _locked(
        self,
        session: Session,
        name: str,
        staff: StaffUser | None,
        now: datetime,
        ip: str | None,
    ) -> LoginLocked | None:
        """`LoginLocked` (audited) when the client of `ip` may not try `name` now."""
        policy = self.policy.lockout
        cleared = None if staff is None else staff.failures_cleared_at
        failures, successes = lockout.recorded_outcomes(
            session, name, now, policy, cleared_at=cleared
        )
        until = lockout.lock_until(lockout.client_key(ip), now, failures, successes, policy)
        if until is None:
            return None
        audit.record(session, actor=name, action=LOGIN_LOCKED, resource=RESOURCE, ip=ip, at=now)
        return LoginLocked(max(1, math.ceil((until - now).total_seconds())), until)

    def _record_failure(
        self,
        session: Session,
        name: str,
        staff_id: int | None,
        ip: str | None,
        reason: str,
        now: datetime,
    ) -> None:
        audit.record(
            session,
            actor=name,
            action=LOGIN_FAILED,
            resource=RESOURCE,
            resource_id=staff_id,
            ip=ip,
            after={"reason": reason},
            at=now,
        )

    def _attempt(
        self,
        session: Session,
        staff: StaffUser | None,
        password: str,
        totp_code: str | None,
        now: datetime,
    ) -> _Attempt:
        """One login attempt against the stored account, nothing audited yet."""
        if staff is None:
            burn_verification(password or "", hasher=self._hasher)
            return _Attempt(LoginFailed(), reason="unknown_user")
        check = self._check_factors(session, staff, password, totp_code, now)
        if check.error is not None:
            return check
        if check.totp_step is not None:
            staff.totp_last_step = check.totp_step
        issued = issue_token(
            session, SubjectKind.STAFF, staff.id, now=now, ttl=self.policy.token_ttl
        )
        login = StaffLogin(issued.token, issued.expires_at, staff.id, staff.username, staff.role)
        return _Attempt(None, login=login, totp_step=check.totp_step)

    def _check_factors(
        self,
        session: Session,
        staff: StaffUser,
        password: str,
        totp_code: str | None,
        now: datetime,
    ) -> _Attempt:
        """The password (rehashed when outdated), the account being active, and — when a
        second factor is active — a fresh code from it: `_Attempt(None, totp_step=…)` when
        all hold, else the error and its reason."""
        check = verify_password(staff.password_hash, password or "", hasher=self._hasher)
        if not check.valid:
            return _Attempt(LoginFailed(), reason="wrong_password")
        if not staff.active:
            return _Attempt(LoginFailed(), reason="inactive")
        step: int | None = None
        if staff.totp_secret_enc:  # a pending secret is no second factor yet
            if not (totp_code or "").strip():
                return _Attempt(TotpRequired(), reason="totp_required")
            secret = self._cipher.decrypt(TOTP, staff.totp_secret_enc)
            last_step = staff.totp_last_step
            if last_step is None:
                last_step = self._last_totp_step(session, staff.id)
            try:
                step = totp.verify(secret, totp_code or "", now, last_step=last_step)
            except TotpInvalid as error:
                # a replayed code answers like a wrong one; the audit keeps the difference
                return _Attempt(TotpInvalid(), reason=error.code.lower())
        if check.needs_rehash:
            staff.password_hash = hash_password(password, hasher=self._hasher)
        return _Attempt(None, totp_step=step)

    def _last_totp_step(self, session: Session, staff_id: int) -> int | None:
        """The time step of the last login's code, from the audit log: the replay guard of
        accounts whose `totp_last_step` was not kept yet (before migration 0002)."""
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


@dataclass(slots=True)
class _Attempt:
    error: SecurityError | None
    login: StaffLogin | None = None
    reason: str = ""
    totp_step: int | None = None
