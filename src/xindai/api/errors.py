"""Domain errors as JSON: a stable code and a zh-CN and English message; bad input is a 4xx.

{"code": "OTP_INVALID", "message": {"zh-CN": "验证码错误…", "en": "wrong code…"},
 "request_id": "…"}

Also `field` (the input at fault) on domain errors about one value, `problems` on 422s.
An unexpected error is a 500 `INTERNAL_ERROR` (see `api.middleware`).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from xindai.errors import XindaiError

logger = logging.getLogger("xindai.api")

_EXACT = {
    "NOT_FOUND": 404,
    "AUTH_REQUIRED": 401,
    "AUTH_EXPIRED": 401,
    "LOGIN_FAILED": 401,
    "TOTP_REQUIRED": 401,
    "TOTP_INVALID": 401,
    "CALLBACK_SIGNATURE_INVALID": 401,
    "CALLBACK_EXPIRED": 401,
    "PERMISSION_DENIED": 403,
    "LOGIN_LOCKED": 429,
    "OTP_RESEND_TOO_SOON": 429,
    "OTP_DAILY_LIMIT": 429,
    "OTP_TOO_MANY_TRIES": 429,
    "IDEMPOTENCY_KEY_REUSED": 409,
    "APPROVAL_INVALID": 409,
    "STRATEGY_STATE": 409,
    "PROVIDER_UNAVAILABLE": 503,
    "CALLBACK_UNCONFIRMED": 503,
    "PROVIDER_REJECTED": 502,
    "CREDIT_LINE_NOT_FOUND": 404,
    "DECISION_NOT_FOUND": 404,
    "BLACKLIST_ALREADY_LISTED": 409,
    "BLACKLIST_ALREADY_REMOVED": 409,
}
_PREFIX_409 = (
    "CREDIT_LINE_",
    "LOAN_",
    "APPLICATION_",
    "EXTENSION_",
    "DEFERRAL_",
    "EARLY_SETTLEMENT_",
    "CARD_NOT_",
    "PAYOUT_",
    "REVIEW_",
)


_DECLARED = frozenset({401, 403, 404, 409, 429, 500, 502, 503})
"""The statuses an error class may declare for itself (`http_status`, as the security errors
do); bad input stays 400 whatever it declares (422 is kept for a request of the wrong shape)."""


def status_for(code: str, declared: int | None = None) -> int:
    """The HTTP status of a domain error's code: a listed code's, else the status the error
    declares (see `_DECLARED`), else 409 for a state conflict (`_PREFIX_409`), else 400."""
    if code in _EXACT:
        return _EXACT[code]
    if declared in _DECLARED:
        return declared
    if code.startswith(_PREFIX_409):
        return 409
    return 400


def error_body(code: str, en: str, zh: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": {"zh-CN": zh, "en": en}, **extra}


_HTTP_ERRORS = {  # Starlette's own refusals: code and zh-CN message
    401: ("AUTH_REQUIRED", "需要登录"),
    403: ("PERMISSION_DENIED", "没有权限"),
    404: ("NOT_FOUND", "未找到"),
    405: ("METHOD_NOT_ALLOWED", "该路径不支持此请求方法"),
}


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> str:
    """The methods some route of the app takes at this request's path, for `Allow` (asked
    of the router itself, so included routers of any depth are covered)."""
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


def _request_id(request: Request) -> dict[str, Any]:
    found = getattr(request.state, "request_id", None)
    return {} if found is None else {"request_id": found}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(XindaiError)
    async def domain_error(request: Request, exc: XindaiError) -> JSONResponse:
        extra: dict[str, Any] = _request_id(request)
        field = getattr(exc, "field", None)
        if field is not None:
            extra["field"] = field
        status = status_for(exc.code, getattr(exc, "http_status", None))
        if status >= 500 and status not in (502, 503):  # a fault here, not the caller's
            logger.error("%s in %s %s", exc.code, request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            error_body(exc.code, exc.message_en, exc.message_zh, **extra), status_code=status
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": ".".join(str(p) for p in e.get("loc", ())[1:]), "problem": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = problems[0]["field"] if problems else ""
        return JSONResponse(
            error_body(
                "VALIDATION_ERROR",
                f"invalid request: {first}",
                f"请求参数有误：{first}",
                problems=problems,
                **_request_id(request),
            ),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI could not read the body (not UTF-8, say): 422
            return JSONResponse(
                error_body(
                    "VALIDATION_ERROR",
                    f"invalid request: body ({exc.detail})",
                    "请求参数有误：请求体无法解析",
                    problems=[{"field": "body", "problem": str(exc.detail)}],
                    **_request_id(request),
                ),
                status_code=422,
            )
        code, zh = _HTTP_ERRORS.get(exc.status_code, ("HTTP_ERROR", str(exc.detail)))
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method the path takes, not only the first route's
            headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
        return JSONResponse(
            error_body(code, str(exc.detail), zh, **_request_id(request)),
            status_code=exc.status_code,
            headers=headers or None,
        )
