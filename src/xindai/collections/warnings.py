"""Early warning for the console (预警监控): the hits as the screen and its export show them
(rule names in both languages, a one-line summary of what was found, the effect), the hits
per rule per day for the chart, and the watch list's configuration — read, and replaced by
the role that manages collections (validated, audited). The hits are limited to the
caller's case scope: a collector sees the hits of its cases' loans, an agency's user those
of the cases placed with its agency."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.orm import Session, sessionmaker

from xindai.collections.config import save_setting
from xindai.collections.scope import CaseScope
from xindai.collections.warning_rules import (
    SPECS,
    WARNINGS_KEY,
    WarningRules,
    check_rules,
    load_rules,
)
from xindai.security import audit
from xindai.store.models import Borrower
from xindai.store.models_collections import CollectionCase, WarningHit

OUTCOMES = ("raised", "precase", "no_case", "none")
OUTCOME_WORDS = {
    "raised": ("已提升案件优先级", "case priority raised"),
    "precase": ("已开预催案件", "pre-due case opened"),
    "no_case": ("无在催案件", "no open case"),
    "none": ("仅记录", "recorded only"),
    None: ("待处理", "pending"),
}


def scope_condition(scope: CaseScope) -> ColumnElement[bool]:
    """The hits `scope` covers: those of the loans of its cases (all for everyone else)."""
    if scope.everything:
        return true()
    covered: ColumnElement[bool] = WarningHit.loan_id.in_(
        select(CollectionCase.loan_id).where(scope.condition())
    )
    return covered


def summary(rule_code: str, detail: dict[str, Any]) -> tuple[str, str]:
    """What the hit found, in one line (zh-CN, English)."""
    if rule_code == "bureau_multi_lending":
        window = detail.get("window", "1m")
        days = {"1m": 30, "3m": 90, "6m": 180}.get(str(window), 30)
        return (
            f"近{days}天征信申请查询 {detail.get('at_decision')} → {detail.get('now')}"
            f"（+{detail.get('increase')}）",
            f"credit applications in {days} days {detail.get('at_decision')} → "
            f"{detail.get('now')} (+{detail.get('increase')})",
        )
    if rule_code == "bureau_external_overdue":
        return (
            f"他行逾期 {detail.get('at_decision')} → {detail.get('now')} 笔，"
            f"最长逾期 {detail.get('max_overdue_days_now')} 天",
            f"loans overdue elsewhere {detail.get('at_decision')} → {detail.get('now')}, "
            f"worst {detail.get('max_overdue_days_now')} days",
        )
    if rule_code == "missed_withholding":
        return (
            f"近{detail.get('days')}天代扣失败 {detail.get('failures')} 次"
            f"（最近 {detail.get('last_failed_on')}）",
            f"{detail.get('failures')} failed withholdings in {detail.get('days')} days "
            f"(last {detail.get('last_failed_on')})",
        )
    if rule_code == "device_changed":
        what_zh = "、".join(
            w for w, on in (("设备", detail.get("device")), ("手机号", detail.get("phone"))) if on
        )
        what_en = " and ".join(
            w for w, on in (("device", detail.get("device")), ("phone", detail.get("phone"))) if on
        )
        return (
            f"新申请 #{detail.get('application_id')} 更换了{what_zh}",
            f"new application #{detail.get('application_id')} from another {what_en}",
        )
    if rule_code == "contact_overdue":
        return (
            f"{detail.get('contacts')} 位联系人在本平台新近逾期"
            f"（最长 {detail.get('max_contact_dpd')} 天）",
            f"{detail.get('contacts')} contact(s) newly overdue here "
            f"(up to {detail.get('max_contact_dpd')} days)",
        )
    return (rule_code, rule_code)


def hit_rows(
    session: Session, hits: Sequence[WarningHit], rules: WarningRules
) -> list[dict[str, Any]]:
    """The screen's rows of `hits` (in their order); the export writes the same."""
    names = (
        dict(
            session.execute(
                select(Borrower.id, Borrower.display_name).where(
                    Borrower.id.in_({h.borrower_id for h in hits})
                )
            ).all()
        )
        if hits
        else {}
    )
    rows = []
    for h in hits:
        detail = json.loads(h.detail) if h.detail else {}
        rule = rules.rules.get(h.rule_code)
        text_zh, text_en = summary(h.rule_code, detail)
        outcome_zh, outcome_en = OUTCOME_WORDS.get(h.outcome, OUTCOME_WORDS[None])
        rows.append(
            {
                "id": h.id,
                "business_date": h.business_date.isoformat(),
                "rule_code": h.rule_code,
                "rule_zh": rule.name_zh if rule else h.rule_code,
                "rule_en": rule.name_en if rule else h.rule_code,
                "loan_id": h.loan_id,
                "borrower_id": h.borrower_id,
                "borrower_name": names.get(h.borrower_id),
                "case_id": h.case_id,
                "summary_zh": text_zh,
                "summary_en": text_en,
                "detail": detail,
                "effect": h.effect,
                "effect_by": h.effect_by,
                "outcome": h.outcome,
                "outcome_zh": outcome_zh,
                "outcome_en": outcome_en,
                "created_at": h.created_at.isoformat(),
            }
        )
    return rows


