"""The console's lists and details on records the real journey wrote (the server and the
simulators as processes): a borrower onboarded, paid out and repaying in part is found by
phone, shown masked with contacts, card, application, decision and loan; the loan's detail
has its schedule, transactions, balanced journal and payout; the repayment, the withholding
and the payout are in their lists; the export holds the screen's rows."""

from __future__ import annotations

import io

import openpyxl

from xindai.origination.cards import valid_sample_card

from .conftest import Stack
from .people import apply_body, clean_id
from .test_journey import ok, onboard, staff_token

PHONE = "13812347788"
ADMIN = "/api/v1/admin"


def test_the_console_shows_what_the_journey_wrote(stack: Stack) -> None:
    id_number = clean_id(31)
    auth, card_id = onboard(stack, PHONE, id_number, valid_sample_card("ICBC", 31))
    application = ok(
        stack.api.post(
            "/api/v1/borrower/applications",
            headers={**auth, "Idempotency-Key": "console-apply"},
            json=apply_body("INST12", "3000", 3, card_id, device="dev-console"),
        ),
        201,
    )
    assert application["status"] == "approved"
    ok(stack.api.post(f"/api/v1/borrower/applications/{application['id']}/sign", headers=auth))
    view = stack.wait_for(
        lambda: (lambda a: a if a["status"] == "disbursed" else None)(
            ok(stack.api.get(f"/api/v1/borrower/applications/{application['id']}", headers=auth))
        ),
        what="the payout callback",
    )
    loan_id = view["loan_id"]
    before = ok(stack.api.get(f"/api/v1/borrower/loans/{loan_id}", headers=auth))
    ok(
        stack.api.post(
            f"/api/v1/borrower/loans/{loan_id}/repayments",
            headers={**auth, "Idempotency-Key": "console-repay"},
            json={"mode": "amount", "amount": "500"},
        ),
        202,
    )
    stack.wait_for(
        lambda: (
            ok(stack.api.get(f"/api/v1/borrower/loans/{loan_id}", headers=auth))["outstanding"]
            != before["outstanding"]
        ),
        what="the repayment",
    )
    risk, finance = staff_token(stack), staff_token(stack, "finance")

    found = ok(stack.api.get(f"{ADMIN}/borrowers", headers=risk, params={"q": PHONE}))
    assert found["total"] == 1
    row = found["items"][0]
    assert row["phone"] == "138****7788" and row["name"] == "张*"
    assert row["id_number"] == id_number[:6] + "********" + id_number[-4:]
    assert (row["loans"], row["open_loans"]) == (1, 1)
    detail = ok(stack.api.get(f"{ADMIN}/borrowers/{row['id']}", headers=risk))
    assert PHONE not in str(detail) and id_number not in str(detail)
    assert [c["relation"] for c in detail["contacts"]] == ["parent", "friend"]
    assert all("****" in c["phone"] for c in detail["contacts"])
    assert detail["cards"][0]["status"] == "verified" and "****" in detail["cards"][0]["card"]
    assert [a["id"] for a in detail["applications"]] == [application["id"]]
    assert detail["decisions"][0]["outcome"] == "approve"
    assert [loan["id"] for loan in detail["loans"]] == [loan_id]
    assert {a["code"] for a in detail["kyc"]["agreements"]} and detail["kyc"]["photos"]

    loan = ok(stack.api.get(f"{ADMIN}/loans/{loan_id}", headers=finance))
    assert loan["loan"]["principal"] == "3000.00" and len(loan["schedule"]) == 3
    kinds = {t["kind"] for t in loan["transactions"]}
    assert {"disbursement", "repayment"} <= kinds
    debit = sum(float(line["debit"]) for line in loan["journal"])
    credit = sum(float(line["credit"]) for line in loan["journal"])
    assert round(debit - credit, 2) == 0 and loan["journal_total"] == len(loan["journal"])
    assert loan["payouts"][0]["status"] == "succeeded"
    assert any(w["status"] == "succeeded" for w in loan["withholdings"])
    assert loan["balances"]["total"] == before["outstanding"] or float(
        loan["balances"]["total"]
    ) < float(before["outstanding"])

    repayments = ok(stack.api.get(f"{ADMIN}/repayments", headers=finance, params={"q": loan_id}))
    assert [r["amount"] for r in repayments["items"]] == ["500.00"]
    payouts = ok(
        stack.api.get(f"{ADMIN}/payouts", headers=finance, params={"q": application["id"]})
    )
    assert [p["status"] for p in payouts["items"]] == ["succeeded"]
    queried = ok(
        stack.api.post(f"{ADMIN}/payouts/{payouts['items'][0]['id']}/query", headers=finance)
    )
    assert queried["status"] == "succeeded" and queried["unreachable"] == 0  # the channel agrees
    assert sum(queried["outcomes"].values()) == 1
    after = ok(stack.api.get(f"{ADMIN}/loans/{loan_id}", headers=finance))
    assert after["transactions_total"] == loan["transactions_total"]  # nothing posted twice
    withholdings = ok(
        stack.api.get(f"{ADMIN}/withholdings", headers=finance, params={"q": loan_id})
    )
    assert withholdings["total"] >= 1
    explained = ok(
        stack.api.get(f"{ADMIN}/applications/{application['id']}/decisions", headers=risk)
    )
    assert explained["decisions"][0]["outcome"] == "approve"

    exported = stack.api.get(f"{ADMIN}/loans/export", headers=finance, params={"q": PHONE})
    assert exported.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(exported.content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "借据号" and [r[0] for r in rows[1:]] == [loan_id]
    assert rows[1][2] == "张*"
    overview = ok(stack.api.get(f"{ADMIN}/overview", headers=risk))
    assert overview["today"]["registrations"] >= 1 and overview["today"]["payouts"] >= 1
    assert overview["today"]["repayments"] >= 1
    balance = ok(stack.api.get(f"{ADMIN}/ledger/trial-balance", headers=finance))
    assert balance["balanced"]
