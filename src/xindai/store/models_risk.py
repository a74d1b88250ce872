"""Models of the risk team's data: blacklists, the bureau-report cache, the identity links of
the relation graph, the manual-review queue and pre-granted revolving credit lines.
Identifiers are stored only as keyed hashes (see `PiiCipher.lookup_hash`); reports encrypted."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xindai.store.models import Base, Id


class BlacklistRecord(Base):
    """One blacklisted identifier (黑名单) with its reason and expiry; never deleted: removal
    is recorded (who, when, why)."""

    __tablename__ = "blacklist"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # id_number|phone|device|card|contact_phone
    value_hash: Mapped[str] = mapped_column(String(64))
    value_masked: Mapped[str] = mapped_column(String(40))  # shown on screens, e.g. 138****5678
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(32), default="manual")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)
    removed_by: Mapped[str | None] = mapped_column(String(64))
    removed_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_blacklist_value", "value_hash", "kind"),)


class BureauReportCache(Base):
    """The last credit report fetched for a person, reused for `bureau_cache_days`."""

    __tablename__ = "bureau_reports"
    id_number_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    fetched_at: Mapped[datetime] = mapped_column(DateTime)
    report_enc: Mapped[str] = mapped_column(Text)  # the report's wire JSON, encrypted


class IdentityLink(Base):
    """An edge of the relation graph: a borrower uses a phone or a device, or lists a phone
    as an emergency contact. Keyed by the identifier so that neighbours are one lookup."""

    __tablename__ = "identity_links"
    value_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    borrower_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    link: Mapped[str] = mapped_column(String(16), primary_key=True)  # own_phone|device|contact
    first_seen_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_identity_links_borrower", "borrower_id"),)


class ReviewTask(Base):
    """An application in the manual-review queue (人工审核) and what the reviewer did."""

    __tablename__ = "review_tasks"
    application_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # queued|claimed|more_info|done
    reasons: Mapped[str] = mapped_column(Text)  # JSON list of the reason codes that sent it
    queued_at: Mapped[datetime] = mapped_column(DateTime)
    due_at: Mapped[datetime] = mapped_column(DateTime)  # the SLA deadline
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    checklist: Mapped[str] = mapped_column(Text, default="{}")  # JSON: item -> result
    info_request: Mapped[str | None] = mapped_column(Text)
    info_reply: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))  # approve|reject
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_review_tasks_status_due", "status", "due_at"),)


class CreditLine(Base):
    """A revolving credit line (预授信额度): available = limit − outstanding principal."""

    __tablename__ = "credit_lines"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    borrower_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    limit_fen: Mapped[int] = mapped_column(BigInteger)
    level: Mapped[int] = mapped_column(Integer)  # the reloan ladder's level behind the limit
    status: Mapped[str] = mapped_column(String(16))  # active|frozen|closed
    granted_at: Mapped[datetime] = mapped_column(DateTime)
    expires_on: Mapped[date] = mapped_column(Date)
    batch_id: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON: why this limit
    updated_at: Mapped[datetime] = mapped_column(DateTime)
