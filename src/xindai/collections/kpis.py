"""Collection KPIs (催收考核指标, SPEC §8 / seed §3.8.1) per collector, team, agency or queue
over a period of business dates: call volume, contact rate (connected / calls), right-party
contact rate (the debtor in person / connected), promise rate (promises / right-party
contacts), kept rate (kept / promises judged), recovered amount (payments on cases in the
period, each credited to the collector, agency or queue that held the case on the
payment's date by the assignment log, not to whoever holds it now), recovery rate by bucket
(recovered / overdue when the cases opened), and each queue's roll-forward rate (cases
queued there in the period that later moved to a later queue)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from xindai.errors import InvalidValue
from xindai.money import format_percent, format_yuan
from xindai.store.models import LoanTransaction
from xindai.store.models_collections import (
    Agency,
    Assignment,
    CollectionCase,
    CollectionQueue,
    ContactAction,
    Promise,
    QueueMember,
)
from xindai.store.models_origination import StaffUser

LEVELS = ("collector", "team", "agency", "queue")
PAID = ("repayment", "early_settlement")


def _rate(part: int, whole: int) -> str:
    return format_percent(Decimal(part) / Decimal(whole)) if whole else format_percent(Decimal(0))


def _grouped(session: Session, query: Any) -> dict[Any, tuple[int, ...]]:
    return {row[0]: tuple(int(v or 0) for v in row[1:]) for row in session.execute(query).all()}


def kpis(session: Session, level: str, date_from: date, date_to: date) -> dict[str, Any]:
    """The KPI rows of `level` for business dates `date_from` … `date_to` (docstring)."""
    if level not in LEVELS:
        raise InvalidValue("level", level, f"one of {', '.join(LEVELS)}", "维度不在可选范围")
    if date_to < date_from:
        raise InvalidValue(
            "date_to", date_to.isoformat(), "on or after date_from", "结束日期早于开始日期"
        )
    teams = dict(
        session.execute(
            select(QueueMember.staff_id, func.max(QueueMember.team))
            .where(QueueMember.staff_id.is_not(None))
            .group_by(QueueMember.staff_id)
        ).all()
    )
    in_period = and_(
        ContactAction.business_date >= date_from, ContactAction.business_date <= date_to
    )
    key: Any
    if level in ("collector", "team"):
        key = ContactAction.actor_id
    elif level == "agency":
        key = ContactAction.agency_id
    else:
        key = CollectionCase.queue_id
    calls_q = (
        select(
            key,
            func.count(),
            func.sum(case((ContactAction.connection == "connected", 1), else_=0)),
            func.sum(
                case(
                    (
                        and_(
                            ContactAction.connection == "connected", ContactAction.party == "self"
                        ),
                        1,
                    ),
                    else_=0,
                )
            ),
        )
        .select_from(ContactAction)
        .join(CollectionCase, CollectionCase.id == ContactAction.case_id)
        .where(in_period, ContactAction.kind == "call")
        .group_by(key)
    )
    calls = _grouped(session, calls_q)
    pkey: Any = {
        "collector": Promise.actor_id,
        "team": Promise.actor_id,
        "agency": Promise.agency_id,
        "queue": CollectionCase.queue_id,
    }[level]
    promises = _grouped(
        session,
        select(
            pkey,
            func.count(),
            func.sum(case((Promise.status == "kept", 1), else_=0)),
            func.sum(case((Promise.status.in_(("kept", "partial", "broken")), 1), else_=0)),
        )
        .select_from(Promise)
        .join(CollectionCase, CollectionCase.id == Promise.case_id)
        .where(
            Promise.made_on >= date_from, Promise.made_on <= date_to, Promise.status != "superseded"
        )
        .group_by(pkey),
    )
    paid_in_period = and_(
        LoanTransaction.kind.in_(PAID),
        LoanTransaction.reversed.is_(False),
        LoanTransaction.posted_on >= date_from,
        LoanTransaction.posted_on <= date_to,
    )
    recovered = _grouped(session, credited(level, paid_in_period))
    if level == "agency":
        cases = _grouped(
            session,
            select(CollectionCase.agency_id, func.count())
            .where(CollectionCase.status == "open")
            .group_by(CollectionCase.agency_id),
        )
    else:
        ckey = (
            CollectionCase.assignee_id
            if level in ("collector", "team")
            else CollectionCase.queue_id
        )
        cases = _grouped(
            session,
            select(ckey, func.count()).where(CollectionCase.status == "open").group_by(ckey),
        )
    if level == "team":

        def by_team(table: dict[Any, tuple[int, ...]]) -> dict[Any, tuple[int, ...]]:
            merged: dict[Any, list[int]] = {}
            for staff, values in table.items():
                if staff is None:
                    continue
                team = teams.get(staff) or "—"
                bucket = merged.setdefault(team, [0] * len(values))
                for i, v in enumerate(values):
                    bucket[i] += v
            return {k: tuple(v) for k, v in merged.items()}

        calls, promises, recovered, cases = (
            by_team(t) for t in (calls, promises, recovered, cases)
        )
    names = _names(session, level)
    keys = sorted(
        {k for t in (calls, promises, recovered, cases) for k in t if k is not None}, key=str
    )
    items = []
    for k in keys:
        n_calls, connected, rpc = calls.get(k, (0, 0, 0))
        n_promises, kept, judged = promises.get(k, (0, 0, 0))
        items.append(
            {
                "key": str(k),
                "name": names.get(k, str(k)),
                "calls": n_calls,
                "connected": connected,
                "contact_rate": _rate(connected, n_calls),
                "right_party": rpc,
                "rpc_rate": _rate(rpc, connected),
                "promises": n_promises,
                "promise_rate": _rate(n_promises, rpc),
                "kept": kept,
                "kept_rate": _rate(kept, judged),
                "recovered": format_yuan(recovered.get(k, (0,))[0]),
                "cases": cases.get(k, (0,))[0],
            }
        )
    return {
        "level": level,
        "date_from": date_from.isoformat(),
        "date_to": date_to.isoformat(),
        "items": items,
        "by_bucket": _by_bucket(session, paid_in_period),
        "roll_forward": _roll_forward(session, date_from, date_to),
    }


def credited(level: str, paid_in_period: Any) -> Any:
    """The query of the payments `paid_in_period` on cases, summed by who held the case when
    the money came in: of the case's assignments (the log) the last one before the payment —
    an earlier business date, or the same date and not later than the posting — gives the
    collector (`to_staff`, also for the team), the agency (`to_agency`) or the queue. A
    payment counts for the case open on its date (from its opening to its closing)."""
    held = aliased(Assignment)
    holder = (
        select(Assignment.id)
        .where(
            Assignment.case_id == CollectionCase.id,
            or_(
                Assignment.business_date < LoanTransaction.posted_on,
                and_(
                    Assignment.business_date == LoanTransaction.posted_on,
                    Assignment.at <= LoanTransaction.created_at,
                ),
            ),
        )
        .order_by(Assignment.business_date.desc(), Assignment.id.desc())
        .limit(1)
        .correlate(CollectionCase, LoanTransaction)
        .scalar_subquery()
    )
    key = {
        "collector": held.to_staff,
        "team": held.to_staff,
        "agency": held.to_agency,
        "queue": held.queue_id,
    }[level]
    return (
        select(key, func.sum(LoanTransaction.amount_fen))
        .select_from(LoanTransaction)
        .join(
            CollectionCase,
            and_(
                CollectionCase.loan_id == LoanTransaction.loan_id,
                LoanTransaction.posted_on >= CollectionCase.opened_on,
                or_(
                    CollectionCase.closed_on.is_(None),
                    LoanTransaction.posted_on <= CollectionCase.closed_on,
                ),
            ),
        )
        .join(held, held.id == holder)
        .where(paid_in_period)
        .group_by(key)
    )


def _names(session: Session, level: str) -> dict[Any, str]:
    if level == "collector":
        return dict(session.execute(select(StaffUser.id, StaffUser.username)).all())
    if level == "agency":
        return dict(session.execute(select(Agency.id, Agency.name)).all())
    if level == "queue":
        return dict(session.execute(select(CollectionQueue.id, CollectionQueue.code)).all())
    return {}


def _by_bucket(session: Session, paid_in_period: Any) -> list[dict[str, Any]]:
    entry = dict(
        session.execute(
            select(CollectionCase.bucket, func.sum(CollectionCase.overdue_at_open_fen)).group_by(
                CollectionCase.bucket
            )
        ).all()
    )
    paid = dict(
        session.execute(
            select(CollectionCase.bucket, func.sum(LoanTransaction.amount_fen))
            .join(LoanTransaction, LoanTransaction.loan_id == CollectionCase.loan_id)
            .where(paid_in_period, LoanTransaction.posted_on >= CollectionCase.opened_on)
            .group_by(CollectionCase.bucket)
        ).all()
    )
    return [
        {
            "bucket": b,
            "recovered": format_yuan(int(paid.get(b) or 0)),
            "overdue_at_entry": format_yuan(int(entry.get(b) or 0)),
            "recovery_rate": _rate(int(paid.get(b) or 0), int(entry.get(b) or 0)),
        }
        for b in sorted(entry)
    ]


def _roll_forward(session: Session, date_from: date, date_to: date) -> list[dict[str, Any]]:
    queued = aliased(Assignment)
    later = aliased(Assignment)
    here = aliased(CollectionQueue)
    there = aliased(CollectionQueue)
    entered = _grouped(
        session,
        select(here.code, func.count(func.distinct(queued.case_id)))
        .join(here, here.id == queued.queue_id)
        .where(queued.business_date >= date_from, queued.business_date <= date_to)
        .group_by(here.code),
    )
    rolled = _grouped(
        session,
        select(here.code, func.count(func.distinct(queued.case_id)))
        .join(here, here.id == queued.queue_id)
        .join(later, and_(later.case_id == queued.case_id, later.id > queued.id))
        .join(there, there.id == later.queue_id)
        .where(
            queued.business_date >= date_from,
            queued.business_date <= date_to,
            there.dpd_min > here.dpd_min,
        )
        .group_by(here.code),
    )
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for code, (n,) in entered.items():
        rows[code][0] = n
    for code, (n,) in rolled.items():
        rows[code][1] = n
    return [
        {"queue": code, "cases": n, "rolled": r, "rate": _rate(r, n)}
        for code, (n, r) in sorted(rows.items())
    ]


__all__ = ["LEVELS", "credited", "kpis"]
