"""Servicing actions as maker-checker requests through the admin API, on SQLite and
PostgreSQL: a maker submits, the request waits in the inbox of those who may approve it,
a second person approves and the loan transaction posts with a balanced journal entry;
and every refusal — the maker as checker, a missing permission, an amount above what is
owed, a rate above the cap, a second pending request, a rejection without a reason."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from xindai.money import format_yuan, parse_yuan
from xindai.security.rbac import permissions_for, set_permissions
from xindai.servicing.allocation import Component
from xindai.store.models import JournalEntry, JournalLine, Loan
from xindai.store.models_origination import AuditEvent

from .console_support import (
    Console,
    console_fixture,  # noqa: F401
)


def journal_of(c: Console, loan_id: int, seq: int) -> list[JournalLine]:
    """The journal lines of the entries posted for transaction `seq` of the loan."""
    with c.platform.sessions() as session:
        entries = session.scalars(
            select(JournalEntry.entry_no).where(
                JournalEntry.loan_id == loan_id, JournalEntry.txn_seq == seq
            )
        ).all()
        assert entries, f"no journal entry for transaction {seq}"
        return list(
            session.scalars(
                select(JournalLine).where(
                    JournalLine.loan_id == loan_id, JournalLine.entry_no.in_(entries)
                )
            )
        )


def balanced(lines: list[JournalLine]) -> bool:
    debits = sum(line.debit_fen for line in lines)
    return debits > 0 and debits == sum(line.credit_fen for line in lines)


def audit_actions(c: Console, request_id: int) -> list[tuple[str, str]]:
    with c.platform.sessions() as session:
        return [
            (e.action, e.actor)
            for e in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.resource == "approval_request")
                .where(AuditEvent.resource_id == str(request_id))
                .order_by(AuditEvent.id)
            )
        ]


def ids(page: dict) -> list[int]:
    return [item["id"] for item in page["items"]]


def overdue_loan(c: Console) -> tuple[int, int]:
    """A 14-day loan closed past its due date and grace: its id and the penalty owed."""
    loan_id = c.book()
    c.close_days(20)
    penalty = c.platform.loans.state(loan_id).installment(1).outstanding(Component.PENALTY)
    assert penalty > 0
    return loan_id, penalty


def test_a_waiver_goes_through_the_inbox_and_posts_a_balanced_entry(console: Console) -> None:
    c = console
    loan_id, penalty = overdue_loan(c)
    line = {"installment": 1, "component": "penalty", "amount": format_yuan(penalty)}
    submitted = c.call(
        "POST",
        f"/loans/{loan_id}/waivers",
        "service",
        201,
        json={"lines": [line], "reason": "客户投诉，经核实减免罚息"},
    )
    assert submitted["status"] == "pending" and submitted["kind"] == "waiver"
    assert submitted["details"]["amount"] == format_yuan(penalty)
    assert submitted["loan"]["status"] == "overdue"
    request_id = submitted["id"]

    assert request_id in ids(c.call("GET", "/approvals/mine", "service"))
    assert request_id not in ids(c.call("GET", "/approvals", "service"))  # cs approves nothing
    inbox = c.call("GET", "/approvals?kind=waiver", "finance")
    assert request_id in ids(inbox) and inbox["page"] == 1
    assert c.call("GET", f"/approvals/{request_id}", "finance")["requested_by"] == "service"

    decided = c.call("POST", f"/approvals/{request_id}/approve", "finance", json={"note": "同意"})
    assert decided["status"] == "approved" and decided["decided_by"] == "finance"
    posting = decided["posting"]
    assert posting["kind"] == "waiver" and posting["applied"]["penalty"] == format_yuan(penalty)
    assert decided["txn_seq"] == posting["seq"]
    lines = journal_of(c, loan_id, posting["seq"])
    assert balanced(lines)
    assert sum(line.debit_fen for line in lines) == penalty
    assert c.platform.loans.state(loan_id).installment(1).outstanding(Component.PENALTY) == 0

    assert request_id not in ids(c.call("GET", "/approvals", "finance"))  # no longer pending
    history = c.call("GET", "/approvals?status=approved", "finance")
    assert request_id in ids(history)
    assert audit_actions(c, request_id) == [
        ("approval.submit", "service"),
        ("approval.approve", "finance"),
    ]
    again = c.refused(
        "POST", f"/approvals/{request_id}/approve", "finance2", 409, "APPROVAL_INVALID"
    )
    assert "approved" in again["message"]["en"]


def test_the_maker_cannot_check_and_the_permissions_are_checked(console: Console) -> None:
    c = console
    loan_id, _ = overdue_loan(c)
    line = {"installment": 1, "component": "penalty", "amount": "1.00"}
    # a collector asks for a waiver only on its own cases' loans: another loan is unknown
    c.refused(
        "POST",
        f"/loans/{loan_id}/waivers",
        "collector",
        404,
        "NOT_FOUND",
        json={"lines": [line], "reason": "goodwill"},
    )
    c.give_case(loan_id)
    penalty = c.platform.loans.state(loan_id).installment(1).outstanding(Component.PENALTY)
    body = {
        "lines": [{"installment": 1, "component": "penalty", "amount": format_yuan(penalty)}],
        "reason": "goodwill",
    }
    # a role without the request permission, an agent, a borrower's stranger
    c.refused("POST", f"/loans/{loan_id}/waivers", "manager", 403, "PERMISSION_DENIED", json=body)
    c.refused(
        "POST",
        f"/loans/{loan_id}/write-offs",
        "agent",
        403,
        "PERMISSION_DENIED",
        json={"reason": "x"},
    )
    c.refused(
        "POST",
        f"/loans/{loan_id}/sales",
        "finance",
        403,
        "PERMISSION_DENIED",
        json={"price": "1", "buyer": "b", "reason": "x"},
    )
    request_id = c.call("POST", f"/loans/{loan_id}/waivers", "collector", 201, json=body)["id"]
    # somebody who may not approve waivers
    c.refused(
        "POST", f"/approvals/{request_id}/approve", "service", 403, "PERMISSION_DENIED", json={}
    )
    c.refused(
        "POST", f"/approvals/{request_id}/approve", "reviewer", 403, "PERMISSION_DENIED", json={}
    )
    # the maker holding the approve permission too: still not their own request
    with c.platform.sessions.begin() as session:
        before = permissions_for(session, "collector")
        set_permissions(session, "collector", before | {"loans.waive.approve"})
    try:
        assert request_id not in ids(c.call("GET", "/approvals", "collector"))
        refused = c.refused(
            "POST",
            f"/approvals/{request_id}/approve",
            "collector",
            409,
            "APPROVAL_INVALID",
            json={},
        )
        assert "maker-checker" in refused["message"]["en"]
    finally:
        with c.platform.sessions.begin() as session:
            set_permissions(session, "collector", before)
    # one pending request per loan and kind
    c.refused(
        "POST", f"/loans/{loan_id}/waivers", "service", 409, "APPROVAL_PENDING_EXISTS", json=body
    )
    # only the maker withdraws
    c.refused("POST", f"/approvals/{request_id}/withdraw", "service", 409, "APPROVAL_INVALID")
    withdrawn = c.call("POST", f"/approvals/{request_id}/withdraw", "collector")
    assert withdrawn["status"] == "withdrawn"
    c.refused(
        "POST", f"/approvals/{request_id}/approve", "finance", 409, "APPROVAL_INVALID", json={}
    )
    c.refused("GET", "/approvals/999999", "finance", 404, "NOT_FOUND")


def test_requests_the_loan_cannot_take_are_refused_when_submitted(console: Console) -> None:
    c = console
    loan_id, penalty = overdue_loan(c)
    too_much = {
        "lines": [{"installment": 1, "component": "penalty", "amount": format_yuan(penalty + 1)}],
        "reason": "x",
    }
    refused = c.refused(
        "POST", f"/loans/{loan_id}/waivers", "service", 400, "INVALID_VALUE", json=too_much
    )
    assert refused["field"] == "waiver"
    twice = {
        "lines": [{"installment": 1, "component": "penalty", "amount": "1.00"}] * 2,
        "reason": "x",
    }
    c.refused("POST", f"/loans/{loan_id}/waivers", "service", 400, "INVALID_VALUE", json=twice)
    c.refused(
        "POST",
        f"/loans/{loan_id}/waivers",
        "service",
        400,
        "INVALID_VALUE",
        json={**too_much, "reason": "  "},
    )
    over_cap = {"term": 6, "annual_rate": "30%", "reason": "hardship"}
    c.refused(
        "POST",
        f"/loans/{loan_id}/restructures",
        "reviewer",
        400,
        "RATE_CAP_EXCEEDED",
        json=over_cap,
    )
    # a single-payment loan has one installment: there is no second to defer
    c.refused(
        "POST",
        f"/loans/{loan_id}/deferrals",
        "service",
        400,
        "INVALID_VALUE",
        json={"installment": 2, "new_due_date": "2030-01-01", "reason": "x"},
    )
    c.refused(
        "POST", "/loans/987654/write-offs", "reviewer", 404, "NOT_FOUND", json={"reason": "x"}
    )
    # rejecting needs a reason; a rejection posts nothing
    with c.platform.sessions() as session:
        seq_before = session.get(Loan, loan_id).last_txn_seq
    request_id = c.call(
        "POST", f"/loans/{loan_id}/write-offs", "reviewer", 201, json={"reason": "fraud confirmed"}
    )["id"]
    c.refused(
        "POST",
        f"/approvals/{request_id}/reject",
        "finance",
        400,
        "INVALID_VALUE",
        json={"note": ""},
    )
    rejected = c.call(
        "POST", f"/approvals/{request_id}/reject", "finance", json={"note": "证据不足"}
    )
    assert rejected["status"] == "rejected" and rejected["decision_note"] == "证据不足"
    with c.platform.sessions() as session:
        assert session.get(Loan, loan_id).last_txn_seq == seq_before
    assert audit_actions(c, request_id)[-1] == ("approval.reject", "finance")


def test_deferral_extension_and_restructure_post_when_approved(console: Console) -> None:
    c = console
    # deferral of an installment loan's first installment by ten days
    installment_loan = c.book("INST12", 300_000, 3)
    first_due = c.platform.loans.state(installment_loan).installment(1).due_date
    moved_to = (first_due + timedelta(days=10)).isoformat()
    deferral = c.call(
        "POST",
        f"/loans/{installment_loan}/deferrals",
        "service",
        201,
        json={"installment": 1, "new_due_date": moved_to, "reason": "住院"},
    )
    assert deferral["details"] == {
        **deferral["details"],
        "installment": 1,
        "new_due_date": moved_to,
    }
    approved = c.call("POST", f"/approvals/{deferral['id']}/approve", "finance", json={})
    assert approved["posting"]["kind"] == "deferral"
    assert c.platform.loans.state(installment_loan).installment(1).due_date.isoformat() == moved_to

    # an extension whose fee the borrower paid by transfer (today's quote by default)
    short_loan = c.book("CASH14", 200_000, 14)
    maturity = c.platform.loans.state(short_loan).maturity_date
    extension = c.call(
        "POST", f"/loans/{short_loan}/extensions", "service", 201, json={"reason": "x"}
    )
    fee = parse_yuan(extension["details"]["amount"])
    assert fee > 0 and extension["details"]["channel"] == "offline"
    posted = c.call("POST", f"/approvals/{extension['id']}/approve", "finance", json={})
    assert posted["posting"]["kind"] == "extension"
    assert c.platform.loans.state(short_loan).maturity_date == maturity + timedelta(days=7)
    lines = journal_of(c, short_loan, posted["posting"]["seq"])
    assert balanced(lines)
    cash = [ln for ln in lines if ln.channel == "offline"]
    assert sum(ln.debit_fen for ln in cash) == fee

    # a restructure of an overdue loan over everything outstanding: the interest and the
    # penalty booked as receivables become principal of the new schedule
    overdue = c.book("INST12", 300_000, 3)
    c.close_days(40)
    before = c.platform.loans.state(overdue)
    booked = sum(
        max(0, i.receivable(k)) for i in before.live if not i.is_settled for k in Component
    )
    restructure = c.call(
        "POST",
        f"/loans/{overdue}/restructures",
        "reviewer",
        201,
        json={"term": 6, "annual_rate": "0.12", "reason": "失业"},
    )
    assert restructure["details"]["annual_rate"] == "12.00%"
    c.refused(
        "POST",
        f"/approvals/{restructure['id']}/approve",
        "reviewer",
        403,
        "PERMISSION_DENIED",
        json={},
    )
    done = c.call("POST", f"/approvals/{restructure['id']}/approve", "finance", json={})
    assert done["posting"]["kind"] == "restructure"
    state = c.platform.loans.state(overdue)
    assert len(state.live) == 6 and all(i.cancelled for i in state.installments[:3])
    assert state.outstanding(Component.PRINCIPAL) == booked
    lines = journal_of(c, overdue, done["posting"]["seq"])
    assert balanced(lines)  # receivables of interest and penalty moved to principal


def test_write_off_and_sale_close_the_loan(console: Console) -> None:
    c = console
    written, sold = c.book(), c.book()
    for loan_id, path, body in (
        (written, "write-offs", {"reason": "欺诈"}),
        (sold, "sales", {"price": "300.00", "buyer": "某资产管理公司", "reason": "批量转让"}),
    ):
        request_id = c.call("POST", f"/loans/{loan_id}/{path}", "reviewer", 201, json=body)["id"]
        done = c.call("POST", f"/approvals/{request_id}/approve", "finance2", json={})
        assert done["loan"]["status"] == ("written_off" if path == "write-offs" else "sold")
        assert balanced(journal_of(c, loan_id, done["posting"]["seq"]))
    with c.platform.sessions() as session:
        total = session.execute(
            select(func.sum(JournalLine.debit_fen) - func.sum(JournalLine.credit_fen))
        ).scalar_one()
        assert total == 0  # the whole journal balances
    c.refused(
        "POST",
        f"/loans/{written}/write-offs",
        "reviewer",
        409,
        "LOAN_NOT_OPEN",
        json={"reason": "again"},
    )
