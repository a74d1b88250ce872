"""Applications in the admin API (申请管理), /api/v1/admin/applications: the list by status,
product, channel and dates (search by application id, or the applicant's phone or resident ID
through their keyed hashes), its xlsx export, and one application with its decisions, review
task, payouts and contract. The decision's full explanation is
`GET /applications/{id}/decisions` (api.admin). An agent sees only its channel's
applicants, a collector (should a role of its scope be given `applications.read`) only the
applications of its cases' loans; another's application is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from sqlalchemy import Select, exists, false, select
from sqlalchemy.orm import Session

from xindai.api import views_lists as views
from xindai.api.admin_rows import (
    ID_SEARCH,
    PHONE_SEARCH,
    application_rows,
    between_times,
    channel_filter,
    decision_rows,
    iso,
    not_found,
    payout_rows,
    require_visible,
    search_text,
)
from xindai.api.deps import PathId, Staff, permitted, platform
from xindai.api.listing import (
    COUNT_CAP,
    EXPORT_RESPONSES,
    Column,
    Listing,
    ListParams,
    export_xlsx,
    page_of,
    reading,
)
from xindai.api.openapi import responses
from xindai.api.scopes import loan_scope, require_loan
from xindai.api.views import APPLICATION_STATUSES
from xindai.security.pii import PiiCipher
from xindai.security.rbac import visible_channel
from xindai.store.models import Borrower
from xindai.store.models_origination import Application, ContractRecord, DecisionRecord, Payout
from xindai.store.models_risk import ReviewTask

router = APIRouter(prefix="/api/v1/admin/applications", tags=["admin 申请管理"])
READ, EXPORT = "applications.read", "reports.export"

APPLICATIONS = Listing(
    "applications",
    sortable={"id": Application.id, "created_at": Application.created_at},
    default_sort="-id",
    tiebreak=Application.id,
    search="application id, or the applicant's mobile or resident ID number (by their hashes)",
)
COLUMNS = (
    Column("id", "申请编号", "int"),
    Column("created_at", "申请时间"),
    Column("status", "状态"),
    Column("product", "产品"),
    Column("amount", "申请金额", "yuan"),
    Column("approved_amount", "批准金额", "yuan"),
    Column("term", "期限", "int"),
    Column("purpose", "用途"),
    Column("borrower_id", "客户编号", "int"),
    Column("applicant_name", "申请人"),
    Column("applicant_phone", "手机号"),
    Column("channel", "渠道"),
    Column("score", "评分"),
    Column("grade", "等级"),
    Column("offered_rate", "定价利率"),
    Column("loan_id", "借据号", "int"),
    Column("decided_at", "决策时间"),
)


@dataclass(frozen=True, slots=True)
class ApplicationFilters:
    status: str | None
    product_code: str | None
    channel: str | None
    date_from: date | None
    date_to: date | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "product_code": self.product_code,
            "channel": self.channel,
            "date_from": self.date_from,
            "date_to": self.date_to,
        }


def application_filters(
    status: Annotated[
        str | None, Query(max_length=16, json_schema_extra={"enum": list(APPLICATION_STATUSES)})
    ] = None,
    product_code: Annotated[str | None, Query(max_length=32)] = None,
    channel: Annotated[str | None, Query(max_length=32, description="the applicant's")] = None,
    date_from: Annotated[date | None, Query(description="applied on or after")] = None,
    date_to: Annotated[date | None, Query(description="applied on or before")] = None,
) -> ApplicationFilters:
    return ApplicationFilters(status, product_code, channel, date_from, date_to)


Filters = Annotated[ApplicationFilters, Depends(application_filters)]


def _search(cipher: PiiCipher, q: str | None) -> Any:
    text = search_text(q)
    if text is None:
        return None
    if PHONE_SEARCH.fullmatch(text):
        return Application.phone_hash == cipher.lookup_hash("phone", text)
    if ID_SEARCH.fullmatch(text):
        return Application.id_number_hash == cipher.lookup_hash("id_number", text)
    if text.isdigit() and len(text) <= 18:
        return Application.id == int(text)
    return false()


def _select(
    request: Request, staff: Staff, filters: ApplicationFilters, q: str | None
) -> Select[Any]:
    conditions: list[Any] = between_times(
        Application.created_at, filters.date_from, filters.date_to
    )
    if filters.status:
        conditions.append(Application.status == filters.status)
    if filters.product_code:
        conditions.append(Application.product_code == filters.product_code)
    searched = _search(platform(request).cipher, q)
    if searched is not None:
        conditions.append(searched)
    scoped = channel_filter(staff, Borrower.channel, filters.channel)
    if scoped:  # the channel is the applicant's: looked up row by row, newest first
        conditions.append(exists().where(Borrower.id == Application.borrower_id, *scoped))
    conditions += loan_scope(staff, Application.loan_id)  # a collector: its cases' loans'
    return select(Application).where(*conditions)


def _render(request: Request) -> Any:
    cipher = platform(request).cipher

    def render(session: Session, rows: Any) -> list[dict[str, Any]]:
        return application_rows(session, cipher, [row[0] for row in rows])

    return render


@router.get(
    "",
    response_model=page_of(views.ApplicationRow),
    responses=responses(403),
    summary="Applications / 申请列表",
)
def applications(
    staff: Annotated[Staff, permitted(READ)],
    request: Request,
    params: Annotated[ListParams, APPLICATIONS.params()],
    filters: Filters,
) -> dict[str, Any]:
    stmt = _select(request, staff, filters, params.query)
    with reading(request) as session:
        cap = COUNT_CAP
        rows, total = APPLICATIONS.page(session, stmt, params, cap=cap)
        return params.answer(_render(request)(session, rows), total)


@router.get(
    "/export",
    response_class=FileResponse,
    responses=EXPORT_RESPONSES,
    summary="Applications as an Excel file / 导出申请",
)
def export_applications(
    staff: Annotated[Staff, permitted(READ, EXPORT)],
    request: Request,
    params: Annotated[ListParams, APPLICATIONS.params(paged=False)],
    filters: Filters,
) -> FileResponse:
    return export_xlsx(
        request,
        staff,
        listing=APPLICATIONS,
        stmt=_select(request, staff, filters, params.query),
        params=params,
        render=_render(request),
        columns=COLUMNS,
        filters=filters.as_dict(),
        title="申请列表",
    )


def visible_application(session: Session, staff: Staff, application_id: int) -> Application:
    """The application, when the staff member's data scope covers its applicant (else 404)."""
    application = session.get(Application, application_id)
    if application is None:
        raise not_found("application", "申请")
    if visible_channel(staff) is not None:
        borrower = session.get(Borrower, application.borrower_id)
        require_visible(staff, borrower.channel if borrower else None, "application", "申请")
    require_loan(session, staff, application.loan_id, "application", "申请")
    return application


