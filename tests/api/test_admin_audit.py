"""Admin calls are audited when a staff member makes them, whatever their outcome; calls
without a staff session write no audit row (a scanner must not fill the table), only a
warning in the log, and only so many a minute."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from xindai.api.app import access_log
from xindai.security.tokens import issue_token
from xindai.store.db import make_engine, session_factory
from xindai.store.models_origination import AuditEvent, StaffUser

from .conftest import Local


def api_rows(local: Local) -> list[AuditEvent]:
    """The admin-API audit rows in the order of the calls (reads are queued by the access
    log and written now)."""
    access_log(local.app).flush()
    engine = make_engine(local.database_url)
    try:
        with session_factory(engine)() as session:
            return list(
                session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.resource == "admin_api")
                    .order_by(AuditEvent.at, AuditEvent.id)
                )
            )
    finally:
        engine.dispose()


def borrower_token(local: Local) -> str:
    platform = local.app.state.platform
    with platform.sessions.begin() as session:
        issued = issue_token(session, "borrower", 1, now=platform.clock(), ttl=timedelta(hours=1))
        return issued.token


def expired_staff_token(local: Local) -> str:
    platform = local.app.state.platform
    with platform.sessions.begin() as session:
        staff_id = session.scalar(select(StaffUser.id).where(StaffUser.username == "reviewer"))
        issued = issue_token(
            session, "staff", staff_id, now=platform.clock() - timedelta(days=2), ttl=timedelta(1)
        )
        return issued.token


def test_unauthenticated_admin_calls_write_no_audit_rows(
    local: Local, caplog: pytest.LogCaptureFixture
) -> None:
    before = len(api_rows(local))
    anonymous = [
        ("GET", "/api/v1/admin/applications", {}),
        ("GET", "/api/v1/admin/applications", {"Authorization": "Bearer forged"}),
        ("GET", "/api/v1/admin/applications", {"Authorization": f"Bearer {borrower_token(local)}"}),
        (
            "GET",
            "/api/v1/admin/applications",
            {"Authorization": f"Bearer {expired_staff_token(local)}"},
        ),
        ("POST", "/api/v1/admin/blacklist", {}),
        ("DELETE", "/api/v1/admin/blacklist/1", {}),
        ("GET", "/api/v1/admin/no-such-thing", {}),
        ("GET", "/api/v1/admin/loans/abc", {}),
    ]
    with caplog.at_level(logging.WARNING, logger="xindai.api"):
        for method, path, headers in anonymous:
            response = local.client.request(method, path, headers=headers)
            assert response.status_code in (401, 404, 422), (path, response.text)
    assert len(api_rows(local)) == before
    warned = [r for r in caplog.records if "unauthenticated admin call" in r.getMessage()]
    assert warned and "/api/v1/admin/applications" in warned[0].getMessage()


def test_anonymous_warnings_are_rate_limited(
    local: Local, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="xindai.api"):
        for _ in range(60):
            local.client.get("/api/v1/admin/applications")
    warned = [r for r in caplog.records if "unauthenticated admin call" in r.getMessage()]
    assert len(warned) <= 20 + 1  # a minute boundary may pass during the loop


def test_staff_calls_are_audited_whatever_their_outcome(local: Local) -> None:
    reviewer = local.staff_auth("reviewer")
    before = len(api_rows(local))
    calls = [
        ("GET", "/api/v1/admin/applications", 200),
        ("POST", "/api/v1/admin/applications/1/payout/retry", 403),  # operations only
        ("GET", "/api/v1/admin/loans/999", 404),
        ("GET", "/api/v1/admin/no-such-thing", 404),  # no route: the token says who
        ("POST", "/api/v1/admin/blacklist", 422),
    ]
    for method, path, status in calls:
        response = local.client.request(method, path, headers=reviewer)
        assert response.status_code == status, (path, response.text)
    rows = api_rows(local)[before:]
    assert [(r.action, r.resource_id, json.loads(r.after or "{}")["status"]) for r in rows] == [
        (f"api.{method.lower()}", path, status) for method, path, status in calls
    ]
    assert len({r.actor for r in rows}) == 1 and rows[0].actor.startswith("staff:")


def test_reads_are_audited_without_waiting_for_the_write_lock(local: Local) -> None:
    """A staff member's read answers while another transaction holds SQLite's write lock;
    its audit row is written once the lock is free."""
    import sqlite3

    reviewer = local.staff_auth("reviewer")
    before = len(api_rows(local))
    path = local.database_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, timeout=1)
    try:
        holder.execute("BEGIN IMMEDIATE")
        response = local.client.get("/api/v1/admin/applications", headers=reviewer)
        assert response.status_code == 200, response.text
        assert access_log(local.app).backlog >= 1
    finally:
        holder.rollback()
        holder.close()
    rows = api_rows(local)[before:]
    assert [(r.action, r.resource_id) for r in rows] == [("api.get", "/api/v1/admin/applications")]
