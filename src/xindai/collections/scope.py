"""Who sees which collection cases (SPEC §11): an in-house collector the cases assigned to
it, a collector who is an agency's user (委外, `collection_agency_users`) the cases placed
with its agency, everyone else holding `collections.read` every case. A case outside the
scope is not found (its existence is not revealed)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, select, true
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


def scope_of(session: Session, staff: StaffScope, username: str) -> CaseScope:
    """The case scope of `staff` (an agency's user first: its agency; then the role's)."""
    agency = session.scalar(select(AgencyUser.agency_id).where(AgencyUser.staff_id == staff.id))
    if agency is not None:
        return CaseScope(None, int(agency), staff.id, username)
    return CaseScope(assigned_collector(staff), None, staff.id, username)


def visible_case(session: Session, scope: CaseScope, case_id: int) -> CollectionCase:
    """The case when `scope` covers it, else `NotFound` (404)."""
    case = session.get(CollectionCase, case_id)
    if case is None or not scope.covers(case):
        raise NotFound(f"collection case {case_id} not found", f"催收案件 {case_id} 不存在")
    return case


NOTHING = false()

__all__ = ["CaseScope", "scope_of", "visible_case"]
