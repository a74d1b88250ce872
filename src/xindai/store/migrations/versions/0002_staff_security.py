"""staff security: pending TOTP secret, TOTP replay step, lockout cleared, audit index

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_pending_enc", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("failures_cleared_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_log_actor_action_at", ["actor", "action", "at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_actor_action_at")
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("failures_cleared_at")
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_pending_enc")
