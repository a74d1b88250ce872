"""The reloan ladder (复贷策略, SPEC §7): levels, limits and thresholds as data, a pure evaluator.

Loans are numbered k = 1, 2, … in the order they were settled and `d_k` is loan k's maximum
days overdue. The ladder gives the level of every loan (loan 1 is level 1), the level and limit
of the next loan, and refuses a borrower once some loan k ran more than T(k) days overdue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from xindai.errors import InvalidValue
from xindai.money import Fen, format_yuan

RELOAN_OVERDUE_EXCEEDED = "RELOAN_OVERDUE_EXCEEDED"
"""Reason code: a settled loan ran more days overdue than its refusal threshold T(k)."""

FIRST_LEVEL = 1
"""Every borrower's first loan is taken at level 1."""

_LADDER_KEYS = (
    "level_limits_fen",
    "refusal_thresholds",
    "refusal_threshold_later",
    "demotions",
    "streak_promotion",
    "loan_count_promotions",
    "tenure_promotions",
)


def _check_int(field: str, value: object, *, minimum: int, maximum: int | None = None) -> int:
    # bool is an int subclass, but True is never a meaningful day count or amount
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidValue(field, value, "must be a whole number", "必须是整数")
    if value < minimum:
        raise InvalidValue(field, value, f"must be at least {minimum}", f"必须不小于 {minimum}")
    if maximum is not None and value > maximum:
        raise InvalidValue(field, value, f"must be at most {maximum}", f"必须不大于 {maximum}")
    return value


