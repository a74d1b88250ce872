"""Loans in the admin API (借款管理 / 逾期管理), /api/v1/admin/loans: the list by status,
bucket, product, channel, payout dates and DPD range (search by loan id, or the borrower's
phone or resident ID through their keyed hashes), its xlsx export, and a loan's detail:
balances, schedule, transactions, journal entries, payouts and collections. An agent sees
only its channel's loans, a collector only its cases' loans (`api.scopes`); another's loan
is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session

from xindai.api import views_lists as views
from xindai.api.admin_rows import (
    between_days,
    borrower_ids,
    channel_filter,
    journal_rows,
    loan_rows,
    not_found,
    payout_rows,
    require_visible,
    search_text,
    transaction_row,
    whole_number,
    withholding_row,
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
from xindai.money import format_yuan
from xindai.servicing.account import payoff_quote
from xindai.servicing.state import LoanStatus
from xindai.store import repository as repo
from xindai.store.models import InstallmentRecord, JournalLine, Loan, LoanTransaction
from xindai.store.models_origination import Payout, Withholding

router = APIRouter(prefix="/api/v1/admin/loans", tags=["admin 借款管理"])
READ, EXPORT = "loans.read", "reports.export"
MAX_TRANSACTIONS, MAX_JOURNAL_LINES, MAX_WITHHOLDINGS = 500, 1000, 200

LOANS = Listing(
    "loans",
    sortable={
        "id": Loan.id,
        "disbursed_on": Loan.disbursed_on,
        "principal": Loan.principal_fen,
        "dpd": Loan.dpd,
        "maturity_date": Loan.maturity_date,
    },
    default_sort="-id",
    tiebreak=Loan.id,
    search="loan id, or the borrower's mobile or resident ID number (by their hashes)",
)
COLUMNS = (
    Column("id", "借据号", "int"),
    Column("borrower_id", "客户编号", "int"),
    Column("borrower_name", "借款人"),
    Column("product", "产品"),
    Column("status", "状态"),
    Column("channel", "渠道"),
    Column("principal", "借款本金", "yuan"),
    Column("principal_outstanding", "剩余本金", "yuan"),
    Column("outstanding", "剩余应还", "yuan"),
    Column("overdue", "逾期金额", "yuan"),
    Column("dpd", "逾期天数", "int"),
    Column("max_dpd", "历史最大逾期天数", "int"),
    Column("bucket", "逾期阶段"),
    Column("term", "期数", "int"),
    Column("annual_rate", "年利率"),
    Column("disbursed_on", "放款日"),
    Column("maturity_date", "到期日"),
    Column("closed_on", "结清日"),
)


@dataclass(frozen=True, slots=True)
class LoanFilters:
    status: str | None
    bucket: str | None
    product_code: str | None
    channel: str | None
    disbursed_from: date | None
    disbursed_to: date | None
    dpd_min: int | None
    dpd_max: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "bucket": self.bucket,
            "product_code": self.product_code,
            "channel": self.channel,
            "disbursed_from": self.disbursed_from,
            "disbursed_to": self.disbursed_to,
            "dpd_min": self.dpd_min,
            "dpd_max": self.dpd_max,
        }


def loan_filters(
    status: Annotated[
        str | None,
        Query(max_length=16, json_schema_extra={"enum": [s.value for s in LoanStatus]}),
    ] = None,
    bucket: Annotated[
        str | None, Query(max_length=8, json_schema_extra={"enum": list(views.BUCKETS)})
    ] = None,
    product_code: Annotated[str | None, Query(max_length=32)] = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    disbursed_from: Annotated[date | None, Query(description="paid out on or after")] = None,
    disbursed_to: Annotated[date | None, Query(description="paid out on or before")] = None,
    dpd_min: Annotated[int | None, Query(ge=0, le=100_000, description="DPD at least")] = None,
    dpd_max: Annotated[int | None, Query(ge=0, le=100_000, description="DPD at most")] = None,
) -> LoanFilters:
    return LoanFilters(
        status, bucket, product_code, channel, disbursed_from, disbursed_to, dpd_min, dpd_max
    )


Filters = Annotated[LoanFilters, Depends(loan_filters)]


def _select(request: Request, staff: Staff, filters: LoanFilters, q: str | None) -> Select[Any]:
    conditions = channel_filter(staff, Loan.channel, filters.channel)
    conditions += loan_scope(staff, Loan.id)
    conditions += between_days(Loan.disbursed_on, filters.disbursed_from, filters.disbursed_to)
    if filters.status:
        conditions.append(Loan.status == filters.status)
    if filters.bucket:
        conditions.append(Loan.bucket == filters.bucket)
    if filters.product_code:
        conditions.append(Loan.product_code == filters.product_code)
    if filters.dpd_min is not None:
        conditions.append(Loan.dpd >= filters.dpd_min)
    if filters.dpd_max is not None:
        conditions.append(Loan.dpd <= filters.dpd_max)
    if search_text(q) is not None:
        people = borrower_ids(platform(request).cipher, q)
        number = whole_number(q)
        if people is not None:
            conditions.append(Loan.borrower_id.in_(people))
        elif number is not None:
            conditions.append(Loan.id == number)
        else:
            conditions.append(false())
    return select(Loan).where(*conditions)


def _render(session: Session, rows: Any) -> list[dict[str, Any]]:
    return loan_rows(session, [row[0] for row in rows])


@router.get(
    "",
    response_model=page_of(views.LoanRow),
    responses=responses(403),
    summary="Loans, e.g. the overdue ones by bucket and DPD / 借据列表",
)
def loans(
    staff: Annotated[Staff, permitted(READ)],
    request: Request,
    params: Annotated[ListParams, LOANS.params()],
    filters: Filters,
) -> dict[str, Any]:
    stmt = _select(request, staff, filters, params.query)
    with reading(request) as session:
        rows, total = LOANS.page(session, stmt, params, cap=COUNT_CAP)
        return params.answer(_render(session, rows), total)


@router.get(
    "/export",
    response_class=FileResponse,
    responses=EXPORT_RESPONSES,
    summary="Loans as an Excel file / 导出借据",
)
def export_loans(
    staff: Annotated[Staff, permitted(READ, EXPORT)],
    request: Request,
    params: Annotated[ListParams, LOANS.params(paged=False)],
    filters: Filters,
) -> FileResponse:
    return export_xlsx(
        request,
        staff,
        listing=LOANS,
        stmt=_select(request, staff, filters, params.query),
        params=params,
        render=_render,
        columns=COLUMNS,
        filters=filters.as_dict(),
        title="借据列表",
    )


def visible_loan(session: Session, staff: Staff, loan_id: int) -> Loan:
    """The loan, when the staff member's data scope covers it (else 404): an agent's channel,
    a collector's cases."""
    loan = session.get(Loan, loan_id)
    if loan is None:
        raise not_found("loan", "借据")
    require_visible(staff, loan.channel, "loan", "借据")
    require_loan(session, staff, loan.id, "loan", "借据")
    return loan