@router.get(
    "/{application_id}",
    response_model=views.ApplicationDetail,
    responses=responses(403, 404),
    summary="An application with its decisions, review, payouts and contract / 申请详情",
)
def application(
    application_id: PathId, staff: Annotated[Staff, permitted(READ)], request: Request
) -> dict[str, Any]:
    p = platform(request)
    with reading(request) as session:
        found = visible_application(session, staff, application_id)
        decisions = session.scalars(
            select(DecisionRecord)
            .where(DecisionRecord.application_id == application_id)
            .order_by(DecisionRecord.id)
        ).all()
        task = session.get(ReviewTask, application_id)
        payouts = session.scalars(
            select(Payout).where(Payout.application_id == application_id).order_by(Payout.id)
        ).all()
        contract = session.scalars(
            select(ContractRecord).where(ContractRecord.application_id == application_id)
        ).one_or_none()
        return {
            "application": application_rows(session, p.cipher, [found])[0],
            "declared": {
                "monthly_income_fen": found.monthly_income_fen,
                "employment_type": found.employment_type,
                "education": found.education,
                "city": found.city,
                "phonebook_count": found.phonebook_count,
                "device_hash": found.device_hash,
            },
            "decisions": decision_rows(decisions),
            "review": None
            if task is None
            else {
                "status": task.status,
                "queued_at": iso(task.queued_at),
                "due_at": iso(task.due_at),
                "claimed_by": task.claimed_by,
                "outcome": task.outcome,
                "decided_by": task.decided_by,
                "decided_at": iso(task.decided_at),
            },
            "payouts": payout_rows(session, payouts),
            "contract": None
            if contract is None
            else {
                "status": contract.status,
                "esign_ref": contract.esign_ref,
                "signed_at": iso(contract.signed_at),
                "pdf_sha256": contract.pdf_sha256,
            },
        }