def _int(field: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidValue(field, value, "must be a whole number", "必须是整数")
    return value


def _mapping(field: str, value: object, keys: Sequence[str]) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise InvalidValue(field, value, "must be an object", "必须是对象")
    missing = [key for key in keys if key not in value]
    if missing:
        raise InvalidValue(
            field,
            sorted(str(key) for key in value),
            f"missing {', '.join(missing)}",
            f"缺少 {', '.join(missing)}",
        )
    unknown = sorted(str(key) for key in value if key not in keys)
    if unknown:
        raise InvalidValue(
            field,
            sorted(str(key) for key in value),
            f"unknown {', '.join(unknown)}",
            f"未知字段 {', '.join(unknown)}",
        )
    return {str(key): item for key, item in value.items()}


def _list(field: str, value: object) -> list[object]:
    if not isinstance(value, list | tuple):
        raise InvalidValue(field, value, "must be a list", "必须是列表")
    return list(value)


def _int_fields(field: str, value: object, keys: Sequence[str]) -> dict[str, int]:
    mapping = _mapping(field, value, keys)
    return {key: _int(f"{field}.{key}", mapping[key]) for key in keys}


class LevelRule(StrEnum):
    """Which ladder rule set the level of loan k+1 from loan k (SPEC §7 rules 1–7)."""

    DEMOTION = "demotion"  # rules 1–3
    STREAK_PROMOTION = "streak_promotion"  # rule 4
    LOAN_COUNT_PROMOTION = "loan_count_promotion"  # rule 5
    TENURE_PROMOTION = "tenure_promotion"  # rule 6
    UNCHANGED = "unchanged"  # rule 7


@dataclass(frozen=True)
class Demotion:
    """Rules 1–3: loan k at `level` with `d_k > days_over` → loan k+1 at `to_level`."""

    level: int
    days_over: int
    to_level: int


@dataclass(frozen=True)
class StreakPromotion:
    """Rule 4: the last `loans` loans all at level L, each with `d < days_below` → L + 1,
    capped at the ladder's top level."""

    loans: int = 2
    days_below: int = 4


@dataclass(frozen=True)
class LoanCountPromotion:
    """Rule 5: loan k at `level` with `k ≥ min_loan_number` → loan k+1 at `to_level`."""

    level: int
    min_loan_number: int
    to_level: int


@dataclass(frozen=True)
class TenurePromotion:
    """Rule 6: at least `min_loans_at_level` consecutive loans at `level`, ending with loan k
    (the loans taken at that level since reaching it) → loan k+1 at `to_level`."""

    level: int
    min_loans_at_level: int
    to_level: int


@dataclass(frozen=True)
class ReloanLadder:
    """Every threshold and limit of the reloan ladder; levels are numbered 1..max_level.

    `level_limits_fen[i]` is the limit of level i+1 in fen (strictly increasing);
    `refusal_thresholds[k-1]` is T(k) in days and `refusal_threshold_later` is T(k) for every
    later loan. Rules are tried in the order demotions, streak promotion, loan-count
    promotions, tenure promotions, and the first that applies sets the next level.
    """

    level_limits_fen: tuple[Fen, ...]
    refusal_thresholds: tuple[int, ...]
    refusal_threshold_later: int
    demotions: tuple[Demotion, ...] = ()
    streak_promotion: StreakPromotion | None = None
    loan_count_promotions: tuple[LoanCountPromotion, ...] = ()
    tenure_promotions: tuple[TenurePromotion, ...] = ()

    def __post_init__(self) -> None:
        self._validate()

    @classmethod
    def default(cls) -> ReloanLadder:
        """The ladder of SPEC §7: 2,500 / 4,500 / 7,000 yuan, T = 10, 13, 15, then 22."""
        return cls(
            level_limits_fen=(250_000, 450_000, 700_000),
            refusal_thresholds=(10, 13, 15),
            refusal_threshold_later=22,
            demotions=(
                Demotion(level=3, days_over=20, to_level=1),
                Demotion(level=3, days_over=16, to_level=2),
                Demotion(level=2, days_over=16, to_level=1),
            ),
            streak_promotion=StreakPromotion(loans=2, days_below=4),
            loan_count_promotions=(LoanCountPromotion(level=1, min_loan_number=4, to_level=2),),
            tenure_promotions=(TenurePromotion(level=2, min_loans_at_level=4, to_level=3),),
        )

    @property
    def max_level(self) -> int:
        return len(self.level_limits_fen)

    def limit_fen(self, level: int) -> Fen:
        """The loan limit of `level` in fen."""
        if not 1 <= level <= self.max_level:
            raise InvalidValue(
                "level",
                level,
                f"not between 1 and {self.max_level}",
                f"不在 1 到 {self.max_level} 之间",
            )
        return self.level_limits_fen[level - 1]

    def refusal_threshold(self, loan_number: int) -> int:
        """T(k): the most days overdue loan `loan_number` (k ≥ 1) may run without refusal."""
        if loan_number < 1:
            raise InvalidValue("loan_number", loan_number, "must be at least 1", "必须至少为 1")
        if loan_number <= len(self.refusal_thresholds):
            return self.refusal_thresholds[loan_number - 1]
        return self.refusal_threshold_later

    def next_level(self, levels: Sequence[int], history: Sequence[int]) -> tuple[int, LevelRule]:
        """The level of loan k+1 and the rule that set it, where k = len(history) ≥ 1 and
        `levels[i]` / `history[i]` are the level and days overdue of loan i+1."""
        k = len(history)
        if k == 0 or len(levels) != k:
            raise InvalidValue(
                "levels",
                tuple(levels),
                "need one level per settled loan",
                "每笔已结清借款需要一个等级",
            )
        level, days = levels[-1], history[-1]
        for demotion in self.demotions:
            if level == demotion.level and days > demotion.days_over:
                return demotion.to_level, LevelRule.DEMOTION
        streak = self.streak_promotion
        if (
            streak is not None
            and k >= streak.loans
            and all(
                levels[i] == level and history[i] < streak.days_below
                for i in range(k - streak.loans, k)
            )
        ):
            return min(level + 1, self.max_level), LevelRule.STREAK_PROMOTION
        for by_count in self.loan_count_promotions:
            if level == by_count.level and k >= by_count.min_loan_number:
                return by_count.to_level, LevelRule.LOAN_COUNT_PROMOTION
        run = 0
        for previous in reversed(levels):
            if previous != level:
                break
            run += 1
        for by_tenure in self.tenure_promotions:
            if level == by_tenure.level and run >= by_tenure.min_loans_at_level:
                return by_tenure.to_level, LevelRule.TENURE_PROMOTION
        return level, LevelRule.UNCHANGED

    def to_dict(self) -> dict[str, object]:
        """A JSON-friendly dict that `from_dict` reads back into an equal ladder."""
        streak = self.streak_promotion
        return {
            "level_limits_fen": list(self.level_limits_fen),
            "refusal_thresholds": list(self.refusal_thresholds),
            "refusal_threshold_later": self.refusal_threshold_later,
            "demotions": [
                {"level": d.level, "days_over": d.days_over, "to_level": d.to_level}
                for d in self.demotions
            ],
            "streak_promotion": None
            if streak is None
            else {"loans": streak.loans, "days_below": streak.days_below},
            "loan_count_promotions": [
                {"level": p.level, "min_loan_number": p.min_loan_number, "to_level": p.to_level}
                for p in self.loan_count_promotions
            ],
            "tenure_promotions": [
                {
                    "level": p.level,
                    "min_loans_at_level": p.min_loans_at_level,
                    "to_level": p.to_level,
                }
                for p in self.tenure_promotions
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ReloanLadder:
        """Read a ladder from `to_dict`'s shape; every key is required, unknown keys are
        rejected, and any bad value raises `InvalidValue` naming the field."""
        root = _mapping("reloan_ladder", data, _LADDER_KEYS)
        streak_data = root["streak_promotion"]
        streak = None
        if streak_data is not None:
            streak_map = _mapping("streak_promotion", streak_data, ("loans", "days_below"))
            streak = StreakPromotion(
                loans=_int("streak_promotion.loans", streak_map["loans"]),
                days_below=_int("streak_promotion.days_below", streak_map["days_below"]),
            )
        return cls(
            level_limits_fen=tuple(
                _int(f"level_limits_fen[{i}]", v)
                for i, v in enumerate(_list("level_limits_fen", root["level_limits_fen"]))
            ),
            refusal_thresholds=tuple(
                _int(f"refusal_thresholds[{i}]", v)
                for i, v in enumerate(_list("refusal_thresholds", root["refusal_thresholds"]))
            ),
            refusal_threshold_later=_int(
                "refusal_threshold_later", root["refusal_threshold_later"]
            ),
            demotions=tuple(
                Demotion(**_int_fields(f"demotions[{i}]", item, ("level", "days_over", "to_level")))
                for i, item in enumerate(_list("demotions", root["demotions"]))
            ),
            streak_promotion=streak,
            loan_count_promotions=tuple(
                LoanCountPromotion(
                    **_int_fields(
                        f"loan_count_promotions[{i}]",
                        item,
                        ("level", "min_loan_number", "to_level"),
                    )
                )
                for i, item in enumerate(
                    _list("loan_count_promotions", root["loan_count_promotions"])
                )
            ),
            tenure_promotions=tuple(
                TenurePromotion(
                    **_int_fields(
                        f"tenure_promotions[{i}]",
                        item,
                        ("level", "min_loans_at_level", "to_level"),
                    )
                )
                for i, item in enumerate(_list("tenure_promotions", root["tenure_promotions"]))
            ),
        )

    def _validate(self) -> None:
        limits = self.level_limits_fen
        if not limits:
            raise InvalidValue(
                "level_limits_fen",
                limits,
                "at least one level limit is required",
                "至少需要一个等级额度",
            )
        for i, limit in enumerate(limits):
            _check_int(f"level_limits_fen[{i}]", limit, minimum=1)
            if i > 0 and limit <= limits[i - 1]:
                raise InvalidValue(
                    "level_limits_fen",
                    limits,
                    "limits must increase strictly from level to level",
                    "各等级额度必须逐级严格递增",
                )
        for i, threshold in enumerate(self.refusal_thresholds):
            _check_int(f"refusal_thresholds[{i}]", threshold, minimum=0)
        _check_int("refusal_threshold_later", self.refusal_threshold_later, minimum=0)
        top = self.max_level
        for i, demotion in enumerate(self.demotions):
            name = f"demotions[{i}]"
            _check_int(f"{name}.level", demotion.level, minimum=2, maximum=top)
            _check_int(f"{name}.days_over", demotion.days_over, minimum=0)
            _check_int(f"{name}.to_level", demotion.to_level, minimum=1, maximum=demotion.level - 1)
        if self.streak_promotion is not None:
            _check_int("streak_promotion.loans", self.streak_promotion.loans, minimum=1)
            _check_int("streak_promotion.days_below", self.streak_promotion.days_below, minimum=0)
        for i, by_count in enumerate(self.loan_count_promotions):
            name = f"loan_count_promotions[{i}]"
            _check_int(f"{name}.level", by_count.level, minimum=1, maximum=top - 1)
            _check_int(f"{name}.min_loan_number", by_count.min_loan_number, minimum=1)
            _check_int(
                f"{name}.to_level", by_count.to_level, minimum=by_count.level + 1, maximum=top
            )
        for i, by_tenure in enumerate(self.tenure_promotions):
            name = f"tenure_promotions[{i}]"
            _check_int(f"{name}.level", by_tenure.level, minimum=1, maximum=top - 1)
            _check_int(f"{name}.min_loans_at_level", by_tenure.min_loans_at_level, minimum=1)
            _check_int(
                f"{name}.to_level", by_tenure.to_level, minimum=by_tenure.level + 1, maximum=top
            )


DEFAULT_RELOAN_LADDER = ReloanLadder.default()


@dataclass(frozen=True)
class ReloanDecision:
    """What the ladder says about a borrower's next loan.

    `levels[i]` is the level loan i+1 was taken at, and `level_rules[i]` the rule that set the
    level after loan i+1 (so `level_rules[-1]` set `next_level` when eligible). When refused,
    `next_level` is None, `limit_fen` is 0, `reason` is `RELOAN_OVERDUE_EXCEEDED` and
    `refused_at_loan` is the first loan k with d_k > T(k).
    """

    eligible: bool
    levels: tuple[int, ...]
    next_level: int | None
    limit_fen: Fen
    reason: str | None
    refused_at_loan: int | None
    message_zh: str
    message_en: str
    level_rules: tuple[LevelRule, ...] = ()


def evaluate_reloan(
    history: Sequence[int], ladder: ReloanLadder = DEFAULT_RELOAN_LADDER
) -> ReloanDecision:
    """Apply the reloan ladder to `history`, the maximum days overdue d_k of each settled loan
    in the order settled (k = 1, 2, …); negative days raise `InvalidValue`.

    Levels are worked out for every loan given, even after a refusal (a later loan can only
    exist by a manual override), so that a prefix of a history has a prefix of its levels.
    """
    days_overdue = tuple(history)
    for i, days in enumerate(days_overdue):
        _check_int(f"history[{i}]", days, minimum=0)
    levels: list[int] = []
    rules: list[LevelRule] = []
    level = FIRST_LEVEL
    for k in range(1, len(days_overdue) + 1):
        levels.append(level)
        level, rule = ladder.next_level(levels, days_overdue[:k])
        rules.append(rule)
    refused_at = next(
        (k for k, days in enumerate(days_overdue, start=1) if days > ladder.refusal_threshold(k)),
        None,
    )
    if refused_at is not None:
        days = days_overdue[refused_at - 1]
        threshold = ladder.refusal_threshold(refused_at)
        return ReloanDecision(
            eligible=False,
            levels=tuple(levels),
            next_level=None,
            limit_fen=0,
            reason=RELOAN_OVERDUE_EXCEEDED,
            refused_at_loan=refused_at,
            message_zh=(
                f"不可复贷：第 {refused_at} 笔借款最长逾期 {days} 天，超过阈值 {threshold} 天"
            ),
            message_en=(
                f"Reloan refused: loan {refused_at} was up to {days} days overdue, "
                f"more than the threshold of {threshold} days"
            ),
            level_rules=tuple(rules),
        )
    limit = ladder.limit_fen(level)
    if days_overdue:
        message_zh = (
            f"可复贷：第 {len(days_overdue) + 1} 笔借款等级 {level}，额度 {format_yuan(limit)} 元"
        )
        message_en = (
            f"Reloan eligible: loan {len(days_overdue) + 1} at level {level}, "
            f"limit {format_yuan(limit)} yuan"
        )
    else:
        message_zh = f"首笔借款：等级 {level}，额度 {format_yuan(limit)} 元"
        message_en = f"First loan: level {level}, limit {format_yuan(limit)} yuan"
    return ReloanDecision(
        eligible=True,
        levels=tuple(levels),
        next_level=level,
        limit_fen=limit,
        reason=None,
        refused_at_loan=None,
        message_zh=message_zh,
        message_en=message_en,
        level_rules=tuple(rules),
    )
