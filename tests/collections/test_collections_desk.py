"""What the workbench's pickers offer and what its history shows, on SQLite and PostgreSQL:
a field visit's colleagues (same team, or same agency; names only) and a visit refusing
anyone else, the approved SMS templates a collector may send (a new version only once a
second person approved it), and a call's promise in the case's history."""

from __future__ import annotations

from datetime import timedelta

from tests.collections.support import Desk, desk_fixture  # noqa: F401

SMS = "/api/v1/admin/sms"


def test_colleagues_templates_and_the_promise_in_the_history(desk: Desk) -> None:
    d = desk
    ids = {name: d.staff_id(name) for name in ("col1", "col2", "col3", "agency1", "agency2")}
    agency = d.call(
        "POST",
        "/agencies",
        "ops",
        201,
        json={"code": "desk_a", "name": "甲", "commission_rate": "10%"},
    )
    for user in ("agency1", "agency2"):
        d.call("POST", f"/agencies/{agency['id']}/users", "ops", json={"staff_id": ids[user]})
    d.call(
        "PUT",
        "/queues/M1",
        "ops",
        json={
            "name_zh": "M1",
            "name_en": "M1",
            "dpd_min": 1,
            "dpd_max": 30,
            "owner": "inhouse",
            "allocation": "round_robin",
            "members": [
                {"staff_id": ids["col1"], "team": "east"},
                {"staff_id": ids["col2"], "team": "east"},
                {"staff_id": ids["col3"], "team": "west"},
            ],
        },
    )
    # colleagues: the same team (col3 is west), the same agency, nothing but the name
    assert d.call("GET", "/colleagues", "col1")["items"] == [{"id": ids["col2"], "name": "col2"}]
    assert d.call("GET", "/colleagues", "col3")["items"] == []
    assert d.call("GET", "/colleagues", "agency1")["items"] == [
        {"id": ids["agency2"], "name": "agency2"}
    ]
    d.refused("GET", "/colleagues", "ops", 403, "PERMISSION_DENIED")

    loan = d.book()
    d.close_days(18)
    case = d.call("GET", f"/cases?q={loan}", "ops")["items"][0]
    d.call(
        "POST", f"/cases/{case['id']}/assign", "ops", json={"staff_id": ids["col1"], "reason": "x"}
    )
    planned = (d.business_date() + timedelta(days=1)).isoformat()
    visits = f"/cases/{case['id']}/visits"
    for stranger in ("col3", "agency1"):  # another team's collector, an agency's user
        body = {"companions": [ids[stranger]], "planned_on": planned}
        d.refused("POST", visits, "col1", 400, "COLLECTION_VISIT_COMPANIONS", json=body)
    visit = d.call(
        "POST", visits, "col1", 201, json={"companions": [ids["col2"]], "planned_on": planned}
    )
    assert visit["companions"] == ["col2"]

    # templates: the approved collection and reminder ones; a new one once approved
    codes = {t["code"]: t for t in d.call("GET", "/sms-templates", "col1")["items"]}
    assert {"OVERDUE_NOTICE", "REPAYMENT_REMINDER"} <= set(codes)
    assert {t["purpose"] for t in codes.values()} <= {"collection", "reminder"}
    assert "{amount}" in codes["OVERDUE_NOTICE"]["text"] and codes["OVERDUE_NOTICE"]["variables"]
    ops = d.auth("ops")
    draft = d.client.post(
        f"{SMS}/templates",
        headers=ops,
        json={
            "code": "COLL_SOFT",
            "purpose": "collection",
            "text": "【信贷】您的借款已逾期{days}天，请尽快还款。",
        },
    )
    assert draft.status_code == 201, draft.text
    listed = {t["code"] for t in d.call("GET", "/sms-templates", "col1")["items"]}
    assert "COLL_SOFT" not in listed  # a draft is not sent
    approved = d.client.post(
        f"{SMS}/templates/{draft.json()['id']}/approve", headers=d.auth("ops2"), json={}
    )
    assert approved.status_code == 200, approved.text
    soft = next(
        t for t in d.call("GET", "/sms-templates", "col1")["items"] if t["code"] == "COLL_SOFT"
    )
    assert soft == {
        "code": "COLL_SOFT",
        "version": 1,
        "purpose": "collection",
        "text": "【信贷】您的借款已逾期{days}天，请尽快还款。",
        "variables": ["days"],
    }
    assert "PAYOUT_NOTICE" not in listed  # a notice is not a collection message

    # the history: a call that made a promise carries its amount and date
    promised_on = (d.business_date() + timedelta(days=3)).isoformat()
    calls = f"/cases/{case['id']}/calls"
    d.call("POST", calls, "col1", 201, json={"contact": "borrower", "connection": "no_answer"})
    d.call(
        "POST",
        calls,
        "col1",
        201,
        json={
            "contact": "borrower",
            "connection": "connected",
            "party": "self",
            "result": "promise",
            "promise": {"amount": "300.00", "promised_on": promised_on},
        },
    )
    history = d.call("GET", f"/cases/{case['id']}", "col1")["history"]
    promising, unanswered = history[0], history[1]
    assert promising["kind"] == "call" and promising["result"] == "promise"
    assert promising["promise"] == {
        "amount": "300.00",
        "promised_on": promised_on,
        "status": "pending",
    }
    assert unanswered["connection"] == "no_answer" and unanswered["promise"] is None
    assert history[2]["kind"] == "visit" and history[2]["promise"] is None
