"""Reconciliation through the admin API on SQLite and PostgreSQL: a statement that agrees
with the journal but for three planted differences — money the journal never booked, an
amount that differs, a journal movement the channel does not list — gives a run with
exactly those three breaks, each naming its loan; finance resolves one with a note."""

from __future__ import annotations

import io
import uuid

import openpyxl
from sqlalchemy import select

from xindai.money import format_yuan
from xindai.store.models_origination import AuditEvent

from .console_support import (
    Console,
    console_fixture,  # noqa: F401
)

HEADER = "date,channel,reference,type,amount\n"


def upload(c: Console, text: str, who: str = "finance", status: int = 201, **form: str):
    files = {"statement": ("simpay-statement.csv", text.encode("utf-8"), "text/csv")}
    return c.call("POST", "/reconciliation/runs", who, status, files=files, data=form)


def test_an_upload_finds_the_planted_breaks_and_finance_resolves_them(console: Console) -> None:
    c = console
    loans = c.platform.loans
    day = c.business_date().isoformat()
    booked = []
    for _ in range(3):
        loan_id = c.book()
        ref = f"WH{uuid.uuid4().hex[:12]}"
        loans.repay(loan_id, 10_000, channel="default", external_ref=ref)
        booked.append((loan_id, ref))
    with c.platform.sessions() as session:
        from xindai.store.models import JournalLine

        payouts = dict(
            session.execute(
                select(JournalLine.loan_id, JournalLine.external_ref).where(
                    JournalLine.loan_id.in_([loan for loan, _ in booked]),
                    JournalLine.external_ref.like("PO-%"),
                )
            ).all()
        )
    lines = [f"{day},default,{payouts[loan]},payout,1000.00" for loan, _ in booked]
    (_, ref1), (second, ref2), (_, ref3) = booked
    lines += [
        f"{day},default,{ref1},collection,100.00",  # agrees
        f"{day},default,{ref2},collection,99.99",  # planted: the amount differs
        # planted: ref3 left out (the journal has it, the channel does not)
        f"{day},default,WHNOTBOOKED01,collection,50.00",  # planted: never booked
    ]
    run = upload(c, HEADER + "\n".join(lines) + "\n")
    assert (run["statement_rows"], run["breaks"], run["open_breaks"]) == (6, 3, 3)
    assert run["matched"] == 4 and run["matched_amount"] == format_yuan(3 * 100_000 + 10_000)

    found = c.call("GET", f"/reconciliation/breaks?run_id={run['id']}&sort=id", "finance")
    by_kind = {b["kind"]: b for b in found["items"]}
    assert found["total"] == 3 and set(by_kind) == {
        "amount_mismatch",
        "missing_in_statement",
        "missing_in_journal",
    }
    mismatch = by_kind["amount_mismatch"]
    assert (mismatch["reference"], mismatch["loan_id"]) == (ref2, second)
    assert (mismatch["statement_amount"], mismatch["journal_amount"]) == ("99.99", "100.00")
    assert mismatch["difference"] == "-0.01"
    assert (
        by_kind["missing_in_statement"]["reference"],
        by_kind["missing_in_statement"]["journal_amount"],
    ) == (ref3, "100.00")
    unknown = by_kind["missing_in_journal"]
    assert unknown["loan_id"] is None and unknown["statement_amount"] == "50.00"

    exported = c.client.get(
        f"/api/v1/admin/reconciliation/breaks/export?run_id={run['id']}&sort=id",
        headers=c.auth("finance"),
    )
    assert exported.status_code == 200, exported.text
    sheet = openpyxl.load_workbook(io.BytesIO(exported.content)).active
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][:5] == ("差异编号", "对账批次", "日期", "渠道", "流水号")
    assert sorted(row[5] for row in table[1:]) == sorted(by_kind)
    c.refused("GET", "/reconciliation/breaks/export", "reviewer", 403, "PERMISSION_DENIED")

    note = "渠道少付 0.01 元，已联系渠道补款"
    resolved = c.call(
        "POST", f"/reconciliation/breaks/{mismatch['id']}/resolve", "finance2", json={"note": note}
    )
    assert (resolved["status"], resolved["resolved_by"], resolved["resolution_note"]) == (
        "resolved",
        "finance2",
        note,
    )
    c.refused(
        "POST",
        f"/reconciliation/breaks/{mismatch['id']}/resolve",
        "finance",
        409,
        "RECONCILIATION_BREAK_RESOLVED",
        json={"note": "again"},
    )
    still_open = c.call("GET", f"/reconciliation/breaks?run_id={run['id']}&status=open", "finance")
    assert still_open["total"] == 2
    assert c.call("GET", f"/reconciliation/runs/{run['id']}", "finance")["open_breaks"] == 2
    by_reference = c.call("GET", f"/reconciliation/breaks?q={ref3}", "finance")
    assert [b["kind"] for b in by_reference["items"]] == ["missing_in_statement"]
    listed = c.call("GET", "/reconciliation/runs", "finance")
    assert listed["items"][0]["id"] == run["id"]
    with c.platform.sessions() as session:
        actions = {
            e.action
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.action.like("reconciliation.%"))
            )
        }
    assert actions == {"reconciliation.upload", "reconciliation.resolve"}


def test_a_bad_statement_or_a_caller_without_the_permission_is_refused(console: Console) -> None:
    c = console
    day = c.business_date().isoformat()
    good = HEADER + f"{day},default,WHX,collection,1.00\n"
    refused = upload(c, "day,ref,amount\n1,2,3\n", status=400)
    assert refused["code"] == "INVALID_VALUE" and refused["field"] == "statement header"
    bad_line = upload(c, HEADER + f"{day},default,WHX,collection,abc\n", status=400)
    assert bad_line["field"] == "statement line 2 amount"
    two = good + f"{day},other,WHY,payout,1.00\n"
    assert upload(c, two, status=400)["field"] == "statement channel"
    assert upload(c, HEADER, status=400)["field"] == "statement"
    assert upload(c, good, mode="sideways", status=422)["code"] == "VALIDATION_ERROR"
    assert upload(c, good, who="ops", status=403)["code"] == "PERMISSION_DENIED"
    c.refused("GET", "/reconciliation/breaks", "reviewer", 403, "PERMISSION_DENIED")
    c.refused(
        "POST",
        "/reconciliation/breaks/99999/resolve",
        "finance",
        404,
        "NOT_FOUND",
        json={"note": "x"},
    )
    # by reference: the statement's references against the journal of any date
    whole = upload(c, good, mode="reference")
    assert whole["breaks"] >= 1
