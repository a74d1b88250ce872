"""Staff accounts and login on SQLite and PostgreSQL: uniform failures, TOTP when enrolled
(required, wrong, replayed), rehash, audit. The lockout: test_sec_lockout.py; enrolling,
confirming and resetting the second factor: test_sec_staff_totp.py."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xindai.errors import InvalidValue
from xindai.security import audit, totp
from xindai.security.errors import (
    AuthRequired,
    LoginFailed,
    LoginLocked,
    PasswordPolicyError,
    StaffExists,
    TotpInvalid,
    TotpRequired,
)
from xindai.security.pii import PiiCipher
from xindai.security.staff import StaffService
from xindai.security.tokens import Subject, SubjectKind, authenticate
from xindai.store.db import transaction
from xindai.store.models_origination import AuditEvent, StaffUser

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
CIPHER = PiiCipher(bytes(range(32)))
T0 = datetime(2024, 3, 7, 9, 0, 0)
PASSWORD = "Correct-Horse-42"


@pytest.fixture
def service(session_factory: sessionmaker[Session]) -> StaffService:
    return StaffService(session_factory, CIPHER, hasher=CHEAP)


def create(service: StaffService, sessions: sessionmaker[Session], **values: object) -> int:
    fields: dict[str, object] = {"username": "li.na", "password": PASSWORD, "role": "risk"}
    fields.update(values)
    with transaction(sessions) as session:
        return service.create(session, now=T0, **fields).id  # type: ignore[arg-type]


def test_create_and_login_with_uniform_failures(
    service: StaffService, session_factory: sessionmaker[Session]
) -> None:
    staff_id = create(service, session_factory, username=" Li.Na ")
    with transaction(session_factory) as session:
        stored = session.get(StaffUser, staff_id)
        assert stored is not None and stored.username == "li.na"
        assert (
            stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
        )
        with pytest.raises(StaffExists):
            service.create(session, username="LI.NA", password=PASSWORD, role="risk", now=T0)
        with pytest.raises(PasswordPolicyError):
            service.create(session, username="wang", password="1234567890", role="risk", now=T0)
        with pytest.raises(InvalidValue):
            service.create(session, username="agent1", password=PASSWORD, role="agent", now=T0)
        with pytest.raises(InvalidValue):
            service.create(session, username="x1", password=PASSWORD, role="janitor", now=T0)

    login = service.login("LI.NA", PASSWORD, None, T0, ip="198.51.100.4")
    assert (login.staff_id, login.role, login.expires_at) == (
        staff_id,
        "risk",
        T0 + timedelta(hours=12),
    )
    assert login.token not in repr(login)
    with session_factory() as session:
        assert authenticate(session, login.token, now=T0) == Subject(SubjectKind.STAFF, staff_id)

    failures = []
    for username, password in [("li.na", "wrong-password"), ("nobody", PASSWORD), ("", "")]:
        with pytest.raises(LoginFailed) as caught:
            service.login(username, password, None, T0)
        failures.append((caught.value.code, caught.value.message_en, caught.value.message_zh))
    assert failures == [("LOGIN_FAILED", "wrong username or password", "用户名或密码错误")] * 3

    with transaction(session_factory) as session:
        service.deactivate(session, staff_id, now=T0)
    with session_factory() as session, pytest.raises(AuthRequired):
        authenticate(session, login.token, now=T0)  # sessions end with the account
    with pytest.raises(LoginFailed):
        service.login("li.na", PASSWORD, None, T0)
    with session_factory() as session:
        actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == [
        "staff.create",
        "staff.login",
        "staff.login_failed",
        "staff.login_failed",
        "staff.login_failed",
        "staff.deactivate",
        "staff.login_failed",
    ]


def test_totp_required_invalid_and_replayed(
    service: StaffService, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as session:
        created = service.create(
            session, username="admin.wu", password=PASSWORD, role="admin", now=T0, with_totp=True
        )
    assert created.totp is not None and created.totp.uri.startswith("otpauth://totp/")
    secret = created.totp.secret
    with session_factory() as session:
        stored = session.get(StaffUser, created.id)
        assert stored is not None and stored.totp_secret_enc is not None
        assert secret not in stored.totp_secret_enc
        assert CIPHER.decrypt("totp", stored.totp_secret_enc) == secret

    with pytest.raises(TotpRequired) as required:
        service.login("admin.wu", PASSWORD, None, T0)
    assert required.value.code == "TOTP_REQUIRED"
    with pytest.raises(LoginFailed):  # a wrong password never reaches the TOTP question
        service.login("admin.wu", "wrong-password", None, T0)
    code = totp.code_at(secret, T0)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(TotpInvalid) as invalid:
        service.login("admin.wu", PASSWORD, wrong, T0)
    assert invalid.value.code == "TOTP_INVALID"
    service.login("admin.wu", PASSWORD, code, T0 + timedelta(seconds=1))
    with pytest.raises(TotpInvalid) as replayed:
        service.login("admin.wu", PASSWORD, code, T0 + timedelta(seconds=2))
    assert replayed.value.code == "TOTP_INVALID"  # answered like a wrong code
    later = T0 + timedelta(seconds=30)
    service.login("admin.wu", PASSWORD, totp.code_at(secret, later), later)
    with session_factory() as session:
        reasons = [
            e.after
            for e in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "staff.login_failed")
                .order_by(AuditEvent.id)
            )
        ]
    assert reasons == [
        '{"reason": "wrong_password"}',
        '{"reason": "totp_invalid"}',
        '{"reason": "totp_replayed"}',
    ]

    # wrong TOTP codes count towards the lockout: the right password is no way around it
    wrong_later = f"{(int(totp.code_at(secret, later)) + 1) % 1_000_000:06d}"
    for i in range(5):
        with pytest.raises(TotpInvalid):
            service.login("admin.wu", PASSWORD, wrong_later, later + timedelta(seconds=i))
    fresh = later + timedelta(seconds=60)
    with pytest.raises(LoginLocked):
        service.login("admin.wu", PASSWORD, totp.code_at(secret, fresh), fresh)


def test_outdated_hash_is_upgraded_at_login_and_password_change_ends_sessions(
    session_factory: sessionmaker[Session],
) -> None:
    old = StaffService(session_factory, CIPHER, hasher=CHEAP)
    staff_id = create(old, session_factory)
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    new = StaffService(session_factory, CIPHER, hasher=stronger)
    login = new.login("li.na", PASSWORD, None, T0)
    with session_factory() as session:
        stored = session.get(StaffUser, staff_id)
        assert stored is not None and not stronger.check_needs_rehash(stored.password_hash)
    with transaction(session_factory) as session:
        new.set_password(session, staff_id, "Another-Horse-43", now=T0)
        assert [e.action for e in audit.events_for(session, "staff_user", staff_id)][-1] == (
            "staff.password_set"
        )
    with session_factory() as session, pytest.raises(AuthRequired):
        authenticate(session, login.token, now=T0)
    new.login("li.na", "Another-Horse-43", None, T0)
