"""The early-warning rules that cross borrowers, whose driving set is the whole book's:

- `device_changed`: the borrowers who applied in the last `lookback_days` (few, through the
  applications' date index), each one's latest application against every open loan's own
  application (by the borrowers' and the loans' indexes): another device fingerprint or
  phone, both known, is a hit — once per new application (the subject);
- `contact_overdue`: the borrowers whose loan is overdue for at most `days` days (few,
  through the loans' DPD index), the emergency contacts that name their mobile (keyed phone
  hash), those contacts' borrowers' open loans — not again while an earlier hit is inside
  the window.

What a rule finds is found once per business date, by the first partition that asks
(`DayCandidates`): walked again by each partition it cost a second a partition at a
million loans. Each partition then records the hits of its own loans from those rows (a
temp table of a few rows, set-based from there), in its own transaction as usual.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text

from xindai.cob.registry import StepContext
from xindai.cob.sql import OPEN_STATUSES, quote
from xindai.collections.warning_rules import Rule

HIT_COLUMNS = (
    "loan_id, borrower_id, rule_code, business_date, subject, detail, effect, effect_by, created_at"
)
Rows = list[tuple[Any, ...]]


def _text(expression: str) -> str:
    return f"CAST({expression} AS VARCHAR(40))"


@dataclass
class DayCandidates:
    """What the cross-borrower rules found, by rule, business date and parameters; only the
    latest date is kept. Safe for the partitions' threads (the first computes, the others
    wait for it)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    found: dict[tuple[str, date, int], Rows] = field(default_factory=dict)

    def get(self, key: tuple[str, date, int], compute: Callable[[], Rows]) -> Rows:
        with self.lock:
            if key not in self.found:
                self.found = {k: v for k, v in self.found.items() if k[1] == key[1]}
                self.found[key] = compute()
            return self.found[key]


def _partition_rows(
    ctx: StepContext, name: str, columns: str, rows: Rows, names: tuple[str, ...]
) -> int:
    """Temp table `name` (`columns`) holding the rows of the partition's loans (the first
    value of each row is the loan id); how many."""
    mine = [r for r in rows if ctx.lo <= int(r[0]) <= ctx.hi]
    ctx.drop_temp(name)
    ctx.execute(f"CREATE TEMP TABLE {name} ({columns})")
    if mine:
        ctx.connection.execute(
            text(f"INSERT INTO {name} VALUES ({', '.join(f':{n}' for n in names)})"),
            [dict(zip(names, r, strict=True)) for r in mine],
        )
    return len(mine)


def _differs(column: str) -> str:
    """The latest application x and the loan's application a both name `column`, not alike."""
    return f"(x.{column} IS NOT NULL AND a.{column} IS NOT NULL AND x.{column} <> a.{column})"


def _changed_devices(ctx: StepContext, lookback: int) -> Rows:
    """Every open loan whose borrower's latest recent application names another device or
    phone than the loan's: (loan, borrower, new application, the loan's, device?, phone?)."""
    since = datetime.combine(ctx.business_date - timedelta(days=lookback - 1), time.min)
    # two steps: grouped in one, SQLite walks the borrowers' index of every application
    if not ctx.create_temp(
        "cob_warn_recent",
        "SELECT id, borrower_id, device_hash, phone_hash FROM applications"
        " WHERE created_at >= :since",
        since=ctx.dialect.timestamp_param(since),
    ):
        ctx.drop_temp("cob_warn_recent")
        return []
    ctx.create_temp(
        "cob_warn_apps",
        "SELECT * FROM cob_warn_recent WHERE id IN"
        " (SELECT MAX(id) FROM cob_warn_recent GROUP BY borrower_id)",
    )
    device, phone = _differs("device_hash"), _differs("phone_hash")
    rows = ctx.execute(
        "SELECT l.id, l.borrower_id, x.id, a.id,"
        f" CASE WHEN {device} THEN 1 ELSE 0 END, CASE WHEN {phone} THEN 1 ELSE 0 END"
        " FROM cob_warn_apps x CROSS JOIN loans l CROSS JOIN applications a"
        " WHERE l.borrower_id = x.borrower_id AND a.loan_id = l.id AND a.id < x.id"
        f" AND l.status IN {OPEN_STATUSES} AND ({device} OR {phone})"
    ).all()
    ctx.drop_temp("cob_warn_recent", "cob_warn_apps")
    return [tuple(r) for r in rows]


