"""`xindai ledger …`: trial balance and channel-statement reconciliation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from xindai.cli.context import DatabaseOption, sessions
from xindai.dates import parse_date
from xindai.ledger.reconcile import read_statement, reconcile
from xindai.ledger.reports import TrialBalance, trial_balance
from xindai.money import format_yuan
from xindai.store import repository as repo

app = typer.Typer(help="Ledger / 财务总账", no_args_is_help=True)


def trial_balance_table(balance: TrialBalance) -> Table:
    table = Table(title=f"试算平衡表 Trial balance · {balance.as_of}", show_footer=True)
    table.add_column("科目 Account", "合计 Total")
    table.add_column("名称 Name")
    table.add_column(
        "借方 Debit", format_yuan(balance.total_debit_fen, thousands=True), justify="right"
    )
    table.add_column(
        "贷方 Credit", format_yuan(balance.total_credit_fen, thousands=True), justify="right"
    )
    table.add_column("余额 Balance", justify="right")
    for row in balance.rows:
        table.add_row(
            row.account,
            f"{row.name_zh} {row.name_en}",
            format_yuan(row.debit_fen, thousands=True),
            format_yuan(row.credit_fen, thousands=True),
            format_yuan(row.balance_fen, thousands=True),
        )
    table.caption = (
        "借贷平衡 Balanced ✓" if balance.balanced else "[bold red]借贷不平 NOT BALANCED[/bold red]"
    )
    return table


@app.command("trial-balance")
def trial_balance_command(
    date: Annotated[
        str | None,
        typer.Option(
            "--date", help="Business date YYYY-MM-DD (default: the current business date)"
        ),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Debits, credits and balances per account as of a business date."""
    with sessions(database)() as session:
        as_of = parse_date(date, field="--date") if date else repo.require_business_date(session)
        balance = trial_balance(session, as_of)
    Console().print(trial_balance_table(balance))
    if not balance.balanced:
        raise typer.Exit(1)


@app.command("reconcile")
def reconcile_command(
    file: Annotated[
        Path, typer.Argument(help="Channel statement CSV: date,channel,reference,type,amount")
    ],
    database: DatabaseOption = None,
) -> None:
    """Match a payment channel's daily statement against the journal; list every break."""
    rows = read_statement(file)
    with sessions(database)() as session:
        results = reconcile(session, rows)
    console = Console()
    breaks = 0
    for result in results:
        table = Table(
            title=f"对账 Reconciliation · {result.day} · {result.channel} · "
            f"匹配 matched {result.matched} "
            f"({format_yuan(result.matched_fen, thousands=True)})"
        )
        for column in ("流水号 Reference", "差异 Break", "对账单 Statement", "账务 Journal"):
            table.add_column(column)
        for item in result.breaks:
            table.add_row(
                item.reference,
                item.kind,
                "" if item.statement_fen is None else format_yuan(item.statement_fen),
                "" if item.journal_fen is None else format_yuan(item.journal_fen),
            )
        if result.clean:
            table.caption = "无差异 No breaks ✓"
        breaks += len(result.breaks)
        console.print(table)
    if breaks:
        raise typer.Exit(1)
