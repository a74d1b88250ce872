"""A collector's data scope on every admin route that shows a loan, a borrower or a money
movement (SPEC §11), tried as an attacker would on SQLite and PostgreSQL: collector A
against collector B's case, an agency's user against an in-house case and the other way
round, a collector with no case at all, the list filters and search (by loan id, by the
debtor's mobile number), the xlsx exports, maker-checker requests and the approvals, and
guessing ids one after another. Another's record is a 404 exactly like one that does not
exist; a list holds only the caller's cases' loans, debtors and repayments."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import openpyxl
import pytest
from sqlalchemy import select
from tests.collections.support import Desk, desk_fixture  # noqa: F401

from xindai.security.rbac import DEFAULT_MATRIX, set_permissions
from xindai.store.models import Borrower, Loan

ADMIN = "/api/v1/admin"
COLLECTORS = ("col1", "col2", "col3", "agency1")  # col3 works no queue: it holds nothing


@dataclass
class Book:
    """Who holds what: each collector's loans and debtors (col3 holds nothing)."""

    loans: dict[str, set[int]]
    borrowers: dict[str, set[int]]
    phones: dict[int, str]  # borrower id → mobile
    approval: int  # col1's waiver request on its loan
    approval_owner: str


def _get(desk: Desk, path: str, who: str, status: int = 200) -> dict:
    answer = desk.client.get(f"{ADMIN}{path}", headers=desk.auth(who))
    assert answer.status_code == status, (who, path, answer.status_code, answer.text)
    body: dict = answer.json()
    return body


def _ids(page: dict, key: str = "id") -> set[int]:
    assert page["total"] == len(page["items"]), page  # everything on one page here
    return {int(row[key]) for row in page["items"]}


@pytest.fixture(name="book", scope="module")
def book_fixture(desk: Desk) -> Book:
    d = desk
    col1, col2 = d.staff_id("col1"), d.staff_id("col2")
    d.early_queue("col1", "col2")
    agency = d.call(
        "POST",
        "/agencies",
        "ops",
        201,
        json={"code": "scope_a", "name": "甲", "commission_rate": "10%"},
    )
    d.call(
        "POST", f"/agencies/{agency['id']}/users", "ops", json={"staff_id": d.staff_id("agency1")}
    )
    shared = d.borrower()  # one debtor, two loans
    first, second = d.book(borrower_id=shared), d.book(borrower_id=shared, amount_fen=60_000)
    placed_debtor = d.borrower()
    placed = d.book(borrower_id=placed_debtor, amount_fen=80_000)
    d.close_days(18)
    cases = {
        row["loan_id"]: row
        for row in d.call("GET", "/cases?status=all&page_size=100", "ops")["items"]
    }
    assert set(cases) == {first, second, placed}
    layout = {
        first: {"staff_id": col1},
        second: {"staff_id": col2},
        placed: {"agency_id": agency["id"]},
    }
    for loan_id, to in layout.items():  # the debtor's two loans with two collectors
        d.call(
            "POST", f"/cases/{cases[loan_id]['id']}/assign", "ops", json={**to, "reason": "分案"}
        )
    loans: dict[str, set[int]] = {who: set() for who in (*COLLECTORS, "nobody")}
    for row in d.call("GET", "/cases?status=all&page_size=100", "ops")["items"]:
        loan_id = row["loan_id"]
        loans[row["assignee"] or ("agency1" if row["agency"] else "nobody")].add(loan_id)
    assert loans["col1"] == {first} and loans["col2"] == {second} and loans["agency1"] == {placed}
    assert not loans.pop("nobody")
    borrowers = {who: set() for who in COLLECTORS}
    with d.platform.reads() as session:
        for who, held in loans.items():
            borrowers[who] = set(session.scalars(select(Loan.borrower_id).where(Loan.id.in_(held))))
        phones = {
            int(b.id): d.platform.cipher.decrypt("phone", b.mobile_enc)
            for b in session.scalars(select(Borrower))
        }
    offer = d.call(
        "POST",
        f"/cases/{cases[first]['id']}/offers/waiver",
        "col1",
        201,
        json={
            "lines": [{"installment": 1, "component": "penalty", "amount": "0.01"}],
            "reason": "客户困难",
        },
    )
    for n, loan_id in enumerate(sorted(cases)):  # a repayment on every loan
        d.platform.loans.repay(
            loan_id, 1_000, channel="offline", external_ref=f"RP-S{n}", actor="test"
        )
    return Book(loans, borrowers, phones, int(offer["id"]), "col1")


