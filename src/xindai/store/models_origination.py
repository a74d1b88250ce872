"""Models of origination and security: OTP codes, agreements, KYC photos, contacts, bank
cards, applications, decisions, contracts, payouts, provider callbacks, withholding, staff,
role permissions and the audit log. Personal data is encrypted (`*_enc`) and hashed
(`*_hash`) as on `Borrower`."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from xindai.store.models import Base, Id


class OtpCode(Base):
    """An SMS verification code (stored hashed) and its tries."""

    __tablename__ = "otp_codes"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    purpose: Mapped[str] = mapped_column(String(16))  # login | card
    target_hash: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_otp_target_created", "target_hash", "created_at"),
        Index("ix_otp_ip_created", "ip", "created_at"),
    )


class AuthToken(Base):
    """A bearer token of a borrower or staff session (stored hashed)."""

    __tablename__ = "auth_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(16))  # borrower | staff
    subject_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Agreement(Base):
    """A versioned agreement text (user agreement, data authorisation, loan contract)."""

    __tablename__ = "agreements"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    effective_from: Mapped[date] = mapped_column(Date)


class AgreementAcceptance(Base):
    __tablename__ = "agreement_acceptances"
    borrower_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    accepted_at: Mapped[datetime] = mapped_column(DateTime)
    ip: Mapped[str | None] = mapped_column(String(64))


class KycPhoto(Base):
    """An identity photo stored once by its content hash (SHA-256)."""

    __tablename__ = "kyc_photos"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class BorrowerPhoto(Base):
    __tablename__ = "borrower_photos"
    borrower_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # id_front|id_back|face
    sha256: Mapped[str] = mapped_column(String(64))


class Contact(Base):
    """An emergency contact (联系人)."""

    __tablename__ = "contacts"
    borrower_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    name_enc: Mapped[str] = mapped_column(Text)
    phone_enc: Mapped[str] = mapped_column(Text)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    relation: Mapped[str] = mapped_column(String(16))


class BankCard(Base):
    __tablename__ = "bank_cards"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    borrower_id: Mapped[int] = mapped_column(BigInteger, index=True)
    card_hash: Mapped[str] = mapped_column(String(64))
    card_enc: Mapped[str] = mapped_column(Text)
    last4: Mapped[str] = mapped_column(String(4))
    bank_code: Mapped[str] = mapped_column(String(16))
    bank_name: Mapped[str] = mapped_column(String(64))
    phone_enc: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # pending | verified | failed
    verify_ref: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("borrower_id", "card_hash"),)


class Application(Base):
    """A loan application and where it is in the journey."""

    __tablename__ = "applications"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    borrower_id: Mapped[int] = mapped_column(BigInteger, index=True)
    product_code: Mapped[str] = mapped_column(String(32), index=True)
    product_version: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    term: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(32))
    card_id: Mapped[int] = mapped_column(BigInteger)
    device_fingerprint: Mapped[str | None] = mapped_column(String(128))
    ip: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    annual_rate: Mapped[str] = mapped_column(String(32))
    apr: Mapped[str] = mapped_column(String(16))
    quote: Mapped[str] = mapped_column(Text)  # the schedule shown before confirmation (JSON)
    loan_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    # what the applicant declared (the scorecard's inputs)
    monthly_income_fen: Mapped[int | None] = mapped_column(BigInteger)
    employment_type: Mapped[str | None] = mapped_column(String(16))
    education: Mapped[str | None] = mapped_column(String(16))
    city: Mapped[str | None] = mapped_column(String(32))
    phonebook_count: Mapped[int | None] = mapped_column(Integer)  # None: permission refused
    # identifiers as keyed hashes, for velocity counts over applications
    id_number_hash: Mapped[str | None] = mapped_column(String(64))
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    device_hash: Mapped[str | None] = mapped_column(String(64))
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    card_hash: Mapped[str | None] = mapped_column(String(64))
    # the offer: what the decision (or reviewer) approved; None until approved
    approved_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    offered_rate: Mapped[str | None] = mapped_column(String(16))
    credit_line_id: Mapped[int | None] = mapped_column(BigInteger)  # a draw on a credit line

    __table_args__ = (
        Index("ix_applications_id_hash", "id_number_hash", "created_at"),
        Index("ix_applications_phone_hash", "phone_hash", "created_at"),
        Index("ix_applications_device_hash", "device_hash", "created_at"),
        Index("ix_applications_ip_hash", "ip_hash", "created_at"),
        Index("ix_applications_card_hash", "card_hash", "created_at"),
        Index("ix_applications_loan", "loan_id"),  # a loan's application (early warning)
    )


class DecisionRecord(Base):
    """A stored decision: inputs, rules fired, outcome, reasons, versions (explain/replay)."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(BigInteger, index=True)
    path: Mapped[str] = mapped_column(String(32))  # engine | manual_review | credit_line
    outcome: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[str] = mapped_column(Text)  # JSON list of every reason code
    detail: Mapped[str] = mapped_column(Text)  # JSON: fired rules, price, limit, timings …
    inputs: Mapped[str | None] = mapped_column(Text)  # JSON: features as at decision time
    reviewer: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # back-test periods
    customer_reasons: Mapped[str] = mapped_column(Text, default="[]")  # JSON, at most four
    strategy: Mapped[str | None] = mapped_column(String(64))  # name@vN
    strategy_hash: Mapped[str | None] = mapped_column(String(64))
    model_version: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float | None] = mapped_column(Float)
    pd: Mapped[str | None] = mapped_column(String(16))
    grade: Mapped[str | None] = mapped_column(String(4))
    approved_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    expected_loss_fen: Mapped[int | None] = mapped_column(BigInteger)  # PD × LGD × approved
    rate: Mapped[str | None] = mapped_column(String(16))
    micros: Mapped[int | None] = mapped_column(Integer)  # time to decide


