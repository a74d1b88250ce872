"""Cases in close of business (step 5, after the reminders), set-based over a partition of
loan ids: promises judged, cases closed on cure, settlement, write-off or sale (their
placements closed with what was recovered), open cases refreshed from their loans (DPD,
bucket, overdue amount, priority) and marked for re-allocation on a bucket move or after
their queue's days without a promise, and cases opened for loans that reached DPD 1.

A promise is kept when the loan was paid at least 90 % of its amount from the day it was
made to its date + 1 day, judged partial (something paid) or broken (nothing) at the close
of its date + 1; paid in full earlier, it is kept at once. A broken promise re-queues its
case. Priority (my queue's order): overdue yuan + 10,000 per broken promise + what
early-warning hits added (`warning_priority`), computed when the case opens, moves bucket
or a promise breaks (a hit adds to it at once).

A pre-due case (opened by early warning on a loan not overdue) is not closed by DPD 0: it
closes when the loan is settled, written off or sold, and once the loan is overdue it
becomes the loan's normal case — opened that day (the KPIs count from then), re-queued to
the queue of its DPD unless its collector holds it.
"""

from __future__ import annotations

import json

from sqlalchemy import text

from xindai.cob.registry import StepContext
from xindai.cob.sql import OPEN_STATUSES
from xindai.collections.config import check_strategies, default_strategies

PAID_KINDS = "('repayment', 'early_settlement')"
KEPT_PERCENT = 90
BROKEN_PRIORITY = 10_000


def _paid_since(made_on: str, loan_id: str) -> str:
    """What loan `loan_id` was paid from the date `made_on` up to the business date (fen)."""
    return (
        "(SELECT COALESCE(SUM(t.amount_fen), 0) FROM loan_transactions t"
        f" WHERE t.loan_id = {loan_id} AND t.kind IN {PAID_KINDS} AND t.reversed = :false"
        f" AND t.posted_on >= {made_on} AND t.posted_on <= :d)"
    )


def judge_promises(ctx: StepContext) -> int:
    """Kept / partial / broken for the pending promises of the partition; broken ones
    re-queue their cases. Returns how many promises were judged."""
    ctx.execute(
        "UPDATE collection_promises SET paid_fen ="
        f" {_paid_since('collection_promises.made_on', 'collection_promises.loan_id')}"
        " WHERE status = 'pending' AND loan_id BETWEEN :lo AND :hi",
        false=False,
    )
    judged = ctx.execute(
        "UPDATE collection_promises SET judged_on = :d, status = CASE"
        f" WHEN paid_fen * 100 >= amount_fen * {KEPT_PERCENT} THEN 'kept'"
        " WHEN paid_fen > 0 THEN 'partial' ELSE 'broken' END"
        " WHERE status = 'pending' AND loan_id BETWEEN :lo AND :hi"
        f" AND (paid_fen * 100 >= amount_fen * {KEPT_PERCENT} OR promised_on < :d)"
    ).rowcount
    if judged:
        ctx.execute(
            "UPDATE collection_cases SET broken_promises = broken_promises + 1,"
            f" priority = overdue_fen / 100 + {BROKEN_PRIORITY} * (broken_promises + 1)"
            " + warning_priority,"
            " requeue = :true, requeue_reason = 'broken_promise'"
            " WHERE status = 'open' AND loan_id BETWEEN :lo AND :hi AND id IN"
            " (SELECT p.case_id FROM collection_promises p WHERE p.status = 'broken'"
            " AND p.judged_on = :d AND p.loan_id BETWEEN :lo AND :hi)",
            true=True,
        )
    return int(judged)


# a pre-due case is not cured by DPD 0 (it has been at 0 all along)
CLOSING = f"(t.status NOT IN {OPEN_STATUSES} OR (t.dpd = 0 AND t.pre_due = :false))"


