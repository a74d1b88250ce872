"""Collections (催收, SPEC §8): reminder plans and the reminders sent, cases, queues and
their members, every assignment, agencies with their users and placements, every contact
(calls, messages, letters, visits, legal), promises to pay, and the configuration
(guardrails, strategies, early-warning rules) as key/value rows; early-warning hits (预警).

Cases, contacts, promises and reminders carry the loan id (and contacts the borrower id) so
that they can be distributed with the loans they belong to.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from xindai.store.models import Base, Id

_OPEN = "status = 'open'"


class ReminderPlan(Base):
    """A reminder (还款提醒) `offset_days` from an installment's due date (−3 is three days
    before), sent with an approved SMS template."""

    __tablename__ = "collection_reminder_plans"
    offset_days: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_code: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Reminder(Base):
    """One reminder of one installment for one plan offset, as close of business queued it
    and the gateway answered (its delivery receipt)."""

    __tablename__ = "collection_reminders"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(BigInteger)
    installment: Mapped[int] = mapped_column(Integer)
    offset_days: Mapped[int] = mapped_column(Integer)
    business_date: Mapped[date] = mapped_column(Date)
    borrower_id: Mapped[int] = mapped_column(BigInteger)
    template_code: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    due_date: Mapped[date] = mapped_column(Date)
    dpd: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))  # queued|sent|delivered|failed|refused
    message_id: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_collection_reminders_key", "loan_id", "installment", "offset_days", unique=True),
        Index("ix_collection_reminders_day", "business_date", "status"),
    )


class CollectionQueue(Base):
    """A queue: a DPD range × segment (product, channel), who works it (`owner`: inhouse,
    agency, legal) and how cases are allocated in it."""

    __tablename__ = "collection_queues"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    dpd_min: Mapped[int] = mapped_column(Integer)
    dpd_max: Mapped[int | None] = mapped_column(Integer)
    product_code: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(16))  # inhouse|agency|legal
    allocation: Mapped[str] = mapped_column(String(16))  # round_robin|capacity|performance
    capacity: Mapped[int] = mapped_column(Integer, default=100)
    no_promise_days: Mapped[int | None] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(Integer, default=100)  # lower matches first
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    rr_cursor: Mapped[int] = mapped_column(Integer, default=0)  # round robin's next member
    # the pre-due segment: it takes the pre-due cases (opened by early warning) and only them
    pre_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class QueueMember(Base):
    """A collector (`staff_id`) or an agency (`agency_id`) working a queue."""

    __tablename__ = "collection_queue_members"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    queue_id: Mapped[int] = mapped_column(BigInteger, index=True)
    staff_id: Mapped[int | None] = mapped_column(BigInteger)
    agency_id: Mapped[int | None] = mapped_column(BigInteger)
    weight: Mapped[int] = mapped_column(Integer, default=100)  # performance, in percent
    capacity: Mapped[int | None] = mapped_column(Integer)  # the queue's when None
    team: Mapped[str | None] = mapped_column(String(32))


class CollectionCase(Base):
    """A collection case (催收案件) of one loan, open from DPD 1 until cure, settlement,
    write-off or sale; where it is queued, who holds it, what was agreed. A pre-due case
    (`pre_due`, 预警预催) is opened by early warning before the loan is overdue: it closes
    when the loan is settled, or becomes the loan's normal case once it is overdue."""

    __tablename__ = "collection_cases"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(BigInteger)
    borrower_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # open|closed
    close_reason: Mapped[str | None] = mapped_column(String(16))
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    dpd: Mapped[int] = mapped_column(Integer, default=0)
    bucket: Mapped[str] = mapped_column(String(8))
    overdue_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    overdue_at_open_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    priority: Mapped[int] = mapped_column(BigInteger, default=0)
    queue_id: Mapped[int | None] = mapped_column(BigInteger)
    queued_on: Mapped[date | None] = mapped_column(Date)
    assignee_id: Mapped[int | None] = mapped_column(BigInteger)
    agency_id: Mapped[int | None] = mapped_column(BigInteger)
    placement_id: Mapped[int | None] = mapped_column(BigInteger)
    assigned_on: Mapped[date | None] = mapped_column(Date)
    held_until: Mapped[date | None] = mapped_column(Date)
    quadrant: Mapped[str | None] = mapped_column(String(4))
    test_cell: Mapped[str] = mapped_column(String(16), default="champion")
    legal: Mapped[bool] = mapped_column(Boolean, default=False)
    requeue: Mapped[bool] = mapped_column(Boolean, default=True)  # allocate at the next run
    requeue_reason: Mapped[str | None] = mapped_column(String(16))
    last_promise_on: Mapped[date | None] = mapped_column(Date)
    broken_promises: Mapped[int] = mapped_column(Integer, default=0)
    last_contact_at: Mapped[datetime | None] = mapped_column(DateTime)
    pre_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # what early-warning hits added to the priority (kept when the priority is recomputed)
    warning_priority: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    __table_args__ = (
        Index("ix_collection_cases_loan", "loan_id", "status"),
        Index(
            "ix_collection_cases_open_loan",
            "loan_id",
            unique=True,
            postgresql_where=text(_OPEN),
            sqlite_where=text(_OPEN),
        ),
        # my queue, next case: an assignee's open cases by priority
        Index("ix_collection_cases_assignee", "assignee_id", "status", "priority", "id"),
        Index("ix_collection_cases_agency", "agency_id", "status", "priority", "id"),
        Index("ix_collection_cases_status", "status", "priority", "id"),
        Index("ix_collection_cases_requeue", "requeue", "status"),
        Index("ix_collection_cases_queue", "queue_id", "status"),
    )