class ContractRecord(Base):
    __tablename__ = "contracts"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    html: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    esign_ref: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # issued | signed
    signed_at: Mapped[datetime | None] = mapped_column(DateTime)


class Payout(Base):
    """A payout request to the payment channel; the loan is active when it is confirmed."""

    __tablename__ = "payouts"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(BigInteger, index=True)
    loan_id: Mapped[int] = mapped_column(BigInteger, index=True)
    request_ref: Mapped[str] = mapped_column(String(64), unique=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # requested|succeeded|failed|cancelled
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    settled_at: Mapped[datetime | None] = mapped_column(DateTime)
    # why it failed: the channel's reason, or never_accepted when the channel has no record
    reason: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_payouts_status_created", "status", "created_at"),
        Index("ix_payouts_created", "created_at", "id"),  # the console's list by time
    )


class ProviderCallback(Base):
    """Every callback received from a provider, once per (provider, event id)."""

    __tablename__ = "provider_callbacks"
    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), index=True)
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    outcome: Mapped[str] = mapped_column(String(32))


class Withholding(Base):
    """A collection (代扣) from the borrower's card: asked by the borrower (origin `borrower`)
    or by close of business for what is due (`auto`). `amount_fen` is what was asked,
    `collected_fen` what the channel confirmed collected; while `requested` it counts as in
    flight against what the loan may still be asked for."""

    __tablename__ = "withholdings"
    request_ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    loan_id: Mapped[int] = mapped_column(BigInteger, index=True)
    business_date: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(16), default="repayment")  # or extension
    status: Mapped[str] = mapped_column(String(16))  # requested | succeeded | failed
    created_at: Mapped[datetime] = mapped_column(DateTime)
    origin: Mapped[str] = mapped_column(String(16), default="borrower")  # borrower | auto
    collected_fen: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(64))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_withholdings_status_created", "status", "created_at"),
        Index("ix_withholdings_loan_day", "loan_id", "business_date", "origin"),
        # the console's list, by time or business date (the key breaks ties)
        Index("ix_withholdings_created", "created_at", "request_ref"),
        Index("ix_withholdings_day_ref", "business_date", "request_ref"),
    )


class RefundTask(Base):
    """Money the channel confirmed that could not be applied to the loan (it was settled,
    or the extension it paid for no longer applied): parked on the borrower's credit balance
    (溢缴款) for finance to refund. `refund_ref` is the refund's payout once finance sends it."""

    __tablename__ = "refund_tasks"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    borrower_id: Mapped[int] = mapped_column(BigInteger, index=True)
    loan_id: Mapped[int] = mapped_column(BigInteger, index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    source_ref: Mapped[str] = mapped_column(String(64), unique=True)  # the collection's ref
    reason: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # open | refunding | refunded | failed
    created_at: Mapped[datetime] = mapped_column(DateTime)
    refund_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    done_by: Mapped[str | None] = mapped_column(String(64))


class StaffUser(Base):
    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    totp_secret_enc: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(32))  # an agent sees only its channel
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # a new TOTP secret waiting for its first code; the active one stays in force till then
    totp_pending_enc: Mapped[str | None] = mapped_column(Text)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # replay guard of the active
    failures_cleared_at: Mapped[datetime | None] = mapped_column(DateTime)  # `staff unlock`


class RolePermission(Base):
    """Permissions per role are data (SPEC §11)."""

    __tablename__ = "role_permissions"
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    permission: Mapped[str] = mapped_column(String(64), primary_key=True)


class AuditEvent(Base):
    """Who did what, when, from where, with the state before and after."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    resource: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)

    # the login lockout reads one username's recent outcomes
    __table_args__ = (
        Index("ix_audit_log_actor_action_at", "actor", "action", "at"),
        # the console: by action, and a record's trail (a borrower's, a loan's)
        Index("ix_audit_log_action_at", "action", "at"),
        Index("ix_audit_log_resource", "resource", "resource_id", "at"),
    )


class StrategyVersionRecord(Base):
    """An immutable strategy version (a JDM graph) of the decision engine."""

    __tablename__ = "strategy_versions"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    graph: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(32))
    notes: Mapped[str] = mapped_column(String(512), default="")


class StrategyEvent(Base):
    """The registry's history: create, promote, rollback, challenger (the state is replayed
    from these events)."""

    __tablename__ = "strategy_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(24))
    version: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(512), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")
