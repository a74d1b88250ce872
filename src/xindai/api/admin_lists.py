"""The console's other lists (/api/v1/admin): payouts (放款管理, with the channel's order
query for one of them), withholdings and repayment transactions (还款管理), the audit log
(审计日志) and the ledger (财务: trial balance as of a date, journal lines by account). Each
list pages, sorts and filters in the database and has an xlsx export; an agent sees only its
channel's payouts, withholdings and repayments, a collector only its cases' (`api.scopes`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import Session

from xindai.api import views_lists as views
from xindai.api.admin_rows import (
    audit_rows,
    between_days,
    between_times,
    channel_filter,
    journal_rows,
    loans_by_id,
    not_found,
    payout_rows,
    require_visible,
    search_text,
    transaction_row,
    whole_number,
    withholding_row,
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
from xindai.api.scopes import loan_scope, require_loan
from xindai.ledger.accounts import BY_CODE
from xindai.money import format_yuan
from xindai.origination.resolve import PaymentResolver
from xindai.reports.ledger import (
    ensure_account_totals,
    journal_lines_count,
    trial_balance_as_of,
)
from xindai.security import audit
from xindai.store.models import JournalLine, Loan, LoanTransaction
from xindai.store.models_origination import AuditEvent, Payout, Withholding

router = APIRouter(prefix="/api/v1/admin", tags=["admin 管理后台"])
EXPORT = "reports.export"
PAYOUTS, LOANS, AUDIT, LEDGER = "payouts.manage", "loans.read", "audit.read", "ledger.read"


def _loan_channel(
    stmt: Select[Any], staff: Staff, loan_id: Any, asked: str | None
) -> tuple[Select[Any], list[Any]]:
    """Join the loans table when the channel (the loan's) must be looked at."""
    scoped = channel_filter(staff, Loan.channel, asked)
    if scoped:
        stmt = stmt.join(Loan, Loan.id == loan_id)
    return stmt, scoped


# ------------------------------------------------------------------ payouts

PAYOUT_LIST = Listing(
    "payouts",
    sortable={"id": Payout.id, "created_at": Payout.created_at},
    default_sort="-id",
    tiebreak=Payout.id,
    search="the request reference, or an application or loan id",
)
PAYOUT_COLUMNS = (
    Column("id", "放款编号", "int"),
    Column("request_ref", "请求流水号"),
    Column("application_id", "申请编号", "int"),
    Column("loan_id", "借据号", "int"),
    Column("borrower_name", "借款人"),
    Column("product", "产品"),
    Column("channel", "渠道"),
    Column("amount", "放款金额", "yuan"),
    Column("status", "状态"),
    Column("attempt", "尝试次数", "int"),
    Column("reason", "失败原因"),
    Column("created_at", "发起时间"),
    Column("settled_at", "完成时间"),
)


@dataclass(frozen=True, slots=True)
class PayoutFilters:
    status: str | None
    channel: str | None
    date_from: date | None
    date_to: date | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "channel": self.channel,
            "date_from": self.date_from,
            "date_to": self.date_to,
        }


def payout_filters(
    status: Annotated[
        str | None,
        Query(
            max_length=16,
            description="requested: waiting on the channel; failed: to retry or cancel",
            json_schema_extra={"enum": list(views.PAYOUT_STATUSES)},
        ),
    ] = None,
    channel: Annotated[str | None, Query(max_length=32, description="the loan's")] = None,
    date_from: Annotated[date | None, Query(description="requested on or after")] = None,
    date_to: Annotated[date | None, Query(description="requested on or before")] = None,
) -> PayoutFilters:
    return PayoutFilters(status, channel, date_from, date_to)


def _payouts(staff: Staff, filters: PayoutFilters, q: str | None) -> Select[Any]:
    conditions: list[Any] = between_times(Payout.created_at, filters.date_from, filters.date_to)
    if filters.status:
        conditions.append(Payout.status == filters.status)
    text = search_text(q)
    if text is not None:
        number = whole_number(text)
        by_ref = Payout.request_ref == q.strip() if q else false()
        conditions.append(
            or_(by_ref, Payout.application_id == number, Payout.loan_id == number)
            if number is not None
            else by_ref
        )
    stmt, scoped = _loan_channel(select(Payout), staff, Payout.loan_id, filters.channel)
    return stmt.where(*conditions, *scoped, *loan_scope(staff, Payout.loan_id))


