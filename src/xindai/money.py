"""Money as integer fen, ROUND_HALF_UP, yuan strings, rates as Decimal and day counts.

Pure functions only. Money inside the system is always an `int` number of fen (分); `Decimal`
appears only at the edges (parsing, display) and for rates.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction

from xindai.digits import ascii_digits
from xindai.errors import InvalidValue

Fen = int
"""An amount of money in fen (0.01 CNY)."""

FEN_PER_YUAN = 100
MAX_AMOUNT_FEN: Fen = 10**12
"""The largest amount any caller may give (¥10,000,000,000.00): a thousand times beyond every
product's maximum, and far inside BIGINT (9.2 × 10¹⁸ fen), so that millions of such amounts
still sum, and multiply by a rate's numerator, without overflowing a database column."""
_YUAN_RE = re.compile(r"^([+-]?)([0-9]+)(?:\.([0-9]{1,2}))?$")  # ASCII digits: see xindai.digits
_RATE_RE = re.compile(
    r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$|^[+-]?(?:inf|infinity|s?nan)$",
    re.IGNORECASE,
)


class AmountTooLarge(InvalidValue):
    """An amount beyond `MAX_AMOUNT_FEN` (in either sign)."""

    code = "AMOUNT_TOO_LARGE"


def check_amount_range(fen: Fen, *, field: str = "amount", shown: object = None) -> Fen:
    """`fen` when |fen| ≤ `MAX_AMOUNT_FEN`, else `AmountTooLarge`."""
    if abs(fen) > MAX_AMOUNT_FEN:
        raise AmountTooLarge(
            field,
            shown if shown is not None else fen,
            f"beyond the largest amount accepted ({format_yuan(MAX_AMOUNT_FEN)} yuan)",
            f"超过允许的最大金额（{format_yuan(MAX_AMOUNT_FEN)} 元）",
        )
    return fen


class DayCount(StrEnum):
    """Day-count convention: the number of days in a year for daily interest."""

    ACT360 = "act360"
    ACT365 = "act365"

    @property
    def days_in_year(self) -> int:
        return 360 if self is DayCount.ACT360 else 365


