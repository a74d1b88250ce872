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
