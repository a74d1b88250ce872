"""Parsing of command-line values into core types, with errors naming the bad value."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import TypeVar

from xindai.errors import InvalidValue
from xindai.money import parse_rate

E = TypeVar("E", bound=Enum)


def choice(enum_type: type[E], text: str, option: str) -> E:
    try:
        return enum_type(text.strip().lower())
    except ValueError:
        allowed = ", ".join(str(m.value) for m in enum_type)
        raise InvalidValue(
            option, text, f"must be one of {allowed}", f"可选值：{allowed}"
        ) from None


def positive_int(text: str, option: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise InvalidValue(option, text, "must be a whole number", "必须是整数") from None
    if value <= 0:
        raise InvalidValue(option, text, "must be positive", "必须大于零")
    return value


def rate(text: str, option: str, *, high: Decimal = Decimal(1)) -> Decimal:
    value = parse_rate(text, field=option)
    if not Decimal(0) <= value <= high:
        raise InvalidValue(option, text, f"must be between 0 and {high}", f"应在 0 到 {high} 之间")
    return value
