"""Close of business from the admin API on SQLite and PostgreSQL: a start answers 202 with a
running run that then completes in the background, with every step of the day and its
timing on record; several days in one run; and what is refused. (A run that fails on the
payment channel and is resumed, and a start while one runs: test_admin_cob_live.py.)"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from .console_support import (
    Console,
    console_fixture,  # noqa: F401
)

STEPS = [
    "due",
    "dpd",
    "penalty",
    "payments",
    "withholding",
    "reminders",
    "cases",
    "early_warning",
    "allocate",
    "snapshot",
    "advance",
]


def finished(c: Console, run_id: int, who: str = "ops") -> dict[str, Any]:
    """The run once it has ended (polled as the console does; bounded, not timed)."""
    seen: list[str] = []
    for _ in range(600):
        run = c.call("GET", f"/cob/runs/{run_id}", who)
        seen.append(run["status"])
        if run["status"] != "running":
            assert set(seen) <= {"running", run["status"]}
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} still running: {run}")


def test_a_start_answers_at_once_and_the_run_completes(console: Console) -> None:
    c = console
    c.book()  # a loan on the book
    day = c.business_date()
    started = c.call("POST", "/cob/runs", "ops", 202)
    assert started["status"] == "running" and started["first_date"] == day.isoformat()
    assert (started["days_done"], started["days_total"]) == (0, 1)
    assert started["withholding"] and started["started_by"] == "ops"
    status = c.call("GET", "/cob/status", "admin")
    assert status["latest"]["id"] == started["id"]

    run = finished(c, started["id"])
    assert run["status"] == "done" and run["error"] is None
    assert (run["days_done"], run["working_date"]) == (1, day.isoformat())
    (closed,) = run["days"]
    assert [s["step"] for s in closed["steps"]] == STEPS
    assert all(s["status"] == "done" and s["seconds"] is not None for s in closed["steps"])
    snapshot = next(s for s in closed["steps"] if s["step"] == "snapshot")
    assert snapshot["rows"] >= 1 and snapshot["partitions_done"] >= 1
    assert c.business_date() == day + timedelta(days=1)
    listed = c.call("GET", "/cob/runs", "admin")
    assert listed["items"][0]["id"] == run["id"]
    assert not c.call("GET", "/cob/status", "ops")["running"]


def test_several_days_in_one_run_and_the_refusals(console: Console) -> None:
    c = console
    day = c.business_date()
    until = (day + timedelta(days=2)).isoformat()
    run = finished(c, c.call("POST", "/cob/runs", "admin", 202, json={"until": until})["id"])
    assert (run["status"], run["days_done"], run["days_total"]) == ("done", 3, 3)
    assert [d["business_date"] for d in run["days"]] == [
        (day + timedelta(days=n)).isoformat() for n in range(3)
    ]
    assert c.business_date() == day + timedelta(days=3)

    c.refused("POST", "/cob/runs", "finance", 403, "PERMISSION_DENIED")
    c.refused("GET", "/cob/runs", "reviewer", 403, "PERMISSION_DENIED")
    c.refused("POST", "/cob/runs", "ops", 400, "INVALID_VALUE", json={"until": day.isoformat()})
    c.refused("POST", "/cob/runs", "ops", 400, "INVALID_VALUE", json={"until": "2099-01-01"})
    c.refused("POST", f"/cob/runs/{run['id']}/resume", "ops", 409, "COB_RUN_STATE")
    c.refused("POST", "/cob/runs/99999/resume", "ops", 404, "NOT_FOUND")
    c.refused("GET", "/cob/runs/99999", "ops", 404, "NOT_FOUND")


def test_a_start_while_a_run_goes_on_is_refused(console: Console) -> None:
    """On PostgreSQL the run is held at its snapshot step by a lock the test takes on the
    snapshot table: the start has answered, the run shows `running` at `snapshot`, a second
    start is refused; once the lock goes the run completes."""
    c = console
    if c.backend != "postgresql":
        pytest.skip("a table lock that holds the run but not the API: PostgreSQL")
    import psycopg

    c.book()  # an open loan: the snapshot step writes its row
    with psycopg.connect(c.database_url) as blocker:
        blocker.execute("LOCK TABLE loan_snapshots IN EXCLUSIVE MODE")
        started = c.call("POST", "/cob/runs", "ops", 202)
        held = c.call("GET", f"/cob/runs/{started['id']}", "ops")
        for _ in range(100):  # the run reaches the lock (its progress is written twice a second)
            if held["current_step"] == "snapshot":
                break
            time.sleep(0.05)
            held = c.call("GET", f"/cob/runs/{started['id']}", "ops")
        assert (held["status"], held["current_step"]) == ("running", "snapshot")
        assert c.call("GET", "/cob/status", "ops")["running"]
        c.refused("POST", "/cob/runs", "admin", 409, "COB_RUNNING")
        blocker.rollback()
    assert finished(c, started["id"])["status"] == "done"


def test_a_run_of_a_process_that_ended_does_not_hold_the_next(console: Console) -> None:
    """A run another process is running (its heartbeat fresh) holds starts off; one whose
    process stopped (no heartbeat for minutes) is marked failed and the start goes on."""
    from xindai.store.models_admin import CobRun

    c = console
    now = c.platform.clock()
    day = c.business_date()
    with c.platform.sessions.begin() as session:
        elsewhere = CobRun(
            first_date=day,
            until_date=day,
            status="running",
            withholding=False,
            started_by="ops2",
            started_at=now,
            heartbeat_at=now,
            days_total=1,
        )
        session.add(elsewhere)
    c.refused("POST", "/cob/runs", "ops", 409, "COB_RUNNING")
    with c.platform.sessions.begin() as session:
        row = session.get(CobRun, elsewhere.id)
        row.heartbeat_at = now - timedelta(minutes=10)
    run = finished(c, c.call("POST", "/cob/runs", "ops", 202)["id"])
    assert run["status"] == "done"
    interrupted = c.call("GET", f"/cob/runs/{elsewhere.id}", "ops")
    assert interrupted["status"] == "failed" and "interrupted" in interrupted["error"]
