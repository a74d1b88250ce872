"""Collections management (催收管理), /api/v1/admin/collections: queues and allocation rules,
allocation on demand and a manager's assignment, the assignment log, agencies with their
users and placements, reminder plans and the reminders sent, strategies, the guardrails,
and the collector-load view (docs/collections-api.md); the KPIs and the champion /
challenger outcomes are `admin_collections_reports`."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from xindai.api import views_collections as views
from xindai.api.admin_collections import case_scope
from xindai.api.deps import PathId, Staff, permitted, platform
from xindai.api.listing import (
    Listing,
    ListParams,
    page_of,
    reading,
)
from xindai.api.openapi import responses
from xindai.collections.agencies import AgencyDesk
from xindai.collections.assign import assign_case
from xindai.collections.config import (
    guardrails_view,
    load_guardrails,
    load_strategies,
    strategies_view,
)
from xindai.collections.manage import METHODS, OWNERS, Management
from xindai.collections.views import assignment_views, placement_views
from xindai.errors import InvalidValue
from xindai.store.models_collections import Assignment, Placement, Reminder

router = APIRouter(prefix="/api/v1/admin/collections", tags=["admin 催收管理"])
READ, ASSIGN, AGENCIES, MANAGE = (
    "collections.read",
    "collections.assign",
    "collections.agencies.manage",
    "collections.manage",
)
CHANGE = responses(400, 403, 404, 409)


def management(request: Request) -> Management:
    p = platform(request)
    return Management(p.sessions, p.clock)


def agency_desk(request: Request) -> AgencyDesk:
    p = platform(request)
    return AgencyDesk(p.sessions, p.clock)


# ------------------------------------------------------------------ queues, allocation


class MemberIn(BaseModel):
    staff_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    agency_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    weight: int = Field(default=100, ge=1, le=1000, description="performance weight, percent")
    capacity: int | None = Field(default=None, ge=0, le=100_000)
    team: str | None = Field(default=None, max_length=32)


class QueueIn(BaseModel):
    name_zh: str = Field(min_length=1, max_length=64)
    name_en: str = Field(min_length=1, max_length=64)
    dpd_min: int = Field(ge=0, le=100_000, description="from 1, except a pre-due queue")
    dpd_max: int | None = Field(default=None, ge=1, le=100_000)
    product_code: str | None = Field(default=None, max_length=32)
    channel: str | None = Field(default=None, max_length=32)
    owner: str = Field(json_schema_extra={"enum": list(OWNERS)}, max_length=16)
    allocation: str = Field(json_schema_extra={"enum": list(METHODS)}, max_length=16)
    capacity: int = Field(default=100, ge=0, le=100_000)
    no_promise_days: int | None = Field(default=None, ge=1, le=365)
    priority: int = Field(default=100, ge=0, le=10_000)
    active: bool = True
    pre_due: bool = Field(
        default=False, description="the pre-due segment (cases opened by early warning)"
    )
    members: list[MemberIn] = Field(default_factory=list, max_length=500)


@router.get("/queues", responses=responses(403), summary="Queues and their members / 催收队列")
def queues(staff: Annotated[Staff, permitted(READ)], request: Request) -> dict[str, Any]:
    with reading(request) as session:
        return {"items": management(request).queues(session)}


@router.put(
    "/queues/{code}", responses=CHANGE, summary="Create or replace a queue / 设置队列与分案规则"
)
def put_queue(
    code: Annotated[str, Path(max_length=16)],
    body: QueueIn,
    staff: Annotated[Staff, permitted(ASSIGN)],
    request: Request,
) -> dict[str, Any]:
    if not re.fullmatch(r"[A-Z0-9_]{1,16}", code):
        raise InvalidValue("code", code, "1–16 of A-Z 0-9 _", "应为 1–16 位大写字母、数字或 _")
    return management(request).put_queue(code, body.model_dump(), actor=staff.username)


@router.post("/allocate", responses=responses(403), summary="Allocate now / 立即分案")
def allocate_now(staff: Annotated[Staff, permitted(ASSIGN)], request: Request) -> dict[str, int]:
    return management(request).allocate_now(actor=staff.username).as_dict()


class AssignIn(BaseModel):
    staff_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    agency_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    reason: str = Field(min_length=1, max_length=512)


@router.post(
    "/cases/{case_id}/assign",
    response_model=views.CaseRow,
    responses=CHANGE,
    summary="Assign a case by hand / 手工分案",
)
def assign(
    case_id: PathId, body: AssignIn, staff: Annotated[Staff, permitted(ASSIGN)], request: Request
) -> dict[str, Any]:
    p = platform(request)
    return assign_case(
        p.sessions,
        p.clock,
        staff.username,
        case_id,
        staff_id=body.staff_id,
        agency_id=body.agency_id,
        reason=body.reason,
    )


ASSIGNMENTS = Listing(
    "collection_assignments",
    sortable={"id": Assignment.id, "business_date": Assignment.business_date},
    default_sort="-id",
    tiebreak=Assignment.id,
)


@router.get(
    "/assignments",
    response_model=page_of(views.Assignment),
    responses=responses(403),
    summary="The assignment log / 分案记录",
)
def assignments(
    staff: Annotated[Staff, permitted(READ)],
    request: Request,
    params: Annotated[ListParams, ASSIGNMENTS.params()],
    case_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    staff_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> dict[str, Any]:
    from xindai.store.models_collections import CollectionCase

    scope = case_scope(request, staff)
    stmt = select(Assignment)
    if not scope.everything:
        stmt = stmt.where(
            Assignment.case_id.in_(select(CollectionCase.id).where(scope.condition()))
        )
    if case_id is not None:
        stmt = stmt.where(Assignment.case_id == case_id)
    if staff_id is not None:
        stmt = stmt.where(Assignment.to_staff == staff_id)
    with reading(request) as session:
        rows, total = ASSIGNMENTS.page(session, stmt, params)
        return params.answer(assignment_views(session, [r[0] for r in rows]), total)


# ------------------------------------------------------------------ agencies, placements


class AgencyIn(BaseModel):
    code: str = Field(pattern=r"^[a-z0-9_]{2,32}$")
    name: str = Field(min_length=1, max_length=128)
    commission_rate: str = Field(max_length=16, description='"15%" or "0.15"', examples=["15%"])
    window_days: int = Field(default=30, ge=1, le=365)
    active: bool = True


class AgencyUserIn(BaseModel):
    staff_id: int = Field(ge=1, le=2**63 - 1)


@router.get("/agencies", responses=responses(403), summary="Collection agencies / 委外机构")
def agencies(staff: Annotated[Staff, permitted(READ)], request: Request) -> dict[str, Any]:
    scope = case_scope(request, staff)
    with reading(request) as session:
        items = agency_desk(request).agencies(session)
    if scope.agency_id is not None:
        items = [a for a in items if a["id"] == scope.agency_id]
    return {"items": items}


@router.post("/agencies", status_code=201, responses=CHANGE, summary="Add an agency / 新增委外机构")
def add_agency(
    body: AgencyIn, staff: Annotated[Staff, permitted(AGENCIES)], request: Request
) -> dict[str, Any]:
    return agency_desk(request).save_agency(body.model_dump(), actor=staff.username)


@router.put("/agencies/{agency_id}", responses=CHANGE, summary="Edit an agency / 编辑委外机构")
def edit_agency(
    agency_id: PathId,
    body: AgencyIn,
    staff: Annotated[Staff, permitted(AGENCIES)],
    request: Request,
) -> dict[str, Any]:
    return agency_desk(request).save_agency(
        body.model_dump(), actor=staff.username, agency_id=agency_id
    )


@router.post(
    "/agencies/{agency_id}/users",
    responses=CHANGE,
    summary="Link a collector to the agency / 绑定委外人员",
)
def link_user(
    agency_id: PathId,
    body: AgencyUserIn,
    staff: Annotated[Staff, permitted(AGENCIES)],
    request: Request,
) -> dict[str, Any]:
    return agency_desk(request).link_user(agency_id, body.staff_id, actor=staff.username)


@router.delete(
    "/agencies/{agency_id}/users/{staff_id}",
    responses=CHANGE,
    summary="Unlink a collector / 解绑委外人员",
)
def unlink_user(
    agency_id: PathId,
    staff_id: PathId,
    staff: Annotated[Staff, permitted(AGENCIES)],
    request: Request,
) -> dict[str, Any]:
    return agency_desk(request).link_user(agency_id, staff_id, actor=staff.username, link=False)


PLACEMENTS = Listing(
    "collection_placements",
    sortable={
        "id": Placement.id,
        "placed_on": Placement.placed_on,
        "window_end": Placement.window_end,
    },
    default_sort="-id",
    tiebreak=Placement.id,
)


@router.get(
    "/placements",
    response_model=page_of(views.Placement),
    responses=responses(403),
    summary="Placements with agencies / 委外记录",
)
def placements(
    staff: Annotated[Staff, permitted(READ)],
    request: Request,
    params: Annotated[ListParams, PLACEMENTS.params()],
    agency_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    status: Annotated[
        str | None,
        Query(max_length=16, json_schema_extra={"enum": ["active", "recalled", "closed"]}),
    ] = None,
) -> dict[str, Any]:
    scope = case_scope(request, staff)
    stmt = select(Placement)
    if scope.agency_id is not None:
        stmt = stmt.where(Placement.agency_id == scope.agency_id)
    elif scope.staff_id is not None:
        stmt = stmt.where(Placement.id == -1)  # an in-house collector places nothing
    if agency_id is not None:
        stmt = stmt.where(Placement.agency_id == agency_id)
    if status:
        stmt = stmt.where(Placement.status == status)
    with reading(request) as session:
        rows, total = PLACEMENTS.page(session, stmt, params)
        return params.answer(placement_views(session, [r[0] for r in rows]), total)


@router.post(
    "/placements/{placement_id}/recall",
    response_model=views.Placement,
    responses=CHANGE,
    summary="Recall a placement / 召回委外",
)
def recall(
    placement_id: PathId, staff: Annotated[Staff, permitted(AGENCIES)], request: Request
) -> dict[str, Any]:
    placement = agency_desk(request).recall(placement_id, actor=staff.username)
    with reading(request) as session:
        return placement_views(session, [placement])[0]


# ------------------------------------------------------------------ plans, strategies, guardrails


class PlanIn(BaseModel):
    offset_days: int = Field(ge=-30, le=60, description="days from the due date (−3: before)")
    template_code: str = Field(min_length=3, max_length=32)
    active: bool = True


class PlansIn(BaseModel):
    items: list[PlanIn] = Field(max_length=30)


@router.get("/reminder-plans", responses=responses(403), summary="Reminder plans / 还款提醒计划")
def reminder_plans(staff: Annotated[Staff, permitted(READ)], request: Request) -> dict[str, Any]:
    with reading(request) as session:
        return {"items": management(request).reminder_plans(session)}


@router.put(
    "/reminder-plans", responses=CHANGE, summary="Replace the reminder plans / 设置还款提醒计划"
)
def put_reminder_plans(
    body: PlansIn, staff: Annotated[Staff, permitted(MANAGE)], request: Request
) -> dict[str, Any]:
    items = [p.model_dump() for p in body.items]
    return {"items": management(request).put_reminder_plans(items, actor=staff.username)}


REMINDERS = Listing(
    "collection_reminders",
    sortable={"id": Reminder.id, "business_date": Reminder.business_date},
    default_sort="-id",
    tiebreak=Reminder.id,
)


@router.get(
    "/reminders",
    response_model=page_of(views.ReminderRow),
    responses=responses(403),
    summary="Reminders sent / 还款提醒发送记录",
)
def reminders(
    staff: Annotated[Staff, permitted(READ)],
    request: Request,
    params: Annotated[ListParams, REMINDERS.params()],
    loan_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    business_date: Annotated[date | None, Query()] = None,
    status: Annotated[
        str | None,
        Query(
            max_length=16,
            json_schema_extra={"enum": ["queued", "sent", "delivered", "failed", "refused"]},
        ),
    ] = None,
) -> dict[str, Any]:
    stmt = select(Reminder)
    scope = case_scope(request, staff)
    if not scope.everything:
        from xindai.store.models_collections import CollectionCase

        stmt = stmt.where(
            Reminder.loan_id.in_(select(CollectionCase.loan_id).where(scope.condition()))
        )
    if loan_id is not None:
        stmt = stmt.where(Reminder.loan_id == loan_id)
    if business_date is not None:
        stmt = stmt.where(Reminder.business_date == business_date)
    if status:
        stmt = stmt.where(Reminder.status == status)
    with reading(request) as session:
        rows, total = REMINDERS.page(session, stmt, params)
        return params.answer(
            [
                {
                    "id": r.id,
                    "loan_id": r.loan_id,
                    "installment": r.installment,
                    "offset_days": r.offset_days,
                    "business_date": r.business_date.isoformat(),
                    "template_code": r.template_code,
                    "status": r.status,
                    "message_id": r.message_id,
                    "sent_at": r.sent_at.isoformat() if r.sent_at else None,
                }
                for r in (row[0] for row in rows)
            ],
            total,
        )


@router.get("/strategies", responses=responses(403), summary="Collection strategies / 催收策略")
def strategies(staff: Annotated[Staff, permitted(READ)], request: Request) -> dict[str, Any]:
    """The strategies with the catalogue of action codes and their zh-CN / English names."""
    with reading(request) as session:
        return strategies_view(load_strategies(session))


@router.put("/strategies", responses=CHANGE, summary="Replace the strategies / 设置催收策略")
def put_strategies(
    body: dict[str, Any], staff: Annotated[Staff, permitted(MANAGE)], request: Request
) -> dict[str, Any]:
    return strategies_view(management(request).put_strategies(body, actor=staff.username))


@router.get("/guardrails", responses=responses(403), summary="Contact guardrails / 催收合规配置")
def guardrails(staff: Annotated[Staff, permitted(READ)], request: Request) -> dict[str, Any]:
    with reading(request) as session:
        return guardrails_view(load_guardrails(session))


@router.put("/guardrails", responses=CHANGE, summary="Replace the guardrails / 设置催收合规配置")
def put_guardrails(
    body: dict[str, Any], staff: Annotated[Staff, permitted(MANAGE)], request: Request
) -> dict[str, Any]:
    return management(request).put_guardrails(body, actor=staff.username)


@router.get("/load", responses=responses(403), summary="Collector load / 催收员负荷")
def load(staff: Annotated[Staff, permitted(ASSIGN)], request: Request) -> dict[str, Any]:
    with reading(request) as session:
        return {"items": management(request).load(session)}
