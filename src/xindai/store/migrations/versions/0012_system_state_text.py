"""system_state values as text: the demo lender's record (its counts and the seconds of each
part of its days) outgrew 256 characters on PostgreSQL, which enforces the length

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("system_state", schema=None) as batch_op:
        batch_op.alter_column(
            "value", existing_type=sa.String(length=256), type_=sa.Text(), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("system_state", schema=None) as batch_op:
        batch_op.alter_column(
            "value", existing_type=sa.Text(), type_=sa.String(length=256), existing_nullable=False
        )
