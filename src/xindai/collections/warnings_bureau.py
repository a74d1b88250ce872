"""The bureau refresh of early warning (贷中复查 · 最新征信): for the day's sample of open loans
(`sample_bp` basis points of them, chosen by a hash of the loan id and the date: the same
loans on a rerun, every loan in turn over the days) and — with `on_trigger` — every loan
another rule hit today, a fresh report from the credit bureau (the same provider as the
decision engine's), compared with the bureau features stored with the loan's decision:

- `bureau_multi_lending` (新增多头): credit applications (inquiries for a loan or card) in
  the rule's window rose by at least `min_increase` since the decision;
- `bureau_external_overdue` (他行逾期): loans overdue or in bad debt at other lenders rose
  by at least `min_increase` (a first one included).

A loan whose decision had no report (bureau unavailable) has nothing to compare with and
is skipped. The figure that hit is the hit's subject: the same figure is not raised twice,
a higher one is. The calls run after the partition committed (no lock held while the bureau
answers), a few at a time (`StepContext.after_commit`); each chunk stores the fresh reports
in the per-person cache, its hits and their effects in one transaction. A bureau error
skips the loan (logged); the partition is done once every chunk returned.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
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
CHUNK = 25  # loans per after-commit call (AFTER_COMMIT_CALLS of them at once)
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


def refresh_targets(ctx: StepContext, rules: WarningRules) -> list[Target]:
    """The partition's loans to refresh today: the sample (a scan of the partition's loan
    ids with the hash) and the loans with another rule's hit today, whose borrower has an ID
    number on file; with the features of the latest decision on the loan's application."""
    parts = []
    if rules.sample_bp > 0:
        parts.append(
            "SELECT id FROM loans WHERE id BETWEEN :lo AND :hi"
            f" AND status IN {OPEN_STATUSES}"
            f" AND (id * {HASH_FACTOR} + :term) % 10000 < :bp"
        )
    if rules.on_trigger:
        parts.append(
            "SELECT loan_id FROM early_warning_hits WHERE business_date = :d"
            f" AND {_NOT_BUREAU} AND loan_id BETWEEN :lo AND :hi"
        )
    if not parts:
        return []
    rows = ctx.execute(
        "SELECT l.id, l.borrower_id, b.id_number_enc, b.name_enc, b.id_number_hash,"
        " (SELECT dn.inputs FROM decisions dn WHERE dn.application_id ="
        " (SELECT MAX(a.id) FROM applications a WHERE a.loan_id = l.id)"
        " ORDER BY dn.id DESC LIMIT 1)"
        " FROM loans l JOIN borrowers b ON b.id = l.borrower_id"
        f" WHERE l.id IN ({' UNION '.join(parts)}) AND l.status IN {OPEN_STATUSES}"
        " AND b.id_number_enc IS NOT NULL AND b.name_enc IS NOT NULL"
        " AND b.id_number_hash IS NOT NULL ORDER BY l.id",
        term=day_term(ctx.business_date),
        bp=rules.sample_bp,
    ).all()
    return [
        Target(
            int(r[0]),
            int(r[1]),
            str(r[2]),
            str(r[3]),
            str(r[4]),
            _baseline(r[5]),
            SAMPLE if sampled(int(r[0]), ctx.business_date, rules.sample_bp) else TRIGGER,
        )
        for r in (tuple(row) for row in rows)
    ]


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


def refresh_chunk(
    platform: Sender, day: date, targets: Sequence[Target], rules: WarningRules, lo: int, hi: int
) -> int:
    """Ask the bureau for each of `targets` (one partition's), then store the reports, the
    hits and their effects in one transaction; returns the hits added."""
    cipher = platform.cipher
    answered: list[tuple[Target, BureauReport]] = []
    for target in targets:
        try:
            report = platform.providers.bureau.report(
                cipher.decrypt("id_number", target.id_number_enc),
                cipher.decrypt("name", target.name_enc),
                as_of=day,
            )
        except ProviderError as exc:
            logger.warning("bureau refresh of loan %s skipped: %s", target.loan_id, exc.code)
            continue
        answered.append((target, report))
    if not answered:
        return 0
    now = platform.clock()
    as_of = datetime.combine(day, time.max)
    added = 0
    with platform.sessions.begin() as session:
        connection = session.connection()
        ctx = StepContext(connection, Dialect(connection.dialect), day, lo=lo, hi=hi, now=now)
        for target, report in answered:
            store_report(session, cipher, target.id_number_hash, report, now)
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
    """The after-commit calls of a partition's refresh, `CHUNK` loans each."""
    day, lo, hi = ctx.business_date, ctx.lo, ctx.hi
    return [
        partial(refresh_chunk, platform, day, targets[i : i + CHUNK], rules, lo, hi)
        for i in range(0, len(targets), CHUNK)
    ]


__all__ = ["Target", "compare", "refresh_calls", "refresh_chunk", "refresh_targets", "sampled"]
