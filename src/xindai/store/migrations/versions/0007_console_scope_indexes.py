"""console: loans by status and bucket, and an agent's loans by status (the overdue lists
count and page in one index range at a million loans); a day's payouts and repayments summed
from the transactions' index alone

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("loans", "ix_loans_status_bucket", ("status", "bucket", "id")),
    ("loans", "ix_loans_channel_status", ("channel", "status", "id")),
    (
        "loan_transactions",
        "ix_loan_txn_kind_posted_cover",
        ("kind", "posted_on", "loan_id", "seq", "amount_fen", "reversed"),
    ),
)
REPLACED = (
    "loan_transactions",
    "ix_loan_txn_kind_posted_key",
    ("kind", "posted_on", "loan_id", "seq"),
)


def upgrade() -> None:
    for table, name, columns in CREATED:
        op.create_index(name, table, list(columns), unique=False)
    op.drop_index(REPLACED[1], table_name=REPLACED[0])


def downgrade() -> None:
    op.create_index(REPLACED[1], REPLACED[0], list(REPLACED[2]), unique=False)
    for table, name, _columns in reversed(CREATED):
        op.drop_index(name, table_name=table)