def device_changes(ctx: StepContext, rule: Rule, day: DayCandidates) -> int:
    """Hits of `device_changed` for the partition (see the module docstring)."""
    lookback = int(rule.params["lookback_days"])
    rows = day.get(
        (rule.code, ctx.business_date, lookback), lambda: _changed_devices(ctx, lookback)
    )
    names = ("loan_id", "borrower_id", "app_id", "loan_app_id", "device", "phone")
    columns = (
        "loan_id BIGINT, borrower_id BIGINT, app_id BIGINT, loan_app_id BIGINT,"
        " device INTEGER, phone INTEGER"
    )
    if not _partition_rows(ctx, "cob_warn_devices", columns, rows, names):
        ctx.drop_temp("cob_warn_devices")
        return 0
    subject = "'app:' || " + _text("c.app_id")
    detail = (
        "'{\"application_id\": ' || " + _text("c.app_id")
        + " || ', \"loan_application_id\": ' || " + _text("c.loan_app_id")
        + " || ', \"device\": ' || CASE WHEN c.device = 1 THEN 'true' ELSE 'false' END"
        + " || ', \"phone\": ' || CASE WHEN c.phone = 1 THEN 'true' ELSE 'false' END || '}'"
    )  # fmt: skip
    found = ctx.execute(
        f"INSERT INTO early_warning_hits ({HIT_COLUMNS})"
        f" SELECT c.loan_id, c.borrower_id, {quote(rule.code)}, :d, {subject}, {detail},"
        " :effect, :by, :now FROM cob_warn_devices c"
        " WHERE NOT EXISTS (SELECT 1 FROM early_warning_hits h WHERE h.loan_id = c.loan_id"
        f" AND h.rule_code = {quote(rule.code)}"
        f" AND (h.business_date = :d OR h.subject = {subject}))",
        effect=rule.effect,
        by=rule.by,
    ).rowcount
    ctx.drop_temp("cob_warn_devices")
    return int(found)


def _overdue_contacts(ctx: StepContext, days: int) -> Rows:
    """Every open loan of a borrower one of whose contacts is a borrower overdue for at
    most `days` days: (loan, borrower, the contact's phone hash, relation, its DPD)."""
    if not ctx.create_temp(
        "cob_warn_late",
        "SELECT ob.mobile_hash AS phone_hash, o.borrower_id, MAX(o.dpd) AS dpd"
        " FROM loans o JOIN borrowers ob ON ob.id = o.borrower_id"
        f" WHERE o.dpd BETWEEN 1 AND {int(days)} AND o.status = 'overdue'"
        " AND ob.mobile_hash IS NOT NULL GROUP BY ob.mobile_hash, o.borrower_id",
    ):
        ctx.drop_temp("cob_warn_late")
        return []
    rows = ctx.execute(
        "SELECT l.id, l.borrower_id, c.phone_hash, c.relation, o.dpd"
        " FROM cob_warn_late o CROSS JOIN contacts c CROSS JOIN loans l"
        " WHERE c.phone_hash = o.phone_hash AND c.borrower_id <> o.borrower_id"
        f" AND l.borrower_id = c.borrower_id AND l.status IN {OPEN_STATUSES}"
    ).all()
    ctx.drop_temp("cob_warn_late")
    return [tuple(r) for r in rows]


def contacts_overdue(ctx: StepContext, rule: Rule, day: DayCandidates) -> int:
    """Hits of `contact_overdue` for the partition (see the module docstring)."""
    days = int(rule.params["days"])
    rows = day.get((rule.code, ctx.business_date, days), lambda: _overdue_contacts(ctx, days))
    names = ("loan_id", "borrower_id", "phone_hash", "relation", "dpd")
    columns = (
        "loan_id BIGINT, borrower_id BIGINT, phone_hash VARCHAR(64), relation VARCHAR(16),"
        " dpd INTEGER"
    )
    if not _partition_rows(ctx, "cob_warn_contacts", columns, rows, names):
        ctx.drop_temp("cob_warn_contacts")
        return 0
    since = ctx.dialect.date_param(ctx.business_date - timedelta(days=days - 1))
    relations = (
        "group_concat(DISTINCT c.relation)"  # SQLite: DISTINCT takes no separator
        if ctx.dialect.is_sqlite
        else "string_agg(DISTINCT c.relation, ',')"
    )
    detail = (
        "'{\"contacts\": ' || " + _text("COUNT(DISTINCT c.phone_hash)")
        + " || ', \"max_contact_dpd\": ' || " + _text("MAX(c.dpd)")
        + f" || ', \"relations\": \"' || {relations} || '\"}}'"
    )  # fmt: skip
    found = ctx.execute(
        f"INSERT INTO early_warning_hits ({HIT_COLUMNS})"
        f" SELECT c.loan_id, c.borrower_id, {quote(rule.code)}, :d, NULL, {detail}, :effect,"
        " :by, :now FROM cob_warn_contacts c"
        " WHERE NOT EXISTS (SELECT 1 FROM early_warning_hits h WHERE h.loan_id = c.loan_id"
        f" AND h.rule_code = {quote(rule.code)} AND h.business_date >= :since)"
        " GROUP BY c.loan_id, c.borrower_id",
        effect=rule.effect,
        by=rule.by,
        since=since,
    ).rowcount
    ctx.drop_temp("cob_warn_contacts")
    return int(found)


__all__ = ["HIT_COLUMNS", "DayCandidates", "contacts_overdue", "device_changes"]
