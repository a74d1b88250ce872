"""Close of business step 4: automatic withholding on the due date through the payment
channel, credited when its signed callback arrives at the running server; a loan whose
account stays empty is asked every day at first, then only every few days."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta

import pytest

from xindai.origination.cards import valid_sample_card

from .conftest import SECRET, Stack
from .people import clean_id
from .test_journey import ok, onboard
from .test_payouts import approved, status_of

pytestmark = pytest.mark.e2e


def run_cob(stack: Stack, until: date, **settings: int) -> subprocess.CompletedProcess[str]:
    """`xindai cob run --until … --withholding` as its own process against the stack (with
    `settings` as XINDAI_* variables)."""
    env = {
        **os.environ,
        "XINDAI_DATABASE_URL": stack.database_url,
        "XINDAI_PROVIDERS_URL": stack.sim.base_url,
        "XINDAI_PROVIDER_SECRET": SECRET,
        "XINDAI_PUBLIC_URL": stack.base_url,
        "COLUMNS": "200",
        **{f"XINDAI_{name.upper()}": str(value) for name, value in settings.items()},
    }
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from xindai.cli import main; main()",
            "cob",
            "run",
            "--until",
            until.isoformat(),
            "--withholding",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_due_installment_is_withheld_at_close_of_business(stack: Stack) -> None:
    id_number = clean_id(51)
    auth, card_id = onboard(stack, "13600000001", id_number, valid_sample_card("ABC", 6))
    application_id = approved(stack, auth, card_id, "INST12", "1500", 3)
    ok(stack.api.post(f"/api/v1/borrower/applications/{application_id}/sign", headers=auth))
    view = status_of(stack, auth, application_id, "disbursed")
    loan = ok(stack.api.get(f"/api/v1/borrower/loans/{view['loan_id']}", headers=auth))
    first_due = date.fromisoformat(loan["installments"][0]["due_date"])
    result = run_cob(stack, first_due)
    assert result.returncode == 0, result.stdout + result.stderr

    def first_paid():
        current = ok(stack.api.get(f"/api/v1/borrower/loans/{view['loan_id']}", headers=auth))
        return current if current["installments"][0]["status"] == "paid" else None

    paid = stack.wait_for(first_paid, what="the withholding callback")
    assert paid["status"] == "active" and paid["dpd"] == 0
    assert paid["installments"][1]["status"] == "pending"


def test_withholding_request_is_committed_before_the_channel_is_asked(stack: Stack) -> None:
    """The channel down at close of business: the run fails, but the day's request is in the
    database (a callback would find it) and its partition is not done; once the channel is
    back the resumed run asks again with the same reference, which collects once."""
    from sqlalchemy import text

    from xindai.store.db import make_engine

    auth, card_id = onboard(stack, "13600000002", clean_id(52), valid_sample_card("ABC", 7))
    application_id = approved(stack, auth, card_id, "INST12", "1500", 3)
    ok(stack.api.post(f"/api/v1/borrower/applications/{application_id}/sign", headers=auth))
    loan_id = status_of(stack, auth, application_id, "disbursed")["loan_id"]
    loan = ok(stack.api.get(f"/api/v1/borrower/loans/{loan_id}", headers=auth))
    first_due = date.fromisoformat(loan["installments"][0]["due_date"])
    stack.sim.control.set_faults("pay", error_rate=1.0)
    try:
        failed = run_cob(stack, first_due)
    finally:
        stack.sim.control.set_faults("pay", error_rate=0.0)
    assert failed.returncode != 0, failed.stdout
    engine = make_engine(stack.database_url)
    try:
        with engine.connect() as connection:
            requested = connection.execute(
                text(
                    "SELECT request_ref, business_date FROM withholdings"
                    " WHERE origin = 'auto' AND status = 'requested'"
                )
            ).all()
            days = {str(day) for _, day in requested}
            steps = (
                connection.execute(
                    text(
                        "SELECT status FROM cob_step_runs"
                        " WHERE business_date = :d AND step LIKE 'withholding%'"
                    ),
                    {"d": min(days) if days else None},
                )
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    # the day that failed (an earlier loan may be due before this one) kept its requests
    assert requested and len(days) == 1, requested
    assert "running" in steps and all(status != "done" for status in steps)

    resumed = run_cob(stack, first_due)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr

    def first_paid():
        current = ok(stack.api.get(f"/api/v1/borrower/loans/{loan_id}", headers=auth))
        return current if current["installments"][0]["status"] == "paid" else None

    stack.wait_for(first_paid, what="the withholding callback")
    for ref, _ in requested:
        events = stack.sim.control.events(ref)
        assert [e["event"] for e in events] == ["withhold.succeeded"], events


def test_a_loan_long_past_due_is_withheld_only_every_few_days(stack: Stack) -> None:
    """The account is empty from the due date on: with `withhold_daily_until_dpd` 2 and
    `withhold_then_every_days` 3, close of business asks the channel on the due date and
    1 and 2 days past due, then 5 and 8 days past due, never in between; each request
    fails at the channel."""
    from sqlalchemy import text

    from xindai.store.db import make_engine

    card = valid_sample_card("ABC", 8)
    auth, card_id = onboard(stack, "13600000003", clean_id(53), card)
    application_id = approved(stack, auth, card_id, "INST12", "1500", 3)
    ok(stack.api.post(f"/api/v1/borrower/applications/{application_id}/sign", headers=auth))
    loan_id = status_of(stack, auth, application_id, "disbursed")["loan_id"]
    loan = ok(stack.api.get(f"/api/v1/borrower/loans/{loan_id}", headers=auth))
    first_due = date.fromisoformat(loan["installments"][0]["due_date"])
    stack.sim.control.payment_control(short_cards=[card])
    engine = make_engine(stack.database_url)

    def answered() -> list[tuple[str, str]] | None:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT business_date, status FROM withholdings"
                    " WHERE loan_id = :loan AND origin = 'auto' ORDER BY business_date"
                ),
                {"loan": loan_id},
            ).all()
        found = [(str(day), status) for day, status in rows]
        return found if all(status != "requested" for _, status in found) else None

    try:
        cadence = {"withhold_daily_until_dpd": 2, "withhold_then_every_days": 3}
        for days in range(10):  # a night at a time: each night's request answered first
            result = run_cob(stack, first_due + timedelta(days=days), **cadence)
            assert result.returncode == 0, result.stdout + result.stderr
            found = stack.wait_for(answered, what="the channel's answers")
        days_past_due = [(date.fromisoformat(day) - first_due).days for day, _ in found]
        assert days_past_due == [0, 1, 2, 5, 8], found
        assert {status for _, status in found} == {"failed"}
    finally:
        engine.dispose()
        stack.sim.control.payment_control(funded_cards=[card])
