"""The outermost layer of the API (pure ASGI, around everything else): a request id on every
response, request bodies limited in size, and every unexpected error a JSON 500.

- `X-Request-ID`: the client's own id when it is a sane token (1–128 of `A–Z a–z 0–9 . _ : -`,
  e.g. a UUID), else a new random one; it is on every response, in every error body
  (`request_id`) and in the log line of an unexpected error, so that a support call finds the
  traceback.
- Body limits: 64 KiB for a JSON body (`JSON_BODY_LIMIT`), 12 MiB for the real-name upload
  (`UPLOAD_BODY_LIMITS`: three base64 photos of at most 4,000,000 characters each, see
  `schemas.KycIn`). A declared `Content-Length` above the limit is refused before a byte is
  read; a body without one (chunked) is counted as it arrives and refused once it passes the
  limit. Either way: 413 `BODY_TOO_LARGE`.
- An exception no handler turned into a response: logged with its traceback
  (`logging.exception`, logger `xindai.api`) and answered 500 `INTERNAL_ERROR` with the
  request id, never a plain-text page.
"""

from __future__ import annotations

import contextlib
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Final

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xindai.api.errors import error_body

logger = logging.getLogger("xindai.api")

REQUEST_ID_HEADER: Final = "X-Request-ID"
JSON_BODY_LIMIT: Final = 64 * 1024
"""Bytes of an ordinary JSON request body: the largest (an application, ten contacts) is
under 2 KiB."""
UPLOAD_BODY_LIMIT: Final = 12 * 1024 * 1024
UPLOAD_BODY_LIMITS: Final[Mapping[str, int]] = {
    "/api/v1/borrower/kyc": UPLOAD_BODY_LIMIT,
    "/api/v1/admin/reconciliation/runs": UPLOAD_BODY_LIMIT,  # a channel statement (CSV)
}
"""Paths that take uploads (photos as base64 in JSON, statement files) and their own limit
in bytes."""

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-ID when it is a sane token, else a new random one."""
    for name, value in headers:
        if name == b"x-request-id":
            text = value.decode("latin-1").strip()
            if _SANE_REQUEST_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def body_limit_for(path: str) -> int:
    """The largest request body, in bytes, that `path` accepts."""
    return UPLOAD_BODY_LIMITS.get(path.rstrip("/") or "/", JSON_BODY_LIMIT)


def _declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            # the server (h11, httptools) refuses a malformed one before we see it
            return int(text) if text.isascii() and text.isdigit() else None
    return None


def _too_large(limit: int, request_id: str) -> JSONResponse:
    return JSONResponse(
        error_body(
            "BODY_TOO_LARGE",
            f"the request body is larger than this route accepts ({limit} bytes)",
            f"请求体超过该接口允许的大小（{limit} 字节）",
            request_id=request_id,
        ),
        status_code=413,
    )


def _internal_error(request_id: str) -> JSONResponse:
    return JSONResponse(
        error_body(
            "INTERNAL_ERROR",
            "an unexpected error occurred; it has been logged (quote the request id)",
            "系统内部错误，已记录（请提供请求编号）",
            request_id=request_id,
        ),
        status_code=500,
    )


class RequestGuard:
    """Request id, body limits and the catch-all for unexpected errors (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        request_id = request_id_of(headers)
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        limit = body_limit_for(scope.get("path", ""))
        declared = _declared_length(headers)
        if declared is not None and declared > limit:
            await _too_large(limit, request_id)(scope, receive, send_with_id)
            return
        # the body is read here, counted as it comes (a chunked one has no length to trust),
        # and handed on whole: a route never sees more than its limit
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(limit, request_id)(scope, receive, send_with_id)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def receive_body() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        try:
            await self.app(scope, receive_body, send_with_id)
        except Exception:
            logger.exception(
                "unexpected error in %s %s (request %s)",
                scope.get("method"),
                scope.get("path"),
                request_id,
            )
            if started:  # too late for a JSON answer: the server closes the connection
                raise
            await _internal_error(request_id)(scope, receive, send_with_id)


ADMIN_PREFIX: Final = "/api/v1/admin/"
UNAUDITED_PREFIX: Final = "/api/v1/admin/auth/"


class AdminAudit:
    """Every admin call audited once it is answered — who, what, when, from where and how
    it ended (`audit(scope, status)`, in a worker thread; changes also record their
    before/after in the route). Plain ASGI: the borrower API and the channel's callbacks
    pass straight through, and an admin call is audited before its answer leaves (the
    audit runs at the response's start; a call that raises is audited as a 500)."""

    def __init__(self, app: ASGIApp, *, audit: Callable[[Scope, int], None]) -> None:
        self.app, self.audit = app, audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if (
            scope["type"] != "http"
            or not path.startswith(ADMIN_PREFIX)
            or path.startswith(UNAUDITED_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        audited = False

        async def send_audited(message: Message) -> None:
            nonlocal audited
            if message["type"] == "http.response.start" and not audited:
                audited = True
                await run_in_threadpool(self.audit, scope, int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, send_audited)
        except Exception:
            if not audited:  # the guard answers 500: the call is audited as such
                audited = True
                with contextlib.suppress(Exception):  # the original error is the one to log
                    await run_in_threadpool(self.audit, scope, 500)
            raise
