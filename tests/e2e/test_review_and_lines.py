"""The risk side of origination over HTTP and the command line against the running server:
a grey-zone application waits in the manual-review queue, the reviewer asks for more, phones
the applicant and a contact and approves a lower amount; `xindai risk explain` shows why;
after the loan is repaid the pre-credit batch grants a credit line and a draw on it is
approved without a new review."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from xindai.origination.cards import valid_sample_card

from .conftest import Stack
from .people import CALLS_MADE, all_to_review, apply_body, clean_id
from .test_journey import ok, onboard, staff_token
from .test_payouts import status_of

pytestmark = pytest.mark.e2e


def xindai(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI as the risk team would, against the server's database."""
    return subprocess.run(
        [sys.executable, "-c", "from xindai.cli import main; main()", *args],
        env={**os.environ, "XINDAI_DATABASE_URL": stack.database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_review_queue_then_repay_then_credit_line_draw(stack: Stack) -> None:
    auth, card_id = onboard(stack, "13400000001", clean_id(81), valid_sample_card("ICBC", 81))
    with all_to_review(stack):
        created = ok(
            stack.api.post(
                "/api/v1/borrower/applications",
                headers=auth,
                json=apply_body("INST12", "5000", 3, card_id, device="dev-review-1"),
            ),
            201,
        )
    application_id = created["id"]
    assert created["status"] == "review" and created["approved_amount"] is None
    reviewer = staff_token(stack)
    queue = ok(stack.api.get("/api/v1/admin/reviews", headers=reviewer))
    [task] = [t for t in queue if t["application_id"] == application_id]
    assert task["status"] == "queued" and "SC_GREY" in task["reasons"]
    assert task["minutes_left"] > 0 and not task["overdue"]
    assert task["application"]["applicant_phone"] == "134****0001"  # masked in the list
    detail = ok(stack.api.get(f"/api/v1/admin/reviews/{application_id}", headers=reviewer))
    # the reviewer (risk role) sees the numbers to call
    assert detail["application"]["applicant_phone"] == "13400000001"
    # claim, ask the borrower for more, get the answer
    ok(stack.api.post(f"/api/v1/admin/reviews/{application_id}/claim", headers=reviewer))
    ok(
        stack.api.post(
            f"/api/v1/admin/reviews/{application_id}/ask-more",
            headers=reviewer,
            json={"request": "请上传近三个月工资流水 / payslips for three months"},
        )
    )
    # the borrower gets a text (an approved template) and reads the request in the app
    texts = [m for m in stack.sim.control.outbox("13400000001") if "补充资料" in m["text"]]
    assert len(texts) == 1 and "工资流水" not in texts[0]["text"]
    asked = ok(
        stack.api.get(f"/api/v1/borrower/applications/{application_id}/more-info", headers=auth)
    )
    assert "工资流水" in json.dumps(asked, ensure_ascii=False)
    ok(
        stack.api.post(
            f"/api/v1/borrower/applications/{application_id}/more-info",
            headers=auth,
            json={"reply": "已上传 uploaded"},
        )
    )
    ok(stack.api.post(f"/api/v1/admin/reviews/{application_id}/claim", headers=reviewer))
    ok(
        stack.api.put(
            f"/api/v1/admin/reviews/{application_id}/checklist",
            headers=reviewer,
            json={"items": CALLS_MADE},
        )
    )
    ok(
        stack.api.post(
            f"/api/v1/admin/reviews/{application_id}/decide",
            headers=reviewer,
            json={"approve": True, "note": "calls made, payslips seen", "amount": "4000"},
        )
    )
    view = ok(stack.api.get(f"/api/v1/borrower/applications/{application_id}", headers=auth))
    assert view["status"] == "approved" and view["approved_amount"] == "4000.00"
    # the risk team can see why, from the command line
    explained = xindai(stack, "risk", "explain", str(application_id), "--json")
    assert explained.returncode == 0, explained.stderr
    decisions = json.loads(explained.stdout)["decisions"]
    assert [d["path"] for d in decisions] == ["engine", "manual_review"]
    assert decisions[0]["outcome"] == "review" and decisions[1]["reviewer"] == "reviewer"
    over_http = ok(
        stack.api.get(f"/api/v1/admin/applications/{application_id}/decisions", headers=reviewer)
    )
    assert [d["path"] for d in over_http["decisions"]] == ["engine", "manual_review"]
    assert over_http["decisions"][0]["detail"]["fired"]
    replayed = xindai(stack, "risk", "replay", str(application_id))
    assert replayed.returncode == 0 and "identical" in replayed.stdout, replayed.stdout
    # sign, get paid, repay in full
    ok(stack.api.post(f"/api/v1/borrower/applications/{application_id}/sign", headers=auth))
    loan_id = status_of(stack, auth, application_id, "disbursed")["loan_id"]
    loan = ok(stack.api.get(f"/api/v1/borrower/loans/{loan_id}", headers=auth))
    assert loan["principal"] == "4000.00"
    ok(
        stack.api.post(
            f"/api/v1/borrower/loans/{loan_id}/repayments",
            headers=auth,
            json={"mode": "payoff"},
        ),
        202,
    )
    stack.wait_for(
        lambda: (
            ok(stack.api.get(f"/api/v1/borrower/loans/{loan_id}", headers=auth))["status"]
            == "settled"
        ),
        what="settlement",
    )
    # the nightly pre-credit batch whitelists the repeat borrower: a line at ladder level 1
    assert stack.api.get("/api/v1/borrower/credit-line", headers=auth).status_code == 404
    batch = xindai(stack, "risk", "precredit", "run")
    assert batch.returncode == 0, batch.stderr
    line = ok(stack.api.get("/api/v1/borrower/credit-line", headers=auth))
    assert line["status"] == "active" and line["limit"] == "2500.00" and line["can_draw"]
    too_much = stack.api.post(
        "/api/v1/borrower/credit-line/draws",
        headers=auth,
        json={
            "product": "CASH14",
            "amount": "3000",
            "term": 14,
            "purpose": "consumption",
            "card_id": card_id,
        },
    )
    assert too_much.status_code == 409 and too_much.json()["code"] == "CREDIT_LINE_INSUFFICIENT"
    drawn = ok(
        stack.api.post(
            "/api/v1/borrower/credit-line/draws",
            headers=auth,
            json={
                "product": "CASH14",
                "amount": "2000",
                "term": 14,
                "purpose": "consumption",
                "card_id": card_id,
            },
        ),
        201,
    )
    assert drawn["status"] == "approved" and drawn["approved_amount"] == "2000.00"
    ok(stack.api.post(f"/api/v1/borrower/applications/{drawn['id']}/sign", headers=auth))
    status_of(stack, auth, drawn["id"], "disbursed")
    line = ok(stack.api.get("/api/v1/borrower/credit-line", headers=auth))
    assert line["outstanding"] == "2000.00" and line["available"] == "500.00"
