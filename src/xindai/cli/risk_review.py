"""`xindai risk review …`: the manual-review queue (人工审核) on the terminal — who holds
which task and how long is left before its SLA deadline (overdue in red)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

from xindai.cli.context import DatabaseOption
from xindai.risk.review_rules import STATUSES

app = typer.Typer(help="Manual review / 人工审核", no_args_is_help=True)


def _queue(database: str | None, status: str | None, overdue: bool, limit: int) -> list[Any]:
    from xindai.platform import Platform
    from xindai.risk.review import ReviewService
    from xindai.settings import get_settings
    from xindai.store.db import make_engine, session_factory

    settings = get_settings()
    engine = make_engine(database or settings.database_url)
    try:
        platform = Platform.from_settings(settings, sessions=session_factory(engine))
        return ReviewService(platform).queue(status, overdue, limit)
    finally:
        engine.dispose()


def time_left(minutes: int | None, overdue: bool) -> Text:
    """`1h 05m`, `overdue 12m` in red, or `paused` while the borrower is asked for more."""
    if minutes is None:
        return Text("暂停 paused", style="dim")
    span = abs(minutes)
    hours, rest = divmod(span, 60)
    shown = f"{hours}h {rest:02d}m" if hours else f"{rest}m"
    if overdue:
        return Text(f"超时 overdue {shown}", style="bold red")
    return Text(shown, style="yellow" if minutes < 30 else "")


@app.command("queue")
def queue(
    status: Annotated[
        str | None, typer.Option(help=f"Only this status: {', '.join(STATUSES)} / 状态")
    ] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only tasks past their deadline / 仅超时")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many / 条数")] = 200,
    database: DatabaseOption = None,
) -> None:
    """The open review tasks, soonest deadline first, with the SLA time left."""
    items = _queue(database, status, overdue, limit)
    table = Table(title=f"人工审核队列 Manual review queue ({len(items)})")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("申请 App.", "right"),
        ("产品 Product", "left"),
        ("金额 Amount", "right"),
        ("期数 Term", "right"),
        ("申请人 Applicant", "left"),
        ("评分 Score", "right"),
        ("原因 Reasons", "left"),
        ("状态 Status", "left"),
        ("审核员 Reviewer", "left"),
        ("截止 Due", "left"),
        ("剩余 Left", "right"),
    )
    for column, justify in columns:
        table.add_column(column, justify=justify)
    for item in items:
        application, decision = item["application"], item["decision"]
        score = (
            f"{decision['score']:.0f} {decision['grade'] or ''}".strip()
            if decision and decision["score"] is not None
            else "—"
        )
        table.add_row(
            str(item["application_id"]),
            application["product"],
            application["amount"],
            str(application["term"]),
            f"{application['applicant_name']} {application['applicant_phone']}".strip(),
            score,
            ", ".join(item["reasons"]),
            item["status"],
            item["claimed_by"] or "",
            (item["due_at"] or "").replace("T", " ")[:16],
            time_left(item["minutes_left"], item["overdue"]),
        )
    Console().print(table)