def case_loans(ctx: StepContext) -> int:
    """Temp table cob_case_loans: the partition's open cases beside their loans' state,
    read once (through the cases' loan index, not a scan of the loans)."""
    count = ctx.create_temp(
        "cob_case_loans",
        "SELECT c.id, c.loan_id, l.status, l.dpd, l.bucket, l.overdue_fen, c.pre_due"
        " FROM collection_cases c JOIN loans l ON l.id = c.loan_id"
        " WHERE c.status = 'open' AND c.loan_id BETWEEN :lo AND :hi"
        " AND (c.dpd <> l.dpd OR c.bucket <> l.bucket OR c.overdue_fen <> l.overdue_fen"
        f" OR l.status NOT IN {OPEN_STATUSES} OR (l.dpd = 0 AND c.pre_due = :false)"
        " OR (c.pre_due = :true AND l.status = 'overdue'))",
        true=True,
        false=False,
    )
    if not ctx.dialect.is_sqlite and count:
        # small as it is, a temp table without statistics makes PostgreSQL join it row by
        # row against the placements (measured: 3.8 s of a 4.2 s step at 100,000 loans)
        ctx.connection.execute(text("ANALYZE cob_case_loans"))
    return count


def close_cases(ctx: StepContext) -> int:
    """Close the open cases (of cob_case_loans) whose loan is cured (DPD 0), settled, written
    off or sold, and their active placements (recovered: paid from the placement day).

    The placements are found from the closing loans (`IN`, through their loan index), not
    joined with `UPDATE … FROM`: SQLite walked every active placement of the book and
    scanned the temp table for each, every partition (9.7 s of a 10.3 s cases step at
    200,000 loans; the step took 502 s on the second day at 1,000,000)."""
    ctx.execute(
        "UPDATE collection_placements SET status = 'closed', recalled_on = :d,"
        f" recovered_fen = {_paid_since('collection_placements.placed_on', 'collection_placements.loan_id')}"  # noqa: E501
        " WHERE collection_placements.status = 'active'"
        " AND collection_placements.loan_id BETWEEN :lo AND :hi"
        " AND collection_placements.loan_id IN (SELECT t.loan_id FROM cob_case_loans t"
        f" WHERE {CLOSING})",
        false=False,
    )
    closed = ctx.execute(
        "UPDATE collection_cases AS c SET status = 'closed', closed_on = :d, requeue = :false,"
        " close_reason = CASE t.status WHEN 'written_off' THEN 'written_off'"
        " WHEN 'sold' THEN 'sold' WHEN 'active' THEN 'cured' WHEN 'overdue' THEN 'cured'"
        " ELSE 'settled' END, dpd = t.dpd, bucket = t.bucket, overdue_fen = t.overdue_fen"
        f" FROM cob_case_loans t WHERE c.id = t.id AND {CLOSING}",
        false=False,
    ).rowcount
    return int(closed)


