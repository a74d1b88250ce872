"""The storage foundation on SQLite and PostgreSQL: migrations from empty, idempotent, equal
to the models; engines, sessions and the unit of work; `xindai db`; settings."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from xindai import settings as settings_module
from xindai.cli.db import DatabaseUnavailable
from xindai.cli.db import app as db_app
from xindai.errors import InvalidValue
from xindai.settings import (
    Settings,
    default_data_dir,
    get_settings,
    override_settings,
    reset_settings,
)
from xindai.store import migrate
from xindai.store.db import (
    dialect_name,
    make_engine,
    normalise_url,
    transaction,
    without_sync,
)
from xindai.store.models import Base, InstallmentRecord, Loan


def new_loan(**overrides: object) -> Loan:
    values: dict[str, object] = {
        "borrower_id": 7,
        "product_code": "CASH12",
        "product_version": 1,
        "status": "active",
        "principal_fen": 1_000_000,
        "annual_rate": "0.18",
        "term": 12,
        "booked_on": date(2026, 1, 31),
    }
    values.update(overrides)
    return Loan(**values)


# --- migrations -------------------------------------------------------------------------


def test_upgrade_from_empty_reaches_head(database_url: str) -> None:
    assert migrate.current(database_url) is None
    assert migrate.upgrade(database_url) == migrate.head()
    assert migrate.current(database_url) == migrate.head()
    engine = make_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_upgrade_twice_changes_nothing(database_url: str) -> None:
    first = migrate.upgrade(database_url)
    second = migrate.upgrade(database_url)
    assert first == second == migrate.head()


def test_concurrent_upgrades_take_turns(database_url: str) -> None:
    """Processes starting together may all upgrade: one migrates, the others find head."""
    script = "import sys; from xindai.store import migrate; print(migrate.upgrade(sys.argv[1]))"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, database_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outcomes = [process.communicate(timeout=120) for process in processes]
    for process, (out, err) in zip(processes, outcomes, strict=True):
        assert process.returncode == 0, err
        assert out.strip() == migrate.head()


def test_upgrades_in_threads_of_one_process_take_turns(database_url: str) -> None:
    reached: list[str | None] = []
    threads = [
        threading.Thread(target=lambda: reached.append(migrate.upgrade(database_url)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert reached == [migrate.head()] * 3


def test_migrated_schema_equals_the_models(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "models.py and the migrations differ; add a revision"


def test_downgrade_to_base_and_up_again(migrated_engine: Engine) -> None:
    assert migrate.downgrade(migrated_engine, "base") is None
    assert set(inspect(migrated_engine).get_table_names()) <= {"alembic_version"}
    assert migrate.upgrade(migrated_engine) == migrate.head()


def test_revisions_are_numbered_in_one_line() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config())
    revisions = list(script.walk_revisions())  # newest first
    assert len(script.get_heads()) == 1
    assert [r.revision for r in reversed(revisions)] == [
        f"{n:04d}" for n in range(1, len(revisions) + 1)
    ]


# --- sessions and the unit of work ------------------------------------------------------


def test_loan_insert_and_select(session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as session:
        loan = new_loan(maturity_date=date(2027, 1, 31))
        session.add(loan)
        session.flush()
        loan_id = loan.id
    assert loan_id is not None
    with transaction(session_factory, read_only=True) as session:
        stored = session.scalars(select(Loan).where(Loan.id == loan_id)).one()
        assert stored.principal_fen == 1_000_000
        assert stored.booked_on == date(2026, 1, 31)
        assert stored.maturity_date == date(2027, 1, 31)
        assert stored.bucket == "M0"
        assert stored.penalty_on_total is False
        assert stored.row_version == 1  # optimistic-locking version, set on insert


def test_big_fen_amounts_survive(session_factory: sessionmaker[Session]) -> None:
    large = 9_000_000_000_000_000  # BIGINT range, far above any INTEGER
    with transaction(session_factory) as session:
        loan = new_loan(principal_fen=large)
        session.add(loan)
    with transaction(session_factory) as session:
        assert session.scalar(select(Loan.principal_fen)) == large


def test_transaction_rolls_back_on_error(session_factory: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError), transaction(session_factory) as session:
        session.add(new_loan())
        session.flush()
        raise RuntimeError("service failed after writing")
    with transaction(session_factory) as session:
        assert session.scalar(select(Loan.id)) is None


def test_foreign_keys_are_enforced(session_factory: sessionmaker[Session]) -> None:
    orphan = InstallmentRecord(
        loan_id=424242,
        number=1,
        start_date=date(2026, 1, 31),
        due_date=date(2026, 2, 28),
        principal_due_fen=100,
        interest_due_fen=1,
        fee_due_fen=0,
    )
    with pytest.raises(IntegrityError), transaction(session_factory) as session:
        session.add(orphan)


def test_read_only_transaction_refuses_writes_on_postgresql(
    session_factory: sessionmaker[Session],
) -> None:
    with transaction(session_factory, read_only=True) as session:
        assert session.scalar(select(Loan.id)) is None
        backend = dialect_name(session.get_bind().engine)
    if backend != "postgresql":
        return
    with pytest.raises(DBAPIError), transaction(session_factory, read_only=True) as session:
        session.add(new_loan())


# --- engines ----------------------------------------------------------------------------


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{(tmp_path / 'nested' / 'x.db').as_posix()}")
    try:
        with engine.connect() as connection:
            pragma = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
        assert pragma == {
            "journal_mode": "wal",
            "synchronous": 1,  # NORMAL
            "foreign_keys": 1,
            "busy_timeout": 30_000,
        }
        assert (tmp_path / "nested" / "x.db").exists()
        assert dialect_name(engine) == "sqlite"
    finally:
        engine.dispose()


def test_an_engine_without_sync_keeps_the_other_settings(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'x.db').as_posix()}"
    engine = without_sync(make_engine(url))
    try:
        for _ in range(2):  # every connection of the pool, not only the first
            with engine.connect() as connection:
                names = ("synchronous", "journal_mode", "foreign_keys")
                pragma = {n: connection.exec_driver_sql(f"PRAGMA {n}").scalar() for n in names}
            assert pragma == {"synchronous": 0, "journal_mode": "wal", "foreign_keys": 1}
            engine.dispose()
    finally:
        engine.dispose()
    plain = make_engine(url)  # another engine on the same file syncs as before
    try:
        with plain.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    finally:
        plain.dispose()


def test_sqlite_writers_queue_instead_of_failing(tmp_path: Path) -> None:
    """Two read-modify-write transactions at once: the second waits for the first (BEGIN
    IMMEDIATE) and sees its write, so neither fails with 'database is locked' nor loses it."""
    engine = make_engine(f"sqlite:///{(tmp_path / 'w.db').as_posix()}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER NOT NULL)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (0)")
    first_inside = threading.Event()
    errors: list[BaseException] = []

    def increment(signal_inside: bool, wait_for_first: bool) -> None:
        try:
            if wait_for_first:
                first_inside.wait(5)
            with engine.begin() as connection:
                n = connection.execute(text("SELECT n FROM counter")).scalar_one()
                if signal_inside:
                    first_inside.set()
                    threading.Event().wait(0.3)  # hold the transaction while the other starts
                connection.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=increment, args=(True, False)),
        threading.Thread(target=increment, args=(False, True)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert errors == []
        with engine.connect() as connection:
            assert connection.execute(text("SELECT n FROM counter")).scalar_one() == 2
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u:p@db.example/xindai", "postgresql+psycopg"),
        ("postgres://u@db.example/xindai", "postgresql+psycopg"),
        ("postgresql+psycopg://u@db.example/xindai", "postgresql+psycopg"),
        ("sqlite:///x.db", "sqlite"),
        ("sqlite+pysqlite:///x.db", "sqlite"),
    ],
)
def test_urls_get_the_supported_driver(given: str, driver: str) -> None:
    url = normalise_url(given)
    assert url.drivername == driver
    assert url.database in ("xindai", "x.db")


@pytest.mark.parametrize("given", ["mysql://u@h/x", "postgresql+psycopg2://u@h/x", "no url"])
def test_unsupported_urls_are_refused(given: str) -> None:
    with pytest.raises(InvalidValue):
        normalise_url(given)


# --- the command line -------------------------------------------------------------------


def test_cli_upgrade_and_current(database_url: str) -> None:
    runner = CliRunner()
    before = runner.invoke(db_app, ["current", "--database", database_url])
    assert before.exit_code == 0, before.output
    assert "not migrated" in before.output

    result = runner.invoke(db_app, ["upgrade", "--database", database_url])
    assert result.exit_code == 0, result.output
    assert f"at revision {migrate.head()}" in result.output
    assert migrate.current(database_url) == migrate.head()

    after = runner.invoke(db_app, ["current", "--database", database_url])
    assert after.exit_code == 0, after.output
    assert f"revision {migrate.head()}" in after.output
    assert "up to date" in after.output


def test_cli_upgrade_uses_the_settings_database(settings: Settings) -> None:
    result = CliRunner().invoke(db_app, ["upgrade"])
    assert result.exit_code == 0, result.output
    assert (settings.data_dir / "xindai.db").exists()
    assert migrate.current() == migrate.head()


def test_cli_unreachable_database_is_a_domain_error(tmp_path: Path) -> None:
    url = f"postgresql://nobody@/xindai?host={tmp_path.as_posix()}"
    result = CliRunner().invoke(db_app, ["current", "--database", url])
    assert isinstance(result.exception, DatabaseUnavailable)
    assert result.exception.code == "DATABASE_UNAVAILABLE"


# --- settings ---------------------------------------------------------------------------


def test_default_database_is_sqlite_in_the_data_dir(settings: Settings) -> None:
    assert get_settings() is settings
    assert settings.database_url == f"sqlite:///{(settings.data_dir / 'xindai.db').as_posix()}"
    assert settings.echo_sql is False


def test_environment_overrides(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XINDAI_DATABASE_URL", "postgresql://u@db.example/xindai")
    monkeypatch.setenv("XINDAI_ECHO_SQL", "true")
    from_env = Settings()
    assert from_env.database_url == "postgresql://u@db.example/xindai"
    assert from_env.echo_sql is True

    monkeypatch.delenv("XINDAI_DATABASE_URL")
    monkeypatch.setenv("XINDAI_DATA_DIR", str(tmp_path / "elsewhere"))
    moved = Settings()
    assert moved.data_dir == tmp_path / "elsewhere"
    assert moved.database_url.endswith("/elsewhere/xindai.db")


def test_get_settings_reads_the_environment_once(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with override_settings(echo_sql=True) as inner:
        assert get_settings() is inner
    assert get_settings() is settings

    monkeypatch.setattr(settings_module, "_override", None)  # as outside tests
    monkeypatch.setenv("XINDAI_DATABASE_URL", "sqlite:///first.db")
    reset_settings()
    assert get_settings().database_url == "sqlite:///first.db"
    monkeypatch.setenv("XINDAI_DATABASE_URL", "sqlite:///second.db")
    assert get_settings().database_url == "sqlite:///first.db"  # cached
    reset_settings()
    assert get_settings().database_url == "sqlite:///second.db"


@pytest.mark.skipif(sys.platform != "linux", reason="XDG data directory")
def test_default_data_dir_is_the_user_data_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "/srv/data")
    assert default_data_dir() == Path("/srv/data/xindai")


def test_background_checkpoints_copy_the_log_into_the_database_file(tmp_path: Path) -> None:
    """On SQLite a thread checkpoints the write-ahead log while the block runs (the main
    file grows as pages are copied into it) and is gone after; on other databases nothing
    starts."""
    import time

    from sqlalchemy import text

    from xindai.store.db import background_checkpoints, make_engine

    path = tmp_path / "wal.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
    raw = engine.raw_connection()  # a checkpoint now (outside any transaction): the file
    raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")  # holds just the table
    raw.close()
    empty = path.stat().st_size
    with background_checkpoints(engine, every_seconds=0.01):
        with engine.begin() as connection:
            for _ in range(200):  # about 50 pages: far below the log's own limit of 1,000
                connection.execute(text("INSERT INTO t (body) VALUES (:b)"), {"b": "x" * 1000})
        deadline = time.monotonic() + 10  # a passive checkpoint may copy part of the log
        while path.stat().st_size <= empty + 100_000 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert path.stat().st_size > empty + 100_000
    assert not any(t.name == "xindai-wal-checkpoint" for t in threading.enumerate())
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM t")).scalar_one() == 200
    engine.dispose()
