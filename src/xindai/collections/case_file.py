"""A case in full for the workbench (`Workbench.detail`), each table read once: the case
with its loan, debtor, product, region and names; the business date with the settings;
the installments; the contacts; the debtor's contact log (the case's history, the ranking's
calls and today's connected count); payments, promises, assignments, placements, offers.
Ten statements, whatever the case holds (two more when the debtor's log is longer than
`LOG_LIMIT`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from xindai.collections.config import DeskSettings, load_desk_settings
from xindai.collections.guardrails import DebtorClock, clock_in, connected_today, region_of
from xindai.collections.scope import CaseScope
from xindai.collections.skiptrace import HISTORY_LIMIT as CALLS_LIMIT
from xindai.collections.skiptrace import CallRow
from xindai.collections.views import Names
from xindai.store.models import (
    ApprovalRequest,
    Borrower,
    InstallmentRecord,
    Loan,
    LoanTransaction,
    ProductRecord,
)
from xindai.store.models_collections import (
    Agency,
    Assignment,
    CollectionCase,
    CollectionQueue,
    ContactAction,
    Placement,
    Promise,
)
from xindai.store.models_origination import Contact, StaffUser
from xindai.store.repository import NotFound

HISTORY_LIMIT, PAYMENTS_LIMIT, OFFERS_LIMIT = 200, 100, 50
LOG_LIMIT = CALLS_LIMIT  # the debtor's log read at once; a longer one is read as before
PAYMENT_KINDS = ("repayment", "early_settlement", "waiver")


@dataclass(frozen=True, slots=True)
class CaseFile:
    """What the case detail shows, as read (names gathered in `names`)."""

    case: CollectionCase
    loan: Loan
    borrower: Borrower | None
    product: ProductRecord | None
    settings: DeskSettings
    clock: DebtorClock
    names: Names
    installments: Sequence[InstallmentRecord]
    contacts: Sequence[Contact]
    history: Sequence[ContactAction]
    calls: Sequence[CallRow]
    connected_today: int
    payments: Sequence[LoanTransaction]
    promises: Sequence[Promise]
    assignments: Sequence[Assignment]
    placements: Sequence[Placement]
    offers: Sequence[ApprovalRequest]


def read_case_file(
    session: Session, scope: CaseScope, case_id: int, lender_now: datetime
) -> CaseFile:
    """The case file of `case_id` when `scope` covers it, else `NotFound` (404)."""
    names = Names()
    case, loan, borrower, product, region = _case(session, scope, case_id, names)
    settings = load_desk_settings(session)
    clock = clock_in(region, lender_now, settings.guardrails)
    history, calls, connected = _log(session, case, clock.day, names)
    return CaseFile(
        case,
        loan,
        borrower,
        product,
        settings,
        clock,
        names,
        _installments(session, loan.id),
        session.scalars(
            select(Contact).where(Contact.borrower_id == case.borrower_id).order_by(Contact.seq)
        ).all(),
        history,
        calls,
        connected,
        _payments(session, loan.id),
        _promises(session, case.id, names),
        _assignments(session, case.id, names),
        _placements(session, case.id, names),
        session.scalars(
            select(ApprovalRequest)
            .where(ApprovalRequest.loan_id == loan.id)
            .order_by(ApprovalRequest.id.desc())
            .limit(OFFERS_LIMIT)
        ).all(),
    )


def _case(
    session: Session, scope: CaseScope, case_id: int, names: Names
) -> tuple[CollectionCase, Loan, Borrower | None, ProductRecord | None, str | None]:
    """The case with its loan, debtor, product, the application's region and the names of
    its queue, collector and agency (outer joins: any may be missing)."""
    row = session.execute(
        select(
            CollectionCase,
            Loan,
            Borrower,
            ProductRecord,
            region_of(Loan.id).scalar_subquery(),
            CollectionQueue.code,
            StaffUser.username,
            Agency.name,
        )
        .join(Loan, Loan.id == CollectionCase.loan_id)
        .outerjoin(Borrower, Borrower.id == CollectionCase.borrower_id)
        .outerjoin(
            ProductRecord,
            and_(
                ProductRecord.code == Loan.product_code,
                ProductRecord.version == Loan.product_version,
            ),
        )
        .outerjoin(CollectionQueue, CollectionQueue.id == CollectionCase.queue_id)
        .outerjoin(StaffUser, StaffUser.id == CollectionCase.assignee_id)
        .outerjoin(Agency, Agency.id == CollectionCase.agency_id)
        .where(CollectionCase.id == case_id)
    ).one_or_none()
    if row is None or not scope.covers(row[0]):
        raise NotFound(f"collection case {case_id} not found", f"催收案件 {case_id} 不存在")
    case, loan, borrower, product, region, queue, assignee, agency = row
    names.add(names.queues, case.queue_id, queue)
    names.add(names.staff, case.assignee_id, assignee)
    names.add(names.agencies, case.agency_id, agency)
    return case, loan, borrower, product, region


def _installments(session: Session, loan_id: int) -> Sequence[InstallmentRecord]:
    return session.scalars(
        select(InstallmentRecord)
        .where(InstallmentRecord.loan_id == loan_id)
        .order_by(InstallmentRecord.number)
    ).all()


def _named(session: Session, statement: Any, table: dict[int, str], key: str) -> list[Any]:
    """The rows of `statement` (an entity beside one name), the names recorded in `table`
    under the entity's `key` attribute."""
    rows = session.execute(statement).all()
    for row, name in rows:
        Names.add(table, getattr(row, key), name)
    return [row for row, _name in rows]