def _render_payouts(session: Session, rows: Any) -> list[dict[str, Any]]:
    return payout_rows(session, [row[0] for row in rows])


@router.get(
    "/payouts",
    response_model=page_of(views.PayoutRow),
    responses=responses(403),
    summary="Payouts: waiting, failed, done / 放款列表",
)
def payouts(
    staff: Annotated[Staff, permitted(PAYOUTS)],
    request: Request,
    params: Annotated[ListParams, PAYOUT_LIST.params()],
    filters: Annotated[PayoutFilters, Depends(payout_filters)],
) -> dict[str, Any]:
    stmt = _payouts(staff, filters, params.query)
    with reading(request) as session:
        cap = COUNT_CAP
        rows, total = PAYOUT_LIST.page(session, stmt, params, cap=cap)
        return params.answer(_render_payouts(session, rows), total)


@router.get(
    "/payouts/export",
    response_class=FileResponse,
    responses=EXPORT_RESPONSES,
    summary="Payouts as an Excel file / 导出放款",
)
def export_payouts(
    staff: Annotated[Staff, permitted(PAYOUTS, EXPORT)],
    request: Request,
    params: Annotated[ListParams, PAYOUT_LIST.params(paged=False)],
    filters: Annotated[PayoutFilters, Depends(payout_filters)],
) -> FileResponse:
    return export_xlsx(
        request,
        staff,
        listing=PAYOUT_LIST,
        stmt=_payouts(staff, filters, params.query),
        params=params,
        render=_render_payouts,
        columns=PAYOUT_COLUMNS,
        filters=filters.as_dict(),
        title="放款列表",
    )


@router.post(
    "/payouts/{payout_id}/query",
    response_model=views.PayoutQueried,
    responses=responses(403, 404),
    summary="Ask the channel about one payout now (order query) / 查询放款结果",
)
def query_payout(
    payout_id: PathId, staff: Annotated[Staff, permitted(PAYOUTS)], request: Request
) -> dict[str, Any]:
    """The channel's order query (主动查询) for one payout, however recent, applied as the
    resolver applies it: a success pays the loan out, a failure (or no record at the
    channel) fails it for retry or cancel; still processing changes nothing. Audited."""
    p = platform(request)
    with reading(request) as session:
        payout = session.get(Payout, payout_id)
        if payout is None:
            raise not_found("payout", "放款")
        loan = session.get(Loan, payout.loan_id)
        require_visible(staff, loan.channel if loan else None, "payout", "放款")
        require_loan(session, staff, payout.loan_id, "payout", "放款")
        ref = payout.request_ref
    report = PaymentResolver(p).resolve_one("payout", ref)
    with p.sessions.begin() as session:
        status = session.scalars(select(Payout.status).where(Payout.id == payout_id)).one()
        result = {
            "request_ref": ref,
            "status": status,
            "outcomes": dict(report.outcomes),
            "unreachable": report.unreachable,
        }
        audit.record(
            session,
            actor=staff.username,
            action="payout.query",
            resource="payout",
            resource_id=payout_id,
            ip=client_ip(request),
            after=result,
            at=p.clock(),
        )
    return result


# ------------------------------------------------------------------ withholdings

WITHHOLDING_LIST = Listing(
    "withholdings",
    sortable={"created_at": Withholding.created_at, "business_date": Withholding.business_date},
    default_sort="-created_at",
    tiebreak=Withholding.request_ref,
    search="the request reference, or a loan id",
)
WITHHOLDING_COLUMNS = (
    Column("request_ref", "扣款流水号"),
    Column("loan_id", "借据号", "int"),
    Column("business_date", "营业日"),
    Column("amount", "扣款金额", "yuan"),
    Column("collected", "实扣金额", "yuan"),
    Column("purpose", "用途"),
    Column("status", "状态"),
    Column("origin", "发起方"),
    Column("reason", "失败原因"),
    Column("created_at", "发起时间"),
    Column("settled_at", "完成时间"),
)


