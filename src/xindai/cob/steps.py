"""The built-in steps of close of business as set-based SQL over one partition of loan ids.

Each computes, for every open loan of the partition at once, what `servicing.account.close_day`
and `apply` compute for one loan, followed by `refresh_status` on the business date D:

- `recognise_due`: the `due` transaction (interest and fee of installments due on or before D
  not yet recognised; one line per installment and component, installment order, interest
  before fee), its journal entry (Dr 1102/1103, Cr 4101/4102, one pair per line), the
  recognised amounts; then every installment's status and the loan's status as of D.
- `age_loans`: DPD, bucket and overdue amount of every open loan past due, and the bucket
  moves this ageing makes.
- `accrue_penalty`: the `penalty_accrual` transaction (one-off overdue fees, then the daily
  penalty on the oldest overdue installment, within the cap) and its entry (Dr 1104, Cr 4103).
- `take_snapshots`: one `loan_snapshots` row per open loan.
- `advance_business_date`: D → D + 1.

Intermediate sets live in session temp tables (`cob_*`), dropped before the step returns.
Rows are written as the servicing service writes them (`repository.txn_row`,
`ledger.journal.post_entry`): transaction `loans.last_txn_seq + 1`, entry
`loans.last_entry_no + 1` described "<kind> #<seq>", one entry per transaction even when it
has no line (a penalty accrual that only marks overdue fees charged, all capped to 0),
idempotency key `cob:<D>:<kind>`. Loan rows that change get `row_version + 1`.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from xindai.cob.registry import StepContext
from xindai.cob.sql import (
    OPEN_STATUSES,
    bucket_case,
    outstanding,
    outstanding_total,
    paid_total,
    value_case,
)
from xindai.errors import XindaiError
from xindai.servicing.account import INCOME, RECEIVABLE
from xindai.servicing.allocation import Component as C
from xindai.servicing.transactions import TxnKind
from xindai.store.repository import BUSINESS_DATE_KEY

_TXN_COLUMNS = (
    "loan_id, seq, kind, value_date, posted_on, amount_fen, principal_fen, interest_fen,"
    " fee_fen, penalty_fen, credit_fen, channel, external_ref, payload, reverses_seq, reversed,"
    " idempotency_key, actor, created_at"
)
_ENTRY_COLUMNS = (
    "loan_id, entry_no, txn_seq, business_date, value_date, kind, description, reverses_entry_no"
)
_LINE_COLUMNS = (
    "loan_id, entry_no, line_no, business_date, account_code, channel, debit_fen, credit_fen,"
    " external_ref"
)
# a column of installment i's loan when the loan is open, else NULL
_OPEN_LOAN = (
    f"SELECT l.{{column}} FROM loans l WHERE l.id = i.loan_id AND l.status IN {OPEN_STATUSES}"
)
# one window over a loan's lines in line order, for ordered text aggregation on both databases
_LOAN_WINDOW = (
    "WINDOW w AS (PARTITION BY loan_id ORDER BY line_no"
    " ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
)


def idempotency_key(kind: TxnKind, ctx: StepContext) -> str:
    """The idempotency key of the system transaction `kind` posted by COB for the date."""
    return f"cob:{ctx.business_date.isoformat()}:{kind.value}"


def _line_json(ctx: StepContext) -> str:
    """`[installment, "component", fen]`, as `json.dumps` writes a payload line."""
    return ctx.dialect.concat_agg(
        "'[' || number || ', ' || '\"' || component || '\"' || ', ' || fen || ']'"
    )


def _post(
    ctx: StepContext,
    kind: TxnKind,
    txns: str,
    lines: str,
    components: str,
    loan_updates: str = "",
) -> None:
    """Insert the transactions of temp table `txns` (loan_id, seq, entry_no, amount, interest,
    fee, penalty, payload), their journal entries and the lines of temp table `lines`
    (loan_id, line_no, component, fen): debit receivable, credit income, per line. Loans get
    their new last sequence and entry numbers and the `loan_updates` SET items (alias l, t)."""
    ctx.execute(
        f"INSERT INTO loan_transactions ({_TXN_COLUMNS})"
        f" SELECT loan_id, seq, '{kind.value}', :d, :d, amount, 0, interest, fee, penalty, 0,"
        " 'default', NULL, payload, NULL, FALSE, :key, 'system', :now"
        f" FROM {txns}",
        key=idempotency_key(kind, ctx),
    )
    ctx.execute(
        f"INSERT INTO journal_entries ({_ENTRY_COLUMNS})"
        f" SELECT loan_id, entry_no, seq, :d, :d, '{kind.value}', '{kind.value} #' || seq, NULL"
        f" FROM {txns}"
    )
    receivable = value_case(components, {c.value: RECEIVABLE[c].code for c in INCOME})
    income = value_case(components, {c.value: INCOME[c].code for c in INCOME})
    for line_no, account, debit, credit in (
        ("2 * l.line_no - 1", receivable, "l.fen", "0"),
        ("2 * l.line_no", income, "0", "l.fen"),
    ):
        ctx.execute(
            f"INSERT INTO journal_lines ({_LINE_COLUMNS})"
            f" SELECT l.loan_id, t.entry_no, {line_no}, :d, {account}, NULL, {debit}, {credit},"
            f" NULL FROM {lines} l JOIN {txns} t ON t.loan_id = l.loan_id"
        )
    ctx.execute(
        "UPDATE loans AS l SET last_txn_seq = t.seq, last_entry_no = t.entry_no,"
        f" {loan_updates} row_version = l.row_version + 1 FROM {txns} t WHERE l.id = t.loan_id"
    )


# ---------------------------------------------------------------- 1. due


def recognise_due(ctx: StepContext) -> int:
    """Post the `due` transactions, then set installment and loan statuses as of D.
    Returns the number of transactions posted plus status changes."""
    d = ctx.dialect
    # through ix_installments_unrecognised when it exists: only what is not yet recognised
    loan_range = (
        d.no_index("i.loan_id") if "ix_installments_unrecognised" in ctx.indexes else "i.loan_id"
    )
    # the loan is looked up per candidate (a scalar subquery: an index probe on both
    # databases, whatever the planner's estimate of how many installments fall due)
    count = ctx.create_temp(
        "cob_due_inst",
        "SELECT loan_id, number, interest, fee FROM (SELECT i.loan_id, i.number,"
        f" {d.greatest('i.interest_due_fen - i.interest_recognised_fen', '0')} AS interest,"
        f" {d.greatest('i.fee_due_fen - i.fee_recognised_fen', '0')} AS fee,"
        f" ({_OPEN_LOAN.format(column='id')}) AS open_loan"
        " FROM installments i WHERE i.due_date <= :d"
        " AND (i.interest_due_fen > i.interest_recognised_fen"
        " OR i.fee_due_fen > i.fee_recognised_fen)"
        f" AND {loan_range} BETWEEN :lo AND :hi AND NOT i.cancelled) c"
        " WHERE open_loan IS NOT NULL",
    )
    posted = 0
    if count:
        ctx.create_temp(
            "cob_due_line",
            "SELECT loan_id, number, component, fen,"
            " ROW_NUMBER() OVER (PARTITION BY loan_id ORDER BY number, ordinal) AS line_no"
            " FROM (SELECT loan_id, number, 'interest' AS component, 1 AS ordinal,"
            " interest AS fen FROM cob_due_inst WHERE interest > 0"
            " UNION ALL SELECT loan_id, number, 'fee', 2, fee FROM cob_due_inst WHERE fee > 0"
            ") x",
        )
        posted = ctx.create_temp(
            "cob_due_txn",
            "SELECT t.loan_id, l.last_txn_seq + 1 AS seq, l.last_entry_no + 1 AS entry_no,"
            " t.interest + t.fee AS amount, t.interest, t.fee, 0 AS penalty,"
            " '{\"lines\": [' || t.lines || ']}' AS payload"
            " FROM (SELECT loan_id, line_no,"
            " CAST(SUM(CASE WHEN component = 'interest' THEN fen ELSE 0 END) OVER w AS BIGINT)"
            " AS interest,"
            " CAST(SUM(CASE WHEN component = 'fee' THEN fen ELSE 0 END) OVER w AS BIGINT)"
            f" AS fee, {_line_json(ctx)} OVER w AS lines"
            f" FROM cob_due_line {_LOAN_WINDOW}) t"
            " JOIN loans l ON l.id = t.loan_id WHERE t.line_no = 1",
        )
        _post(ctx, TxnKind.DUE, "cob_due_txn", "cob_due_line", "l.component")
        ctx.execute(
            "UPDATE installments AS i SET"
            " interest_recognised_fen = i.interest_recognised_fen + s.interest,"
            " fee_recognised_fen = i.fee_recognised_fen + s.fee"
            " FROM cob_due_inst s WHERE i.loan_id = s.loan_id AND i.number = s.number"
        )
        ctx.drop_temp("cob_due_inst", "cob_due_line", "cob_due_txn")
    else:
        ctx.drop_temp("cob_due_inst")
    return posted + _refresh_statuses(ctx)


def _refresh_statuses(ctx: StepContext) -> int:
    """`InstallmentState.status` of every live installment and `refresh_status` of every
    open loan, as of D, where they change. Only dates move statuses at close of business:
    pending → due on the due date, due / partial → overdue after the grace days."""
    d = ctx.dialect
    new_status = (
        f"CASE WHEN {outstanding_total('i')} = 0 THEN 'paid'"
        f" WHEN {d.past_grace('i.due_date', 'i.grace_days')} THEN 'overdue'"
        f" WHEN {paid_total('i')} > 0 THEN 'partial'"
        " WHEN i.due_date <= :d THEN 'due' ELSE 'pending' END"
    )
    # through ix_installments_current when it exists: only unpaid, not yet overdue ones
    loan_range = (
        d.no_index("i.loan_id") if "ix_installments_current" in ctx.indexes else "i.loan_id"
    )
    changes = ctx.create_temp(
        "cob_status",
        "SELECT loan_id, number, status FROM (SELECT i.loan_id, i.number, i.status AS old,"
        f" {new_status} AS status FROM (SELECT i.*,"
        f" ({_OPEN_LOAN.format(column='grace_days')}) AS grace_days"
        " FROM installments i WHERE i.status IN ('pending', 'due', 'partial')"
        f" AND i.due_date <= :d AND {loan_range} BETWEEN :lo AND :hi AND NOT i.cancelled) i"
        " WHERE i.grace_days IS NOT NULL) c WHERE status <> old",
    )
    if changes:
        ctx.execute(
            "UPDATE installments AS t SET status = s.status FROM cob_status s"
            " WHERE t.loan_id = s.loan_id AND t.number = s.number"
        )
    ctx.drop_temp("cob_status")
    loan_status = (
        f"CASE WHEN {d.past_grace('oldest_unpaid_due', 'grace_days')}"
        " THEN 'overdue' ELSE 'active' END"
    )
    # an active loan turns overdue only once its oldest unpaid installment is past due
    loans = ctx.execute(
        f"UPDATE loans SET status = {loan_status}, row_version = row_version + 1"
        " WHERE id BETWEEN :lo AND :hi AND oldest_unpaid_due IS NOT NULL"
        " AND (status = 'overdue' OR (status = 'active' AND oldest_unpaid_due < :d))"
        f" AND status <> {loan_status}"
    ).rowcount
    # nothing left to pay (refresh_status): settled
    settled = ctx.execute(
        "UPDATE loans SET status = 'settled', closed_on = COALESCE(closed_on, :d),"
        " row_version = row_version + 1"
        f" WHERE id BETWEEN :lo AND :hi AND status IN {OPEN_STATUSES}"
        " AND oldest_unpaid_due IS NULL"
    ).rowcount
    return changes + int(loans) + int(settled)


# ---------------------------------------------------------------- 2. DPD and buckets


def age_loans(ctx: StepContext) -> int:
    """DPD, bucket and overdue_fen of every open loan past due; a `bucket_moves` row for each
    loan whose bucket changes. Loans not past due keep DPD 0, M0 and no overdue amount (what
    every posting leaves). Returns the number of loans updated."""
    d = ctx.dialect
    overdue_sum = (
        f"(SELECT CAST(SUM({outstanding_total('i')}) AS BIGINT) FROM installments i"
        " WHERE i.loan_id = l.id AND NOT i.cancelled"
        f" AND {d.past_grace('i.due_date', 'l.grace_days')})"
    )
    count = ctx.create_temp(
        "cob_dpd",
        "SELECT loan_id, old_bucket, old_dpd, old_overdue, dpd,"
        f" {bucket_case(ctx.bucket_scheme, 'dpd')} AS bucket, overdue_fen"
        " FROM (SELECT l.id AS loan_id, l.bucket AS old_bucket, l.dpd AS old_dpd,"
        f" l.overdue_fen AS old_overdue, {d.days_since('l.oldest_unpaid_due')} AS dpd,"
        f" COALESCE({overdue_sum}, 0) AS overdue_fen"
        f" FROM loans l WHERE l.status IN {OPEN_STATUSES}"
        " AND l.oldest_unpaid_due < :d AND l.id BETWEEN :lo AND :hi) x",
    )
    updated = 0
    if count:
        ctx.execute(
            "INSERT INTO bucket_moves (business_date, loan_id, from_bucket, to_bucket, dpd)"
            " SELECT :d, loan_id, old_bucket, bucket, dpd FROM cob_dpd"
            " WHERE bucket <> old_bucket"
        )
        updated = ctx.execute(
            "UPDATE loans AS l SET dpd = s.dpd, bucket = s.bucket, overdue_fen = s.overdue_fen,"
            " max_dpd = CASE WHEN s.dpd > l.max_dpd THEN s.dpd ELSE l.max_dpd END,"
            " row_version = l.row_version + 1 FROM cob_dpd s WHERE l.id = s.loan_id"
            " AND (s.dpd <> s.old_dpd OR s.bucket <> s.old_bucket"
            " OR s.overdue_fen <> s.old_overdue)"
        ).rowcount
    ctx.drop_temp("cob_dpd")
    return int(updated)


# ---------------------------------------------------------------- 3. penalty


def accrue_penalty(ctx: StepContext) -> int:
    """Post the `penalty_accrual` transactions of the overdue loans (close_day's rules:
    overdue fee per newly overdue installment, then ROUND_HALF_UP(base × rate) on the oldest
    overdue installment, both within the cap). Returns the number of transactions."""
    d = ctx.dialect
    charge = "CASE WHEN l.overdue_fee_fen > 0 AND NOT i.overdue_fee_charged THEN 1 ELSE 0 END"
    base = (
        f"{outstanding('i', C.PRINCIPAL)} + CASE WHEN l.penalty_on_total"
        f" THEN {outstanding('i', C.INTEREST)} + {outstanding('i', C.FEE)} ELSE 0 END"
    )
    count = ctx.create_temp(
        "cob_pen_inst",
        "SELECT i.loan_id, i.number, "
        f"{charge} AS charge,"
        f" SUM({charge}) OVER (PARTITION BY i.loan_id ORDER BY i.number"
        " ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS charge_rank,"
        f" {base} AS base, l.overdue_fee_fen AS fee,"
        " l.penalty_cap_fen - l.penalty_accrued_fen AS room,"
        # what later stages need of the loan, so that none joins the loans again
        " l.penalty_rate_num AS rate_num, l.penalty_rate_den AS rate_den,"
        " l.last_txn_seq, l.last_entry_no"
        " FROM loans l CROSS JOIN installments i"  # the overdue loans, then their installments
        " WHERE i.loan_id = l.id AND l.status = 'overdue' AND l.id BETWEEN :lo AND :hi"
        f" AND NOT i.cancelled AND {outstanding_total('i')} > 0"
        f" AND {d.past_grace('i.due_date', 'l.grace_days')}",
    )
    if not count:
        ctx.drop_temp("cob_pen_inst")
        return 0
    # the k-th fee charged today gets what the cap leaves after the k − 1 before it
    fee_amount = (
        "CASE WHEN charge = 0 THEN 0 WHEN room IS NULL THEN fee"
        f" ELSE {d.greatest('0', d.least('fee', 'room - (charge_rank - 1) * fee'))} END"
    )
    ctx.create_temp(
        "cob_pen_fee",
        f"SELECT loan_id, number, charge, {fee_amount} AS fen FROM cob_pen_inst",
    )
    raw_daily = "(2 * p.base * p.rate_num + p.rate_den) / (2 * p.rate_den)"
    daily = (
        f"CASE WHEN p.room IS NULL THEN {raw_daily}"
        f" ELSE {d.greatest('0', d.least(raw_daily, 'p.room - f.fees'))} END"
    )
    ctx.create_temp(
        "cob_pen_loan",
        "SELECT p.loan_id, p.first_number, p.charged, p.last_txn_seq, p.last_entry_no,"
        f" f.fees, {daily} AS daily"
        " FROM (SELECT loan_id, MIN(number) AS first_number, SUM(charge) AS charged,"
        " CAST(SUM(base) AS BIGINT) AS base, MIN(room) AS room, MIN(rate_num) AS rate_num,"
        " MIN(rate_den) AS rate_den, MIN(last_txn_seq) AS last_txn_seq,"
        " MIN(last_entry_no) AS last_entry_no FROM cob_pen_inst GROUP BY loan_id) p"
        " JOIN (SELECT loan_id, CAST(SUM(fen) AS BIGINT) AS fees FROM cob_pen_fee"
        " GROUP BY loan_id) f ON f.loan_id = p.loan_id",
    )
    ctx.create_temp(
        "cob_pen_line",
        "SELECT loan_id, number, 'penalty' AS component, fen,"
        " ROW_NUMBER() OVER (PARTITION BY loan_id ORDER BY ordinal, number) AS line_no"
        " FROM (SELECT loan_id, number, fen, 1 AS ordinal FROM cob_pen_fee WHERE fen > 0"
        " UNION ALL SELECT loan_id, first_number, daily, 2 FROM cob_pen_loan WHERE daily > 0"
        ") x",
    )
    charged_json = d.concat_agg("'' || number")
    posted = ctx.create_temp(
        "cob_pen_txn",
        "SELECT p.loan_id, p.last_txn_seq + 1 AS seq, p.last_entry_no + 1 AS entry_no,"
        " p.fees + p.daily AS amount, 0 AS interest, 0 AS fee, p.fees + p.daily AS penalty,"
        " CASE WHEN j.lines IS NULL"
        " THEN '{\"overdue_fee_installments\": [' || c.numbers || ']}'"
        " WHEN c.numbers IS NULL THEN '{\"lines\": [' || j.lines || ']}'"
        " ELSE '{\"lines\": [' || j.lines || '], \"overdue_fee_installments\": ['"
        " || c.numbers || ']}' END AS payload"
        " FROM cob_pen_loan p"
        f" LEFT JOIN (SELECT loan_id, line_no, {_line_json(ctx)} OVER w AS lines"
        f" FROM cob_pen_line {_LOAN_WINDOW}) j ON j.loan_id = p.loan_id AND j.line_no = 1"
        f" LEFT JOIN (SELECT loan_id, line_no, {charged_json} OVER w AS numbers"
        " FROM (SELECT loan_id, number,"
        " ROW_NUMBER() OVER (PARTITION BY loan_id ORDER BY number) AS line_no"
        f" FROM cob_pen_fee WHERE charge = 1) x {_LOAN_WINDOW}) c"
        " ON c.loan_id = p.loan_id AND c.line_no = 1"
        " WHERE p.fees + p.daily > 0 OR p.charged > 0",
    )
    if posted:
        _post(
            ctx,
            TxnKind.PENALTY_ACCRUAL,
            "cob_pen_txn",
            "cob_pen_line",
            "l.component",
            "penalty_accrued_fen = l.penalty_accrued_fen + t.amount,"
            " penalty_outstanding_fen = l.penalty_outstanding_fen + t.amount,"
            " overdue_fen = l.overdue_fen + t.amount,",
        )
        ctx.create_temp(
            "cob_pen_upd",
            "SELECT loan_id, number, MAX(charge) AS charge, CAST(SUM(fen) AS BIGINT) AS fen"
            " FROM (SELECT loan_id, number, charge, 0 AS fen FROM cob_pen_fee WHERE charge = 1"
            " UNION ALL SELECT loan_id, number, 0, fen FROM cob_pen_line) x"
            " GROUP BY loan_id, number",
        )
        ctx.execute(
            "UPDATE installments AS i SET penalty_due_fen = i.penalty_due_fen + s.fen,"
            " penalty_recognised_fen = i.penalty_recognised_fen + s.fen,"
            " overdue_fee_charged = CASE WHEN s.charge = 1 THEN TRUE"
            " ELSE i.overdue_fee_charged END"
            " FROM cob_pen_upd s WHERE i.loan_id = s.loan_id AND i.number = s.number"
        )
    ctx.drop_temp(
        "cob_pen_inst", "cob_pen_fee", "cob_pen_loan", "cob_pen_line", "cob_pen_txn", "cob_pen_upd"
    )
    return posted


# ---------------------------------------------------------------- 6. snapshot


def take_snapshots(ctx: StepContext) -> int:
    """One `loan_snapshots` row for D per open loan of the partition."""
    return int(
        ctx.execute(
            "INSERT INTO loan_snapshots (business_date, loan_id, borrower_id, product_code,"
            " status, dpd, bucket, principal_outstanding_fen, interest_outstanding_fen,"
            " fee_outstanding_fen, penalty_outstanding_fen, overdue_fen)"
            " SELECT :d, id, borrower_id, product_code, status, dpd, bucket,"
            " principal_outstanding_fen, interest_outstanding_fen, fee_outstanding_fen,"
            " penalty_outstanding_fen, overdue_fen"
            f" FROM loans WHERE status IN {OPEN_STATUSES} AND id BETWEEN :lo AND :hi"
        ).rowcount
    )


# ---------------------------------------------------------------- 7. advance


class BusinessDateMoved(XindaiError):
    code = "COB_BUSINESS_DATE_MOVED"


def advance_business_date(ctx: StepContext) -> int:
    """Move the business date from D to D + 1 (only if it still is D)."""
    moved = ctx.connection.execute(
        text("UPDATE system_state SET value = :next WHERE key = :key AND value = :today"),
        {
            "key": BUSINESS_DATE_KEY,
            "today": ctx.business_date.isoformat(),
            "next": (ctx.business_date + timedelta(days=1)).isoformat(),
        },
    ).rowcount
    if moved != 1:
        raise BusinessDateMoved(
            f"the business date is no longer {ctx.business_date}: another close of business ran",
            f"营业日已不是 {ctx.business_date}：另一个日终批处理已运行",
        )
    return 1
