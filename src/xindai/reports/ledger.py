"""The trial balance (试算平衡表) as of any business date, fast at any size of journal:
closed days from their per-account totals (`daily_account_totals`, folded once), the open
day from its lines. The same figures as `ledger.reports.trial_balance`, which sums every
line."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from xindai.ledger.accounts import BY_CODE
from xindai.ledger.reports import TrialBalance, TrialBalanceRow
from xindai.reports.folding import fold_closed_days, folded_through
from xindai.store import repository as repo
from xindai.store.db import transaction
from xindai.store.models import JournalLine
from xindai.store.models_console import DailyAccountTotal

MARKER = "daily_account_totals_through"


def fold_account_day(session: Session, day: date) -> None:
    """Store the journal totals per account of the closed business date `day`."""
    session.execute(delete(DailyAccountTotal).where(DailyAccountTotal.business_date == day))
    session.execute(
        insert(DailyAccountTotal).from_select(
            ["business_date", "account_code", "debit_fen", "credit_fen", "lines"],
            select(
                JournalLine.business_date,
                JournalLine.account_code,
                func.coalesce(func.sum(JournalLine.debit_fen), 0),
                func.coalesce(func.sum(JournalLine.credit_fen), 0),
                func.count(),
            )
            .where(JournalLine.business_date == day)
            .group_by(JournalLine.business_date, JournalLine.account_code),
        )
    )


def _first_line_day(session: Session) -> date | None:
    found: date | None = session.scalar(select(func.min(JournalLine.business_date)))
    return found


def ensure_account_totals(sessions: sessionmaker[Session]) -> date | None:
    """Fold every closed day not yet in `daily_account_totals` (a read when there is none);
    the last closed day."""
    with transaction(sessions, read_only=True) as session:
        today = repo.get_business_date(session)
        first = _first_line_day(session) if folded_through(session, MARKER) is None else None
    if today is None:
        return None
    return fold_closed_days(
        sessions, MARKER, first or today - timedelta(days=1), fold_account_day, today=today
    )


def journal_lines_count(
    session: Session, *, account: str | None, first: date | None, last: date | None
) -> int:
    """How many journal lines (of `account`, booked from `first` to `last`) there are: the
    closed days' from their totals, the open day's counted (after `ensure_account_totals`)."""
    through = folded_through(session, MARKER)
    folded = select(func.coalesce(func.sum(DailyAccountTotal.lines), 0))
    live = select(func.count()).select_from(JournalLine)
    conditions_folded: list[Any] = []
    conditions_live: list[Any] = []
    if account:
        conditions_folded.append(DailyAccountTotal.account_code == account)
        conditions_live.append(JournalLine.account_code == account)
    if first is not None:
        conditions_folded.append(DailyAccountTotal.business_date >= first)
        conditions_live.append(JournalLine.business_date >= first)
    if last is not None:
        conditions_folded.append(DailyAccountTotal.business_date <= last)
        conditions_live.append(JournalLine.business_date <= last)
    total = 0
    if through is not None:
        conditions_folded.append(DailyAccountTotal.business_date <= through)
        conditions_live.append(JournalLine.business_date > through)
        total += int(session.scalar(folded.where(*conditions_folded)) or 0)
    total += int(session.scalar(live.where(*conditions_live)) or 0)
    return total


def trial_balance_as_of(sessions: sessionmaker[Session], as_of: date | None = None) -> TrialBalance:
    """Debits and credits per account of every line booked on or before `as_of` (default:
    the business date)."""
    ensure_account_totals(sessions)
    with transaction(sessions, read_only=True) as session:
        today = repo.get_business_date(session) or date.today()
        day = as_of or today
        through = folded_through(session, MARKER)
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        if through is not None:
            for code, debit, credit in session.execute(
                select(
                    DailyAccountTotal.account_code,
                    func.sum(DailyAccountTotal.debit_fen),
                    func.sum(DailyAccountTotal.credit_fen),
                )
                .where(DailyAccountTotal.business_date <= min(day, through))
                .group_by(DailyAccountTotal.account_code)
            ):
                sums[code][0] += int(debit or 0)
                sums[code][1] += int(credit or 0)
        live = select(
            JournalLine.account_code,
            func.sum(JournalLine.debit_fen),
            func.sum(JournalLine.credit_fen),
        ).where(JournalLine.business_date <= day)
        if through is not None:
            live = live.where(JournalLine.business_date > through)
        for code, debit, credit in session.execute(live.group_by(JournalLine.account_code)):
            sums[code][0] += int(debit or 0)
            sums[code][1] += int(credit or 0)
    rows = []
    for code in sorted(sums):
        account = BY_CODE.get(code)
        rows.append(
            TrialBalanceRow(
                code,
                account.name_zh if account else code,
                account.name_en if account else code,
                account.kind.value if account else "unknown",
                sums[code][0],
                sums[code][1],
            )
        )
    return TrialBalance(day, tuple(rows))
