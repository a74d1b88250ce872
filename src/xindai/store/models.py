"""SQLAlchemy 2.0 models. Money is BIGINT fen; rates are exact decimal strings.

Hot tables (loans, installments, loan transactions, journal lines, daily snapshots) carry
the loan id (and loans the borrower id) in their keys, so that they can be partitioned or
distributed by loan / borrower (Citus: distribution column borrower_id, co-located tables);
the snapshot table is keyed by business date first so that it can be partitioned by month.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets BIGINT (BIGSERIAL).
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    # named constraints, so that later SQLite batch migrations can drop or alter them
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class SystemState(Base):
    """Key/value state of the platform, e.g. the current business date (营业日)."""

    __tablename__ = "system_state"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ProductRecord(Base):
    """A product version: its definition as JSON, activated by a second person."""

    __tablename__ = "products"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft|active|retired
    created_by: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    activated_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime | None] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(String(512))  # what this version changes
    retired_by: Mapped[str | None] = mapped_column(String(64))
    retired_on: Mapped[date | None] = mapped_column(Date)


class Borrower(Base):
    """A borrower. Personal data is stored encrypted (`*_enc`) with a keyed hash (`*_hash`)
    for lookups; nothing personal is stored in clear."""

    __tablename__ = "borrowers"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    display_name: Mapped[str] = mapped_column(String(64))  # masked, e.g. 张*
    channel: Mapped[str | None] = mapped_column(String(32))
    created_on: Mapped[date] = mapped_column(Date, index=True)
    mobile_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    mobile_enc: Mapped[str | None] = mapped_column(Text)
    name_enc: Mapped[str | None] = mapped_column(Text)
    id_number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    id_number_enc: Mapped[str | None] = mapped_column(Text)
    birth_date: Mapped[date | None] = mapped_column(Date)
    kyc_status: Mapped[str] = mapped_column(String(16), default="none")  # none|verified
    liveness_passed: Mapped[bool] = mapped_column(Boolean, default=False)
    registered_ip: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (  # the console's lists: by channel, by KYC status, newest first
        Index("ix_borrowers_channel_id", "channel", "id"),
        Index("ix_borrowers_kyc_id", "kyc_status", "id"),
    )


class Loan(Base):
    """A loan account. Balances here are a cache of the transaction log, kept in step by
    every posting and by close of business; the log is the truth."""

    __tablename__ = "loans"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    borrower_id: Mapped[int] = mapped_column(BigInteger, index=True)
    product_code: Mapped[str] = mapped_column(String(32))
    product_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # indexed by ix_loans_open_due
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    annual_rate: Mapped[str] = mapped_column(String(32))
    term: Mapped[int] = mapped_column(Integer)
    booked_on: Mapped[date] = mapped_column(Date)  # the schedule's start date
    interest_free_days: Mapped[int] = mapped_column(Integer, default=0)  # first-loan 免息期
    disbursed_on: Mapped[date | None] = mapped_column(Date)
    maturity_date: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(32), default="default")
    # rules the set-based close of business needs without loading the product
    grace_days: Mapped[int] = mapped_column(Integer, default=0)
    penalty_rate_num: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_rate_den: Mapped[int] = mapped_column(BigInteger, default=1)
    penalty_on_total: Mapped[bool] = mapped_column(Boolean, default=False)
    penalty_cap_fen: Mapped[int | None] = mapped_column(BigInteger)
    overdue_fee_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    # cached balances (fen)
    principal_outstanding_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_outstanding_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_outstanding_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_outstanding_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    credit_balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_accrued_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    overdue_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    dpd: Mapped[int] = mapped_column(Integer, default=0)
    max_dpd: Mapped[int] = mapped_column(Integer, default=0)  # most days past due ever (复贷)
    bucket: Mapped[str] = mapped_column(String(8), default="M0")
    oldest_unpaid_due: Mapped[date | None] = mapped_column(Date)
    extension_count: Mapped[int] = mapped_column(Integer, default=0)
    deferral_count: Mapped[int] = mapped_column(Integer, default=0)
    last_txn_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_entry_no: Mapped[int] = mapped_column(Integer, default=0)
    row_version: Mapped[int] = mapped_column(Integer, default=0)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 - SQLAlchemy's own hook
    __table_args__ = (
        Index("ix_loans_open_due", "status", "oldest_unpaid_due"),
        # the console's loan lists (status, channel, product, overdue by bucket and DPD)
        Index("ix_loans_status_id", "status", "id"),
        Index("ix_loans_channel_id", "channel", "id"),
        Index("ix_loans_product_id", "product_code", "id"),
        Index("ix_loans_bucket_dpd", "bucket", "dpd"),
        Index("ix_loans_disbursed_on", "disbursed_on"),
        Index("ix_loans_principal", "principal_fen", "id"),  # sorted lists
        Index("ix_loans_dpd", "dpd", "id"),
        Index("ix_loans_maturity", "maturity_date", "id"),
        Index("ix_loans_status_bucket", "status", "bucket", "id"),  # overdue by bucket
        Index("ix_loans_channel_status", "channel", "status", "id"),  # an agent's, by status
        {"postgresql_with": {"fillfactor": 80}},  # close of business updates every open loan
    )


_UNRECOGNISED = "interest_due_fen > interest_recognised_fen OR fee_due_fen > fee_recognised_fen"
_CURRENT = "status IN ('pending', 'due', 'partial')"


class InstallmentRecord(Base):
    """One installment with, per component, what is due, paid, waived and recognised (booked
    as a receivable), mirroring `servicing.state.InstallmentState`."""

    __tablename__ = "installments"
    loan_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("loans.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    start_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    principal_due_fen: Mapped[int] = mapped_column(BigInteger)
    interest_due_fen: Mapped[int] = mapped_column(BigInteger)
    fee_due_fen: Mapped[int] = mapped_column(BigInteger)
    penalty_due_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    principal_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    principal_waived_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_waived_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_waived_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_waived_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    principal_recognised_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_recognised_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_recognised_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_recognised_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    overdue_fee_charged: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending")

    __table_args__ = (
        Index("ix_installments_due", "due_date", "status"),
        # a partition's installments due on a date (the reminders of close of business)
        Index("ix_installments_due_loan", "due_date", "loan_id"),
        # the two steps of close of business that look for work by due date (cob.tuning)
        Index(
            "ix_installments_unrecognised",
            "due_date",
            postgresql_where=text(_UNRECOGNISED),
            sqlite_where=text(_UNRECOGNISED),
        ),
        Index(
            "ix_installments_current",
            "due_date",
            postgresql_where=text(_CURRENT),
            sqlite_where=text(_CURRENT),
        ),
        {"postgresql_with": {"fillfactor": 90}},  # same-page updates: no index churn
    )


class LoanTransaction(Base):
    """The loan's transaction log: append-only; a reversal is a new row."""

    __tablename__ = "loan_transactions"
    loan_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("loans.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    value_date: Mapped[date] = mapped_column(Date)
    posted_on: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    principal_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    credit_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    channel: Mapped[str | None] = mapped_column(String(32))
    external_ref: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[str | None] = mapped_column(Text)
    reverses_seq: Mapped[int | None] = mapped_column(Integer)
    reversed: Mapped[bool] = mapped_column(Boolean, default=False)
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    actor: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("loan_id", "idempotency_key", name="uq_loan_txn_idempotency"),
        Index("ix_loan_txn_posted", "posted_on"),
        # the repayments list (one kind, by date), and a day's payouts and repayments summed
        # from the index alone (the overview)
        Index(
            "ix_loan_txn_kind_posted_cover",
            "kind",
            "posted_on",
            "loan_id",
            "seq",
            "amount_fen",
            "reversed",
        ),
    )


