"""Helpers shared by the DB-backed security services: database times and per-key locks."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from xindai.clock import LENDER_TZ


def db_time(at: datetime) -> datetime:
    """`at` as stored in the database: the lender's naive local time (see `xindai.clock`);
    an aware time is converted to it first."""
    if at.tzinfo is not None:
        return at.astimezone(LENDER_TZ).replace(tzinfo=None)
    return at


def lock_key(session: Session, namespace: str, key: str) -> None:
    """Serialise transactions working on the same `(namespace, key)` until commit.

    PostgreSQL: a transaction-level advisory lock. SQLite needs none: its transactions
    begin IMMEDIATE, so writers already run one at a time."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"{namespace}:{key}".encode()).digest()
    lock_id = int.from_bytes(digest[:8], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:lock_id)"), {"lock_id": lock_id})
