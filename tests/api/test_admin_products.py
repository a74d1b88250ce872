"""Products through the admin API on SQLite and PostgreSQL: versions, a version's cost
against its cap, a cost check while editing, a new version by operations, activation by a
second person that retires the version it replaces, retirement; and the refusals — a
definition over its cap, an invalid field, the maker activating, a missing permission."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from xindai.origination.applications import active_product
from xindai.security.rbac import permissions_for, set_permissions
from xindai.store.models_origination import AuditEvent

from .console_support import (
    Console,
    console_fixture,  # noqa: F401
)


def definition(c: Console, code: str = "CASH14", version: int = 1) -> dict[str, Any]:
    detail = c.call("GET", f"/products/{code}/versions/{version}", "ops")
    return dict(detail["definition"])


def test_versions_and_a_version_with_its_cost(console: Console) -> None:
    c = console
    active = c.call("GET", "/products?status=active&page_size=100", "manager")
    assert {row["code"] for row in active["items"]} >= {"CASH14", "INST12", "FLAT6", "WEEK8"}
    flat = c.call("GET", "/products/FLAT6/versions/1", "finance")
    assert flat["status"] == "active" and flat["definition"]["amount_min"] == "1000.00"
    cost = flat["cost"]
    assert cost["within_cap"] and cost["cap"] == "24.00%"
    # a fixed repayment day: the highest cost is over every payout date, above the one date
    assert cost["worst"]["nominal"] == "21.71%"
    assert max(p["nominal"] for p in cost["points"]) <= cost["worst"]["nominal"]
    c.refused("GET", "/products/NOPE/versions/1", "ops", 404, "NOT_FOUND")
    c.refused("GET", "/products", "admin", 403, "PERMISSION_DENIED")


def test_a_cost_check_while_editing_saves_nothing(console: Console) -> None:
    c = console
    edited = {**definition(c), "annual_rate": "0.30"}
    checked = c.call("POST", "/products/check", "ops", json={"definition": edited})
    assert not checked["within_cap"] and checked["worst"]["nominal"] == "30.00%"
    bad = {**edited, "terms": [0]}
    refused = c.refused(
        "POST", "/products/check", "ops", 400, "PRODUCT_INVALID", json={"definition": bad}
    )
    assert refused["field"] == "terms"
    c.refused(
        "POST",
        "/products/check",
        "ops",
        400,
        "PRODUCT_INVALID",
        json={"definition": {**edited, "colour": "red"}},
    )
    assert c.call("GET", "/products?code=CASH14", "ops")["total"] == 1


def test_a_new_version_is_activated_by_a_second_person(console: Console) -> None:
    c = console
    edited = {**definition(c), "annual_rate": "0.20", "amount_max": "6000"}
    over = {**edited, "annual_rate": "0.30"}
    refused = c.refused(
        "POST",
        "/products/CASH14/versions",
        "ops",
        400,
        "RATE_CAP_EXCEEDED",
        json={"definition": over},
    )
    assert "30.00%" in refused["message"]["en"] and "24.00%" in refused["message"]["en"]
    c.refused(
        "POST",
        "/products/CASH14/versions",
        "reviewer",
        403,
        "PERMISSION_DENIED",
        json={"definition": edited},
    )
    draft = c.call(
        "POST",
        "/products/CASH14/versions",
        "ops",
        201,
        json={"definition": edited, "note": "利率上调至 20%"},
    )
    assert (draft["version"], draft["status"], draft["created_by"]) == (2, "draft", "ops")
    assert draft["definition"]["amount_max"] == "6000.00" and draft["cost"]["within_cap"]
    with c.platform.sessions() as session:
        assert active_product(session, "CASH14").version == 1  # a draft sells nothing

    c.refused("POST", "/products/CASH14/versions/2/activate", "ops2", 403, "PERMISSION_DENIED")
    activated = c.call("POST", "/products/CASH14/versions/2/activate", "reviewer")
    assert activated["status"] == "active" and activated["approved_by"] == "reviewer"
    assert activated["activated_on"] == c.business_date().isoformat()
    old = c.call("GET", "/products/CASH14/versions/1", "ops")
    assert (old["status"], old["retired_by"]) == ("retired", "reviewer")
    with c.platform.sessions() as session:
        assert active_product(session, "CASH14").version == 2
    c.refused("POST", "/products/CASH14/versions/2/activate", "risk2", 409, "PRODUCT_STATE")
    with c.platform.sessions() as session:
        actions = [
            (e.action, e.resource_id, e.actor)
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.resource == "product").order_by(AuditEvent.id)
            )
        ]
    assert actions[-3:] == [
        ("product.create", "CASH14@v2", "ops"),
        ("product.retire", "CASH14@v1", "reviewer"),
        ("product.activate", "CASH14@v2", "reviewer"),
    ]


def test_the_maker_cannot_activate_and_a_version_can_be_retired(console: Console) -> None:
    c = console
    with c.platform.sessions.begin() as session:
        before = permissions_for(session, "risk")
        set_permissions(session, "risk", before | {"products.edit"})
    try:
        edited = {**definition(c, "WEEK8"), "grace_days": 3}
        draft = c.call(
            "POST", "/products/WEEK8/versions", "reviewer", 201, json={"definition": edited}
        )
        path = f"/products/WEEK8/versions/{draft['version']}"
        refused = c.refused("POST", f"{path}/activate", "reviewer", 409, "PRODUCT_STATE")
        assert "maker-checker" in refused["message"]["en"]
    finally:
        with c.platform.sessions.begin() as session:
            set_permissions(session, "risk", before)
    discarded = c.call("POST", f"{path}/retire", "risk2", json={"reason": "草稿作废"})
    assert discarded["status"] == "retired"
    c.refused("POST", f"{path}/activate", "risk2", 409, "PRODUCT_STATE")
    c.refused("POST", f"{path}/retire", "risk2", 409, "PRODUCT_STATE", json={"reason": "x"})
    retired = c.call("POST", "/products/WEEK8/versions/1/retire", "risk2", json={"reason": "停售"})
    assert retired["status"] == "retired"
    assert c.call("GET", "/products?code=WEEK8&status=active", "ops")["total"] == 0
