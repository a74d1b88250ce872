"""The collector's data scope on the admin routes that show loans, borrowers and money
movements (SPEC §11): a collector sees only the loans and debtors of the cases assigned to
it, an agency's user only those of its agency's placements (`collections.scope`). Lists add
`loan_scope` / `borrower_scope` to their WHERE (exports with them: they share the select);
details call `require_loan` / `require_borrower`, and another's record is a 404 like one
that does not exist. Every other role sees every case, so these add nothing for it (an
agent's channel is `admin_rows.channel_filter`'s business)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from xindai.api.admin_rows import not_found
from xindai.api.deps import Staff
from xindai.collections.scope import CaseScope, scope_for


def case_scope_of(staff: Staff) -> CaseScope:
    """The staff member's case scope (`Staff.agency_id` was read with its session)."""
    return scope_for(staff, staff.agency_id, staff.username)


def loan_scope(staff: Staff, loan_id: Any) -> list[ColumnElement[bool]]:
    """WHERE conditions limiting `loan_id` (a column) to the loans of the caller's cases."""
    scope = case_scope_of(staff)
    return [] if scope.everything else [scope.loan_condition(loan_id)]


def borrower_scope(staff: Staff, borrower_id: Any) -> list[ColumnElement[bool]]:
    """WHERE conditions limiting `borrower_id` (a column) to the debtors of its cases."""
    scope = case_scope_of(staff)
    return [] if scope.everything else [scope.borrower_condition(borrower_id)]


def require_loan(
    session: Session, staff: Staff, loan_id: int | None, what_en: str, what_zh: str
) -> None:
    """A 404 when loan `loan_id` is not one of the caller's cases' (None: no loan at all)."""
    scope = case_scope_of(staff)
    if scope.everything:
        return
    if loan_id is None or not scope.covers_loan(session, loan_id):
        raise not_found(what_en, what_zh)


def require_borrower(
    session: Session, staff: Staff, borrower_id: int, what_en: str, what_zh: str
) -> None:
    """A 404 when borrower `borrower_id` is not the debtor of one of the caller's cases."""
    scope = case_scope_of(staff)
    if not scope.everything and not scope.covers_borrower(session, borrower_id):
        raise not_found(what_en, what_zh)


__all__ = ["borrower_scope", "case_scope_of", "loan_scope", "require_borrower", "require_loan"]