@dataclass(frozen=True, slots=True)
class WithholdingFilters:
    status: str | None
    origin: str | None
    purpose: str | None
    channel: str | None
    date_from: date | None
    date_to: date | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "origin": self.origin,
            "purpose": self.purpose,
            "channel": self.channel,
            "date_from": self.date_from,
            "date_to": self.date_to,
        }


def withholding_filters(
    status: Annotated[
        str | None,
        Query(
            max_length=16,
            description="failed: the failures to follow up",
            json_schema_extra={"enum": list(views.WITHHOLDING_STATUSES)},
        ),
    ] = None,
    origin: Annotated[
        str | None, Query(max_length=16, json_schema_extra={"enum": ["borrower", "auto"]})
    ] = None,
    purpose: Annotated[
        str | None, Query(max_length=16, json_schema_extra={"enum": ["repayment", "extension"]})
    ] = None,
    channel: Annotated[str | None, Query(max_length=32, description="the loan's")] = None,
    date_from: Annotated[date | None, Query(description="business date on or after")] = None,
    date_to: Annotated[date | None, Query(description="business date on or before")] = None,
) -> WithholdingFilters:
    return WithholdingFilters(status, origin, purpose, channel, date_from, date_to)


def _withholdings(staff: Staff, filters: WithholdingFilters, q: str | None) -> Select[Any]:
    conditions: list[Any] = between_days(
        Withholding.business_date, filters.date_from, filters.date_to
    )
    for column, value in (
        (Withholding.status, filters.status),
        (Withholding.origin, filters.origin),
        (Withholding.purpose, filters.purpose),
    ):
        if value:
            conditions.append(column == value)
    text = search_text(q)
    if text is not None:
        number = whole_number(text)
        by_ref = Withholding.request_ref == q.strip() if q else false()
        conditions.append(or_(by_ref, Withholding.loan_id == number) if number else by_ref)
    stmt, scoped = _loan_channel(select(Withholding), staff, Withholding.loan_id, filters.channel)
    return stmt.where(*conditions, *scoped, *loan_scope(staff, Withholding.loan_id))


def _render_withholdings(_session: Session, rows: Any) -> list[dict[str, Any]]:
    return [withholding_row(row[0]) for row in rows]


@router.get(
    "/withholdings",
    response_model=page_of(views.WithholdingRow),
    responses=responses(403),
    summary="Withholdings (collections from the card) and their failures / 代扣记录",
)
def withholdings(
    staff: Annotated[Staff, permitted(LOANS)],
    request: Request,
    params: Annotated[ListParams, WITHHOLDING_LIST.params()],
    filters: Annotated[WithholdingFilters, Depends(withholding_filters)],
) -> dict[str, Any]:
    stmt = _withholdings(staff, filters, params.query)
    with reading(request) as session:
        cap = COUNT_CAP
        rows, total = WITHHOLDING_LIST.page(session, stmt, params, cap=cap)
        return params.answer(_render_withholdings(session, rows), total)


@router.get(
    "/withholdings/export",
    response_class=FileResponse,
    responses=EXPORT_RESPONSES,
    summary="Withholdings as an Excel file / 导出代扣记录",
)
def export_withholdings(
    staff: Annotated[Staff, permitted(LOANS, EXPORT)],
    request: Request,
    params: Annotated[ListParams, WITHHOLDING_LIST.params(paged=False)],
    filters: Annotated[WithholdingFilters, Depends(withholding_filters)],
) -> FileResponse:
    return export_xlsx(
        request,
        staff,
        listing=WITHHOLDING_LIST,
        stmt=_withholdings(staff, filters, params.query),
        params=params,
        render=_render_withholdings,
        columns=WITHHOLDING_COLUMNS,
        filters=filters.as_dict(),
        title="代扣记录",
    )


# ------------------------------------------------------------------ repayments

REPAYMENT_LIST = Listing(
    "repayments",
    sortable={"posted_on": LoanTransaction.posted_on},
    default_sort="-posted_on",
    tiebreak=(LoanTransaction.loan_id, LoanTransaction.seq),
    search="a loan id, or the channel's reference",
)
REPAYMENT_COLUMNS = (
    Column("posted_on", "入账日"),
    Column("value_date", "起息日"),
    Column("loan_id", "借据号", "int"),
    Column("seq", "交易序号", "int"),
    Column("kind", "类型"),
    Column("amount", "金额", "yuan"),
    Column("principal", "本金", "yuan"),
    Column("interest", "利息", "yuan"),
    Column("fee", "费用", "yuan"),
    Column("penalty", "罚息", "yuan"),
    Column("credit", "溢缴款", "yuan"),
    Column("channel", "支付渠道"),
    Column("external_ref", "渠道流水号"),
    Column("reversed", "已冲正"),
    Column("actor", "操作人"),
    Column("product", "产品"),
)


