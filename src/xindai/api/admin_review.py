"""The manual-review queue of the admin API (人工审核), /api/v1/admin/reviews: the queue with
its SLA timer, one task with the applicant and contacts, claim, release, checklist, ask the
borrower for more, decide. Reading needs `applications.read`, changes
`applications.review`; personal data is unmasked only for `borrowers.pii.read`. The service
audits every change; viewing a task is audited here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from xindai.api import views_admin
from xindai.api.deps import PathId, Staff, client_ip, permitted, platform
from xindai.api.openapi import responses
from xindai.api.schemas import WholeNumber
from xindai.money import parse_yuan
from xindai.risk.review import ReviewService
from xindai.risk.review_rules import MAX_ITEM_TEXT, MAX_NOTE, MAX_TEXT, STATUSES
from xindai.security import audit
from xindai.security.rbac import can_read_pii, require_channel_access, visible_channel

router = APIRouter(prefix="/api/v1/admin/reviews", tags=["admin 人工审核"])
READ, REVIEW = "applications.read", "applications.review"


class ChecklistIn(BaseModel):
    """Checklist results: item → true / false, or a short remark."""

    items: dict[str, bool | Annotated[str, Field(max_length=MAX_ITEM_TEXT)]] = Field(
        min_length=1, max_length=8
    )


class AskMoreIn(BaseModel):
    request: str = Field(min_length=1, max_length=MAX_TEXT, description="What to send / 补充说明")


class DecideIn(BaseModel):
    approve: bool
    note: str = Field(default="", max_length=MAX_NOTE)
    amount: str | None = Field(
        default=None,
        max_length=32,
        description='A lower amount to approve, in yuan (e.g. "3000") / 批准金额（元）',
    )


def service(request: Request) -> ReviewService:
    return ReviewService(platform(request))


@router.get(
    "",
    response_model=list[views_admin.QueuedTask],
    responses=responses(400, 403),
    summary="The review queue, soonest deadline first / 审核队列",
)
def queue(
    staff: Annotated[Staff, permitted(READ)],
    request: Request,
    status: Annotated[
        str | None,
        Query(
            max_length=16,
            description="the tasks in this status; none: every open one",
            json_schema_extra={"enum": list(STATUSES)},
        ),
    ] = None,
    overdue: Annotated[bool, Query(description="only tasks past their SLA deadline")] = False,
    limit: Annotated[WholeNumber, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    return service(request).queue(status, overdue, limit, channel=visible_channel(staff))


@router.get(
    "/{application_id}",
    response_model=views_admin.ReviewDetail,
    responses=responses(403, 404, 409),
    summary="A review task with applicant and contacts / 审核详情",
)
def detail(
    application_id: PathId, staff: Annotated[Staff, permitted(READ)], request: Request
) -> dict[str, Any]:
    p = platform(request)
    full = can_read_pii(staff.permissions)
    view = service(request).detail(application_id, full)
    require_channel_access(staff, view["application"]["channel"])
    with p.sessions.begin() as session:
        audit.record(
            session,
            actor=staff.username,
            action="review.view",
            resource="application",
            resource_id=application_id,
            ip=client_ip(request),
            after={"unmasked": full},
            at=p.clock(),
        )
    return view


@router.post(
    "/{application_id}/claim",
    response_model=views_admin.ReviewTask,
    responses=responses(403, 404, 409),
    summary="Claim a task / 领取",
)
def claim(
    application_id: PathId, staff: Annotated[Staff, permitted(REVIEW)], request: Request
) -> dict[str, Any]:
    return service(request).claim(application_id, staff.username, ip=client_ip(request))


@router.post(
    "/{application_id}/release",
    response_model=views_admin.ReviewTask,
    responses=responses(403, 404, 409),
    summary="Give a task back / 释放",
)
def release(
    application_id: PathId, staff: Annotated[Staff, permitted(REVIEW)], request: Request
) -> dict[str, Any]:
    return service(request).release(application_id, staff.username, ip=client_ip(request))


@router.put(
    "/{application_id}/checklist",
    response_model=views_admin.ReviewTask,
    responses=responses(400, 403, 404, 409),
    summary="Record checklist results / 核查清单",
)
def checklist(
    application_id: PathId,
    body: ChecklistIn,
    staff: Annotated[Staff, permitted(REVIEW)],
    request: Request,
) -> dict[str, Any]:
    return service(request).update_checklist(
        application_id, staff.username, body.items, ip=client_ip(request)
    )


@router.post(
    "/{application_id}/ask-more",
    response_model=views_admin.ReviewTask,
    responses=responses(400, 403, 404, 409),
    summary="Ask the borrower for more / 要求补充资料",
)
def ask_more(
    application_id: PathId,
    body: AskMoreIn,
    staff: Annotated[Staff, permitted(REVIEW)],
    request: Request,
) -> dict[str, Any]:
    return service(request).ask_for_more(
        application_id, staff.username, body.request, ip=client_ip(request)
    )


@router.post(
    "/{application_id}/decide",
    response_model=views_admin.ReviewTask,
    responses=responses(400, 403, 404, 409),
    summary="Approve or reject / 审核决定",
)
def decide(
    application_id: PathId,
    body: DecideIn,
    staff: Annotated[Staff, permitted(REVIEW)],
    request: Request,
) -> dict[str, Any]:
    amount = parse_yuan(body.amount, field="amount") if body.amount is not None else None
    return service(request).decide(
        application_id,
        staff.username,
        body.approve,
        body.note,
        amount,
        ip=client_ip(request),
    )
