"""Engines, sessions and the unit of work for the two supported databases.

SQLite (the embedded default): WAL journal, `synchronous=NORMAL`, foreign keys on, a busy
timeout, a 64 MiB page cache. The sqlite3 driver's own transaction handling is switched off
and SQLAlchemy emits the BEGIN itself, so that every transaction - SELECTs and DDL included -
is a real one. It begins `BEGIN IMMEDIATE` (takes the write lock at once) so that two writers
queue on the busy timeout instead of one failing with "database is locked" when it upgrades
a read lock; read-only work may ask for a deferred BEGIN (`read_only=True`).

PostgreSQL (production): psycopg 3; `postgresql://` and `postgres://` URLs are rewritten to
`postgresql+psycopg://`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.exc import OperationalError as DBAPIOperationalError
from sqlalchemy.orm import Session, sessionmaker

from xindai.errors import InvalidValue
from xindai.settings import get_settings

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 64 * 1024
# execution option read by the SQLite BEGIN hook: "IMMEDIATE" (default) or "DEFERRED"
SQLITE_BEGIN_OPTION = "xindai_sqlite_begin"

_POSTGRES_DRIVER = "postgresql+psycopg"
_SUPPORTED = ("sqlite", "postgresql")


def normalise_url(url: str | URL) -> URL:
    """Parse `url` and pick the driver Xindai uses: pysqlite for SQLite, psycopg 3 for
    PostgreSQL (`postgresql://` and `postgres://` are rewritten). Raises `InvalidValue` for
    anything else."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidValue(
            "database URL", str(url), "not a database URL", "不是有效的数据库 URL"
        ) from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":
        backend = "postgresql"
    if backend == "postgresql" and driver in ("", "psycopg"):
        return parsed.set(drivername=_POSTGRES_DRIVER)
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return parsed.set(drivername="sqlite")
    raise InvalidValue(
        "database URL",
        parsed.render_as_string(hide_password=True),
        f"unsupported database; use {' or '.join(_SUPPORTED)} (postgresql via psycopg)",
        "不支持的数据库；请使用 sqlite 或 postgresql",
    )


def make_engine(url: str | URL | None = None, *, echo: bool | None = None) -> Engine:
    """An engine for `url` (default: the settings' database) with the options its dialect
    needs; a SQLite file's folder is created if missing."""
    settings = get_settings()
    parsed = normalise_url(url if url is not None else settings.database_url)
    echo = settings.echo_sql if echo is None else echo
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, echo=echo)
    return create_engine(
        parsed,
        echo=echo,
        pool_pre_ping=True,
        connect_args={"application_name": "xindai"},
    )


def dialect_name(engine: Engine | Connection) -> str:
    """`"sqlite"` or `"postgresql"`."""
    return engine.dialect.name


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to `engine`; objects stay readable after commit (no expire)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(sessions: sessionmaker[Session], *, read_only: bool = False) -> Iterator[Session]:
    """A unit of work: one session in one database transaction, committed when the block
    ends normally and rolled back if it raises.

    `read_only=True` begins SQLite transactions deferred (no write lock) and PostgreSQL ones
    READ ONLY; the block must not write."""
    with sessions() as session:
        if read_only:
            session.connection(
                execution_options={SQLITE_BEGIN_OPTION: "DEFERRED", "postgresql_readonly": True}
            )
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _sqlite_engine(url: URL, *, echo: bool) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if not in_memory and not url.query.get("uri"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # the driver must not BEGIN on its own (it skips SELECT and DDL); _sqlite_on_begin does
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in (
            f"busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}",
            "journal_mode = WAL",
            "synchronous = NORMAL",
            "foreign_keys = ON",
            f"cache_size = -{SQLITE_CACHE_KIB}",
            "temp_store = MEMORY",
        ):
            cursor.execute(f"PRAGMA {pragma}")
    finally:
        cursor.close()


def without_sync(engine: Engine) -> Engine:
    """`engine` with `PRAGMA synchronous = OFF` on every SQLite connection (no fsync, not
    even when the write-ahead log is copied back): for a database built from scratch and
    thrown away if the build does not finish (the demo lender). Nothing on PostgreSQL."""
    if engine.dialect.name == "sqlite":

        def no_sync(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA synchronous = OFF")

        event.listen(engine, "connect", no_sync)  # after _sqlite_on_connect's NORMAL
    return engine


def _sqlite_on_begin(connection: Connection) -> None:
    options = connection.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is not None and dbapi_connection.isolation_level is not None:
        # SQLAlchemy's isolation-level reset hands the driver its BEGIN back; take it again
        dbapi_connection.isolation_level = None
    mode = options.get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
    if mode not in ("IMMEDIATE", "DEFERRED", "EXCLUSIVE"):
        raise ValueError(f"{SQLITE_BEGIN_OPTION} must be IMMEDIATE, DEFERRED or EXCLUSIVE")
    if mode == "DEFERRED" or dbapi_connection is None:
        connection.exec_driver_sql(f"BEGIN {mode}")
    else:
        _begin_for_writing(dbapi_connection, mode)


def _begin_for_writing(dbapi_connection: Any, mode: str) -> None:
    """`BEGIN IMMEDIATE` (or EXCLUSIVE), asking again every few hundred microseconds while
    another writer holds the lock, for at most the busy timeout.

    SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25 … 100 ms between tries: a
    writer that commits and begins again at once keeps the lock from the others for tens
    of milliseconds at a time, and concurrent writers convoy behind it."""
    import sqlite3
    import time

    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout = 0")
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
        pause = 0.0002
        while True:
            try:
                cursor.execute(f"BEGIN {mode}")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() >= deadline:
                    raise DBAPIOperationalError(f"BEGIN {mode}", None, error) from error
            time.sleep(pause)
            pause = min(pause * 1.5, 0.002)
    finally:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()


@contextmanager
def background_checkpoints(engine: Engine, every_seconds: float = 0.25) -> Iterator[None]:
    """While the block runs, a thread copies SQLite's write-ahead log into the database file
    every `every_seconds` (a PASSIVE checkpoint: it never waits for, nor blocks, a writer).

    Otherwise the commit that grows the log past its limit copies it itself, inside the
    batch's own time: on a run of credit decisions that was 7 % of the run and 4 ms of
    p99 latency. The driver releases the GIL while SQLite works, so the copying runs on
    another core. Nothing to do on PostgreSQL (its checkpointer is a server process)."""
    if engine.dialect.name != "sqlite":
        yield
        return
    import threading

    stop = threading.Event()

    def checkpoint() -> None:
        connection = engine.raw_connection()
        try:
            while not stop.wait(every_seconds):
                cursor = connection.cursor()
                try:
                    cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    cursor.close()
        finally:
            connection.close()

    thread = threading.Thread(target=checkpoint, name="xindai-wal-checkpoint", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
