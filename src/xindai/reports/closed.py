"""What close of business folds for the reports once a day is closed: the overview's
`daily_summaries` and the ledger's `daily_account_totals` (`reports.folding`). Without it the
first overview and trial balance after a close fold the day themselves, which with a
million loans takes a staff member's request tens of seconds."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from xindai.reports.ledger import ensure_account_totals
from xindai.reports.overview import ensure_summaries


def fold_closed_days_for_reports(sessions: sessionmaker[Session]) -> None:
    ensure_summaries(sessions)
    ensure_account_totals(sessions)
