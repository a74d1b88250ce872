"""How collection records are shown (docs/collections-api.md): money as yuan strings,
numbers masked, names of staff and agencies instead of ids."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xindai.money import format_percent, format_yuan
from xindai.store.models import Borrower, Loan
from xindai.store.models_collections import (
    Agency,
    Assignment,
    CollectionCase,
    CollectionQueue,
    ContactAction,
    Placement,
    Promise,
)
from xindai.store.models_origination import StaffUser


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def staff_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(StaffUser.id, StaffUser.username).where(StaffUser.id.in_(wanted)))
    return {int(i): str(u) for i, u in rows}


def agency_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(wanted)))
    return {int(i): str(n) for i, n in rows}


def promise_view(promise: Promise, actors: dict[int, str] | None = None) -> dict[str, Any]:
    return {
        "id": promise.id,
        "case_id": promise.case_id,
        "amount": format_yuan(promise.amount_fen),
        "promised_on": promise.promised_on.isoformat(),
        "made_on": promise.made_on.isoformat(),
        "status": promise.status,
        "paid": format_yuan(promise.paid_fen),
        "judged_on": _iso(promise.judged_on),
        "actor": (actors or {}).get(promise.actor_id),
    }


@dataclass
class Names:
    """Names shown instead of ids: staff usernames, agency names, queue codes."""

    staff: dict[int, str] = field(default_factory=dict)
    agencies: dict[int, str] = field(default_factory=dict)
    queues: dict[int, str] = field(default_factory=dict)

    @staticmethod
    def add(table: dict[int, str], key: int | None, name: str | None) -> None:
        """Record a name read beside a row (an outer join: None when not found)."""
        if key is not None and name is not None:
            table[key] = name


def case_rows(session: Session, cases: Sequence[CollectionCase]) -> list[dict[str, Any]]:
    """CaseRows of `cases` (in their order), with four batched look-ups."""
    if not cases:
        return []
    loan_ids = [c.loan_id for c in cases]
    loans = {loan.id: loan for loan in session.scalars(select(Loan).where(Loan.id.in_(loan_ids)))}
    people = dict(
        session.execute(
            select(Borrower.id, Borrower.display_name).where(
                Borrower.id.in_({c.borrower_id for c in cases})
            )
        ).all()
    )
    names = Names(
        staff_names(session, (c.assignee_id for c in cases)),
        agency_names(session, (c.agency_id for c in cases)),
        dict(session.execute(select(CollectionQueue.id, CollectionQueue.code)).all()),
    )
    pending = {
        p.case_id: p
        for p in session.scalars(
            select(Promise).where(
                Promise.case_id.in_([c.id for c in cases]), Promise.status == "pending"
            )
        )
    }
    return [
        case_row(c, loans.get(c.loan_id), people.get(c.borrower_id), names, pending.get(c.id))
        for c in cases
    ]


def case_row(
    c: CollectionCase,
    loan: Loan | None,
    borrower_name: str | None,
    names: Names,
    promise: Promise | None,
) -> dict[str, Any]:
    """One CaseRow: the case with its loan, debtor's name and pending promise."""
    outstanding = (
        0
        if loan is None
        else loan.principal_outstanding_fen
        + loan.interest_outstanding_fen
        + loan.fee_outstanding_fen
        + loan.penalty_outstanding_fen
    )
    return {
        "id": c.id,
        "loan_id": c.loan_id,
        "borrower_id": c.borrower_id,
        "borrower_name": borrower_name,
        "status": c.status,
        "close_reason": c.close_reason,
        "opened_on": c.opened_on.isoformat(),
        "closed_on": _iso(c.closed_on),
        "dpd": c.dpd,
        "bucket": c.bucket,
        "overdue": format_yuan(c.overdue_fen),
        "outstanding": format_yuan(outstanding),
        "priority": c.priority,
        "queue": names.queues.get(c.queue_id) if c.queue_id is not None else None,
        "assignee_id": c.assignee_id,
        "assignee": names.staff.get(c.assignee_id) if c.assignee_id is not None else None,
        "agency_id": c.agency_id,
        "agency": names.agencies.get(c.agency_id) if c.agency_id is not None else None,
        "held_until": _iso(c.held_until),
        "quadrant": c.quadrant,
        "test_cell": c.test_cell,
        "legal": c.legal,
        "pre_due": c.pre_due,
        "warning_priority": c.warning_priority,
        "promise": None if promise is None else _made(promise),
        "last_contact_at": _iso(c.last_contact_at),
        "product_code": loan.product_code if loan is not None else None,
    }


