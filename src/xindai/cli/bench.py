"""`xindai bench …`: benchmarks that print figures (never asserted by tests)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

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
