"""Schema tuning for close of business at scale: two partial indexes and, on PostgreSQL, room
on the pages of the two tables it updates most. They belong in `store.models` (and a
migration); until then `create_cob_indexes` / `set_cob_fillfactor` apply them, and close of
business uses the indexes when they exist (it is correct without them, only slower).

Indexes (the same `CREATE INDEX` on SQLite and PostgreSQL):

- `ix_installments_unrecognised`: installments with interest or fee not yet recognised, by
  due date — the `due` step finds those due on or before D without reading every
  installment of every open loan;
- `ix_installments_current`: unpaid installments not yet overdue (pending / due / partial),
  by due date — the status refresh reads only those due on or before D.

Both hold only installments not yet due and those in their grace days.

Fill factor (PostgreSQL): close of business rewrites each overdue loan twice a day and its
oldest overdue installment once. With free room on the page PostgreSQL updates the row in
place of the page ("HOT": no new index entries, fewer pages in the write-ahead log) as long as
no indexed column changes; at the default fill factor 100 every such update also inserts into
every index of the table.
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
COB_FILLFACTOR = {"loans": 80, "installments": 90}


def create_cob_indexes(connection: Connection) -> None:
    """Create the indexes of `COB_INDEXES` that do not exist yet."""
    for name, definition in COB_INDEXES.items():
        connection.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}"))


def set_cob_fillfactor(connection: Connection) -> bool:
    """On PostgreSQL, set the fill factors of `COB_FILLFACTOR` (pages written from now on
    keep the room; a table rewrite, e.g. VACUUM FULL, applies it to existing pages).
    Returns whether anything was set (False on SQLite, which has no such setting)."""
    if connection.dialect.name != "postgresql":
        return False
    for table, percent in COB_FILLFACTOR.items():
        connection.execute(text(f"ALTER TABLE {table} SET (fillfactor = {int(percent)})"))
    return True
