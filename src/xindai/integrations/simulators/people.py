"""Identifiers of synthetic people for the simulators, the tests and the demo: resident ID
numbers (GB 11643 check digit), Luhn bank-card numbers with a known BIN, mainland mobiles.

Generators are deterministic in their `seed`; validators are what the simulated providers
check before they answer.
"""

from __future__ import annotations

import hashlib
import random
import re
from datetime import date, timedelta

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")

BANKS_BY_BIN: dict[str, tuple[str, str]] = {
    "622202": ("ICBC", "中国工商银行"),
    "622848": ("ABC", "中国农业银行"),
    "621700": ("CCB", "中国建设银行"),
    "621661": ("BOC", "中国银行"),
    "622588": ("CMB", "招商银行"),
    "622262": ("BOCOM", "交通银行"),
}
"""The card BINs the simulated channel supports, with bank code and name."""

_REGIONS = ("110101", "310104", "440305", "330106", "510107", "420106", "320102", "610113")


def stable_int(text: str, salt: str = "") -> int:
    """A deterministic 64-bit integer from `text` (SHA-256), for seeding per person."""
    digest = hashlib.sha256(f"{salt}:{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def id_check_char(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of a resident ID number."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def id_number_valid(id_number: str) -> bool:
    """18 characters, a real birth date from 1900 on, and the right check character."""
    text = id_number.strip().upper()
    if not _ID_RE.match(text):
        return False
    try:
        birth = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return False
    return birth.year >= 1900 and text[17] == id_check_char(text[:17])


def make_id_number(seed: int | str, *, birth: date | None = None) -> str:
    """A valid resident ID number, the same for the same seed (born 1965–2003 by default)."""
    rng = random.Random(stable_int(str(seed), "id"))
    region = rng.choice(_REGIONS)
    born = birth or date(1965, 1, 1) + timedelta(days=rng.randrange(38 * 365))
    first17 = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_check_char(first17)


def luhn_check_digit(body: str) -> str:
    """The Luhn digit to append to `body`."""
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:  # doubled: these become the odd positions once the check digit is on
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def luhn_valid(card_number: str) -> bool:
    return (
        card_number.isascii()
        and card_number.isdigit()
        and 12 <= len(card_number) <= 19
        and luhn_check_digit(card_number[:-1]) == card_number[-1]
    )


def make_card_number(
    seed: int | str, *, bin_prefix: str = "622202", length: int = 16, suffix: str = ""
) -> str:
    """A Luhn-valid card number starting with `bin_prefix` and ending with `suffix`."""
    rng = random.Random(stable_int(str(seed), "card"))
    middle = length - len(bin_prefix) - len(suffix)
    if middle < 1 or not (bin_prefix + suffix).isdigit():
        raise ValueError("no room for a card number with that BIN and suffix")
    digits = [str(rng.randrange(10)) for _ in range(middle)]
    if not suffix:
        body = bin_prefix + "".join(digits[:-1])
        return body + luhn_check_digit(body)
    # one free digit can reach every check value: doubling is a bijection on 0–9
    for free in range(10):
        digits[-1] = str(free)
        number = bin_prefix + "".join(digits) + suffix
        if luhn_valid(number):
            return number
    raise AssertionError("unreachable: some free digit satisfies Luhn")


def bank_of(card_number: str) -> tuple[str, str] | None:
    """(bank code, bank name) by BIN, or None for a BIN the channel does not support: the
    channel takes the debit cards of the banks in the platform's BIN table (as a real
    channel covers the major banks) and the BINs listed above."""
    from xindai.origination.cards import CardKind, card_bin

    entry = card_bin(card_number)
    if entry is not None and entry.kind is CardKind.DEBIT:
        return entry.bank.code, entry.bank.name_zh
    return BANKS_BY_BIN.get(card_number[:6])


def phone_valid(phone: str) -> bool:
    return bool(_PHONE_RE.match(phone))


def make_phone(seed: int | str) -> str:
    """A mainland mobile number, the same for the same seed."""
    rng = random.Random(stable_int(str(seed), "phone"))
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
