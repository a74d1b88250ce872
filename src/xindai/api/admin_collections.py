"""The collection workbench (催收工作台), /api/v1/admin/collections: the caller's cases
(list, export, my next case), a case in full, and the actions on it — calls, messages,
promises, letters, visits, legal, the quadrant, holds and offers — each refused by the
guardrails before anything is logged or sent (docs/collections-api.md). A collector sees
only its cases, an agency's user only its agency's; another case is a 404."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import Select, select

from xindai.api import views_collections as views
from xindai.api.admin_servicing import (
    DeferralIn,
    ExtensionIn,
    RestructureIn,
    WaiverIn,
    request_deferral,
    request_extension,
    request_restructure,
    request_waiver,
)
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
from xindai.api.schemas import AMOUNT_IN_PATTERN
from xindai.collections.actions import CONNECTIONS, PARTIES, RESULTS, CallIn, CaseActions
from xindai.collections.scope import CaseScope, scope_of
from xindai.collections.service import Workbench
from xindai.collections.views import case_rows
from xindai.dates import parse_date
from xindai.money import parse_yuan
from xindai.store.models_collections import CollectionCase

router = APIRouter(prefix="/api/v1/admin/collections", tags=["admin 催收工作台"])
READ, ACT, EXPORT = "collections.read", "collections.act", "reports.export"
ACTION_NOTES = {
    400: "a malformed field (INVALID_VALUE), a promise out of range "
    "(COLLECTION_PROMISE_INVALID), a visit without a second collector "
    "(COLLECTION_VISIT_COMPANIONS)",
    404: "no such case in the caller's scope",
    409: "a guardrail: COLLECTION_QUIET_HOURS, COLLECTION_ATTEMPTS_EXCEEDED, "
    "COLLECTION_CONNECTED_CAP, COLLECTION_THIRD_PARTY, COLLECTION_TEMPLATE_ONLY; "
    "COLLECTION_CASE_CLOSED",
}
ACTED: dict[str, Any] = {
    "status_code": 201,
    "responses": responses(400, 403, 404, 409, notes=ACTION_NOTES),
}

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
    with reading(request) as session:
        return scope_of(session, staff, staff.username)


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


# ------------------------------------------------------------------ actions


class PromiseIn(BaseModel):
    amount: str = Field(max_length=32, json_schema_extra={"pattern": AMOUNT_IN_PATTERN})
    promised_on: str = Field(max_length=10, description="YYYY-MM-DD, today … 30 days ahead")
    note: str = Field(default="", max_length=1000)


class CallBody(BaseModel):
    contact: str = Field(default="borrower", max_length=32, description="a contact's ref")
    connection: str = Field(json_schema_extra={"enum": list(CONNECTIONS)}, max_length=16)
    party: str | None = Field(
        default=None, json_schema_extra={"enum": list(PARTIES)}, max_length=16
    )
    result: str | None = Field(
        default=None, json_schema_extra={"enum": list(RESULTS)}, max_length=16
    )
    note: str = Field(default="", max_length=1000)
    recording_ref: str | None = Field(default=None, max_length=128)
    debtor_consented: bool = Field(
        default=False, description="the debtor agreed to a call in quiet hours"
    )
    promise: PromiseIn | None = None


class SmsBody(BaseModel):
    template_code: str = Field(min_length=3, max_length=32)
    contact: str = Field(default="borrower", max_length=32)


class LetterBody(BaseModel):
    kind: str = Field(json_schema_extra={"enum": ["demand", "lawyer"]}, max_length=8)


class VisitBody(BaseModel):
    companions: list[int] = Field(min_length=1, max_length=5)
    planned_on: str = Field(max_length=10)
    note: str = Field(default="", max_length=1000)


class ReasonBody(BaseModel):
    reason: str = Field(min_length=1, max_length=512)


class QuadrantBody(BaseModel):
    willing: bool
    able: bool


class HoldBody(BaseModel):
    days: int = Field(ge=1, le=30)
    reason: str = Field(default="", max_length=512)


class CheckBody(BaseModel):
    kind: str = Field(json_schema_extra={"enum": ["call", "sms"]}, max_length=8)
    contact: str = Field(default="borrower", max_length=32)
    debtor_consented: bool = False


@router.post(
    "/cases/{case_id}/check",
    responses=responses(400, 403, 404, 409, notes=ACTION_NOTES),
    summary="Would the guardrails allow this contact now? / 合规预检",
)
def check(
    case_id: PathId, body: CheckBody, staff: Annotated[Staff, permitted(ACT)], request: Request
) -> dict[str, Any]:
    return actions(request).check(
        case_scope(request, staff), case_id, body.kind, body.contact, body.debtor_consented
    )


@router.post(
    "/cases/{case_id}/calls",
    response_model=views.Action,
    **ACTED,
    summary="Log a call (three dimensions) / 登记通话",
)
def log_call(
    case_id: PathId, body: CallBody, staff: Annotated[Staff, permitted(ACT)], request: Request
) -> dict[str, Any]:
    promise = body.promise
    call = CallIn(
        contact=body.contact,
        connection=body.connection,
        party=body.party,
        result=body.result,
        note=body.note,
        recording_ref=body.recording_ref,
        consented=body.debtor_consented,
        promise_amount_fen=parse_yuan(promise.amount, field="promise.amount") if promise else None,
        promise_date=parse_date(promise.promised_on, field="promise.promised_on")
        if promise
        else None,
    )
    return actions(request).log_call(case_scope(request, staff), case_id, call)


@router.post(
    "/cases/{case_id}/sms",
    response_model=views.Action,
    **ACTED,
    summary="Send an approved SMS / 发送催收短信",
)
def send_sms(
    case_id: PathId, body: SmsBody, staff: Annotated[Staff, permitted(ACT)], request: Request
) -> dict[str, Any]:
    return actions(request).send_sms(
        case_scope(request, staff), case_id, body.template_code, body.contact
    )


@router.post("/cases/{case_id}/promises", **ACTED, summary="Record a promise to pay / 登记承诺还款")
def promise(
    case_id: PathId, body: PromiseIn, staff: Annotated[Staff, permitted(ACT)], request: Request
) -> dict[str, Any]:
    return actions(request).promise(
        case_scope(request, staff),
        case_id,
        parse_yuan(body.amount, field="amount"),
        parse_date(body.promised_on, field="promised_on"),
        body.note,
    )


@router.post(
    "/cases/{case_id}/letters",
    response_model=views.Action,
    **ACTED,
    summary="Generate a demand or lawyer's letter (PDF) / 生成催收函、律师函",
)
def letter(
    case_id: PathId, body: LetterBody, staff: Annotated[Staff, permitted(ACT)], request: Request
) -> dict[str, Any]:
    return actions(request).letter(case_scope(request, staff), case_id, body.kind)


@router.get(
    "/letters/{letter_id}",
    response_class=Response,
    responses={
        **responses(403, 404),
        200: {"content": {"application/pdf": {}}, "description": "the letter"},
    },
    summary="A letter's PDF / 函件 PDF",
)
def letter_pdf(
    letter_id: PathId, staff: Annotated[Staff, permitted(READ)], request: Request
) -> Response:
    pdf = actions(request).letter_pdf(case_scope(request, staff), letter_id)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="letter-{letter_id}.pdf"'},
    )


@router.post(
    "/cases/{case_id}/visits",
    response_model=views.Action,
    **ACTED,
    summary="Plan a field visit (two collectors) / 上门催收",
)
def visit(
    case_id: PathId, body: VisitBody, staff: Annotated[Staff, permitted(ACT)], request: Request
) -> dict[str, Any]:
    return actions(request).visit(
        case_scope(request, staff),
        case_id,
        body.companions,
        parse_date(body.planned_on, field="planned_on"),
        body.note,
    )


@router.post(
    "/cases/{case_id}/legal",
    response_model=views.Action,
    **ACTED,
    summary="Escalate to legal / 转法务",
)
def legal(
    case_id: PathId, body: ReasonBody, staff: Annotated[Staff, permitted(ACT)], request: Request
) -> dict[str, Any]:
    return actions(request).legal(case_scope(request, staff), case_id, body.reason)


@router.post(
    "/cases/{case_id}/quadrant",
    responses=responses(400, 403, 404, 409, notes=ACTION_NOTES),
    summary="Tag willingness × ability / 意愿能力象限",
)
def quadrant(
    case_id: PathId, body: QuadrantBody, staff: Annotated[Staff, permitted(ACT)], request: Request
) -> dict[str, Any]:
    return actions(request).set_quadrant(
        case_scope(request, staff), case_id, body.willing, body.able
    )


@router.post(
    "/cases/{case_id}/hold",
    response_model=views.CaseRow,
    responses=responses(400, 403, 404, 409, notes=ACTION_NOTES),
    summary="Hold the case (留案) / 留案",
)
def hold(
    case_id: PathId, body: HoldBody, staff: Annotated[Staff, permitted(ACT)], request: Request
) -> dict[str, Any]:
    return actions(request).hold(case_scope(request, staff), case_id, body.days, body.reason)


@router.delete(
    "/cases/{case_id}/hold",
    response_model=views.CaseRow,
    responses=responses(403, 404, 409, notes=ACTION_NOTES),
    summary="End a hold / 取消留案",
)
def release(
    case_id: PathId, staff: Annotated[Staff, permitted(ACT)], request: Request
) -> dict[str, Any]:
    return actions(request).hold(case_scope(request, staff), case_id, None)


# ------------------------------------------------------------------ offers (maker-checker)


def _loan_of(request: Request, staff: Staff, case_id: int) -> int:
    from xindai.collections.scope import visible_case

    scope = case_scope(request, staff)
    with reading(request) as session:
        return visible_case(session, scope, case_id).loan_id


OFFERED: dict[str, Any] = {
    "status_code": 201,
    "responses": responses(400, 403, 404, 409, notes=ACTION_NOTES),
}


@router.post(
    "/cases/{case_id}/offers/waiver", **OFFERED, summary="Offer a waiver (maker-checker) / 申请减免"
)
def offer_waiver(
    case_id: PathId,
    body: WaiverIn,
    staff: Annotated[Staff, permitted(ACT, "loans.waive.request")],
    request: Request,
) -> dict[str, Any]:
    loan_id = _loan_of(request, staff, case_id)
    return actions(request).offer(
        case_scope(request, staff), case_id, lambda: request_waiver(loan_id, body, staff, request)
    )


@router.post(
    "/cases/{case_id}/offers/deferral",
    **OFFERED,
    summary="Offer a deferral (maker-checker) / 申请延期还款",
)
def offer_deferral(
    case_id: PathId,
    body: DeferralIn,
    staff: Annotated[Staff, permitted(ACT, "loans.defer")],
    request: Request,
) -> dict[str, Any]:
    loan_id = _loan_of(request, staff, case_id)
    return actions(request).offer(
        case_scope(request, staff), case_id, lambda: request_deferral(loan_id, body, staff, request)
    )


@router.post(
    "/cases/{case_id}/offers/extension",
    **OFFERED,
    summary="Offer an extension (maker-checker) / 申请展期",
)
def offer_extension(
    case_id: PathId,
    body: ExtensionIn,
    staff: Annotated[Staff, permitted(ACT, "loans.extend")],
    request: Request,
) -> dict[str, Any]:
    loan_id = _loan_of(request, staff, case_id)
    return actions(request).offer(
        case_scope(request, staff),
        case_id,
        lambda: request_extension(loan_id, body, staff, request),
    )


@router.post(
    "/cases/{case_id}/offers/restructure",
    **OFFERED,
    summary="Offer a restructure (maker-checker) / 申请债务重组",
)
def offer_restructure(
    case_id: PathId,
    body: RestructureIn,
    staff: Annotated[Staff, permitted(ACT, "loans.restructure.request")],
    request: Request,
) -> dict[str, Any]:
    loan_id = _loan_of(request, staff, case_id)
    return actions(request).offer(
        case_scope(request, staff),
        case_id,
        lambda: request_restructure(loan_id, body, staff, request),
    )