class Assignment(Base):
    """Every assignment of a case (分案记录): to a collector, to an agency, or back to its
    queue, with the reason."""

    __tablename__ = "collection_assignments"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigInteger, index=True)
    loan_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(DateTime)
    business_date: Mapped[date] = mapped_column(Date, index=True)
    queue_id: Mapped[int | None] = mapped_column(BigInteger)
    from_staff: Mapped[int | None] = mapped_column(BigInteger)
    to_staff: Mapped[int | None] = mapped_column(BigInteger, index=True)
    from_agency: Mapped[int | None] = mapped_column(BigInteger)
    to_agency: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))


class Agency(Base):
    """A collection agency (委外机构): paid `commission_rate` of what it recovers inside a
    placement's window of `window_days`."""

    __tablename__ = "collection_agencies"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    commission_rate: Mapped[str] = mapped_column(String(16))  # a decimal fraction, "0.15"
    window_days: Mapped[int] = mapped_column(Integer, default=30)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class AgencyUser(Base):
    """A staff member (role agency_collector) working for an agency: sees only its cases."""

    __tablename__ = "collection_agency_users"
    staff_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    agency_id: Mapped[int] = mapped_column(BigInteger, index=True)


class Placement(Base):
    """A case placed with an agency (委外) for a window; recalled at its end."""

    __tablename__ = "collection_placements"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    agency_id: Mapped[int] = mapped_column(BigInteger)
    case_id: Mapped[int] = mapped_column(BigInteger, index=True)
    loan_id: Mapped[int] = mapped_column(BigInteger)
    placed_on: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # active|recalled|closed
    recalled_on: Mapped[date | None] = mapped_column(Date)
    balance_at_placement_fen: Mapped[int] = mapped_column(BigInteger)
    recovered_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    commission_rate: Mapped[str] = mapped_column(String(16))
    commission_fen: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        Index("ix_collection_placements_agency", "agency_id", "status", "id"),
        Index("ix_collection_placements_window", "status", "window_end"),
        Index("ix_collection_placements_loan", "loan_id", "status"),
    )