def _schedule(rows: list[InstallmentRecord]) -> list[dict[str, Any]]:
    schedule = []
    for i in rows:
        if i.cancelled:
            continue
        due = i.principal_due_fen + i.interest_due_fen + i.fee_due_fen + i.penalty_due_fen
        paid = i.principal_paid_fen + i.interest_paid_fen + i.fee_paid_fen + i.penalty_paid_fen
        waived = (
            i.principal_waived_fen + i.interest_waived_fen + i.fee_waived_fen + i.penalty_waived_fen
        )
        schedule.append(
            {
                "number": i.number,
                "start_date": i.start_date.isoformat(),
                "due_date": i.due_date.isoformat(),
                "status": i.status,
                "principal_due": format_yuan(i.principal_due_fen),
                "interest_due": format_yuan(i.interest_due_fen),
                "fee_due": format_yuan(i.fee_due_fen),
                "penalty_due": format_yuan(i.penalty_due_fen),
                "paid": format_yuan(paid),
                "waived": format_yuan(waived),
                "outstanding": format_yuan(due - paid - waived),
            }
        )
    return schedule


@router.get(
    "/{loan_id}",
    response_model=views.LoanDetail,
    responses=responses(403, 404),
    summary="A loan: balances, schedule, transactions, journal / 借据详情",
)
def loan(
    loan_id: PathId, staff: Annotated[Staff, permitted(READ)], request: Request
) -> dict[str, Any]:
    p = platform(request)
    with reading(request) as session:
        found = visible_loan(session, staff, loan_id)
        today = repo.get_business_date(session) or p.clock().date()
        payoff = 0
        if found.status in ("active", "overdue"):
            _row, state = repo.load_state(session, loan_id)
            payoff = payoff_quote(state, today).total_fen
        installments = list(
            session.scalars(
                select(InstallmentRecord)
                .where(InstallmentRecord.loan_id == loan_id)
                .order_by(InstallmentRecord.number)
            )
        )
        transactions = session.scalars(
            select(LoanTransaction)
            .where(LoanTransaction.loan_id == loan_id)
            .order_by(LoanTransaction.seq.desc())
            .limit(MAX_TRANSACTIONS)
        ).all()
        transactions_total = session.scalar(
            select(func.count()).where(LoanTransaction.loan_id == loan_id)
        )
        lines = session.scalars(
            select(JournalLine)
            .where(JournalLine.loan_id == loan_id)
            .order_by(JournalLine.entry_no.desc(), JournalLine.line_no)
            .limit(MAX_JOURNAL_LINES)
        ).all()
        journal_total = session.scalar(select(func.count()).where(JournalLine.loan_id == loan_id))
        payouts = session.scalars(
            select(Payout).where(Payout.loan_id == loan_id).order_by(Payout.id)
        ).all()
        withholdings = session.scalars(
            select(Withholding)
            .where(Withholding.loan_id == loan_id)
            .order_by(Withholding.created_at.desc())
            .limit(MAX_WITHHOLDINGS)
        ).all()
        application_id = payouts[0].application_id if payouts else None
        outstanding = (
            found.principal_outstanding_fen
            + found.interest_outstanding_fen
            + found.fee_outstanding_fen
            + found.penalty_outstanding_fen
        )
        return {
            "loan": loan_rows(session, [found])[0],
            "product_version": found.product_version,
            "booked_on": found.booked_on.isoformat(),
            "grace_days": found.grace_days,
            "extension_count": found.extension_count,
            "deferral_count": found.deferral_count,
            "oldest_unpaid_due": found.oldest_unpaid_due.isoformat()
            if found.oldest_unpaid_due
            else None,
            "balances": {
                "principal": format_yuan(found.principal_outstanding_fen),
                "interest": format_yuan(found.interest_outstanding_fen),
                "fee": format_yuan(found.fee_outstanding_fen),
                "penalty": format_yuan(found.penalty_outstanding_fen),
                "total": format_yuan(outstanding),
                "overdue": format_yuan(found.overdue_fen),
                "credit_balance": format_yuan(found.credit_balance_fen),
                "penalty_accrued": format_yuan(found.penalty_accrued_fen),
                "payoff": format_yuan(payoff),
            },
            "schedule": _schedule(installments),
            "transactions": [transaction_row(t) for t in transactions],
            "transactions_total": int(transactions_total or 0),
            "journal": journal_rows(session, lines),
            "journal_total": int(journal_total or 0),
            "payouts": payout_rows(session, payouts),
            "withholdings": [withholding_row(w) for w in withholdings],
            "application_id": application_id,
        }
