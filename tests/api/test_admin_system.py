"""System administration through the admin API on SQLite and PostgreSQL: staff accounts
(list, deactivate, unlock, reset the second factor), the permission matrix edited as data
(taking effect at the next call; nobody may be left able to manage staff), and the
effective configuration with its secrets masked."""

from __future__ import annotations

import pyotp
from sqlalchemy import select

from xindai.security.rbac import DEFAULT_MATRIX
from xindai.store.models_origination import AuditEvent

from .console_support import (
    PASSWORD,
    Console,
    console_fixture,  # noqa: F401
)


def login(c: Console, username: str, password: str = PASSWORD, totp: str | None = None):
    body = {"username": username, "password": password} | ({"totp": totp} if totp else {})
    return c.client.post("/api/v1/admin/auth/login", json=body)


def create(c: Console, username: str, role: str, **extra: object) -> dict:
    body = {"username": username, "password": PASSWORD, "role": role, **extra}
    return c.call("POST", "/staff", "admin", 201, json=body)


def test_staff_are_listed_and_an_account_is_deactivated(console: Console) -> None:
    c = console
    c.auth("finance2")  # a login on record
    finance = c.call("GET", "/staff?role=finance&sort=username", "admin")
    assert [s["username"] for s in finance["items"]] == ["finance", "finance2"]
    assert finance["items"][1]["last_login_at"] is not None
    assert finance["items"][0]["role_zh"] == "财务" and finance["items"][0]["active"]
    assert c.call("GET", "/staff?q=FIN", "admin")["total"] == 2
    c.refused("GET", "/staff", "ops", 403, "PERMISSION_DENIED")

    leaver = create(c, "leaver", "customer_service")
    token = login(c, "leaver").json()["token"]
    assert (
        c.client.get("/api/v1/admin/me", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    gone = c.call("POST", f"/staff/{leaver['id']}/deactivate", "admin")
    assert gone["active"] is False
    assert (
        c.client.get("/api/v1/admin/me", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
    assert login(c, "leaver").json()["code"] == "LOGIN_FAILED"
    assert c.call("GET", "/staff?active=false", "admin")["items"][0]["username"] == "leaver"

    (me,) = c.call("GET", "/staff?q=admin", "admin")["items"]
    c.refused("POST", f"/staff/{me['id']}/deactivate", "admin", 409, "STAFF_OWN_ACCOUNT")
    c.refused("POST", f"/staff/{me['id']}/reset-totp", "admin", 409, "STAFF_OWN_ACCOUNT")
    c.refused("POST", "/staff/99999/deactivate", "admin", 404, "STAFF_NOT_FOUND")


def test_a_locked_account_is_unlocked_and_a_lost_second_factor_reset(console: Console) -> None:
    c = console
    locked = create(c, "forgetful", "operations")
    for _ in range(10):
        answer = login(c, "forgetful", "wrong-password-1")
        if answer.status_code == 429:
            break
    assert answer.json()["code"] == "LOGIN_LOCKED"
    assert login(c, "forgetful").status_code == 429  # the right password too, while locked
    c.call("POST", f"/staff/{locked['id']}/unlock", "admin")
    assert login(c, "forgetful").status_code == 200

    with_factor = create(c, "phone-lost", "risk", with_totp=True)
    secret = pyotp.parse_uri(with_factor["totp_uri"]).secret
    assert login(c, "phone-lost").json()["code"] == "TOTP_REQUIRED"
    assert login(c, "phone-lost", totp=pyotp.TOTP(secret).now()).status_code == 200
    listed = c.call("GET", "/staff?q=phone-lost", "admin")["items"][0]
    assert listed["totp_active"]
    reset = c.call("POST", f"/staff/{with_factor['id']}/reset-totp", "admin")
    assert not reset["totp_active"] and not reset["totp_pending"]
    assert login(c, "phone-lost").status_code == 200  # the password alone, to enrol again
    with c.platform.sessions() as session:
        actions = set(
            session.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.resource == "staff_user", AuditEvent.actor == "admin"
                )
            )
        )
    assert {"staff.create", "staff.unlock", "staff.totp_reset", "staff.deactivate"} <= actions


def test_the_permission_matrix_is_data_and_someone_can_always_manage_staff(
    console: Console,
) -> None:
    c = console
    matrix = c.call("GET", "/roles", "admin")
    by_role = {r["role"]: r for r in matrix["roles"]}
    assert set(by_role) == set(DEFAULT_MATRIX) and len(matrix["permissions"]) > 40
    assert by_role["finance"]["permissions"] == sorted(DEFAULT_MATRIX["finance"])
    assert by_role["agent"]["scope"] == "own_channel" and by_role["admin"]["staff"] >= 1

    admin_set = sorted(DEFAULT_MATRIX["admin"])
    without_manage = [p for p in admin_set if p != "staff.manage"]
    refused = c.refused(
        "PUT",
        "/roles/admin/permissions",
        "admin",
        409,
        "STAFF_LAST_MANAGER",
        json={"permissions": without_manage},
    )
    assert "staff.manage" in refused["message"]["en"]
    c.refused(
        "PUT",
        "/roles/admin/permissions",
        "admin",
        400,
        "INVALID_VALUE",
        json={"permissions": [*admin_set, "loans.print_money"]},
    )
    c.refused(
        "PUT", "/roles/wizard/permissions", "admin", 400, "INVALID_VALUE", json={"permissions": []}
    )
    c.refused(
        "PUT", "/roles/ops/permissions", "ops", 403, "PERMISSION_DENIED", json={"permissions": []}
    )

    # operations may reconcile from its next call on, then no longer
    c.refused("GET", "/reconciliation/runs", "ops", 403, "PERMISSION_DENIED")
    ops_set = sorted(DEFAULT_MATRIX["operations"])
    changed = c.call(
        "PUT",
        "/roles/operations/permissions",
        "admin",
        json={"permissions": [*ops_set, "ledger.reconcile", "staff.manage"]},
    )
    assert (changed["added"], changed["removed"]) == (["ledger.reconcile", "staff.manage"], [])
    c.call("GET", "/reconciliation/runs", "ops")
    # with operations able to manage staff, the administrators may give it up
    c.call("PUT", "/roles/admin/permissions", "admin", json={"permissions": without_manage})
    c.refused("GET", "/roles", "admin", 403, "PERMISSION_DENIED")
    restored = c.call("PUT", "/roles/admin/permissions", "ops", json={"permissions": admin_set})
    assert restored["added"] == ["staff.manage"]
    back = c.call("PUT", "/roles/operations/permissions", "admin", json={"permissions": ops_set})
    assert sorted(back["removed"]) == ["ledger.reconcile", "staff.manage"]
    c.refused("GET", "/reconciliation/runs", "ops", 403, "PERMISSION_DENIED")
    with c.platform.sessions() as session:
        edits = session.scalars(
            select(AuditEvent.resource_id).where(AuditEvent.action == "role.permissions")
        ).all()
    assert edits == ["operations", "admin", "admin", "operations"]


def test_the_configuration_is_shown_with_its_secrets_masked(console: Console) -> None:
    c = console
    answer = c.call("GET", "/settings", "admin")
    items = {item["key"]: item for item in answer["items"]}
    assert items["pii_key"]["value"] == "<development default>"
    assert items["pii_key"]["development_default"] and items["pii_key"]["type"] == "secret"
    assert items["provider_secret"]["value"] == "<set>"  # the fixture's own secret
    assert items["review_sla_minutes"] == {
        **items["review_sla_minutes"],
        "value": 120,
        "variable": "XINDAI_REVIEW_SLA_MINUTES",
        "source": "default",
        "editable": False,
    }
    assert items["providers_url"]["source"] == "configured"
    assert "XINDAI_PII_KEY" in answer["development_defaults"]
    text = str(answer)
    assert "console-secret" not in text and "xindai-development" not in text
    c.refused("GET", "/settings", "ops", 403, "PERMISSION_DENIED")
