"""`xindai cob run`: close of business (日终批处理) from the command line, with a progress bar
per step and partition and a summary; and `bench_cob`, registered as `xindai bench cob`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    Progress,
    TaskID,
)
from rich.table import Table

from xindai.cli.render import progress_bar
from xindai.cob.runner import DEFAULT_PARTITION_SIZE, CobProgress, CobSummary
from xindai.dates import parse_date

if TYPE_CHECKING:
    from xindai.cob.registry import StepRegistry

app = typer.Typer(help="Close of business / 日终批处理", no_args_is_help=True)


@app.callback()
def cob() -> None:
    """Close of business / 日终批处理 (SPEC §6)."""  # a group even with one command: `cob run`


UntilOption = Annotated[
    str | None,
    typer.Option(help="Close every business date from the current one up to this one"),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: XINDAI_DATABASE_URL / SQLite)"),
]
PartitionOption = Annotated[
    int, typer.Option(help="Loan ids per partition (one transaction each)", min=1)
]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        help="Connections running partitions at once (default: 1 on SQLite, CPUs up to 4 on"
        " PostgreSQL)",
        min=1,
    ),
]


class _Bar:
    """Two bars: the business dates, and the current step's partitions."""

    def __init__(self, progress: Progress, days: int) -> None:
        self.progress = progress
        self.days: TaskID = progress.add_task("business dates 营业日", total=days)
        self.step: TaskID = progress.add_task("", total=1, visible=False)

    def __call__(self, event: CobProgress) -> None:
        label = f"{event.business_date} {event.step}"
        if event.done:
            self.progress.update(self.step, completed=self.progress.tasks[self.step].total)
            if event.step == "advance":
                self.progress.advance(self.days)
        elif event.partition == 0:
            self.progress.reset(
                self.step, total=max(1, event.partitions), description=label, visible=True
            )
        else:
            suffix = " (done before)" if event.skipped else f" {event.rows:,} rows"
            self.progress.update(self.step, completed=event.partition, description=label + suffix)


def summary_table(summary: CobSummary) -> Table:
    """One row per step for a single date, one row per date for several."""
    if len(summary.days) == 1:
        day = summary.days[0]
        table = Table(title=f"日终批处理 close of business {day.business_date}")
        for name in ("step", "rows", "partitions", "seconds", ""):
            table.add_column(name, justify="left" if name == "step" else "right")
        for step in day.steps:
            table.add_row(
                step.step,
                f"{step.rows:,}",
                str(step.partitions),
                f"{step.seconds:.2f}",
                "done before" if step.skipped else "",
            )
        table.caption = f"{day.seconds:.2f} s · business date now {summary.business_date}"
        return table
    table = Table(title="日终批处理 close of business")
    table.add_column("business date")
    names = [s.step for s in summary.days[0].steps] if summary.days else []
    for name in names:
        table.add_column(f"{name} rows", justify="right")
    table.add_column("seconds", justify="right")
    for day in summary.days:
        table.add_row(
            day.business_date.isoformat(),
            *(f"{s.rows:,}" for s in day.steps),
            f"{day.seconds:.2f}",
        )
    table.caption = (
        f"{len(summary.days)} dates, {summary.seconds:.2f} s · "
        f"business date now {summary.business_date}"
    )
    return table


@app.command("run")
def run(
    date_: Annotated[
        str | None,
        typer.Option("--date", help="Close this business date (must be the current one)"),
    ] = None,
    until: UntilOption = None,
    database: DatabaseOption = None,
    partition_size: PartitionOption = DEFAULT_PARTITION_SIZE,
    workers: WorkersOption = None,
    withholding: Annotated[
        bool,
        typer.Option(
            "--withholding/--no-withholding",
            help="Step 4: collect due amounts through the payment channel (XINDAI_PROVIDERS_URL)",
        ),
    ] = False,
) -> None:
    """Run close of business for the current business date (or `--date`, which must be it),
    or for every date up to `--until`; a date already closed is skipped."""
    from xindai.cob.runner import CobError, run_cob
    from xindai.store import repository as repo
    from xindai.store.db import make_engine, session_factory, transaction

    day = parse_date(date_, field="--date") if date_ else None
    last = parse_date(until, field="--until") if until else None
    if day is not None and last is not None:
        raise CobError("give --date or --until, not both", "--date 与 --until 只能二选一")
    engine = make_engine(database)
    try:
        with transaction(session_factory(engine), read_only=True) as session:
            current = repo.get_business_date(session)
        days = (last - current).days + 1 if last and current else 1
        console = Console()
        with progress_bar(console, label="{task.description}", transient=False) as progress:
            summary = run_cob(
                engine,
                date=day,
                until=last,
                partition_size=partition_size,
                workers=workers,
                progress=_Bar(progress, max(days, 1)),
                registry=_registry(database, withholding),
            )
        if summary.days:
            console.print(summary_table(summary))
        else:
            console.print(f"nothing to close: the business date is {summary.business_date}")
    finally:
        engine.dispose()


def _registry(database: str | None, withholding: bool = True) -> StepRegistry:
    from xindai.collections.cob import registry_for
    from xindai.platform import Platform
    from xindai.settings import get_settings
    from xindai.store.db import make_engine, session_factory

    settings = get_settings()
    sessions = session_factory(make_engine(database or settings.database_url))
    return registry_for(
        Platform.from_settings(settings, sessions=sessions), withholding=withholding
    )


def bench_cob(
    loans: Annotated[int, typer.Option("--loans", "-n", help="Open loans in the book", min=1)] = (
        1_000_000
    ),
    days: Annotated[int, typer.Option(help="Business days of close of business", min=1)] = 1,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="An empty database URL (default: a temporary SQLite file, deleted after)",
        ),
    ] = None,
    partition_size: PartitionOption = DEFAULT_PARTITION_SIZE,
    workers: WorkersOption = None,
    tuned: Annotated[
        bool,
        typer.Option(
            "--tuned/--plain",
            help="With the schema tuning of xindai.cob.tuning (partial indexes; fill factors"
            " on PostgreSQL), or the schema as migrated",
        ),
    ] = True,
    seed: Annotated[int, typer.Option(help="Random seed of the book")] = 20260302,
) -> None:
    """Build a book of LOANS open loans (about 15 % past due) with bulk inserts, then time
    DAYS business days of close of business: loans/s, seconds per day and step, peak memory."""
    from xindai.bench.cob import render_cob_bench, run_cob_bench

    console = Console(stderr=True)
    with progress_bar(console, label="{task.description}", transient=True) as progress:
        bar = _Bar(progress, days)
        result = run_cob_bench(
            database,
            loans=loans,
            days=days,
            seed=seed,
            partition_size=partition_size,
            workers=workers,
            tuned=tuned,
            progress=bar,
            on_phase=lambda message: progress.update(bar.days, description=message),
        )
    Console().print(render_cob_bench(result))
