"""SMS in the admin API (短信管理), /api/v1/admin/sms: templates (a draft by operations with
`templates.edit`; approved or rejected by a second person with `templates.approve`, and once
approved registered with the SMS gateway), the variables a template may use, and the outbox
of every message the platform sent (numbers masked; searched by the whole number)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import and_, select

from xindai.api import views_sms as views
from xindai.api.deps import PathId, Staff, client_ip, permitted, platform
from xindai.api.listing import Listing, ListParams, page_of, reading
from xindai.api.openapi import responses
from xindai.dates import parse_date
from xindai.errors import InvalidValue
from xindai.integrations.errors import ProviderError
from xindai.messaging.outbox import ORIGINS, message_view
from xindai.messaging.outbox import STATUSES as MESSAGE_STATUSES
from xindai.messaging.templates import PURPOSES, STATUSES, VARIABLES, SmsTemplates, template_view
from xindai.store.models_admin import SmsMessage, SmsTemplate
from xindai.store.repository import NotFound

logger = logging.getLogger("xindai.api")
router = APIRouter(prefix="/api/v1/admin/sms", tags=["admin 短信 SMS"])
TEMPLATES = Listing(
    "sms_templates",
    sortable={"code": SmsTemplate.code, "id": SmsTemplate.id, "created_at": SmsTemplate.created_at},
    default_sort="code",
    tiebreak=SmsTemplate.id,
    search="template code",
)
OUTBOX = Listing(
    "sms_outbox",
    sortable={"id": SmsMessage.id, "sent_at": SmsMessage.sent_at},
    default_sort="-id",
    tiebreak=SmsMessage.id,
    search="the whole mobile number (matched by its keyed hash)",
)
DRAFT_NOTES = {
    400: "INVALID_VALUE (code, purpose, length, the sign 【…】, a malformed or unused "
    "placeholder), SMS_TEMPLATE_VARIABLE_UNKNOWN (a variable not in GET /sms/variables, or "
    "used but not declared), SMS_TEMPLATE_CONTENT_REFUSED (threats, impersonating a court or "
    "the authorities)"
}
DECIDE_NOTES = {
    400: "INVALID_VALUE: a rejection needs a note",
    409: "SMS_TEMPLATE_STATE: not a draft, or the caller drafted it (maker-checker)",
}


class TemplateIn(BaseModel):
    code: str = Field(max_length=32, examples=["REMINDER_D3"])
    purpose: str = Field(max_length=16, json_schema_extra={"enum": list(PURPOSES)})
    text: str = Field(
        max_length=500, examples=["【信贷】您的借款将于{due_date}到期，应还{amount}元。"]
    )
    variables: list[str] | None = Field(
        default=None,
        max_length=len(VARIABLES),
        description="the variables it declares (default: its placeholders)",
        json_schema_extra={"items": {"type": "string", "enum": list(VARIABLES)}},
    )
    note: str = Field(default="", max_length=512)


class DecisionIn(BaseModel):
    note: str = Field(default="", max_length=512, description="required to reject")


def _templates(request: Request) -> SmsTemplates:
    p = platform(request)
    return SmsTemplates(p.sessions, p.clock)


@router.get(
    "/variables",
    response_model=list[views.TemplateVariable],
    responses=responses(403),
    summary="The variables a template may use / 模板变量",
)
def variables(staff: Annotated[Staff, permitted("sms.read")]) -> list[dict[str, Any]]:
    return [{"name": k, "zh": zh, "en": en} for k, (zh, en) in VARIABLES.items()]


@router.get(
    "/templates",
    response_model=page_of(views.SmsTemplate),
    responses=responses(403),
    summary="SMS templates and their versions / 短信模板",
)
def templates(
    staff: Annotated[Staff, permitted("sms.read")],
    request: Request,
    params: Annotated[ListParams, TEMPLATES.params()],
    status: Annotated[
        str | None, Query(max_length=16, json_schema_extra={"enum": list(STATUSES)})
    ] = None,
    purpose: Annotated[
        str | None, Query(max_length=16, json_schema_extra={"enum": list(PURPOSES)})
    ] = None,
) -> dict[str, Any]:
    stmt = select(SmsTemplate)
    if status:
        stmt = stmt.where(SmsTemplate.status == status)
    if purpose:
        stmt = stmt.where(SmsTemplate.purpose == purpose)
    if params.query:
        stmt = stmt.where(SmsTemplate.code.contains(params.query.upper()))
    with reading(request) as session:
        rows, total = TEMPLATES.page(session, stmt, params)
        return params.answer([template_view(row) for (row,) in rows], total)


@router.get(
    "/templates/{template_id}",
    response_model=views.SmsTemplate,
    responses=responses(403, 404),
    summary="A template version / 短信模板详情",
)
def template(
    template_id: PathId, staff: Annotated[Staff, permitted("sms.read")], request: Request
) -> dict[str, Any]:
    with reading(request) as session:
        row = session.get(SmsTemplate, template_id)
        if row is None:
            raise NotFound(
                f"template {template_id} does not exist", f"短信模板 {template_id} 不存在"
            )
        return template_view(row)


@router.post(
    "/templates",
    status_code=201,
    response_model=views.SmsTemplate,
    responses=responses(400, 403, notes=DRAFT_NOTES),
    summary="Draft a template version / 起草短信模板",
)
def draft(
    body: TemplateIn, staff: Annotated[Staff, permitted("templates.edit")], request: Request
) -> dict[str, Any]:
    """The next version of `code` as a draft; nothing sends it until a second person
    approves it."""
    return _templates(request).draft(
        code=body.code,
        purpose=body.purpose,
        text=body.text,
        variables=body.variables,
        note=body.note,
        actor=staff.username,
        ip=client_ip(request),
    )


@router.post(
    "/templates/{template_id}/approve",
    response_model=views.ApprovedTemplate,
    responses=responses(400, 403, 404, 409, notes=DECIDE_NOTES),
    summary="Approve a draft (a second person) / 审批通过短信模板",
)
def approve(
    template_id: PathId,
    staff: Annotated[Staff, permitted("templates.approve")],
    request: Request,
    body: DecisionIn | None = None,
) -> dict[str, Any]:
    """It supersedes the code's approved version, and is registered with the SMS gateway
    (`registered` false when the gateway could not be reached or refused it: approved here,
    but the gateway refuses its messages until `POST …/register` succeeds)."""
    view = _templates(request).decide(
        template_id,
        approve=True,
        actor=staff.username,
        note=body.note if body else "",
        ip=client_ip(request),
    )
    return {**view, "registered": _register(request, view)}


def _register(request: Request, view: dict[str, Any]) -> bool:
    try:
        platform(request).providers.sms.register_template(view["code"], view["text"])
    except ProviderError as exc:
        logger.warning("template %s not registered with the gateway (%s)", view["code"], exc.code)
        return False
    return True


@router.post(
    "/templates/{template_id}/register",
    response_model=views.ApprovedTemplate,
    responses=responses(403, 404, 409, notes={409: "SMS_TEMPLATE_STATE: not approved"}),
    summary="Register an approved template with the SMS gateway again / 重新报备短信模板",
)
def register(
    template_id: PathId, staff: Annotated[Staff, permitted("templates.approve")], request: Request
) -> dict[str, Any]:
    from xindai.messaging.templates import TemplateError

    view = template(template_id, staff, request)
    if view["status"] != "approved":
        raise TemplateError(
            f"template {view['code']} v{view['version']} is {view['status']}",
            f"模板 {view['code']} v{view['version']} 状态为 {view['status']}",
        )
    return {**view, "registered": _register(request, view)}


@router.post(
    "/templates/{template_id}/reject",
    response_model=views.SmsTemplate,
    responses=responses(400, 403, 404, 409, notes=DECIDE_NOTES),
    summary="Reject a draft / 驳回短信模板",
)
def reject(
    template_id: PathId,
    body: DecisionIn,
    staff: Annotated[Staff, permitted("templates.approve")],
    request: Request,
) -> dict[str, Any]:
    return _templates(request).decide(
        template_id, approve=False, actor=staff.username, note=body.note, ip=client_ip(request)
    )


@router.get(
    "/outbox",
    response_model=page_of(views.SmsOutboxMessage),
    responses=responses(400, 403),
    summary="Messages sent / 短信发送记录",
)
def outbox(
    staff: Annotated[Staff, permitted("sms.read")],
    request: Request,
    params: Annotated[ListParams, OUTBOX.params()],
    template_code: Annotated[str | None, Query(max_length=32)] = None,
    origin: Annotated[
        str | None, Query(max_length=32, json_schema_extra={"enum": list(ORIGINS)})
    ] = None,
    status: Annotated[
        str | None, Query(max_length=16, json_schema_extra={"enum": list(MESSAGE_STATUSES)})
    ] = None,
    date_from: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")] = None,
) -> dict[str, Any]:
    from datetime import datetime, time, timedelta

    stmt: Any = select(SmsMessage, SmsTemplate).outerjoin(
        SmsTemplate,
        and_(
            SmsTemplate.code == SmsMessage.template_code,
            SmsTemplate.version == SmsMessage.template_version,
        ),
    )
    counted = select(SmsMessage.id)
    conditions: list[Any] = []
    if template_code:
        conditions.append(SmsMessage.template_code == template_code)
    if origin:
        conditions.append(SmsMessage.origin == origin)
    if status:
        conditions.append(SmsMessage.status == status)
    if date_from:
        first = parse_date(date_from, field="date_from")
        conditions.append(SmsMessage.sent_at >= datetime.combine(first, time.min))
    if date_to:
        last = parse_date(date_to, field="date_to")
        conditions.append(SmsMessage.sent_at < datetime.combine(last + timedelta(days=1), time.min))
    if params.query:
        try:
            phone_hash = platform(request).cipher.lookup_hash("phone", params.query)
        except InvalidValue:
            phone_hash = "-"  # not a number: nothing matches
        conditions.append(SmsMessage.phone_hash == phone_hash)
    for condition in conditions:
        stmt, counted = stmt.where(condition), counted.where(condition)
    with reading(request) as session:
        rows, total = OUTBOX.page(session, stmt, params, counted=counted)
        return params.answer([message_view(m, t) for m, t in rows], total)
