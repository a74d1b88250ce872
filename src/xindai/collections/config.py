"""The configuration of collections as data with SPEC §8's defaults: the guardrails (quiet
hours, attempt and connected-call caps, visits, holds), the strategies (quadrant and stage
actions, champion / challenger) and the debtor's time zone from the region."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from xindai.errors import InvalidValue
from xindai.store.models import SystemState
from xindai.store.models_collections import CollectionSetting
from xindai.store.repository import BUSINESS_DATE_KEY

GUARDRAILS_KEY, STRATEGIES_KEY = "guardrails", "strategies"
LENDER_UTC_OFFSET = 8  # the platform's timestamps are China Standard Time (xindai.clock)

CHINA_UTC_OFFSET = 8  # one time zone throughout China


@dataclass(frozen=True, slots=True)
class Guardrails:
    """The contact rules (CBA 2026 guideline, GB/T 45251-2025), all editable."""

    quiet_start: str = "22:00"  # no contact from here …
    quiet_end: str = "08:00"  # … to here, in the debtor's local time
    max_attempts_per_number: int = 6  # a day, to a number that has not answered
    max_connected_per_debtor: int = 3  # a day, in-house and agencies together
    visit_min_collectors: int = 2
    hold_max_days: int = 7  # 留案
    default_utc_offset_hours: int = 8  # a debtor whose region is unknown
    next_case_cooldown_minutes: int = 60  # a case contacted this recently is not "next"

    def __post_init__(self) -> None:
        for name in ("quiet_start", "quiet_end"):
            parse_clock(name, getattr(self, name))
        for name, low, high in (
            ("max_attempts_per_number", 1, 50),
            ("max_connected_per_debtor", 1, 20),
            ("visit_min_collectors", 2, 10),
            ("hold_max_days", 1, 30),
            ("default_utc_offset_hours", -12, 14),
            ("next_case_cooldown_minutes", 0, 1440),
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise InvalidValue(
                    name, value, f"a whole number {low}–{high}", f"应为 {low}–{high} 的整数"
                )

    def quiet_at(self, local: datetime) -> bool:
        """Whether `local` (the debtor's wall clock) falls in the quiet hours."""
        start = parse_clock("quiet_start", self.quiet_start)
        end = parse_clock("quiet_end", self.quiet_end)
        now = local.time()
        if start <= end:
            return start <= now < end
        return now >= start or now < end


def parse_clock(field: str, value: str) -> time:
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise InvalidValue(field, value, "a time of day HH:MM", "应为 HH:MM 格式的时间") from None


def utc_offset_hours(region: str | None, default: int) -> int:
    """The debtor's UTC offset from the region they declared (a city or province, e.g. 深圳,
    广东省): a Chinese place name is UTC+8 (China keeps one time zone); a missing or unknown
    region takes `default`."""
    if region and any("\u4e00" <= ch <= "\u9fff" for ch in region):
        return CHINA_UTC_OFFSET
    return default


def local_time(lender_now: datetime, offset_hours: int) -> datetime:
    """The debtor's wall clock when the lender's (CST, naive) is `lender_now`."""
    return lender_now + timedelta(hours=offset_hours - LENDER_UTC_OFFSET)


QUADRANTS: dict[str, tuple[str, str, str]] = {
    "I": ("有意愿有能力", "willing and able", "remind"),
    "II": ("有意愿无能力", "willing, unable", "offer"),
    "III": ("无意愿有能力", "able, unwilling", "educate"),
    "IV": ("无意愿无能力", "neither willing nor able", "strong"),
}
ACTIONS: dict[str, tuple[str, str]] = {
    "remind": ("友情提醒，给予宽限", "remind and allow grace"),
    "grace": ("宽限数日", "allow a few days' grace"),
    "offer_extension": ("提供展期", "offer an extension"),
    "offer_deferral": ("提供延期还款", "offer a deferral"),
    "offer_restructure": ("提供债务重组", "offer a restructure"),
    "educate": ("信用再教育", "credit re-education"),
    "raise_cost": ("告知违约成本（征信、罚息）", "explain the cost of default (bureau, penalty)"),
    "demand_letter": ("发送催收函", "send a demand letter"),
    "intensive_calls": ("高频电催", "intensive calls"),
    "visit": ("上门催收", "field visit"),
    "lawyer_letter": ("发送律师函", "send a lawyer's letter"),
    "legal": ("诉讼", "litigation"),
    "agency": ("委外", "place with an agency"),
}


def default_strategies() -> dict[str, Any]:
    """Quadrant actions (seed §3.8.1), the stage timeline (seed §3.8.3) and no challenger."""
    return {
        "quadrants": {
            "I": ["remind", "grace"],
            "II": ["offer_extension", "offer_deferral", "offer_restructure"],
            "III": ["educate", "raise_cost", "demand_letter"],
            "IV": ["intensive_calls", "visit", "lawyer_letter", "legal"],
        },
        "stages": [
            {"bucket": "M1", "actions": ["remind", "intensive_calls"]},
            {"bucket": "M2", "actions": ["demand_letter", "visit"]},
            {"bucket": "M3", "actions": ["lawyer_letter", "agency"]},
            {"bucket": "M4+", "actions": ["agency", "legal"]},
        ],
        "challenger": {"share_percent": 0, "quadrants": {}},
    }


VIEW_ONLY = ("catalog", "quadrant_names")  # what `strategies_view` adds: never stored


def strategies_view(strategies: dict[str, Any]) -> dict[str, Any]:
    """The strategies as the API shows them: the document, the catalogue of every action
    code with its names (`[{"code", "zh", "en"}]`) and the quadrants' names."""
    return {
        **strategies,
        "catalog": [{"code": code, "zh": zh, "en": en} for code, (zh, en) in ACTIONS.items()],
        "quadrant_names": {q: {"zh": zh, "en": en} for q, (zh, en, _tone) in QUADRANTS.items()},
    }


def check_strategies(value: dict[str, Any]) -> dict[str, Any]:
    """A strategies document with known quadrants and action codes, a share 0–50 % (what
    `strategies_view` added is dropped: a page may send back what it was given)."""
    if not isinstance(value, dict):
        raise InvalidValue("strategies", type(value).__name__, "an object", "应为对象")
    merged = {
        **default_strategies(),
        **{k: v for k, v in value.items() if k not in VIEW_ONLY},
    }

    def actions(where: str, codes: Any) -> list[str]:
        if not isinstance(codes, list) or any(c not in ACTIONS for c in codes):
            raise InvalidValue(where, codes, f"a list of {', '.join(ACTIONS)}", "应为动作代码列表")
        return list(codes)

    if not isinstance(merged["stages"], list) or not isinstance(merged["challenger"], dict):
        raise InvalidValue("strategies", "stages/challenger", "a list and an object", "格式错误")
    quadrants = merged["quadrants"]
    if not isinstance(quadrants, dict) or set(quadrants) - set(QUADRANTS):
        raise InvalidValue("quadrants", quadrants, "keys I, II, III, IV", "象限应为 I–IV")
    for key, codes in quadrants.items():
        actions(f"quadrants.{key}", codes)
    for stage in merged["stages"]:
        if not isinstance(stage, dict) or not isinstance(stage.get("bucket"), str):
            raise InvalidValue("stages", stage, "{bucket, actions}", "应为 {bucket, actions}")
        actions(f"stages.{stage['bucket']}", stage.get("actions"))
    challenger = merged["challenger"]
    share = challenger.get("share_percent", 0) if isinstance(challenger, dict) else None
    if not isinstance(share, int) or isinstance(share, bool) or not 0 <= share <= 50:
        raise InvalidValue("challenger.share_percent", share, "0–50", "应为 0–50")
    cells = challenger.get("quadrants") or {}
    if not isinstance(cells, dict):
        raise InvalidValue("challenger.quadrants", cells, "an object", "应为对象")
    for key, codes in cells.items():
        if key not in QUADRANTS:
            raise InvalidValue("challenger.quadrants", key, "keys I–IV", "象限应为 I–IV")
        actions(f"challenger.quadrants.{key}", codes)
    return merged


def _stored(session: Session, key: str) -> dict[str, Any] | None:
    row = session.get(CollectionSetting, key)
    return None if row is None else dict(json.loads(row.value))


def load_guardrails(session: Session) -> Guardrails:
    return guardrails_of(_stored(session, GUARDRAILS_KEY))


def guardrails_of(stored: dict[str, Any] | None) -> Guardrails:
    known = {f.name for f in fields(Guardrails)}
    return replace(Guardrails(), **{k: v for k, v in (stored or {}).items() if k in known})


def load_strategies(session: Session) -> dict[str, Any]:
    return check_strategies(_stored(session, STRATEGIES_KEY) or default_strategies())


@dataclass(frozen=True, slots=True)
class DeskSettings:
    """What the workbench works under: the business date (None before one is set), the
    guardrails and the strategies."""

    business_date: date | None
    guardrails: Guardrails
    strategies: dict[str, Any]


def load_desk_settings(session: Session) -> DeskSettings:
    """`DeskSettings` in one statement over the two key-value tables."""
    platform = select(literal("platform"), SystemState.key, SystemState.value).where(
        SystemState.key == BUSINESS_DATE_KEY
    )
    mine = select(literal("collections"), CollectionSetting.key, CollectionSetting.value).where(
        CollectionSetting.key.in_((GUARDRAILS_KEY, STRATEGIES_KEY))
    )
    found = {(str(t), str(k)): str(v) for t, k, v in session.execute(union_all(platform, mine))}
    day = found.get(("platform", BUSINESS_DATE_KEY))
    stored = {
        k: json.loads(found.get(("collections", k)) or "null")
        for k in (GUARDRAILS_KEY, STRATEGIES_KEY)
    }
    return DeskSettings(
        None if day is None else date.fromisoformat(day),
        guardrails_of(stored[GUARDRAILS_KEY]),
        check_strategies(dict(stored[STRATEGIES_KEY] or default_strategies())),
    )


def save_setting(
    session: Session, key: str, value: dict[str, Any], *, actor: str, now: datetime
) -> None:
    row = session.get(CollectionSetting, key)
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if row is None:
        session.add(CollectionSetting(key=key, value=text, updated_by=actor, updated_at=now))
    else:
        row.value, row.updated_by, row.updated_at = text, actor, now
    session.flush()


def guardrails_from(body: dict[str, Any]) -> Guardrails:
    """A complete guardrail configuration from an edit (missing keys keep the defaults)."""
    known = {f.name for f in fields(Guardrails)}
    unknown = set(body) - known
    if unknown:
        raise InvalidValue(
            "guardrails", sorted(unknown)[0], "not a guardrail setting", "不是合规配置项"
        )
    return replace(Guardrails(), **body)


def guardrails_view(guardrails: Guardrails) -> dict[str, Any]:
    return asdict(guardrails)
