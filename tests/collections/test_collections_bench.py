"""`xindai bench collections` on a small book (it prints figures; nothing here asserts a
time): close of business with the collection steps, then the workbench over HTTP against a
served `xindai serve` with real collector logins — every next-case and case-detail call
answers 200 with a case — and the in-process guardrail check; the report renders."""

from __future__ import annotations

from rich.console import Console

from xindai.bench.collections import render_collections_bench, run_collections_bench
from xindai.bench.collections_http import CALLS
from xindai.settings import Settings


def test_the_bench_times_next_case_and_case_detail_over_http(settings: Settings) -> None:
    result = run_collections_bench(None, loans=1_500, days=2, samples=12)
    assert result.dialect == "sqlite" and result.open_cases[-1] > 0
    http = result.http
    assert http is not None and http.workers == 1
    assert [(t.call, t.clients) for t in http.calls] == [
        (CALLS[0], 1),
        (CALLS[1], 1),
        (CALLS[0], 4),
        (CALLS[1], 4),
    ]
    for times in http.calls:
        assert times.statuses == {200: 12}, (times.call, times.clients, times.statuses)
        assert len(times.millis) == 12 and all(ms > 0 for ms in times.millis)
        assert times.empty == 0  # each collector had a workable case: no cheap empty answer
        assert times.p50 <= times.p95 <= max(times.millis)
    assert len(http.round_seconds) == 2
    assert len(http.collectors) == 8
    assert all(c.open_cases >= len(c.case_ids) >= 1 for c in http.collectors)
    assert sorted((c.open_cases for c in http.collectors), reverse=True) == [
        c.open_cases for c in http.collectors
    ]  # the busiest first
    assert len(result.guardrail_ms) == 12
    console = Console(width=200, record=True)
    console.print(render_collections_bench(result))
    printed = console.export_text()
    assert "Workbench over HTTP" in printed and "guardrail check" in printed
    assert "200×12" in printed
