"""Shared plumbing of database commands: the `--database` option and sessions."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from xindai.store.db import make_engine, session_factory

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        "-d",
        show_default=False,
        help="SQLAlchemy URL (default: XINDAI_DATABASE_URL, else the SQLite file in "
        "the data directory) / 数据库 URL",
    ),
]


def sessions(database: str | None) -> sessionmaker[Session]:
    return session_factory(make_engine(database))
