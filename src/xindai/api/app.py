"""The FastAPI application: borrower API, admin API and callbacks, one OpenAPI document."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from xindai import __version__
from xindai.api import admin, borrower, callbacks
from xindai.api.errors import install_error_handlers
from xindai.platform import Platform


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
    app.include_router(callbacks.router)

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, Any]:
        return {"status": "ok", "business_date": app.state.platform.business_date().isoformat()}

    return app