def round_half_up_ratio(numerator: int, denominator: int) -> int:
    """Round the exact rational `numerator / denominator` to an integer, halves away from 0."""
    if denominator == 0:
        raise ZeroDivisionError("denominator is zero")
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    if numerator >= 0:
        return (2 * numerator + denominator) // (2 * denominator)
    return -((-2 * numerator + denominator) // (2 * denominator))


def to_fen(amount: Decimal | Fraction | int) -> Fen:
    """Round an exact amount expressed in fen to a whole fen (ROUND_HALF_UP)."""
    if isinstance(amount, int):
        return amount
    numerator, denominator = amount.as_integer_ratio()
    return round_half_up_ratio(numerator, denominator)


def round_fen(amount: Decimal | Fraction | int) -> Fen:
    """Alias of `to_fen` that reads better in formulas: `round_fen(P * r)`."""
    return to_fen(amount)


def parse_yuan(text: str | int | Decimal, *, field: str = "amount") -> Fen:
    """Parse a yuan amount ("10000", "1,234.5", "¥88.08") into fen; at most two decimals.

    Digits are ASCII, or full-width (read as ASCII); any other digit is refused
    (`xindai.digits`). Beyond ±`MAX_AMOUNT_FEN`: `AMOUNT_TOO_LARGE`."""
    if isinstance(text, bool):
        raise InvalidValue(field, text, "not an amount", "不是金额")
    if isinstance(text, int):
        return check_amount_range(text * FEN_PER_YUAN, field=field, shown=text)
    if isinstance(text, Decimal):
        if not text.is_finite():
            raise InvalidValue(field, str(text), "not a finite amount", "不是有效金额")
        if abs(text) > Decimal(MAX_AMOUNT_FEN) / FEN_PER_YUAN:  # before scaling a huge exponent
            check_amount_range(MAX_AMOUNT_FEN + 1, field=field, shown=str(text))
        scaled = text * FEN_PER_YUAN
        if scaled != scaled.to_integral_value():
            raise InvalidValue(field, str(text), "more than two decimals", "金额最多两位小数")
        return int(scaled)
    folded = ascii_digits(text) if isinstance(text, str) else None
    cleaned = (folded or "").strip().replace(",", "").replace("，", "")
    for prefix in ("¥", "￥", "CNY", "RMB"):
        if cleaned.startswith(prefix):
            cleaned = cleaned[len(prefix) :].strip()
    if cleaned.endswith("元"):
        cleaned = cleaned[:-1].strip()
    match = _YUAN_RE.match(cleaned)
    if folded is None or not match:
        raise InvalidValue(
            field,
            text,
            "not a yuan amount with at most two decimals",
            "不是最多两位小数的人民币金额",
        )
    sign, whole, cents = match.groups()
    if len(whole.lstrip("0")) > len(str(MAX_AMOUNT_FEN)):  # no int() of a thousand digits
        check_amount_range(MAX_AMOUNT_FEN + 1, field=field, shown=text)
    fen = int(whole) * FEN_PER_YUAN + int((cents or "0").ljust(2, "0"))
    return check_amount_range(-fen if sign == "-" else fen, field=field, shown=text)


def format_yuan(fen: Fen, *, thousands: bool = False, symbol: bool = False) -> str:
    """Format fen as a yuan string with exactly two decimals: 123456 -> "1234.56"."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), FEN_PER_YUAN)
    whole_text = f"{whole:,}" if thousands else str(whole)
    return f"{sign}{'¥' if symbol else ''}{whole_text}.{cents:02d}"


def parse_rate(text: str | Decimal | int, *, field: str = "rate") -> Decimal:
    """Parse a rate given as a decimal fraction ("0.18") or a percentage ("18%"); digits as
    in `parse_yuan` (ASCII or full-width, nothing else)."""
    if isinstance(text, Decimal | int):
        value = Decimal(text)
    else:
        folded = ascii_digits(text) if isinstance(text, str) else None
        cleaned = (folded or "").strip()
        percent = cleaned.endswith("%")
        number = cleaned.rstrip("%").strip()
        # Decimal() alone would also take Unicode digits, underscores and "Infinity"
        if folded is None or not _RATE_RE.match(number):
            raise InvalidValue(field, text, "not a number", "不是数字")
        try:
            value = Decimal(number)
        except InvalidOperation:
            raise InvalidValue(field, text, "not a number", "不是数字") from None
        if percent:
            value = value / 100
    if not value.is_finite():
        raise InvalidValue(field, str(text), "not a finite number", "不是有限数值")
    return value


def format_rate(rate: Decimal, places: int = 6) -> str:
    """Format a rate as a decimal fraction with a fixed number of places (ROUND_HALF_UP)."""
    return str(rate.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def format_percent(rate: Decimal, places: int = 2) -> str:
    """Format a rate as a percentage: Decimal("0.1956") -> "19.56%"."""
    return f"{(rate * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)}%"


def rate_ratio(rate: Decimal) -> tuple[int, int]:
    """The exact rational of a Decimal rate as (numerator, denominator), denominator > 0."""
    return rate.as_integer_ratio()


def interest_for_days(
    balance_fen: Fen, annual_rate: Decimal, days: int, day_count: DayCount
) -> Fen:
    """Simple interest on `balance_fen` for `days` days: round(B × annual × days / basis)."""
    numerator, denominator = annual_rate.as_integer_ratio()
    return round_half_up_ratio(balance_fen * numerator * days, denominator * day_count.days_in_year)


def percent_of(base_fen: Fen, rate: Decimal) -> Fen:
    """round(base × rate) in fen, exactly."""
    numerator, denominator = rate.as_integer_ratio()
    return round_half_up_ratio(base_fen * numerator, denominator)
