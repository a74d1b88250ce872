"""The FastAPI application: borrower API, admin API and callbacks, one OpenAPI document."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool

from xindai import __version__
from xindai.api import (
    admin,
    admin_applications,
    admin_approvals,
    admin_blacklist,
    admin_borrowers,
    admin_cob,
    admin_collections,
    admin_collections_actions,
    admin_collections_manage,
    admin_collections_reports,
    admin_collections_warnings,
    admin_credit,
    admin_lists,
    admin_loans,
    admin_me,
    admin_overview,
    admin_payments,
    admin_products,
    admin_reconcile,
    admin_review,
    admin_servicing,
    admin_sms,
    admin_strategies,
    admin_system,
    borrower,
    borrower_app,
    borrower_credit,
    borrower_review,
    callbacks,
    views,
)
from xindai.api.deps import Staff, client_ip, current_staff
from xindai.api.errors import install_error_handlers
from xindai.api.middleware import AdminAudit, RequestGuard
from xindai.api.openapi import document_routes, install_openapi
from xindai.api.static import mount_frontends
from xindai.errors import XindaiError
from xindai.platform import Platform
from xindai.security import audit
from xindai.security.access_log import AccessLog

logger = logging.getLogger("xindai.api")


class _WarningBudget:
    """At most `per_minute` warnings a minute (a scan of the admin API must not flood the
    log); the next warning after a quiet spell says how many were left out."""

    def __init__(self, per_minute: int = 20) -> None:
        self.per_minute = per_minute
        self._minute = -1
        self._used = 0
        self._skipped = 0
        self._lock = threading.Lock()

    def take(self) -> int | None:
        """None when over budget, else the number of warnings skipped before this one."""
        minute = int(time.monotonic() // 60)
        with self._lock:
            if minute != self._minute:
                self._minute, self._used = minute, 0
            if self._used >= self.per_minute:
                self._skipped += 1
                return None
            self._used += 1
            skipped, self._skipped = self._skipped, 0
            return skipped


_anonymous_warnings = _WarningBudget()


def _staff_of(platform: Platform, request: Request) -> Staff | None:
    """The staff member the call was made as: the one the route authenticated, else (a path
    with no route, say) the bearer token's, when it is a live staff session."""
    found = getattr(request.state, "staff", None)
    if isinstance(found, Staff) or not request.headers.get("authorization"):
        return found
    try:
        return current_staff(request)
    except XindaiError:
        return None


def _audit_call(platform: Platform, request: Request, status: int) -> None:
    """An audit row for a staff member's admin call; an anonymous one (no session, a
    borrower's, an expired one) only a warning in the log, within a budget: unauthenticated
    callers must not be able to fill the audit table."""
    staff = _staff_of(platform, request)
    if staff is None:
        skipped = _anonymous_warnings.take()
        if skipped is not None:
            logger.warning(
                "unauthenticated admin call %s %s from %s: %s%s",
                request.method,
                request.url.path[:200],
                client_ip(request),
                status,
                f" ({skipped} more not logged)" if skipped else "",
            )
        return
    entry: dict[str, Any] = {
        "actor": f"staff:{staff.id}",
        "action": f"api.{request.method.lower()}",
        "resource": "admin_api",
        "resource_id": request.url.path[:64],
        "ip": client_ip(request),
        "after": {"status": status},
        "at": platform.clock(),
    }
    if request.method in READ_METHODS:  # a read does not wait for the write lock
        access_log(request.app).add(**entry)
        return
    with platform.sessions.begin() as session:
        audit.record(session, **entry)


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def access_log(app: FastAPI) -> AccessLog:
    """The app's queue of read audit entries (`security.access_log`)."""
    found: AccessLog = app.state.access_log
    return found


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    await run_in_threadpool(access_log(app).close)  # the reads audited last, written


def create_app(platform: Platform | None = None) -> FastAPI:
    app = FastAPI(
        lifespan=_lifespan,
        title="Xindai 信贷 API",
        version=__version__,
        description="Borrower API (借款人端) and admin API (管理后台) of the Xindai "
        "consumer cash-loan platform. Errors are JSON (the `Error` schema): "
        '{"code", "message": {"zh-CN", "en"}, "request_id"}; every answer carries '
        "X-Request-ID. Amounts are yuan strings with at most two decimals, digits 0-9 "
        "(full-width digits are read as the same; others are refused).",
    )
    app.state.platform = platform or Platform.from_settings()
    app.state.access_log = AccessLog(app.state.platform.sessions)
    install_error_handlers(app)
    for module in (
        borrower,
        borrower_app,
        admin,
        admin_blacklist,
        callbacks,
        borrower_credit,
        admin_credit,
        admin_review,
        borrower_review,
        admin_payments,
        admin_me,
        admin_borrowers,
        admin_applications,
        admin_loans,
        admin_lists,
        admin_overview,
        admin_servicing,  # the maker's requests on a loan (before the inbox)
        admin_approvals,
        admin_products,
        admin_reconcile,
        admin_cob,
        admin_system,
        admin_strategies,
        admin_sms,
        admin_collections,
        admin_collections_actions,
        admin_collections_manage,
        admin_collections_reports,
        admin_collections_warnings,
    ):
        document_routes(module.router)  # 401 / 413 / 422 / 500 where they apply
        app.include_router(module.router)

    app.add_middleware(
        AdminAudit,
        audit=lambda scope, status: _audit_call(app.state.platform, Request(scope), status),
    )

    # outermost: request id, body limits, and a JSON 500 for whatever escapes the handlers
    app.add_middleware(RequestGuard)

    @app.get("/health", tags=["ops"], response_model=views.Health, summary="Up, and its date")
    def health() -> dict[str, Any]:
        return {"status": "ok", "business_date": app.state.platform.business_date().isoformat()}

    mount_frontends(app)  # the built console at /admin/ (api/static.py)
    document_routes(app)
    install_openapi(app)
    return app