class Account(Base):
    """Chart of accounts (科目)."""

    __tablename__ = "accounts"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # asset|liability|equity|income|expense


class JournalEntry(Base):
    """An immutable, balanced journal entry; corrections are new (mirror) entries.

    Keyed by (loan id, entry number) so that a loan's entries live with the loan and close
    of business can number them set-based; entries of no loan use loan id 0."""

    __tablename__ = "journal_entries"
    loan_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entry_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    txn_seq: Mapped[int | None] = mapped_column(Integer)
    business_date: Mapped[date] = mapped_column(Date, index=True)
    value_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(24))
    description: Mapped[str] = mapped_column(String(256), default="")
    reverses_entry_no: Mapped[int | None] = mapped_column(Integer)


class JournalLine(Base):
    __tablename__ = "journal_lines"
    loan_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entry_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    business_date: Mapped[date] = mapped_column(Date)
    account_code: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(32))
    debit_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    credit_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    external_ref: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_journal_lines_date_account", "business_date", "account_code"),
        Index("ix_journal_lines_account_date", "account_code", "business_date"),  # by account
    )


class IdempotencyRecord(Base):
    """The first result of every money-moving call, keyed by its idempotency key."""

    __tablename__ = "idempotency_records"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ApprovalRequest(Base):
    """Maker-checker: a request by one user that takes effect when a second approves."""

    __tablename__ = "approval_requests"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(24))
    loan_id: Mapped[int] = mapped_column(BigInteger, index=True)
    payload: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(512))
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str | None] = mapped_column(String(512))
    txn_seq: Mapped[int | None] = mapped_column(Integer)


class CobStepRun(Base):
    """Progress of close of business: one row per business date and step."""

    __tablename__ = "cob_step_runs"
    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    step: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # running|done
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class LoanSnapshot(Base):
    """One row per open loan per business date: the fact table every report reads."""

    __tablename__ = "loan_snapshots"
    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    loan_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(BigInteger)
    product_code: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    dpd: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[str] = mapped_column(String(8))
    principal_outstanding_fen: Mapped[int] = mapped_column(BigInteger)
    interest_outstanding_fen: Mapped[int] = mapped_column(BigInteger)
    fee_outstanding_fen: Mapped[int] = mapped_column(BigInteger)
    penalty_outstanding_fen: Mapped[int] = mapped_column(BigInteger)
    overdue_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class BucketMove(Base):
    __tablename__ = "bucket_moves"
    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    loan_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    from_bucket: Mapped[str] = mapped_column(String(8))
    to_bucket: Mapped[str] = mapped_column(String(8))
    dpd: Mapped[int] = mapped_column(Integer)


# the other model modules register their tables on the same metadata
from xindai.store import models_admin as _admin  # noqa: E402, F401
from xindai.store import models_collections as _collections  # noqa: E402, F401
from xindai.store import models_console as _console  # noqa: E402, F401
from xindai.store import models_origination as _origination  # noqa: E402, F401
from xindai.store import models_risk as _risk  # noqa: E402, F401
