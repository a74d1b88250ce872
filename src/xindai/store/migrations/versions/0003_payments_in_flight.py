"""payments in flight: collected amounts, origins and reasons; refund tasks

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("withholdings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("origin", sa.String(length=16), nullable=False, server_default="borrower")
        )
        batch_op.add_column(sa.Column("collected_fen", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("settled_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_withholdings_status_created", ["status", "created_at"])
        batch_op.create_index("ix_withholdings_loan_day", ["loan_id", "business_date", "origin"])
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_payouts_status_created", ["status", "created_at"])
    op.create_table(
        "refund_tasks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("borrower_id", sa.BigInteger(), nullable=False),
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("source_ref", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("refund_ref", sa.String(length=64), nullable=True),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("done_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_tasks")),
        sa.UniqueConstraint("source_ref", name=op.f("uq_refund_tasks_source_ref")),
        sa.UniqueConstraint("refund_ref", name=op.f("uq_refund_tasks_refund_ref")),
    )
    with op.batch_alter_table("refund_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refund_tasks_borrower_id"), ["borrower_id"])
        batch_op.create_index(batch_op.f("ix_refund_tasks_loan_id"), ["loan_id"])


def downgrade() -> None:
    with op.batch_alter_table("refund_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refund_tasks_loan_id"))
        batch_op.drop_index(batch_op.f("ix_refund_tasks_borrower_id"))
    op.drop_table("refund_tasks")
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.drop_index("ix_payouts_status_created")
        batch_op.drop_column("reason")
    with op.batch_alter_table("withholdings", schema=None) as batch_op:
        batch_op.drop_index("ix_withholdings_loan_day")
        batch_op.drop_index("ix_withholdings_status_created")
        batch_op.drop_column("settled_at")
        batch_op.drop_column("reason")
        batch_op.drop_column("collected_fen")
        batch_op.drop_column("origin")
