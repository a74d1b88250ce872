"""Early warning (预警监控) on SQLite and PostgreSQL, with the bureau simulator as its own
process: each watch-list rule hits when it should and not otherwise — a bureau refresh
(the day's sample, or triggered by another hit) against the report stored with the
decision, missed withholdings, a changed device or phone, a contact newly overdue here —;
the effects (a case's priority raised; a pre-due case opened, queued in the pre-due
queue, seen in the workbench by its collector only, closed on settlement or turned into
the normal case once overdue); a rerun of the step adds nothing; the admin API's scope,
configuration, permissions, audit and export."""

from __future__ import annotations

import io
import json
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from tests.collections.support import Desk, desk_fixture  # noqa: F401

from xindai.cob.registry import StepContext
from xindai.cob.sql import Dialect
from xindai.collections.warning_rules import check_rules, default_rules
from xindai.collections.warnings_bureau import sampled
from xindai.collections.warnings_cob import early_warning_step
from xindai.errors import InvalidValue
from xindai.integrations.simulators.people import make_id_number
from xindai.risk.antifraud.bureau import bureau_features
from xindai.store.models import Borrower
from xindai.store.models_collections import (
    CollectionCase,
    CollectionQueue,
    QueueMember,
    WarningHit,
)
from xindai.store.models_origination import (
    Application,
    AuditEvent,
    Contact,
    DecisionRecord,
    Withholding,
)

WARN = "/warnings"


# ------------------------------------------------------------------ the watch list as data


def test_the_watch_list_has_spec_defaults_and_refuses_what_is_not_a_rule() -> None:
    rules = default_rules()
    assert set(rules.rules) == {
        "bureau_multi_lending",
        "bureau_external_overdue",
        "missed_withholding",
        "device_changed",
        "contact_overdue",
    }
    assert rules.rules["missed_withholding"].params == {"failures": 3, "days": 7}
    assert rules.rules["bureau_external_overdue"].effect == "open_precase"
    assert check_rules(rules.document()) == rules  # what is stored reads back the same
    edited = check_rules(
        {"rules": [{"code": "device_changed", "enabled": False, "effect": "none", "by": 0}]}
    )
    assert not edited.rules["device_changed"].enabled
    assert edited.rules["contact_overdue"] == rules.rules["contact_overdue"]
    for bad in (
        {"rules": [{"code": "no_such_rule"}]},
        {"rules": [{"code": "missed_withholding", "params": {"failures": 0}}]},
        {"rules": [{"code": "missed_withholding", "params": {"hours": 3}}]},
        {"rules": [{"code": "bureau_multi_lending", "params": {"window_days": 45}}]},
        {"rules": [{"code": "contact_overdue", "effect": "call_the_police"}]},
        {"rules": [{"code": "contact_overdue", "by": -1}]},
        {"rules": [{"code": "contact_overdue"}, {"code": "contact_overdue"}]},
        {"bureau_refresh": {"sample_bp": 10_001}},
        {"colour": "red"},
    ):
        with pytest.raises(InvalidValue):
            check_rules(bad)


def test_the_sample_takes_every_loan_in_turn() -> None:
    day = date(2026, 3, 2)
    picked = [n for n in range(1, 100_001) if sampled(n, day, 10)]
    assert len(picked) == 100  # 10 basis points of the loans a day
    # over 1,000 days a loan is in the sample exactly once (the day term walks every residue)
    assert sum(sampled(12_345, day + timedelta(days=k), 10) for k in range(1_000)) == 1


# ------------------------------------------------------------------ helpers


def _person(desk: Desk, *, mobile: str | None = None, contacts: tuple[str, ...] = ()) -> int:
    """A borrower with a resident ID and a name (the bureau's keys), a mobile and the given
    emergency contacts' phones (two made-up ones when none is given)."""
    cipher = desk.platform.cipher
    mobile = mobile or desk.new_phone()
    id_number = make_id_number(uuid.uuid4().hex)
    with desk.platform.sessions.begin() as session:
        borrower = Borrower(
            display_name="李*",
            channel="default",
            created_on=desk.business_date(),
            mobile_hash=cipher.lookup_hash("phone", mobile),
            mobile_enc=cipher.encrypt("phone", mobile),
            name_enc=cipher.encrypt("name", "李四"),
            id_number_enc=cipher.encrypt("id_number", id_number),
            id_number_hash=cipher.lookup_hash("id_number", id_number),
            kyc_status="verified",
        )
        session.add(borrower)
        session.flush()
        for seq, phone in enumerate(contacts or (desk.new_phone(), desk.new_phone()), start=1):
            session.add(
                Contact(
                    borrower_id=borrower.id,
                    seq=seq,
                    name_enc=cipher.encrypt("name", "联系人"),
                    phone_enc=cipher.encrypt("phone", phone),
                    phone_hash=cipher.lookup_hash("phone", phone),
                    relation="parent" if seq == 1 else "friend",
                )
            )
        return int(borrower.id)


