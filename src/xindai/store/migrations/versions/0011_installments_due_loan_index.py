"""installments by (due_date, loan_id): the reminders step of close of business finds a
partition's installments due on a date through it (through ix_installments_due it read the
whole book's installments of that date for every partition: 5 plans × 6 partitions a day)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_installments_due_loan", "installments", ["due_date", "loan_id"])


def downgrade() -> None:
    op.drop_index("ix_installments_due_loan", table_name="installments")