def daily_counts(
    session: Session, scope: CaseScope, date_from: date, date_to: date
) -> list[dict[str, Any]]:
    """Hits per business date and rule in the period (within `scope`), by date then rule."""
    rows = session.execute(
        select(WarningHit.business_date, WarningHit.rule_code, func.count())
        .where(
            WarningHit.business_date >= date_from,
            WarningHit.business_date <= date_to,
            scope_condition(scope),
        )
        .group_by(WarningHit.business_date, WarningHit.rule_code)
        .order_by(WarningHit.business_date, WarningHit.rule_code)
    ).all()
    return [
        {"business_date": d.isoformat(), "rule_code": str(code), "hits": int(n)}
        for d, code, n in rows
    ]


def select_hits(scope: CaseScope, **filters: Any) -> Select[Any]:
    """The hits in `scope` matching `filters` (rule_code, outcome, loan_id, case_id,
    date_from, date_to; None: any)."""
    stmt = select(WarningHit).where(scope_condition(scope))
    for name, column in (
        ("rule_code", WarningHit.rule_code),
        ("outcome", WarningHit.outcome),
        ("loan_id", WarningHit.loan_id),
        ("case_id", WarningHit.case_id),
    ):
        if filters.get(name) is not None:
            stmt = stmt.where(column == filters[name])
    if filters.get("date_from") is not None:
        stmt = stmt.where(WarningHit.business_date >= filters["date_from"])
    if filters.get("date_to") is not None:
        stmt = stmt.where(WarningHit.business_date <= filters["date_to"])
    return stmt


@dataclass
class WarningDesk:
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime]

    def put_rules(self, body: dict[str, Any], *, actor: str) -> dict[str, Any]:
        """Replace the watch list with `body` (what it leaves out keeps the defaults);
        validated, stored and audited with the list before."""
        rules = check_rules(body)
        with self.sessions.begin() as session:
            before = load_rules(session).document()
            save_setting(session, WARNINGS_KEY, rules.document(), actor=actor, now=self.clock())
            audit.record(
                session,
                actor=actor,
                action="collection.early_warning",
                resource="collection_settings",
                resource_id=WARNINGS_KEY,
                before=before,
                after=rules.document(),
                at=self.clock(),
                unmasked=("name_zh", "name_en"),
            )
        return rules.view()


RULE_CODES = tuple(SPECS)

__all__ = [
    "OUTCOMES",
    "RULE_CODES",
    "WarningDesk",
    "daily_counts",
    "hit_rows",
    "scope_condition",
    "select_hits",
    "summary",
]
