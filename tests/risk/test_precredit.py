"""Pre-credit (预授信): the whitelist rule, limits by reloan-ladder level, the batch granting,
renewing and freezing credit lines in chunks, idempotent re-runs, and the CLI — on SQLite and
PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from xindai.cli import main
from xindai.risk.history import BorrowerHistory
from xindai.risk.precredit import (
    BLACKLISTED,
    FROZEN_BY_BATCH,
    NOT_CANDIDATE,
    OPEN_LOAN_OVERDUE,
    PrecreditProgress,
    PrecreditSummary,
    batch_id_for,
    run_precredit,
    whitelist_verdict,
)
from xindai.risk.reloan import RELOAN_OVERDUE_EXCEEDED
from xindai.store.models import Borrower, Loan
from xindai.store.models_risk import BlacklistRecord, CreditLine

AS_OF = date(2025, 3, 1)
NOW = datetime(2025, 3, 1, 2, 0)
DAYS = 180


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def add_borrower(session: Session, name: str, *, kyc: str = "verified") -> int:
    borrower = Borrower(
        display_name=name,
        created_on=date(2024, 1, 1),
        mobile_hash=digest(f"phone:{name}"),
        id_number_hash=digest(f"id:{name}"),
        birth_date=date(1990, 5, 1),
        kyc_status=kyc,
    )
    session.add(borrower)
    session.flush()
    return borrower.id


def add_loan(
    session: Session,
    borrower_id: int,
    *,
    status: str = "settled",
    max_dpd: int = 0,
    dpd: int = 0,
    outstanding_fen: int = 0,
    closed_on: date | None = None,
) -> int:
    loan = Loan(
        borrower_id=borrower_id,
        product_code="INST12",
        product_version=1,
        status=status,
        principal_fen=200_000,
        annual_rate="0.24",
        term=3,
        booked_on=date(2024, 6, 1),
        disbursed_on=date(2024, 6, 1),
        closed_on=closed_on,
        principal_outstanding_fen=outstanding_fen,
        dpd=dpd,
        max_dpd=max(max_dpd, dpd),
    )
    session.add(loan)
    session.flush()
    return loan.id


def settled(
    session: Session, borrower_id: int, *days_overdue: int, first: date = date(2024, 7, 1)
) -> None:
    """Settled loans with the given d_k, settled in that order from `first`, a day apart."""
    for k, days in enumerate(days_overdue):
        add_loan(session, borrower_id, max_dpd=days, closed_on=first + timedelta(k))


def blacklist(
    session: Session,
    kind: str,
    value_hash: str,
    *,
    created_at: datetime = datetime(2025, 1, 1),
    expires_at: datetime | None = None,
    removed_at: datetime | None = None,
) -> None:
    session.add(
        BlacklistRecord(
            kind=kind,
            value_hash=value_hash,
            value_masked="***",
            reason="fraud ring",
            source="manual",
            created_by="risk",
            created_at=created_at,
            expires_at=expires_at,
            removed_at=removed_at,
        )
    )


def lines_by_borrower(factory: sessionmaker[Session]) -> dict[int, CreditLine]:
    with factory() as session:
        rows = session.scalars(select(CreditLine)).all()
        for row in rows:
            session.expunge(row)
        return {row.borrower_id: row for row in rows}


def run(
    factory: sessionmaker[Session],
    as_of: date = AS_OF,
    now: datetime = NOW,
    chunk_size: int = 2,
    events: list[PrecreditProgress] | None = None,
) -> PrecreditSummary:
    return run_precredit(
        factory,
        as_of=as_of,
        now=now,
        line_days=DAYS,
        chunk_size=chunk_size,
        progress=events.append if events is not None else None,
    )


# ------------------------------------------------------------------ the rule (pure)


def test_the_whitelist_rule() -> None:
    good = BorrowerHistory(settled_max_dpd=(0, 1))
    verdict = whitelist_verdict(good, kyc_verified=True)
    assert verdict.whitelisted and verdict.level == 2 and verdict.limit_fen == 450_000
    assert verdict.reason is None and verdict.basis["level_rule"] == "streak_promotion"

    not_verified = whitelist_verdict(good, kyc_verified=False)
    assert not not_verified.whitelisted and not_verified.reason == NOT_CANDIDATE
    first_timer = whitelist_verdict(BorrowerHistory(), kyc_verified=True)
    assert first_timer.reason == NOT_CANDIDATE  # the ladder would admit a first loan: not here

    refused = whitelist_verdict(BorrowerHistory(settled_max_dpd=(11,)), kyc_verified=True)
    assert refused.reason == RELOAN_OVERDUE_EXCEEDED and refused.limit_fen == 0
    assert refused.basis["refused_at_loan"] == 1

    overdue = BorrowerHistory(settled_max_dpd=(0,), open_loans=1, open_dpd=3)
    assert whitelist_verdict(overdue, kyc_verified=True).reason == OPEN_LOAN_OVERDUE
    current = BorrowerHistory(settled_max_dpd=(0,), open_loans=1, open_principal_fen=9)
    assert whitelist_verdict(current, kyc_verified=True).whitelisted  # open, not overdue

    listed = whitelist_verdict(good, kyc_verified=True, blacklisted_kinds=["phone"])
    assert listed.reason == BLACKLISTED and listed.basis["blacklisted"] == ["phone"]


# ------------------------------------------------------------------ the batch


@pytest.fixture
def book(session_factory: sessionmaker[Session]) -> dict[str, int]:
    """Borrowers at each ladder level, and every way of not being whitelisted."""
    with session_factory.begin() as session:
        ids = {name: add_borrower(session, name) for name in "ABCDEFGIJ"}
        settled(session, ids["A"], 0)  # level 1
        settled(session, ids["B"], 0, 2)  # two loans at level 1 with d < 4 → level 2
        settled(session, ids["C"], 0, 0, 0, 0)  # levels 1, 1, 2, 2 → level 3
        settled(session, ids["D"], 11)  # d_1 = 11 > T(1) = 10: refused by the ladder
        settled(session, ids["E"], 0)
        add_loan(session, ids["E"], status="overdue", dpd=5, outstanding_fen=100_000)
        settled(session, ids["F"], 0)
        blacklist(session, "phone", digest("phone:F"))
        settled(session, ids["G"], 0)
        add_loan(session, ids["G"], status="active", outstanding_fen=150_000)  # open, current
        add_loan(session, ids["I"], status="active", outstanding_fen=100_000)  # no settled loan
        settled(session, ids["J"], 1)
        # entries that are not active: expired, removed, not yet started
        blacklist(session, "id_number", digest("id:J"), expires_at=datetime(2025, 2, 1))
        blacklist(session, "phone", digest("phone:J"), removed_at=datetime(2025, 2, 1))
        blacklist(session, "id_number", digest("id:J"), created_at=datetime(2025, 3, 2))
        ids["H"] = add_borrower(session, "H", kyc="none")
        settled(session, ids["H"], 0)  # not KYC-verified: not a candidate
    return ids


def test_batch_grants_lines_by_ladder_level(
    session_factory: sessionmaker[Session], book: dict[str, int]
) -> None:
    events: list[PrecreditProgress] = []
    summary = run(session_factory, events=events)
    assert (summary.candidates, summary.whitelisted) == (8, 5)
    assert (summary.granted, summary.updated, summary.frozen) == (5, 0, 0)
    assert (summary.unchanged, summary.refused) == (0, 3)
    assert summary.batch_id == batch_id_for(AS_OF) and summary.chunks >= 4
    assert events and events[-1].borrowers == 8 and events[-1].total == 8
    assert [e.chunk for e in events] == list(range(1, len(events) + 1))

    lines = lines_by_borrower(session_factory)
    limits = {name: lines[book[name]].limit_fen for name in "ABCGJ"}
    assert limits == {"A": 250_000, "B": 450_000, "C": 700_000, "G": 250_000, "J": 250_000}
    assert {lines[book[n]].level for n in "ABC"} == {1, 2, 3}
    for name in "DEFHI":
        assert book[name] not in lines
    line = lines[book["C"]]
    assert line.status == "active" and line.expires_on == AS_OF + timedelta(days=DAYS)
    assert line.granted_at == NOW and line.batch_id == batch_id_for(AS_OF)
    detail = json.loads(line.detail)
    assert detail["reason"] == "granted" and detail["basis"]["settled_max_dpd"] == [0, 0, 0, 0]
    assert detail["basis"]["levels"] == [1, 1, 2, 2] and detail["basis"]["next_level"] == 3


def test_batch_twice_for_a_date_changes_nothing(
    session_factory: sessionmaker[Session], book: dict[str, int]
) -> None:
    run(session_factory, chunk_size=3)
    before = lines_by_borrower(session_factory)
    again = run(session_factory, now=NOW + timedelta(hours=3), chunk_size=5)
    assert (again.granted, again.updated, again.frozen, again.unchanged) == (0, 0, 0, 5)
    after = lines_by_borrower(session_factory)
    assert {
        b: (r.limit_fen, r.level, r.status, r.expires_on, r.updated_at, r.detail, r.batch_id)
        for b, r in after.items()
    } == {
        b: (r.limit_fen, r.level, r.status, r.expires_on, r.updated_at, r.detail, r.batch_id)
        for b, r in before.items()
    }


def test_batch_renews_freezes_and_reactivates(
    session_factory: sessionmaker[Session], book: dict[str, int]
) -> None:
    run(session_factory)
    with session_factory.begin() as session:
        add_loan(session, book["A"], status="overdue", dpd=2, outstanding_fen=50_000)
        blacklist(session, "id_number", digest("id:B"), created_at=datetime(2025, 3, 1, 12))
        settled(session, book["C"], 25, first=AS_OF)  # d_5 = 25 > T(5) = 22: refused from now on
        session.execute(update(Borrower).where(Borrower.id == book["J"]).values(kyc_status="none"))
    later, later_now = AS_OF + timedelta(days=1), NOW + timedelta(days=1)
    summary = run(session_factory, as_of=later, now=later_now)
    assert (summary.frozen, summary.updated, summary.granted) == (4, 1, 0)  # G is renewed
    lines = lines_by_borrower(session_factory)
    reasons = {
        name: json.loads(lines[book[name]].detail)["freeze_reason"] for name in ("A", "B", "C", "J")
    }
    assert reasons == {
        "A": OPEN_LOAN_OVERDUE,
        "B": BLACKLISTED,
        "C": RELOAN_OVERDUE_EXCEEDED,
        "J": NOT_CANDIDATE,  # no longer KYC-verified: its line is frozen all the same
    }
    frozen = lines[book["A"]]
    assert frozen.status == "frozen" and frozen.updated_at == later_now
    assert json.loads(frozen.detail)["frozen_by"] == FROZEN_BY_BATCH
    assert frozen.batch_id == batch_id_for(later)
    renewed = lines[book["G"]]
    assert renewed.status == "active" and renewed.expires_on == later + timedelta(days=DAYS)
    assert json.loads(renewed.detail)["changes"] == {
        "expires_on": {
            "before": (AS_OF + timedelta(days=DAYS)).isoformat(),
            "after": (later + timedelta(days=DAYS)).isoformat(),
        }
    }
    # still not whitelisted: the frozen lines stay as they are
    again = run(session_factory, as_of=later, now=later_now + timedelta(hours=1))
    assert (again.frozen, again.updated, again.unchanged) == (0, 0, 5)

    # A repays the overdue loan: the batch lifts its own freeze, with a promotion to level 2
    with session_factory.begin() as session:
        session.execute(
            update(Loan)
            .where(Loan.borrower_id == book["A"], Loan.status == "overdue")
            .values(status="settled", dpd=0, principal_outstanding_fen=0, closed_on=later)
        )
    third = AS_OF + timedelta(days=2)
    summary = run(session_factory, as_of=third, now=NOW + timedelta(days=2))
    line = lines_by_borrower(session_factory)[book["A"]]
    assert line.status == "active" and line.level == 2 and line.limit_fen == 450_000
    changes = json.loads(line.detail)["changes"]
    assert changes["status"] == {"before": "frozen", "after": "active"}
    assert changes["limit_fen"] == {"before": 250_000, "after": 450_000}
    assert "frozen_by" not in json.loads(line.detail)


def test_batch_leaves_a_staff_freeze_and_closed_lines_alone(
    session_factory: sessionmaker[Session], book: dict[str, int]
) -> None:
    run(session_factory)
    with session_factory.begin() as session:
        staff_frozen = session.scalars(
            select(CreditLine).where(CreditLine.borrower_id == book["A"])
        ).one()
        staff_frozen.status = "frozen"
        staff_frozen.detail = json.dumps({"frozen_by": "staff:amy", "freeze_reason": "X"})
        closed = session.scalars(
            select(CreditLine).where(CreditLine.borrower_id == book["B"])
        ).one()
        closed.status = "closed"
    later = AS_OF + timedelta(days=1)
    run(session_factory, as_of=later, now=NOW + timedelta(days=1))
    lines = lines_by_borrower(session_factory)
    a, b = lines[book["A"]], lines[book["B"]]
    assert a.status == "frozen" and a.expires_on == later + timedelta(days=DAYS)  # renewed
    assert json.loads(a.detail)["frozen_by"] == "staff:amy"
    assert b.status == "closed" and b.expires_on == AS_OF + timedelta(days=DAYS)


def test_an_empty_book(session_factory: sessionmaker[Session]) -> None:
    summary = run(session_factory)
    assert summary.candidates == 0 and summary.granted == 0 and summary.chunks == 1


# ------------------------------------------------------------------ CLI


def test_cli_run_and_show(
    database_url: str,
    session_factory: sessionmaker[Session],
    book: dict[str, int],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    args = ["risk", "precredit", "run", "--as-of", "2025-03-01", "--database", database_url]
    with pytest.raises(SystemExit) as done:
        main(args)
    out, _ = capsys.readouterr()
    assert done.value.code == 0
    assert "precredit-2025-03-01" in out and "granted" in out
    with pytest.raises(SystemExit) as done:
        main(["risk", "precredit", "show", str(book["C"]), "--database", database_url])
    out, _ = capsys.readouterr()
    assert done.value.code == 0 and "7,000.00" in out and "2025-08-28" in out
    with pytest.raises(SystemExit) as done:
        main(["risk", "precredit", "show", str(book["D"]), "--database", database_url])
    _, err = capsys.readouterr()
    assert done.value.code == 2 and "no credit line" in err
    with pytest.raises(SystemExit) as done:
        main(["risk", "precredit", "run", "--as-of", "2025-13-01", "--database", database_url])
    assert done.value.code == 2
