"""`xindai bench …`: benchmarks that print figures (never asserted by tests)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from xindai.cli.render import progress_bar
from xindai.risk.pending import DEFAULT_GROUP

app = typer.Typer(help="Benchmarks / 性能基准", no_args_is_help=True)


@app.command("schedules")
def schedules(
    count: Annotated[int, typer.Option("--count", "-n", help="Schedules to generate")] = 200_000,
    sample: Annotated[int, typer.Option(help="Schedules checked against the reference")] = 2_000,
    seed: Annotated[int, typer.Option(help="Random seed")] = 20261128,
) -> None:
    """Generate COUNT schedules of mixed methods with the vectorised engine; print
    schedules/s and installments/s and check a sample against the exact reference."""
    from xindai.bench.schedules import render_schedule_bench, run_schedule_bench

    result = run_schedule_bench(count=count, sample=sample, seed=seed, progress=True)
    Console().print(render_schedule_bench(result))
    if result.mismatches:
        raise typer.Exit(1)


@app.command("decide")
def decide(
    applications: Annotated[
        int, typer.Option("--applications", "-n", help="Applications to decide", min=2)
    ] = 5_000,
    database: Annotated[
        str | None, typer.Option("--database", "-d", help="Database URL (default: a temp SQLite)")
    ] = None,
    workers: Annotated[int, typer.Option(help="Back-test processes, this one included", min=1)] = 2,
    seed: Annotated[int, typer.Option(help="Random seed of the population")] = 7,
    group: Annotated[
        int,
        typer.Option(
            help="Applications decided per transaction (1 = one at a time, as a request is)",
            min=1,
            max=200,
        ),
    ] = DEFAULT_GROUP,
) -> None:
    """Decide N applications with the default strategy (features from the database, cached
    bureau report, anti-fraud, rules, scorecard, pricing, decision stored), a group per
    transaction as the pending-decision worker does; print decisions/s and p50/p99 latency
    (a decision's latency runs to its group's commit); then back-test the stored
    decisions."""
    from rich.table import Table

    from xindai.bench.decide import run_decide_bench

    console = Console()
    with progress_bar(console, transient=False) as bar:
        task = bar.add_task("决策 Deciding", total=applications - 1)

        def progress(_stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = run_decide_bench(
            applications,
            database=database,
            seed=seed,
            workers=workers,
            group=group,
            progress=progress,
        )
        bar.update(task, completed=applications - 1)
    table = Table(
        title=f"决策基准 Decision benchmark ({result.decisions} decisions, {group} per transaction)"
    )
    table.add_column("指标 Metric")
    table.add_column("值 Value", justify="right")
    table.add_row("人群装载 Population load", f"{result.population.seconds:.1f} s")
    table.add_row("决策/秒 Decisions/s", f"{result.per_second:,.0f}")
    table.add_row("p50 latency", f"{result.percentile(0.50):.2f} ms")
    table.add_row("p99 latency", f"{result.percentile(0.99):.2f} ms")
    table.add_row("max latency", f"{max(result.latencies_ms):.2f} ms")
    for stage, micros in sorted(result.stage_us.items()):
        table.add_row(f"  avg {stage}", f"{micros:,.0f} µs")
    for outcome, count in sorted(result.outcomes.items()):
        table.add_row(f"  {outcome}", f"{count} ({count / result.decisions:.1%})")
    back = result.backtest
    table.add_row(
        "回溯/秒 Back-test applications/s",
        f"{back['applications_per_second']:,} ({back['workers']} processes, {back['seconds']} s;"
        f" {back['steady_applications_per_second']:,}/s once started)",
    )
    console.print(table)


@app.command("console")
def console(
    loans: Annotated[int, typer.Option("--loans", "-n", help="Loans in the book", min=1)] = (
        1_000_000
    ),
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            "-d",
            help="An empty database URL to build in (default: a temporary SQLite file), or"
            " with --reuse one an earlier run built",
        ),
    ] = None,
    reuse: Annotated[
        bool, typer.Option(help="Use the lender an earlier run built in --database")
    ] = False,
    samples: Annotated[int, typer.Option(help="Calls timed per endpoint and query", min=1)] = 30,
    deep_page: Annotated[int, typer.Option(help="The page of the sorted deep query", min=2)] = 500,
    under_load: Annotated[
        bool,
        typer.Option(
            help="Time the calls while other processes write: close of business day after"
            " day and a stream of repayments"
        ),
    ] = False,
) -> None:
    """Build a lender of LOANS loans (borrowers, applications, payouts, withholdings,
    journal, snapshots, audit) with bulk inserts, serve the app on loopback and time every
    list endpoint over HTTP — first page, a filtered page, a sorted deep page — p50 / p95 /
    max (target p95 ≤ 200 ms with 1,000,000 loans)."""
    from xindai.bench.console import render_console_bench, run_console_bench

    status = Console(stderr=True)
    with status.status("…") as spinner:
        result = run_console_bench(
            database,
            loans=loans,
            samples=samples,
            reuse=reuse,
            deep_page=deep_page,
            under_load=under_load,
            progress=lambda message: spinner.update(message),
        )
    Console().print(render_console_bench(result))
