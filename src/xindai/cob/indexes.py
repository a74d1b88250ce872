"""Partial indexes that let close of business find its few rows among millions.

- `ix_installments_unrecognised`: installments with interest or fee not yet recognised, by
  due date — the `due` step reads those due on or before D instead of every installment;
- `ix_installments_current`: unpaid installments not yet overdue (pending / due / partial),
  by due date — the status refresh reads those due on or before D.

Both hold only not-yet-due installments and those in their grace days. They belong in
`store.models` (and a migration); until then `create_cob_indexes` adds them
(`CREATE INDEX IF NOT EXISTS`, the same statement on SQLite and PostgreSQL).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

COB_INDEXES = {
    "ix_installments_unrecognised": (
        "installments (due_date)"
        " WHERE interest_due_fen > interest_recognised_fen OR fee_due_fen > fee_recognised_fen"
    ),
    "ix_installments_current": (
        "installments (due_date) WHERE status IN ('pending', 'due', 'partial')"
    ),
}


def create_cob_indexes(connection: Connection) -> None:
    """Create the indexes of `COB_INDEXES` that do not exist yet."""
    for name, definition in COB_INDEXES.items():
        connection.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}"))