def _id_number(desk: Desk, borrower_id: int) -> str:
    with desk.platform.reads() as session:
        borrower = session.get(Borrower, borrower_id)
        assert borrower is not None and borrower.id_number_enc
        return str(desk.platform.cipher.decrypt("id_number", borrower.id_number_enc))


def _loan(desk: Desk, borrower_id: int, *, device: str = "device-A", code: str = "CASH14") -> int:
    """A loan paid out today whose application names `device` and the borrower's mobile, and
    whose decision stored the bureau features of the report the bureau gives today."""
    p = desk.platform
    amount, term = (300_000, 3) if code == "INST12" else (100_000, 14)
    loan_id = desk.book(code, amount, term, borrower_id=borrower_id)
    today = desk.business_date()
    report = p.providers.bureau.report(_id_number(desk, borrower_id), "李四", as_of=today)
    features = bureau_features(report, datetime.combine(today, time.max))
    with p.sessions.begin() as session:
        borrower = session.get(Borrower, borrower_id)
        assert borrower is not None
        application = session.scalar(select(Application).where(Application.loan_id == loan_id))
        assert application is not None
        application.device_hash = p.cipher.lookup_hash("device", device)
        application.phone_hash = borrower.mobile_hash
        application.id_number_hash = borrower.id_number_hash
        session.add(
            DecisionRecord(
                application_id=application.id,
                path="engine",
                outcome="approve",
                reasons="[]",
                detail="{}",
                inputs=json.dumps({"features": features}),
                created_at=desk.clock(),
            )
        )
    return loan_id


def _apply_again(desk: Desk, borrower_id: int, device: str) -> int:
    """A later application of the borrower (e.g. a second loan asked for) from `device`."""
    p = desk.platform
    with p.sessions.begin() as session:
        borrower = session.get(Borrower, borrower_id)
        assert borrower is not None
        application = Application(
            borrower_id=borrower_id,
            product_code="CASH14",
            product_version=1,
            amount_fen=100_000,
            term=14,
            purpose="consumption",
            card_id=0,
            status="rejected",
            annual_rate="0.18",
            apr="0.18",
            quote="{}",
            created_at=desk.clock(),
            device_hash=p.cipher.lookup_hash("device", device),
            phone_hash=borrower.mobile_hash,
        )
        session.add(application)
        session.flush()
        return int(application.id)


def _failed_withholdings(desk: Desk, loan_id: int, days_ago: tuple[int, ...]) -> None:
    """Withholdings of the loan the channel answered failed (insufficient funds), as the
    payment path records them, on the business dates `days_ago` before today."""
    today = desk.business_date()
    with desk.platform.sessions.begin() as session:
        for n in days_ago:
            session.add(
                Withholding(
                    request_ref=f"WH-{uuid.uuid4().hex[:16]}",
                    loan_id=loan_id,
                    business_date=today - timedelta(days=n),
                    amount_fen=10_000,
                    purpose="repayment",
                    status="failed",
                    origin="auto",
                    created_at=desk.clock(),
                    reason="insufficient_funds",
                )
            )


def _hits(desk: Desk, loan_id: int, rule: str | None = None) -> list[WarningHit]:
    with desk.platform.reads() as session:
        stmt = select(WarningHit).where(WarningHit.loan_id == loan_id).order_by(WarningHit.id)
        if rule is not None:
            stmt = stmt.where(WarningHit.rule_code == rule)
        return list(session.scalars(stmt))


def _case(desk: Desk, loan_id: int) -> CollectionCase | None:
    with desk.platform.reads() as session:
        return session.scalar(
            select(CollectionCase)
            .where(CollectionCase.loan_id == loan_id)
            .order_by(CollectionCase.id.desc())
        )


def _rules(desk: Desk, **refresh: Any) -> None:
    """The watch list (defaults) with the bureau refresh's settings changed, through the API."""
    body = default_rules().document()
    body["bureau_refresh"].update(refresh)
    desk.call("PUT", f"{WARN}/rules", "ops", json=body)


