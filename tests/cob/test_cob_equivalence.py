"""THE equivalence of set-based close of business with the pure core (SPEC §6), on SQLite and
PostgreSQL: a few hundred loans of varied products and borrowers, 60 business days.

The pure path of a loan for business date D is `close_day(state, D)` applied with `apply`,
then `refresh_status(state, D)`: COB sets every open loan's status as of D even on a day it
posts nothing. Cached loan columns are `loan_cache(state, D)` after COB of D (the snapshot and
the cache describe the closed day D; the business date is then D + 1).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import func, select

from xindai.store.db import transaction
from xindai.store.models import BucketMove, JournalEntry, LoanTransaction

START = date(2025, 1, 27)  # month ends and a February inside the run


def test_cob_equals_the_pure_core(make_world: Callable[..., Any]) -> None:
    world = make_world(
        seed=20250127, start=START, initial_loans=220, new_per_day=2, partition_size=256
    )
    for day in range(60):
        world.run_day()
        if day in (0, 29):
            world.check()
    world.check()
    # the book really exercised what it is meant to
    with transaction(world.sessions, read_only=True) as session:
        kinds = dict(
            session.execute(
                select(LoanTransaction.kind, func.count())
                .where(LoanTransaction.posted_on >= START)
                .group_by(LoanTransaction.kind)
            ).all()
        )
        moves = set(session.execute(select(BucketMove.from_bucket, BucketMove.to_bucket)).all())
        entries = session.scalar(select(func.count()).select_from(JournalEntry))
    posted = world.cob_posted()
    assert kinds["due"] > 100 and kinds["penalty_accrual"] > 500, kinds
    assert {"repayment", "early_settlement", "waiver"} <= set(kinds)
    assert {("M0", "M1"), ("M1", "M2")} <= moves
    assert entries == len(posted)  # an entry per transaction, lines or not
    capped = [p for p in posted if p.txn.overdue_fee_installments and not p.txn.amount_fen]
    assert capped, "a cap that leaves nothing for an overdue fee (an entry without lines)"
    several_fees = [p for p in posted if len(p.txn.overdue_fee_installments) > 1]
    assert several_fees, "several installments newly overdue on one day"
    statuses = {loan.state.status.value for loan in world.loans}
    assert {"active", "overdue", "settled"} <= statuses
