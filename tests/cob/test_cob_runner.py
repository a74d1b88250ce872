"""The close-of-business runner: a date closed twice is closed once, a crash between or
inside partitions resumes to the same result, business-date rules, registered steps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from xindai.cob import (
    DEFAULT_REGISTRY,
    CobError,
    CobProgress,
    StepContext,
    StepRegistry,
    run_cob,
)
from xindai.store import repository as repo
from xindai.store.db import transaction
from xindai.store.models import CobStepRun, Loan

START = date(2025, 3, 3)


class Crash(Exception):
    pass


def _runs(sessions: sessionmaker[Session], day: date) -> dict[str, tuple[str, int]]:
    with transaction(sessions, read_only=True) as session:
        return {
            r.step: (r.status, r.rows)
            for r in session.scalars(select(CobStepRun).where(CobStepRun.business_date == day))
        }


def test_closing_a_closed_date_again_changes_nothing(
    make_world: Callable[..., Any], dump: Callable[[Engine], Any]
) -> None:
    world = make_world(seed=7, start=START, initial_loans=50, new_per_day=1, history_days=60)
    for _ in range(6):
        world.run_day()
    before = dump(world.engine)
    last = world.today - timedelta(days=1)
    summary = run_cob(world.engine, date=last, partition_size=world.partition_size)
    assert [day.business_date for day in summary.days] == [last]
    assert summary.days[0].skipped and summary.business_date == world.today
    assert any(s.rows for s in summary.days[0].steps[:-1])  # the first run's rows, reported
    assert run_cob(world.engine, until=last).days == ()  # nothing left to close
    assert dump(world.engine) == before
    world.check()


def test_a_crash_between_or_inside_partitions_resumes_to_the_same_result(
    make_world: Callable[..., Any],
) -> None:
    world = make_world(
        seed=11, start=START, initial_loans=70, new_per_day=1, history_days=60, partition_size=16
    )
    for _ in range(3):
        world.run_day()

    # 1. the process dies after the second committed partition of the penalty step
    day = world.today
    world.services(day)

    def die_after_two(event: CobProgress) -> None:
        if event.step == "penalty" and event.partition == 2 and not event.done:
            raise Crash

    with pytest.raises(Crash):  # one worker: exactly the first two partitions are committed
        run_cob(world.engine, date=day, partition_size=16, progress=die_after_two, workers=1)
    runs = _runs(world.sessions, day)
    assert runs["penalty"][0] == "running" and runs["dpd"][0] == "done"
    assert {s for s in runs if s.startswith("penalty/")} == {"penalty/0", "penalty/1"}
    with transaction(world.sessions, read_only=True) as session:
        assert repo.get_business_date(session) == day
    events: list[CobProgress] = []
    summary = run_cob(world.engine, partition_size=999, progress=events.append)  # plan kept
    penalty = next(s for s in summary.days[0].steps if s.step == "penalty")
    partition_events = [e for e in events if e.step == "penalty" and e.partition and not e.done]
    assert penalty.partitions == len(partition_events) > 2
    assert [e.partition for e in events if e.step == "penalty" and e.skipped] == [1, 2]
    assert penalty.rows == _runs(world.sessions, day)["penalty"][1]
    world.close_pure(day, snapshots=True)
    world.today = day + timedelta(days=1)
    world.check()

    # 2. the third partition of the due step fails after its work, before its commit (with
    # several workers on PostgreSQL: the others stop after their current partition)
    def failing_due(context: StepContext) -> int:
        rows = DEFAULT_REGISTRY.steps[0].run(context)  # type: ignore[misc]
        if context.lo // 16 == 2:
            raise Crash
        return rows

    steps = tuple(
        replace(step, run=failing_due) if step.name == "due" else step
        for step in DEFAULT_REGISTRY.steps
    )
    day = world.today
    with pytest.raises(Crash):
        world.run_day(registry=StepRegistry(steps))  # the day's services are posted
    runs = _runs(world.sessions, day)
    assert "due/2" not in runs and runs["due/0"][0] == "done"  # the failed one left nothing
    assert runs["due"][0] == "running" and "dpd" not in runs
    run_cob(world.engine, date=day)
    world.close_pure(day, snapshots=True)
    world.today = day + timedelta(days=1)
    for _ in range(4):
        world.run_day()
    world.check()


def test_business_date_rules(
    session_factory: sessionmaker[Session], migrated_engine: Engine
) -> None:
    with pytest.raises(CobError, match="business date is not set"):
        run_cob(migrated_engine)
    with transaction(session_factory) as session:
        repo.set_business_date(session, START)
    with pytest.raises(CobError, match="business date is 2025-03-03"):
        run_cob(migrated_engine, date=START + timedelta(days=1))
    summary = run_cob(session_factory, until=START + timedelta(days=2))
    assert [d.business_date for d in summary.days] == [START + timedelta(days=n) for n in range(3)]
    assert summary.business_date == START + timedelta(days=3)
    first = summary.days[0]
    assert [s.step for s in first.steps] == list(DEFAULT_REGISTRY.names)
    assert all(s.rows == 0 for s in first.steps if s.step != "advance")
    runs = _runs(session_factory, START)
    assert runs["withholding"] == ("done", 0) and runs["reminders"] == ("done", 0)
    assert runs["plan"] == ("done", 200_000)
    with pytest.raises(CobError, match="business date is 2025-03-06"):
        run_cob(migrated_engine, date=START + timedelta(days=4))


def test_registered_steps_run_in_order_and_record_their_rows(
    make_world: Callable[..., Any],
) -> None:
    world = make_world(
        seed=3, start=START, initial_loans=30, new_per_day=0, history_days=30, partition_size=16
    )
    registry = DEFAULT_REGISTRY.copy()
    seen: list[tuple[str, int, int]] = []

    def withhold(context: StepContext) -> int:
        seen.append(("withholding", context.lo, context.hi))
        return int(
            context.scalar(
                "SELECT COUNT(*) FROM installments WHERE loan_id BETWEEN :lo AND :hi"
                " AND status IN ('due', 'overdue')"
            )
        )

    def remind(context: StepContext) -> int:
        seen.append(("sms", context.lo, context.hi))
        return 7

    registry.register("withholding", withhold)
    registry.register("sms", remind, after="reminders", partitioned=False)
    assert registry.names[3:7] == ("withholding", "reminders", "sms", "snapshot")
    world.run_day(registry=registry)
    runs = _runs(world.sessions, START)
    assert runs["sms"] == ("done", 7) and runs["withholding"][1] > 0
    assert [s for s in seen if s[0] == "sms"] == [("sms", 0, 0)]
    assert [s[1:] for s in seen if s[0] == "withholding"] == [(0, 15), (16, 31), (32, 47)]
    world.check()


def test_calls_after_commit_run_several_at_once_and_a_failure_leaves_the_step_running(
    make_world: Callable[..., Any],
) -> None:
    """A step's calls after its commit (withholding's requests to the channel) run
    `AFTER_COMMIT_CALLS` at a time, each once; when one fails the calls not yet started
    are dropped, the run fails and the partition stays running (a resumed run sends again)."""
    import threading
    import time

    from xindai.cob.runner import AFTER_COMMIT_CALLS

    world = make_world(seed=4, start=START, initial_loans=10, new_per_day=0, history_days=10)
    lock = threading.Lock()
    state = {"running": 0, "most": 0, "calls": 0}
    failing = {"on": False}

    def call() -> None:
        with lock:
            state["calls"] += 1
            state["running"] += 1
            state["most"] = max(state["most"], state["running"])
        try:
            time.sleep(0.02)
            if failing["on"]:
                raise Crash("the channel is down")
        finally:
            with lock:
                state["running"] -= 1

    def withhold(context: StepContext) -> int:
        context.after_commit.extend([call] * 40)
        return 40

    registry = DEFAULT_REGISTRY.copy()
    registry.register("withholding", withhold)
    world.run_day(registry=registry)
    assert state["calls"] == 40 and 1 < state["most"] <= AFTER_COMMIT_CALLS
    assert _runs(world.sessions, START)["withholding"] == ("done", 40)

    failing["on"], state["calls"] = True, 0
    with pytest.raises(Crash):
        run_cob(world.engine, registry=registry)
    day = START + timedelta(days=1)
    assert state["calls"] < 40  # those not started when the first failed were dropped
    runs = _runs(world.sessions, day)
    assert runs["withholding/0"][0] == "running" and runs["withholding"][0] == "running"


def test_the_registry_keeps_steps_in_order() -> None:
    registry = StepRegistry()

    def step(context: StepContext) -> int:
        return 0

    registry.register("a", step, after="penalty")
    registry.register("b", step, after="penalty")
    registry.register("a2", step, after="a")
    registry.register("c", step, after="snapshot")
    assert registry.names == (
        "due",
        "dpd",
        "penalty",
        "a",
        "a2",
        "b",
        "withholding",
        "reminders",
        "snapshot",
        "c",
        "advance",
    )
    for name, after, message in (
        ("a", "due", "already registered"),
        ("x", "advance", "must name a step"),
        ("x", None, "must name a step"),
        ("x", "nope", "must name a step"),
        ("has/slash", "due", "step name"),
        ("x" * 21, "due", "step name"),
        ("reminders", "due", "runs after"),
    ):
        with pytest.raises(Exception, match=message):
            registry.register(name, step, after=after)
    registry.register("reminders", step)
    with pytest.raises(Exception, match="already registered"):
        registry.register("reminders", step)
    assert DEFAULT_REGISTRY.names == (
        "due",
        "dpd",
        "penalty",
        "withholding",
        "reminders",
        "snapshot",
        "advance",
    )


def test_the_reports_daily_tables_are_folded_by_close_of_business(
    make_world: Callable[..., Any],
) -> None:
    """After a close, the overview's and the ledger's daily tables hold the closed day (the
    first report of the morning only reads); a report folds nothing more."""
    from xindai.reports.ledger import MARKER as LEDGER_MARKER
    from xindai.reports.overview import MARKER as OVERVIEW_MARKER
    from xindai.reports.overview import overview
    from xindai.store.models import SystemState
    from xindai.store.models_console import DailyAccountTotal, DailySummary

    world = make_world(seed=11, start=START, initial_loans=30, new_per_day=2, history_days=20)
    for _ in range(3):
        world.run_day()
        closed = world.today - timedelta(days=1)
        with transaction(world.sessions, read_only=True) as session:
            markers = {
                key: session.get(SystemState, key).value  # type: ignore[union-attr]
                for key in (OVERVIEW_MARKER, LEDGER_MARKER)
            }
            assert markers == dict.fromkeys(markers, closed.isoformat())
            assert session.scalar(
                select(DailySummary.business_date).where(DailySummary.business_date == closed)
            )
            assert session.scalar(
                select(DailyAccountTotal.business_date).where(
                    DailyAccountTotal.business_date == closed
                )
            )
    figures = overview(world.sessions, channel=None)
    assert figures.trend and figures.trend[-1][0] == closed
    world.check()


@pytest.mark.postgresql
def test_a_partition_holds_its_open_loans_so_that_a_posting_waits_for_it(
    make_world: Callable[..., Any],
) -> None:
    """PostgreSQL: while a step's partition runs, its open loans are locked (a repayment,
    which locks its loan first, waits for the partition's commit instead of committing
    between the step's read and its write); loans of other partitions stay free."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    world = make_world(
        seed=5, start=START, initial_loans=40, new_per_day=0, history_days=30, partition_size=16
    )
    if world.engine.dialect.name != "postgresql":
        pytest.skip("SQLite: a partition holds the database's only write lock")
    with transaction(world.sessions, read_only=True) as session:
        open_ids = sorted(
            session.scalars(select(Loan.id).where(Loan.status.in_(("active", "overdue")))).all()
        )
    seen: dict[str, dict[str, bool]] = {}

    def try_lock(loan_id: int) -> bool:
        with world.engine.connect() as other:
            try:
                other.execute(
                    text("SELECT id FROM loans WHERE id = :id FOR UPDATE NOWAIT"), {"id": loan_id}
                )
            except OperationalError as exc:
                assert "could not obtain lock" in str(exc)
                return False
            finally:
                other.rollback()
            return True

    def probe(name: str) -> Callable[[StepContext], int]:
        def run(context: StepContext) -> int:
            inside = [i for i in open_ids if context.lo <= i <= context.hi]
            outside = [i for i in open_ids if not context.lo <= i <= context.hi]
            if inside and outside and name not in seen:
                seen[name] = {"inside": try_lock(inside[0]), "outside": try_lock(outside[0])}
            return 0

        return run

    registry = DEFAULT_REGISTRY.copy()
    registry.register("probe_due", probe("due"), after="due")
    registry.register("withholding", probe("withholding"))
    registry.register("probe_snap", probe("snapshot"), after="snapshot")
    world.run_day(registry=registry)
    assert seen["due"] == {"inside": False, "outside": True}
    assert seen["withholding"] == {"inside": False, "outside": True}
    assert seen["snapshot"] == {"inside": False, "outside": True}
    world.check()
