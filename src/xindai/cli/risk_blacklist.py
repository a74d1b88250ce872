"""`xindai risk blacklist …`: the risk team's blacklists — add, remove, list, import a CSV.
Identifiers are hashed with the platform's personal-data key and shown masked."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from xindai import clock
from xindai.cli.context import DatabaseOption, sessions
from xindai.cli.parse import positive_int
from xindai.cli.render import progress_bar
from xindai.errors import InvalidValue
from xindai.risk.blacklist_store import (
    CSV_COLUMNS,
    ImportIssue,
    add_entry,
    entry_status,
    import_csv,
    list_entries,
    parse_expiry,
    remove_entry,
)
from xindai.security.pii import PiiCipher
from xindai.settings import get_settings

app = typer.Typer(help="Blacklists / 黑名单管理", no_args_is_help=True)

ActorOption = Annotated[str, typer.Option("--actor", help="Who does it (recorded) / 操作人")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (recorded) / 原因")]


def _cipher() -> PiiCipher:
    # the key exactly as Platform.from_settings builds it, so hashes match the API's
    return PiiCipher(get_settings().key_bytes("pii"))


def _when(at: datetime | None) -> str:
    return "" if at is None else at.isoformat(sep=" ", timespec="minutes")


@app.command("add")
def add(
    kind: Annotated[
        str, typer.Option("--kind", help="id_number, phone, device, card or contact_phone")
    ],
    value: Annotated[str, typer.Option("--value", help="The identifier / 标识")],
    reason: ReasonOption,
    actor: ActorOption,
    expires: Annotated[
        str | None,
        typer.Option("--expires", help="YYYY-MM-DD: no longer listed from that day / 到期日"),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Put an identifier on a blacklist (only its keyed hash and a mask are stored)."""
    now = clock.now()
    with sessions(database).begin() as session:
        record = add_entry(
            session,
            _cipher(),
            kind=kind,
            value=value,
            reason=reason,
            actor=actor,
            now=now,
            expires_at=parse_expiry(expires, "--expires"),
        )
        typer.echo(
            f"added entry {record.id}: {record.kind} {record.value_masked}"
            + (f" until {_when(record.expires_at)}" if record.expires_at else "")
        )


@app.command("remove")
def remove(
    entry_id: Annotated[str, typer.Argument(help="Entry id / 记录编号")],
    reason: ReasonOption,
    actor: ActorOption,
    database: DatabaseOption = None,
) -> None:
    """Take an entry off its list from now on; the entry stays on record."""
    number = positive_int(entry_id, "entry id")
    with sessions(database).begin() as session:
        record = remove_entry(session, number, actor=actor, reason=reason, now=clock.now())
        typer.echo(f"removed entry {record.id}: {record.kind} {record.value_masked}")


@app.command("list")
def list_command(
    kind: Annotated[str | None, typer.Option("--kind", help="Only this list")] = None,
    include_inactive: Annotated[
        bool, typer.Option("--all", help="Also removed and expired entries")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=5000, help="At most")] = 500,
    database: DatabaseOption = None,
) -> None:
    """Entries, newest first, with masked identifiers."""
    now = clock.now()
    table = Table(title="黑名单 Blacklist")
    for column in (
        "编号 Id",
        "类型 Kind",
        "标识 Value",
        "原因 Reason",
        "状态 Status",
        "加入 Added",
        "到期 Expires",
        "移出 Removed",
    ):
        table.add_column(column)
    with sessions(database)() as session:
        records = list_entries(
            session, now=now, kind=kind, include_inactive=include_inactive, limit=limit
        )
        for record in records:
            removed = (
                f"{_when(record.removed_at)} {record.removed_by}: {record.removed_reason}"
                if record.removed_at
                else ""
            )
            table.add_row(
                str(record.id),
                record.kind,
                record.value_masked,
                record.reason,
                entry_status(record, now),
                f"{_when(record.created_at)} {record.created_by}",
                _when(record.expires_at),
                removed,
            )
    Console().print(table)
    typer.echo(f"{len(records)} entries")


def _issues_table(title: str, issues: tuple[ImportIssue, ...]) -> Table:
    table = Table(title=title)
    for column in ("行 Line", "类型 Kind", "标识 Value", "说明 Problem"):
        table.add_column(column)
    for issue in issues:
        table.add_row(
            str(issue.line),
            issue.kind,
            issue.value_masked,
            f"{issue.message_zh} / {issue.message_en}",
        )
    return table


@app.command("import")
def import_file(
    file: Annotated[
        Path, typer.Argument(help=f"CSV with the header {','.join(CSV_COLUMNS)}", dir_okay=False)
    ],
    actor: ActorOption,
    database: DatabaseOption = None,
) -> None:
    """Add every row of a CSV; rows already listed and bad rows are reported by line, never
    stopping the import. Exits 1 when some rows were bad (the good ones are added)."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidValue(
            "FILE", str(file), f"cannot be read ({exc.strerror})", "无法读取"
        ) from None
    except UnicodeDecodeError:
        raise InvalidValue(
            "FILE", str(file), "is not UTF-8 (save it as CSV UTF-8)", "不是 UTF-8 编码"
        ) from None
    lines = text.splitlines(keepends=True)
    console = Console()
    with (
        progress_bar(console, label="导入 Importing", transient=True) as progress,
        sessions(database).begin() as session,
    ):
        task = progress.add_task("import", total=max(len(lines) - 1, 0))
        summary = import_csv(
            session,
            _cipher(),
            lines,
            actor=actor,
            now=clock.now(),
            progress=lambda done: progress.update(task, completed=done),
        )
    console.print(
        f"行 rows {summary.rows} · 新增 added {summary.added} · "
        f"已在名单 already listed {len(summary.already_listed)} · "
        f"错误 bad {len(summary.bad_rows)}"
    )
    if summary.already_listed:
        console.print(_issues_table("已在名单 Already listed", summary.already_listed))
    if summary.bad_rows:
        console.print(_issues_table("错误行 Bad rows", summary.bad_rows))
        raise typer.Exit(1)
