"""console: indexes of the admin lists at a million loans; daily summaries and journal totals

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("borrowers", "ix_borrowers_created_on", ("created_on",)),
    ("borrowers", "ix_borrowers_channel_id", ("channel", "id")),
    ("borrowers", "ix_borrowers_kyc_id", ("kyc_status", "id")),
    ("loans", "ix_loans_status_id", ("status", "id")),
    ("loans", "ix_loans_channel_id", ("channel", "id")),
    ("loans", "ix_loans_product_id", ("product_code", "id")),
    ("loans", "ix_loans_bucket_dpd", ("bucket", "dpd")),
    ("loans", "ix_loans_disbursed_on", ("disbursed_on",)),
    ("loan_transactions", "ix_loan_txn_kind_posted", ("kind", "posted_on")),
    ("journal_lines", "ix_journal_lines_account_date", ("account_code", "business_date")),
    ("applications", "ix_applications_product_code", ("product_code",)),
    ("payouts", "ix_payouts_loan_id", ("loan_id",)),
    ("withholdings", "ix_withholdings_day", ("business_date",)),
    ("audit_log", "ix_audit_log_action_at", ("action", "at")),
    ("audit_log", "ix_audit_log_resource", ("resource", "resource_id", "at")),
)


def upgrade() -> None:
    for table, name, columns in INDEXES:
        op.create_index(name, table, list(columns), unique=False)
    op.create_table(
        "daily_summaries",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("open_loans", sa.Integer(), nullable=False),
        sa.Column("principal_outstanding_fen", sa.BigInteger(), nullable=False),
        sa.Column("overdue_loans", sa.Integer(), nullable=False),
        sa.Column("overdue_principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("registrations", sa.Integer(), nullable=False),
        sa.Column("applications", sa.Integer(), nullable=False),
        sa.Column("approvals", sa.Integer(), nullable=False),
        sa.Column("payouts", sa.Integer(), nullable=False),
        sa.Column("payouts_fen", sa.BigInteger(), nullable=False),
        sa.Column("repayments", sa.Integer(), nullable=False),
        sa.Column("repayments_fen", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("business_date", "channel", name=op.f("pk_daily_summaries")),
    )
    op.create_table(
        "daily_account_totals",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("account_code", sa.String(length=16), nullable=False),
        sa.Column("debit_fen", sa.BigInteger(), nullable=False),
        sa.Column("credit_fen", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "business_date", "account_code", name=op.f("pk_daily_account_totals")
        ),
    )


def downgrade() -> None:
    op.drop_table("daily_account_totals")
    op.drop_table("daily_summaries")
    for table, name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
