"""Bearer tokens of borrower and staff sessions: shown once, stored as SHA-256, expiry and
revocation, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xindai.errors import InvalidValue
from xindai.security.errors import AuthExpired, AuthRequired
from xindai.security.tokens import (
    BORROWER_TTL,
    STAFF_TTL,
    Subject,
    SubjectKind,
    authenticate,
    issue_token,
    purge_expired,
    revoke,
    revoke_all,
    token_hash,
)
from xindai.store.db import transaction
from xindai.store.models_origination import AuthToken

NOW = datetime(2024, 3, 7, 9, 0, 0)


def test_issue_authenticate_expire_and_revoke(session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as session:
        borrower = issue_token(session, "borrower", 42, now=NOW)
        staff = issue_token(session, SubjectKind.STAFF, 7, now=NOW)
        short = issue_token(session, "borrower", 42, now=NOW, ttl=timedelta(minutes=1))
    assert borrower.token != staff.token and len(borrower.token) >= 43
    assert borrower.expires_at == NOW + BORROWER_TTL and staff.expires_at == NOW + STAFF_TTL
    assert borrower.token not in repr(borrower)
    with session_factory() as session:
        stored = set(session.scalars(select(AuthToken.token_hash)))
        assert stored == {token_hash(t.token) for t in (borrower, staff, short)}
        assert borrower.token not in stored
        assert authenticate(session, borrower.token, now=NOW) == Subject(SubjectKind.BORROWER, 42)
        assert authenticate(session, staff.token, now=NOW + STAFF_TTL - timedelta(seconds=1)) == (
            Subject(SubjectKind.STAFF, 7)
        )
        with pytest.raises(AuthExpired) as expired:
            authenticate(session, staff.token, now=NOW + STAFF_TTL)
        assert expired.value.code == "AUTH_EXPIRED" and expired.value.http_status == 401
        for missing in (None, "", "x" * 500, borrower.token + "x", staff.token.upper()):
            with pytest.raises(AuthRequired) as required:
                authenticate(session, missing, now=NOW)
            assert required.value.code == "AUTH_REQUIRED"
    with transaction(session_factory) as session:
        assert revoke(session, borrower.token)
        assert not revoke(session, borrower.token)
        assert not revoke(session, "unknown")
    with session_factory() as session, pytest.raises(AuthRequired):
        authenticate(session, borrower.token, now=NOW)
    with transaction(session_factory) as session:
        assert purge_expired(session, now=NOW + timedelta(minutes=1)) == 1
        assert session.get(AuthToken, token_hash(short.token)) is None


def test_revoke_all_ends_every_session_of_one_subject(
    session_factory: sessionmaker[Session],
) -> None:
    with transaction(session_factory) as session:
        mine = [issue_token(session, "staff", 7, now=NOW) for _ in range(3)]
        other_staff = issue_token(session, "staff", 8, now=NOW)
        borrower_seven = issue_token(session, "borrower", 7, now=NOW)
    with transaction(session_factory) as session:
        assert revoke_all(session, "staff", 7) == 3
        assert revoke_all(session, "staff", 7) == 0
    with session_factory() as session:
        for issued in mine:
            with pytest.raises(AuthRequired):
                authenticate(session, issued.token, now=NOW)
        assert authenticate(session, other_staff.token, now=NOW).id == 8
        assert authenticate(session, borrower_seven.token, now=NOW).kind is SubjectKind.BORROWER


def test_bad_kind_or_lifetime_is_refused() -> None:
    with pytest.raises(InvalidValue):
        issue_token(None, "robot", 1, now=NOW)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        issue_token(None, "staff", 1, now=NOW, ttl=timedelta(0))  # type: ignore[arg-type]
