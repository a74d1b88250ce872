"""The risk team's blacklists in the admin API (黑名单管理), /api/v1/admin/blacklist: list,
add, remove. Permission `blacklist.manage`; responses show only the masked identifier (never
its hash or raw value); every change is audited with its before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, Field

from xindai.api import views_admin
from xindai.api.deps import PathId, Staff, client_ip, permitted, platform
from xindai.api.openapi import responses
from xindai.api.schemas import WholeNumber
from xindai.errors import InvalidValue
from xindai.risk.antifraud.blacklist import BlacklistKind
from xindai.risk.blacklist_store import (
    MAX_LIST_LIMIT,
    MAX_REASON_CHARS,
    MAX_VALUE_CHARS,
    add_entry,
    entry_status,
    list_entries,
    parse_expiry,
    remove_entry,
)
from xindai.security import audit
from xindai.store.models_risk import BlacklistRecord

router = APIRouter(prefix="/api/v1/admin/blacklist", tags=["admin 管理后台"])
PERMISSION = "blacklist.manage"


class BlacklistIn(BaseModel):
    kind: BlacklistKind
    value: str = Field(
        min_length=1,
        max_length=MAX_VALUE_CHARS,
        examples=["13812345678"],
        description="valid for its kind: an 18-character resident ID, a mainland mobile (phone, "
        "contact_phone), a Luhn-valid card number, a device token (4-128 of A-Z a-z 0-9 "
        "._:+/=-); else a 400 with the validator's code",
    )
    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)
    expires_at: str | None = Field(
        default=None,
        max_length=40,
        description="ISO date (no longer active from its midnight) or datetime; none = never",
        examples=["2027-01-01"],
    )


class BlacklistRemoveIn(BaseModel):
    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def entry_view(record: BlacklistRecord, now: datetime) -> dict[str, Any]:
    """An entry as the screens show it: the masked identifier, never its hash."""
    return {
        "id": record.id,
        "kind": record.kind,
        "value_masked": record.value_masked,
        "reason": record.reason,
        "source": record.source,
        "status": entry_status(record, now),
        "created_by": record.created_by,
        "created_at": _iso(record.created_at),
        "expires_at": _iso(record.expires_at),
        "removed_at": _iso(record.removed_at),
        "removed_by": record.removed_by,
        "removed_reason": record.removed_reason,
    }


def _audited(view: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in view.items() if key != "status"}


@router.get(
    "",
    response_model=list[views_admin.BlacklistEntry],
    responses=responses(403),
    summary="Blacklist entries / 黑名单列表",
)
def list_blacklist(
    staff: Annotated[Staff, permitted(PERMISSION)],
    request: Request,
    kind: BlacklistKind | None = None,
    include_inactive: bool = False,
    limit: Annotated[WholeNumber, Query(ge=1, le=MAX_LIST_LIMIT)] = 500,
) -> list[dict[str, Any]]:
    p = platform(request)
    now = p.clock()
    with p.sessions() as session:
        records = list_entries(
            session, now=now, kind=kind, include_inactive=include_inactive, limit=limit
        )
        return [entry_view(record, now) for record in records]


@router.post(
    "",
    status_code=201,
    response_model=views_admin.BlacklistEntry,
    responses=responses(400, 403, 409),
    summary="Add to a blacklist / 加入黑名单",
)
def add_blacklist(
    body: BlacklistIn, staff: Annotated[Staff, permitted(PERMISSION)], request: Request
) -> dict[str, Any]:
    p = platform(request)
    now = p.clock()
    with p.sessions.begin() as session:
        record = add_entry(
            session,
            p.cipher,
            kind=body.kind,
            value=body.value,
            reason=body.reason,
            actor=staff.username,
            now=now,
            expires_at=parse_expiry(body.expires_at),
        )
        view = entry_view(record, now)
        audit.record(
            session,
            actor=staff.username,
            action="blacklist.add",
            resource="blacklist",
            resource_id=record.id,
            ip=client_ip(request),
            after=_audited(view),
            at=now,
        )
    return view


@router.delete(
    "/{entry_id}",
    response_model=views_admin.BlacklistEntry,
    responses=responses(400, 403, 404, 409),
    summary="Remove from a blacklist (kept on record) / 移出黑名单",
)
def remove_blacklist(
    entry_id: PathId,
    staff: Annotated[Staff, permitted(PERMISSION)],
    request: Request,
    body: Annotated[BlacklistRemoveIn | None, Body()] = None,
    reason: Annotated[str | None, Query(max_length=MAX_REASON_CHARS)] = None,
) -> dict[str, Any]:
    """The reason comes in the body (`{"reason": …}`) or as the `reason` query parameter."""
    why = body.reason if body is not None else reason
    if why is None or not why.strip():
        raise InvalidValue("reason", why, "a reason for the removal is needed", "请填写移出原因")
    p = platform(request)
    now = p.clock()
    with p.sessions.begin() as session:
        found = session.get(BlacklistRecord, entry_id, with_for_update=True)
        before = None if found is None else _audited(entry_view(found, now))
        record = remove_entry(session, entry_id, actor=staff.username, reason=why, now=now)
        view = entry_view(record, now)
        audit.record(
            session,
            actor=staff.username,
            action="blacklist.remove",
            resource="blacklist",
            resource_id=entry_id,
            ip=client_ip(request),
            before=before,
            after=_audited(view),
            at=now,
        )
    return view
