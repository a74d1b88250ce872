"""A case from overdue to recovered through the admin API, on SQLite and PostgreSQL with the
SMS simulator process: reminded, opened, allocated, called under the guardrails (quiet
hours, the connected-call cap counting an agency's call, attempts to an unanswered number,
third parties), a promise made and broken, re-queued, moved bucket and re-allocated to an
agency, recovered (placement closed with its commission); who sees which case."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from tests.collections.support import Desk, desk_fixture  # noqa: F401

from xindai.money import format_yuan
from xindai.store.models import Loan


def _loan(desk: Desk, loan_id: int) -> Loan:
    with desk.platform.reads() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        session.expunge(loan)
        return loan


def _case_of(desk: Desk, loan_id: int, who: str = "ops") -> dict:
    page = desk.call("GET", f"/cases?q={loan_id}&status=all", who)
    assert page["total"] == 1, page
    return page["items"][0]


def _at(desk: Desk, hour: int, minute: int = 0) -> None:
    day = desk.business_date()
    desk.clock.at = datetime(day.year, day.month, day.day, hour, minute)


def test_a_case_from_overdue_to_recovered(desk: Desk) -> None:
    d = desk
    agency_user = d.staff_id("agency1")
    # operations: agencies and their users, M1 round robin, M2-M3 placed with agency A
    a = d.call(
        "POST",
        "/agencies",
        "ops",
        201,
        json={"code": "agency_a", "name": "甲催收公司", "commission_rate": "15%"},
    )
    b = d.call(
        "POST",
        "/agencies",
        "ops",
        201,
        json={
            "code": "agency_b",
            "name": "乙催收公司",
            "commission_rate": "0.1",
            "window_days": 20,
        },
    )
    d.call("POST", f"/agencies/{a['id']}/users", "ops", json={"staff_id": agency_user})
    d.call("POST", f"/agencies/{b['id']}/users", "ops", json={"staff_id": d.staff_id("agency2")})
    m1 = d.early_queue("col1", "col2", no_promise_days=5)
    assert [m["name"] for m in m1["members"]] == ["col1", "col2"]
    d.call(
        "PUT",
        "/queues/M2M3",
        "ops",
        json={
            "name_zh": "M2-M3 委外",
            "name_en": "M2-M3 agencies",
            "dpd_min": 31,
            "dpd_max": 90,
            "owner": "agency",
            "allocation": "performance",
            "members": [{"agency_id": a["id"]}],
        },
    )
    d.refused("PUT", "/queues/M1", "col1", 403, "PERMISSION_DENIED", json={})

    borrower = d.borrower()
    first = d.book(borrower_id=borrower)
    second = d.book(borrower_id=borrower, amount_fen=50_000)
    d.close_days(18)  # due on day 14, grace 2: overdue from the close of day 17
    reminders = d.call("GET", f"/reminders?loan_id={first}", "ops")
    assert sorted(r["offset_days"] for r in reminders["items"]) == [-3, -1, 0, 1, 3]
    assert {r["status"] for r in reminders["items"]} == {"delivered"}

    case1, case2 = _case_of(d, first), _case_of(d, second)
    assert case1["queue"] == "M1" and case1["status"] == "open" and case1["bucket"] == "M1"
    assert {case1["assignee"], case2["assignee"]} == {"col1", "col2"}  # round robin
    owner = case1["assignee"]
    other = "col2" if owner == "col1" else "col1"
    d.refused("GET", f"/cases/{case1['id']}", other, 404, "NOT_FOUND")
    assert d.call("GET", "/cases", other)["total"] == 1  # only its own
    assert d.call("GET", "/next", owner)["case"]["id"] == case1["id"]
    log = d.call("GET", f"/assignments?case_id={case1['id']}", "ops")["items"]
    assert [row["reason"] for row in log] == ["opened"] and log[0]["to_staff"] == owner

    # the second loan placed with agency A by hand: its calls count toward the same cap
    placed = d.call(
        "POST",
        f"/cases/{case2['id']}/assign",
        "ops",
        json={"agency_id": a["id"], "reason": "同一债务人委外"},
    )
    assert placed["agency"] == "甲催收公司" and placed["assignee"] is None
    assert [c["id"] for c in d.call("GET", "/cases", "agency1")["items"]] == [case2["id"]]
    assert d.call("GET", "/cases", "agency2")["total"] == 0
    d.refused("GET", f"/cases/{case1['id']}", "agency1", 404, "NOT_FOUND")

    detail = d.call("GET", f"/cases/{case1['id']}", owner)
    refs = [c["ref"] for c in detail["contacts"]]
    assert refs[0] == "borrower" and set(refs) == {"borrower", "contact:1", "contact:2"}
    assert "****" in detail["contacts"][0]["masked"]
    assert detail["payoff"] != "0.00" and detail["due_now"]["total"] != "0.00"
    assert detail["loan"]["id"] == first and detail["schedule"]

    path = f"/cases/{case1['id']}/calls"
    _at(d, 22, 30)  # Shenzhen: UTC+8, 22:30 is quiet
    quiet = d.refused(
        "POST",
        path,
        owner,
        409,
        "COLLECTION_QUIET_HOURS",
        json={"contact": "borrower", "connection": "no_answer"},
    )
    assert "22:00" in quiet["message"]["zh-CN"] and quiet["message"]["en"]
    _at(d, 10)
    d.refused(
        "POST",
        path,
        owner,
        409,
        "COLLECTION_THIRD_PARTY",
        json={"contact": "contact:2", "connection": "no_answer"},
    )
    d.call(
        "POST",
        path,
        owner,
        201,
        json={
            "contact": "borrower",
            "connection": "connected",
            "party": "self",
            "result": "refused",
        },
    )
    d.call(
        "POST",
        f"/cases/{case2['id']}/calls",
        "agency1",
        201,
        json={"contact": "borrower", "connection": "connected", "party": "self", "result": "relay"},
    )
    promised_on = (d.business_date() + timedelta(days=2)).isoformat()
    call = d.call(
        "POST",
        path,
        owner,
        201,
        json={
            "contact": "borrower",
            "connection": "connected",
            "party": "self",
            "result": "promise",
            "promise": {"amount": "300.00", "promised_on": promised_on},
        },
    )
    assert call["promise"]["status"] == "pending" and call["promise"]["amount"] == "300.00"
    capped = d.refused(
        "POST",
        path,
        owner,
        409,
        "COLLECTION_CONNECTED_CAP",
        json={"contact": "borrower", "connection": "connected", "party": "self", "result": "paid"},
    )
    assert "3" in capped["message"]["en"]
    d.refused(
        "POST",
        f"/cases/{case2['id']}/calls",
        "agency1",
        409,
        "COLLECTION_CONNECTED_CAP",
        json={"contact": "borrower", "connection": "no_answer"},
    )
    assert (
        d.call(
            "POST",
            f"/cases/{case1['id']}/check",
            owner,
            json={"kind": "call", "contact": "borrower"},
        )["allowed"]
        is False
    )
    # SMS: an approved collection template only, never to a third party
    sms = d.call(
        "POST", f"/cases/{case1['id']}/sms", owner, 201, json={"template_code": "OVERDUE_NOTICE"}
    )
    assert sms["sms_status"] in ("sent", "delivered") and sms["template_code"] == "OVERDUE_NOTICE"
    d.refused(
        "POST",
        f"/cases/{case1['id']}/sms",
        owner,
        409,
        "COLLECTION_TEMPLATE_ONLY",
        json={"template_code": "PAYOUT_NOTICE"},
    )
    d.refused(
        "POST",
        f"/cases/{case1['id']}/sms",
        owner,
        409,
        "COLLECTION_THIRD_PARTY",
        json={"template_code": "OVERDUE_NOTICE", "contact": "contact:2"},
    )
    # a visit needs a second collector; letters are PDFs; an offer lands in the inbox
    d.refused(
        "POST",
        f"/cases/{case1['id']}/visits",
        owner,
        400,
        "COLLECTION_VISIT_COMPANIONS",
        json={"companions": [d.staff_id(owner)], "planned_on": promised_on},
    )
    visit = d.call(
        "POST",
        f"/cases/{case1['id']}/visits",
        owner,
        201,
        json={"companions": [d.staff_id(other)], "planned_on": promised_on},
    )
    assert visit["companions"] == [other]
    letter = d.call("POST", f"/cases/{case1['id']}/letters", owner, 201, json={"kind": "demand"})
    assert d.call("GET", f"/letters/{letter['document_id']}", owner)[:5] == b"%PDF-"
    d.refused("GET", f"/letters/{letter['document_id']}", other, 404, "NOT_FOUND")
    quadrant = d.call(
        "POST", f"/cases/{case1['id']}/quadrant", owner, json={"willing": True, "able": False}
    )
    assert quadrant["quadrant"] == "II"
    assert "offer_extension" in [x["code"] for x in quadrant["actions"]]
    penalty = _loan(d, first).penalty_outstanding_fen
    offer = d.call(
        "POST",
        f"/cases/{case1['id']}/offers/waiver",
        owner,
        201,
        json={
            "lines": [{"installment": 1, "component": "penalty", "amount": f"{penalty / 100:.2f}"}],
            "reason": "客户承诺还款，申请减免罚息",
        },
    )
    assert offer["status"] == "pending" and offer["requested_by"] == owner
    inbox = d.client.get("/api/v1/admin/approvals?kind=waiver", headers=d.auth("finance")).json()
    assert offer["id"] in [r["id"] for r in inbox["items"]]
    d.client.post(
        f"/api/v1/admin/approvals/{offer['id']}/reject",
        headers=d.auth("finance"),
        json={"note": "不予减免"},
    )

    # attempts: six unanswered calls to the parent's number the next day, the seventh refused
    d.close_days(1)
    _at(d, 9)
    for _ in range(6):
        d.call("POST", path, owner, 201, json={"contact": "contact:1", "connection": "no_answer"})
    d.refused(
        "POST",
        path,
        owner,
        409,
        "COLLECTION_ATTEMPTS_EXCEEDED",
        json={"contact": "contact:1", "connection": "no_answer"},
    )

    # the promise breaks (nothing paid by its date + 1): judged, re-queued
    d.close_days(3)
    promises = d.call("GET", f"/cases/{case1['id']}", "ops")["promises"]
    assert promises[0]["status"] == "broken" and promises[0]["paid"] == "0.00"
    log = d.call("GET", f"/assignments?case_id={case1['id']}", "ops")["items"]
    assert log[0]["reason"] == "broken_promise"

    # M1 → M2 at DPD 31: re-allocated to agency A (the M2-M3 queue), placed for 30 days
    while _loan(d, first).dpd < 31:
        d.close_days(1)
    case1 = _case_of(d, first)
    assert case1["bucket"] == "M2" and case1["queue"] == "M2M3" and case1["agency"] == "甲催收公司"
    assert case1["assignee"] is None
    assert case1["id"] in [c["id"] for c in d.call("GET", "/cases", "agency1")["items"]]
    d.refused("GET", f"/cases/{case1['id']}", owner, 404, "NOT_FOUND")
    placements = d.call("GET", "/placements", "agency1")["items"]
    assert {p["case_id"] for p in placements} == {case1["id"], case2["id"]}
    assert d.call("GET", "/placements", "agency2")["total"] == 0
    log = d.call("GET", f"/assignments?case_id={case1['id']}", "ops")["items"]
    assert log[0]["reason"] == "bucket_move" and log[0]["to_agency"] == "甲催收公司"

    # recovered: paid in full inside the window; the case closes, the agency earns 15 %
    payoff = d.platform.loans.quote_payoff(first).total_fen
    d.platform.loans.repay(first, payoff, channel="offline", external_ref="RP-A1", actor="test")
    d.close_days(1)
    closed = _case_of(d, first)
    assert closed["status"] == "closed" and closed["close_reason"] == "settled"
    placement = next(
        p
        for p in d.call("GET", "/placements?status=closed", "ops")["items"]
        if p["case_id"] == case1["id"]
    )
    assert placement["recovered"] == f"{payoff / 100:.2f}"
    commission = (Decimal(payoff) * Decimal("0.15")).quantize(Decimal(1), ROUND_HALF_UP)
    assert placement["commission"] == format_yuan(int(commission))

    kpis = d.call("GET", "/kpis?level=collector", "ops")
    row = next(r for r in kpis["items"] if r["name"] == owner)
    assert row["calls"] == 8 and row["connected"] == 2  # refusals are not logged
    assert row["right_party"] == 2
    assert row["promises"] == 1 and row["kept"] == 0
    agency = next(
        r for r in d.call("GET", "/kpis?level=agency", "ops")["items"] if r["name"] == "甲催收公司"
    )
    assert agency["calls"] == 1 and agency["recovered"] == f"{payoff / 100:.2f}"
    d.refused("GET", "/kpis", owner, 403, "PERMISSION_DENIED")
    export = d.client.get("/api/v1/admin/collections/kpis/export", headers=d.auth("ops"))
    assert export.status_code == 200 and export.content[:2] == b"PK"
    load = d.call("GET", "/load", "ops")["items"]
    assert {r["username"] for r in load} >= {"col1", "col2"}
    _kpi_command_reads_the_same_figures(d)


def _kpi_command_reads_the_same_figures(desk: Desk) -> None:
    """`xindai collections kpi` prints the API's figures (as JSON and as a table)."""
    import json

    from typer.testing import CliRunner

    from xindai.cli import app

    runner = CliRunner()
    answer = runner.invoke(
        app, ["collections", "kpi", "--level", "agency", "--json", "-d", desk.database_url]
    )
    assert answer.exit_code == 0, answer.output
    report = json.loads(answer.output)
    api = desk.call("GET", "/kpis?level=agency", "ops")
    assert report["items"] == api["items"] and report["items"]
    table = runner.invoke(app, ["collections", "kpi", "-d", desk.database_url])
    assert table.exit_code == 0 and "催收绩效" in table.output