def _actions(session: Session, *where: Any, limit: int, names: Names) -> list[ContactAction]:
    """Actions newest first, with their agencies' names."""
    return _named(
        session,
        select(ContactAction, Agency.name)
        .outerjoin(Agency, Agency.id == ContactAction.agency_id)
        .where(*where)
        .order_by(ContactAction.id.desc())
        .limit(limit),
        names.agencies,
        "agency_id",
    )


def _log(
    session: Session, case: CollectionCase, day: date, names: Names
) -> tuple[list[ContactAction], list[CallRow], int]:
    """The case's history (newest `HISTORY_LIMIT`), the debtor's calls for the ranking
    (newest `CALLS_LIMIT`) and today's connected calls, from the debtor's whole log when it
    is shorter than `LOG_LIMIT` (a case's actions are its debtor's), else each as asked."""
    log = _actions(
        session, ContactAction.borrower_id == case.borrower_id, limit=LOG_LIMIT, names=names
    )
    if len(log) < LOG_LIMIT:
        history = [a for a in log if a.case_id == case.id][:HISTORY_LIMIT]
        calls = [a for a in log if a.kind == "call"]
        connected = sum(a.local_day == day and a.connection == "connected" for a in calls)
    else:
        history = _actions(
            session, ContactAction.case_id == case.id, limit=HISTORY_LIMIT, names=names
        )
        calls = _actions(
            session,
            ContactAction.borrower_id == case.borrower_id,
            ContactAction.kind == "call",
            limit=CALLS_LIMIT,
            names=names,
        )
        connected = connected_today(session, case.borrower_id, day)
    ranked = [(a.phone_hash, a.connection, a.party, a.result, a.local_day) for a in calls]
    return history, ranked, connected


def _payments(session: Session, loan_id: int) -> Sequence[LoanTransaction]:
    return session.scalars(
        select(LoanTransaction)
        .where(LoanTransaction.loan_id == loan_id, LoanTransaction.kind.in_(PAYMENT_KINDS))
        .order_by(LoanTransaction.seq.desc())
        .limit(PAYMENTS_LIMIT)
    ).all()


def _promises(session: Session, case_id: int, names: Names) -> list[Promise]:
    return _named(
        session,
        select(Promise, StaffUser.username)
        .outerjoin(StaffUser, StaffUser.id == Promise.actor_id)
        .where(Promise.case_id == case_id)
        .order_by(Promise.id.desc()),
        names.staff,
        "actor_id",
    )


def _assignments(session: Session, case_id: int, names: Names) -> list[Assignment]:
    from_staff, to_staff = aliased(StaffUser), aliased(StaffUser)
    from_agency, to_agency = aliased(Agency), aliased(Agency)
    rows = session.execute(
        select(
            Assignment,
            from_staff.username,
            to_staff.username,
            from_agency.name,
            to_agency.name,
            CollectionQueue.code,
        )
        .outerjoin(from_staff, from_staff.id == Assignment.from_staff)
        .outerjoin(to_staff, to_staff.id == Assignment.to_staff)
        .outerjoin(from_agency, from_agency.id == Assignment.from_agency)
        .outerjoin(to_agency, to_agency.id == Assignment.to_agency)
        .outerjoin(CollectionQueue, CollectionQueue.id == Assignment.queue_id)
        .where(Assignment.case_id == case_id)
        .order_by(Assignment.id.desc())
    ).all()
    for r, staff_from, staff_to, agency_from, agency_to, queue in rows:
        names.add(names.staff, r.from_staff, staff_from)
        names.add(names.staff, r.to_staff, staff_to)
        names.add(names.agencies, r.from_agency, agency_from)
        names.add(names.agencies, r.to_agency, agency_to)
        names.add(names.queues, r.queue_id, queue)
    return [row[0] for row in rows]


def _placements(session: Session, case_id: int, names: Names) -> list[Placement]:
    return _named(
        session,
        select(Placement, Agency.name)
        .outerjoin(Agency, Agency.id == Placement.agency_id)
        .where(Placement.case_id == case_id)
        .order_by(Placement.id.desc()),
        names.agencies,
        "agency_id",
    )


__all__ = ["CaseFile", "read_case_file"]
