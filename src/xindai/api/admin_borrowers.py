"""Borrowers in the admin API (客户管理), /api/v1/admin/borrowers: the list (search by phone or
resident ID through their keyed hashes; filters by KYC status, channel, registration dates),
its xlsx export, a borrower's detail (KYC, contacts, cards, applications, loans, decisions,
credit line, audit trail) and the audited reveal of one personal value.

Personal data is masked everywhere here; `POST /borrowers/{id}/reveal` (needs
`borrowers.pii.read`) answers one value whole and audits it. An agent sees only its
channel's borrowers, a collector only the debtors of its cases (and of their loans and
applications only those of its cases: `api.scopes`); another's borrower is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from xindai.api import views_lists as views
from xindai.api.admin_rows import (
    application_rows,
    audit_rows,
    between_days,
    borrower_match,
    borrower_rows,
    card_rows,
    channel_filter,
    contact_rows,
    decision_rows,
    loan_rows,
    not_found,
    require_visible,
)
from xindai.api.deps import PathId, Staff, client_ip, permitted, platform
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
from xindai.api.scopes import borrower_scope, loan_scope, require_borrower
from xindai.risk.credit_lines import CreditLineNotFound, credit_line_view
from xindai.security import audit
from xindai.store import repository as repo
from xindai.store.models import Borrower, Loan
from xindai.store.models_origination import (
    AgreementAcceptance,
    Application,
    AuditEvent,
    BankCard,
    BorrowerPhoto,
    Contact,
    DecisionRecord,
)

router = APIRouter(prefix="/api/v1/admin/borrowers", tags=["admin 客户管理"])
READ, PII, EXPORT = "borrowers.read", "borrowers.pii.read", "reports.export"

BORROWERS = Listing(
    "borrowers",
    sortable={"id": Borrower.id, "registered_on": Borrower.created_on},
    default_sort="-id",
    tiebreak=Borrower.id,
    search="mobile number or resident ID number (matched by their keyed hashes), or borrower id",
)
COLUMNS = (
    Column("id", "客户编号", "int"),
    Column("name", "姓名"),
    Column("phone", "手机号"),
    Column("id_number", "身份证号"),
    Column("channel", "渠道"),
    Column("kyc_status", "实名状态"),
    Column("liveness_passed", "活体通过"),
    Column("registered_on", "注册日期"),
    Column("loans", "借款笔数", "int"),
    Column("open_loans", "在贷笔数", "int"),
)


@dataclass(frozen=True, slots=True)
class BorrowerFilters:
    kyc_status: str | None
    channel: str | None
    date_from: date | None
    date_to: date | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kyc_status": self.kyc_status,
            "channel": self.channel,
            "date_from": self.date_from,
            "date_to": self.date_to,
        }


def borrower_filters(
    kyc_status: Annotated[
        str | None,
        Query(max_length=16, json_schema_extra={"enum": list(views.KYC_STATUSES)}),
    ] = None,
    channel: Annotated[str | None, Query(max_length=32, description="acquisition channel")] = None,
    date_from: Annotated[date | None, Query(description="registered on or after")] = None,
    date_to: Annotated[date | None, Query(description="registered on or before")] = None,
) -> BorrowerFilters:
    return BorrowerFilters(kyc_status, channel, date_from, date_to)


Filters = Annotated[BorrowerFilters, Depends(borrower_filters)]


def _select(request: Request, staff: Staff, filters: BorrowerFilters, q: str | None) -> Select[Any]:
    conditions = channel_filter(staff, Borrower.channel, filters.channel)
    conditions += borrower_scope(staff, Borrower.id)
    conditions += between_days(Borrower.created_on, filters.date_from, filters.date_to)
    if filters.kyc_status:
        conditions.append(Borrower.kyc_status == filters.kyc_status)
    searched = borrower_match(platform(request).cipher, q)
    if searched is not None:
        conditions.append(searched)
    return select(Borrower).where(*conditions)


def _render(request: Request) -> Any:
    cipher = platform(request).cipher

    def render(session: Session, rows: Any) -> list[dict[str, Any]]:
        return borrower_rows(session, cipher, [row[0] for row in rows])

    return render


@router.get(
    "",
    response_model=page_of(views.BorrowerRow),
    responses=responses(403),
    summary="Borrowers / 客户列表",
)
def borrowers(
    staff: Annotated[Staff, permitted(READ)],
    request: Request,
    params: Annotated[ListParams, BORROWERS.params()],
    filters: Filters,
) -> dict[str, Any]:
    stmt = _select(request, staff, filters, params.query)
    with reading(request) as session:
        rows, total = BORROWERS.page(session, stmt, params, cap=COUNT_CAP)
        return params.answer(_render(request)(session, rows), total)


@router.get(
    "/export",
    response_class=FileResponse,
    responses=EXPORT_RESPONSES,
    summary="Borrowers as an Excel file / 导出客户",
)
def export_borrowers(
    staff: Annotated[Staff, permitted(READ, EXPORT)],
    request: Request,
    params: Annotated[ListParams, BORROWERS.params(paged=False)],
    filters: Filters,
) -> FileResponse:
    return export_xlsx(
        request,
        staff,
        listing=BORROWERS,
        stmt=_select(request, staff, filters, params.query),
        params=params,
        render=_render(request),
        columns=COLUMNS,
        filters=filters.as_dict(),
        title="客户列表",
    )


def _borrower(session: Session, staff: Staff, borrower_id: int) -> Borrower:
    row = session.get(Borrower, borrower_id)
    if row is None:
        raise not_found("borrower", "借款人")
    require_visible(staff, row.channel, "borrower", "借款人")
    require_borrower(session, staff, borrower_id, "borrower", "借款人")
    return row


@router.get(
    "/{borrower_id}",
    response_model=views.BorrowerDetail,
    responses=responses(403, 404),
    summary="A borrower: KYC, contacts, cards, applications, loans, decisions / 客户详情",
)
def borrower(
    borrower_id: PathId, staff: Annotated[Staff, permitted(READ)], request: Request
) -> dict[str, Any]:
    p = platform(request)
    with reading(request) as session:
        row = _borrower(session, staff, borrower_id)
        applications = session.scalars(
            select(Application)
            .where(Application.borrower_id == borrower_id, *loan_scope(staff, Application.loan_id))
            .order_by(Application.id.desc())
            .limit(100)
        ).all()
        decisions = session.scalars(
            select(DecisionRecord)
            .where(DecisionRecord.application_id.in_([a.id for a in applications]))
            .order_by(DecisionRecord.id.desc())
        ).all()
        loans = session.scalars(  # a collector: only its cases' loans of the debtor
            select(Loan)
            .where(Loan.borrower_id == borrower_id, *loan_scope(staff, Loan.id))
            .order_by(Loan.id.desc())
            .limit(100)
        ).all()
        contacts = session.scalars(
            select(Contact).where(Contact.borrower_id == borrower_id).order_by(Contact.seq)
        ).all()
        cards = session.scalars(
            select(BankCard).where(BankCard.borrower_id == borrower_id).order_by(BankCard.id)
        ).all()
        photos = session.scalars(
            select(BorrowerPhoto.kind)
            .where(BorrowerPhoto.borrower_id == borrower_id)
            .order_by(BorrowerPhoto.kind)
        ).all()
        accepted = session.scalars(
            select(AgreementAcceptance)
            .where(AgreementAcceptance.borrower_id == borrower_id)
            .order_by(AgreementAcceptance.accepted_at)
        ).all()
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.resource == "borrower", AuditEvent.resource_id == str(borrower_id))
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(50)
        ).all()
        today = repo.get_business_date(session) or p.clock().date()
        try:
            line: dict[str, Any] | None = credit_line_view(session, borrower_id, today).as_json()
        except CreditLineNotFound:
            line = None
        answer = {
            "borrower": borrower_rows(session, p.cipher, [row])[0],
            "registered_ip": row.registered_ip,
            "kyc": {
                "status": row.kyc_status,
                "liveness_passed": bool(row.liveness_passed),
                "birth_year": row.birth_date.year if row.birth_date else None,
                "photos": list(photos),
                "agreements": [
                    {"code": a.code, "version": a.version, "accepted_at": a.accepted_at.isoformat()}
                    for a in accepted
                ],
            },
            "contacts": contact_rows(p.cipher, contacts),
            "cards": card_rows(p.cipher, cards),
            "applications": application_rows(session, p.cipher, applications),
            "loans": loan_rows(session, loans),
            "decisions": decision_rows(decisions),
            "credit_line": line,
            "audit": audit_rows(events),
        }
    with p.sessions.begin() as session:
        audit.record(
            session,
            actor=staff.username,
            action="borrower.view",
            resource="borrower",
            resource_id=borrower_id,
            ip=client_ip(request),
            after={"unmasked": False},
            at=p.clock(),
        )
    return answer


class RevealIn(BaseModel):
    field: str = Field(
        description="which value to show whole / 查看哪一项",
        json_schema_extra={"enum": list(views.REVEALABLE)},
        pattern="^(" + "|".join(views.REVEALABLE) + ")$",
        max_length=16,
    )
    reason: str = Field(
        default="", max_length=200, description="why it is needed (kept in the audit log)"
    )


_ENCRYPTED = {"name": "name_enc", "phone": "mobile_enc", "id_number": "id_number_enc"}


@router.post(
    "/{borrower_id}/reveal",
    response_model=views.Revealed,
    responses=responses(403, 404),
    summary="Show one personal value whole (audited) / 查看完整信息",
)
def reveal(
    borrower_id: PathId,
    body: RevealIn,
    staff: Annotated[Staff, permitted(READ, PII)],
    request: Request,
) -> dict[str, Any]:
    """The unmasked name, mobile number or resident ID number of a borrower, for a role with
    `borrowers.pii.read`; every reveal is an audit entry (who, whose, which field, why)."""
    p = platform(request)
    with p.sessions.begin() as session:
        row = _borrower(session, staff, borrower_id)
        token = getattr(row, _ENCRYPTED[body.field])
        value = p.cipher.decrypt(body.field, token) if token else ""
        audit.record(
            session,
            actor=staff.username,
            action="borrower.reveal",
            resource="borrower",
            resource_id=borrower_id,
            ip=client_ip(request),
            after={"revealed": body.field, "reason": body.reason},
            at=p.clock(),
        )
    return {"field": body.field, "value": value}
