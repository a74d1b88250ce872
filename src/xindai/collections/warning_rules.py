"""The early-warning watch list (预警监控规则) as data: each rule's code (the logic is code:
`collections.warnings_cob`), its zh-CN and English names, whether it runs, its parameters
and its effect — `raise_priority` (by N) on the loan's open case, `open_precase` (a pre-due
case when the loan has none; an open case is raised by N instead), or `none` (recorded
only) —, and the bureau refresh's daily sample (basis points of the open loans), trigger
and daily cap. Stored in `collection_settings` under `early_warning`; what is not stored
keeps the defaults below.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from xindai.errors import InvalidValue
from xindai.store.models_collections import CollectionSetting

WARNINGS_KEY = "early_warning"
EFFECTS = ("raise_priority", "open_precase", "none")
MAX_RAISE = 100_000
BUREAU_RULES = ("bureau_multi_lending", "bureau_external_overdue")


@dataclass(frozen=True, slots=True)
class Param:
    """A rule parameter: a whole number `low`–`high` (`choices` when only some are valid)."""

    default: int
    low: int
    high: int
    zh: str
    en: str
    choices: tuple[int, ...] = ()

    def check(self, where: str, value: Any) -> int:
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not self.low <= value <= self.high
        ):
            raise InvalidValue(
                where,
                value,
                f"a whole number {self.low}–{self.high}",
                f"应为 {self.low}–{self.high} 的整数",
            )
        if self.choices and value not in self.choices:
            allowed = ", ".join(str(c) for c in self.choices)
            raise InvalidValue(where, value, f"one of {allowed}", f"应为 {allowed} 之一")
        return value


@dataclass(frozen=True, slots=True)
class RuleSpec:
    code: str
    zh: str
    en: str
    effect: str
    by: int
    params: Mapping[str, Param] = field(default_factory=dict)


SPECS: Mapping[str, RuleSpec] = {
    spec.code: spec
    for spec in (
        RuleSpec(
            "bureau_multi_lending",
            "征信复查：新增多头申请",
            "Bureau refresh: new applications at other lenders",
            "open_precase",
            2_000,
            {
                "window_days": Param(
                    30, 30, 180, "查询窗口（天）", "inquiry window (days)", (30, 90, 180)
                ),
                "min_increase": Param(3, 1, 100, "新增申请数阈值", "new applications, at least"),
            },
        ),
        RuleSpec(
            "bureau_external_overdue",
            "征信复查：他行逾期",
            "Bureau refresh: overdue at other lenders",
            "open_precase",
            5_000,
            {"min_increase": Param(1, 1, 20, "新增逾期笔数阈值", "more overdue loans, at least")},
        ),
        RuleSpec(
            "missed_withholding",
            "代扣失败",
            "Missed withholdings",
            "raise_priority",
            2_000,
            {
                "failures": Param(3, 1, 30, "失败次数", "failed withholdings, at least"),
                "days": Param(7, 1, 60, "统计天数", "in the last days"),
            },
        ),
        RuleSpec(
            "device_changed",
            "更换设备或手机号",
            "Changed device or phone",
            "raise_priority",
            1_000,
            {
                "lookback_days": Param(
                    3, 1, 30, "新申请回看天数", "new applications of the last days"
                )
            },
        ),
        RuleSpec(
            "contact_overdue",
            "联系人新近逾期",
            "A contact newly overdue here",
            "raise_priority",
            1_000,
            {"days": Param(7, 1, 60, "逾期天数以内", "overdue for at most days")},
        ),
    )
}

REFRESH: Mapping[str, Param] = {
    "sample_bp": Param(
        5, 0, 10_000, "每日抽样（基点）", "daily sample of open loans (basis points)"
    ),
    # the bureau is paid per report: the day's sample first, then triggered loans, up to this
    "max_per_day": Param(1_000, 0, 1_000_000, "每日复查上限", "reports a day, at most"),
}


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name_zh: str
    name_en: str
    enabled: bool
    params: Mapping[str, int]
    effect: str
    by: int

    def view(self) -> dict[str, Any]:
        spec = SPECS[self.code]
        return {
            "code": self.code,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "enabled": self.enabled,
            "params": dict(self.params),
            "effect": self.effect,
            "by": self.by,
            "param_specs": [
                {"key": key, "zh": p.zh, "en": p.en, "low": p.low, "high": p.high,
                 "default": p.default, "choices": list(p.choices)}
                for key, p in spec.params.items()
            ],
            "default": {"name_zh": spec.zh, "name_en": spec.en, "effect": spec.effect,
                        "by": spec.by, "params": {k: p.default for k, p in spec.params.items()}},
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class WarningRules:
    rules: Mapping[str, Rule]
    sample_bp: int
    on_trigger: bool
    max_per_day: int = 1_000

    def enabled(self, code: str) -> Rule | None:
        rule = self.rules[code]
        return rule if rule.enabled else None

    @property
    def refreshes(self) -> bool:
        """Whether the bureau is asked at all (a bureau rule enabled)."""
        return any(self.rules[c].enabled for c in BUREAU_RULES)

    def document(self) -> dict[str, Any]:
        """What is stored (and what a PUT takes)."""
        return {
            "bureau_refresh": {
                "sample_bp": self.sample_bp,
                "on_trigger": self.on_trigger,
                "max_per_day": self.max_per_day,
            },
            "rules": [
                {k: v for k, v in rule.view().items() if k not in ("param_specs", "default")}
                for rule in self.rules.values()
            ],
        }

    def view(self) -> dict[str, Any]:
        return {
            "bureau_refresh": {
                "sample_bp": self.sample_bp,
                "on_trigger": self.on_trigger,
                "max_per_day": self.max_per_day,
                "default": {
                    "sample_bp": REFRESH["sample_bp"].default,
                    "on_trigger": True,
                    "max_per_day": REFRESH["max_per_day"].default,
                },
            },
            "rules": [rule.view() for rule in self.rules.values()],
        }


def _default_rule(spec: RuleSpec) -> Rule:
    return Rule(
        spec.code,
        spec.zh,
        spec.en,
        True,
        {k: p.default for k, p in spec.params.items()},
        spec.effect,
        spec.by,
    )


def default_rules() -> WarningRules:
    return WarningRules(
        {code: _default_rule(spec) for code, spec in SPECS.items()},
        REFRESH["sample_bp"].default,
        True,
        REFRESH["max_per_day"].default,
    )


def _name(where: str, value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 64:
        raise InvalidValue(where, value, "1–64 characters", "应为 1–64 个字符")
    return value.strip()


def _rule(item: Any, base: Rule) -> Rule:
    spec = SPECS[base.code]
    unknown = set(item) - {"code", "name_zh", "name_en", "enabled", "params", "effect", "by"}
    if unknown:
        raise InvalidValue(
            f"rules.{base.code}", sorted(unknown)[0], "not a rule field", "不是规则字段"
        )
    params = dict(base.params)
    given = item.get("params", {})
    if not isinstance(given, dict):
        raise InvalidValue(f"rules.{base.code}.params", given, "an object", "应为对象")
    for key, value in given.items():
        if key not in spec.params:
            raise InvalidValue(
                f"rules.{base.code}.params", key, "not a parameter of the rule", "不是该规则的参数"
            )
        params[key] = spec.params[key].check(f"rules.{base.code}.params.{key}", value)
    effect = item.get("effect", base.effect)
    if effect not in EFFECTS:
        raise InvalidValue(
            f"rules.{base.code}.effect", effect, f"one of {', '.join(EFFECTS)}", "效果不在可选范围"
        )
    by = Param(0, 0, MAX_RAISE, "", "").check(f"rules.{base.code}.by", item.get("by", base.by))
    enabled = item.get("enabled", base.enabled)
    if not isinstance(enabled, bool):
        raise InvalidValue(f"rules.{base.code}.enabled", enabled, "true or false", "应为是或否")
    return Rule(
        base.code,
        _name(f"rules.{base.code}.name_zh", item.get("name_zh", base.name_zh)),
        _name(f"rules.{base.code}.name_en", item.get("name_en", base.name_en)),
        enabled,
        params,
        str(effect),
        by,
    )


def check_rules(value: Any, base: WarningRules | None = None) -> WarningRules:
    """The watch list `value` (a document as `WarningRules.document` writes it) applied over
    `base` (default: the defaults): rules named by code, each field optional; an unknown
    rule, field or parameter, a value out of range is `InvalidValue` (400)."""
    current = base or default_rules()
    if not isinstance(value, dict):
        raise InvalidValue("early_warning", type(value).__name__, "an object", "应为对象")
    unknown = set(value) - {"bureau_refresh", "rules"}
    if unknown:
        raise InvalidValue("early_warning", sorted(unknown)[0], "not a setting", "不是预警配置项")
    refresh = value.get("bureau_refresh", {})
    if not isinstance(refresh, dict) or set(refresh) - set(REFRESH) - {"on_trigger"}:
        raise InvalidValue(
            "bureau_refresh",
            refresh,
            "{sample_bp, on_trigger, max_per_day}",
            "应为 {sample_bp, on_trigger, max_per_day}",
        )
    most = REFRESH["max_per_day"].check(
        "bureau_refresh.max_per_day", refresh.get("max_per_day", current.max_per_day)
    )
    sample = REFRESH["sample_bp"].check(
        "bureau_refresh.sample_bp", refresh.get("sample_bp", current.sample_bp)
    )
    on_trigger = refresh.get("on_trigger", current.on_trigger)
    if not isinstance(on_trigger, bool):
        raise InvalidValue("bureau_refresh.on_trigger", on_trigger, "true or false", "应为是或否")
    items = value.get("rules", [])
    if not isinstance(items, list):
        raise InvalidValue("rules", type(items).__name__, "a list", "应为列表")
    rules = dict(current.rules)
    seen: set[str] = set()
    for item in items:
        code = item.get("code") if isinstance(item, dict) else None
        if code not in SPECS or code in seen:
            raise InvalidValue(
                "rules.code", code, f"one of {', '.join(SPECS)}, once", "规则代码未知或重复"
            )
        seen.add(str(code))
        rules[str(code)] = _rule(item, current.rules[str(code)])
    return WarningRules(rules, sample, on_trigger, most)


def rules_from_json(text: str | None) -> WarningRules:
    """The stored watch list (defaults when nothing is stored)."""
    return default_rules() if not text else check_rules(json.loads(text))


def load_rules(session: Session) -> WarningRules:
    row = session.get(CollectionSetting, WARNINGS_KEY)
    return rules_from_json(None if row is None else row.value)


__all__ = [
    "BUREAU_RULES",
    "EFFECTS",
    "SPECS",
    "WARNINGS_KEY",
    "Rule",
    "WarningRules",
    "check_rules",
    "default_rules",
    "load_rules",
    "rules_from_json",
]
