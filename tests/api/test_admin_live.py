"""The console's management routes against a real `xindai serve` process and the provider
simulators as their own process (SQLite): close of business started from the console runs in
the server, fails when the payment channel is down on a due date and is resumed from the
step that failed; a refund of a parked credit balance goes
through the approvals inbox and back to the card; the channel's own statement, uploaded,
reconciles without a break. (After every test the autouse check of conftest: statement =
journal, the trial balance balances.)"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from xindai.store.db import make_engine, session_factory, transaction
from xindai.store.models import Loan, SystemState

from .conftest import PASSWORD, Live

pytestmark = pytest.mark.e2e


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def wait_for(what: str, check: Any, *, tries: int = 400) -> Any:
    """`check()` once it is truthy (polled every 0.1 s; bounded, not timed)."""
    for _ in range(tries):
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what}: not reached")


def read(live: Live, query: Any) -> Any:
    """Rows of `query` in a read-only transaction (never waiting for a writer)."""
    engine = make_engine(live.database_url)
    try:
        with transaction(session_factory(engine), read_only=True) as session:
            return session.execute(query).all()
    finally:
        engine.dispose()


def business_date(live: Live) -> date:
    ((value,),) = read(live, select(SystemState.value).where(SystemState.key == "business_date"))
    return date.fromisoformat(value)


def journey_loan(live: Live, phone: str, seed: int) -> tuple[dict[str, str], int]:
    """A 14-day loan of 1,000 yuan through the borrower journey, paid out: session, loan."""
    auth, card_id = live.onboard(phone, seed=seed)
    application = ok(
        live.api.post(
            "/api/v1/borrower/applications",
            headers=auth,
            json={
                "product": "CASH14",
                "amount": "1000",
                "term": 14,
                "purpose": "consumption",
                "card_id": card_id,
                "device_fingerprint": f"dev-console-{seed}",
                "monthly_income": "15000",
                "employment_type": "salaried",
                "education": "bachelor",
                "city": "上海",
                "phonebook_count": 320,
            },
        ),
        201,
    )
    assert application["status"] == "approved", application
    path = f"/api/v1/borrower/applications/{application['id']}"
    ok(live.api.post(f"{path}/sign", headers=auth))
    view = wait_for(
        "the payout",
        lambda: (v := ok(live.api.get(path, headers=auth)))["status"] == "disbursed" and v,
    )
    return auth, int(view["loan_id"])


def run_of(live: Live, ops: dict[str, str], run_id: int) -> dict[str, Any]:
    return ok(live.api.get(f"/api/v1/admin/cob/runs/{run_id}", headers=ops))


def ended(live: Live, ops: dict[str, str], run_id: int) -> dict[str, Any]:
    return wait_for(
        f"the end of run {run_id}",
        lambda: (r := run_of(live, ops, run_id))["status"] != "running" and r,
        tries=1200,
    )


def test_close_of_business_runs_in_the_server_fails_on_the_channel_and_resumes(
    live: Live,
) -> None:
    _, loan_id = journey_loan(live, "13712340101", seed=51)
    ((due,),) = read(live, select(Loan.maturity_date).where(Loan.id == loan_id))
    ops = live.staff_auth("ops")
    day_before = (due - timedelta(days=1)).isoformat()
    started = ok(
        live.api.post("/api/v1/admin/cob/runs", headers=ops, json={"until": day_before}), 202
    )
    assert ended(live, ops, started["id"])["status"] == "done"
    assert business_date(live) == due

    live.sim.control.set_faults("pay", error_rate=1.0)  # the channel is down on the due date
    try:
        down = ok(live.api.post("/api/v1/admin/cob/runs", headers=ops), 202)
        failed = ended(live, ops, down["id"])
    finally:
        live.sim.control.set_faults("pay", error_rate=0.0)
    assert failed["status"] == "failed" and "Provider" in failed["error"], failed
    steps = {s["step"]: s["status"] for s in failed["days"][0]["steps"]}
    assert steps["due"] == steps["dpd"] == steps["penalty"] == "done"
    assert steps.get("withholding") != "done" and "advance" not in steps
    assert business_date(live) == due  # nothing advanced

    resumed = ok(live.api.post(f"/api/v1/admin/cob/runs/{failed['id']}/resume", headers=ops), 202)
    assert resumed["resumes"] == failed["id"] and resumed["status"] == "running"
    done = ended(live, ops, resumed["id"])
    assert done["status"] == "done", done
    steps = {s["step"]: s for s in done["days"][0]["steps"]}
    assert steps["withholding"]["status"] == "done" and steps["withholding"]["rows"] == 1
    assert steps["advance"]["status"] == "done"
    assert business_date(live) == due + timedelta(days=1)
    refused(
        live.api.post(f"/api/v1/admin/cob/runs/{failed['id']}/resume", headers=ops),
        409,
        "COB_RUN_STATE",
    )


def test_a_parked_credit_balance_is_refunded_through_the_approvals_inbox(live: Live) -> None:
    auth, loan_id = journey_loan(live, "13712340102", seed=52)
    admin, risk, finance = (live.staff_auth(u) for u in ("admin", "reviewer", "finance"))
    created = {"username": "finance2", "password": PASSWORD, "role": "finance"}
    ok(live.api.post("/api/v1/admin/staff", headers=admin, json=created), 201)
    finance2 = live.staff_auth("finance2")

    # a collection in flight while the loan is written off (maker-checker): its money is
    # parked on the borrower's credit balance with a refund task
    live.sim.control.payment_control(callback_delay_ms=2500)
    try:
        repay = f"/api/v1/borrower/loans/{loan_id}/repayments"
        requested = ok(
            live.api.post(repay, headers=auth, json={"mode": "amount", "amount": "100"}), 202
        )
    finally:
        live.sim.control.payment_control(callback_delay_ms=100)
    write_off = ok(
        live.api.post(
            f"/api/v1/admin/loans/{loan_id}/write-offs", headers=risk, json={"reason": "欺诈"}
        ),
        201,
    )
    ok(live.api.post(f"/api/v1/admin/approvals/{write_off['id']}/approve", headers=finance))

    def parked() -> list[dict[str, Any]]:
        tasks = ok(live.api.get("/api/v1/admin/refunds?status=open", headers=finance))
        return [t for t in tasks if t["loan_id"] == loan_id]

    (task,) = wait_for("the refund task", parked)
    assert task["source_ref"] == requested["request_ref"] and task["amount"] == "100.00"

    body = {"task_id": task["id"], "reason": "核销后到账，原路退回"}
    request = ok(
        live.api.post(f"/api/v1/admin/loans/{loan_id}/refunds", headers=finance, json=body), 201
    )
    assert request["details"] == {**request["details"], "task_id": task["id"], "amount": "100.00"}
    refused(
        live.api.post(f"/api/v1/admin/approvals/{request['id']}/approve", headers=finance),
        409,
        "APPROVAL_INVALID",
    )
    approved = ok(
        live.api.post(f"/api/v1/admin/approvals/{request['id']}/approve", headers=finance2)
    )
    assert approved["status"] == "approved" and approved["posting"] is None
    assert approved["refund"]["status"] == "refunding" and approved["refund"]["refund_ref"]

    def refunded() -> list[dict[str, Any]]:
        tasks = ok(live.api.get("/api/v1/admin/refunds?status=refunded", headers=finance))
        return [t for t in tasks if t["id"] == task["id"]]

    wait_for("the refund's confirmation", refunded)


def test_the_channel_statement_uploaded_reconciles_without_a_break(live: Live) -> None:
    from xindai.integrations.http import HttpPaymentChannel, ProviderEndpoint
    from xindai.integrations.simulators.control import settled_breaks

    from .conftest import SECRET

    journey_loan(live, "13712340103", seed=53)
    assert settled_breaks(live.sim.base_url, SECRET, live.database_url) == []
    days = sorted({e["occurred_at"][:10] for e in live.sim.control.events()})
    channel = HttpPaymentChannel(ProviderEndpoint(f"{live.sim.base_url}/pay", SECRET))
    try:
        statement = "".join(
            text if n == 0 else text.split("\n", 1)[1]
            for n, text in enumerate(channel.statement(date.fromisoformat(d)) for d in days)
        )
    finally:
        channel.close()
    finance = live.staff_auth("finance")
    files = {"statement": ("simpay.csv", statement.encode(), "text/csv")}
    run = ok(
        live.api.post(
            "/api/v1/admin/reconciliation/runs",
            headers=finance,
            files=files,
            data={"mode": "reference"},
        ),
        201,
    )
    assert run["breaks"] == 0 and run["matched"] >= 2, run
    assert run["channel"] == "simpay"


def test_an_approved_template_is_registered_and_every_message_is_in_the_outbox(
    live: Live,
) -> None:
    from xindai.messaging.outbox import send_sms
    from xindai.platform import Platform
    from xindai.settings import Settings

    from .conftest import SECRET

    journey_loan(live, "13712340104", seed=54)  # its login code went out through the gateway
    ops, admin = live.staff_auth("ops"), live.staff_auth("admin")
    sent = ok(live.api.get("/api/v1/admin/sms/outbox?q=13712340104", headers=ops))
    (login,) = [m for m in sent["items"] if m["origin"] == "login"]
    assert (login["status"], login["phone_masked"], login["params"]) == (
        "sent",
        "137****0104",
        {"code": "******"},
    )
    assert login["message_id"] and "******" in login["text"]

    created = {"username": "ops2", "password": PASSWORD, "role": "operations"}
    ok(live.api.post("/api/v1/admin/staff", headers=admin, json=created), 201)
    text = "【信贷】{name}您好，您的借款将于{due_date}到期，应还{amount}元。"
    body = {"code": "REMINDER_D1", "purpose": "reminder", "text": text}
    drafted = ok(live.api.post("/api/v1/admin/sms/templates", headers=ops, json=body), 201)
    path = f"/api/v1/admin/sms/templates/{drafted['id']}/approve"
    approved = ok(live.api.post(path, headers=live.staff_auth("ops2")))
    assert approved["status"] == "approved" and approved["registered"] is True

    settings = Settings(
        database_url=live.database_url,
        providers_url=live.sim.base_url,
        provider_secret=SECRET,
        data_dir=live.log.parent,
    )
    platform = Platform.from_settings(settings)
    params = {"name": "张", "due_date": "2027-01-05", "amount": "1010.00"}
    receipt = send_sms(platform, "13712340104", "REMINDER_D1", params, origin="reminder")
    (delivered,) = [
        m for m in live.sim.control.outbox("13712340104") if m["template_code"] == "REMINDER_D1"
    ]
    assert delivered["text"] == "【信贷】张您好，您的借款将于2027-01-05到期，应还1010.00元。"
    sent = ok(live.api.get("/api/v1/admin/sms/outbox?template_code=REMINDER_D1", headers=ops))
    (reminder,) = sent["items"]
    assert (reminder["message_id"], reminder["template_version"]) == (receipt.message_id, 1)
    assert reminder["text"] == delivered["text"]
