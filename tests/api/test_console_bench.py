"""`xindai bench console` on a tiny book (it prints figures; nothing here asserts a time):
every probe answers 200 through the real app over HTTP, the lists it times are not empty,
and the table renders; on SQLite and PostgreSQL."""

from __future__ import annotations

from typer.testing import CliRunner

from xindai.bench.console import probes, render_console_bench, run_console_bench
from xindai.cli.bench import app
from xindai.settings import Settings


def test_the_bench_times_every_list_endpoint(database_url: str, settings: Settings) -> None:
    result = run_console_bench(database_url, loans=200, samples=2, deep_page=3)
    assert result.loans == 200 and result.build_seconds is not None
    assert [t.probe.name for t in result.timings] == [p.name for p in probes(3, 200)]
    failed = [(t.probe.name, t.status) for t in result.timings if t.status != 200]
    assert failed == []
    assert all(len(t.millis) == 2 for t in result.timings)
    firsts = [t for t in result.timings if t.probe.name.endswith("first page")]
    assert all(t.total for t in firsts), [(t.probe.name, t.total) for t in firsts]
    assert {name.split(" (")[0] for name in result.once} >= {
        "first overview",
        "first trial balance",
    }
    reused = run_console_bench(database_url, reuse=True, samples=1, deep_page=2)
    assert reused.build_seconds is None and reused.loans == 200
    assert all(t.status == 200 for t in reused.timings)
    assert "p95" in str(render_console_bench(result).columns[3].header)


def test_the_command_prints_the_table(settings: Settings) -> None:
    answer = CliRunner().invoke(app, ["console", "-n", "120", "--samples", "1"])
    assert answer.exit_code == 0, answer.output
    assert "loans first page" in answer.output and "120 loans" in answer.output


def test_the_bench_under_load_times_the_lists_while_cob_and_repayments_write(
    database_url: str, settings: Settings
) -> None:
    """With `under_load`, a close-of-business process and a repayment process write while
    the calls run: every call still answers 200, at least the day they started is closed,
    and the repayments posted are the loans' transactions (balanced, in the journal)."""
    from sqlalchemy import func, select

    from xindai.store.db import make_engine
    from xindai.store.models import JournalEntry, LoanTransaction, SystemState

    result = run_console_bench(database_url, loans=150, samples=2, deep_page=2, under_load=True)
    assert [t.status for t in result.timings] == [200] * len(result.timings)
    load = result.load
    assert load is not None and load.seconds > 0
    assert 0 < load.cob_busy_share <= 1
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            business_date = connection.scalar(
                select(SystemState.value).where(SystemState.key == "business_date")
            )
            bench_repayments = connection.scalar(
                select(func.count())
                .select_from(LoanTransaction)
                .where(LoanTransaction.channel == "bench")
            )
            entries = connection.scalar(select(func.count()).select_from(JournalEntry))
    finally:
        engine.dispose()
    assert business_date is not None and business_date > "2026-03-02"
    assert bench_repayments >= load.repayments > 0
    assert entries
    assert "while close of business and repayments write" in str(render_console_bench(result).title)
