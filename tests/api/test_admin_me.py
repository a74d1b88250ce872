"""GET /api/v1/admin/me: who the staff member is and the menus the role_permissions table
lets them see (security.menus); an edit of the table changes the menus at once."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Local

from xindai.security.menus import MENUS, all_menus, menus_for
from xindai.security.rbac import DEFAULT_MATRIX, PERMISSIONS, set_permissions


def keys(menus: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for menu in menus:
        found.append(menu["key"])
        found.extend(keys(menu["children"]))
    return found


def test_every_menu_path_and_permission_is_known() -> None:
    paths = [m.path for m in all_menus()]
    assert len(paths) == len(set(paths))
    for menu in all_menus():
        assert all(p in PERMISSIONS for p in menu.any_of)
        assert bool(menu.children) != bool(menu.any_of) or menu.key == "totp"
    assert [m.zh for m in MENUS][:3] == ["平台概览", "客户管理", "申请管理"]


def test_menus_follow_the_default_matrix() -> None:
    assert keys(menus_for(DEFAULT_MATRIX["admin"])) == [
        "overview",
        "cob",
        "system",
        "staff",
        "roles",
        "audit",
        "config",
        "totp",
    ]
    assert keys(menus_for(DEFAULT_MATRIX["agent"])) == [
        "overview",
        "borrowers",
        "applications",
        "loans",
        "repayments",
        "products",
        "system",
        "totp",
    ]
    finance = keys(menus_for(DEFAULT_MATRIX["finance"]))
    assert "approvals" in finance and "review" not in finance and "payouts" in finance
    risk = keys(menus_for(DEFAULT_MATRIX["risk"]))
    assert {"approval", "approvals", "review", "strategies", "blacklist"} <= set(risk)
    assert keys(menus_for(set())) == ["system", "totp"]  # only the second factor


def test_me_answers_role_permissions_and_menus(local: Local) -> None:
    answer = local.client.get("/api/v1/admin/me", headers=local.staff_auth("reviewer"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["username"] == "reviewer"
    assert (body["role"], body["role_zh"], body["role_en"]) == ("risk", "风控", "Risk")
    assert body["permissions"] == sorted(DEFAULT_MATRIX["risk"])
    assert body["totp_active"] is False
    assert len(body["business_date"]) == 10
    assert body["menus"] == menus_for(DEFAULT_MATRIX["risk"])
    approval = next(m for m in body["menus"] if m["key"] == "approval")
    assert [c["path"] for c in approval["children"]] == ["/approvals", "/review"]


def test_an_edit_of_role_permissions_changes_the_menus(local: Local) -> None:
    platform = local.app.state.platform
    auth = local.staff_auth("ops")
    before = keys(local.client.get("/api/v1/admin/me", headers=auth).json()["menus"])
    assert "blacklist" not in before and "cob" in before
    with platform.sessions.begin() as session:
        set_permissions(session, "operations", {"blacklist.manage", "reports.read"})
    try:
        after = local.client.get("/api/v1/admin/me", headers=auth).json()
        assert after["permissions"] == ["blacklist.manage", "reports.read"]
        assert keys(after["menus"]) == ["overview", "blacklist", "system", "totp"]
    finally:
        with platform.sessions.begin() as session:
            set_permissions(session, "operations", DEFAULT_MATRIX["operations"])


def test_me_needs_a_staff_session(local: Local) -> None:
    answer = local.client.get("/api/v1/admin/me")
    assert answer.status_code == 401
    assert answer.json()["code"] == "AUTH_REQUIRED"
