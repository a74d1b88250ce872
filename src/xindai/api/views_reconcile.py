"""What the reconciliation routes answer: runs and breaks. Conventions as in `api.views`."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from xindai.api.views import AMOUNT_PATTERN, View, one_of, shown, yuan
from xindai.ledger.reconcile_runs import BREAK_KINDS, BREAK_STATUSES


class ReconciliationRun(View):
    id: int
    channel: str
    file_name: str
    file_sha256: str = shown("of the file as uploaded")
    first_day: str
    last_day: str
    statement_rows: int
    matched: int = shown("references whose amounts agree")
    matched_amount: str = yuan()
    breaks: int = shown("found by this run")
    open_breaks: int = shown("of them still open")
    uploaded_by: str
    uploaded_at: str


def _amount(description: str) -> Any:
    return Field(
        default=None, description=description, json_schema_extra={"pattern": AMOUNT_PATTERN}
    )


class ReconciliationBreak(View):
    id: int
    run_id: int
    day: str
    channel: str
    reference: str = shown("the channel's request reference (payout, collection, refund)")
    kind: str = one_of(BREAK_KINDS)
    statement_amount: str | None = _amount("signed: collections positive; none if absent")
    journal_amount: str | None = _amount("signed: collections positive; none if absent")
    difference: str = yuan("statement − journal")
    loan_id: int | None = shown("the loan behind the reference, when known")
    status: str = one_of(BREAK_STATUSES)
    resolved_by: str | None
    resolved_at: str | None
    resolution_note: str | None