def test_loan_lists_hold_only_the_callers_cases(desk: Desk, book: Book) -> None:
    every = set().union(*book.loans.values())
    assert _ids(_get(desk, "/loans?page_size=100", "ops")) >= every
    for who in COLLECTORS:
        own = book.loans[who]
        assert _ids(_get(desk, "/loans?page_size=100", who)) == own, who
        for query in ("status=overdue", "bucket=M1", "dpd_min=1", "channel=default"):
            assert _ids(_get(desk, f"/loans?{query}&page_size=100", who)) <= own, (who, query)
        for loan_id in every - own:  # searching another's loan by its id finds nothing
            assert _get(desk, f"/loans?q={loan_id}", who)["total"] == 0, (who, loan_id)
        for borrower_id, phone in book.phones.items():  # nor by its debtor's mobile
            found = _ids(_get(desk, f"/loans?q={phone}&page_size=100", who))
            assert found <= own, (who, borrower_id)
    assert book.loans["col3"] == set()


def test_guessing_loan_ids_finds_only_ones_own(desk: Desk, book: Book) -> None:
    every = set().union(*book.loans.values())
    for who in COLLECTORS:
        for loan_id in range(1, max(every) + 4):
            answer = desk.client.get(f"{ADMIN}/loans/{loan_id}", headers=desk.auth(who))
            if loan_id in book.loans[who]:
                assert answer.status_code == 200, (who, loan_id, answer.text)
                assert answer.json()["loan"]["id"] == loan_id
            else:  # another's and a missing one look the same
                assert answer.status_code == 404, (who, loan_id, answer.text)
                assert answer.json()["code"] == "NOT_FOUND"


def test_borrowers_are_the_debtors_of_ones_cases(desk: Desk, book: Book) -> None:
    for who in COLLECTORS:
        own = book.borrowers[who]
        assert _ids(_get(desk, "/borrowers?page_size=100", who)) == own, who
        for borrower_id, phone in book.phones.items():
            searched = _ids(_get(desk, f"/borrowers?q={phone}", who))
            assert searched == ({borrower_id} & own), (who, borrower_id)
            answer = desk.client.get(f"{ADMIN}/borrowers/{borrower_id}", headers=desk.auth(who))
            if borrower_id in own:
                shown = {row["id"] for row in answer.json()["loans"]}
                assert shown and shown <= book.loans[who], (who, shown)
                assert {a["loan_id"] for a in answer.json()["applications"]} <= book.loans[who]
            else:
                assert answer.status_code == 404, (who, borrower_id)
            reveal = desk.client.post(
                f"{ADMIN}/borrowers/{borrower_id}/reveal",
                headers=desk.auth(who),
                json={"field": "phone"},
            )
            assert reveal.status_code == 403  # a collector may not unmask at all
    # the shared debtor's two loans are with col1 and col2: each sees only its own
    shared = book.borrowers["col1"] & book.borrowers["col2"]
    assert len(shared) == 1


def test_repayments_and_withholdings_are_of_ones_cases(desk: Desk, book: Book) -> None:
    every = set().union(*book.loans.values())
    assert _ids(_get(desk, "/repayments?page_size=100", "ops"), "loan_id") >= every
    for who in COLLECTORS:
        own = book.loans[who]
        assert _ids(_get(desk, "/repayments?page_size=100", who), "loan_id") == own, who
        for kind in ("early_settlement", "reversal"):
            rows = _get(desk, f"/repayments?kind={kind}&page_size=100", who)
            assert _ids(rows, "loan_id") <= own
        for loan_id in every - own:
            assert _get(desk, f"/repayments?q={loan_id}", who)["total"] == 0
            assert _get(desk, f"/withholdings?q={loan_id}", who)["total"] == 0
        assert _ids(_get(desk, "/withholdings?page_size=100", who), "loan_id") <= own