def action_views(session: Session, actions: Sequence[ContactAction]) -> list[dict[str, Any]]:
    """Actions as shown, each with the promise it made (a call with the result 承诺还款, a
    promise recorded alone: `{"amount", "promised_on", "status"}`) or None."""
    agencies = agency_names(session, (a.agency_id for a in actions))
    made = (
        {  # through the cases' promise index: the actions are a case's history
            p.action_id: p
            for p in session.scalars(
                select(Promise).where(
                    Promise.case_id.in_({a.case_id for a in actions}),
                    Promise.action_id.is_not(None),
                )
            )
            if p.action_id is not None
        }
        if actions
        else {}
    )
    return action_rows(actions, agencies, made)


def action_rows(
    actions: Sequence[ContactAction], agencies: dict[int, str], made: Mapping[int, Promise]
) -> list[dict[str, Any]]:
    """Actions as shown, given their agencies' names and the promises they made (by id)."""
    views = []
    for a in actions:
        details = json.loads(a.details) if a.details else {}
        views.append(
            {
                "id": a.id,
                "case_id": a.case_id,
                "kind": a.kind,
                "at": a.at.isoformat(),
                "actor": a.actor,
                "agency": agencies.get(a.agency_id) if a.agency_id is not None else None,
                "contact_ref": a.contact_ref,
                "masked": a.phone_masked,
                "connection": a.connection,
                "party": a.party,
                "result": a.result,
                "note": a.note,
                "recording_ref": a.recording_ref,
                "template_code": a.template_code,
                "sms_status": a.sms_status,
                "document_id": a.document_id,
                "companions": details.pop("companions", []),
                "details": details,
                "promise": None if a.id not in made else _made(made[a.id]),
            }
        )
    return views


def _made(promise: Promise) -> dict[str, Any]:
    return {
        "amount": format_yuan(promise.amount_fen),
        "promised_on": promise.promised_on.isoformat(),
        "status": promise.status,
    }


def assignment_views(session: Session, rows: Sequence[Assignment]) -> list[dict[str, Any]]:
    staff = staff_names(session, [r.from_staff for r in rows] + [r.to_staff for r in rows])
    agencies = agency_names(session, [r.from_agency for r in rows] + [r.to_agency for r in rows])
    queues = dict(session.execute(select(CollectionQueue.id, CollectionQueue.code)).all())
    return assignment_rows(rows, Names(staff, agencies, queues))


def assignment_rows(rows: Sequence[Assignment], names: Names) -> list[dict[str, Any]]:
    """The assignment log as shown, with `names` of its staff, agencies and queues."""
    staff, agencies, queues = names.staff, names.agencies, names.queues

    def name(table: dict[int, str], key: int | None) -> str | None:
        return None if key is None else table.get(key, str(key))

    return [
        {
            "id": r.id,
            "case_id": r.case_id,
            "at": r.at.isoformat(),
            "business_date": r.business_date.isoformat(),
            "reason": r.reason,
            "queue": queues.get(r.queue_id) if r.queue_id is not None else None,
            "from_staff": name(staff, r.from_staff),
            "to_staff": name(staff, r.to_staff),
            "from_agency": name(agencies, r.from_agency),
            "to_agency": name(agencies, r.to_agency),
            "actor": r.actor,
        }
        for r in rows
    ]


def placement_views(session: Session, rows: Sequence[Placement]) -> list[dict[str, Any]]:
    return placement_rows(rows, agency_names(session, (r.agency_id for r in rows)))


def placement_rows(rows: Sequence[Placement], agencies: dict[int, str]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "agency_id": r.agency_id,
            "agency": agencies.get(r.agency_id),
            "case_id": r.case_id,
            "loan_id": r.loan_id,
            "placed_on": r.placed_on.isoformat(),
            "window_end": r.window_end.isoformat(),
            "status": r.status,
            "balance_at_placement": format_yuan(r.balance_at_placement_fen),
            "recovered": format_yuan(r.recovered_fen),
            "commission_rate": format_percent(Decimal(r.commission_rate)),
            "commission": format_yuan(r.commission_fen),
            "recalled_on": _iso(r.recalled_on),
        }
        for r in rows
    ]


__all__ = [
    "Names",
    "action_rows",
    "action_views",
    "agency_names",
    "assignment_rows",
    "assignment_views",
    "case_row",
    "case_rows",
    "placement_rows",
    "placement_views",
    "promise_view",
    "staff_names",
]