def _rerun_step(desk: Desk, day: date) -> int:
    """The early_warning step once more for `day` over every loan, as a resumed close of
    business would run a partition again (with the bureau: after commit too)."""
    engine = desk.platform.sessions.kw["bind"]
    run = early_warning_step(desk.platform)
    with engine.connect() as connection:
        with connection.begin():
            ctx = StepContext(connection, Dialect(connection.dialect), day, lo=0, hi=2**62)
            touched = run(ctx)
        for call in ctx.after_commit:
            call()
    return touched


def _members(desk: Desk, queue: str, *usernames: str) -> None:
    ids = [desk.staff_id(name) for name in usernames]
    with desk.platform.sessions.begin() as session:
        q = session.scalar(select(CollectionQueue).where(CollectionQueue.code == queue))
        assert q is not None
        session.execute(QueueMember.__table__.delete().where(QueueMember.queue_id == q.id))
        for staff_id in ids:
            session.add(QueueMember(queue_id=q.id, staff_id=staff_id, weight=100))


# ------------------------------------------------------------------ behaviour rules


def test_missed_withholdings_raise_the_case_once(desk: Desk) -> None:
    _rules(desk, sample_bp=0, on_trigger=False)  # no bureau here
    _members(desk, "M1", "col1")
    late, few, old, current = (_loan(desk, _person(desk)) for _ in range(4))
    desk.close_days(17)  # CASH14 paid out on the 2nd: due the 16th, overdue past 2 days' grace
    assert _case(desk, late) is None
    desk.close_days(1)
    case = _case(desk, late)
    assert case is not None and case.status == "open" and not case.pre_due
    before = case.priority
    _failed_withholdings(desk, late, (0, 1, 2))  # three in the last 7 days: a hit
    _failed_withholdings(desk, few, (0, 1))  # two: none
    _failed_withholdings(desk, old, (0, 9, 10))  # only one inside the window: none
    _failed_withholdings(desk, current, (0, 1, 2, 3))  # a loan …
    desk.platform.loans.repay(  # … paid off today (not open any more): none
        current, 200_000, value_date=desk.business_date(), channel="offline",
        external_ref=f"RP-{uuid.uuid4().hex[:8]}", actor="test",
    )  # fmt: skip
    day = desk.business_date()
    desk.close_days(1)
    [hit] = _hits(desk, late)
    assert (hit.rule_code, hit.business_date, hit.outcome) == ("missed_withholding", day, "raised")
    assert json.loads(hit.detail)["failures"] == 3
    assert hit.case_id == case.id and hit.effect_by == 2_000
    assert not _hits(desk, few) and not _hits(desk, old) and not _hits(desk, current)
    raised = _case(desk, late)
    assert raised is not None
    assert raised.warning_priority == 2_000 and raised.priority >= before + 2_000
    # the step again for the same date (a resumed close of business): nothing more
    assert _rerun_step(desk, day) == 0
    assert len(_hits(desk, late)) == 1
    again = _case(desk, late)
    assert again is not None and again.priority == raised.priority
    # the failures are still inside the window tomorrow: not raised a second time
    _failed_withholdings(desk, late, (0,))
    desk.close_days(1)
    assert len(_hits(desk, late)) == 1


def test_a_changed_device_or_phone_is_raised_once_per_new_application(desk: Desk) -> None:
    _rules(desk, sample_bp=0, on_trigger=False)
    moved, stayed = _person(desk), _person(desk)
    moved_loan = _loan(desk, moved, device="phone-1")
    stayed_loan = _loan(desk, stayed, device="phone-9")
    desk.close_days(1)
    assert not _hits(desk, moved_loan, "device_changed")
    application = _apply_again(desk, moved, "phone-2")  # another device
    _apply_again(desk, stayed, "phone-9")  # the same device
    desk.close_days(1)
    [hit] = _hits(desk, moved_loan, "device_changed")
    assert json.loads(hit.detail) == {
        "application_id": application,
        "loan_application_id": json.loads(hit.detail)["loan_application_id"],
        "device": True,
        "phone": False,
    }
    assert hit.outcome == "no_case"  # a current loan has no case to raise
    assert not _hits(desk, stayed_loan, "device_changed")
    desk.close_days(2)  # the same application inside the lookback: not raised again
    assert len(_hits(desk, moved_loan, "device_changed")) == 1
    # a new phone on file (the application records the borrower's mobile then)
    with desk.platform.sessions.begin() as session:
        session.execute(
            update(Borrower)
            .where(Borrower.id == moved)
            .values(mobile_hash=desk.platform.cipher.lookup_hash("phone", desk.new_phone()))
        )
    _apply_again(desk, moved, "phone-1")
    desk.close_days(1)
    newest = _hits(desk, moved_loan, "device_changed")[-1]
    assert len(_hits(desk, moved_loan, "device_changed")) == 2
    assert json.loads(newest.detail)["phone"] is True


