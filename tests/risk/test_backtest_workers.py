"""Back-testing with worker processes that share the chunks with the calling process: the
report is exactly the one-process report; a failing worker, or one that dies without a word,
makes `backtest` raise instead of hanging; no worker outlives the back-test."""

from __future__ import annotations

import multiprocessing
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import xindai.risk.backtest as bt
from xindai.bench.decide import build_population
from xindai.bootstrap import bootstrap
from xindai.platform import Platform
from xindai.risk.default_strategy import default_strategy_graph
from xindai.risk.engine.store import record
from xindai.risk.engine.strategy import StrategyVersion
from xindai.settings import Settings
from xindai.store import repository as repo
from xindai.store.db import make_engine, transaction
from xindai.store.models_origination import Application, DecisionRecord
from xindai.store.repository import NotFound

NOW = datetime(2026, 11, 28, 10, 0, 0)
APPLICATIONS = 48
CHUNK = 4  # twelve chunks: enough to share out
PATIENCE_SECONDS = 120.0  # a generous bound on a worker's start, so that no test can hang


def _stricter() -> dict[str, Any]:
    """The default strategy rejecting far more by score (cut-off 520 raised to 600)."""
    graph = default_strategy_graph()
    for node in graph["nodes"]:
        for rule in node.get("content", {}).get("rules", []):
            for key, cell in list(rule.items()):
                if cell == "< 520":
                    rule[key] = "< 600"
    return graph


@pytest.fixture
def platform(session_factory: sessionmaker[Session], settings: Settings) -> Platform:
    """A platform whose database holds `APPLICATIONS` decided applications and a stricter
    candidate version (v2) of the live strategy (v1)."""
    built = Platform.from_settings(settings, sessions=session_factory, clock=lambda: NOW)
    bootstrap(session_factory, cipher=built.cipher, today=NOW.date())
    with session_factory.begin() as session:
        repo.set_business_date(session, NOW.date())
    population = build_population(built, APPLICATIONS, seed=11, now=NOW)
    for application_id in population.applications:
        built.decisions.decide_pending(application_id)
    with session_factory.begin() as session:
        registry = built.decisions.registry(session)
        _, candidate, event = registry.create(
            _stricter(), actor="risk", at=NOW.isoformat(), notes="candidate"
        )
        record(session, event, candidate)
    return built


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small chunks (the workers get the ranges, so this reaches them too) and workers for
    any population."""
    monkeypatch.setattr(bt, "CHUNK", CHUNK)
    monkeypatch.setattr(bt, "IN_PROCESS_BELOW", 0)


def _versions(platform: Platform, session: Session) -> tuple[StrategyVersion, StrategyVersion]:
    registry = platform.decisions.registry(session)
    return registry.version(2), registry.version(1)


def _run(
    platform: Platform, workers: int, *, swapped: bool = False, **options: Any
) -> bt.BacktestReport:
    """v2 against the live v1 (the live side reuses the stored decisions), or `swapped`: v1
    against v2 as if it were live (every live decision is made again)."""
    with transaction(platform.sessions, read_only=True) as session:
        candidate, live = _versions(platform, session)
        if swapped:
            candidate, live = live, candidate
        return bt.backtest(
            session,
            candidate=candidate,
            live=live,
            start=NOW.date(),
            end=NOW.date(),
            workers=workers,
            **options,
        )


def _comparable(report: bt.BacktestReport) -> dict[str, Any]:
    data = report.to_json()
    return {
        "candidate": data["candidate"],
        "live": data["live"],
        "swaps": dict(report.swaps),
        "outcomes": (dict(report.candidate.outcomes), dict(report.live.outcomes)),
    }


@contextmanager
def _workers_first(claimed: int = 1) -> Iterator[None]:
    """Within the block this process claims its first chunk of a back-test only once the
    workers have claimed `claimed`: whatever the machine's speed, the workers take part.
    (Only this process is patched: a spawned worker imports the module afresh.)"""
    real: Callable[..., int | None] = bt._claim
    waited: set[int] = set()  # the shared counters (one per back-test) already waited on

    def claim(claims: Any, total: int) -> int | None:
        if id(claims) not in waited:
            deadline = time.monotonic() + PATIENCE_SECONDS
            while claims.value < claimed and time.monotonic() < deadline:
                time.sleep(0.005)
            waited.add(id(claims))
        return real(claims, total)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bt, "_claim", claim)
        yield


def _no_worker_left() -> bool:
    return not [p for p in multiprocessing.active_children() if p.name.startswith("xindai-")]


def test_workers_give_exactly_the_one_process_report(platform: Platform) -> None:
    one, back = _run(platform, workers=1), _run(platform, workers=1, swapped=True)
    assert one.workers == 1 and one.worker_applications == 0
    assert one.applications == APPLICATIONS and one.steady_seconds == 0
    assert any(live != cand for live, cand in one.swaps)  # the candidate does differ
    assert dict(back.swaps) == {(c, lv): n for (lv, c), n in one.swaps.items()}
    # a worker takes far longer to start than the caller takes to decide it all: late
    # workers find nothing to claim, and are stopped
    alone = _run(platform, workers=2)
    assert _comparable(alone) == _comparable(one) and alone.workers == 2
    assert _no_worker_left()
    # the workers claim first: they decide part (or all) of the period
    merged: list[int] = []
    with _workers_first():
        shared = _run(platform, workers=3, progress=merged.append)
    assert _comparable(shared) == _comparable(one)
    assert shared.workers == 3 and 0 < shared.worker_applications <= APPLICATIONS
    assert sum(merged) == APPLICATIONS and len(merged) == APPLICATIONS // CHUNK
    assert shared.steady_applications <= APPLICATIONS - CHUNK
    with _workers_first():
        shared_back = _run(platform, workers=2, swapped=True)
    assert _comparable(shared_back) == _comparable(back) and shared_back.worker_applications
    assert _no_worker_left()


def test_a_small_period_is_decided_here_and_its_workers_stopped(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers are started before the period is planned; a period too small to need them
    stops them at once, unused."""
    monkeypatch.setattr(bt, "IN_PROCESS_BELOW", APPLICATIONS + 1)
    main = sys.modules["__main__"]
    report = _run(platform, workers=2)
    assert report.workers == 1 and report.worker_applications == 0 and _no_worker_left()
    assert _comparable(report) == _comparable(_run(platform, workers=1))
    assert sys.modules["__main__"] is main  # hidden only while the workers were started


