"""`xindai demo`: the platform's main job for a first look — a small lender's first weeks
on a fresh embedded database, then the portfolio by bucket and the trial balance."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.rule import Rule
from rich.table import Table

from xindai.cli.calc import reloan_json
from xindai.cli.ledger import trial_balance_table
from xindai.cli.render import progress_bar, schedule_table, xindai_command
from xindai.demo import build_demo_portfolio, portfolio_by_bucket
from xindai.ledger.reports import trial_balance
from xindai.money import format_yuan
from xindai.products import annualised_cost
from xindai.products.catalogue import demo_products
from xindai.risk.reloan import evaluate_reloan
from xindai.schedules import build_schedule
from xindai.settings import get_settings, sqlite_url
from xindai.store import migrate
from xindai.store import repository as repo
from xindai.store.db import make_engine, session_factory


def demo(
    loans: Annotated[int, typer.Option(help="Loans to book / 放款笔数")] = 120,
    weeks: Annotated[int, typer.Option(help="Weeks of business to run / 运行周数")] = 8,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            "-d",
            help="Database URL (default: a fresh demo.db in the data directory) / 数据库 URL",
        ),
    ] = None,
    decisions: Annotated[
        int, typer.Option(help="Applications to decide (0: none) / 演示决策笔数", min=0)
    ] = 300,
) -> None:
    """Book a demo portfolio, run weeks of close of business with on-time, late and missing
    payers, and show the portfolio by bucket and the trial balance (演示组合)."""
    console = Console()
    if database is None:
        path = Path(get_settings().data_dir) / "demo.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        database = sqlite_url(path)
    console.print(Rule("Xindai 信贷 · 演示 demo"))
    product = demo_products()[1]
    schedule = build_schedule(product.schedule_terms(1_000_000, 12, date(2026, 9, 1)))
    console.print(
        schedule_table(
            schedule,
            annualised_cost(schedule),
            title=f"{product.code} {product.name} · 10,000.00 元 · 12 月",
        )
    )
    engine = make_engine(database)
    migrate.upgrade(engine)
    sessions = session_factory(engine)
    with progress_bar(console, label="[bold]营业日 business days", transient=False) as bar:
        task = bar.add_task("days", total=weeks * 7)
        summary = build_demo_portfolio(
            sessions,
            loans=loans,
            weeks=weeks,
            progress=lambda _name, done, total: bar.update(task, completed=done, total=total),
        )
    console.print(
        f"放款 {summary.loans} 笔 loans booked {summary.start} → {summary.end}; "
        f"还款 {summary.repayments} repayments; 晚还 {summary.late_payers} late "
        f"payers; 未还 {summary.defaulters} never paid"
    )
    with sessions() as session:
        rows = portfolio_by_bucket(session)
        as_of = repo.require_business_date(session)
        balance = trial_balance(session, as_of)
    table = Table(title=f"资产质量 Portfolio by bucket · {as_of}", show_footer=True)
    table.add_column("账龄 Bucket", "合计 Total")
    table.add_column("笔数 Loans", str(sum(r.loans for r in rows)), justify="right")
    table.add_column(
        "在贷本金 Principal",
        format_yuan(sum(r.principal_fen for r in rows), thousands=True),
        justify="right",
    )
    table.add_column(
        "逾期金额 Overdue",
        format_yuan(sum(r.overdue_fen for r in rows), thousands=True),
        justify="right",
    )
    for row in rows:
        table.add_row(
            row.bucket,
            str(row.loans),
            format_yuan(row.principal_fen, thousands=True),
            format_yuan(row.overdue_fen, thousands=True),
        )
    console.print(table)
    console.print(trial_balance_table(balance))
    history = [0, 0, 5, 17]
    console.print(
        f"复贷阶梯 Reloan ladder: history {history} → {reloan_json(evaluate_reloan(history))}"
    )
    console.print(f"[dim]More: {xindai_command()} loans show 1 --database {database}[/dim]")
    if decisions:
        _show_decisions(console, database, decisions)


def _show_decisions(console: Console, portfolio_database: str, applications: int) -> None:
    """A day of applications decided by the shipped strategy, on a database of its own."""
    from xindai.demo import build_demo_decisions

    url = portfolio_database.replace("demo.db", "demo-decisions.db")
    if url == portfolio_database or not url.startswith("sqlite:///"):
        return  # only beside the default demo database
    path = Path(url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    console.print(Rule("决策引擎 Decision engine"))
    with console.status(f"决策 deciding {applications} applications …"):
        result = build_demo_decisions(url, applications)
    table = Table(title=f"{result.decisions} 笔申请的决策 Decisions (strategy origination@v1)")
    table.add_column("结论 Outcome")
    table.add_column("笔数 Applications", justify="right")
    table.add_column("占比 Share", justify="right")
    for outcome in ("approve", "review", "reject"):
        count = result.outcomes.get(outcome, 0)
        table.add_row(outcome, str(count), f"{count / max(1, result.decisions):.0%}")
    console.print(table)
    console.print(
        "等级 Grades: " + ", ".join(f"{g} {n}" for g, n in result.grades.items())
        + " · 常见原因 Top reasons: " + ", ".join(f"{c} {n}" for c, n in result.reasons)
    )  # fmt: skip
    for label, example in (("拒绝 rejected", result.example_rejected),
                           ("通过 approved", result.example_approved)):  # fmt: skip
        if example is not None:
            console.print(
                f"[dim]Why {label}: {xindai_command()} risk explain {example}"
                f" --database {url}[/dim]"
            )