def test_a_held_case_stays_and_a_cured_one_closes(desk: Desk) -> None:
    d = desk
    loan = d.book()
    while _loan(d, loan).dpd < 1 or _loan(d, loan).status != "overdue":
        d.close_days(1)
    d.close_days(1)
    case = _case_of(d, loan)
    owner = case["assignee"]
    assert owner in ("col1", "col2")
    held = d.call(
        "POST", f"/cases/{case['id']}/hold", owner, json={"days": 7, "reason": "客户配合"}
    )
    assert held["held_until"] is not None
    other = "col2" if owner == "col1" else "col1"
    d.refused("POST", f"/cases/{case['id']}/hold", other, 404, "NOT_FOUND", json={"days": 1})
    d.close_days(6)  # past the queue's 5 days without a promise, but held
    assert _case_of(d, loan)["assignee"] == owner
    d.platform.loans.repay(
        loan, _loan(d, loan).overdue_fen, channel="offline", external_ref="RP-H1", actor="test"
    )
    d.close_days(1)
    closed = _case_of(d, loan)
    assert closed["status"] == "closed" and closed["close_reason"] in ("cured", "settled")
    d.refused(
        "POST",
        f"/cases/{case['id']}/calls",
        owner,
        409,
        "COLLECTION_CASE_CLOSED",
        json={"contact": "borrower", "connection": "no_answer"},
    )
    with d.platform.reads() as session:
        from xindai.store.models_collections import ContactAction

        kept = session.scalars(select(ContactAction).where(ContactAction.kind == "hold")).all()
        assert kept  # every action recorded
