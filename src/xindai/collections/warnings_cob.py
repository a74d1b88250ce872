"""Early warning in close of business (预警监控 / 贷中复查, SPEC §8): the step
`early_warning`, after `cases` (so that a raised priority lands on today's cases) and
before `allocate` (so that a pre-due case opened today is allocated today). Per partition
of loan ids, set-based SQL over the open loans:

- `missed_withholding`: at least `failures` failed withholdings (代扣) in the last `days`
  business days; not again while an earlier hit is inside that window;
- `device_changed`: the borrower's latest application of the last `lookback_days` came
  from another device or phone than the loan's application (what the borrower API
  records: `applications.device_hash` / `phone_hash`); once per new application;
- `contact_overdue`: an emergency contact of the borrower (matched by the keyed phone
  hash) is a borrower of ours whose loan is overdue for at most `days` days; not again
  inside that window (these two cross borrowers: `collections.warnings_links`, found once
  a date and shared by the partitions);

then the effects of the day's hits (`apply_effects`), and — after the partition committed —
the bureau refresh of `collections.warnings_bureau` for the day's sample of open loans and
for every loan another rule hit today. At most one hit per rule, loan and day: a rerun
adds nothing and applies nothing twice (an effect is applied in the transaction that marks
its hit's `outcome`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from xindai.cob.registry import StepContext, StepFn
from xindai.cob.sql import OPEN_STATUSES, quote
from xindai.collections.cases_cob import challenger_share, test_cell
from xindai.collections.reminders import Sender
from xindai.collections.warning_rules import BUREAU_RULES, Rule, WarningRules, rules_from_json
from xindai.collections.warnings_links import (
    HIT_COLUMNS,
    DayCandidates,
    _text,
    contacts_overdue,
    device_changes,
)

_NOT_BUREAU = f"rule_code NOT IN ({', '.join(quote(c) for c in BUREAU_RULES)})"


def _quiet_since(rule: str, since: str) -> str:
    """No hit of `rule` on loan l since the date parameter `since` (today included)."""
    return (
        "NOT EXISTS (SELECT 1 FROM early_warning_hits h WHERE h.loan_id = l.id"
        f" AND h.rule_code = {quote(rule)} AND h.business_date >= {since})"
    )


def missed_withholdings(ctx: StepContext, rule: Rule) -> int:
    """Hits of `missed_withholding` for the partition (see the module docstring)."""
    days, failures = int(rule.params["days"]), int(rule.params["failures"])
    since = ctx.dialect.date_param(ctx.business_date - timedelta(days=days - 1))
    detail = (
        "'{\"failures\": ' || " + _text("w.n") + f' || \', "days": {days}, "last_failed_on": "\''
        " || " + _text("w.last_day") + " || '\"}'"
    )
    return int(
        ctx.execute(
            f"INSERT INTO early_warning_hits ({HIT_COLUMNS})"
            f" SELECT l.id, l.borrower_id, {quote(rule.code)}, :d, NULL, {detail}, :effect,"
            " :by, :now"
            " FROM (SELECT loan_id, COUNT(*) AS n, MAX(business_date) AS last_day"
            " FROM withholdings WHERE business_date >= :since AND business_date <= :d"
            " AND status = 'failed' AND loan_id BETWEEN :lo AND :hi GROUP BY loan_id"
            " HAVING COUNT(*) >= :failures) w JOIN loans l ON l.id = w.loan_id"
            f" WHERE l.status IN {OPEN_STATUSES} AND {_quiet_since(rule.code, ':since')}",
            effect=rule.effect,
            by=rule.by,
            since=since,
            failures=failures,
        ).rowcount
    )


def _loans(loan_ids: Iterable[int] | None) -> str:
    """The hits' loan condition: the partition, or the given loans of it."""
    if loan_ids is None:
        return "h.loan_id BETWEEN :lo AND :hi"
    ids = sorted({int(i) for i in loan_ids})
    return f"h.loan_id IN ({', '.join(str(i) for i in ids)})" if ids else "1 = 0"


