"""Folding closed business dates into daily tables, once: a closed day's snapshots and
journal lines never change (every posting is booked on the open business date), so a table
of one row per day (and channel, or account) is written the first time a report needs that
day, and a marker in `system_state` says how far it has been written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from xindai.store import repository as repo
from xindai.store.db import transaction
from xindai.store.models import SystemState


def folded_through(session: Session, key: str) -> date | None:
    row = session.get(SystemState, key)
    return date.fromisoformat(row.value) if row else None


def fold_closed_days(
    sessions: sessionmaker[Session],
    key: str,
    first_needed: date,
    fold_day: Callable[[Session, date], None],
    *,
    today: date | None = None,
) -> date | None:
    """Fold every closed day from `first_needed` (or the day after the marker, if later) to
    the day before the business date with `fold_day(session, day)`, and move the marker;
    nothing when they are folded already (checked in a read transaction, so that a report
    takes the write lock only on the first call after a close of business). Returns the
    last closed day (None when no day is closed)."""
    with transaction(sessions, read_only=True) as session:
        current = today or repo.get_business_date(session)
        through = folded_through(session, key)
    if current is None:
        return None
    last_closed = current - timedelta(days=1)
    if through is not None and through >= last_closed:
        return last_closed
    try:
        with transaction(sessions) as session:
            marker = session.get(SystemState, key, with_for_update=True)
            through = date.fromisoformat(marker.value) if marker else None
            day = max(first_needed, through + timedelta(days=1)) if through else first_needed
            while day <= last_closed:
                fold_day(session, day)
                day += timedelta(days=1)
            if marker is None:
                session.add(SystemState(key=key, value=last_closed.isoformat()))
            elif through is None or through < last_closed:
                marker.value = last_closed.isoformat()
    except IntegrityError:  # another request folded the same days first: they are there
        pass
    return last_closed
