"""early warning (预警监控): the hits of the watch-list rules, pre-due cases and the queue
that takes them (PRE, in-house, round robin), the early-warning part of a case's priority,
and a loan's application by loan id

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _seed() -> None:
    queues = sa.table(
        "collection_queues",
        *(sa.column(c) for c in ("code", "name_zh", "name_en", "dpd_min", "dpd_max", "owner",
                                 "allocation", "capacity", "no_promise_days", "priority",
                                 "active", "rr_cursor", "pre_due")),
    )  # fmt: skip
    op.bulk_insert(
        queues,
        [
            {"code": "PRE", "name_zh": "预警预催", "name_en": "Pre-due (early warning)",
             "dpd_min": 0, "dpd_max": None, "owner": "inhouse", "allocation": "round_robin",
             "capacity": 200, "no_promise_days": None, "priority": 5, "active": True,
             "rr_cursor": 0, "pre_due": True}
        ],
    )  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "early_warning_hits",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("loan_id", sa.BigInteger(), nullable=False),
        sa.Column("borrower_id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.Column("rule_code", sa.String(length=32), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("effect", sa.String(length=16), nullable=False),
        sa.Column("effect_by", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_early_warning_hits")),
    )
    with op.batch_alter_table("early_warning_hits", schema=None) as batch_op:
        batch_op.create_index("ix_early_warning_hits_case", ["case_id"], unique=False)
        batch_op.create_index(
            "ix_early_warning_hits_day", ["business_date", "rule_code"], unique=False
        )
        batch_op.create_index(
            "ix_early_warning_hits_key", ["loan_id", "rule_code", "business_date"], unique=True
        )
    # plain ADD COLUMN with a constant default: no table rewrite on either database
    op.add_column(
        "collection_cases",
        sa.Column("pre_due", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "collection_cases",
        sa.Column("warning_priority", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.add_column(
        "collection_queues",
        sa.Column("pre_due", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_index("ix_applications_loan", "applications", ["loan_id"], unique=False)
    _seed()


def downgrade() -> None:
    op.execute("DELETE FROM collection_queues WHERE code = 'PRE'")
    op.drop_index("ix_applications_loan", table_name="applications")
    with op.batch_alter_table("collection_queues", schema=None) as batch_op:
        batch_op.drop_column("pre_due")
    with op.batch_alter_table("collection_cases", schema=None) as batch_op:
        batch_op.drop_column("warning_priority")
        batch_op.drop_column("pre_due")
    with op.batch_alter_table("early_warning_hits", schema=None) as batch_op:
        batch_op.drop_index("ix_early_warning_hits_key")
        batch_op.drop_index("ix_early_warning_hits_day")
        batch_op.drop_index("ix_early_warning_hits_case")
    op.drop_table("early_warning_hits")
