"""`xindai db …`: migrate the database and show its schema revision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from xindai.errors import XindaiError
from xindai.settings import get_settings
from xindai.store import migrate

app = typer.Typer(help="Database schema / 数据库结构", no_args_is_help=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        "-d",
        help="SQLAlchemy URL, e.g. postgresql://user@host/xindai (default: XINDAI_DATABASE_URL,"
        " else the SQLite file in the data directory) / 数据库 URL",
        show_default=False,
    ),
]

T = TypeVar("T")


class DatabaseUnavailable(XindaiError):
    """The database cannot be reached or refused the operation."""

    code = "DATABASE_UNAVAILABLE"


@app.command("upgrade")
def upgrade(
    database: DatabaseOption = None,
    revision: Annotated[str, typer.Option(help="Target revision / 目标版本")] = "head",
) -> None:
    """Create or migrate the schema up to the newest revision (升级数据库结构)."""
    url = database or get_settings().database_url
    reached = _on_database(url, lambda: migrate.upgrade(url, revision))
    typer.echo(f"{_shown(url)}: at revision {reached or '(none)'} / 已升级到 {reached or '无'}")


@app.command("current")
def current(database: DatabaseOption = None) -> None:
    """The schema revision the database is at, and whether it is the newest (当前版本)."""
    url = database or get_settings().database_url
    revision = _on_database(url, lambda: migrate.current(url))
    newest = migrate.head()
    if revision is None:
        state = f"not migrated; run `xindai db upgrade` / 未初始化 (newest {newest})"
    elif revision == newest:
        state = "up to date / 已是最新"
    else:
        state = f"behind {newest}; run `xindai db upgrade` / 需要升级"
    typer.echo(f"{_shown(url)}: revision {revision or '(none)'} — {state}")


def _shown(url: str) -> str:
    """The URL as printed: password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def _on_database(url: str, operation: Callable[[], T]) -> T:
    try:
        return operation()
    except DBAPIError as exc:
        reason = " ".join(str(exc.orig).split()) if exc.orig is not None else str(exc)
        raise DatabaseUnavailable(
            f"database {_shown(url)}: {reason}", f"数据库 {_shown(url)} 出错：{reason}"
        ) from None
