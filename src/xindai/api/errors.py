"""Domain errors as JSON: a stable code and a zh-CN and English message; bad input is a 4xx.

{"code": "OTP_INVALID", "message": {"zh-CN": "验证码错误…", "en": "wrong code…"}}
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from xindai.errors import XindaiError

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


def status_for(code: str) -> int:
    if code in _EXACT:
        return _EXACT[code]
    if code.startswith(_PREFIX_409):
        return 409
    return 400


def error_body(code: str, en: str, zh: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": {"zh-CN": zh, "en": en}, **extra}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(XindaiError)
    async def domain_error(_: Request, exc: XindaiError) -> JSONResponse:
        extra: dict[str, Any] = {}
        field = getattr(exc, "field", None)
        if field is not None:
            extra["field"] = field
        return JSONResponse(
            error_body(exc.code, exc.message_en, exc.message_zh, **extra),
            status_code=status_for(exc.code),
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
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
            ),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            404: "NOT_FOUND",
            405: "METHOD_NOT_ALLOWED",
            401: "AUTH_REQUIRED",
            403: "PERMISSION_DENIED",
        }.get(exc.status_code, "HTTP_ERROR")
        return JSONResponse(
            error_body(code, str(exc.detail), str(exc.detail)), status_code=exc.status_code
        )
