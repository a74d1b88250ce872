"""`xindai payments …`: requests still waiting on the payment channel (主动查询)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from xindai.cli.context import DatabaseOption

app = typer.Typer(help="Payments / 支付通道", no_args_is_help=True)


@app.command("resolve")
def resolve(
    older_than_minutes: Annotated[
        int | None,
        typer.Option(
            "--older-than-minutes",
            min=0,
            help="Ask about requests pending at least this long (default: "
            "XINDAI_PAYMENTS_RESOLVE_AFTER_MINUTES, 10)",
        ),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Query the channel for every payout, collection, refund and card check without a
    result, and apply what it says (a request it never took fails; finance may then retry
    or cancel a payout)."""
    from xindai.origination.resolve import PaymentResolver
    from xindai.platform import Platform
    from xindai.settings import get_settings
    from xindai.store.db import make_engine, session_factory

    settings = get_settings()
    sessions = session_factory(make_engine(database or settings.database_url))
    platform = Platform.from_settings(settings, sessions=sessions)
    minutes = (
        settings.payments_resolve_after_minutes
        if older_than_minutes is None
        else older_than_minutes
    )
    report = PaymentResolver(platform).resolve(timedelta(minutes=minutes))
    table = Table(title=f"主动查询 Resolved with the channel (pending ≥ {minutes} min)")
    table.add_column("请求 · 结果 Request · outcome")
    table.add_column("笔数 Count", justify="right")
    for what, count in sorted(report.outcomes.items()):
        table.add_row(what, str(count))
    table.add_row("channel unreachable / 通道不可达", str(report.unreachable))
    Console().print(table)
    if not report.outcomes and not report.unreachable:
        print("Nothing was waiting on the channel / 没有待查询的请求")
