"""The `xindai` command line (Typer): thin commands that parse, call the core and render.

Bad input exits with status 2 and one line naming the bad value, never a traceback.
"""

from __future__ import annotations

import sys

import typer

from xindai.cli import (
    bench,
    bench_http,
    calc,
    cob,
    collections,
    db,
    demo,
    ledger,
    loans,
    payments,
    products,
    risk,
    scorecard,
    serve,
    sim,
    staff,
)
from xindai.errors import XindaiError

app = typer.Typer(
    name="xindai",
    help="Xindai 信贷 — consumer cash-loan platform / 现金贷业务平台",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(calc.app, name="calc")
app.add_typer(bench.app, name="bench")
app.add_typer(products.app, name="products")
app.add_typer(scorecard.app, name="scorecard")
app.add_typer(risk.app, name="risk")
app.add_typer(db.app, name="db")
app.add_typer(cob.app, name="cob")
app.add_typer(collections.app, name="collections")
bench.app.command("cob")(cob.bench_cob)
bench.app.command("collections")(collections.bench_collections)
bench.app.command("http")(bench_http.bench_http)
app.add_typer(loans.app, name="loans")
app.add_typer(ledger.app, name="ledger")
app.add_typer(payments.app, name="payments")
app.add_typer(sim.app, name="sim")
app.add_typer(staff.app, name="staff")
app.add_typer(demo.app, name="demo")
app.command(name="serve")(serve.serve)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: runs the app and maps every input error to one line, exit 2."""
    try:
        result = app(args=argv, standalone_mode=False)
    except XindaiError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("Aborted.", file=sys.stderr)
        sys.exit(1)
    except Exception as exc:
        # usage errors of the command-line parser (unknown option, missing value …)
        format_message = getattr(exc, "format_message", None)
        if format_message is None or not hasattr(exc, "exit_code"):
            raise
        print(f"Error: {' '.join(str(format_message()).split())}", file=sys.stderr)
        sys.exit(exc.exit_code)
    sys.exit(result if isinstance(result, int) else 0)
