"""`xindai risk precredit …`: the pre-credit batch (预授信) with a progress bar and a summary,
and one borrower's credit line."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from xindai import clock
from xindai.cli.context import DatabaseOption, sessions
from xindai.cli.render import progress_bar
from xindai.dates import parse_date
from xindai.money import format_yuan
from xindai.risk.credit_lines import credit_line_view
from xindai.risk.precredit import DEFAULT_CHUNK_SIZE, PrecreditProgress, run_precredit
from xindai.settings import get_settings
from xindai.store import repository as repo

app = typer.Typer(help="Pre-credit: revolving credit lines / 预授信额度", no_args_is_help=True)


@app.command("run")
def run(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="YYYY-MM-DD (default: the business date) / 批次日期"),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option(help="Borrower ids per chunk (one transaction each)", min=1)
    ] = DEFAULT_CHUNK_SIZE,
    database: DatabaseOption = None,
) -> None:
    """Grant, renew or freeze the credit lines of whitelisted repeat borrowers."""
    factory = sessions(database)
    if as_of is not None:
        day = parse_date(as_of, field="--as-of")
    else:
        with factory() as session:
            day = repo.get_business_date(session) or clock.today()
    console = Console()
    with progress_bar(console, transient=True) as progress:
        task = progress.add_task(f"预授信 pre-credit {day}", total=None)

        def report(event: PrecreditProgress) -> None:
            progress.update(task, completed=event.borrowers, total=event.total)

        summary = run_precredit(
            factory,
            as_of=day,
            now=clock.now(),
            line_days=get_settings().credit_line_days,
            chunk_size=chunk_size,
            progress=report,
        )
    table = Table(title=f"预授信 pre-credit {summary.as_of} · {summary.batch_id}")
    table.add_column("", style="bold")
    table.add_column("borrowers", justify="right")
    for label, value in (
        ("candidates 候选", summary.candidates),
        ("whitelisted 白名单", summary.whitelisted),
        ("granted 新授信", summary.granted),
        ("updated 更新", summary.updated),
        ("frozen 冻结", summary.frozen),
        ("unchanged 未变", summary.unchanged),
        ("refused 未通过", summary.refused),
    ):
        table.add_row(label, f"{value:,}")
    table.caption = f"{summary.chunks} chunks · {summary.seconds:.2f} s"
    console.print(table)


@app.command("show")
def show(
    borrower_id: Annotated[int, typer.Argument(help="Borrower id / 借款人编号", min=1)],
    database: DatabaseOption = None,
) -> None:
    """A borrower's credit line: limit, outstanding, available, status, expiry."""
    with sessions(database)() as session:
        today = repo.get_business_date(session) or clock.today()
        view = credit_line_view(session, borrower_id, today)
    table = Table(title=f"授信额度 credit line #{view.id} · borrower {view.borrower_id}")
    table.add_column("", style="bold")
    table.add_column("")
    rows = [
        ("status 状态", view.status + (" (expired 已过期)" if view.expired else "")),
        ("level 等级", str(view.level)),
        ("limit 额度", format_yuan(view.limit_fen, thousands=True)),
        ("outstanding 在贷本金", format_yuan(view.outstanding_fen, thousands=True)),
        ("available 可用", format_yuan(view.available_fen, thousands=True)),
        ("expires on 到期日", view.expires_on.isoformat()),
        ("granted 授信时间", view.granted_at.isoformat(timespec="seconds")),
        ("batch 批次", view.batch_id),
    ]
    if view.freeze_reason:
        rows.append(("frozen because 冻结原因", view.freeze_reason))
    for label, value in rows:
        table.add_row(label, value)
    Console().print(table)
