"""Money at the edge with the channel, as an attacker and an unlucky borrower meet it over
HTTP (issue: money safety): a forged success, a race of repayments, an extension racing a
payoff, a partial collection, a payout during an outage, huge amounts. After each test the
channel's statements reconcile with the journal (conftest)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from xindai.integrations.signing import signed_headers
from xindai.money import format_yuan, parse_yuan
from xindai.origination.cards import valid_sample_card

from .conftest import SECRET, Stack
from .people import clean_id
from .test_bad_inputs import _postings, error
from .test_journey import ok, onboard, staff_token
from .test_payouts import approved, status_of

pytestmark = pytest.mark.e2e


def _loan(stack: Stack, n: int, product: str = "INST12", amount: str = "2000", term: int = 3):
    auth, card_id = onboard(
        stack, f"1340000{n:04d}", clean_id(80 + n), valid_sample_card("ICBC", 20 + n)
    )
    application_id = approved(stack, auth, card_id, product, amount, term)
    ok(stack.api.post(f"/api/v1/borrower/applications/{application_id}/sign", headers=auth))
    loan_id = status_of(stack, auth, application_id, "disbursed")["loan_id"]
    return auth, loan_id


def _repay(stack: Stack, auth: dict, loan_id: int, **body) -> httpx.Response:
    return stack.api.post(f"/api/v1/borrower/loans/{loan_id}/repayments", headers=auth, json=body)


def _callback(stack: Stack, event: dict) -> httpx.Response:
    body = json.dumps(event).encode()
    headers = {**signed_headers(SECRET, body, now=time.time()), "content-type": "application/json"}
    return stack.api.post("/api/v1/callbacks/payment", content=body, headers=headers)


def _settled(stack: Stack, ref: str) -> None:
    def done():
        return [e for e in stack.sim.control.events(request_ref=ref)]

    stack.wait_for(done, what=f"the channel's result for {ref}")
    time.sleep(0.5)  # its callback on the way


def test_a_forged_success_settles_nothing(stack: Stack) -> None:
    """The borrower knows the request_ref and the provider secret and signs a success while
    the channel's real result is a failure: nothing is posted, the loan stays open."""
    auth, loan_id = _loan(stack, 1)
    stack.sim.control.payment_control(callback_delay_ms=1500)
    try:
        stack.sim.control.fail_next("withhold")
        requested = ok(_repay(stack, auth, loan_id, mode="payoff"), 202)
        forged = {
            "event_id": "forged-payoff-1",
            "event": "withhold.succeeded",
            "request_ref": requested["request_ref"],
            "amount_fen": parse_yuan(requested["amount"]),
            "occurred_at": "2026-12-01T10:00:00+08:00",
        }
        # the channel has no result yet: the callback is not believed
        error(_callback(stack, forged), 503, "CALLBACK_UNCONFIRMED")
        _settled(stack, requested["request_ref"])
        forged["event_id"] = "forged-payoff-2"
        answer = ok(_callback(stack, forged))
        assert answer["outcome"] in ("ignored_failed", "withhold_failed_callback_contradicted")
    finally:
        stack.sim.control.payment_control(callback_delay_ms=100)
    loan = ok(stack.api.get(f"/api/v1/borrower/loans/{loan_id}", headers=auth))
    assert loan["status"] == "active"
    assert _postings(stack, loan_id, "repayment") == 0
    # a reference the channel never issued is refused too
    forged["event_id"], forged["request_ref"] = "forged-3", "WH" + "0" * 24
    assert ok(_callback(stack, forged))["outcome"] == "not_confirmed_by_channel"


