"""Payouts that fail are retried or cancelled, never paid twice; a late, out-of-order
callback does not undo the first result; a single-payment loan is extended by the borrower."""

from __future__ import annotations

import json
import time

import pytest

from xindai.integrations.signing import signed_headers
from xindai.origination.cards import valid_sample_card

from .conftest import SECRET, Stack
from .people import apply_body, clean_id
from .test_bad_inputs import _postings, error
from .test_journey import ok, onboard, staff_token

pytestmark = pytest.mark.e2e


def approved(stack: Stack, auth: dict, card_id: int, product: str, amount: str, term: int) -> int:
    """An application the decision engine approves (a creditworthy applicant)."""
    created = ok(
        stack.api.post(
            "/api/v1/borrower/applications",
            headers=auth,
            json=apply_body(product, amount, term, card_id, device=f"dev-card-{card_id}"),
        ),
        201,
    )
    assert created["status"] == "approved", created
    return int(created["id"])


def status_of(stack: Stack, auth: dict, application_id: int, wanted: str):
    def check():
        view = ok(stack.api.get(f"/api/v1/borrower/applications/{application_id}", headers=auth))
        return view if view["status"] == wanted else None

    return stack.wait_for(check, what=wanted)


def test_failed_payout_is_retried_once_and_paid_once(stack: Stack) -> None:
    id_number = clean_id(61)
    auth, card_id = onboard(stack, "13500000001", id_number, valid_sample_card("PSBC", 7))
    application_id = approved(stack, auth, card_id, "INST12", "2000", 3)
    stack.sim.control.fail_next("payout")
    ok(stack.api.post(f"/api/v1/borrower/applications/{application_id}/sign", headers=auth))
    failed = status_of(stack, auth, application_id, "payout_failed")
    admin = staff_token(stack, "finance")
    retried = ok(
        stack.api.post(f"/api/v1/admin/applications/{application_id}/payout/retry", headers=admin)
    )
    assert retried["attempt"] == 2 and retried["request_ref"].startswith("PO")
    second_ref = retried["request_ref"]
    view = status_of(stack, auth, application_id, "disbursed")
    assert view["loan_id"] == failed["loan_id"]
    assert _postings(stack, view["loan_id"], "disbursement") == 1
    error(
        stack.api.post(f"/api/v1/admin/applications/{application_id}/payout/retry", headers=admin),
        409,
        "PAYOUT_NOT_FAILED",
    )
    # a late "failed" for the first success of attempt 2, out of order: ignored
    body = json.dumps(
        {
            "event_id": "late-fail-1",
            "event": "payout.failed",
            "request_ref": second_ref,
            "amount_fen": 200_000,
            "occurred_at": "2026-11-28T00:00:00+00:00",
            "reason": "late",
        }
    ).encode()
    answer = ok(
        stack.api.post(
            "/api/v1/callbacks/payment",
            content=body,
            headers={
                **signed_headers(SECRET, body, now=time.time()),
                "content-type": "application/json",
            },
        )
    )
    assert answer["outcome"] == "ignored_succeeded"
    loan = ok(stack.api.get(f"/api/v1/borrower/loans/{view['loan_id']}", headers=auth))
    assert loan["status"] == "active"


def test_failed_payout_cancelled_cancels_the_loan(stack: Stack) -> None:
    id_number = clean_id(62)
    auth, card_id = onboard(stack, "13500000002", id_number, valid_sample_card("CCB", 8))
    application_id = approved(stack, auth, card_id, "INST12", "1000", 3)
    stack.sim.control.fail_next("payout")
    ok(stack.api.post(f"/api/v1/borrower/applications/{application_id}/sign", headers=auth))
    failed = status_of(stack, auth, application_id, "payout_failed")
    cancelled = ok(
        stack.api.post(
            f"/api/v1/admin/applications/{application_id}/payout/cancel",
            headers=staff_token(stack, "finance"),
        )
    )
    assert cancelled["status"] == "cancelled"
    loan = ok(stack.api.get(f"/api/v1/borrower/loans/{failed['loan_id']}", headers=auth))
    assert loan["status"] == "cancelled"
    assert _postings(stack, failed["loan_id"], "disbursement") == 0


def test_borrower_extends_a_single_payment_loan(stack: Stack) -> None:
    id_number = clean_id(63)
    auth, card_id = onboard(stack, "13500000003", id_number, valid_sample_card("BOC", 9))
    application_id = approved(stack, auth, card_id, "CASH14", "1000", 14)
    ok(stack.api.post(f"/api/v1/borrower/applications/{application_id}/sign", headers=auth))
    loan_id = status_of(stack, auth, application_id, "disbursed")["loan_id"]
    before = ok(stack.api.get(f"/api/v1/borrower/loans/{loan_id}", headers=auth))
    requested = ok(
        stack.api.post(
            f"/api/v1/borrower/loans/{loan_id}/repayments", headers=auth, json={"mode": "extension"}
        ),
        202,
    )
    assert requested["purpose"] == "extension"

    def extended():
        loan = ok(stack.api.get(f"/api/v1/borrower/loans/{loan_id}", headers=auth))
        return loan if loan["next_due_date"] != before["next_due_date"] else None

    after = stack.wait_for(extended, what="the extension")
    assert (after["status"], _postings(stack, loan_id, "extension")) == ("active", 1)