def apply_effects(ctx: StepContext, loan_ids: Iterable[int] | None = None) -> int:
    """Apply the effects of the day's hits not yet applied (of the partition, or of
    `loan_ids` in it): a pre-due case for each open loan without an open case that an
    `open_precase` hit names (queued for the pre-due queue), then every open case of a hit's
    loan raised by the sum of its hits' `by` (kept in `warning_priority`), then each hit's
    case and outcome — `precase`, `raised`, `no_case` or `none`. A hit of the day that
    found no case is applied again when a later one (the bureau's, after commit) opened a
    pre-due case. Returns the hits applied."""
    count = ctx.create_temp(
        "cob_warn_fx",
        "SELECT h.id, h.loan_id, h.borrower_id, h.effect, h.effect_by,"
        " (SELECT c.id FROM collection_cases c WHERE c.loan_id = h.loan_id"
        " AND c.status = 'open') AS case_id FROM early_warning_hits h"
        " WHERE h.business_date = :d AND (h.outcome IS NULL OR h.outcome = 'no_case')"
        f" AND {_loans(loan_ids)}",
    )
    if not count:
        ctx.drop_temp("cob_warn_fx")
        return 0
    ctx.execute(
        "INSERT INTO collection_cases (loan_id, borrower_id, status, opened_on, dpd, bucket,"
        " overdue_fen, overdue_at_open_fen, priority, test_cell, legal, requeue,"
        " requeue_reason, broken_promises, pre_due, warning_priority)"
        " SELECT l.id, l.borrower_id, 'open', :d, l.dpd, l.bucket, l.overdue_fen,"
        f" l.overdue_fen, l.overdue_fen / 100, {test_cell('l.id', challenger_share(ctx))},"
        " :false, :true, 'pre_due', 0, :true, 0 FROM loans l"
        f" WHERE l.status IN {OPEN_STATUSES} AND l.id IN (SELECT loan_id FROM cob_warn_fx"
        " WHERE effect = 'open_precase' AND case_id IS NULL)"
        " AND NOT EXISTS (SELECT 1 FROM collection_cases c WHERE c.loan_id = l.id"
        " AND c.status = 'open')",
        true=True,
        false=False,
    )
    ctx.execute(
        "UPDATE collection_cases AS c SET warning_priority = c.warning_priority + x.raise_by,"
        " priority = c.priority + x.raise_by FROM (SELECT loan_id, SUM(effect_by) AS raise_by"
        " FROM cob_warn_fx WHERE effect <> 'none' GROUP BY loan_id) x"
        " WHERE c.loan_id = x.loan_id AND c.status = 'open'"
    )
    now_case = (
        "(SELECT c.id FROM collection_cases c WHERE c.loan_id = early_warning_hits.loan_id"
        " AND c.status = 'open')"
    )
    ctx.execute(
        f"UPDATE early_warning_hits SET case_id = {now_case}, outcome = CASE"
        " WHEN effect = 'none' THEN 'none'"
        f" WHEN {now_case} IS NULL THEN 'no_case'"
        " WHEN effect = 'open_precase' AND id IN (SELECT id FROM cob_warn_fx"
        " WHERE case_id IS NULL) THEN 'precase' ELSE 'raised' END"
        " WHERE id IN (SELECT id FROM cob_warn_fx)"
    )
    ctx.drop_temp("cob_warn_fx")
    return count


def load_rules_sql(ctx: StepContext) -> WarningRules:
    stored = ctx.scalar("SELECT value FROM collection_settings WHERE key = 'early_warning'")
    return rules_from_json(None if stored is None else str(stored))


def behaviour_hits(ctx: StepContext, rules: WarningRules, day: DayCandidates) -> int:
    """The behaviour rules' hits of the partition (those enabled); `day` holds what the
    cross-borrower rules found for the date (`warnings_links`)."""
    found = 0
    rule = rules.enabled("missed_withholding")
    if rule is not None:
        found += missed_withholdings(ctx, rule)
    rule = rules.enabled("device_changed")
    if rule is not None:
        found += device_changes(ctx, rule, day)
    rule = rules.enabled("contact_overdue")
    if rule is not None:
        found += contacts_overdue(ctx, rule, day)
    return found


def early_warning_step(platform: Sender | None) -> StepFn:
    """The `early_warning` step: the behaviour rules and their effects in the partition's
    transaction; with a `platform` (its bureau provider), the bureau refresh after commit
    (`warnings_bureau.refresh_calls`)."""
    from xindai.collections.warnings_bureau import refresh_calls, refresh_targets

    day = DayCandidates()

    def run(ctx: StepContext) -> int:
        rules = load_rules_sql(ctx)
        touched = behaviour_hits(ctx, rules, day)
        apply_effects(ctx)
        if platform is not None and rules.refreshes:
            targets = refresh_targets(ctx, rules)
            ctx.after_commit.extend(refresh_calls(platform, ctx, rules, targets))
        return touched

    return run


__all__ = [
    "HIT_COLUMNS",
    "apply_effects",
    "behaviour_hits",
    "early_warning_step",
    "load_rules_sql",
    "missed_withholdings",
]
