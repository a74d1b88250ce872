"""Reloan ladder (SPEC §7): hand-worked histories, rule precedence, thresholds, data round trip."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xindai.errors import InvalidValue, XindaiError
from xindai.risk.reloan import (
    DEFAULT_RELOAN_LADDER,
    RELOAN_OVERDUE_EXCEEDED,
    Demotion,
    LevelRule,
    LoanCountPromotion,
    ReloanLadder,
    StreakPromotion,
    TenurePromotion,
    evaluate_reloan,
)

L1, L2, L3 = 250_000, 450_000, 700_000


# --- the worked example and hand-worked histories ----------------------------------------


def test_worked_example_from_the_brief() -> None:
    decision = evaluate_reloan([0, 0, 5, 17])
    assert decision.eligible is True
    assert decision.levels == (1, 1, 2, 2)
    assert decision.next_level == 1
    assert decision.limit_fen == L1
    assert decision.reason is None
    assert decision.refused_at_loan is None
    assert decision.level_rules == (
        LevelRule.UNCHANGED,
        LevelRule.STREAK_PROMOTION,
        LevelRule.UNCHANGED,
        LevelRule.DEMOTION,
    )


def test_empty_history_is_a_first_loan_at_level_one() -> None:
    decision = evaluate_reloan([])
    assert decision.eligible is True
    assert decision.levels == ()
    assert decision.next_level == 1
    assert decision.limit_fen == L1
    assert decision.reason is None
    assert decision.level_rules == ()
    assert "First loan" in decision.message_en
    assert "首笔" in decision.message_zh


# (history, levels of those loans, next level) — each worked out by hand from SPEC §7.
HAND_WORKED = [
    ([0], (1,), 1),  # one loan: no streak of two yet, k < 4
    ([0, 0], (1, 1), 2),  # rule 4 from level 1
    ([3, 3], (1, 1), 2),  # d = 3 < 4 still counts for the streak
    ([3, 4], (1, 1), 1),  # d = 4 breaks the streak
    ([4, 3], (1, 1), 1),  # the earlier loan breaks the streak too
    ([0, 13], (1, 1), 1),  # T(2) = 13 is allowed, no promotion
    ([5, 5, 5], (1, 1, 1), 1),  # k = 3 < 4
    ([5, 5, 5, 5], (1, 1, 1, 1), 2),  # rule 5: level 1 and k ≥ 4
    ([10, 13, 15, 22], (1, 1, 1, 1), 2),  # every threshold exactly met
    ([0, 0, 15], (1, 1, 2), 2),  # level 2, d = 15 ≤ 16, only one loan at level 2
    ([0, 0, 0, 0], (1, 1, 2, 2), 3),  # rule 4 from level 2
    ([0, 0, 0, 16], (1, 1, 2, 2), 2),  # level 2, d = 16 is not > 16
    ([0, 0, 0, 17], (1, 1, 2, 2), 1),  # rule 3
    ([0, 0, 0, 22], (1, 1, 2, 2), 1),  # rule 3 at T(4) = 22
    ([0, 0, 0, 0, 0, 0], (1, 1, 2, 2, 3, 3), 3),  # rule 4 at the top is capped at 3
    ([0, 0, 0, 0, 16], (1, 1, 2, 2, 3), 3),  # level 3, d = 16: no demotion
    ([0, 0, 0, 0, 17], (1, 1, 2, 2, 3), 2),  # rule 2
    ([0, 0, 0, 0, 20], (1, 1, 2, 2, 3), 2),  # rule 2 at its edge (20 is not > 20)
    ([0, 0, 0, 0, 21], (1, 1, 2, 2, 3), 1),  # rule 1
    ([0, 0, 0, 0, 22], (1, 1, 2, 2, 3), 1),  # rule 1 at T(5) = 22
    ([0, 0, 0, 0, 0, 18], (1, 1, 2, 2, 3, 3), 2),  # level 3 after a streak, then rule 2
    ([0, 0, 5, 5, 5], (1, 1, 2, 2, 2), 2),  # three loans at level 2: not yet rule 6
    ([0, 0, 5, 5, 5, 5], (1, 1, 2, 2, 2, 2), 3),  # rule 6: four loans at level 2
    ([0, 0, 5, 17, 0], (1, 1, 2, 2, 1), 2),  # demoted to 1 at k = 5 ≥ 4: rule 5 at once
    ([0, 0, 5, 17, 0, 0], (1, 1, 2, 2, 1, 2), 2),  # streak broken by the level change
    ([0, 0, 5, 17, 0, 0, 0], (1, 1, 2, 2, 1, 2, 2), 3),  # rule 4 at level 2 again
    ([0, 0, 0, 0, 0, 21, 0], (1, 1, 2, 2, 3, 3, 1), 2),  # back to 1 at k = 7, rule 5
]


@pytest.mark.parametrize(("history", "levels", "next_level"), HAND_WORKED)
def test_hand_worked_histories(
    history: list[int], levels: tuple[int, ...], next_level: int
) -> None:
    decision = evaluate_reloan(history)
    assert decision.eligible is True
    assert decision.levels == levels
    assert decision.next_level == next_level
    assert decision.limit_fen == {1: L1, 2: L2, 3: L3}[next_level]
    assert decision.reason is None
    assert decision.refused_at_loan is None


def test_rule_six_counts_only_the_run_since_reaching_level_two() -> None:
    # Level 2 for loans 3–4, back to 1, then level 2 again for loans 6–8: a run of 3, not 5.
    history = [0, 0, 5, 17, 5, 5, 5, 5]
    decision = evaluate_reloan(history)
    assert decision.levels == (1, 1, 2, 2, 1, 2, 2, 2)
    assert decision.next_level == 2
    assert evaluate_reloan([*history, 5]).next_level == 3


# --- rule order ----------------------------------------------------------------------------


def test_rule_one_wins_over_rule_two() -> None:
    # d = 21 matches both "d > 20" and "d > 16" at level 3; the first rule gives level 1.
    assert evaluate_reloan([0, 0, 0, 0, 21]).next_level == 1


def test_demotion_wins_over_rule_six() -> None:
    # Fourth loan at level 2 (rule 6 would give 3) but d = 17 > 16 (rule 3 gives 1).
    decision = evaluate_reloan([0, 0, 5, 5, 5, 17])
    assert decision.levels == (1, 1, 2, 2, 2, 2)
    assert decision.next_level == 1
    assert decision.level_rules[-1] is LevelRule.DEMOTION


def test_streak_is_named_before_loan_count() -> None:
    assert evaluate_reloan([5, 5, 0, 0]).level_rules[-1] is LevelRule.STREAK_PROMOTION
    assert evaluate_reloan([5, 5, 5, 5]).level_rules[-1] is LevelRule.LOAN_COUNT_PROMOTION


def test_streak_is_named_before_tenure() -> None:
    decision = evaluate_reloan([0, 0, 5, 5, 0, 0])
    assert decision.levels == (1, 1, 2, 2, 2, 2)
    assert decision.level_rules[-1] is LevelRule.STREAK_PROMOTION
    assert evaluate_reloan([0, 0, 5, 5, 5, 5]).level_rules[-1] is LevelRule.TENURE_PROMOTION


def test_rule_four_wins_over_rule_five_when_they_disagree() -> None:
    # A custom ladder whose loan-count rule jumps to level 3: the streak (→ 2) must win.
    ladder = _ladder(loan_count_promotions=(LoanCountPromotion(1, 2, 3),))
    assert evaluate_reloan([0, 0], ladder).next_level == 2
    assert evaluate_reloan([0, 5], ladder).next_level == 3


def test_rule_five_wins_over_rule_six_when_they_disagree() -> None:
    ladder = _ladder(
        loan_count_promotions=(LoanCountPromotion(1, 2, 2),),
        tenure_promotions=(TenurePromotion(1, 2, 3),),
    )
    assert evaluate_reloan([5, 5], ladder).next_level == 2


# --- refusal thresholds --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "threshold"),
    [([], 10), ([0], 13), ([0, 0], 15), ([0, 0, 0], 22), ([0] * 4, 22), ([0] * 9, 22)],
)
def test_refusal_threshold_boundary(prefix: list[int], threshold: int) -> None:
    loan_number = len(prefix) + 1
    assert DEFAULT_RELOAN_LADDER.refusal_threshold(loan_number) == threshold
    allowed = evaluate_reloan([*prefix, threshold])
    assert allowed.eligible is True
    assert allowed.next_level is not None
    refused = evaluate_reloan([*prefix, threshold + 1])
    assert refused.eligible is False
    assert refused.next_level is None
    assert refused.limit_fen == 0
    assert refused.reason == RELOAN_OVERDUE_EXCEEDED
    assert refused.refused_at_loan == loan_number
    assert f"loan {loan_number}" in refused.message_en
    assert f"{threshold + 1} days" in refused.message_en
    assert f"第 {loan_number} 笔" in refused.message_zh
    assert "不可复贷" in refused.message_zh


def test_refusal_reports_the_first_offending_loan_and_keeps_levels() -> None:
    decision = evaluate_reloan([0, 14, 0, 30])
    assert decision.refused_at_loan == 2
    assert decision.levels == (1, 1, 1, 1)
    assert len(decision.level_rules) == 4


def test_a_refusal_is_not_undone_by_later_clean_loans() -> None:
    assert evaluate_reloan([11, 0, 0, 0, 0]).eligible is False


def test_eligible_message_names_level_and_limit() -> None:
    decision = evaluate_reloan([0, 0])
    assert decision.message_en == "Reloan eligible: loan 3 at level 2, limit 4500.00 yuan"
    assert decision.message_zh == "可复贷：第 3 笔借款等级 2，额度 4500.00 元"


@pytest.mark.parametrize("bad", [[-1], [0, 3, -5], [1.5], [True], ["3"]])
def test_bad_history_values_are_invalid(bad: list[Any]) -> None:
    with pytest.raises(InvalidValue) as caught:
        evaluate_reloan(bad)
    assert caught.value.code == "INVALID_VALUE"
    assert caught.value.field.startswith("history[")


# --- the ladder as data --------------------------------------------------------------------


def test_default_ladder_values() -> None:
    ladder = ReloanLadder.default()
    assert ladder == DEFAULT_RELOAN_LADDER
    assert ladder.max_level == 3
    assert [ladder.limit_fen(level) for level in (1, 2, 3)] == [L1, L2, L3]
    assert [ladder.refusal_threshold(k) for k in range(1, 8)] == [10, 13, 15, 22, 22, 22, 22]


def test_default_ladder_round_trips_through_json() -> None:
    data = json.loads(json.dumps(DEFAULT_RELOAN_LADDER.to_dict()))
    assert data["level_limits_fen"] == [L1, L2, L3]
    assert data["refusal_thresholds"] == [10, 13, 15]
    assert data["refusal_threshold_later"] == 22
    assert ReloanLadder.from_dict(data) == DEFAULT_RELOAN_LADDER


def test_edited_ladder_changes_decisions() -> None:
    data = DEFAULT_RELOAN_LADDER.to_dict()
    data["level_limits_fen"] = [100_000, 300_000, 500_000]
    data["refusal_thresholds"] = [5]
    data["refusal_threshold_later"] = 7
    ladder = ReloanLadder.from_dict(data)
    assert evaluate_reloan([0, 0], ladder).limit_fen == 300_000
    assert evaluate_reloan([6], ladder).eligible is False
    assert evaluate_reloan([5, 7], ladder).eligible is True
    assert evaluate_reloan([5, 8], ladder).refused_at_loan == 2


def test_four_level_ladder_caps_at_its_own_top() -> None:
    ladder = _ladder(level_limits_fen=(100_000, 200_000, 300_000, 400_000))
    decision = evaluate_reloan([0] * 8, ladder)
    assert decision.levels == (1, 1, 2, 2, 3, 3, 4, 4)
    assert decision.next_level == 4
    assert decision.limit_fen == 400_000


def test_streak_promotion_can_be_switched_off() -> None:
    data = DEFAULT_RELOAN_LADDER.to_dict()
    data["streak_promotion"] = None
    ladder = ReloanLadder.from_dict(data)
    assert ladder.streak_promotion is None
    assert evaluate_reloan([0, 0], ladder).next_level == 1
    assert evaluate_reloan([0, 0, 0, 0], ladder).next_level == 2
    assert ReloanLadder.from_dict(ladder.to_dict()) == ladder


def _edited(path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(DEFAULT_RELOAN_LADDER.to_dict())
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("level_limits_fen",), [], "level_limits_fen"),
        (("level_limits_fen",), [250_000, 250_000, 700_000], "level_limits_fen"),
        (("level_limits_fen",), [450_000, 250_000, 700_000], "level_limits_fen"),
        (("level_limits_fen",), [0, 450_000, 700_000], "level_limits_fen[0]"),
        (("level_limits_fen",), [250_000, "450000", 700_000], "level_limits_fen[1]"),
        (("level_limits_fen",), [250_000, 4500.5, 700_000], "level_limits_fen[1]"),
        (("level_limits_fen",), 250_000, "level_limits_fen"),
        (("refusal_thresholds",), [10, -1, 15], "refusal_thresholds[1]"),
        (("refusal_threshold_later",), -3, "refusal_threshold_later"),
        (("refusal_threshold_later",), True, "refusal_threshold_later"),
        (("demotions", 0, "to_level"), 3, "demotions[0].to_level"),
        (("demotions", 0, "level"), 4, "demotions[0].level"),
        (("demotions", 0, "days_over"), -1, "demotions[0].days_over"),
        (("streak_promotion", "loans"), 0, "streak_promotion.loans"),
        (("streak_promotion", "days_below"), -1, "streak_promotion.days_below"),
        (("loan_count_promotions", 0, "to_level"), 4, "loan_count_promotions[0].to_level"),
        (("loan_count_promotions", 0, "to_level"), 1, "loan_count_promotions[0].to_level"),
        (
            ("loan_count_promotions", 0, "min_loan_number"),
            0,
            "loan_count_promotions[0].min_loan_number",
        ),
        (("tenure_promotions", 0, "level"), 3, "tenure_promotions[0].level"),
        (
            ("tenure_promotions", 0, "min_loans_at_level"),
            0,
            "tenure_promotions[0].min_loans_at_level",
        ),
        (("demotions",), {"level": 3}, "demotions"),
        (("demotions", 0), [3, 20, 1], "demotions[0]"),
    ],
)
def test_from_dict_rejects_bad_values(
    path: tuple[str | int, ...], value: object, field: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        ReloanLadder.from_dict(_edited(path, value))
    assert caught.value.field == field
    assert isinstance(caught.value, XindaiError)
    assert caught.value.message_zh != caught.value.message_en


def test_from_dict_rejects_missing_and_unknown_keys() -> None:
    data = DEFAULT_RELOAN_LADDER.to_dict()
    del data["level_limits_fen"]
    with pytest.raises(InvalidValue, match="missing level_limits_fen"):
        ReloanLadder.from_dict(data)
    data = DEFAULT_RELOAN_LADDER.to_dict()
    data["refusal_threshold"] = 5
    with pytest.raises(InvalidValue, match="unknown refusal_threshold"):
        ReloanLadder.from_dict(data)
    data = DEFAULT_RELOAN_LADDER.to_dict()
    data["demotions"] = [{"level": 3, "days_over": 20}]
    with pytest.raises(InvalidValue, match="missing to_level"):
        ReloanLadder.from_dict(data)
    with pytest.raises(InvalidValue):
        ReloanLadder.from_dict([])  # type: ignore[arg-type]


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(InvalidValue):
        ReloanLadder(level_limits_fen=(), refusal_thresholds=(), refusal_threshold_later=0)
    with pytest.raises(InvalidValue):
        _ladder(demotions=(Demotion(level=1, days_over=5, to_level=1),))


def test_level_and_loan_number_lookups_are_checked() -> None:
    with pytest.raises(InvalidValue):
        DEFAULT_RELOAN_LADDER.limit_fen(0)
    with pytest.raises(InvalidValue):
        DEFAULT_RELOAN_LADDER.limit_fen(4)
    with pytest.raises(InvalidValue):
        DEFAULT_RELOAN_LADDER.refusal_threshold(0)


# --- properties ----------------------------------------------------------------------------

days_overdue = st.one_of(
    st.integers(min_value=0, max_value=30),
    st.sampled_from([0, 3, 4, 10, 11, 13, 14, 15, 16, 17, 20, 21, 22, 23]),
)
histories = st.lists(days_overdue, max_size=14)
clean_histories = st.lists(st.integers(min_value=0, max_value=10), max_size=14)


def _spec_levels(history: list[int]) -> tuple[list[int], int]:
    """SPEC §7 transcribed literally, with its constants, as an independent oracle."""
    levels: list[int] = []
    level = 1
    for k, d in enumerate(history, start=1):
        levels.append(level)
        previous = levels[-2] if k >= 2 else None
        previous_d = history[k - 2] if k >= 2 else None
        run = 0
        for earlier in reversed(levels):
            if earlier != level:
                break
            run += 1
        if level == 3 and d > 20:
            level = 1
        elif level == 3 and d > 16:
            level = 2
        elif level == 2 and d > 16:
            level = 1
        elif previous == level and previous_d is not None and previous_d < 4 and d < 4:
            level = min(level + 1, 3)
        elif level == 1 and k >= 4:
            level = 2
        elif level == 2 and run >= 4:
            level = 3
    return levels, level


def _spec_refused(history: list[int]) -> bool:
    thresholds = {1: 10, 2: 13, 3: 15}
    return any(d > thresholds.get(k, 22) for k, d in enumerate(history, start=1))


@given(histories)
def test_matches_the_spec_transcription(history: list[int]) -> None:
    decision = evaluate_reloan(history)
    levels, next_level = _spec_levels(history)
    assert list(decision.levels) == levels
    if decision.eligible:
        assert decision.next_level == next_level


@given(histories)
def test_levels_are_within_the_ladder_and_one_per_loan(history: list[int]) -> None:
    decision = evaluate_reloan(history)
    assert len(decision.levels) == len(history)
    assert len(decision.level_rules) == len(history)
    assert all(1 <= level <= 3 for level in decision.levels)
    assert decision.levels[:1] in ((), (1,))


@given(histories)
def test_refused_exactly_when_some_loan_exceeds_its_threshold(history: list[int]) -> None:
    decision = evaluate_reloan(history)
    assert decision.eligible is not _spec_refused(history)
    if decision.eligible:
        assert decision.next_level in (1, 2, 3)
        assert decision.limit_fen == DEFAULT_RELOAN_LADDER.limit_fen(decision.next_level)
        assert decision.reason is None
        assert decision.refused_at_loan is None
    else:
        assert decision.next_level is None
        assert decision.limit_fen == 0
        assert decision.reason == RELOAN_OVERDUE_EXCEEDED
        k = decision.refused_at_loan
        assert k is not None
        assert history[k - 1] > DEFAULT_RELOAN_LADDER.refusal_threshold(k)
        assert not _spec_refused(history[: k - 1])


@given(histories, st.data())
def test_a_prefix_agrees_with_the_longer_history(history: list[int], data: st.DataObject) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(history)))
    whole = evaluate_reloan(history)
    prefix = evaluate_reloan(history[:cut])
    assert prefix.levels == whole.levels[:cut]
    assert prefix.level_rules == whole.level_rules[:cut]
    if cut < len(history) and prefix.eligible:
        assert prefix.next_level == whole.levels[cut]


@given(clean_histories)
def test_clean_histories_are_always_eligible(history: list[int]) -> None:
    # d ≤ 10 is within every threshold, and never triggers a demotion
    decision = evaluate_reloan(history)
    assert decision.eligible is True
    assert list(decision.levels) == sorted(decision.levels)


def _ladder(**changes: Any) -> ReloanLadder:
    fields: dict[str, Any] = {
        "level_limits_fen": (L1, L2, L3),
        "refusal_thresholds": (10, 13, 15),
        "refusal_threshold_later": 22,
        "demotions": (),
        "streak_promotion": StreakPromotion(loans=2, days_below=4),
        "loan_count_promotions": (),
        "tenure_promotions": (),
    }
    fields.update(changes)
    return ReloanLadder(**fields)
