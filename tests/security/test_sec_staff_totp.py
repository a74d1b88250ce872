"""Enrolling, confirming and resetting a staff user's second factor, as an attacker with a
stolen session would try it: a new secret needs the current password (and the current code
once a factor is active), stays pending — the old factor in force — until a first code from
it confirms it; the administrator needs a code once a factor is active; `reset_totp` and
`unlock` are audited with the command line's actor."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xindai.security import totp
from xindai.security.errors import (
    AuthRequired,
    LoginFailed,
    LoginLocked,
    ReauthFailed,
    TotpInvalid,
    TotpNotPending,
    TotpRequired,
)
from xindai.security.pii import PiiCipher
from xindai.security.staff import StaffService
from xindai.security.tokens import authenticate
from xindai.store.db import transaction
from xindai.store.models_origination import AuditEvent, StaffUser

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
CIPHER = PiiCipher(bytes(range(32)))
T0 = datetime(2024, 3, 7, 9, 0, 0)
PASSWORD = "Correct-Horse-42"
IP = "198.51.100.7"


@pytest.fixture
def service(session_factory: sessionmaker[Session]) -> StaffService:
    return StaffService(session_factory, CIPHER, hasher=CHEAP)


def new_admin(service: StaffService, sessions: sessionmaker[Session]) -> int:
    with transaction(sessions) as session:
        return service.create(session, username="admin", password=PASSWORD, role="admin", now=T0).id


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def stored(sessions: sessionmaker[Session], staff_id: int) -> StaffUser:
    with sessions() as session:
        staff = session.get(StaffUser, staff_id)
        assert staff is not None
        return staff


def actions(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def enrolled(service: StaffService, staff_id: int, at: datetime) -> str:
    """An active second factor for `staff_id` (enrolled and confirmed at `at`): its secret."""
    secret = service.enrol_totp(staff_id, password=PASSWORD, code=None, now=at, ip=IP).secret
    service.confirm_totp(staff_id, totp.code_at(secret, at), now=at, ip=IP)
    return secret


def test_first_enrolment_needs_the_password_and_stays_pending_until_confirmed(
    service: StaffService, session_factory: sessionmaker[Session]
) -> None:
    admin = new_admin(service, session_factory)
    # a stolen session alone (no password) cannot enrol the thief's authenticator
    with pytest.raises(ReauthFailed) as refused:
        service.enrol_totp(admin, password="stolen-session", code=None, now=T0, ip=IP)
    assert refused.value.code == "REAUTH_FAILED"
    new = service.enrol_totp(admin, password=PASSWORD, code=None, now=T0, ip=IP)
    assert new.uri.startswith("otpauth://totp/") and new.secret not in repr(new)
    row = stored(session_factory, admin)
    assert row.totp_secret_enc is None and row.totp_pending_enc is not None
    assert new.secret not in row.totp_pending_enc
    # pending is no second factor yet: the password alone still logs in
    service.login("admin", PASSWORD, None, T0 + timedelta(seconds=1), ip=IP)
    with pytest.raises(TotpInvalid):
        service.confirm_totp(admin, wrong(totp.code_at(new.secret, T0)), now=T0, ip=IP)
    at = T0 + timedelta(seconds=5)
    code = totp.code_at(new.secret, at)
    service.confirm_totp(admin, code, now=at, ip=IP)
    row = stored(session_factory, admin)
    assert row.totp_pending_enc is None and CIPHER.decrypt("totp", row.totp_secret_enc or "") == (
        new.secret
    )
    with pytest.raises(TotpNotPending):
        service.confirm_totp(admin, code, now=at, ip=IP)
    # the administrator now needs a code; the one that confirmed is spent
    with pytest.raises(TotpRequired):
        service.login("admin", PASSWORD, None, at, ip=IP)
    with pytest.raises(TotpInvalid):
        service.login("admin", PASSWORD, code, at + timedelta(seconds=1), ip=IP)
    later = at + timedelta(seconds=30)
    service.login("admin", PASSWORD, totp.code_at(new.secret, later), later, ip=IP)
    assert [a for a in actions(session_factory) if a.startswith("staff.totp")] == [
        "staff.totp_enrol",
        "staff.totp_confirm",
    ]


def test_reenrolling_needs_the_current_code_and_the_old_factor_holds_until_confirmed(
    service: StaffService, session_factory: sessionmaker[Session]
) -> None:
    admin = new_admin(service, session_factory)
    old = enrolled(service, admin, T0)
    at = T0 + timedelta(minutes=1)
    # with the password only (a stolen session plus a phished password): refused
    with pytest.raises(TotpRequired):
        service.enrol_totp(admin, password=PASSWORD, code=None, now=at, ip=IP)
    with pytest.raises(TotpInvalid):
        service.enrol_totp(admin, password=PASSWORD, code=wrong(totp.code_at(old, at)), now=at)
    new = service.enrol_totp(
        admin, password=PASSWORD, code=totp.code_at(old, at), now=at, ip=IP
    ).secret
    # until confirmed, the old factor logs in and the new one does not
    at2 = at + timedelta(seconds=30)
    with pytest.raises(TotpInvalid):
        service.login("admin", PASSWORD, totp.code_at(new, at2), at2, ip=IP)
    service.login("admin", PASSWORD, totp.code_at(old, at2), at2, ip=IP)
    # a code of the old secret does not confirm the new one
    with pytest.raises(TotpInvalid):
        service.confirm_totp(admin, totp.code_at(old, at2 + timedelta(seconds=30)), now=at2)
    at3 = at2 + timedelta(seconds=60)
    service.confirm_totp(admin, totp.code_at(new, at3), now=at3, ip=IP)
    at4 = at3 + timedelta(seconds=30)
    with pytest.raises(TotpInvalid):
        service.login("admin", PASSWORD, totp.code_at(old, at4), at4, ip=IP)
    service.login("admin", PASSWORD, totp.code_at(new, at4), at4, ip=IP)


def test_a_second_enrolment_replaces_the_pending_secret(
    service: StaffService, session_factory: sessionmaker[Session]
) -> None:
    admin = new_admin(service, session_factory)
    first = service.enrol_totp(admin, password=PASSWORD, code=None, now=T0).secret
    second = service.enrol_totp(admin, password=PASSWORD, code=None, now=T0).secret
    with pytest.raises(TotpInvalid):
        service.confirm_totp(admin, totp.code_at(first, T0), now=T0)
    service.confirm_totp(admin, totp.code_at(second, T0), now=T0)


def test_wrong_passwords_and_codes_at_enrolment_count_towards_the_lockout(
    service: StaffService, session_factory: sessionmaker[Session]
) -> None:
    admin = new_admin(service, session_factory)
    for second in range(5):
        with pytest.raises(ReauthFailed):
            service.enrol_totp(
                admin, password="guess", code=None, now=T0 + timedelta(seconds=second), ip=IP
            )
    with pytest.raises(LoginLocked):
        service.enrol_totp(
            admin, password=PASSWORD, code=None, now=T0 + timedelta(seconds=6), ip=IP
        )
    with pytest.raises(LoginLocked):
        service.login("admin", PASSWORD, None, T0 + timedelta(seconds=7), ip=IP)
    with session_factory() as session:
        reasons = list(
            session.scalars(
                select(AuditEvent.after).where(AuditEvent.action == "staff.login_failed")
            )
        )
    assert reasons == ['{"reason": "reauth_wrong_password"}'] * 5
    assert stored(session_factory, admin).totp_pending_enc is None


def test_an_admin_with_a_second_factor_cannot_log_in_without_a_valid_code(
    service: StaffService, session_factory: sessionmaker[Session]
) -> None:
    admin = new_admin(service, session_factory)
    secret = enrolled(service, admin, T0)
    at = T0 + timedelta(minutes=2)
    for code in (None, "", "   ", "12345", "abcdef", wrong(totp.code_at(secret, at))):
        with pytest.raises((TotpRequired, TotpInvalid)):
            service.login("admin", PASSWORD, code, at, ip="203.0.113.1")
    # a code from three steps ago (outside the ±1 window) is refused too
    stale = totp.code_at(secret, at - timedelta(seconds=90))
    with pytest.raises(TotpInvalid):
        service.login("admin", PASSWORD, stale, at, ip="203.0.113.2")
    assert service.login("admin", PASSWORD, totp.code_at(secret, at), at, ip=IP).role == "admin"


def test_reset_totp_removes_both_secrets_ends_sessions_and_is_audited(
    service: StaffService, session_factory: sessionmaker[Session]
) -> None:
    admin = new_admin(service, session_factory)
    secret = enrolled(service, admin, T0)
    at = T0 + timedelta(minutes=1)
    session_token = service.login("admin", PASSWORD, totp.code_at(secret, at), at).token
    service.enrol_totp(
        admin,
        password=PASSWORD,
        code=totp.code_at(secret, at + timedelta(seconds=30)),
        now=at + timedelta(seconds=30),
    )
    with transaction(session_factory) as session:
        assert service.reset_totp(session, " ADMIN ", now=at, actor="cli:ops") == admin
    row = stored(session_factory, admin)
    assert (row.totp_secret_enc, row.totp_pending_enc, row.totp_last_step) == (None, None, None)
    with session_factory() as session, pytest.raises(AuthRequired):
        authenticate(session, session_token, now=at)
    service.login("admin", PASSWORD, None, at + timedelta(minutes=1))  # the password only
    with session_factory() as session:
        reset = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "staff.totp_reset")
        ).one()
    assert (reset.actor, reset.resource_id) == ("cli:ops", str(admin))
    assert reset.before == '{"active": true, "pending": true}'


def test_unlock_and_reset_of_an_unknown_user_are_refused(
    service: StaffService, session_factory: sessionmaker[Session]
) -> None:
    from xindai.security.errors import StaffNotFound

    with transaction(session_factory) as session, pytest.raises(StaffNotFound):
        service.unlock(session, "ghost", now=T0, actor="cli:ops")
    with transaction(session_factory) as session, pytest.raises(StaffNotFound):
        service.reset_totp(session, "ghost", now=T0, actor="cli:ops")
    with pytest.raises(LoginFailed):
        service.login("ghost", PASSWORD, None, T0)