@dataclass(frozen=True, slots=True)
class RepaymentFilters:
    kind: str
    channel: str | None
    date_from: date | None
    date_to: date | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "channel": self.channel,
            "date_from": self.date_from,
            "date_to": self.date_to,
        }


def repayment_filters(
    kind: Annotated[
        str,
        Query(
            max_length=24,
            description="the kind of money movement (repayments by default)",
            pattern=f"^({'|'.join(views.REPAYMENT_KINDS)})$",
            json_schema_extra={"enum": list(views.REPAYMENT_KINDS)},
        ),
    ] = "repayment",
    channel: Annotated[str | None, Query(max_length=32, description="the loan's")] = None,
    date_from: Annotated[date | None, Query(description="posted on or after")] = None,
    date_to: Annotated[date | None, Query(description="posted on or before")] = None,
) -> RepaymentFilters:
    return RepaymentFilters(kind, channel, date_from, date_to)


def _repayments(staff: Staff, filters: RepaymentFilters, q: str | None) -> Select[Any]:
    conditions: list[Any] = [LoanTransaction.kind == filters.kind]
    conditions += between_days(LoanTransaction.posted_on, filters.date_from, filters.date_to)
    text = search_text(q)
    if text is not None:
        number = whole_number(text)
        by_ref = LoanTransaction.external_ref == q.strip() if q else false()
        conditions.append(or_(by_ref, LoanTransaction.loan_id == number) if number else by_ref)
    stmt, scoped = _loan_channel(
        select(LoanTransaction), staff, LoanTransaction.loan_id, filters.channel
    )
    return stmt.where(*conditions, *scoped, *loan_scope(staff, LoanTransaction.loan_id))


def _render_repayments(session: Session, rows: Any) -> list[dict[str, Any]]:
    transactions = [row[0] for row in rows]
    loans = loans_by_id(session, (t.loan_id for t in transactions))
    found = []
    for t in transactions:
        loan = loans.get(t.loan_id)
        found.append(
            {
                **transaction_row(t),
                "borrower_id": loan.borrower_id if loan else None,
                "product": loan.product_code if loan else None,
            }
        )
    return found


@router.get(
    "/repayments",
    response_model=page_of(views.RepaymentRow),
    responses=responses(403),
    summary="Repayment transactions / 还款流水",
)
def repayments(
    staff: Annotated[Staff, permitted(LOANS)],
    request: Request,
    params: Annotated[ListParams, REPAYMENT_LIST.params()],
    filters: Annotated[RepaymentFilters, Depends(repayment_filters)],
) -> dict[str, Any]:
    stmt = _repayments(staff, filters, params.query)
    with reading(request) as session:
        cap = COUNT_CAP
        rows, total = REPAYMENT_LIST.page(session, stmt, params, cap=cap)
        return params.answer(_render_repayments(session, rows), total)


@router.get(
    "/repayments/export",
    response_class=FileResponse,
    responses=EXPORT_RESPONSES,
    summary="Repayment transactions as an Excel file / 导出还款流水",
)
def export_repayments(
    staff: Annotated[Staff, permitted(LOANS, EXPORT)],
    request: Request,
    params: Annotated[ListParams, REPAYMENT_LIST.params(paged=False)],
    filters: Annotated[RepaymentFilters, Depends(repayment_filters)],
) -> FileResponse:
    return export_xlsx(
        request,
        staff,
        listing=REPAYMENT_LIST,
        stmt=_repayments(staff, filters, params.query),
        params=params,
        render=_render_repayments,
        columns=REPAYMENT_COLUMNS,
        filters=filters.as_dict(),
        title="还款流水",
    )


# ------------------------------------------------------------------ audit log

