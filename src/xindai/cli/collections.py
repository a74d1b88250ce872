"""`xindai collections …`: collection KPIs (催收绩效) per collector, team, agency or queue."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from xindai.cli.context import DatabaseOption, sessions
from xindai.dates import parse_date
from xindai.store import repository as repo

app = typer.Typer(help="Collections / 催收管理", no_args_is_help=True)
COLUMNS = (
    ("name", "名称 Name"),
    ("calls", "通话量 Calls"),
    ("contact_rate", "联络率 Contact"),
    ("rpc_rate", "本人 RPC"),
    ("promise_rate", "承诺率 Promise"),
    ("kept_rate", "履约率 Kept"),
    ("recovered", "回收 Recovered"),
    ("cases", "在催 Cases"),
)
CELL_COLUMNS = (
    ("strategy", "策略 Strategy"),
    ("cell", "分组 Cell"),
    ("cases", "入催 Cases"),
    ("cure_rate", "治愈率 Cure"),
    ("roll_rate", "滚动率 Roll"),
    ("balance_at_entry", "入催余额 Balance"),
    ("recovered", "回收 Recovered"),
    ("recovery_rate", "回收率 Recovery"),
)


@app.command("kpi")
def kpi(
    level: Annotated[
        str, typer.Option(help="collector | team | agency | queue / 维度")
    ] = "collector",
    date_from: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="YYYY-MM-DD (default: today)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    cells: Annotated[
        bool,
        typer.Option(
            "--cells",
            help="champion / challenger outcomes by strategy × cell of the cases that entered "
            "in the period instead / 冠军挑战者效果",
        ),
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Collection KPIs over a period of business dates (default: the last 30) / 催收绩效;
    with --cells the cure, roll and recovery rates by strategy × test cell."""
    from xindai.collections.cells import cell_outcomes
    from xindai.collections.kpis import kpis

    factory = sessions(database)
    with factory() as session:
        today = repo.get_business_date(session)
        end = parse_date(date_to, field="to") if date_to else today
        assert end is not None, "the database has no business date: run xindai db upgrade"
        start = parse_date(date_from, field="from") if date_from else end - timedelta(days=29)
        report = cell_outcomes(session, start, end) if cells else kpis(session, level, start, end)
    if cells and not as_json:
        _print_cells(report)
        return
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"催收绩效 Collection KPIs · {level} · {start} – {end}")
    for _, header in COLUMNS:
        table.add_column(header, justify="left" if header.startswith("名称") else "right")
    for row in report["items"]:
        table.add_row(*(str(row[key]) for key, _ in COLUMNS))
    console = Console()
    console.print(table)
    roll = report["roll_forward"]
    if roll:
        console.print(
            "滚动率 Roll-forward: "
            + ", ".join(f"{r['queue']} {r['rolled']}/{r['cases']} ({r['rate']})" for r in roll)
        )


def _print_cells(report: dict[str, Any]) -> None:
    title = (
        f"冠军挑战者 Champion / challenger · {report['date_from']} – {report['date_to']}"
        f" · 挑战者占比 challenger share {report['share_percent']}%"
    )
    table = Table(title=title)
    for key, header in CELL_COLUMNS:
        table.add_column(header, justify="left" if key in ("strategy", "cell") else "right")
    for row in report["items"]:
        table.add_row(*(str(row[key]) for key, _ in CELL_COLUMNS))
    for row in report["cells"]:
        table.add_row(*(str({**row, "strategy": "合计 All"}[key]) for key, _ in CELL_COLUMNS))
    Console().print(table)


def bench_collections(
    loans: Annotated[int, typer.Option("--loans", "-n", help="Open loans in the book", min=1)] = (
        1_000_000
    ),
    days: Annotated[int, typer.Option(help="Business days of close of business", min=1)] = 2,
    samples: Annotated[int, typer.Option(help="Workbench calls timed of each kind", min=20)] = 300,
    database: Annotated[
        str | None,
        typer.Option("--database", help="An empty database URL (default: a temporary SQLite)"),
    ] = None,
) -> None:
    """Close of business over a synthetic book with the collection steps (their share of
    each day), then the workbench's next-case and case-detail p95 and a guardrail check's
    cost with the open cases in place / 催收基准."""
    from xindai.bench.collections import render_collections_bench, run_collections_bench

    console = Console()
    result = run_collections_bench(
        database, loans=loans, days=days, samples=samples, on_phase=console.print
    )
    console.print(render_collections_bench(result))