def test_a_contact_newly_overdue_here(desk: Desk) -> None:
    _rules(desk, sample_bp=0, on_trigger=False)
    shared = desk.new_phone()
    friend = _person(desk, mobile=shared)  # a borrower of ours …
    watched = _person(desk, contacts=(shared, desk.new_phone()))  # … named by this one
    unrelated = _person(desk)
    friends_loan = _loan(desk, friend)  # CASH14: overdue from the close of day 17
    watched_loan = _loan(desk, watched, code="INST12")  # first due in a month
    other_loan = _loan(desk, unrelated, code="INST12")
    desk.close_days(17)
    assert not _hits(desk, watched_loan, "contact_overdue")
    desk.close_days(1)
    [hit] = _hits(desk, watched_loan, "contact_overdue")
    assert json.loads(hit.detail) == {"contacts": 1, "max_contact_dpd": 3, "relations": "parent"}
    assert not _hits(desk, other_loan, "contact_overdue")
    assert not _hits(desk, friends_loan, "contact_overdue")  # not its own contact
    desk.close_days(3)  # still newly overdue: not again inside the 7 days
    assert len(_hits(desk, watched_loan, "contact_overdue")) == 1


# ------------------------------------------------------------------ bureau refresh, pre-due cases


def test_the_bureau_refresh_opens_pre_due_cases_seen_by_their_collector_only(desk: Desk) -> None:
    d = desk
    sim = d.sim.control
    _members(d, "PRE", "col3")
    _members(d, "M1", "col1")
    _rules(d, sample_bp=0, on_trigger=False)
    lender, defaulter, steady, settler = (_person(d) for _ in range(4))
    lender_loan = _loan(d, lender, code="INST12")
    defaulter_loan = _loan(d, defaulter)  # CASH14: overdue after day 16
    steady_loan = _loan(d, steady, code="INST12")
    settler_loan = _loan(d, settler, code="INST12")
    d.close_days(1)
    # the day after, at other lenders: five new applications, a loan overdue
    today = d.business_date()
    sim.bureau_event(_id_number(d, lender), today, applications=5)
    sim.bureau_event(_id_number(d, defaulter), today, overdue_loans=1)
    sim.bureau_event(_id_number(d, settler), today, applications=3)
    sim.bureau_event(_id_number(d, steady), today, applications=1)  # below the threshold
    _rules(d, sample_bp=10_000, on_trigger=False)  # every open loan refreshed today
    d.close_days(1)
    [multi] = _hits(d, lender_loan)
    assert multi.rule_code == "bureau_multi_lending" and multi.outcome == "precase"
    detail = json.loads(multi.detail)
    assert (detail["increase"], detail["window"], detail["reason"]) == (5, "1m", "sample")
    [overdue] = _hits(d, defaulter_loan)
    assert overdue.rule_code == "bureau_external_overdue" and overdue.outcome == "precase"
    assert json.loads(overdue.detail)["increase"] == 1
    assert not _hits(d, steady_loan)
    pre = _case(d, lender_loan)
    assert pre is not None and pre.pre_due and pre.status == "open" and pre.dpd == 0
    assert pre.assignee_id == d.staff_id("col3") and pre.warning_priority == 2_000
    with d.platform.reads() as session:
        queue = session.get(CollectionQueue, pre.queue_id)
        assert queue is not None and queue.code == "PRE"
    # the pre-due case in its collector's workbench, nobody else's
    mine = d.call("GET", "/cases", "col3")["items"]
    assert {c["loan_id"] for c in mine} >= {lender_loan, defaulter_loan}
    assert all(c["pre_due"] for c in mine if c["loan_id"] in (lender_loan, defaulter_loan))
    assert d.call("GET", "/next", "col3")["case"]["pre_due"] is True
    assert lender_loan not in {c["loan_id"] for c in d.call("GET", "/cases", "col1")["items"]}
    d.refused("GET", f"/cases/{pre.id}", "col1", 404, "NOT_FOUND")
    # the same figures tomorrow are not raised again; the step again today adds nothing
    day = d.business_date() - timedelta(days=1)
    assert _rerun_step(d, day) == 0
    d.close_days(1)
    assert len(_hits(d, lender_loan)) == 1 and len(_hits(d, defaulter_loan)) == 1
    # a pre-due case stays open at DPD 0, closes when the loan is settled …
    _rules(d, sample_bp=0, on_trigger=False)
    settled_case = _case(d, settler_loan)
    assert settled_case is not None and settled_case.pre_due
    payoff = d.platform.loans.quote_payoff(settler_loan)
    d.platform.loans.settle_early(settler_loan, amount_fen=payoff.total_fen, actor="test")
    d.close_days(1)
    closed = _case(d, settler_loan)
    assert closed is not None and (closed.status, closed.close_reason) == ("closed", "settled")
    still = _case(d, lender_loan)
    assert still is not None and still.status == "open" and still.pre_due
    # … and once overdue it is the loan's normal case, in the queue of its DPD
    d.close_days(14)  # the defaulter's CASH14 (paid out on day 1) is overdue at the close of day 18
    turned = _case(d, defaulter_loan)
    assert turned is not None and turned.id == _hits(d, defaulter_loan)[0].case_id
    assert not turned.pre_due and turned.status == "open" and turned.dpd >= 1
    assert turned.opened_on == d.business_date() - timedelta(days=1)
    assert turned.assignee_id == d.staff_id("col1") and turned.warning_priority == 5_000
    with d.platform.reads() as session:
        m1 = session.get(CollectionQueue, turned.queue_id)
        assert m1 is not None and m1.code == "M1"
        opened = session.scalar(
            select(func.count())
            .select_from(CollectionCase)
            .where(CollectionCase.loan_id == defaulter_loan)
        )
    assert opened == 1  # the same case, not a second one


