"""console: indexes for the sortable fields of the lists (each sort an index walk at a
million loans): loans by principal, DPD and maturity; payouts and withholdings by time;
repayments of one kind by date with the key that breaks ties

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("loans", "ix_loans_principal", ("principal_fen", "id")),
    ("loans", "ix_loans_dpd", ("dpd", "id")),
    ("loans", "ix_loans_maturity", ("maturity_date", "id")),
    ("payouts", "ix_payouts_created", ("created_at", "id")),
    ("withholdings", "ix_withholdings_created", ("created_at", "request_ref")),
    ("withholdings", "ix_withholdings_day_ref", ("business_date", "request_ref")),
    ("loan_transactions", "ix_loan_txn_kind_posted_key", ("kind", "posted_on", "loan_id", "seq")),
)
REPLACED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("withholdings", "ix_withholdings_day", ("business_date",)),
    ("loan_transactions", "ix_loan_txn_kind_posted", ("kind", "posted_on")),
)


def upgrade() -> None:
    for table, name, columns in CREATED:
        op.create_index(name, table, list(columns), unique=False)
    for table, name, _columns in REPLACED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for table, name, columns in REPLACED:
        op.create_index(name, table, list(columns), unique=False)
    for table, name, _columns in reversed(CREATED):
        op.drop_index(name, table_name=table)
