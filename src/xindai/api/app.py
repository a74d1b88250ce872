"""The FastAPI application: borrower API, admin API and callbacks, one OpenAPI document."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from xindai import __version__
from xindai.api import (
    admin,
    admin_blacklist,
    admin_credit,
    admin_review,
    borrower,
    borrower_credit,
    borrower_review,
    callbacks,
)
from xindai.api.errors import install_error_handlers
from xindai.api.middleware import RequestGuard
from xindai.platform import Platform
from xindai.security import audit, tokens
from xindai.security.errors import SecurityError


def _audit_call(platform: Platform, request: Request, status: int) -> None:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    with platform.sessions.begin() as session:
        try:
            subject = tokens.authenticate(session, token, now=platform.clock())
            actor = f"{subject.kind.value}:{subject.id}"
        except SecurityError:
            actor = "anonymous"
        audit.record(
            session,
            actor=actor,
            action=f"api.{request.method.lower()}",
            resource="admin_api",
            resource_id=request.url.path[:64],
            ip=request.client.host if request.client else None,
            after={"status": status},
            at=platform.clock(),
        )


def create_app(platform: Platform | None = None) -> FastAPI:
    app = FastAPI(
        title="Xindai 信贷 API",
        version=__version__,
        description="Borrower API (借款人端) and admin API (管理后台) of the Xindai "
        "consumer cash-loan platform. Errors are JSON: "
        '{"code", "message": {"zh-CN", "en"}}.',
    )
    app.state.platform = platform or Platform.from_settings()
    install_error_handlers(app)
    app.include_router(borrower.router)
    app.include_router(admin.router)
    app.include_router(admin_blacklist.router)
    app.include_router(callbacks.router)
    app.include_router(borrower_credit.router)
    app.include_router(admin_credit.router)

    app.include_router(admin_review.router)
    app.include_router(borrower_review.router)

    @app.middleware("http")
    async def audit_admin_calls(request: Request, call_next: Any) -> Response:
        """Every admin call is audited: who, what, when, from where, and how it ended
        (changes also record their before/after in the route)."""
        path = request.url.path
        audited = path.startswith("/api/v1/admin/") and not path.startswith("/api/v1/admin/auth/")
        try:
            response: Response = await call_next(request)
        except Exception:
            if audited:  # the guard answers 500: the call is audited as such
                with contextlib.suppress(Exception):  # the original error is the one to log
                    await run_in_threadpool(_audit_call, app.state.platform, request, 500)
            raise
        if audited:
            await run_in_threadpool(_audit_call, app.state.platform, request, response.status_code)
        return response

    # outermost: request id, body limits, and a JSON 500 for whatever escapes the handlers
    app.add_middleware(RequestGuard)

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, Any]:
        return {"status": "ok", "business_date": app.state.platform.business_date().isoformat()}

    return app