AUDIT_LIST = Listing(
    "audit",
    sortable={"at": AuditEvent.at, "id": AuditEvent.id},
    default_sort="-at",
    tiebreak=AuditEvent.id,
    search="a record id (resource_id)",
)
AUDIT_COLUMNS = (
    Column("id", "编号", "int"),
    Column("at", "时间"),
    Column("actor", "操作人"),
    Column("action", "操作"),
    Column("resource", "对象"),
    Column("resource_id", "对象编号"),
    Column("ip", "IP"),
    Column("before", "变更前"),
    Column("after", "变更后"),
)


@dataclass(frozen=True, slots=True)
class AuditFilters:
    actor: str | None
    action: str | None
    resource: str | None
    date_from: date | None
    date_to: date | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "action": self.action,
            "resource": self.resource,
            "date_from": self.date_from,
            "date_to": self.date_to,
        }


def audit_filters(
    actor: Annotated[
        str | None, Query(max_length=64, description="username, or staff:<id> of API calls")
    ] = None,
    action: Annotated[str | None, Query(max_length=64, description="e.g. borrower.reveal")] = None,
    resource: Annotated[str | None, Query(max_length=64, description="e.g. borrower")] = None,
    date_from: Annotated[date | None, Query(description="on or after (UTC day)")] = None,
    date_to: Annotated[date | None, Query(description="on or before (UTC day)")] = None,
) -> AuditFilters:
    return AuditFilters(actor, action, resource, date_from, date_to)


def _audit(filters: AuditFilters, q: str | None) -> Select[Any]:
    conditions: list[Any] = between_times(AuditEvent.at, filters.date_from, filters.date_to)
    for column, value in (
        (AuditEvent.actor, filters.actor),
        (AuditEvent.action, filters.action),
        (AuditEvent.resource, filters.resource),
    ):
        if value:
            conditions.append(column == value)
    if q and q.strip():
        conditions.append(AuditEvent.resource_id == q.strip())
    return select(AuditEvent).where(*conditions)


def _render_audit(_session: Session, rows: Any) -> list[dict[str, Any]]:
    return audit_rows([row[0] for row in rows])


@router.get(
    "/audit",
    response_model=page_of(views.AuditRow),
    responses=responses(403),
    summary="The audit log / 审计日志",
)
def audit_log(
    staff: Annotated[Staff, permitted(AUDIT)],
    request: Request,
    params: Annotated[ListParams, AUDIT_LIST.params()],
    filters: Annotated[AuditFilters, Depends(audit_filters)],
) -> dict[str, Any]:
    with reading(request) as session:
        rows, total = AUDIT_LIST.page(session, _audit(filters, params.query), params, cap=COUNT_CAP)
        return params.answer(_render_audit(session, rows), total)


@router.get(
    "/audit/export",
    response_class=FileResponse,
    responses=EXPORT_RESPONSES,
    summary="The audit log as an Excel file / 导出审计日志",
)
def export_audit(
    staff: Annotated[Staff, permitted(AUDIT, EXPORT)],
    request: Request,
    params: Annotated[ListParams, AUDIT_LIST.params(paged=False)],
    filters: Annotated[AuditFilters, Depends(audit_filters)],
) -> FileResponse:
    return export_xlsx(
        request,
        staff,
        listing=AUDIT_LIST,
        stmt=_audit(filters, params.query),
        params=params,
        render=_render_audit,
        columns=AUDIT_COLUMNS,
        filters=filters.as_dict(),
        title="审计日志",
    )


# ------------------------------------------------------------------ ledger


@router.get(
    "/ledger/trial-balance",
    response_model=views.TrialBalance,
    responses=responses(403),
    summary="Trial balance as of a business date / 试算平衡表",
)
def trial_balance(
    staff: Annotated[Staff, permitted(LEDGER)],
    request: Request,
    as_of: Annotated[date | None, Query(description="default: the business date")] = None,
) -> dict[str, Any]:
    """Debits and credits per account of every journal line booked on or before `as_of`
    (closed days from their stored totals, the open day from its lines)."""
    balance = trial_balance_as_of(platform(request).sessions, as_of)
    return {
        "as_of": balance.as_of.isoformat(),
        "rows": [
            {
                "account": r.account,
                "name_zh": r.name_zh,
                "name_en": r.name_en,
                "kind": r.kind,
                "debit": format_yuan(r.debit_fen),
                "credit": format_yuan(r.credit_fen),
                "balance": format_yuan(r.balance_fen),
            }
            for r in balance.rows
        ],
        "total_debit": format_yuan(balance.total_debit_fen),
        "total_credit": format_yuan(balance.total_credit_fen),
        "balanced": balance.balanced,
    }


