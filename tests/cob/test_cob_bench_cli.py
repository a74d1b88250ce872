"""`xindai cob run` and the benchmark: its bulk-built book is a book the pure core agrees
with (cached columns, statuses, and what close of business then posts)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from xindai.bench.cob import render_cob_bench, run_cob_bench
from xindai.cli.cob import app
from xindai.cob import CobError, run_cob
from xindai.cob.portfolio import build_book
from xindai.servicing.account import apply, close_day, refresh_status
from xindai.store import repository as repo
from xindai.store.db import transaction
from xindai.store.models import Loan, LoanSnapshot, LoanTransaction

START = date(2026, 3, 2)


def test_the_bench_book_is_one_the_pure_core_agrees_with(
    migrated_engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    with migrated_engine.begin() as connection:
        stats = build_book(connection, loans=1_500, start=START, seed=5)
    assert 0.10 < stats.past_due / stats.loans < 0.20 and stats.overdue > 0
    yesterday = START - timedelta(days=1)
    sample = range(1, stats.loans + 1, 7)
    pure = {}
    with transaction(session_factory, read_only=True) as session:
        assert repo.get_business_date(session) == START
        for loan_id in sample:
            row, state = repo.load_state(session, loan_id)
            assert {k: getattr(row, k) for k in repo.loan_cache(state, yesterday)} == (
                repo.loan_cache(state, yesterday)
            ), loan_id
            pure[loan_id] = (state, row.last_txn_seq)
    run_cob(migrated_engine, until=START + timedelta(days=1), partition_size=400)
    with transaction(session_factory, read_only=True) as session:
        for loan_id, (state, seq) in pure.items():
            posted = []
            for day in (START, START + timedelta(days=1)):
                for txn in close_day(state, day):
                    seq += 1
                    state, _ = apply(state, replace(txn, seq=seq))
                    posted.append((txn.kind.value, txn.amount_fen))
                state = refresh_status(state, day)
            row, stored = repo.load_state(session, loan_id)
            assert stored == state, loan_id
            assert row.last_txn_seq == seq
            rows = session.execute(
                select(LoanTransaction.kind, LoanTransaction.amount_fen)
                .where(
                    LoanTransaction.loan_id == loan_id,
                    LoanTransaction.posted_on >= START,
                    LoanTransaction.kind.in_(("due", "penalty_accrual")),
                )
                .order_by(LoanTransaction.seq)
            ).all()
            assert [tuple(r) for r in rows] == posted


def test_the_bench_runs_and_reports(database_url: str) -> None:
    result = run_cob_bench(database_url, loans=800, days=2, partition_size=300)
    assert [d.business_date for d in result.days] == [START, START + timedelta(days=1)]
    assert result.open_loans[0] == 800 and result.peak_rss_bytes > 0
    assert result.days[0].steps[0].step == "due" and result.days[0].steps[2].rows > 0
    if result.dialect == "postgresql":
        assert result.wal_bytes and result.server_settings["shared_buffers"]
    rendered = render_cob_bench(result)
    assert rendered.renderables


def test_cob_run_command(database_url: str, migrated_engine: Engine) -> None:
    with migrated_engine.begin() as connection:
        build_book(connection, loans=200, start=START, seed=9)
    runner = CliRunner()
    until = (START + timedelta(days=2)).isoformat()
    result = runner.invoke(app, ["run", "--database", database_url, "--until", until])
    assert result.exit_code == 0, result.output
    assert "business date now 2026-03-05" in result.output and "2026-03-04" in result.output
    again = runner.invoke(app, ["run", "--database", database_url, "--date", START.isoformat()])
    assert again.exit_code == 0 and "done before" in again.output
    wrong = runner.invoke(app, ["run", "--database", database_url, "--date", "2026-04-01"])
    assert isinstance(wrong.exception, CobError)
    assert "the business date is 2026-03-05" in str(wrong.exception)
    with migrated_engine.connect() as connection:
        days = connection.scalar(select(func.count(func.distinct(LoanSnapshot.business_date))))
        assert days == 3
        assert connection.scalar(select(func.count()).select_from(Loan)) == 200
