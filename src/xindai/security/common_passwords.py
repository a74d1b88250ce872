"""Whether a password is common or easily guessed: on the shipped list (`common_passwords.txt`,
about 17,000 entries), a repetition of a short unit, or a listed word with digits or symbols
around it, in leetspeak or with separators inside (`P@ssw0rd2024!`, `woaini-1314`,
`Pass.Word123`).

Attackers try exactly these first (the list plus the same mangling rules), so a staff
password of this shape falls to the first guesses of any cracking run. Pure functions; the
list is read once, on first use.
"""

from __future__ import annotations

import itertools
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import Final

LIST_FILE: Final = "common_passwords.txt"
# the most a word's digits / symbols may add and still count as a decoration of the word
MAX_DECORATION: Final = 6
MAX_REPEATED_UNIT: Final = 6
MAX_FEW_LETTERS: Final = 3  # a weak decoration around this few letters is weak throughout

# leetspeak: the usual stand-ins for letters (1 stands for i or l, tried both ways)
_LEET: Final = str.maketrans({"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_LEET_ONE: Final = ("i", "l")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list, lower case (comment lines left out)."""
    text = resources.files("xindai.security").joinpath(LIST_FILE).read_text(encoding="utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def is_common(password: str) -> bool:
    """True when `password` (compared case-insensitively, after Unicode NFKC) is on the list,
    is a short unit repeated (`abcabcabcabc`), or is a listed word (also in leetspeak or with
    separators), or at most 3 letters, with at most a weak decoration around it: up to 6
    digits or symbols, or any length of a repeated, sequential, listed or date-like run of
    digits."""
    text = unicodedata.normalize("NFKC", password).casefold().strip()
    listed = common_passwords()
    if text in listed or _repeats_short_unit(text):
        return True
    start, end = _letter_span(text)
    core, decoration = text[start:end], text[:start] + text[end:]
    if not core:  # digits and symbols only
        return _weak_digits(_digits(text), listed)
    if not _weak_decoration(decoration, listed):
        return False
    if len(_letters_only(core)) <= MAX_FEW_LETTERS:  # `1234567890a`, `abc-123456`
        return True
    return any(candidate in listed for candidate in _spellings(core))


def _letter_span(text: str) -> tuple[int, int]:
    """The span from the first to the last letter of `text` (empty when it has none)."""
    letters = [i for i, char in enumerate(text) if char.isalpha()]
    return (letters[0], letters[-1] + 1) if letters else (0, 0)


def _spellings(core: str) -> set[str]:
    """The ways an attacker's rules read `core`: as typed, without separators, and with
    leetspeak undone (then also without what is left of digits and symbols)."""
    found = {core, _letters_only(core)}
    for one in _LEET_ONE:
        plain = core.translate(_LEET).replace("1", one).replace("!", "i")
        found |= {plain, _letters_only(plain)}
    found.discard("")
    return found


def _letters_only(text: str) -> str:
    return "".join(char for char in text if char.isalpha())


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def _weak_decoration(decoration: str, listed: frozenset[str]) -> bool:
    """Whether the digits and symbols around a word add next to nothing to guess."""
    return len(decoration) <= MAX_DECORATION or _weak_digits(_digits(decoration), listed)


def _weak_digits(digits: str, listed: frozenset[str]) -> bool:
    """Digits guessed early: few, listed, repeated, sequential, or a date."""
    return (
        len(digits) <= MAX_DECORATION
        or digits in listed
        or _repeats_short_unit(digits, longest=len(digits) // 2)
        or _is_sequence(digits)
        or _is_date(digits)
    )


def _repeats_short_unit(text: str, *, longest: int = MAX_REPEATED_UNIT) -> bool:
    """Whether `text` is one unit of at most `longest` characters written at least twice
    (the last copy may be cut short: `abcabcab`)."""
    for size in range(1, min(longest, len(text) // 2) + 1):
        unit = text[:size]
        if (unit * (len(text) // size + 1))[: len(text)] == text:
            return True
    return False


def _is_sequence(text: str) -> bool:
    """Each character one up (or one down) from the previous one: `3456789`, `98765`;
    digits wrap around (`7890123`)."""
    if len(text) < 3:
        return False
    steps = {_step(a, b) for a, b in itertools.pairwise(text)}
    return steps in ({1}, {-1})


def _step(before: str, after: str) -> int:
    step = ord(after) - ord(before)
    if before.isdigit() and after.isdigit() and step in (-9, 9):
        return -1 if step > 0 else 1  # 9 → 0 goes up, 0 → 9 goes down
    return step


def _is_date(digits: str) -> bool:
    """A calendar date as people type birthdays: yyyymmdd, ddmmyyyy or mmddyyyy, or two of
    them in a row."""
    if len(digits) == 16:
        return _is_date(digits[:8]) and _is_date(digits[8:])
    if len(digits) != 8:
        return False

    def plausible(year: str, month: str, day: str) -> bool:
        return 1900 <= int(year) <= 2099 and 1 <= int(month) <= 12 and 1 <= int(day) <= 31

    return (
        plausible(digits[:4], digits[4:6], digits[6:])
        or plausible(digits[4:], digits[2:4], digits[:2])
        or plausible(digits[4:], digits[:2], digits[2:4])
    )
