"""The one rule for the digits of every amount and number given to the platform (数字规则):
ASCII 0–9, and full-width ０–９ read as the same digits (a Chinese input method in full-width
mode types them); every other digit is refused, never converted.

Why not "whatever Python reads": `int()` and `Decimal()` accept any Unicode decimal digit
(Arabic-Indic ١٢٣, Devanagari १२३ …), NFKC folds yet others (superscript ², circled ①,
mathematical 𝟏), regular expressions' `\\d` matches a third set. Two spellings of one phone
or card number must not be two identifiers, and an amount must read the same to a person, a
regex and the database. Pure functions; imports nothing of the platform.
"""

from __future__ import annotations

import unicodedata
from typing import Final

ASCII_DIGITS: Final = "0123456789"
FULL_WIDTH_DIGITS: Final = "０１２３４５６７８９"
_TO_ASCII: Final = str.maketrans(FULL_WIDTH_DIGITS, ASCII_DIGITS)
_ALLOWED: Final = frozenset(ASCII_DIGITS + FULL_WIDTH_DIGITS)


def fold_full_width_digits(text: str) -> str:
    """`text` with full-width digits ０–９ as ASCII 0–9; nothing else changes."""
    return text.translate(_TO_ASCII)


def foreign_digit(text: str) -> str | None:
    """The first character of `text` that is a digit or a number other than ASCII 0–9 and
    full-width ０–９ ("١", "۱", "१", "²", "①", "Ⅻ", "〇"), or None when there is none.
    Ideographs such as 五 are left to the field's own format check: nothing converts them."""
    for char in text:
        if char in _ALLOWED or char.isascii():
            continue
        if char.isdecimal() or char.isdigit() or _numeric_symbol(char):
            return char
    return None


def _numeric_symbol(char: str) -> bool:
    # other numbers (No, Nl): ², ①, ½, Ⅻ, 〇 — NFKC turns several of them into ASCII digits
    return (
        unicodedata.category(char) in ("No", "Nl") and unicodedata.numeric(char, None) is not None
    )


def ascii_digits(text: str) -> str | None:
    """`text` with full-width digits folded to ASCII, or None when it holds any other
    non-ASCII digit (see `foreign_digit`)."""
    if foreign_digit(text) is not None:
        return None
    return fold_full_width_digits(text)