def refresh_cases(ctx: StepContext) -> int:
    """Open cases (of cob_case_loans) take their loan's DPD, bucket and overdue amount; a
    bucket move marks the case for re-allocation (not while it is held, 留案) and recomputes
    its priority (otherwise fixed between events: the indexes of my queue are not rewritten
    every day); then the queue's days since assignment without a promise mark it too.

    Two passes: the day's common case (same bucket, not a pre-due case turning overdue) sets
    only DPD and overdue amount, which no index holds — SQLite rewrites the index entries
    of every column an UPDATE sets, so the one full pass over every open case rewrote my
    queue's indexes daily (1.2 s → 0.5 s a partition of 36,000 cases); then the rest."""
    d = ctx.dialect
    free = "(c.held_until IS NULL OR c.held_until < :d)"
    moved = f"(t.bucket <> c.bucket AND c.requeue = :false AND {free})"
    overdue_now = "(c.pre_due = :true AND t.status = 'overdue')"  # a pre-due case turns normal
    steady = ctx.execute(
        "UPDATE collection_cases AS c SET dpd = t.dpd, overdue_fen = t.overdue_fen"
        f" FROM cob_case_loans t WHERE c.id = t.id AND c.status = 'open' AND NOT {CLOSING}"
        f" AND t.bucket = c.bucket AND NOT {overdue_now}",
        true=True,
        false=False,
    ).rowcount
    refreshed = ctx.execute(
        "UPDATE collection_cases AS c SET dpd = t.dpd, overdue_fen = t.overdue_fen,"
        f" requeue = CASE WHEN {overdue_now} AND {free} THEN :true"
        f" WHEN {moved} THEN :true ELSE c.requeue END,"
        f" requeue_reason = CASE WHEN {overdue_now} AND {free} THEN 'overdue'"
        f" WHEN {moved} THEN 'bucket_move' ELSE c.requeue_reason END,"
        " priority = CASE WHEN t.bucket <> c.bucket"
        f" THEN t.overdue_fen / 100 + {BROKEN_PRIORITY} * c.broken_promises"
        " + c.warning_priority ELSE c.priority END, bucket = t.bucket,"
        f" opened_on = CASE WHEN {overdue_now} THEN :d ELSE c.opened_on END,"
        f" overdue_at_open_fen = CASE WHEN {overdue_now} THEN t.overdue_fen"
        " ELSE c.overdue_at_open_fen END,"
        f" pre_due = CASE WHEN {overdue_now} THEN :false ELSE c.pre_due END"
        f" FROM cob_case_loans t WHERE c.id = t.id AND c.status = 'open' AND NOT {CLOSING}"
        f" AND (t.bucket <> c.bucket OR {overdue_now})",
        true=True,
        false=False,
    ).rowcount
    stale = ctx.execute(
        "UPDATE collection_cases AS c SET requeue = :true, requeue_reason = 'no_promise'"
        " FROM collection_queues q WHERE q.id = c.queue_id AND c.status = 'open'"
        " AND c.loan_id BETWEEN :lo AND :hi AND c.requeue = :false"
        " AND c.assignee_id IS NOT NULL AND q.no_promise_days IS NOT NULL"
        f" AND {d.days_since('c.assigned_on')} >= q.no_promise_days"
        " AND (c.last_promise_on IS NULL OR c.last_promise_on < c.assigned_on)"
        " AND (c.held_until IS NULL OR c.held_until < :d)",
        true=True,
        false=False,
    ).rowcount
    return int(steady) + int(refreshed) + int(stale)


def open_cases(ctx: StepContext, challenger_percent: int) -> int:
    """A case for every loan of the partition past grace at DPD 1 or more without an open
    case; its test cell (champion / challenger) fixed now by the loan id."""
    opened = ctx.execute(
        "INSERT INTO collection_cases (loan_id, borrower_id, status, opened_on, dpd, bucket,"
        " overdue_fen, overdue_at_open_fen, priority, test_cell, legal, requeue,"
        " requeue_reason, broken_promises, pre_due, warning_priority)"
        " SELECT l.id, l.borrower_id, 'open', :d, l.dpd, l.bucket, l.overdue_fen,"
        " l.overdue_fen, l.overdue_fen / 100,"
        f" {test_cell('l.id', challenger_percent)}, :false, :true, 'opened', 0, :false, 0"
        " FROM loans l WHERE l.id BETWEEN :lo AND :hi AND l.status = 'overdue' AND l.dpd >= 1"
        " AND NOT EXISTS (SELECT 1 FROM collection_cases c WHERE c.loan_id = l.id"
        " AND c.status = 'open')",
        true=True,
        false=False,
    ).rowcount
    return int(opened)


def test_cell(loan_id: str, challenger_percent: int) -> str:
    """The SQL of a new case's test cell (champion / challenger), fixed by the loan id."""
    return (
        f"CASE WHEN ({loan_id} * 7919) % 100 < {int(challenger_percent)} THEN 'challenger'"
        " ELSE 'champion' END"
    )


def challenger_share(ctx: StepContext) -> int:
    """The challenger's share of new cases (percent) from the stored strategies."""
    stored = ctx.scalar("SELECT value FROM collection_settings WHERE key = 'strategies'")
    strategies = check_strategies(json.loads(stored)) if stored else default_strategies()
    return int(strategies["challenger"].get("share_percent", 0))


def cases_step(ctx: StepContext) -> int:
    """The `cases` step of close of business (see the module's docstring)."""
    touched = judge_promises(ctx)
    case_loans(ctx)
    touched += close_cases(ctx)
    touched += refresh_cases(ctx)
    ctx.drop_temp("cob_case_loans")
    touched += open_cases(ctx, challenger_share(ctx))
    return touched


__all__ = [
    "cases_step",
    "challenger_share",
    "close_cases",
    "judge_promises",
    "open_cases",
    "refresh_cases",
    "test_cell",
]
