"""Masked forms of personal data for screens, contracts, logs and error messages.

Masking keeps just enough to recognise one's own data (PCI DSS first 6 / last 4 for cards;
first 6 / last 4 for a resident ID, hiding the birth date) and nothing to reuse it.
"""

from __future__ import annotations

_STAR = "*"


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***, John Smith → J*********: the first character only."""
    text = name.strip()
    if len(text) <= 1:
        return text
    return text[0] + _STAR * (len(text) - 1)


def mask_phone(phone: str) -> str:
    """13800138000 → 138****8000 (a normalised 11-digit mobile number)."""
    if len(phone) != 11:
        return redact(phone)
    return f"{phone[:3]}****{phone[7:]}"


def mask_id_number(number: str) -> str:
    """110105194912310029 → 110105********0029: region and last four, birth date hidden."""
    if len(number) != 18:
        return redact(number)
    return f"{number[:6]}{_STAR * 8}{number[14:]}"


def mask_card(number: str) -> str:
    """6222021234567890123 → 622202*********0123: the BIN and the last four digits."""
    digits = "".join(number.split())
    if len(digits) < 12:
        return redact(digits)
    return f"{digits[:6]}{_STAR * (len(digits) - 10)}{digits[-4:]}"


def redact(text: str) -> str:
    """Any other identifier-like text, e.g. a malformed input in an error message: at most the
    first three and last two characters survive."""
    text = str(text)
    if len(text) <= 5:
        return _STAR * len(text)
    return f"{text[:3]}{_STAR * (len(text) - 5)}{text[-2:]}"
