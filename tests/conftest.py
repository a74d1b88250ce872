"""Shared fixtures: databases for tests that need one, on SQLite and on PostgreSQL.

    database_url       an empty database, parametrised: `sqlite` (a file per test) and
                       `postgresql` (a fresh database per test on the server at
                       XINDAI_TEST_PG_URL, default the local server's Unix socket as user
                       postgres)
    migrated_engine    an engine on that database, migrated to the newest revision
    session_factory    sessions on the migrated database
    settings           settings with a temporary data directory, made current

Without a reachable PostgreSQL server the `postgresql` tests are skipped, unless
XINDAI_REQUIRE_PG=1 (CI sets it): then they fail. Tests using a database are marked `db`
(select with `-m db`, leave out with `-m "not db"`), and those on PostgreSQL `postgresql`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from xindai.settings import Settings, override_settings, reset_settings

DEFAULT_TEST_PG_URL = "postgresql://postgres@/postgres?host=/var/run/postgresql"
BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "db: uses a database (SQLite and PostgreSQL)")
    config.addinivalue_line("markers", "postgresql: runs on the PostgreSQL test server")
    config.addinivalue_line("markers", "e2e: drives the running server and simulators over HTTP")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


def _pg_admin_url() -> str:
    return os.environ.get("XINDAI_TEST_PG_URL") or DEFAULT_TEST_PG_URL


def _pg_required() -> bool:
    return os.environ.get("XINDAI_REQUIRE_PG", "").strip().lower() in ("1", "true", "yes")


def _psycopg_conninfo(url: str) -> str:
    """A libpq URI for psycopg from a SQLAlchemy-style URL (driver suffix removed)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[str]:
    """The conninfo of the PostgreSQL test server's maintenance database, after checking that
    the server answers: skip (or fail, with XINDAI_REQUIRE_PG=1) when it does not."""
    import psycopg

    conninfo = _psycopg_conninfo(_pg_admin_url())
    try:
        psycopg.connect(conninfo, connect_timeout=5, autocommit=True).close()
    except psycopg.Error as exc:
        message = (
            f"PostgreSQL test server not reachable at {make_url(_pg_admin_url())!r}: "
            f"{' '.join(str(exc).split())} — set XINDAI_TEST_PG_URL, or run `python3 dev.py test`"
            " as root on Debian to install and start one"
        )
        if _pg_required():
            pytest.fail(f"XINDAI_REQUIRE_PG=1 but {message}", pytrace=False)
        pytest.skip(message)
    yield conninfo


def _create_pg_database(admin_conninfo: str) -> str:
    import psycopg

    name = f"xindai_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name


def _drop_pg_database(admin_conninfo: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_conninfo, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of this test's own: a SQLite file or a PostgreSQL
    database created for it and dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{(tmp_path / 'xindai-test.db').as_posix()}"
        return
    admin_conninfo = request.getfixturevalue("pg_admin")
    name = _create_pg_database(admin_conninfo)
    try:
        url = make_url(_pg_admin_url()).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        _drop_pg_database(admin_conninfo, name)


@pytest.fixture
def migrated_engine(database_url: str) -> Iterator[Engine]:
    """An engine on this test's database, migrated to the newest revision; disposed after."""
    from xindai.store.db import make_engine
    from xindai.store.migrate import upgrade

    engine = make_engine(database_url)
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def session_factory(migrated_engine: Engine) -> sessionmaker[Session]:
    """Sessions on this test's migrated database (use with `xindai.store.db.transaction`)."""
    from xindai.store.db import session_factory as make_session_factory

    return make_session_factory(migrated_engine)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings with a temporary data directory (so the default SQLite database is a temp
    file), made the current ones for the test; the caller's XINDAI_<setting> variables are
    ignored."""
    for field in Settings.model_fields:
        monkeypatch.delenv(f"XINDAI_{field.upper()}", raising=False)
    reset_settings()
    with override_settings(Settings(data_dir=tmp_path / "data")) as current:
        yield current
    reset_settings()
