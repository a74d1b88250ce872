"""Risk strategies through the admin API on SQLite and PostgreSQL, over applications decided
by the live strategy: versions and their JDM graph, a version tried on a stored decision's
inputs (the same decision again), a stricter version created and back-tested against the
live one in the background, champion/challenger, promotion and rollback; and refusals."""

from __future__ import annotations

from typing import Any

import pytest

from xindai.bench.decide import build_population
from xindai.risk.strategies import StrategyAdmin

from .console_support import (
    Console,
    console_fixture,  # noqa: F401
)

APPLICATIONS = 40


@pytest.fixture(scope="module")
def decided(console: Console) -> list[int]:
    """Applications decided by the live strategy (v1), today."""
    p = console.platform
    population = build_population(p, APPLICATIONS, seed=11, now=p.clock())
    for application_id in population.applications:
        p.decisions.decide_pending(application_id)
    return list(population.applications)


def stricter(graph: dict[str, Any]) -> dict[str, Any]:
    """The graph rejecting far more by score (the cut-off 520 raised to 600)."""
    changed = 0
    for node in graph["nodes"]:
        for rule in node.get("content", {}).get("rules", []):
            for key, cell in list(rule.items()):
                if cell == "< 520":
                    rule[key], changed = "< 600", changed + 1
    assert changed
    return graph


def test_versions_a_graph_and_a_version_tried_on_stored_inputs(
    console: Console, decided: list[int]
) -> None:
    c = console
    (live,) = c.call("GET", "/strategies", "reviewer")["items"]
    assert (live["version"], live["role"], live["share"]) == (1, "champion", "1.0000")
    detail = c.call("GET", "/strategies/origination/versions/1", "reviewer")
    assert detail["graph"]["nodes"] and {n["type"] for n in detail["nodes"]} >= {"inputNode"}
    assert len(detail["edges"]) == len(detail["graph"]["edges"])

    application_id = decided[0]
    with c.platform.sessions() as session:
        stored = c.platform.decisions.stored(session, application_id)
    tried = c.call(
        "POST",
        "/strategies/origination/versions/1/test",
        "reviewer",
        json={"inputs": stored.inputs},
    )
    decision = tried["decision"]
    assert (decision["outcome"], decision["grade"]) == (
        stored.decision.outcome,
        stored.decision.grade,
    )
    assert decision["score"] == pytest.approx(stored.decision.score)
    assert decision["fired"] and decision["strategy"] == "origination@v1"
    replayed = c.call(
        "POST",
        "/strategies/origination/versions/1/test",
        "reviewer",
        json={"application_id": application_id},
    )
    assert replayed["differences"] == [] and replayed["stored"]["outcome"] == decision["outcome"]
    c.refused(
        "POST",
        "/strategies/origination/versions/1/test",
        "reviewer",
        400,
        "INVALID_VALUE",
        json={"inputs": {"features": {}}},
    )
    c.refused(
        "POST", "/strategies/origination/versions/1/test", "reviewer", 400, "INVALID_VALUE", json={}
    )
    c.refused(
        "POST",
        "/strategies/origination/versions/9/test",
        "reviewer",
        400,
        "INVALID_VALUE",
        json={"application_id": application_id},
    )
    c.refused("GET", "/strategies", "ops", 403, "PERMISSION_DENIED")


def test_a_stricter_version_is_back_tested_then_split_promoted_and_rolled_back(
    console: Console, decided: list[int]
) -> None:
    c = console
    graph = stricter(c.call("GET", "/strategies/origination/versions/1", "reviewer")["graph"])
    c.refused(
        "POST",
        "/strategies/origination/versions",
        "reviewer",
        400,
        "INVALID_VALUE",
        json={"graph": {"nodes": [], "edges": []}},
    )
    created = c.call(
        "POST",
        "/strategies/origination/versions",
        "reviewer",
        201,
        json={"graph": graph, "notes": "评分门槛提高到 600"},
    )
    assert (created["version"], created["role"], created["note"]) == (
        2,
        "candidate",
        "评分门槛提高到 600",
    )
    c.refused(
        "POST",
        "/strategies/origination/versions",
        "risk2",
        409,
        "STRATEGY_STATE",
        json={"graph": graph},
    )

    today = c.business_date().isoformat()
    started = c.call(
        "POST",
        "/strategies/backtests",
        "reviewer",
        202,
        json={"strategy": "origination", "version": 2, "first_day": today, "last_day": today},
    )
    assert started["status"] == "running" and started["live_version"] == 1
    assert StrategyAdmin.wait(started["id"], timeout=120)
    run = c.call("GET", f"/strategies/backtests/{started['id']}", "reviewer")
    assert run["status"] == "done", run
    report = run["report"]
    assert run["applications"] == report["applications"] == APPLICATIONS
    candidate, live = report["candidate"], report["live"]
    assert candidate["label"] == "origination@v2" and live["label"] == "origination@v1"
    assert candidate["approve_rate"] < live["approve_rate"]
    assert sum(candidate["grades"].values()) == APPLICATIONS
    assert any(s["live"] == "approve" and s["candidate"] == "reject" for s in report["swaps"])
    assert c.call("GET", "/strategies/backtests", "reviewer")["items"][0]["id"] == run["id"]
    c.refused(
        "POST",
        "/strategies/backtests",
        "reviewer",
        400,
        "INVALID_VALUE",
        json={
            "strategy": "origination",
            "version": 2,
            "first_day": today,
            "last_day": "2000-01-01",
        },
    )

    split = c.call(
        "POST",
        "/strategies/origination/challenger",
        "reviewer",
        json={"version": 2, "share": "20%", "reason": "小流量验证"},
    )
    roles = {v["version"]: (v["role"], v["share"]) for v in split}
    assert roles == {1: ("champion", "0.8000"), 2: ("challenger", "0.2000")}
    c.refused(
        "POST",
        "/strategies/origination/challenger",
        "reviewer",
        400,
        "INVALID_VALUE",
        json={"version": 2, "share": "0.9"},
    )
    c.refused(
        "POST",
        "/strategies/origination/versions/2/promote",
        "ops",
        403,
        "PERMISSION_DENIED",
        json={"reason": "x"},
    )
    promoted = c.call(
        "POST",
        "/strategies/origination/versions/2/promote",
        "reviewer",
        json={"reason": "回溯与挑战者表现达标"},
    )
    assert promoted["role"] == "champion" and promoted["promoted_at"]
    c.refused(
        "POST",
        "/strategies/origination/versions/2/promote",
        "reviewer",
        409,
        "STRATEGY_STATE",
        json={"reason": "again"},
    )
    back = c.call("POST", "/strategies/origination/rollback", "risk2", json={"reason": "坏账上升"})
    assert (back["version"], back["role"]) == (1, "champion")
    roles = {v["version"]: v["role"] for v in c.call("GET", "/strategies", "reviewer")["items"]}
    assert roles == {1: "champion", 2: "candidate"}
    with c.platform.sessions() as session:
        assert c.platform.decisions.registry(session).champion == 1
    c.refused(
        "POST",
        "/strategies/origination/rollback",
        "risk2",
        409,
        "STRATEGY_STATE",
        json={"reason": "nothing before v1"},
    )