def test_no_more_is_asked_than_is_owed(stack: Stack) -> None:
    auth, loan_id = _loan(stack, 2)
    loan = ok(stack.api.get(f"/api/v1/borrower/loans/{loan_id}", headers=auth))
    payoff = parse_yuan(loan["payoff"])
    error(
        _repay(stack, auth, loan_id, mode="amount", amount="9999999"),
        400,
        "REPAYMENT_EXCEEDS_OWED",
    )
    huge = _repay(stack, auth, loan_id, mode="amount", amount="99999999999999999999")
    assert 400 <= huge.status_code < 500 and huge.json()["code"], huge.text
    stack.sim.control.payment_control(callback_delay_ms=3000)
    try:
        half = format_yuan(payoff // 2)
        with ThreadPoolExecutor(20) as pool:
            answers = list(
                pool.map(
                    lambda _: _repay(stack, auth, loan_id, mode="amount", amount=half), range(20)
                )
            )
        accepted = [a for a in answers if a.status_code == 202]
        refused = [a for a in answers if a.status_code != 202]
        assert len(accepted) == 2, [a.text for a in answers]
        assert {a.json()["code"] for a in refused} <= {
            "REPAYMENT_EXCEEDS_OWED",
            "LOAN_COLLECTION_IN_FLIGHT",
        }
        # what is left in flight caps a payoff and the current due too
        rest = _repay(stack, auth, loan_id, mode="payoff")
        if payoff % 2:
            assert ok(rest, 202)["amount"] == format_yuan(payoff - 2 * (payoff // 2))
        else:
            error(rest, 409, "LOAN_COLLECTION_IN_FLIGHT")
    finally:
        stack.sim.control.payment_control(callback_delay_ms=100)

    posted = 3 if payoff % 2 else 2
    stack.wait_for(lambda: _postings(stack, loan_id, "repayment") == posted, what="postings")


def test_extensions_in_flight_count_and_a_late_one_is_parked(stack: Stack) -> None:
    """Three concurrent extensions where the product allows two; then a payoff while they are
    in flight: everything confirmed is posted, nothing over the payoff is collected."""
    auth, loan_id = _loan(stack, 3, "CASH14", "1000", 14)
    stack.sim.control.payment_control(callback_delay_ms=2500)
    try:
        with ThreadPoolExecutor(3) as pool:
            answers = list(
                pool.map(lambda _: _repay(stack, auth, loan_id, mode="extension"), range(3))
            )
        codes = sorted(a.status_code for a in answers)
        assert codes[:2] == [202, 202] and codes[2] == 409, [a.text for a in answers]
        assert [a.json()["code"] for a in answers if a.status_code == 409] == ["EXTENSION_LIMIT"]
        payoff = _repay(stack, auth, loan_id, mode="payoff")
        assert payoff.status_code in (202, 409), payoff.text
    finally:
        stack.sim.control.payment_control(callback_delay_ms=100)
    time.sleep(4)
    loan = ok(stack.api.get(f"/api/v1/borrower/loans/{loan_id}", headers=auth))
    assert loan["status"] in ("active", "settled")


def test_the_amount_posted_is_what_the_channel_collected(stack: Stack) -> None:
    auth, loan_id = _loan(stack, 4)
    stack.sim.control.payment_control(partial={"*": 1})  # the card held 0.01
    requested = ok(_repay(stack, auth, loan_id, mode="amount", amount="100"), 202)
    _settled(stack, requested["request_ref"])
    stack.wait_for(lambda: _postings(stack, loan_id, "repayment") == 1, what="the posting")
    loan = ok(stack.api.get(f"/api/v1/borrower/loans/{loan_id}", headers=auth))
    assert parse_yuan(loan["installments"][0]["paid"]) == 1


def test_a_payout_during_an_outage_is_resolved(stack: Stack) -> None:
    auth, card_id = onboard(stack, "13400000005", clean_id(85), valid_sample_card("ABC", 25))
    application_id = approved(stack, auth, card_id, "INST12", "1500", 3)
    stack.sim.control.set_faults("pay", error_rate=1.0)
    try:
        signed = ok(
            stack.api.post(f"/api/v1/borrower/applications/{application_id}/sign", headers=auth)
        )
        assert signed["status"] == "disbursing"
    finally:
        stack.sim.control.set_faults("pay", error_rate=0.0)
    env = {
        **os.environ,
        "XINDAI_DATABASE_URL": stack.database_url,
        "XINDAI_PROVIDERS_URL": stack.sim.base_url,
        "XINDAI_PROVIDER_SECRET": SECRET,
        "XINDAI_PUBLIC_URL": stack.base_url,
        "COLUMNS": "200",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from xindai.cli import main; main()",
            "payments",
            "resolve",
            "--older-than-minutes",
            "0",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "payout:payout_failed" in result.stdout, result.stdout
    status_of(stack, auth, application_id, "payout_failed")
    finance = staff_token(stack, "finance")
    ok(stack.api.post(f"/api/v1/admin/applications/{application_id}/payout/retry", headers=finance))
    status_of(stack, auth, application_id, "disbursed")


def test_an_extension_fee_arriving_after_the_payoff_is_still_posted(stack: Stack) -> None:
    """The extension is asked first, the payoff (for what is left) second; the payoff's result
    arrives first. The extension fee no longer buys the extension it was quoted for: it is
    posted to the loan as a repayment, never lost and never booked at another price."""
    auth, loan_id = _loan(stack, 6, "CASH14", "1000", 14)
    stack.sim.control.payment_control(callback_delay_ms=3000)
    try:
        extension = ok(_repay(stack, auth, loan_id, mode="extension"), 202)
        stack.sim.control.payment_control(callback_delay_ms=100)
        payoff = ok(_repay(stack, auth, loan_id, mode="payoff"), 202)
    finally:
        stack.sim.control.payment_control(callback_delay_ms=100)
    stack.wait_for(lambda: _postings(stack, loan_id, "repayment") >= 1, what="the payoff")
    _settled(stack, extension["request_ref"])
    stack.wait_for(lambda: _postings(stack, loan_id, "repayment") == 2, what="the late fee")
    assert _postings(stack, loan_id, "extension") == 0
    # both amounts are on the loan (the reconciliation after the test checks every fen); a
    # payoff paid in two parts is allocated as two repayments, so a little interest is left
    loan = ok(stack.api.get(f"/api/v1/borrower/loans/{loan_id}", headers=auth))
    assert loan["status"] in ("active", "settled"), loan
    assert parse_yuan(loan["outstanding"]) < parse_yuan(extension["amount"]) + parse_yuan(
        payoff["amount"]
    )


def test_money_for_a_written_off_loan_is_parked_and_refunded(stack: Stack) -> None:
    """A collection in flight when the loan is written off (maker-checker): the confirmed
    money goes to the borrower's credit balance with a refund task, and finance sends it back
    through the channel; both movements reconcile."""
    from xindai.servicing.service import LoanService
    from xindai.servicing.transactions import TxnKind
    from xindai.store.db import make_engine, session_factory

    auth, loan_id = _loan(stack, 7)
    stack.sim.control.payment_control(callback_delay_ms=2500)
    try:
        requested = ok(_repay(stack, auth, loan_id, mode="amount", amount="100"), 202)
    finally:
        stack.sim.control.payment_control(callback_delay_ms=100)
    engine = make_engine(stack.database_url)
    try:
        service = LoanService(session_factory(engine))
        request_id = service.request_approval(
            TxnKind.WRITE_OFF, loan_id, {}, reason="fraud confirmed", requested_by="risk-a"
        )
        service.decide(request_id, approver="risk-b", approve=True)
    finally:
        engine.dispose()
    _settled(stack, requested["request_ref"])
    finance = staff_token(stack, "finance")

    def task():
        tasks = ok(stack.api.get("/api/v1/admin/refunds?status=open", headers=finance))
        return [t for t in tasks if t["loan_id"] == loan_id]

    (parked,) = stack.wait_for(task, what="the refund task")
    assert (parked["amount"], parked["reason"]) == ("100.00", "loan_closed")
    assert parked["source_ref"] == requested["request_ref"]
    # a borrower or a reviewer cannot send it
    error(
        stack.api.post(f"/api/v1/admin/refunds/{parked['id']}/send", headers=auth),
        401,
        "AUTH_REQUIRED",
    )
    error(
        stack.api.post(
            f"/api/v1/admin/refunds/{parked['id']}/send", headers=staff_token(stack, "reviewer")
        ),
        403,
        "PERMISSION_DENIED",
    )
    sent = ok(stack.api.post(f"/api/v1/admin/refunds/{parked['id']}/send", headers=finance))
    assert sent["status"] == "refunding" and sent["refund_ref"].startswith("RF")
    error(
        stack.api.post(f"/api/v1/admin/refunds/{parked['id']}/send", headers=finance),
        409,
        "PAYOUT_REFUND_NOT_OPEN",
    )

    def refunded():
        tasks = ok(stack.api.get("/api/v1/admin/refunds?status=refunded", headers=finance))
        return [t for t in tasks if t["id"] == parked["id"]]

    stack.wait_for(refunded, what="the refund's confirmation")
