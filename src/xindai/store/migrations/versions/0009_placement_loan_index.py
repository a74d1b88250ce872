"""collections: placements by loan (the cases step closes a loan's placements and the loan
routes scope an agency's user by its placements' loans; without it both walked the table)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_collection_placements_loan", "collection_placements", ["loan_id", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_collection_placements_loan", table_name="collection_placements")