JOURNAL_LIST = Listing(
    "journal",
    sortable={"business_date": JournalLine.business_date},
    default_sort="-business_date",
    tiebreak=(JournalLine.loan_id, JournalLine.entry_no, JournalLine.line_no),
    search="a loan id, or the channel's reference",
)
JOURNAL_COLUMNS = (
    Column("business_date", "记账日"),
    Column("loan_id", "借据号", "int"),
    Column("entry_no", "凭证号", "int"),
    Column("line_no", "行号", "int"),
    Column("kind", "业务类型"),
    Column("description", "摘要"),
    Column("account", "科目代码"),
    Column("account_zh", "科目名称"),
    Column("channel", "渠道"),
    Column("debit", "借方", "yuan"),
    Column("credit", "贷方", "yuan"),
    Column("external_ref", "渠道流水号"),
)


@dataclass(frozen=True, slots=True)
class JournalFilters:
    account: str | None
    date_from: date | None
    date_to: date | None

    def as_dict(self) -> dict[str, Any]:
        return {"account": self.account, "date_from": self.date_from, "date_to": self.date_to}


def journal_filters(
    account: Annotated[
        str | None,
        Query(
            max_length=16, description="an account code", json_schema_extra={"enum": list(BY_CODE)}
        ),
    ] = None,
    date_from: Annotated[date | None, Query(description="booked on or after")] = None,
    date_to: Annotated[date | None, Query(description="booked on or before")] = None,
) -> JournalFilters:
    return JournalFilters(account, date_from, date_to)


def _journal(filters: JournalFilters, q: str | None) -> Select[Any]:
    conditions: list[Any] = between_days(
        JournalLine.business_date, filters.date_from, filters.date_to
    )
    if filters.account:
        conditions.append(JournalLine.account_code == filters.account)
    text = search_text(q)
    if text is not None:
        number = whole_number(text)
        by_ref = JournalLine.external_ref == q.strip() if q else false()
        conditions.append(
            or_(by_ref, JournalLine.loan_id == number) if number is not None else by_ref
        )
    return select(JournalLine).where(*conditions)


def _render_journal(session: Session, rows: Any) -> list[dict[str, Any]]:
    return journal_rows(session, [row[0] for row in rows])


@router.get(
    "/ledger/journal",
    response_model=page_of(views.JournalLineRow),
    responses=responses(403),
    summary="Journal lines, e.g. of one account / 会计分录",
)
def journal(
    staff: Annotated[Staff, permitted(LEDGER)],
    request: Request,
    params: Annotated[ListParams, JOURNAL_LIST.params()],
    filters: Annotated[JournalFilters, Depends(journal_filters)],
) -> dict[str, Any]:
    p = platform(request)
    by_day = None
    if search_text(params.query) is None:  # count from the closed days' totals
        ensure_account_totals(p.sessions)
        by_day = partial(
            journal_lines_count,
            account=filters.account,
            first=filters.date_from,
            last=filters.date_to,
        )
    with reading(request) as session:
        rows, total = JOURNAL_LIST.page(
            session, _journal(filters, params.query), params, total=by_day
        )
        return params.answer(_render_journal(session, rows), total)


@router.get(
    "/ledger/journal/export",
    response_class=FileResponse,
    responses=EXPORT_RESPONSES,
    summary="Journal lines as an Excel file / 导出会计分录",
)
def export_journal(
    staff: Annotated[Staff, permitted(LEDGER, EXPORT)],
    request: Request,
    params: Annotated[ListParams, JOURNAL_LIST.params(paged=False)],
    filters: Annotated[JournalFilters, Depends(journal_filters)],
) -> FileResponse:
    return export_xlsx(
        request,
        staff,
        listing=JOURNAL_LIST,
        stmt=_journal(filters, params.query),
        params=params,
        render=_render_journal,
        columns=JOURNAL_COLUMNS,
        filters=filters.as_dict(),
        title="会计分录",
    )
