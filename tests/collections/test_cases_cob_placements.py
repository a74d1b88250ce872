"""Closing placements in the `cases` step of close of business, one partition at a time, on
SQLite and PostgreSQL over the bench's bulk-built book (cases opened and the M3+ ones placed
with agencies by a first close of business): a placement is closed — recalled on the
business date, with what its loan was paid since it was placed — exactly when it is active,
its loan is in the partition and the loan's case closes (settled here); a partial payment,
a loan of another partition and a placement already recalled are left as they were."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text

from xindai.bench.collections import _staff
from xindai.cob.portfolio import build_book
from xindai.cob.registry import DEFAULT_REGISTRY, StepContext
from xindai.cob.runner import run_cob
from xindai.cob.sql import Dialect
from xindai.collections.cases_cob import case_loans, close_cases, refresh_cases
from xindai.collections.cob import register_collections
from xindai.servicing.service import LoanService
from xindai.settings import Settings
from xindai.store.db import make_engine, session_factory
from xindai.store.migrate import upgrade

START = date(2026, 3, 2)
PLACEMENTS = (
    "SELECT id, loan_id, status, recalled_on, recovered_fen, placed_on"
    " FROM collection_placements ORDER BY id"
)


def test_a_partition_closes_the_active_placements_of_its_closing_loans(
    database_url: str, settings: Settings
) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.begin() as connection:
            build_book(connection, loans=1_500, start=START)
        _staff(engine)
        run_cob(engine, date=START, registry=register_collections(DEFAULT_REGISTRY.copy(), None))
        with engine.connect() as connection:
            placed = connection.execute(text(PLACEMENTS)).all()
        assert len(placed) >= 5 and {p.status for p in placed} == {"active"}
        if engine.dialect.name == "postgresql":
            # allocate analysed the placements it made (planned against the empty table,
            # finding each case's new placement walked every active one)
            with engine.connect() as connection:
                known = connection.scalar(
                    text("SELECT reltuples FROM pg_class WHERE relname = 'collection_placements'")
                )
            assert known == len(placed)
        by_loan = sorted(placed, key=lambda p: p.loan_id)
        settled, partial, recalled, untouched, other_partition = [*by_loan[:4], by_loan[-1]]
        hi = untouched.loan_id  # the partition: loans 1 … hi; the last placement's is beyond
        assert other_partition.loan_id > hi
        loans = LoanService(session_factory(engine))
        today = START + timedelta(days=1)
        paid: dict[int, int] = {}
        for placement in (settled, recalled, other_partition):
            payoff = loans.quote_payoff(placement.loan_id).total_fen
            loans.settle_early(placement.loan_id, amount_fen=payoff, channel="test")
            paid[placement.loan_id] = payoff
        loans.repay(partial.loan_id, 5_000, channel="test")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE collection_placements SET status = 'recalled', recalled_on = :d"
                    " WHERE id = :id"
                ),
                {"d": START, "id": recalled.id},
            )
            before = {p.id: p for p in connection.execute(text(PLACEMENTS)).all()}
            ctx = StepContext(connection, Dialect(connection.dialect), today, 1, hi)
            case_loans(ctx)
            closed_cases = close_cases(ctx)
            ctx.drop_temp("cob_case_loans")
            after = {p.id: p for p in connection.execute(text(PLACEMENTS)).all()}
            case_status = dict(
                connection.execute(
                    text("SELECT loan_id, status FROM collection_cases WHERE loan_id IN (:a, :b)"),
                    {"a": settled.loan_id, "b": recalled.loan_id},
                ).all()
            )
    finally:
        engine.dispose()
    assert closed_cases >= 2 and set(case_status.values()) == {"closed"}
    closed = after[settled.id]
    assert (closed.status, str(closed.recalled_on)) == ("closed", today.isoformat())
    assert closed.recovered_fen == paid[settled.loan_id] > 0
    changed = {i for i in after if after[i] != before[i]}
    assert changed == {settled.id}, [after[i] for i in changed]
    assert after[recalled.id].status == "recalled" and after[recalled.id].recovered_fen == 0
    assert after[partial.id].status == after[other_partition.id].status == "active"


CASES = (
    "SELECT id, loan_id, dpd, bucket, overdue_fen, overdue_at_open_fen, priority, requeue,"
    " requeue_reason, opened_on, pre_due, held_until, broken_promises, warning_priority"
    " FROM collection_cases ORDER BY id"
)


def test_refreshing_open_cases_from_their_loans(database_url: str, settings: Settings) -> None:
    """A case follows its loan's DPD and overdue amount (nothing else changes); a bucket
    move re-queues it and recomputes its priority, but a held case (留案) only gets the new
    priority; a pre-due case whose loan is overdue becomes a normal case opened today; a
    case whose loan did not change is left alone."""
    engine = make_engine(database_url)
    today = START + timedelta(days=1)
    try:
        upgrade(engine)
        with engine.begin() as connection:
            build_book(connection, loans=1_500, start=START)
        _staff(engine)
        run_cob(engine, date=START, registry=register_collections(DEFAULT_REGISTRY.copy(), None))
        with engine.begin() as connection:
            early = connection.execute(
                text(
                    "SELECT c.id, c.loan_id FROM collection_cases c WHERE c.status = 'open'"
                    " AND c.bucket = 'M1' AND c.dpd < 29 AND c.requeue = :f ORDER BY c.id"
                ),
                {"f": False},
            ).all()
            assert len(early) >= 5
            (a, a_loan), (b, b_loan), (c, c_loan), (d, _), (e, _) = early[:5]
            connection.execute(
                text(
                    "UPDATE loans SET dpd = dpd + 1, overdue_fen = overdue_fen + 100 WHERE id = :i"
                ),
                {"i": a_loan},
            )
            for loan in (b_loan, c_loan):
                connection.execute(
                    text(
                        "UPDATE loans SET dpd = 31, bucket = 'M2', overdue_fen = overdue_fen + 700"
                        " WHERE id = :i"
                    ),
                    {"i": loan},
                )
            connection.execute(
                text("UPDATE collection_cases SET held_until = :h WHERE id = :i"),
                {"h": today + timedelta(days=5), "i": c},
            )
            connection.execute(
                text(
                    "UPDATE collection_cases SET warning_priority = 300, broken_promises = 1"
                    " WHERE id = :b"
                ),
                {"b": b},
            )
            connection.execute(
                text("UPDATE collection_cases SET pre_due = :t WHERE id = :d"), {"t": True, "d": d}
            )
            before = {r.id: r._asdict() for r in connection.execute(text(CASES)).all()}
            ctx = StepContext(connection, Dialect(connection.dialect), today, 1, 1_500)
            case_loans(ctx)
            refresh_cases(ctx)
            ctx.drop_temp("cob_case_loans")
            after = {r.id: r._asdict() for r in connection.execute(text(CASES)).all()}
            loans = {
                r.id: r
                for r in connection.execute(
                    text("SELECT id, dpd, bucket, overdue_fen FROM loans WHERE id IN (:a, :b, :c)"),
                    {"a": a_loan, "b": b_loan, "c": c_loan},
                ).all()
            }
    finally:
        engine.dispose()

    def changes(case_id: int) -> dict[str, object]:
        return {
            k: (str(v) if k in ("opened_on", "held_until") and v is not None else v)
            for k, v in after[case_id].items()
            if v != before[case_id][k]
        }

    assert {i for i in after if after[i] != before[i]} == {a, b, c, d}
    assert changes(a) == {"dpd": loans[a_loan].dpd, "overdue_fen": loans[a_loan].overdue_fen}
    b_priority = loans[b_loan].overdue_fen // 100 + 10_000 * 1 + 300
    assert changes(b) == {
        "dpd": 31,
        "bucket": "M2",
        "overdue_fen": loans[b_loan].overdue_fen,
        "priority": b_priority,
        "requeue": True,
        "requeue_reason": "bucket_move",
    }
    assert changes(c) == {  # held: the new bucket and priority, no re-allocation
        "dpd": 31,
        "bucket": "M2",
        "overdue_fen": loans[c_loan].overdue_fen,
        "priority": loans[c_loan].overdue_fen // 100,
    }
    overdue_d = before[d]["overdue_fen"]
    assert changes(d) == {  # the loan unchanged: the case turns normal, opened today
        "pre_due": False,
        "requeue": True,
        "requeue_reason": "overdue",
        "opened_on": today.isoformat(),
        **(
            {}
            if before[d]["overdue_at_open_fen"] == overdue_d
            else {"overdue_at_open_fen": overdue_d}
        ),
    }
    assert e not in {i for i in after if after[i] != before[i]}
