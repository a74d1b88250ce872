"""Models of the back office's own work: reconciliation runs and their breaks, close of
business runs started from the console, strategy back-test runs, SMS templates (drafted and
approved) and the SMS outbox (every message the platform sent)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from xindai.store.models import Base, Id


class ReconciliationRun(Base):
    """One statement file of a payment channel matched against the journal (对账)."""

    __tablename__ = "reconciliation_runs"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(128))
    file_sha256: Mapped[str] = mapped_column(String(64))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    statement_rows: Mapped[int] = mapped_column(Integer)
    matched: Mapped[int] = mapped_column(Integer)
    matched_fen: Mapped[int] = mapped_column(BigInteger)
    breaks: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class ReconciliationBreak(Base):
    """A difference between a statement and the journal, open until resolved with a note."""

    __tablename__ = "reconciliation_breaks"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(BigInteger, index=True)
    day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))  # missing_in_journal|missing_in_statement|…
    statement_fen: Mapped[int | None] = mapped_column(BigInteger)
    journal_fen: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | resolved
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolution_note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_reconciliation_breaks_status_day", "status", "day"),)


class CobRun(Base):
    """A close of business started from the console: runs in the background, its progress
    written as it goes (the steps' own rows are `cob_step_runs`)."""

    __tablename__ = "cob_runs"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    first_date: Mapped[date] = mapped_column(Date)
    until_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # running | done | failed
    withholding: Mapped[bool] = mapped_column(Boolean, default=True)
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    working_date: Mapped[date | None] = mapped_column(Date)  # the date being closed
    current_step: Mapped[str | None] = mapped_column(String(32))
    partition: Mapped[int] = mapped_column(Integer, default=0)
    partitions: Mapped[int] = mapped_column(Integer, default=0)
    days_done: Mapped[int] = mapped_column(Integer, default=0)
    days_total: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str | None] = mapped_column(Text)
    resumes: Mapped[int | None] = mapped_column(BigInteger)  # the failed run it resumes


class BacktestRun(Base):
    """A strategy version replayed over stored decisions and compared with the live one."""

    __tablename__ = "backtest_runs"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    strategy: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    live_version: Mapped[int] = mapped_column(Integer)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # running | done | failed
    applications: Mapped[int] = mapped_column(Integer, default=0)  # decided so far
    report: Mapped[str | None] = mapped_column(Text)  # JSON of `BacktestReport.to_json`
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class SmsTemplate(Base):
    """A version of an SMS template: drafted by operations, approved by a second person
    before any message uses it; its variables declared."""

    __tablename__ = "sms_templates"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(16))  # verification|notice|reminder|…
    text: Mapped[str] = mapped_column(Text)
    variables: Mapped[str] = mapped_column(Text)  # JSON list of names
    status: Mapped[str] = mapped_column(String(16))  # draft|approved|rejected|retired
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(String(512))

    __table_args__ = (UniqueConstraint("code", "version", name="uq_sms_templates_code_version"),)


class SmsMessage(Base):
    """A message the platform sent through the SMS gateway, as the gateway answered; the
    number only masked and hashed, secret variables (codes) never stored."""

    __tablename__ = "sms_outbox"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_masked: Mapped[str] = mapped_column(String(20))
    template_code: Mapped[str] = mapped_column(String(32))
    template_version: Mapped[int | None] = mapped_column(Integer)
    params: Mapped[str] = mapped_column(Text)  # JSON, secrets replaced
    origin: Mapped[str] = mapped_column(String(32))  # login|card|review|reminder|…
    status: Mapped[str] = mapped_column(String(16))  # sent|failed|delivered|refused
    message_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(256))
    borrower_id: Mapped[int | None] = mapped_column(BigInteger)