def test_a_product_that_cannot_be_loaded_fails_the_back_test(platform: Platform) -> None:
    """The caller loads the period's products for everyone: a missing one is its error."""
    with platform.sessions.begin() as session:
        decided = select(DecisionRecord.application_id).limit(1).scalar_subquery()
        application = session.scalars(select(Application).where(Application.id == decided))
        application.one().product_version = 99
    with pytest.raises(NotFound, match="v99"):
        _run(platform, workers=2)
    assert _no_worker_left()


def test_the_live_version_against_itself_needs_no_second_decision(platform: Platform) -> None:
    with _workers_first(), transaction(platform.sessions, read_only=True) as session:
        _, live = _versions(platform, session)
        report = bt.backtest(
            session, candidate=live, live=live, start=NOW.date(), end=NOW.date(), workers=2
        )
    assert report.worker_applications > 0
    assert all(before == after for before, after in report.swaps)
    assert report.live.to_json() == report.candidate.to_json() | {"label": report.live.label}


def test_a_failing_worker_is_reported_not_waited_for(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The workers are given a database without the tables: the chunk a worker claims fails
    to load, and the caller raises that worker's error."""
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    make_engine(empty).dispose()
    monkeypatch.setattr(bt, "_database_url", lambda session: empty)
    with (
        _workers_first(),
        pytest.raises(bt.BacktestWorkerError, match=r"worker 1 failed: .*decisions") as info,
    ):
        _run(platform, workers=2)
    assert "Traceback" in str(info.value.__cause__)  # the worker's own, across the pipe
    assert info.value.code == "BACKTEST_WORKER_FAILED"
    assert _no_worker_left()


def test_a_worker_that_dies_silently_is_noticed() -> None:
    """A worker that ends without a message (killed, out of memory) while a part is owed."""
    job = bt._Job(None, None, "", NOW.date(), NOW.date())  # type: ignore[arg-type]
    workers = bt._Workers(1, job)
    context = multiprocessing.get_context("spawn")
    workers.processes = [context.Process(target=sys.exit, args=(3,), name="xindai-dies")]
    report = bt.BacktestReport(bt.SideStats("c"), bt.SideStats("l"))
    workers.start()
    try:
        with pytest.raises(bt.BacktestWorkerError, match=r"exited \(code 3\)"):
            workers.wait(bt._Merger(report, None), total=1)
    finally:
        workers.stop()
    assert _no_worker_left()
