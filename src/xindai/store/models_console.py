"""Models the console reads, folded once a business date is closed: a day's summary of the
book per channel (the overview's trend points, from the loan snapshots and the day's flows)
and a day's journal totals per account (the trial balance)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from xindai.store.models import Base


class DailySummary(Base):
    """One closed business date and channel: the book at its close (from `loan_snapshots`)
    and the day's flows — registrations, applications, approvals, payouts, repayments. A
    closed day's rows never change (its snapshots are final), so they are written once, the
    first time the overview needs them (`api.admin_overview`)."""

    __tablename__ = "daily_summaries"
    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    open_loans: Mapped[int] = mapped_column(Integer, default=0)
    principal_outstanding_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    overdue_loans: Mapped[int] = mapped_column(Integer, default=0)  # DPD ≥ 1
    overdue_principal_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    registrations: Mapped[int] = mapped_column(Integer, default=0)
    applications: Mapped[int] = mapped_column(Integer, default=0)
    approvals: Mapped[int] = mapped_column(Integer, default=0)
    payouts: Mapped[int] = mapped_column(Integer, default=0)
    payouts_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    repayments: Mapped[int] = mapped_column(Integer, default=0)
    repayments_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class DailyAccountTotal(Base):
    """A closed business date's journal per account: debits and credits of the
    lines booked that day (they never change once the day is closed), so that a trial
    balance as of any date sums a few rows a day instead of every line ever booked."""

    __tablename__ = "daily_account_totals"
    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    account_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    debit_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    credit_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    lines: Mapped[int] = mapped_column(Integer, default=0)
