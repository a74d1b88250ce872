"""The anti-fraud benchmark runs end to end on a small population (no timing asserts)."""

from __future__ import annotations

from xindai.risk.antifraud.bench import format_result, run_antifraud_bench


def test_small_bench_runs() -> None:
    result = run_antifraud_bench(applicants=400, events=2_000, sample=30, seed=3)
    assert (result.applicants, result.events, result.sample) == (400, 2_000, 30)
    assert set(result.component_mean_us) == {
        "blacklist",
        "velocity",
        "device",
        "bureau",
        "graph",
        "anomaly",
    }
    assert "antifraud_features over 30 applications" in format_result(result)
