"""The bureau refresh of early warning (贷中复查 · 最新征信): for the day's sample of open loans
(`sample_bp` basis points of them, chosen by a hash of the loan id and the date: the same
loans on a rerun, every loan in turn over the days) and — with `on_trigger` — every loan
not yet overdue that another rule hit today, a fresh report from the credit bureau (the
same provider as the decision engine's), compared with the bureau features stored with
the loan's decision:

- `bureau_multi_lending` (新增多头): credit applications (inquiries for a loan or card) in
  the rule's window rose by at least `min_increase` since the decision;
- `bureau_external_overdue` (他行逾期): loans overdue or in bad debt at other lenders rose
  by at least `min_increase` (a first one included).

At most `max_per_day` reports a day (each partition its share of the loan ids; the sample
first). A loan whose decision had no report (bureau unavailable) has nothing to compare
with and is skipped. The figure that hit is the hit's subject: the same figure is not
raised twice, a higher one is. The calls run after the partition committed (no lock held
while the bureau answers), `CALLS` at a time; then one transaction stores the fresh reports
in the per-person cache, the hits and their effects. A bureau error skips the loan (logged); the
partition is done once its refresh returned.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import partial
from typing import Any

from xindai.cob.registry import StepContext
from xindai.cob.sql import OPEN_STATUSES, Dialect, quote
from xindai.collections.reminders import Sender
from xindai.collections.warning_rules import WarningRules
from xindai.collections.warnings_cob import _NOT_BUREAU, HIT_COLUMNS, apply_effects
from xindai.integrations.errors import ProviderError
from xindai.risk.antifraud.bureau import BureauReport, bureau_features
from xindai.risk.bureau_cache import store_report

logger = logging.getLogger("xindai.collections")
CALLS = 8  # bureau requests at once (the bureau answers in its own time: overlap them)
HASH_FACTOR, DAY_FACTOR = 7919, 4729  # both prime to 10,000: every residue, every loan in turn
WINDOWS = {30: "1m", 90: "3m", 180: "6m"}
SAMPLE, TRIGGER = "sample", "trigger"


def day_term(day: date) -> int:
    return (day.toordinal() * DAY_FACTOR) % 10_000


def sampled(loan_id: int, day: date, sample_bp: int) -> bool:
    """Whether the loan is in the day's sample (the SQL of `refresh_targets`, in Python)."""
    return (loan_id * HASH_FACTOR + day_term(day)) % 10_000 < sample_bp


@dataclass(frozen=True, slots=True)
class Target:
    loan_id: int
    borrower_id: int
    id_number_enc: str
    name_enc: str
    id_number_hash: str
    baseline: dict[str, Any] | None  # the decision's features (None: no report then)
    reason: str  # sample | trigger


def _baseline(inputs: Any) -> dict[str, Any] | None:
    if not inputs:
        return None
    features = json.loads(str(inputs)).get("features") or {}
    return dict(features) if features.get("bureau_report_available") else None