class ContactAction(Base):
    """A contact or action on a case (催收记录), kept at least five years: a call in three
    dimensions, an SMS with its receipt, a letter, a visit, an escalation, a promise."""

    __tablename__ = "collection_actions"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigInteger)
    loan_id: Mapped[int] = mapped_column(BigInteger)
    borrower_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(DateTime)
    business_date: Mapped[date] = mapped_column(Date)
    local_day: Mapped[date] = mapped_column(Date)  # the debtor's calendar day (the caps)
    actor_id: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(64))
    agency_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    contact_ref: Mapped[str | None] = mapped_column(String(32))
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    phone_masked: Mapped[str | None] = mapped_column(String(20))
    connection: Mapped[str | None] = mapped_column(String(16))
    party: Mapped[str | None] = mapped_column(String(16))
    result: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(1000))
    recording_ref: Mapped[str | None] = mapped_column(String(128))
    template_code: Mapped[str | None] = mapped_column(String(32))
    sms_status: Mapped[str | None] = mapped_column(String(16))
    message_id: Mapped[str | None] = mapped_column(String(64))
    document_id: Mapped[int | None] = mapped_column(BigInteger)  # a letter's PDF
    details: Mapped[str | None] = mapped_column(Text)  # JSON

    __table_args__ = (
        Index("ix_collection_actions_case", "case_id", "id"),
        # the guardrails: a debtor's calls of a day, a number's attempts of a day
        Index("ix_collection_actions_debtor_day", "borrower_id", "local_day", "kind"),
        Index("ix_collection_actions_phone_day", "phone_hash", "local_day"),
        Index("ix_collection_actions_actor_day", "actor_id", "business_date"),
    )


class Promise(Base):
    """A promise to pay (承诺还款), judged at close of business after its date + 1 day."""

    __tablename__ = "collection_promises"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigInteger, index=True)
    loan_id: Mapped[int] = mapped_column(BigInteger)
    action_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_id: Mapped[int] = mapped_column(BigInteger)
    agency_id: Mapped[int | None] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    made_on: Mapped[date] = mapped_column(Date)
    promised_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # pending|kept|partial|broken|superseded
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    judged_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (Index("ix_collection_promises_pending", "status", "loan_id"),)


class Letter(Base):
    """A letter (催收函 `demand` / 律师函 `lawyer`) rendered to PDF for a case."""

    __tablename__ = "collection_letters"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)


class CollectionSetting(Base):
    """Configuration of collections as JSON values (guardrails, strategies), by key."""

    __tablename__ = "collection_settings"
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class WarningHit(Base):
    """An early-warning hit (预警命中): one watch-list rule on one open loan on one business
    date (at most one a day), with what it found (`detail`, JSON) and the effect it had on
    the loan's case (`outcome`: `raised`, `precase`, `no_case`, `none`; NULL until applied).
    `subject` names what it is about (a new application, a bureau figure) so that the same
    finding is not raised twice."""

    __tablename__ = "early_warning_hits"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(BigInteger)
    borrower_id: Mapped[int] = mapped_column(BigInteger)
    case_id: Mapped[int | None] = mapped_column(BigInteger)
    rule_code: Mapped[str] = mapped_column(String(32))
    business_date: Mapped[date] = mapped_column(Date)
    subject: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    effect: Mapped[str] = mapped_column(String(16))  # raise_priority|open_precase|none
    effect_by: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_early_warning_hits_key", "loan_id", "rule_code", "business_date", unique=True),
        # the console's chart and the day's effects
        Index("ix_early_warning_hits_day", "business_date", "rule_code"),
        Index("ix_early_warning_hits_case", "case_id"),
    )


__all__ = [
    "Agency",
    "AgencyUser",
    "Assignment",
    "CollectionCase",
    "CollectionQueue",
    "CollectionSetting",
    "ContactAction",
    "Letter",
    "Placement",
    "Promise",
    "QueueMember",
    "Reminder",
    "ReminderPlan",
    "WarningHit",
]
