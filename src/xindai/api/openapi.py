"""The OpenAPI document: every status a route answers, one `Error` body for all of them.

Documenting a route — give the decorator its status, its response model and `responses()`
of the error statuses the route itself can answer:

    from xindai.api.openapi import responses

    @router.post(
        "/loans/{loan_id}/extensions",
        status_code=201,                        # 201 / 202 when that is what it answers
        response_model=views.Extension,         # a `views.View`, never dict[str, Any]
        responses=responses(400, 403, 404, 409, 503),
        summary="Extend a loan / 展期",
    )

`responses(*statuses, notes=None)` gives each status the `Error` schema and a standard
description saying which codes it carries (`STATUS_TEXT`); `notes={409: "…"}` adds a
route's own words, e.g. the codes it raises. `status_for` in `api.errors` says which status a
code becomes: 400 bad value, 401 no session, 403 permission, 404 not found, 409 state
conflict (`LOAN_…`, `APPLICATION_…`, idempotency key reused), 429 rate limit, 502 / 503 a
provider.

What no route needs to list (`document_routes`, run by `create_app` on every router, adds
it): 401 on a route that takes `current_staff` or `current_borrower`, 422 when it takes
any parameter or body, 413 when it takes a body, 500 on every route, the `X-Request-ID`
header on every answer; 403 and `x-permissions` on a route that declares its permission
(`staff: Annotated[Staff, permitted("loans.read")]`, see `api.deps.Permitted`). A header a
route reads itself (`Idempotency-Key`) is declared as a `Header` parameter so that it is
documented and checked.

The schemathesis run in tests/api checks the document against the real server: a status or
a body the document does not describe fails the suite.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from xindai.api.deps import current_borrower, current_staff, declared_permissions


class ErrorMessage(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    zh_cn: str = Field(alias="zh-CN", description="简体中文")
    en: str = Field(description="English")


class Problem(BaseModel):
    field: str = Field(description="the input at fault, dotted: body.contacts.0.phone")
    problem: str


class Error(BaseModel):
    """Every error the API answers: a stable code and a message in zh-CN and English."""

    code: str = Field(
        description="stable and machine-readable: OTP_INVALID, LOAN_NOT_OPEN …",
        pattern=r"^[A-Z][A-Z0-9_]*$",
        examples=["VALIDATION_ERROR"],
    )
    message: ErrorMessage
    field: str | None = Field(default=None, description="the input a domain error is about")
    problems: list[Problem] | None = Field(default=None, description="422: each invalid input")
    request_id: str | None = Field(
        default=None, description="as in the X-Request-ID header; quote it to support"
    )


STATUS_TEXT: Mapping[int, str] = {
    400: "Bad value: the service refuses an input (INVALID_VALUE, PHONE_INVALID, "
    "AMOUNT_TOO_LARGE, ID_CHECK_DIGIT, CARD_LUHN, OTP_INVALID …); `field` names it",
    401: "No valid session, or the credentials are wrong (AUTH_REQUIRED, AUTH_EXPIRED, "
    "LOGIN_FAILED, TOTP_REQUIRED, TOTP_INVALID, CALLBACK_SIGNATURE_INVALID, CALLBACK_EXPIRED)",
    403: "The staff member's role lacks the permission (PERMISSION_DENIED)",
    404: "Not found, or not the caller's (NOT_FOUND, CREDIT_LINE_NOT_FOUND, DECISION_NOT_FOUND)",
    405: "The path does not take this method (METHOD_NOT_ALLOWED); `Allow` lists those it does",
    409: "Conflicts with the current state (LOAN_…, APPLICATION_…, PAYOUT_…, REVIEW_…, "
    "CREDIT_LINE_…, BLACKLIST_ALREADY_…), or an Idempotency-Key reused for another request "
    "(IDEMPOTENCY_KEY_REUSED)",
    413: "The request body is larger than the route accepts (BODY_TOO_LARGE)",
    422: "The request does not have the documented shape (VALIDATION_ERROR; `problems` lists "
    "each input)",
    429: "Too many attempts or codes (OTP_RESEND_TOO_SOON, OTP_DAILY_LIMIT, OTP_TOO_MANY_TRIES, "
    "LOGIN_LOCKED); try again later",
    500: "An unexpected error, logged with its traceback (INTERNAL_ERROR; quote request_id)",
    502: "A provider refused the request (PROVIDER_REJECTED)",
    503: "A provider could not be reached, or has not confirmed yet (PROVIDER_UNAVAILABLE, "
    "CALLBACK_UNCONFIRMED); try again later",
}

ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
REQUEST_ID = {
    "X-Request-ID": {
        "description": "the request's id: the client's own when it is a sane token "
        "([A-Za-z0-9._:-]{1,128}), else a new one",
        "schema": {"type": "string"},
    }
}


def responses(*statuses: int, notes: Mapping[int, str] | None = None) -> dict[int | str, Any]:
    """The error statuses a route answers, for its decorator's `responses=`: each with the
    `Error` body and the standard description, plus `notes[status]` when given."""
    extra = dict(notes or {})
    unknown = [s for s in (*statuses, *extra) if s not in STATUS_TEXT]
    if unknown:
        raise ValueError(f"no standard text for status {unknown}: add it to STATUS_TEXT")
    documented: dict[int | str, Any] = {}
    for status in sorted({*statuses, *extra}):
        text = STATUS_TEXT[status] + (f". {extra[status]}" if status in extra else "")
        documented[status] = {"model": Error, "description": text}
    return documented


def _calls(dependant: Dependant) -> Iterable[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def _takes_input(route: APIRoute) -> bool:
    d = route.dependant
    return bool(
        route.body_field or d.path_params or d.query_params or d.header_params or _sub_input(d)
    )


def _sub_input(dependant: Dependant) -> bool:
    return any(
        sub.path_params or sub.query_params or sub.header_params or sub.body_params
        for sub in dependant.dependencies
    )


def document_route(route: APIRoute) -> None:
    """Add what every route answers (see the module) to one route's documented responses."""
    implied: list[int] = [500]
    calls = set(_calls(route.dependant))
    if current_staff in calls or current_borrower in calls:
        implied.append(401)
    permissions = declared_permissions(route.dependant)
    if permissions is not None:  # `Permitted`: 403 without them; the document names them
        implied.append(403)
        route.openapi_extra = {**(route.openapi_extra or {}), "x-permissions": list(permissions)}
    if _takes_input(route):
        implied.append(422)
    if route.body_field is not None or "requestBody" in (route.openapi_extra or {}):
        implied.append(413)
    for status, documented in responses(*implied).items():
        route.responses.setdefault(status, documented)


def document_routes(router: APIRouter | FastAPI) -> None:
    """`document_route` for every route of `router` (call before it is included)."""
    for route in router.routes:
        if isinstance(route, APIRoute):
            document_route(route)


def install_openapi(app: FastAPI) -> None:
    """The app's OpenAPI document from its routes, with the `Error` schema in place of
    FastAPI's validation error and the X-Request-ID header on every answer."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                answers = operation.get("responses", {})
                for status, answer in answers.items():
                    if status[0] in "45":  # errors are JSON, whatever the route's own type
                        answer["content"] = ERROR_CONTENT
                    answer.setdefault("headers", {}).update(REQUEST_ID)
                operation["responses"] = dict(sorted(answers.items()))
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
