"""The collection workbench (催收工作台), /api/v1/admin/collections: the caller's cases
(list, export, my next case), a case in full, and what its pickers offer (the colleagues
for a visit, the SMS templates); the actions on a case are `admin_collections_actions`.
A collector sees only its cases, an agency's user only its agency's; another case is a 404
(docs/collections-api.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from sqlalchemy import Select, select

from xindai.api import views_collections as views
from xindai.api.deps import PathId, Staff, permitted, platform
from xindai.api.listing import (
    EXPORT_RESPONSES,
    Column,
    Listing,
    ListParams,
    export_xlsx,
    page_of,
    reading,
)
from xindai.api.openapi import responses
from xindai.api.scopes import case_scope_of
from xindai.collections import desk
from xindai.collections.actions import CaseActions
from xindai.collections.scope import CaseScope
from xindai.collections.service import Workbench
from xindai.collections.views import case_rows
from xindai.store.models_collections import CollectionCase

router = APIRouter(prefix="/api/v1/admin/collections", tags=["admin 催收工作台"])
READ, ACT, EXPORT = "collections.read", "collections.act", "reports.export"
CASES = Listing(
    "collection_cases",
    sortable={
        "priority": CollectionCase.priority,
        "dpd": CollectionCase.dpd,
        "overdue": CollectionCase.overdue_fen,
        "opened_on": CollectionCase.opened_on,
        "id": CollectionCase.id,
    },
    default_sort="-priority",
    tiebreak=CollectionCase.id,
    search="a loan id",
)
COLUMNS = (
    Column("id", "案件号", "int"),
    Column("loan_id", "借据号", "int"),
    Column("borrower_name", "借款人"),
    Column("status", "状态"),
    Column("queue", "队列"),
    Column("bucket", "逾期阶段"),
    Column("dpd", "逾期天数", "int"),
    Column("overdue", "逾期金额", "yuan"),
    Column("outstanding", "剩余应还", "yuan"),
    Column("assignee", "催收员"),
    Column("agency", "委外机构"),
    Column("quadrant", "象限"),
    Column("opened_on", "入催日"),
    Column("closed_on", "结案日"),
    Column("close_reason", "结案原因"),
)


def workbench(request: Request) -> Workbench:
    p = platform(request)
    return Workbench(p.sessions, p.cipher, p.clock)


def actions(request: Request) -> CaseActions:
    p = platform(request)
    return CaseActions(p.sessions, p.cipher, p.clock, p.providers, p.loans)


def case_scope(request: Request, staff: Staff) -> CaseScope:
    """The caller's case scope (its agency was read with its session: `Staff.agency_id`)."""
    return case_scope_of(staff)


# ------------------------------------------------------------------ lists


@dataclass(frozen=True, slots=True)
class CaseFilters:
    status: str | None
    queue: str | None
    bucket: str | None
    assignee_id: int | None
    agency_id: int | None
    quadrant: str | None
    dpd_min: int | None
    dpd_max: int | None

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


def case_filters(
    status: Annotated[
        str | None, Query(max_length=8, json_schema_extra={"enum": ["open", "closed", "all"]})
    ] = "open",
    queue: Annotated[str | None, Query(max_length=16)] = None,
    bucket: Annotated[str | None, Query(max_length=8)] = None,
    assignee_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    agency_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    quadrant: Annotated[
        str | None, Query(max_length=4, json_schema_extra={"enum": ["I", "II", "III", "IV"]})
    ] = None,
    dpd_min: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    dpd_max: Annotated[int | None, Query(ge=0, le=100_000)] = None,
) -> CaseFilters:
    return CaseFilters(status, queue, bucket, assignee_id, agency_id, quadrant, dpd_min, dpd_max)


Filters = Annotated[CaseFilters, Depends(case_filters)]


