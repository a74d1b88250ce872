"""The role × route matrix, generated from the app's route table: every admin route
declares the permissions it needs (`api.deps.Permitted`, shown as `x-permissions` in the
OpenAPI document), and a staff member of each of the eight roles is refused with 403 exactly
where the role_permissions table does not give the role one of them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select
from tests.api.lists_support import (
    ROLE_USERS,
    Lists,
    lists_fixture,  # noqa: F401
)

from xindai.api.deps import current_staff, declared_permissions
from xindai.security.rbac import ROLES, permissions_for
from xindai.store.models_origination import RolePermission

ADMIN = "/api/v1/admin/"
ANY_STAFF = {  # routes every signed-in staff member may call: their own account
    ("GET", "/api/v1/admin/me"),
    ("POST", "/api/v1/admin/me/totp"),
    ("POST", "/api/v1/admin/me/totp/confirm"),
}


def api_routes(routes: list[Any]) -> list[APIRoute]:
    """The app's routes, routers included (FastAPI keeps an included router as one entry)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += api_routes(route.original_router.routes)
    return found


def admin_routes(lists: Lists) -> list[tuple[str, str, APIRoute]]:
    found = []
    for route in api_routes(lists.app.routes):
        if not route.path.startswith(ADMIN):
            continue
        if route.path.startswith(f"{ADMIN}auth/"):
            continue
        for method in sorted(route.methods):
            found.append((method, route.path, route))
    return found


def _calls(dependant: Any) -> set[Any]:
    calls: set[Any] = set()
    for sub in dependant.dependencies:
        calls.add(sub.call)
        calls |= _calls(sub)
    return calls


def test_every_admin_route_declares_its_permission(lists: Lists) -> None:
    routes = admin_routes(lists)
    assert len(routes) > 40
    document = lists.client.get("/openapi.json").json()
    undeclared = []
    for method, path, route in routes:
        declared = declared_permissions(route.dependant)
        if declared is None:
            if (method, path) not in ANY_STAFF:
                undeclared.append(f"{method} {path}")
            else:
                assert current_staff in _calls(route.dependant), path
            continue
        operation = document["paths"][path][method.lower()]
        assert operation["x-permissions"] == list(declared), path
        assert "403" in operation["responses"], path
    assert undeclared == [], (
        "declare the permission: staff: Annotated[Staff, permitted('…')] (api.deps.Permitted)"
    )


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "X" if m.group(0) == "{code}" else "1", path)


@pytest.mark.parametrize("role", list(ROLES))
def test_a_role_is_refused_exactly_where_it_lacks_the_permission(lists: Lists, role: str) -> None:
    with lists.platform.sessions() as session:
        granted = permissions_for(session, role)
        assert granted == frozenset(
            session.scalars(select(RolePermission.permission).where(RolePermission.role == role))
        )
    auth = lists.auth(ROLE_USERS[role])
    wrong: list[str] = []
    tried = refusals = 0
    for method, path, route in admin_routes(lists):
        needed = declared_permissions(route.dependant) or ()
        lacks = any(p not in granted for p in needed)
        answer = lists.client.request(method, _concrete(path), headers=auth)
        refused = answer.status_code == 403
        tried, refusals = tried + 1, refusals + refused
        if refused != lacks or answer.status_code >= 500:
            wrong.append(f"{method} {path}: {answer.status_code} {answer.text[:120]}")
        if refused:
            body = answer.json()
            assert body["code"] == "PERMISSION_DENIED", (path, body)
    assert wrong == [], f"{role} (has {sorted(granted)}):\n" + "\n".join(wrong)
    assert 0 < refusals < tried - len(ANY_STAFF)  # every role may do something, none all


def test_the_matrix_is_the_table_an_administrator_edits(lists: Lists) -> None:
    from xindai.security.rbac import DEFAULT_MATRIX, set_permissions

    auth = lists.auth(ROLE_USERS["finance"])
    assert lists.client.get("/api/v1/admin/loans", headers=auth).status_code == 200
    assert lists.client.get("/api/v1/admin/audit", headers=auth).status_code == 403
    with lists.platform.sessions.begin() as session:
        set_permissions(
            session, "finance", (DEFAULT_MATRIX["finance"] - {"loans.read"}) | {"audit.read"}
        )
    try:
        assert lists.client.get("/api/v1/admin/loans", headers=auth).status_code == 403
        assert lists.client.get("/api/v1/admin/audit", headers=auth).status_code == 200
    finally:
        with lists.platform.sessions.begin() as session:
            set_permissions(session, "finance", DEFAULT_MATRIX["finance"])
