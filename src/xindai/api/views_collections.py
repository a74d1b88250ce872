"""What the collection routes answer (docs/collections-api.md): the case row of the lists
and of my queue, and an action as it was recorded."""

from __future__ import annotations

from typing import Any

from xindai.api.views import View


class CaseRow(View):
    id: int
    loan_id: int
    borrower_id: int
    borrower_name: str | None
    status: str
    close_reason: str | None
    opened_on: str
    closed_on: str | None
    dpd: int
    bucket: str
    overdue: str
    outstanding: str
    priority: int
    queue: str | None
    assignee_id: int | None
    assignee: str | None
    agency_id: int | None
    agency: str | None
    held_until: str | None
    quadrant: str | None
    test_cell: str
    legal: bool
    promise: dict[str, Any] | None
    last_contact_at: str | None
    product_code: str | None


class NextCase(View):
    case: CaseRow | None


class Action(View):
    id: int
    case_id: int
    kind: str
    at: str
    actor: str
    agency: str | None
    contact_ref: str | None
    masked: str | None
    connection: str | None
    party: str | None
    result: str | None
    note: str | None
    recording_ref: str | None
    template_code: str | None
    sms_status: str | None
    document_id: int | None
    companions: list[str]
    details: dict[str, Any]


class Assignment(View):
    id: int
    case_id: int
    at: str
    business_date: str
    reason: str
    queue: str | None
    from_staff: str | None
    to_staff: str | None
    from_agency: str | None
    to_agency: str | None
    actor: str


class Placement(View):
    id: int
    agency_id: int
    agency: str | None
    case_id: int
    loan_id: int
    placed_on: str
    window_end: str
    status: str
    balance_at_placement: str
    recovered: str
    commission_rate: str
    commission: str
    recalled_on: str | None


class ReminderRow(View):
    id: int
    loan_id: int
    installment: int
    offset_days: int
    business_date: str
    template_code: str
    status: str
    message_id: str | None
    sent_at: str | None
