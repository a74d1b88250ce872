"""Schema migrations, programmatically: Alembic with the revisions shipped in the package.

No alembic.ini is needed (the repository's alembic.ini is only for developers writing new
revisions with `alembic revision --autogenerate`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import URL

from xindai.store.db import SQLITE_BEGIN_OPTION, make_engine

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")

# Alembic keeps the running migration in module globals: one command per process at a time
_ALEMBIC_LOCK = threading.Lock()

Target = str | URL | Engine | None
"""A database URL, an engine, or None for the settings' database."""


def alembic_config() -> Config:
    """Alembic's configuration for the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR.as_posix())
    # `%%`: configparser interpolation
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    return config


def head() -> str:
    """The newest revision shipped with this version of Xindai."""
    head_revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head_revision is not None, "the package ships no migrations"
    return head_revision


def upgrade(target: Target = None, revision: str = "head") -> str | None:
    """Migrate the database up to `revision` (default: the newest); already there is a
    no-op. Returns the revision the database is at afterwards."""
    return _run(target, lambda config: command.upgrade(config, revision))


def downgrade(target: Target, revision: str) -> str | None:
    """Migrate the database down to `revision` (`"base"`: no tables). Returns the revision
    the database is at afterwards (None at base)."""
    return _run(target, lambda config: command.downgrade(config, revision))


def current(target: Target = None) -> str | None:
    """The revision the database is at; None when it has never been migrated."""
    engine, owned = _engine(target)
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if owned:
            engine.dispose()


def _run(target: Target, alembic_command: Callable[[Config], None]) -> str | None:
    engine, owned = _engine(target)
    try:
        with _ALEMBIC_LOCK, engine.connect() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            alembic_command(config)
            if connection.in_transaction():
                connection.commit()
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if owned:
            engine.dispose()


def _engine(target: Target) -> tuple[Engine, bool]:
    """The engine for `target` and whether it was made here (and must be disposed)."""
    if isinstance(target, Engine):
        return target, False
    return make_engine(target), True
