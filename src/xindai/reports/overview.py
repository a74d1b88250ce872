"""The platform overview (平台概览, SPEC §10): the open business date's registrations,
applications, approvals, payouts and repayments; the book at the last close (open loans,
principal outstanding, overdue principal and rate); and 30 days of daily points. Every
figure is one set-based SQL statement; the closed days come from `daily_summaries`, folded
once per day from the loan snapshots (COB step 6) and the day's records.

Definitions (printed with the figures):
- registrations: borrowers registered that day (`borrowers.created_on`);
- applications: applications created that day; approvals: decisions `approve` made that day
  (engine, review or credit line);
- payouts: loans paid out that business date (their disbursement transactions, posted when
  the channel confirms the payout), and the amount sent to the card;
- repayments: repayment and early-settlement transactions posted that business date, not
  reversed, and their amount;
- principal outstanding: of the open loans in that day's snapshot; overdue principal: of
  those 1+ days past due; overdue rate = overdue principal ÷ principal outstanding.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, case, delete, func, insert, literal, select
from sqlalchemy.orm import Session, sessionmaker

from xindai.reports.folding import fold_closed_days
from xindai.store import repository as repo
from xindai.store.db import transaction
from xindai.store.models import Borrower, Loan, LoanSnapshot, LoanTransaction
from xindai.store.models_console import DailySummary
from xindai.store.models_origination import Application, DecisionRecord

MARKER = "daily_summaries_through"
TREND_DAYS = 30
REPAID = ("repayment", "early_settlement")
NO_CHANNEL = ""  # borrowers registered without a channel

DEFINITIONS = {
    "registrations": "当日注册的借款人数（按注册日期）",
    "applications": "当日提交的借款申请笔数",
    "approvals": "当日作出的通过决策笔数（自动决策、人工审核、授信额度）",
    "payouts": "当日（营业日）放款成功（渠道确认）的借据笔数及实际打款金额",
    "repayments": "当日（营业日）入账的还款与提前结清笔数及金额（不含已冲正）",
    "principal_outstanding": "日终快照中在贷借据的剩余本金",
    "overdue_principal": "日终快照中逾期 1 天及以上借据的剩余本金",
    "overdue_rate": "逾期本金 ÷ 剩余本金（M1+，按金额）",
}

FLOWS = ("registrations", "applications", "approvals", "payouts", "repayments")


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, datetime.min.time())
    return start, start + timedelta(days=1)


def _flow_queries(day: date, *, by_channel: bool = True) -> dict[str, Any]:
    """(channel, count[, fen]) of each flow on `day`, per channel, or (without `by_channel`:
    no join to find the channel) in one row of channel NO_CHANNEL."""
    start, end = _day_bounds(day)
    borrower_channel = func.coalesce(Borrower.channel, NO_CHANNEL)
    none = literal(NO_CHANNEL)
    if not by_channel:
        return {
            "registrations": select(none, func.count()).where(Borrower.created_on == day),
            "applications": select(none, func.count()).where(
                Application.created_at >= start, Application.created_at < end
            ),
            "approvals": select(none, func.count()).where(
                DecisionRecord.created_at >= start,
                DecisionRecord.created_at < end,
                DecisionRecord.outcome == "approve",
            ),
            "payouts": select(
                none, func.count(), func.coalesce(func.sum(LoanTransaction.amount_fen), 0)
            ).where(
                LoanTransaction.kind == "disbursement",
                LoanTransaction.posted_on == day,
                LoanTransaction.reversed.is_(False),
            ),
            "repayments": select(
                none, func.count(), func.coalesce(func.sum(LoanTransaction.amount_fen), 0)
            ).where(
                LoanTransaction.kind.in_(REPAID),
                LoanTransaction.posted_on == day,
                LoanTransaction.reversed.is_(False),
            ),
        }
    return {
        "registrations": select(borrower_channel, func.count())
        .where(Borrower.created_on == day)
        .group_by(borrower_channel),
        "applications": select(borrower_channel, func.count())
        .select_from(Application)
        .join(Borrower, Borrower.id == Application.borrower_id)
        .where(Application.created_at >= start, Application.created_at < end)
        .group_by(borrower_channel),
        "approvals": select(borrower_channel, func.count())
        .select_from(DecisionRecord)
        .join(Application, Application.id == DecisionRecord.application_id)
        .join(Borrower, Borrower.id == Application.borrower_id)
        .where(
            DecisionRecord.created_at >= start,
            DecisionRecord.created_at < end,
            DecisionRecord.outcome == "approve",
        )
        .group_by(borrower_channel),
        "payouts": select(
            Loan.channel, func.count(), func.coalesce(func.sum(LoanTransaction.amount_fen), 0)
        )
        .select_from(LoanTransaction)
        .join(Loan, Loan.id == LoanTransaction.loan_id)
        .where(
            LoanTransaction.kind == "disbursement",
            LoanTransaction.posted_on == day,
            LoanTransaction.reversed.is_(False),
        )
        .group_by(Loan.channel),
        "repayments": select(
            Loan.channel, func.count(), func.coalesce(func.sum(LoanTransaction.amount_fen), 0)
        )
        .select_from(LoanTransaction)
        .join(Loan, Loan.id == LoanTransaction.loan_id)
        .where(
            LoanTransaction.kind.in_(REPAID),
            LoanTransaction.posted_on == day,
            LoanTransaction.reversed.is_(False),
        )
        .group_by(Loan.channel),
    }


def _book_query(day: date) -> Select[Any]:
    overdue = LoanSnapshot.dpd >= 1
    return (
        select(
            Loan.channel,
            func.count(),
            func.coalesce(func.sum(LoanSnapshot.principal_outstanding_fen), 0),
            func.coalesce(func.sum(case((overdue, 1), else_=0)), 0),
            func.coalesce(
                func.sum(case((overdue, LoanSnapshot.principal_outstanding_fen), else_=0)), 0
            ),
        )
        .select_from(LoanSnapshot)
        .join(Loan, Loan.id == LoanSnapshot.loan_id)
        .where(LoanSnapshot.business_date == day)
        .group_by(Loan.channel)
    )


def _empty() -> dict[str, int]:
    return {
        "open_loans": 0,
        "principal_outstanding_fen": 0,
        "overdue_loans": 0,
        "overdue_principal_fen": 0,
        "registrations": 0,
        "applications": 0,
        "approvals": 0,
        "payouts": 0,
        "payouts_fen": 0,
        "repayments": 0,
        "repayments_fen": 0,
    }


def day_figures(
    session: Session,
    day: date,
    *,
    flows: bool = True,
    book: bool = True,
    by_channel: bool = True,
) -> dict[str, dict[str, int]]:
    """Channel → the figures of `day` (flows and/or the book in its snapshots); without
    `by_channel`, the flows of every channel under NO_CHANNEL."""
    figures: dict[str, dict[str, int]] = defaultdict(_empty)
    if flows:
        for name, query in _flow_queries(day, by_channel=by_channel).items():
            for row in session.execute(query):
                channel = row[0] or NO_CHANNEL
                figures[channel][name] += int(row[1])
                if len(row) > 2:
                    figures[channel][f"{name}_fen"] += int(row[2])
    if book:
        for channel, loans, principal, overdue_loans, overdue_principal in session.execute(
            _book_query(day)
        ):
            f = figures[channel or NO_CHANNEL]
            f["open_loans"] += int(loans)
            f["principal_outstanding_fen"] += int(principal)
            f["overdue_loans"] += int(overdue_loans)
            f["overdue_principal_fen"] += int(overdue_principal)
    return dict(figures)


def fold_summary_day(session: Session, day: date) -> None:
    """Store the closed business date `day` in `daily_summaries` (one row per channel)."""
    session.execute(delete(DailySummary).where(DailySummary.business_date == day))
    rows = [
        {"business_date": day, "channel": channel, **values}
        for channel, values in day_figures(session, day).items()
    ]
    if rows:
        session.execute(insert(DailySummary), rows)


def rate(part: int, whole: int) -> str:
    """`part ÷ whole` in percent with two decimals ("0.00" when `whole` is 0)."""
    if whole <= 0:
        return "0.00"
    value = Decimal(part) * 100 / Decimal(whole)
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class OverviewFigures:
    business_date: date
    channel: str | None
    today: dict[str, int]
    book_as_of: date | None
    book: dict[str, int]
    trend: list[tuple[date, dict[str, int]]] = field(default_factory=list)


def ensure_summaries(sessions: sessionmaker[Session], *, today: date | None = None) -> date | None:
    """Fold the closed days of the trend window not yet in `daily_summaries` (a read when
    there is none); the last closed day. Close of business calls it after a day (so that
    the first overview of the morning does not), the overview before it reads."""
    if today is None:
        with transaction(sessions, read_only=True) as session:
            today = repo.get_business_date(session)
        if today is None:
            return None
    first = today - timedelta(days=TREND_DAYS)
    return fold_closed_days(sessions, MARKER, first, fold_summary_day, today=today)


def overview(sessions: sessionmaker[Session], *, channel: str | None) -> OverviewFigures:
    """The overview of every channel, or of one (an agent's), as of the business date."""
    with transaction(sessions, read_only=True) as session:
        today = repo.get_business_date(session)
    if today is None:
        today = date.today()
    first = today - timedelta(days=TREND_DAYS)
    last_closed = ensure_summaries(sessions, today=today)
    with transaction(sessions, read_only=True) as session:
        live = day_figures(session, today, book=False, by_channel=channel is not None)
        query = select(DailySummary).where(
            DailySummary.business_date >= first, DailySummary.business_date <= today
        )
        if channel is not None:
            query = query.where(DailySummary.channel == channel)
        days: dict[date, dict[str, int]] = defaultdict(_empty)
        for row in session.scalars(query):
            point = days[row.business_date]
            for name in point:
                point[name] += int(getattr(row, name))
    today_figures = _empty()
    for name, values in live.items():
        if channel is None or name == channel:
            for key in FLOWS + tuple(f"{f}_fen" for f in ("payouts", "repayments")):
                today_figures[key] += values[key]
    trend: list[tuple[date, dict[str, int]]] = []
    if last_closed is not None:
        day = max(first, min(days, default=last_closed))
        while day <= last_closed:
            trend.append((day, days[day] if day in days else _empty()))
            day += timedelta(days=1)
    booked = [(day, point) for day, point in trend if point["open_loans"] > 0]
    book_day, book = booked[-1] if booked else (None, _empty())
    return OverviewFigures(
        business_date=today,
        channel=channel,
        today=today_figures,
        book_as_of=book_day,
        book=book,
        trend=trend,
    )
