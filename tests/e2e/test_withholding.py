"""Close of business step 4: automatic withholding on the due date through the payment
channel, credited when its signed callback arrives at the running server."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest

from xindai.origination.cards import valid_sample_card

from .conftest import SECRET, Stack
from .people import clean_id
from .test_journey import ok, onboard
from .test_payouts import approved, status_of

pytestmark = pytest.mark.e2e


def test_due_installment_is_withheld_at_close_of_business(stack: Stack) -> None:
    id_number = clean_id(51)
    auth, card_id = onboard(stack, "13600000001", id_number, valid_sample_card("ABC", 6))
    application_id = approved(stack, auth, card_id, "INST12", "1500", 3)
    ok(stack.api.post(f"/api/v1/borrower/applications/{application_id}/sign", headers=auth))
    view = status_of(stack, auth, application_id, "disbursed")
    loan = ok(stack.api.get(f"/api/v1/borrower/loans/{view['loan_id']}", headers=auth))
    first_due = date.fromisoformat(loan["installments"][0]["due_date"])
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
            "cob",
            "run",
            "--until",
            first_due.isoformat(),
            "--withholding",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    def first_paid():
        current = ok(stack.api.get(f"/api/v1/borrower/loans/{view['loan_id']}", headers=auth))
        return current if current["installments"][0]["status"] == "paid" else None

    paid = stack.wait_for(first_paid, what="the withholding callback")
    assert paid["status"] == "active" and paid["dpd"] == 0
    assert paid["installments"][1]["status"] == "pending"
