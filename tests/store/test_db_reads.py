"""Read transactions (`Platform.reads`) take no write lock and may not write, and concurrent
writers on SQLite all get their turn (BEGIN IMMEDIATE asked again quickly while another
writer holds the lock)."""

from __future__ import annotations

import sqlite3
import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, InternalError
from sqlalchemy.orm import Session, sessionmaker

from xindai.platform import Platform
from xindai.settings import Settings
from xindai.store import repository as repo
from xindai.store.db import transaction
from xindai.store.models import SystemState


def _platform(sessions: sessionmaker[Session], folder: Path) -> Platform:
    settings = Settings(database_url="sqlite://", data_dir=folder)
    return Platform.from_settings(settings, sessions=sessions)


def test_a_read_takes_no_write_lock_on_sqlite(
    session_factory: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's locks")
    platform = _platform(session_factory, tmp_path)
    with transaction(session_factory) as session:
        repo.set_business_date(session, date(2026, 12, 3))
    path = database_url.removeprefix("sqlite:///")
    with platform.reads() as session:
        assert repo.get_business_date(session) == date(2026, 12, 3)
        # a writer of another connection begins at once: the read holds no RESERVED lock
        # (a write-locking BEGIN IMMEDIATE here would make it fail after half a second)
        writer = sqlite3.connect(path, timeout=0.5, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            writer.execute(
                "UPDATE system_state SET value = '2026-12-04' WHERE key = 'business_date'"
            )
            writer.execute("COMMIT")
        finally:
            writer.close()
        # the read's snapshot is the one it began with (WAL)
        assert (
            session.scalar(select(SystemState.value).where(SystemState.key == "business_date"))
            == "2026-12-03"
        )
    assert platform.business_date() == date(2026, 12, 4)


def test_a_read_may_not_write_on_postgresql(
    session_factory: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("READ ONLY is PostgreSQL's")
    platform = _platform(session_factory, tmp_path)
    refused = pytest.raises((InternalError, DBAPIError), match="read-only")
    with refused, platform.reads() as session:
        session.execute(text("INSERT INTO system_state (key, value) VALUES ('x', 'y')"))
    with transaction(session_factory) as session:  # the connection is not left read-only
        session.execute(text("INSERT INTO system_state (key, value) VALUES ('x', 'y')"))
    with platform.reads() as session:
        assert session.scalar(select(SystemState.value).where(SystemState.key == "x")) == "y"


def test_concurrent_writers_all_get_their_turn(session_factory: sessionmaker[Session]) -> None:
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            for step in range(25):
                with transaction(session_factory) as session:
                    session.merge(SystemState(key=f"w{number}", value=str(step)))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with transaction(session_factory, read_only=True) as session:
        values = dict(session.execute(select(SystemState.key, SystemState.value)).all())
    assert all(values[f"w{n}"] == "24" for n in range(6))
