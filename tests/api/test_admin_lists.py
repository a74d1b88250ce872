"""The console's lists and details over HTTP on a few hundred synthetic loans (SQLite and
PostgreSQL): paging, sorting, filters and search in the database; an agent's channel scope
(rows and a 404 on another channel's record); masks in the JSON and in the xlsx export;
export and reveal permissions and their audit."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from tests.api.lists_support import (
    AGENT_CHANNEL,
    LOANS,
    START,
    Lists,
    lists_fixture,  # noqa: F401
)

from xindai.bench.console_book import channel_of, id_number_of, mobile_of, name_of
from xindai.ledger.reports import trial_balance
from xindai.security.pii import mask_id, mask_phone
from xindai.store.models import Borrower, Loan, LoanSnapshot
from xindai.store.models_origination import Application, AuditEvent, Payout, Withholding
from xindai.store.repository import load_product

ADMIN = "/api/v1/admin"


def scalar(lists: Lists, query: Any) -> Any:
    with lists.platform.sessions() as session:
        return session.scalar(query)


def column(lists: Lists, query: Any) -> list[Any]:
    with lists.platform.sessions() as session:
        return list(session.scalars(query))


def every_page(lists: Lists, user: str, path: str, **params: Any) -> Iterator[dict[str, Any]]:
    page = 1
    while True:
        body = lists.get(user, path, page=page, page_size=100, **params)
        yield from body["items"]
        if page * 100 >= body["total"]:
            return
        page += 1


# ------------------------------------------------------------------ paging and sorting


def test_pages_split_the_list_without_overlap(lists: Lists) -> None:
    first = lists.get("risk", f"{ADMIN}/borrowers", page=1, page_size=7)
    assert first["total"] == LOANS and first["page"] == 1 and first["page_size"] == 7
    seen: list[int] = []
    for page in range(1, LOANS // 7 + 2):
        body = lists.get("risk", f"{ADMIN}/borrowers", page=page, page_size=7)
        seen += [row["id"] for row in body["items"]]
    assert seen == list(range(LOANS, 0, -1))  # default sort: newest first
    past_the_end = lists.get("risk", f"{ADMIN}/borrowers", page=99, page_size=100)
    assert past_the_end["items"] == [] and past_the_end["total"] == LOANS


@pytest.mark.parametrize(
    ("sort", "key"),
    [("principal", "principal"), ("-dpd", "dpd"), ("disbursed_on", "disbursed_on")],
)
def test_loans_sort_in_the_database(lists: Lists, sort: str, key: str) -> None:
    rows = list(every_page(lists, "risk", f"{ADMIN}/loans", sort=sort))
    assert len(rows) == LOANS
    values = [float(r[key]) if key == "principal" else r[key] for r in rows]
    assert values == sorted(values, reverse=sort.startswith("-"))
    # ties broken by id in the same direction: no row twice
    assert len({r["id"] for r in rows}) == LOANS


def test_an_unknown_sort_field_or_page_size_is_a_422(lists: Lists) -> None:
    auth = lists.auth("risk")
    for params in ({"sort": "name"}, {"sort": "-"}, {"page_size": 101}, {"page": 0}):
        answer = lists.client.get(f"{ADMIN}/loans", headers=auth, params=params)
        assert answer.status_code == 422, params
        assert answer.json()["code"] == "VALIDATION_ERROR"
    document = lists.client.get("/openapi.json").json()
    parameters = document["paths"][f"{ADMIN}/loans"]["get"]["parameters"]
    sort = next(p for p in parameters if p["name"] == "sort")
    assert "-dpd" in sort["schema"]["enum"] and "dpd" in sort["schema"]["enum"]


# ------------------------------------------------------------------ filters and search


def test_loan_filters_select_what_the_database_holds(lists: Lists) -> None:
    overdue = list(every_page(lists, "risk", f"{ADMIN}/loans", status="overdue"))
    assert {r["status"] for r in overdue} == {"overdue"}
    assert len(overdue) == scalar(
        lists, select(func.count()).select_from(Loan).where(Loan.status == "overdue")
    )
    m1 = list(every_page(lists, "risk", f"{ADMIN}/loans", bucket="M1", dpd_min=5, dpd_max=20))
    expected = column(lists, select(Loan.id).where(Loan.bucket == "M1", Loan.dpd.between(5, 20)))
    assert sorted(r["id"] for r in m1) == sorted(expected) and expected
    assert all(5 <= r["dpd"] <= 20 and r["bucket"] == "M1" for r in m1)
    first = START - timedelta(days=60)
    recent = list(every_page(lists, "risk", f"{ADMIN}/loans", disbursed_from=first.isoformat()))
    assert sorted(r["id"] for r in recent) == sorted(
        column(lists, select(Loan.id).where(Loan.disbursed_on >= first))
    )
    product = recent[0]["product"]
    by_product = lists.get("risk", f"{ADMIN}/loans", product_code=product)
    assert by_product["total"] == scalar(
        lists, select(func.count()).select_from(Loan).where(Loan.product_code == product)
    )
    # a term is shown with its unit: the product version's period unit
    with lists.platform.sessions() as session:
        for row in recent[:20]:
            loan = session.get(Loan, row["id"])
            assert loan is not None
            unit = load_product(session, loan.product_code, loan.product_version).period_unit
            assert row["term_unit"] == unit.value and row["term"] == loan.term
    douyin = lists.get("risk", f"{ADMIN}/loans", channel="douyin", page_size=100)
    assert {r["channel"] for r in douyin["items"]} == {"douyin"}
    assert douyin["total"] == sum(1 for k in range(1, LOANS + 1) if channel_of(k) == "douyin")


def test_application_and_payout_filters(lists: Lists) -> None:
    rejected = lists.get("risk", f"{ADMIN}/applications", status="rejected", page_size=100)
    assert rejected["total"] == scalar(
        lists,
        select(func.count()).select_from(Application).where(Application.status == "rejected"),
    )
    assert {r["status"] for r in rejected["items"]} == {"rejected"}
    day = START - timedelta(days=3)
    on_day = list(
        every_page(
            lists,
            "risk",
            f"{ADMIN}/applications",
            date_from=day.isoformat(),
            date_to=day.isoformat(),
        )
    )
    assert on_day and {r["created_at"][:10] for r in on_day} == {day.isoformat()}
    failed = lists.get("finance", f"{ADMIN}/payouts", status="failed", page_size=100)
    assert failed["total"] == scalar(
        lists, select(func.count()).select_from(Payout).where(Payout.status == "failed")
    )
    assert failed["items"] and all(r["reason"] == "bank_rejected" for r in failed["items"])
    failures = lists.get("risk", f"{ADMIN}/withholdings", status="failed", page_size=100)
    assert failures["total"] == scalar(
        lists,
        select(func.count()).select_from(Withholding).where(Withholding.status == "failed"),
    )
    assert all(r["reason"] == "insufficient_funds" for r in failures["items"])


@pytest.mark.parametrize("borrower", [7, 123])
def test_search_by_phone_or_id_number_goes_through_the_hashes(lists: Lists, borrower: int) -> None:
    phone, number = mobile_of(borrower), id_number_of(borrower)
    spaced = f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in phone)
    for q in (phone, spaced, full_width, number, number.lower(), str(borrower)):
        found = lists.get("service", f"{ADMIN}/borrowers", q=q)
        assert [r["id"] for r in found["items"]] == [borrower], q
    loans = lists.get("service", f"{ADMIN}/loans", q=phone)
    assert [r["id"] for r in loans["items"]] == [borrower]
    applications = lists.get("service", f"{ADMIN}/applications", q=number)
    assert {r["borrower_id"] for r in applications["items"]} == {borrower}
    assert applications["total"] == scalar(
        lists,
        select(func.count()).select_from(Application).where(Application.borrower_id == borrower),
    )
    for q in ("13999999999", "not a number", phone[:7]):
        assert lists.get("service", f"{ADMIN}/borrowers", q=q)["total"] == 0, q


# ------------------------------------------------------------------ the agent's channel


AGENT_LISTS = (
    ("borrowers", "channel"),
    ("loans", "channel"),
    ("applications", "channel"),
)


def test_an_agent_sees_only_its_channel(lists: Lists) -> None:
    ours = [k for k in range(1, LOANS + 1) if channel_of(k) == AGENT_CHANNEL]
    for resource, key in AGENT_LISTS:
        rows = list(every_page(lists, "agent", f"{ADMIN}/{resource}"))
        assert rows and {r[key] for r in rows} == {AGENT_CHANNEL}, resource
    loans = list(every_page(lists, "agent", f"{ADMIN}/loans"))
    assert sorted(r["id"] for r in loans) == ours
    # asking for another channel gives nothing, not that channel's rows
    assert lists.get("agent", f"{ADMIN}/loans", channel="app")["total"] == 0
    repayments = list(every_page(lists, "agent", f"{ADMIN}/repayments"))
    assert repayments and {r["loan_id"] for r in repayments} <= set(ours)
    withholdings = list(every_page(lists, "agent", f"{ADMIN}/withholdings"))
    assert withholdings and {r["loan_id"] for r in withholdings} <= set(ours)
    everyone = lists.get("risk", f"{ADMIN}/repayments")["total"]
    assert len(repayments) < everyone


def test_an_agent_gets_404_on_another_channels_record(lists: Lists) -> None:
    ours = next(k for k in range(1, LOANS + 1) if channel_of(k) == AGENT_CHANNEL)
    theirs = next(k for k in range(1, LOANS + 1) if channel_of(k) != AGENT_CHANNEL)
    auth = lists.auth("agent")
    for path in ("borrowers/{}", "loans/{}", "applications/{}", "applications/{}/decisions"):
        own = lists.client.get(f"{ADMIN}/{path.format(ours)}", headers=auth)
        assert own.status_code == 200, (path, own.text)
        other = lists.client.get(f"{ADMIN}/{path.format(theirs)}", headers=auth)
        assert other.status_code == 404, (path, other.text)
        assert other.json()["code"] == "NOT_FOUND"
    overview = lists.get("agent", f"{ADMIN}/overview")
    assert overview["channel"] == AGENT_CHANNEL


# ------------------------------------------------------------------ masks, export, reveal


PHONE_WHOLE = re.compile(r"1[3-9][0-9]{9}")


def test_personal_data_is_masked_in_lists_and_details(lists: Lists) -> None:
    body = lists.get("risk", f"{ADMIN}/borrowers", page_size=50)
    for row in body["items"]:
        k = row["id"]
        assert row["phone"] == mask_phone(mobile_of(k))
        assert row["id_number"] == mask_id(id_number_of(k))
        assert row["name"] == name_of(k)[0] + "*"
    detail = lists.get("risk", f"{ADMIN}/borrowers/5")
    text = json.dumps(detail, ensure_ascii=False)
    assert mobile_of(5) not in text and id_number_of(5) not in text and name_of(5) not in text
    assert not PHONE_WHOLE.search(text.replace(detail["borrower"]["phone"], ""))
    assert detail["cards"][0]["card"] == "6222 **** **** 0005"
    assert [c["relation"] for c in detail["contacts"]] == ["parent", "friend"]
    assert all("*" in c["phone"] and "*" in c["name"] for c in detail["contacts"])
    assert [loan["id"] for loan in detail["loans"]] == [5]
    assert detail["applications"] and detail["decisions"]
    application = lists.get("risk", f"{ADMIN}/applications/5")
    assert application["application"]["applicant_phone"] == mask_phone(mobile_of(5))


def _sheet(content: bytes) -> list[list[Any]]:
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    sheet = workbook.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_export_holds_the_screen_rows_masked(lists: Lists) -> None:
    params = {"channel": "douyin", "sort": "registered_on"}
    screen = list(every_page(lists, "risk", f"{ADMIN}/borrowers", **params))
    answer = lists.client.get(
        f"{ADMIN}/borrowers/export", headers=lists.auth("risk"), params=params
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in answer.headers["content-disposition"]
    rows = _sheet(answer.content)
    assert rows[0][:4] == ["客户编号", "姓名", "手机号", "身份证号"]
    assert len(rows) == len(screen) + 1
    for row, shown in zip(rows[1:], screen, strict=True):
        assert row[0] == shown["id"] and row[1] == shown["name"]
        assert row[2] == shown["phone"] and "****" in row[2]
        assert row[3] == shown["id_number"] and "********" in row[3]
    loans = list(every_page(lists, "finance", f"{ADMIN}/loans", status="overdue"))
    exported = _sheet(
        lists.client.get(
            f"{ADMIN}/loans/export", headers=lists.auth("finance"), params={"status": "overdue"}
        ).content
    )
    assert [r[0] for r in exported[1:]] == [row["id"] for row in loans]
    principal = exported[0].index("借款本金")
    assert [f"{r[principal]:.2f}" for r in exported[1:]] == [row["principal"] for row in loans]


def test_an_export_needs_reports_export_and_is_audited(lists: Lists) -> None:
    refused = lists.client.get(f"{ADMIN}/borrowers/export", headers=lists.auth("manager"))
    assert refused.status_code == 403 and refused.json()["code"] == "PERMISSION_DENIED"
    lists.client.get(
        f"{ADMIN}/applications/export", headers=lists.auth("ops"), params={"status": "review"}
    ).raise_for_status()
    with lists.platform.sessions() as session:
        event = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "export", AuditEvent.actor == "ops")
            .order_by(AuditEvent.id.desc())
        ).first()
    assert event is not None and event.resource == "applications"
    after = json.loads(event.after or "{}")
    reviewing = scalar(
        lists,
        select(func.count()).select_from(Application).where(Application.status == "review"),
    )
    assert after["filters"] == {"status": "review"} and after["rows"] == reviewing
    audit = lists.get("admin", f"{ADMIN}/audit", action="export", actor="ops")
    assert audit["total"] >= 1 and audit["items"][0]["resource"] == "applications"


def test_reveal_is_audited_and_needs_pii_read(lists: Lists) -> None:
    path = f"{ADMIN}/borrowers/9/reveal"
    answer = lists.client.post(
        path, headers=lists.auth("risk"), json={"field": "phone", "reason": "回访核实"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"field": "phone", "value": mobile_of(9)}
    number = lists.client.post(path, headers=lists.auth("risk"), json={"field": "id_number"})
    assert number.json()["value"] == id_number_of(9)
    with lists.platform.sessions() as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "borrower.reveal", AuditEvent.resource_id == "9")
            .order_by(AuditEvent.id)
        ).all()
    assert [json.loads(e.after or "{}")["revealed"] for e in events] == ["phone", "id_number"]
    assert all(e.actor == "risk" for e in events) and mobile_of(9) not in (events[0].after or "")
    for user in ("service", "agent", "ops"):
        refused = lists.client.post(path, headers=lists.auth(user), json={"field": "phone"})
        assert refused.status_code == 403, user
    bad = lists.client.post(path, headers=lists.auth("risk"), json={"field": "card"})
    assert bad.status_code == 422


# ------------------------------------------------------------------ details


def test_a_loan_detail_has_schedule_transactions_journal_and_balances(lists: Lists) -> None:
    loan_id = column(lists, select(Loan.id).where(Loan.status == "overdue").limit(1))[0]
    detail = lists.get("finance", f"{ADMIN}/loans/{loan_id}")
    assert detail["loan"]["id"] == loan_id and detail["loan"]["status"] == "overdue"
    assert detail["schedule"] and detail["schedule"][0]["number"] == 1
    kinds = [t["kind"] for t in detail["transactions"]]
    assert kinds[-1] == "disbursement" and detail["transactions_total"] == len(kinds)
    assert detail["journal_total"] == len(detail["journal"]) > 0
    debit = sum(float(line["debit"]) for line in detail["journal"])
    credit = sum(float(line["credit"]) for line in detail["journal"])
    assert round(debit - credit, 2) == 0
    assert float(detail["balances"]["payoff"]) >= float(detail["balances"]["principal"]) > 0
    assert detail["payouts"][-1]["status"] == "succeeded"
    assert detail["application_id"] == loan_id
    missing = lists.client.get(f"{ADMIN}/loans/999999", headers=lists.auth("finance"))
    assert missing.status_code == 404


# ------------------------------------------------------------------ overview and ledger


def test_the_overview_adds_up_from_snapshots_and_flows(lists: Lists) -> None:
    body = lists.get("risk", f"{ADMIN}/overview")
    assert body["business_date"] == START.isoformat()
    last = START - timedelta(days=1)
    assert body["book"]["as_of"] == last.isoformat()
    with lists.platform.sessions() as session:
        principal, loans = session.execute(
            select(func.sum(LoanSnapshot.principal_outstanding_fen), func.count()).where(
                LoanSnapshot.business_date == last
            )
        ).one()
        overdue = session.scalar(
            select(func.sum(LoanSnapshot.principal_outstanding_fen)).where(
                LoanSnapshot.business_date == last, LoanSnapshot.dpd >= 1
            )
        )
        registered = session.scalar(
            select(func.count()).select_from(Borrower).where(Borrower.created_on == last)
        )
    assert body["book"]["open_loans"] == loans
    assert body["book"]["principal_outstanding"] == f"{principal / 100:.2f}"
    assert body["book"]["overdue_principal"] == f"{(overdue or 0) / 100:.2f}"
    expected_rate = f"{(overdue or 0) * 100 / principal:.2f}"
    assert abs(float(body["book"]["overdue_rate"]) - float(expected_rate)) < 0.01
    trend = body["trend"]
    assert [p["business_date"] for p in trend][-1] == last.isoformat()
    assert len(trend) == 30
    assert trend[-1]["registrations"] == registered
    assert sum(p["payouts"] for p in trend) == scalar(
        lists,
        select(func.count())
        .select_from(Loan)
        .where(Loan.disbursed_on >= START - timedelta(days=30), Loan.disbursed_on < START),
    )
    agent = lists.get("agent", f"{ADMIN}/overview")
    assert agent["book"]["open_loans"] == scalar(
        lists,
        select(func.count())
        .select_from(LoanSnapshot)
        .join(Loan, Loan.id == LoanSnapshot.loan_id)
        .where(LoanSnapshot.business_date == last, Loan.channel == AGENT_CHANNEL),
    )
    assert "overdue_rate" in body["definitions"]
    again = lists.get("risk", f"{ADMIN}/overview")
    assert again["book"] == body["book"] and again["trend"] == trend


def test_trial_balance_and_journal_by_account(lists: Lists) -> None:
    body = lists.get("finance", f"{ADMIN}/ledger/trial-balance")
    assert body["balanced"] and body["total_debit"] == body["total_credit"]
    with lists.platform.sessions() as session:
        whole = trial_balance(session, START)
        earlier = trial_balance(session, START - timedelta(days=10))
    assert {r["account"]: r["debit"] for r in body["rows"]} == {
        r.account: f"{r.debit_fen / 100:.2f}" for r in whole.rows
    }
    before = lists.get(
        "finance",
        f"{ADMIN}/ledger/trial-balance",
        as_of=(START - timedelta(days=10)).isoformat(),
    )
    assert before["total_debit"] == f"{earlier.total_debit_fen / 100:.2f}"
    cash = lists.get("finance", f"{ADMIN}/ledger/journal", account="1001", page_size=100)
    assert cash["total"] > 0 and {r["account"] for r in cash["items"]} == {"1001"}
    dates = [r["business_date"] for r in cash["items"]]
    assert dates == sorted(dates, reverse=True)
    assert {r["kind"] for r in cash["items"]} <= {"disbursement", "repayment"}


def test_a_payout_query_without_the_channel_changes_nothing_and_is_audited(
    lists: Lists,
) -> None:
    payout_id = column(lists, select(Payout.id).where(Payout.status == "succeeded").limit(1))[0]
    answer = lists.client.post(f"{ADMIN}/payouts/{payout_id}/query", headers=lists.auth("finance"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "succeeded" and body["unreachable"] == 1  # no channel here
    assert (
        lists.client.post(
            f"{ADMIN}/payouts/{payout_id}/query", headers=lists.auth("risk")
        ).status_code
        == 403
    )
    audit = lists.get("admin", f"{ADMIN}/audit", action="payout.query")
    assert audit["items"][0]["resource_id"] == str(payout_id)


def test_the_audit_log_pages_and_filters(lists: Lists) -> None:
    views = lists.get("admin", f"{ADMIN}/audit", action="borrower.view", page_size=5)
    assert views["total"] >= 5 and {r["action"] for r in views["items"]} == {"borrower.view"}
    stamps = [r["at"] for r in views["items"]]
    assert stamps == sorted(stamps, reverse=True)
    day = (START - timedelta(days=3)).isoformat()
    on_day = lists.get("admin", f"{ADMIN}/audit", date_from=day, date_to=day, page_size=100)
    assert on_day["total"] > 0 and {r["at"][:10] for r in on_day["items"]} == {day}
    assert lists.client.get(f"{ADMIN}/audit", headers=lists.auth("risk")).status_code == 403


def test_repayments_list_transactions_that_move_money(lists: Lists) -> None:
    body = lists.get("finance", f"{ADMIN}/repayments", kind="repayment", page_size=20)
    assert body["total"] > 0 and {r["kind"] for r in body["items"]} == {"repayment"}
    posted = [r["posted_on"] for r in body["items"]]
    assert posted == sorted(posted, reverse=True)
    oldest = lists.get("finance", f"{ADMIN}/repayments", sort="posted_on", page_size=30)
    dates = [(r["posted_on"], r["loan_id"], r["seq"]) for r in oldest["items"]]
    assert dates == sorted(dates)
    disbursements = lists.get("finance", f"{ADMIN}/repayments", kind="refund")
    assert disbursements["total"] == 0  # none in the book
    refused = lists.client.get(
        f"{ADMIN}/repayments", headers=lists.auth("finance"), params={"kind": "penalty_accrual"}
    )
    assert refused.status_code == 422
    assert all(r["product"] and r["borrower_id"] for r in body["items"])


def test_counts_from_daily_totals_and_capped_counts(lists: Lists) -> None:
    from xindai.api.listing import ListParams, count
    from xindai.store.models import JournalLine

    for params in ({"account": "1001"}, {"date_from": (START - timedelta(days=20)).isoformat()}):
        body = lists.get("finance", f"{ADMIN}/ledger/journal", **params)
        query = select(func.count()).select_from(JournalLine)
        if "account" in params:
            query = query.where(JournalLine.account_code == "1001")
        else:
            query = query.where(JournalLine.business_date >= START - timedelta(days=20))
        assert body["total"] == scalar(lists, query) and body["total_capped"] is False
    agent = lists.get("agent", f"{ADMIN}/applications")
    assert agent["total_capped"] is False
    assert agent["total"] == scalar(
        lists,
        select(func.count())
        .select_from(Application)
        .join(Borrower, Borrower.id == Application.borrower_id)
        .where(Borrower.channel == AGENT_CHANNEL),
    )
    with lists.platform.sessions() as session:
        capped = count(session, select(Loan), cap=10)
        exact = count(session, select(Loan).where(Loan.id <= 7), cap=10)
    assert (int(capped), getattr(capped, "capped", False)) == (10, True)
    assert (exact, getattr(exact, "capped", False)) == (7, False)
    assert ListParams().answer([], capped)["total_capped"] is True


def test_a_deep_page_is_the_same_rows_through_its_keys(lists: Lists) -> None:
    from dataclasses import replace

    from xindai.api.admin_lists import JOURNAL_LIST
    from xindai.api.admin_loans import LOANS as LOAN_LIST
    from xindai.api.listing import ListParams
    from xindai.store.models import JournalLine

    deep = lists.get("finance", f"{ADMIN}/ledger/journal", page=60, page_size=20)
    with lists.platform.sessions() as session:
        expected = session.execute(
            select(JournalLine.loan_id, JournalLine.entry_no, JournalLine.line_no)
            .order_by(
                JournalLine.business_date.desc(),
                JournalLine.loan_id.desc(),
                JournalLine.entry_no.desc(),
                JournalLine.line_no.desc(),
            )
            .offset(59 * 20)
            .limit(20)
        ).all()
        assert JOURNAL_LIST.deferred_from <= 59 * 20
        for sort in ("-principal", "dpd", "-id"):
            params = ListParams(page=9, page_size=13, sort=sort)
            direct, _ = replace(LOAN_LIST, deferred_from=10**9).page(session, select(Loan), params)
            keyed, _ = replace(LOAN_LIST, deferred_from=10).page(session, select(Loan), params)
            assert [r[0].id for r in keyed] == [r[0].id for r in direct] and len(keyed) == 13
    assert [(r["loan_id"], r["entry_no"], r["line_no"]) for r in deep["items"]] == [
        tuple(row) for row in expected
    ]
