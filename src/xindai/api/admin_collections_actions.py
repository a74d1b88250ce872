"""Actions on a collection case (催收作业), /api/v1/admin/collections/cases/{id}/…: calls in
three dimensions, messages from approved templates, promises, letters and their PDFs,
visits, legal, the quadrant, holds, a guardrail check before dialling, and offers as
maker-checker requests (docs/collections-api.md). Each refused by the guardrails before
anything is logged or sent; a case outside the caller's scope is a 404."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from inspect import Parameter, Signature
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from xindai.api import views_collections as views
from xindai.api.admin_collections import ACT, READ, actions, case_scope
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
from xindai.api.deps import PathId, Staff, permitted
from xindai.api.listing import reading
from xindai.api.openapi import responses
from xindai.api.schemas import AMOUNT_IN_PATTERN
from xindai.collections.calls import CONNECTIONS, PARTIES, RESULTS, CallIn
from xindai.dates import parse_date
from xindai.money import parse_yuan

router = APIRouter(prefix="/api/v1/admin/collections", tags=["admin 催收作业"])
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


@dataclass(frozen=True, slots=True)
class Offer:
    """An offer the workbench makes as a maker-checker request: the servicing route's body
    and submission (`api.admin_servicing`), and the request permission of its kind."""

    kind: str
    body: type[BaseModel]
    permission: str
    submit: Callable[[int, Any, Staff, Request], dict[str, Any]]
    summary: str


OFFERS = (
    Offer(
        "waiver",
        WaiverIn,
        "loans.waive.request",
        request_waiver,
        "Offer a waiver (maker-checker) / 申请减免",
    ),
    Offer(
        "deferral",
        DeferralIn,
        "loans.defer",
        request_deferral,
        "Offer a deferral (maker-checker) / 申请延期还款",
    ),
    Offer(
        "extension",
        ExtensionIn,
        "loans.extend",
        request_extension,
        "Offer an extension (maker-checker) / 申请展期",
    ),
    Offer(
        "restructure",
        RestructureIn,
        "loans.restructure.request",
        request_restructure,
        "Offer a restructure (maker-checker) / 申请债务重组",
    ),
)


def _offer_route(offer: Offer) -> None:
    """`POST /cases/{case_id}/offers/<kind>` (collections.act and the kind's request
    permission): the servicing request on the case's loan, recorded on the case."""

    def route(case_id: int, body: BaseModel, staff: Staff, request: Request) -> dict[str, Any]:
        loan_id = _loan_of(request, staff, case_id)
        return actions(request).offer(
            case_scope(request, staff),
            case_id,
            lambda: offer.submit(loan_id, body, staff, request),
        )

    route.__name__ = route.__qualname__ = f"offer_{offer.kind}"  # the operation's id
    parameter = partial(Parameter, kind=Parameter.POSITIONAL_OR_KEYWORD)
    # FastAPI reads the parameters' types (the kind's body and permission) from here
    route.__signature__ = Signature(  # type: ignore[attr-defined]
        [
            parameter("case_id", annotation=PathId),
            parameter("body", annotation=offer.body),
            parameter("staff", annotation=Annotated[Staff, permitted(ACT, offer.permission)]),
            parameter("request", annotation=Request),
        ],
        return_annotation=dict[str, Any],
    )
    router.post(f"/cases/{{case_id}}/offers/{offer.kind}", **OFFERED, summary=offer.summary)(route)


for _offer in OFFERS:
    _offer_route(_offer)