def _select(request: Request, staff: Staff, f: CaseFilters, q: str | None) -> Select[Any]:
    from xindai.store.models_collections import CollectionQueue

    scope = case_scope(request, staff)
    conditions: list[Any] = [scope.condition()]
    if f.status in ("open", "closed"):
        conditions.append(CollectionCase.status == f.status)
    if f.queue:
        conditions.append(
            CollectionCase.queue_id.in_(
                select(CollectionQueue.id).where(CollectionQueue.code == f.queue)
            )
        )
    if f.bucket:
        conditions.append(CollectionCase.bucket == f.bucket)
    if f.assignee_id is not None:
        conditions.append(CollectionCase.assignee_id == f.assignee_id)
    if f.agency_id is not None:
        conditions.append(CollectionCase.agency_id == f.agency_id)
    if f.quadrant:
        conditions.append(CollectionCase.quadrant == f.quadrant)
    if f.dpd_min is not None:
        conditions.append(CollectionCase.dpd >= f.dpd_min)
    if f.dpd_max is not None:
        conditions.append(CollectionCase.dpd <= f.dpd_max)
    if q and q.strip():
        number = q.strip()
        conditions.append(
            CollectionCase.loan_id == int(number)
            if number.isdigit() and len(number) < 19
            else CollectionCase.id == -1
        )
    return select(CollectionCase).where(*conditions)


def _render(session: Any, rows: Any) -> list[dict[str, Any]]:
    return case_rows(session, [row[0] for row in rows])


@router.get(
    "/cases",
    response_model=page_of(views.CaseRow),
    responses=responses(403),
    summary="Collection cases in my scope / 催收案件列表",
)
def cases(
    staff: Annotated[Staff, permitted(READ)],
    request: Request,
    params: Annotated[ListParams, CASES.params()],
    filters: Filters,
) -> dict[str, Any]:
    stmt = _select(request, staff, filters, params.query)
    with reading(request) as session:
        rows, total = CASES.page(session, stmt, params)
        return params.answer(_render(session, rows), total)


@router.get(
    "/cases/export",
    response_class=FileResponse,
    responses=EXPORT_RESPONSES,
    summary="Collection cases as an Excel file / 导出催收案件",
)
def export_cases(
    staff: Annotated[Staff, permitted(READ, EXPORT)],
    request: Request,
    params: Annotated[ListParams, CASES.params(paged=False)],
    filters: Filters,
) -> FileResponse:
    return export_xlsx(
        request,
        staff,
        listing=CASES,
        stmt=_select(request, staff, filters, params.query),
        params=params,
        render=_render,
        columns=COLUMNS,
        filters=filters.as_dict(),
        title="催收案件",
    )


@router.get(
    "/next",
    response_model=views.NextCase,
    responses=responses(403),
    summary="My next case, by priority / 下一个案件",
)
def next_case(staff: Annotated[Staff, permitted(ACT)], request: Request) -> dict[str, Any]:
    scope = case_scope(request, staff)
    with reading(request) as session:
        return {"case": workbench(request).next_case(session, scope)}


@router.get(
    "/colleagues",
    response_model=views.Colleagues,
    responses=responses(403),
    summary="My colleagues, for a field visit's second collector / 同行催收员",
)
def colleagues(staff: Annotated[Staff, permitted(ACT)], request: Request) -> dict[str, Any]:
    """The active collectors of the caller's teams (an agency's user: of its agency), names
    only; a visit takes its companions from these."""
    scope = case_scope(request, staff)
    with reading(request) as session:
        return {"items": desk.colleagues(session, scope)}


@router.get(
    "/sms-templates",
    response_model=views.CollectionTemplates,
    responses=responses(403),
    summary="The SMS templates I may send / 可用催收短信模板",
)
def sms_templates(staff: Annotated[Staff, permitted(ACT)], request: Request) -> dict[str, Any]:
    """The approved version of each template of purpose `collection` or `reminder`."""
    with reading(request) as session:
        return {"items": desk.sms_templates(session)}


@router.get(
    "/cases/{case_id}",
    responses=responses(403, 404),
    summary="A case: loan, schedule, due now, payoff, contacts, history / 案件详情",
)
def case_detail(
    case_id: PathId, staff: Annotated[Staff, permitted(READ)], request: Request
) -> dict[str, Any]:
    scope = case_scope(request, staff)
    with reading(request) as session:
        return workbench(request).detail(session, scope, case_id)
