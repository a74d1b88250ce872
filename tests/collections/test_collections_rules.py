"""The pure rules of collections: quiet hours across midnight in the debtor's time, the
region's time zone, the members' turns of the weighted allocation methods, commission
rounding, and the strategies' validation."""

from __future__ import annotations

from datetime import datetime

import pytest

from xindai.collections.allocation import _Member, commission_fen, slots
from xindai.collections.config import (
    Guardrails,
    check_strategies,
    default_strategies,
    guardrails_from,
    local_time,
    utc_offset_hours,
)
from xindai.errors import InvalidValue


def test_quiet_hours_wrap_midnight_and_follow_the_debtor() -> None:
    rules = Guardrails()
    assert rules.quiet_at(datetime(2026, 3, 2, 22, 0))
    assert rules.quiet_at(datetime(2026, 3, 2, 7, 59))
    assert not rules.quiet_at(datetime(2026, 3, 2, 8, 0))
    assert not rules.quiet_at(datetime(2026, 3, 2, 21, 59))
    assert utc_offset_hours("乌鲁木齐", 0) == 8 and utc_offset_hours("广东省", 0) == 8
    assert utc_offset_hours(None, 9) == 9 and utc_offset_hours("Tokyo", 9) == 9
    # a debtor an hour ahead of the lender: 21:30 here is 22:30 there
    assert rules.quiet_at(local_time(datetime(2026, 3, 2, 21, 30), 9))
    day_only = guardrails_from({"quiet_start": "09:00", "quiet_end": "17:00"})
    assert day_only.quiet_at(datetime(2026, 3, 2, 12, 0))
    assert not day_only.quiet_at(datetime(2026, 3, 2, 18, 0))
    with pytest.raises(InvalidValue):
        guardrails_from({"max_connected_per_debtor": 0})
    with pytest.raises(InvalidValue):
        guardrails_from({"quiet_start": "25:00"})
    with pytest.raises(InvalidValue):
        guardrails_from({"unknown": 1})


def _members(*rooms: int | None, weights: tuple[int, ...] = ()) -> list[_Member]:
    return [
        _Member(i + 1, None, weights[i] if weights else 100, room) for i, room in enumerate(rooms)
    ]


def test_capacity_fills_up_to_each_cap_and_interleaves() -> None:
    order = slots(_members(3, 1, 0), 10, "capacity")
    assert len(order) == 4  # 4 places in all: the other cases wait
    assert order.count(0) == 3 and order.count(1) == 1 and 2 not in order
    assert order.index(1) < 3  # the small member is not left to the end


def test_performance_shares_follow_the_weights() -> None:
    order = slots(_members(None, None, None, weights=(100, 200, 100)), 1000, "performance")
    assert len(order) == 1000
    assert [order.count(i) for i in range(3)] == [250, 500, 250]
    top = order[:8]  # every member gets cases of every priority
    assert set(top) == {0, 1, 2}
    assert slots([], 5, "performance") == [] and slots(_members(None), 0, "capacity") == []


def test_commission_is_rounded_half_up_to_the_fen() -> None:
    assert commission_fen(104_150, "0.15") == 15_623  # 15,622.5
    assert commission_fen(0, "0.15") == 0
    assert commission_fen(333, "0.1") == 33


def test_strategies_are_checked() -> None:
    assert check_strategies(default_strategies())["quadrants"]["IV"][-1] == "legal"
    with pytest.raises(InvalidValue):
        check_strategies({"quadrants": {"V": ["remind"]}})
    with pytest.raises(InvalidValue):
        check_strategies({"quadrants": {"I": ["threaten"]}})
    with pytest.raises(InvalidValue):
        check_strategies({"challenger": {"share_percent": 80}})
