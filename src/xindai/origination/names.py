"""Personal names and mainland mobile numbers: validation and normalisation.

A Chinese name is 2–20 CJK ideographs, optionally with the middle dot of minority and
transliterated names (阿依古丽·买买提); a foreigner's name is Latin letters and spaces as on a
permanent residence ID card. A mobile number is 11 digits 1[3-9]xxxxxxxxx.
"""

from __future__ import annotations

import re
import unicodedata

from xindai.digits import foreign_digit
from xindai.errors import InvalidValue
from xindai.origination.masking import redact

NAME_MIN_CHARS = 2
NAME_MAX_CHARS = 20
LATIN_NAME_MAX_CHARS = 60
MIDDLE_DOT = "\u00b7"  # ·

# the dots people type for the name separator: bullet, katakana dot, hyphenation point …
_DOT_VARIANTS = str.maketrans(dict.fromkeys("\u2022\u2027\u2219\u30fb\uff65\u00b7", MIDDLE_DOT))
# CJK Unified Ideographs, Extension A, Extensions B–F and G–H (rare characters in names)
_IDEOGRAPH = r"\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ebef\U00030000-\U000323af"
_CJK_NAME_RE = re.compile(rf"[{_IDEOGRAPH}]+(?:{MIDDLE_DOT}[{_IDEOGRAPH}]+)*")
_LATIN_NAME_RE = re.compile(r"[A-Za-z]+(?: [A-Za-z]+)*")
_PHONE_RE = re.compile(r"1[3-9][0-9]{9}")
_PHONE_SEPARATORS = re.compile(r"[\s\-()]+")


class NameInvalid(InvalidValue):
    code = "NAME_INVALID"


class PhoneInvalid(InvalidValue):
    code = "PHONE_INVALID"


def normalise_name(text: str, *, field: str = "name") -> str:
    """The validated name: CJK without spaces and with the middle dot normalised to U+00B7,
    or Latin words separated by single spaces. Raises `NAME_INVALID`."""
    if not isinstance(text, str):
        raise NameInvalid(field, text, "must be a string", "必须是字符串")
    name = unicodedata.normalize("NFKC", text).strip().translate(_DOT_VARIANTS)
    compact = "".join(name.split())  # 王 五 → 王五: Chinese names have no spaces
    if _CJK_NAME_RE.fullmatch(compact):
        name = compact
        if not NAME_MIN_CHARS <= len(name) <= NAME_MAX_CHARS:
            raise NameInvalid(
                field,
                text,
                f"a Chinese name has {NAME_MIN_CHARS}–{NAME_MAX_CHARS} characters",
                f"中文姓名应为 {NAME_MIN_CHARS}–{NAME_MAX_CHARS} 个字",
            )
        return name
    latin = " ".join(name.split())
    if _LATIN_NAME_RE.fullmatch(latin):
        if not NAME_MIN_CHARS <= len(latin) <= LATIN_NAME_MAX_CHARS:
            raise NameInvalid(
                field,
                text,
                f"a name in Latin letters has {NAME_MIN_CHARS}–{LATIN_NAME_MAX_CHARS} characters",
                f"外文姓名应为 {NAME_MIN_CHARS}–{LATIN_NAME_MAX_CHARS} 个字母",
            )
        return latin
    raise NameInvalid(
        field,
        text,
        "use Chinese characters (with · between parts) or Latin letters and spaces, not both",
        "姓名只能由汉字（可用间隔号 · 分隔）或英文字母和空格组成",
    )


def is_chinese_name(name: str) -> bool:
    """Whether a normalised name is written in CJK characters."""
    return bool(_CJK_NAME_RE.fullmatch(name))


def normalise_phone(text: str, *, field: str = "phone") -> str:
    """A mainland mobile number as 11 digits: full-width digits, spaces, dashes and
    parentheses are dropped, and a +86 / 0086 / 86 country code is removed. Raises
    `PHONE_INVALID`."""
    if not isinstance(text, str):
        raise PhoneInvalid(field, text, "must be a string", "必须是字符串")
    if foreign_digit(text) is not None:  # NFKC would turn ① or ² into a digit (xindai.digits)
        raise PhoneInvalid(
            field,
            redact(text),
            "digits must be 0-9 (or full-width ０-９)",
            "号码只能使用数字 0-9（或全角 ０-９）",
        )
    phone = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    for prefix in ("+86", "0086", "86"):
        if phone.startswith(prefix) and len(phone) == len(prefix) + 11:
            phone = phone[len(prefix) :]
            break
    if not _PHONE_RE.fullmatch(phone):
        raise PhoneInvalid(
            field,
            redact(phone),
            "must be a mainland mobile number: 11 digits starting 13–19",
            "应为 11 位中国大陆手机号（以 13–19 开头）",
        )
    return phone