def test_another_hit_triggers_a_refresh(desk: Desk) -> None:
    d = desk
    _rules(d, sample_bp=0, on_trigger=True)
    person = _person(d)
    loan = _loan(d, person, code="INST12", device="old-phone")
    d.close_days(1)
    d.sim.control.bureau_event(_id_number(d, person), d.business_date(), applications=4)
    d.close_days(1)
    assert not _hits(d, loan, "bureau_multi_lending")  # not sampled, nothing triggered it
    _apply_again(d, person, "new-phone")
    d.close_days(1)
    rules = {h.rule_code: h for h in _hits(d, loan)}
    assert set(rules) == {"device_changed", "bureau_multi_lending"}
    assert json.loads(rules["bureau_multi_lending"].detail)["reason"] == "trigger"
    # the raise of the device change lands on the pre-due case the bureau hit opened
    case = _case(d, loan)
    assert case is not None and case.pre_due
    assert case.warning_priority == 1_000 + 2_000
    assert {h.outcome for h in rules.values()} <= {"raised", "precase"}


# ------------------------------------------------------------------ the admin API


def test_hits_through_the_api_scope_chart_rules_audit_and_export(desk: Desk) -> None:
    d = desk
    _rules(d, sample_bp=0, on_trigger=False)
    _members(d, "PRE", "col2")
    seen = d.call("GET", WARN, "ops", params={"page_size": 100})
    assert seen["total"] >= 1
    row = seen["items"][0]
    assert {"rule_zh", "rule_en", "summary_zh", "summary_en", "outcome_zh"} <= set(row)
    assert row["borrower_name"].endswith("*")
    # a collector sees the hits of its cases' loans only
    loan = _loan(d, _person(d), code="INST12", device="a")
    d.close_days(1)
    _apply_again(d, _borrower_of(d, loan), "b")
    body = default_rules().document()  # a device change opens a pre-due case
    for rule in body["rules"]:
        if rule["code"] == "device_changed":
            rule["effect"] = "open_precase"
    body["bureau_refresh"] = {"sample_bp": 0, "on_trigger": False}
    saved = d.call("PUT", f"{WARN}/rules", "ops", json=body)
    assert {r["code"]: r["effect"] for r in saved["rules"]}["device_changed"] == "open_precase"
    d.close_days(1)
    [hit] = _hits(d, loan)
    assert hit.outcome == "precase"
    col2_rows = d.call("GET", WARN, "col2")["items"]
    assert hit.id in {r["id"] for r in col2_rows}
    assert {r["loan_id"] for r in col2_rows} <= _loans_of(d, "col2")
    assert hit.id not in {r["id"] for r in d.call("GET", WARN, "col1")["items"]}
    # an agency's user: nothing until a case is placed with its agency, then that one's
    agency = d.call(
        "POST", "/agencies", "ops", 201,
        json={"code": f"ew_{uuid.uuid4().hex[:6]}", "name": "预警委外", "commission_rate": "10%"},
    )  # fmt: skip
    d.call(
        "POST", f"/agencies/{agency['id']}/users", "ops", json={"staff_id": d.staff_id("agency1")}
    )
    assert d.call("GET", WARN, "agency1")["items"] == []
    d.call(
        "POST", f"/cases/{hit.case_id}/assign", "ops",
        json={"agency_id": agency["id"], "reason": "预警委外"},
    )  # fmt: skip
    assert [r["id"] for r in d.call("GET", WARN, "agency1")["items"]] == [hit.id]
    # filters, the chart's figures
    filtered = d.call("GET", WARN, "ops", params={"rule_code": "device_changed", "q": str(loan)})
    assert [r["id"] for r in filtered["items"]] == [hit.id]
    daily = d.call("GET", f"{WARN}/daily", "ops")
    assert {"code", "name_zh", "name_en"} <= set(daily["rules"][0])
    day = hit.business_date.isoformat()
    assert any(
        i["business_date"] == day and i["rule_code"] == "device_changed" and i["hits"] >= 1
        for i in daily["items"]
    )
    assert d.call("GET", f"{WARN}/daily", "agency1")["items"] == [
        {"business_date": day, "rule_code": "device_changed", "hits": 1}
    ]
    # the configuration: read by collectors, changed only by the managers, validated, audited
    assert d.call("GET", f"{WARN}/rules", "col1")["bureau_refresh"]["sample_bp"] == 0
    d.refused("PUT", f"{WARN}/rules", "col1", 403, "PERMISSION_DENIED", json=body)
    bad = json.loads(json.dumps(body))
    bad["rules"][2]["params"] = {"failures": 99}
    d.refused("PUT", f"{WARN}/rules", "ops", 400, "INVALID_VALUE", json=bad)
    with d.platform.reads() as session:
        audited = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "collection.early_warning")
        ).all()
    assert audited and json.loads(audited[-1].after or "{}")["bureau_refresh"]["sample_bp"] == 0
    # the export: the screen's rows, masked as the screen
    from openpyxl import load_workbook

    content = d.call("GET", f"{WARN}/export", "ops", params={"rule_code": "device_changed"})
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("编号", "营业日", "预警规则")
    assert any(r[0] == hit.id and str(r[4]).endswith("*") for r in rows[1:])
    d.refused("GET", f"{WARN}/export", "col1", 403, "PERMISSION_DENIED")


