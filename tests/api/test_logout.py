"""Sign out on the server, on SQLite and PostgreSQL: `POST /api/v1/admin/auth/logout` and
`POST /api/v1/borrower/auth/logout` revoke the token of the call (audited), after which the
token is refused with 401 AUTH_REQUIRED; the account's other sessions stay signed in."""

from __future__ import annotations

from sqlalchemy import select

from xindai.security import tokens
from xindai.store.models import Borrower
from xindai.store.models_origination import AuditEvent

from .console_support import (
    PASSWORD,
    Console,
    console_fixture,  # noqa: F401
)


def fresh_staff_session(c: Console, username: str) -> dict[str, str]:
    """A new login of `username` (not the module's cached one)."""
    response = c.client.post(
        "/api/v1/admin/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def audit_of(c: Console, action: str, resource_id: int) -> list[AuditEvent]:
    with c.platform.sessions() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == action, AuditEvent.resource_id == str(resource_id)
                )
            )
        )


def test_staff_logout_revokes_only_the_callers_token(console: Console) -> None:
    c = console
    first = fresh_staff_session(c, "ops")
    second = fresh_staff_session(c, "ops")
    me = c.client.get("/api/v1/admin/me", headers=first)
    assert me.status_code == 200, me.text
    staff_id = me.json()["id"]

    answer = c.client.post("/api/v1/admin/auth/logout", headers=first)
    assert answer.status_code == 204, answer.text
    assert answer.content == b""

    refused = c.client.get("/api/v1/admin/me", headers=first)
    assert refused.status_code == 401
    assert refused.json()["code"] == "AUTH_REQUIRED"
    again = c.client.post("/api/v1/admin/auth/logout", headers=first)
    assert again.status_code == 401  # a revoked token cannot sign out twice
    assert c.client.get("/api/v1/admin/me", headers=second).status_code == 200

    events = audit_of(c, "staff.logout", staff_id)
    assert [(e.actor, e.resource) for e in events] == [("ops", "staff_user")]


def test_staff_logout_needs_a_session(console: Console) -> None:
    c = console
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}):
        answer = c.client.post("/api/v1/admin/auth/logout", headers=headers)
        assert answer.status_code == 401, headers
        assert answer.json()["code"] == "AUTH_REQUIRED"


def test_a_borrower_token_cannot_sign_staff_out_nor_the_reverse(console: Console) -> None:
    c = console
    borrower = borrower_session(c)
    staff = fresh_staff_session(c, "ops2")
    assert c.client.post("/api/v1/admin/auth/logout", headers=borrower).status_code == 401
    assert c.client.post("/api/v1/borrower/auth/logout", headers=staff).status_code == 401
    assert c.client.get("/api/v1/borrower/me", headers=borrower).status_code == 200
    assert c.client.get("/api/v1/admin/me", headers=staff).status_code == 200


def borrower_session(c: Console) -> dict[str, str]:
    """A borrower of its own with a session issued as the SMS login issues it."""
    p = c.platform
    with p.sessions.begin() as session:
        borrower = Borrower(
            display_name="139****0009",
            channel="default",
            created_on=c.business_date(),
            mobile_enc=p.cipher.encrypt("phone", "13900000009"),
            kyc_status="none",
        )
        session.add(borrower)
        session.flush()
        issued = tokens.issue_token(session, "borrower", borrower.id, now=p.clock())
    return {"Authorization": f"Bearer {issued.token}"}


def test_borrower_logout_revokes_the_apps_token(console: Console) -> None:
    c = console
    auth = borrower_session(c)
    other_device = borrower_session(c)
    me = c.client.get("/api/v1/borrower/me", headers=auth)
    assert me.status_code == 200, me.text
    borrower_id = me.json()["id"]

    answer = c.client.post("/api/v1/borrower/auth/logout", headers=auth)
    assert answer.status_code == 204, answer.text
    refused = c.client.get("/api/v1/borrower/me", headers=auth)
    assert refused.status_code == 401
    assert refused.json()["code"] == "AUTH_REQUIRED"
    assert c.client.get("/api/v1/borrower/loans", headers=auth).status_code == 401
    assert c.client.get("/api/v1/borrower/me", headers=other_device).status_code == 200

    events = audit_of(c, "borrower.logout", borrower_id)
    assert [(e.actor, e.resource) for e in events] == [(f"borrower:{borrower_id}", "borrower")]
