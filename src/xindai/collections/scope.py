"""Who sees which collection cases (SPEC §11): an in-house collector the cases assigned to
it, a collector who is an agency's user (委外, `collection_agency_users`) the cases placed
with its agency, everyone else holding `collections.read` every case. A case outside the
scope is not found (its existence is not revealed). The same scope limits the loans,
borrowers and repayments such a staff member sees anywhere (`loan_condition`,
`borrower_condition`, `covers_loan`, `covers_borrower`): those of its cases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists, false, select, true
from sqlalchemy.orm import Session

from xindai.security.rbac import StaffScope, assigned_collector
from xindai.store.models_collections import AgencyUser, CollectionCase
from xindai.store.repository import NotFound


@dataclass(frozen=True, slots=True)
class CaseScope:
    """The cases a staff member sees: `staff_id` (assigned to), `agency_id` (placed with),
    or every case when both are None."""

    staff_id: int | None
    agency_id: int | None
    actor_id: int
    actor: str

    @property
    def everything(self) -> bool:
        return self.staff_id is None and self.agency_id is None

    def condition(self) -> ColumnElement[bool]:
        """The WHERE condition on `CollectionCase` for this scope."""
        if self.agency_id is not None:
            found: ColumnElement[bool] = CollectionCase.agency_id == self.agency_id
            return found
        if self.staff_id is not None:
            mine: ColumnElement[bool] = CollectionCase.assignee_id == self.staff_id
            return mine
        return true()

    def covers(self, case: CollectionCase) -> bool:
        if self.agency_id is not None:
            return case.agency_id == self.agency_id
        if self.staff_id is not None:
            return case.assignee_id == self.staff_id
        return True

    # ------------------------------------------------------------ loans and borrowers

    def loan_condition(self, loan_id: Any) -> ColumnElement[bool]:
        """A WHERE condition limiting `loan_id` (e.g. `Loan.id`, `LoanTransaction.loan_id`)
        to the loans of the cases in scope (through the assignee's or agency's case index)."""
        if self.everything:
            return true()
        found: ColumnElement[bool] = loan_id.in_(
            select(CollectionCase.loan_id).where(self.condition())
        )
        return found

    def borrower_condition(self, borrower_id: Any) -> ColumnElement[bool]:
        """A WHERE condition limiting `borrower_id` to the debtors of the cases in scope."""
        if self.everything:
            return true()
        found: ColumnElement[bool] = borrower_id.in_(
            select(CollectionCase.borrower_id).where(self.condition())
        )
        return found

    def covers_loan(self, session: Session, loan_id: int) -> bool:
        return self.everything or bool(
            session.scalar(
                select(exists().where(CollectionCase.loan_id == loan_id, self.condition()))
            )
        )

    def covers_borrower(self, session: Session, borrower_id: int) -> bool:
        return self.everything or bool(
            session.scalar(
                select(exists().where(CollectionCase.borrower_id == borrower_id, self.condition()))
            )
        )


def scope_for(staff: StaffScope, agency_id: int | None, username: str) -> CaseScope:
    """The case scope of `staff`, an agency's user when `agency_id` is its agency."""
    if agency_id is not None:
        return CaseScope(None, agency_id, staff.id, username)
    return CaseScope(assigned_collector(staff), None, staff.id, username)


def scope_of(session: Session, staff: StaffScope, username: str) -> CaseScope:
    """The case scope of `staff` (an agency's user first: its agency; then the role's)."""
    agency = session.scalar(select(AgencyUser.agency_id).where(AgencyUser.staff_id == staff.id))
    return scope_for(staff, None if agency is None else int(agency), username)


def visible_case(session: Session, scope: CaseScope, case_id: int) -> CollectionCase:
    """The case when `scope` covers it, else `NotFound` (404)."""
    case = session.get(CollectionCase, case_id)
    if case is None or not scope.covers(case):
        raise NotFound(f"collection case {case_id} not found", f"催收案件 {case_id} 不存在")
    return case


NOTHING = false()

__all__ = ["CaseScope", "scope_for", "scope_of", "visible_case"]