def _borrower_of(desk: Desk, loan_id: int) -> int:
    with desk.platform.reads() as session:
        found = session.scalar(
            select(Application.borrower_id).where(Application.loan_id == loan_id)
        )
        assert found is not None
        return int(found)


def _loans_of(desk: Desk, username: str) -> set[int]:
    with desk.platform.reads() as session:
        return {
            int(i)
            for i in session.scalars(
                select(CollectionCase.loan_id).where(
                    CollectionCase.assignee_id == desk.staff_id(username)
                )
            )
        }


def test_the_daily_cap_bounds_the_bureau_refresh(desk: Desk) -> None:
    d = desk
    people = [_person(d) for _ in range(2)]
    loans = [_loan(d, p, code="INST12") for p in people]
    d.close_days(1)
    for person in people:
        d.sim.control.bureau_event(_id_number(d, person), d.business_date(), applications=6)
    _rules(d, sample_bp=10_000, on_trigger=False, max_per_day=1)  # one report today
    d.close_days(1)
    with d.platform.reads() as session:
        hits = session.scalar(
            select(func.count())
            .select_from(WarningHit)
            .where(WarningHit.business_date == d.business_date() - timedelta(days=1))
            .where(WarningHit.rule_code.like("bureau%"))
        )
    assert hits == 0  # the one report went to the book's first loan, which has not changed
    _rules(d, sample_bp=10_000, on_trigger=False, max_per_day=100_000)
    d.close_days(1)
    assert all(len(_hits(d, loan, "bureau_multi_lending")) == 1 for loan in loans)
    _rules(d, sample_bp=0, on_trigger=False)
