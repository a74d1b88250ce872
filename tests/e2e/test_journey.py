"""The whole borrower journey over HTTP against the running server and simulators:
register, verify, bind a card, apply, get approved by the decision engine with an offer, sign,
receive the payout, repay in part, repay the rest, see the loan settled and the ledger
balanced."""

from __future__ import annotations

import base64

import pytest

from xindai.ledger.reconcile import reconcile
from xindai.ledger.reports import trial_balance
from xindai.origination.cards import valid_sample_card
from xindai.store import repository as repo
from xindai.store.db import make_engine, session_factory

from .conftest import PASSWORD, Stack
from .people import apply_body, clean_id

pytestmark = pytest.mark.e2e
PHOTO = base64.b64encode(b"\xff\xd8\xff\xe0 a face").decode()


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def login_borrower(stack: Stack, phone: str) -> dict[str, str]:
    ok(stack.api.post("/api/v1/borrower/auth/code", json={"phone": phone}))
    code = stack.sim.control.last_sms_code(phone)
    session = ok(stack.api.post("/api/v1/borrower/auth/login", json={"phone": phone, "code": code}))
    return {"Authorization": f"Bearer {session['token']}"}


def onboard(stack: Stack, phone: str, id_number: str, card: str) -> tuple[dict, int]:
    """Steps 1–5: login, agreements, real name, contacts, card."""
    auth = login_borrower(stack, phone)
    agreements = ok(stack.api.get("/api/v1/borrower/agreements"))
    ok(
        stack.api.post(
            "/api/v1/borrower/agreements/accept",
            headers=auth,
            json={"items": [{"code": a["code"], "version": a["version"]} for a in agreements]},
        )
    )
    ok(
        stack.api.post(
            "/api/v1/borrower/kyc",
            headers=auth,
            json={
                "name": "张三",
                "id_number": id_number,
                "id_front": PHOTO,
                "id_back": PHOTO,
                "face": PHOTO,
            },
        )
    )
    ok(
        stack.api.put(
            "/api/v1/borrower/contacts",
            headers=auth,
            json={
                # contacts of one's own: borrowers sharing the same two contacts form a ring
                "contacts": [
                    {"name": "张父", "phone": f"1390{phone[-7:]}", "relation": "parent"},
                    {"name": "李四", "phone": f"1391{phone[-7:]}", "relation": "friend"},
                ]
            },
        )
    )
    started = ok(
        stack.api.post(
            "/api/v1/borrower/cards", headers=auth, json={"card_number": card, "phone": phone}
        ),
        201,
    )
    code = stack.sim.control.last_sms_code(phone)
    ok(
        stack.api.post(
            f"/api/v1/borrower/cards/{started['card_id']}/confirm",
            headers=auth,
            json={"code": code},
        )
    )
    return auth, started["card_id"]


def staff_token(stack: Stack, username: str = "reviewer") -> dict[str, str]:
    session = ok(
        stack.api.post(
            "/api/v1/admin/auth/login", json={"username": username, "password": PASSWORD}
        )
    )
    return {"Authorization": f"Bearer {session['token']}"}


def test_the_whole_journey(stack: Stack) -> None:
    auth, card_id = onboard(stack, "13812345678", clean_id(11), valid_sample_card("ICBC", 5))
    me = ok(stack.api.get("/api/v1/borrower/me", headers=auth))
    assert me["phone"] == "138****5678" and me["kyc_status"] == "verified"
    # 6. the schedule and its annualised cost before confirming
    quote = ok(
        stack.api.post(
            "/api/v1/borrower/quote", json={"product": "INST12", "amount": "3000", "term": 3}
        )
    )
    assert len(quote["installments"]) == 3 and float(quote["apr"]) > 0.18
    body = apply_body("INST12", "3000", 3, card_id, device="dev-journey")
    application = ok(
        stack.api.post(
            "/api/v1/borrower/applications",
            headers={**auth, "Idempotency-Key": "apply-1"},
            json=body,
        ),
        201,
    )
    again = ok(
        stack.api.post(
            "/api/v1/borrower/applications",
            headers={**auth, "Idempotency-Key": "apply-1"},
            json=body,
        ),
        201,
    )
    # 7. the decision engine approves at once with an offer: amount, rate, schedule
    assert again["id"] == application["id"] and application["status"] == "approved"
    assert application["approved_amount"] == "3000.00" and application["reasons"] == []
    assert (
        0 < float(application["annual_rate"]) <= 0.24
        and application["apr"] == (application["quote"]["apr"])
    )
    assert len(application["quote"]["installments"]) == 3
    contract = stack.api.get(
        f"/api/v1/borrower/applications/{application['id']}/contract", headers=auth
    )
    assert contract.status_code == 200 and "综合年化成本" in contract.text
    pdf = stack.api.get(
        f"/api/v1/borrower/applications/{application['id']}/contract.pdf", headers=auth
    )
    assert pdf.content.startswith(b"%PDF")
    signed = ok(
        stack.api.post(
            f"/api/v1/borrower/applications/{application['id']}/sign",
            headers={**auth, "Idempotency-Key": "sign-1"},
        )
    )
    assert signed["status"] in ("disbursing", "disbursed")
    # the payout callback makes the loan active
    view = stack.wait_for(
        lambda: (lambda a: a if a["status"] == "disbursed" else None)(
            ok(stack.api.get(f"/api/v1/borrower/applications/{application['id']}", headers=auth))
        ),
        what="the payout callback",
    )
    loan_id = view["loan_id"]
    loan = ok(stack.api.get(f"/api/v1/borrower/loans/{loan_id}", headers=auth))
    assert loan["status"] == "active" and loan["principal"] == "3000.00"
    # repay in part, then the rest
    ok(
        stack.api.post(
            f"/api/v1/borrower/loans/{loan_id}/repayments",
            headers={**auth, "Idempotency-Key": "repay-1"},
            json={"mode": "amount", "amount": "500"},
        ),
        202,
    )
    stack.wait_for(
        lambda: (
            ok(stack.api.get(f"/api/v1/borrower/loans/{loan_id}", headers=auth))["outstanding"]
            != loan["outstanding"]
        ),
        what="the partial repayment",
    )
    ok(
        stack.api.post(
            f"/api/v1/borrower/loans/{loan_id}/repayments",
            headers={**auth, "Idempotency-Key": "repay-2"},
            json={"mode": "payoff"},
        ),
        202,
    )
    settled = stack.wait_for(
        lambda: (lambda view: view if view["status"] == "settled" else None)(
            ok(stack.api.get(f"/api/v1/borrower/loans/{loan_id}", headers=auth))
        ),
        what="settlement",
    )
    assert settled["outstanding"] == "0.00"
    # the ledger balances and the channel's statement reconciles with no breaks
    engine = make_engine(stack.database_url)
    try:
        with session_factory(engine)() as session:
            today = repo.require_business_date(session)
            assert trial_balance(session, today).balanced
            statement = stack.sim.adapters().payment.statement(today)
            results = reconcile(session, _parse(statement))
        assert results and all(r.clean for r in results), results
        assert sum(r.matched for r in results) == 3  # payout and two collections
    finally:
        engine.dispose()


def _parse(text: str):
    import tempfile
    from pathlib import Path

    from xindai.ledger.reconcile import read_statement

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "statement.csv"
        path.write_text(text, encoding="utf-8")
        return read_statement(path)
