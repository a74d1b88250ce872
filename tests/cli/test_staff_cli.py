"""`xindai staff unlock` and `xindai staff reset-totp`: the recovery of a locked-out staff
user and of one who lost its authenticator, audited with the actor "cli:<os user>"."""

from __future__ import annotations

import getpass
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from xindai import clock
from xindai.cli import main
from xindai.security import totp
from xindai.security.errors import LoginFailed, LoginLocked, TotpRequired
from xindai.security.pii import PiiCipher
from xindai.security.staff import StaffService
from xindai.settings import Settings
from xindai.store import migrate
from xindai.store.db import make_engine, session_factory, transaction
from xindai.store.models_origination import AuditEvent, StaffUser

PASSWORD = "correct-horse-battery-9"
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.fixture
def staff(database_url: str, settings: Settings):  # type: ignore[no-untyped-def]
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    # the key the command uses: the current settings' (development key in tests)
    service = StaffService(sessions, PiiCipher(settings.key_bytes("pii")), hasher=CHEAP)
    with transaction(sessions) as session:
        created = service.create(
            session,
            username="admin",
            password=PASSWORD,
            role="admin",
            now=clock.now(),
            with_totp=True,
        )
    assert created.totp is not None
    yield service, sessions, created.totp.secret
    engine.dispose()


def test_unlock_clears_the_lockout_and_is_audited(
    capsys: pytest.CaptureFixture[str], database_url: str, staff
) -> None:  # type: ignore[no-untyped-def]
    service, sessions, secret = staff
    now = clock.now()
    for second in range(5):
        with pytest.raises(LoginFailed):
            service.login("admin", "wrong", None, now - timedelta(seconds=10 - second), ip="x")
    with pytest.raises(LoginLocked):
        service.login("admin", PASSWORD, totp.code_at(secret, now), now, ip="x")

    code, out, err = run(capsys, "staff", "unlock", "admin", "--database", database_url)
    assert (code, err) == (0, "")
    assert "Unlocked staff user admin" in out
    later = clock.now() + timedelta(seconds=1)
    service.login("admin", PASSWORD, totp.code_at(secret, later), later, ip="x")
    with sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.unlock")).one()
    assert event.actor == f"cli:{getpass.getuser()}"


def test_reset_totp_removes_the_second_factor_and_is_audited(
    capsys: pytest.CaptureFixture[str], database_url: str, staff
) -> None:  # type: ignore[no-untyped-def]
    service, sessions, _ = staff
    with pytest.raises(TotpRequired):
        service.login("admin", PASSWORD, None, clock.now())
    code, out, err = run(capsys, "staff", "reset-totp", "admin", "--database", database_url)
    assert (code, err) == (0, "")
    assert "Removed the second factor of staff user admin" in out
    assert service.login("admin", PASSWORD, None, clock.now()).role == "admin"
    with sessions() as session:
        row = session.scalars(select(StaffUser).where(StaffUser.username == "admin")).one()
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "staff.totp_reset")
        ).one()
    assert row.totp_secret_enc is None
    assert event.actor == f"cli:{getpass.getuser()}"


def test_an_unknown_user_is_one_line_and_status_2(
    capsys: pytest.CaptureFixture[str], database_url: str, staff
) -> None:  # type: ignore[no-untyped-def]
    for command in ("unlock", "reset-totp"):
        code, out, err = run(capsys, "staff", command, "ghost", "--database", database_url)
        assert code == 2 and out == ""
        assert err.strip() == "Error: staff user ghost does not exist"