def _cap(ctx: StepContext, most: int) -> int:
    """The partition's share of the day's `most` reports, by its share of the loan ids."""
    first = ctx.scalar("SELECT MIN(id) FROM loans")
    last = ctx.scalar("SELECT MAX(id) FROM loans")
    if first is None or last is None:
        return 0
    span = int(last) - int(first) + 1
    mine = min(ctx.hi, int(last)) - max(ctx.lo, int(first)) + 1
    return max(0, -(-most * mine // span))


def refresh_targets(ctx: StepContext, rules: WarningRules) -> list[Target]:
    """The partition's loans to refresh today, at most its share of `max_per_day`: the
    sample first (a scan of the partition's open loans with the hash), then — by loan id —
    the loans not yet overdue with another rule's hit today (an overdue loan's case is the
    answer already), each whose borrower has an ID number on file; with the features of the
    latest decision on the loan's application."""
    cap = _cap(ctx, rules.max_per_day)
    chosen: list[int] = []
    if rules.sample_bp > 0 and cap:
        chosen += [
            int(i)
            for i in ctx.execute(
                "SELECT id FROM loans WHERE id BETWEEN :lo AND :hi"
                f" AND status IN {OPEN_STATUSES}"
                f" AND (id * {HASH_FACTOR} + :term) % 10000 < :bp ORDER BY id",
                term=day_term(ctx.business_date),
                bp=rules.sample_bp,
            ).scalars()
        ]
    if rules.on_trigger and len(chosen) < cap:
        sampled_ids = set(chosen)
        chosen += [
            int(i)
            for i in ctx.execute(
                "SELECT DISTINCT h.loan_id FROM early_warning_hits h JOIN loans l"
                " ON l.id = h.loan_id WHERE h.business_date = :d"
                f" AND h.{_NOT_BUREAU} AND h.loan_id BETWEEN :lo AND :hi"
                " AND l.status = 'active' ORDER BY h.loan_id"
            ).scalars()
            if int(i) not in sampled_ids
        ]
    chosen = chosen[:cap]
    found: dict[int, Target] = {}
    for start in range(0, len(chosen), 500):
        ids = ", ".join(str(i) for i in chosen[start : start + 500])
        for r in (
            tuple(row)
            for row in ctx.execute(
                "SELECT l.id, l.borrower_id, b.id_number_enc, b.name_enc, b.id_number_hash,"
                " (SELECT dn.inputs FROM decisions dn WHERE dn.application_id ="
                " (SELECT MAX(a.id) FROM applications a WHERE a.loan_id = l.id)"
                " ORDER BY dn.id DESC LIMIT 1)"
                " FROM loans l JOIN borrowers b ON b.id = l.borrower_id"
                f" WHERE l.id IN ({ids}) AND b.id_number_enc IS NOT NULL"
                " AND b.name_enc IS NOT NULL AND b.id_number_hash IS NOT NULL"
            ).all()
        ):
            found[int(r[0])] = Target(
                int(r[0]),
                int(r[1]),
                str(r[2]),
                str(r[3]),
                str(r[4]),
                _baseline(r[5]),
                SAMPLE if sampled(int(r[0]), ctx.business_date, rules.sample_bp) else TRIGGER,
            )
    return [found[i] for i in chosen if i in found]


def compare(
    target: Target, fresh: dict[str, Any], rules: WarningRules
) -> list[tuple[str, str, dict[str, Any]]]:
    """The bureau rules `fresh` (features of the new report) hits against the decision's:
    (rule code, subject, detail) each."""
    base = target.baseline or {}
    found: list[tuple[str, str, dict[str, Any]]] = []
    rule = rules.enabled("bureau_multi_lending")
    if rule is not None:
        window = WINDOWS[int(rule.params["window_days"])]
        key = f"bureau_inquiries_{window}"
        before, now = int(base.get(key, 0)), int(fresh[key])
        if now - before >= int(rule.params["min_increase"]):
            found.append(
                (
                    rule.code,
                    f"{window}:{now}",
                    {
                        "reason": target.reason,
                        "window": window,
                        "at_decision": before,
                        "now": now,
                        "increase": now - before,
                        "open_lenders_at_decision": int(base.get("multi_lender_open_count", 0)),
                        "open_lenders_now": int(fresh["multi_lender_open_count"]),
                    },
                )
            )
    rule = rules.enabled("bureau_external_overdue")
    if rule is not None:
        before = int(base.get("bureau_current_overdue_count", 0))
        now = int(fresh["bureau_current_overdue_count"])
        if now - before >= int(rule.params["min_increase"]):
            found.append(
                (
                    rule.code,
                    f"overdue:{now}",
                    {
                        "reason": target.reason,
                        "at_decision": before,
                        "now": now,
                        "increase": now - before,
                        "max_overdue_days_at_decision": int(base.get("bureau_max_overdue_days", 0)),
                        "max_overdue_days_now": int(fresh["bureau_max_overdue_days"]),
                    },
                )
            )
    return found


def _ask(platform: Sender, day: date, target: Target) -> tuple[Target, BureauReport] | None:
    cipher = platform.cipher
    try:
        report = platform.providers.bureau.report(
            cipher.decrypt("id_number", target.id_number_enc),
            cipher.decrypt("name", target.name_enc),
            as_of=day,
        )
    except ProviderError as exc:
        logger.warning("bureau refresh of loan %s skipped: %s", target.loan_id, exc.code)
        return None
    return target, report


def refresh_partition(
    platform: Sender, day: date, targets: Sequence[Target], rules: WarningRules, lo: int, hi: int
) -> int:
    """Ask the bureau for each of `targets` (one partition's), `CALLS` at a time, then store
    the reports, the hits and their effects in one transaction (one writer: SQLite's lock is
    not passed round the threads); returns the hits added."""
    with ThreadPoolExecutor(max_workers=CALLS, thread_name_prefix="bureau-refresh") as pool:
        answered = [a for a in pool.map(partial(_ask, platform, day), targets) if a is not None]
    if not answered:
        return 0
    now = platform.clock()
    as_of = datetime.combine(day, time.max)
    added = 0
    with platform.sessions.begin() as session:
        connection = session.connection()
        ctx = StepContext(connection, Dialect(connection.dialect), day, lo=lo, hi=hi, now=now)
        for target, report in answered:
            store_report(session, platform.cipher, target.id_number_hash, report, now)
        session.flush()
        hit_loans = []
        for target, report in answered:
            if target.baseline is None:
                continue
            for code, subject, detail in compare(target, bureau_features(report, as_of), rules):
                rule = rules.rules[code]
                added += ctx.execute(
                    f"INSERT INTO early_warning_hits ({HIT_COLUMNS})"
                    f" SELECT :loan, :borrower, {quote(code)}, :d, :subject, :detail, :effect,"
                    " :by, :now WHERE NOT EXISTS (SELECT 1 FROM early_warning_hits h"
                    f" WHERE h.loan_id = :loan AND h.rule_code = {quote(code)}"
                    " AND (h.business_date = :d OR h.subject = CAST(:subject AS VARCHAR(64))))",
                    loan=target.loan_id,
                    borrower=target.borrower_id,
                    subject=subject,
                    detail=json.dumps(detail, sort_keys=True),
                    effect=rule.effect,
                    by=rule.by,
                ).rowcount
                hit_loans.append(target.loan_id)
        if hit_loans:
            apply_effects(ctx, hit_loans)
    return added


def refresh_calls(
    platform: Sender, ctx: StepContext, rules: WarningRules, targets: Sequence[Target]
) -> list[Callable[[], object]]:
    """The after-commit call of a partition's refresh (none without targets)."""
    if not targets:
        return []
    return [partial(refresh_partition, platform, ctx.business_date, targets, rules, ctx.lo, ctx.hi)]


__all__ = ["Target", "compare", "refresh_calls", "refresh_partition", "refresh_targets", "sampled"]