@pytest.fixture(name="exporting")
def exporting_fixture(desk: Desk) -> Iterator[None]:
    """Collectors given `reports.export` for the test (an administrator may do so)."""
    with desk.platform.sessions.begin() as session:
        set_permissions(session, "collector", DEFAULT_MATRIX["collector"] | {"reports.export"})
    try:
        yield
    finally:
        with desk.platform.sessions.begin() as session:
            set_permissions(session, "collector", DEFAULT_MATRIX["collector"])


def _exported(desk: Desk, path: str, who: str) -> list[tuple[object, ...]]:
    answer = desk.client.get(f"{ADMIN}{path}", headers=desk.auth(who))
    assert answer.status_code == 200, (path, answer.text)
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True).worksheets[0]
    return list(sheet.iter_rows(min_row=2, values_only=True))


@pytest.mark.usefixtures("exporting")
def test_exports_hold_only_ones_cases(desk: Desk, book: Book) -> None:
    for who in COLLECTORS:
        own = book.loans[who]
        loans = {int(str(row[0])) for row in _exported(desk, "/loans/export", who)}
        assert loans == own, who
        debtors = {int(str(row[0])) for row in _exported(desk, "/borrowers/export", who)}
        assert debtors == book.borrowers[who], who
        paid = {int(str(row[2])) for row in _exported(desk, "/repayments/export", who)}
        assert paid == own, who
        cases = {int(str(row[1])) for row in _exported(desk, "/collections/cases/export", who)}
        assert cases == own, who


def test_requests_and_approvals_on_anothers_loan_are_not_found(desk: Desk, book: Book) -> None:
    every = set().union(*book.loans.values())
    waiver = {
        "lines": [{"installment": 1, "component": "penalty", "amount": "0.01"}],
        "reason": "x",
    }
    for who in COLLECTORS:
        for loan_id in every - book.loans[who]:
            answer = desk.client.post(
                f"{ADMIN}/loans/{loan_id}/waivers", headers=desk.auth(who), json=waiver
            )
            assert answer.status_code == 404 and answer.json()["code"] == "NOT_FOUND", who
            deferral = desk.client.post(
                f"{ADMIN}/loans/{loan_id}/deferrals",
                headers=desk.auth(who),
                json={"installment": 1, "new_due_date": "2026-04-30", "reason": "x"},
            )
            assert deferral.status_code == 404, who
        approval = desk.client.get(f"{ADMIN}/approvals/{book.approval}", headers=desk.auth(who))
        assert approval.status_code == (200 if who == book.approval_owner else 404), who
        mine = _get(desk, "/approvals/mine", who)
        assert {r["loan_id"] for r in mine["items"]} <= book.loans[who]
    inbox = _get(desk, "/approvals?kind=waiver", "finance")  # the checker sees the book
    assert book.approval in {r["id"] for r in inbox["items"]}


def test_a_reassigned_case_takes_its_loan_along(desk: Desk, book: Book) -> None:
    loan_id = min(book.loans["col1"])
    case = desk.call("GET", f"/cases?q={loan_id}&status=all", "ops")["items"][0]
    desk.call(
        "POST",
        f"/cases/{case['id']}/assign",
        "ops",
        json={"staff_id": desk.staff_id("col3"), "reason": "调整"},
    )
    assert _get(desk, f"/loans/{loan_id}", "col3")["loan"]["id"] == loan_id
    _get(desk, f"/loans/{loan_id}", "col1", 404)
    assert loan_id not in _ids(_get(desk, "/loans?page_size=100", "col1"))
    assert loan_id in _ids(_get(desk, "/repayments?page_size=100", "col3"), "loan_id")
    book.loans["col1"].discard(loan_id)
    book.loans["col3"].add(loan_id)
