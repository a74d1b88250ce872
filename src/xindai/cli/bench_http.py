"""`xindai bench http`: requests per second and latency of the borrower API under concurrent
clients, against a real `xindai serve` (see `xindai.bench.http`)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from xindai.bench.http import KINDS, run_http_bench
from xindai.errors import InvalidValue


def bench_http(
    clients: Annotated[int, typer.Option(min=1, max=512, help="Concurrent clients")] = 32,
    seconds: Annotated[float, typer.Option(min=1, help="Seconds of load per kind")] = 10.0,
    workers: Annotated[int, typer.Option(min=1, max=64, help="xindai serve --workers")] = 1,
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", help=f"Repeatable: {', '.join(KINDS)} (default: all)"),
    ] = None,
) -> None:
    """Load a served lender with concurrent borrowers: quotes, loan views and repayment
    requests; requests per second and p50 / p99 latency of each (接口压测)."""
    kinds = tuple(kind or KINDS)
    for name in kinds:
        if name not in KINDS:
            raise InvalidValue("--kind", name, f"must be one of {', '.join(KINDS)}", "未知类型")
    console = Console()
    result = run_http_bench(
        clients=clients,
        seconds=seconds,
        workers=workers,
        kinds=kinds,
        progress=lambda text: console.print(f"[dim]{text}[/dim]"),
    )
    table = Table(
        title=f"xindai serve --workers {result.workers} · {result.clients} clients"
        f" · {result.borrowers} borrowers"
    )
    for column in ("kind", "requests", "req/s", "p50 ms", "p99 ms", "errors", "statuses"):
        table.add_column(column, justify="left" if column in ("kind", "statuses") else "right")
    for row in result.kinds:
        table.add_row(
            row.kind,
            f"{row.requests:,}",
            f"{row.per_second:,.0f}",
            f"{row.median:,.1f}",
            f"{row.percentile(0.99):,.1f}",
            f"{row.errors:,}",
            ", ".join(f"{code}×{n}" for code, n in sorted(row.statuses.items())),
        )
    console.print(table)
