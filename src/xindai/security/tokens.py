"""Bearer tokens of borrower and staff sessions over `auth_tokens`.

A token is 32 random bytes (URL-safe base64, 43 characters), shown once to the client; the
database keeps only its SHA-256, so that a copy of the table opens no session. Functions take
the caller's session: they join its unit of work and never commit.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from xindai.errors import InvalidValue
from xindai.security._support import db_time
from xindai.security.errors import AuthExpired, AuthRequired
from xindai.store.models_origination import AuthToken

TOKEN_BYTES: Final = 32
MAX_TOKEN_LENGTH: Final = 128  # anything longer is not ours: refuse before hashing
BORROWER_TTL: Final = timedelta(days=30)  # the app stays logged in for a month
STAFF_TTL: Final = timedelta(hours=12)  # a working day; staff log in again each day


class SubjectKind(StrEnum):
    BORROWER = "borrower"
    STAFF = "staff"


@dataclass(frozen=True, slots=True)
class Subject:
    """Who a token belongs to: a borrower id or a staff user id."""

    kind: SubjectKind
    id: int


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime

    def __repr__(self) -> str:
        return f"IssuedToken(token='…', expires_at={self.expires_at!r})"


def token_hash(token: str) -> str:
    """The stored form of a token: SHA-256, 64 hex digits (the token has 256 bits of
    entropy, so no key or slow hash is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(
    session: Session,
    kind: SubjectKind | str,
    subject_id: int,
    *,
    now: datetime,
    ttl: timedelta | None = None,
) -> IssuedToken:
    """A new session token for `subject_id`, valid for `ttl` (default 30 days for a
    borrower, 12 hours for staff) from `now`."""
    try:
        subject_kind = SubjectKind(kind)
    except ValueError:
        raise InvalidValue(
            "kind", kind, "must be borrower or staff", "必须是 borrower 或 staff"
        ) from None
    lifetime = (
        ttl
        if ttl is not None
        else (BORROWER_TTL if subject_kind is SubjectKind.BORROWER else STAFF_TTL)
    )
    if lifetime <= timedelta(0):
        raise InvalidValue("ttl", lifetime, "must be positive", "必须为正")
    created = db_time(now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        AuthToken(
            token_hash=token_hash(token),
            subject_kind=subject_kind.value,
            subject_id=subject_id,
            created_at=created,
            expires_at=created + lifetime,
            revoked=False,
        )
    )
    session.flush()
    return IssuedToken(token, created + lifetime)


def authenticate(session: Session, token: str | None, *, now: datetime) -> Subject:
    """The subject of a live token; `AuthRequired` for none, an unknown or a revoked token,
    `AuthExpired` at or after its expiry."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise AuthRequired()
    row = session.get(AuthToken, token_hash(token))
    if row is None or row.revoked:
        raise AuthRequired()
    if db_time(now) >= row.expires_at:
        raise AuthExpired()
    return Subject(SubjectKind(row.subject_kind), row.subject_id)


def bearer_of(authorization: str) -> str:
    """The token of an `Authorization: Bearer <token>` header; "" for any other header."""
    if authorization[:7].lower() != "bearer ":
        return ""
    return authorization[7:].strip()


def revoke(session: Session, token: str) -> bool:
    """End the session of `token` (logout); False if there was no such live token."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return False
    result = session.execute(
        update(AuthToken)
        .where(AuthToken.token_hash == token_hash(token), AuthToken.revoked.is_(False))
        .values(revoked=True)
    )
    return bool(getattr(result, "rowcount", 0))


def revoke_all(session: Session, kind: SubjectKind | str, subject_id: int) -> int:
    """End every session of a subject (password change, deactivation); returns how many."""
    result = session.execute(
        update(AuthToken)
        .where(
            AuthToken.subject_kind == SubjectKind(kind).value,
            AuthToken.subject_id == subject_id,
            AuthToken.revoked.is_(False),
        )
        .values(revoked=True)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def purge_expired(session: Session, *, now: datetime) -> int:
    """Delete expired tokens (housekeeping); returns how many."""
    result = session.execute(delete(AuthToken).where(AuthToken.expires_at <= db_time(now)))
    return int(getattr(result, "rowcount", 0) or 0)
