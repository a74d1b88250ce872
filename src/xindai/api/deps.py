"""Dependencies of the routes: the platform, the current borrower or staff member with their
permissions, the client's address, and idempotency keys."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from xindai import clock
from xindai.api.schemas import WholeNumber
from xindai.errors import XindaiError
from xindai.platform import Platform
from xindai.security import tokens
from xindai.security.rbac import PERMISSIONS, permissions_for, require
from xindai.store.models import IdempotencyRecord
from xindai.store.models_collections import AgencyUser
from xindai.store.models_origination import StaffUser

MAX_ID = 2**63 - 1
PathId = Annotated[WholeNumber, Path(ge=1, le=MAX_ID, description="a record id")]
"""A record id in a path: ASCII digits, positive and within BIGINT, so no lookup overflows."""


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=100,
        description="repeat a request safely: the same key and body return the first answer "
        "(with Idempotent-Replay: true); the same key with another body is a 409",
    ),
]
"""The Idempotency-Key header of a route that runs `idempotent` (declared for the document)."""


class AuthRequired(XindaiError):
    code = "AUTH_REQUIRED"


def platform(request: Request) -> Platform:
    found: Platform = request.app.state.platform
    return found


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def current_borrower(request: Request) -> int:
    p = platform(request)
    with p.reads() as session:
        subject = tokens.authenticate(session, _bearer(request), now=p.clock())
    if subject.kind.value != "borrower":
        raise AuthRequired("a borrower session is needed", "需要借款人登录")
    return subject.id


@dataclass(frozen=True, slots=True)
class Staff:
    id: int
    username: str
    role: str
    channel: str | None
    permissions: frozenset[str]
    agency_id: int | None = None  # a collection agency's user (委外): sees its agency's cases

    def need(self, permission: str) -> None:
        require(self.permissions, permission)


def current_staff(request: Request) -> Staff:
    p = platform(request)
    with p.reads() as session:
        subject = tokens.authenticate(session, _bearer(request), now=p.clock())
        if subject.kind.value != "staff":
            raise AuthRequired("a staff session is needed", "需要员工登录")
        user = session.get(StaffUser, subject.id)
        if user is None or not user.active:
            raise AuthRequired("the account is not active", "账户不可用")
        agency = session.get(AgencyUser, user.id)
        staff = Staff(
            user.id,
            user.username,
            user.role,
            user.channel,
            permissions_for(session, user.role),
            None if agency is None else int(agency.agency_id),
        )
    request.state.staff = staff  # the audit of the call reads who made it
    return staff


class IdempotencyConflict(XindaiError):
    code = "IDEMPOTENCY_KEY_REUSED"


def idempotent(
    request: Request,
    subject: str,
    payload: dict[str, Any],
    call: Callable[[], Any],
    *,
    status_code: int = 200,
) -> JSONResponse:
    """Run `call` once per `Idempotency-Key` header (per subject): a repeat with the same key
    and payload returns the first response; the same key with another payload is a 409."""
    key = request.headers.get("idempotency-key")
    if not key:
        return JSONResponse(call(), status_code=status_code)
    if len(key) > 100:
        raise IdempotencyConflict(
            "the Idempotency-Key is too long (max 100)", "幂等键过长（最多 100 个字符）"
        )
    p = platform(request)
    scoped = f"api:{subject}:{key}"
    fingerprint = hashlib.sha256(
        json.dumps(
            {"path": request.url.path, "payload": payload}, sort_keys=True, default=str
        ).encode()
    ).hexdigest()

    def stored() -> JSONResponse | None:
        with p.reads() as session:
            record = session.get(IdempotencyRecord, scoped)
            if record is None:
                return None
            if record.fingerprint != fingerprint:
                raise IdempotencyConflict(
                    "this Idempotency-Key was used for a different request",
                    "该幂等键已用于其他请求",
                )
            body = json.loads(record.result)
            if body["status"] == 0:
                raise IdempotencyConflict(
                    "a request with this Idempotency-Key is in progress",
                    "相同幂等键的请求正在处理中",
                )
            return JSONResponse(
                body["body"], status_code=body["status"], headers={"Idempotent-Replay": "true"}
            )

    previous = stored()
    if previous is not None:
        return previous
    try:  # reserve the key first, so that two concurrent requests cannot both run
        with p.sessions.begin() as session:
            session.add(
                IdempotencyRecord(
                    key=scoped,
                    scope=request.url.path[:64],
                    fingerprint=fingerprint,
                    result=json.dumps({"status": 0, "body": None}),
                    created_at=clock.now(),
                )
            )
    except IntegrityError:
        replay = stored()
        if replay is not None:
            return replay
        raise
    try:
        result = call()
    except BaseException:
        with p.sessions.begin() as session:  # a failed call may be retried with the same key
            record = session.get(IdempotencyRecord, scoped)
            if record is not None:
                session.delete(record)
        raise
    with p.sessions.begin() as session:
        record = session.get(IdempotencyRecord, scoped)
        assert record is not None
        record.result = json.dumps({"status": status_code, "body": result}, default=str)
    return JSONResponse(result, status_code=status_code)


class Permitted:
    """A route's permission, declared: `staff: Annotated[Staff, Depends(Permitted("loans.read"))]`
    is the current staff member, who must hold every one of `permissions` (else 403
    PERMISSION_DENIED). The route table says which permission each admin route needs (the
    OpenAPI document shows it as `x-permissions`; the role × route test reads it)."""

    def __init__(self, *permissions: str) -> None:
        for permission in permissions:
            if permission not in PERMISSIONS:
                raise ValueError(f"unknown permission {permission!r}")
        self.permissions = permissions

    def __call__(self, staff: Annotated[Staff, Depends(current_staff)]) -> Staff:
        for permission in self.permissions:
            staff.need(permission)
        return staff

    def __repr__(self) -> str:
        return f"Permitted{self.permissions!r}"


def permitted(*permissions: str) -> Any:
    """`Depends(Permitted(*permissions))`, for `Annotated[Staff, permitted("loans.read")]`."""
    return Depends(Permitted(*permissions))


def declared_permissions(dependant: Any) -> tuple[str, ...] | None:
    """The permissions a route's dependencies declare (`Permitted`), or None when it declares
    none."""
    found: list[str] = []
    seen = False
    stack = list(dependant.dependencies)
    while stack:
        dependency = stack.pop()
        if isinstance(dependency.call, Permitted):
            seen = True
            found.extend(p for p in dependency.call.permissions if p not in found)
        stack.extend(dependency.dependencies)
    return tuple(found) if seen else None
