"""Resident identity numbers (公民身份号码, GB 11643-1999) and the borrower's age.

An 18-character number: a 6-digit administrative region code, an 8-digit birth date
(YYYYMMDD), a 3-digit sequence code whose last digit is odd for men and even for women, and
a check character by ISO 7064 MOD 11-2. Pure functions: the day to judge against is passed in.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from xindai.digits import foreign_digit
from xindai.errors import InvalidValue
from xindai.origination.masking import mask_id_number, redact

#: ISO 7064 MOD 11-2 weights of the first 17 digits: 2^(17−i) mod 11.
WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
#: The check character for each weighted sum mod 11.
CHECK_CHARS = "10X98765432"
#: No birth date before this day is accepted.
EARLIEST_BIRTH_DATE = date(1900, 1, 1)

#: Province-level codes of GB/T 2260 (the first two digits), and 81/82/83 used by the
#: residence permits of Hong Kong, Macao and Taiwan residents (港澳台居民居住证).
PROVINCES: dict[str, str] = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省",
    "81": "香港特别行政区",
    "82": "澳门特别行政区",
    "83": "台湾居民居住证",
}

#: Real county-level region codes used by the sample generator.
SAMPLE_REGION_CODES: tuple[str, ...] = (
    "110101",  # 北京市东城区
    "110105",  # 北京市朝阳区
    "120101",  # 天津市和平区
    "310104",  # 上海市徐汇区
    "320102",  # 南京市玄武区
    "330106",  # 杭州市西湖区
    "350203",  # 厦门市思明区
    "370202",  # 青岛市市南区
    "420106",  # 武汉市武昌区
    "430104",  # 长沙市岳麓区
    "440106",  # 广州市天河区
    "440305",  # 深圳市南山区
    "500103",  # 重庆市渝中区
    "510107",  # 成都市武侯区
    "610113",  # 西安市雁塔区
)

_ID_RE = re.compile(r"[0-9]{17}[0-9X]")
_WHITESPACE = re.compile(r"\s+")


class ResidentIdError(InvalidValue):
    """A resident ID number is not valid; subclasses say why with a stable code."""

    code = "ID_INVALID"

    def __init__(self, number: str, reason_en: str, reason_zh: str):
        # the number is personal data: error messages and logs only see a masked form
        shown = mask_id_number(number) if len(number) == 18 else redact(number)
        super().__init__("id_number", shown, reason_en, reason_zh)


class IdFormatError(ResidentIdError):
    code = "ID_FORMAT"


class IdCheckDigitError(ResidentIdError):
    code = "ID_CHECK_DIGIT"


class IdBirthDateError(ResidentIdError):
    code = "ID_BIRTH_DATE"


class IdRegionError(ResidentIdError):
    code = "ID_REGION"


class AgeOutOfRange(InvalidValue):
    """The borrower's age on the given day is outside the product's range."""

    code = "ID_AGE_OUT_OF_RANGE"


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"

    @property
    def label_zh(self) -> str:
        return "男" if self is Gender.MALE else "女"


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A validated resident ID: the normalised number (check letter upper-case) and what it
    encodes."""

    number: str
    birth_date: date
    gender: Gender
    region_code: str  # the 6-digit administrative division code

    @property
    def province_code(self) -> str:
        return self.region_code[:2]

    @property
    def province_name(self) -> str:
        return PROVINCES[self.province_code]

    @property
    def masked(self) -> str:
        return mask_id_number(self.number)

    def age_on(self, day: date) -> int:
        return age_on(self.birth_date, day)


def normalise_id_number(text: str) -> str:
    """Full-width characters become ASCII, whitespace goes, a check letter x becomes X."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", text)).upper()


def check_char(first17: str) -> str:
    """The MOD 11-2 check character ("0"–"9" or "X") of the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise IdFormatError(first17, "17 digits are needed", "需要 17 位数字")
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def has_valid_check_char(number: str) -> bool:
    """Whether an 18-character number's last character is the check character of the rest."""
    return bool(_ID_RE.fullmatch(number)) and check_char(number[:17]) == number[17]


def parse_resident_id(text: str, as_of: date) -> ResidentId:
    """Validate an 18-digit resident ID number as of the business date `as_of`.

    Checks, in order: the format (17 digits and a digit or X; 15-digit first-generation numbers
    are refused, they have not been valid since 2013) → `ID_FORMAT`; the check character →
    `ID_CHECK_DIGIT`; the province code → `ID_REGION`; the birth date (a real calendar day,
    not before 1900-01-01 nor after `as_of`) → `ID_BIRTH_DATE`.
    """
    if not isinstance(text, str):
        raise IdFormatError(str(text), "must be a string", "必须是字符串")
    if foreign_digit(text) is not None:  # NFKC would turn ① or ² into a digit (xindai.digits)
        raise IdFormatError(
            text, "digits must be 0-9 (or full-width ０-９)", "身份证号只能使用数字 0-9 和 X"
        )
    number = normalise_id_number(text)
    if len(number) == 15 and number.isascii() and number.isdigit():
        raise IdFormatError(
            number,
            "a 15-digit first-generation ID is no longer valid; use the 18-digit number",
            "15 位一代身份证已停止使用，请输入 18 位身份证号",
        )
    if not _ID_RE.fullmatch(number):
        raise IdFormatError(
            number,
            "must be 18 characters: 17 digits and a check digit or X",
            "应为 18 位：17 位数字加 1 位校验码（数字或 X）",
        )
    if check_char(number[:17]) != number[17]:
        raise IdCheckDigitError(
            number,
            "the check digit does not match; please check the number",
            "校验码不符，请核对身份证号",
        )
    if number[:2] not in PROVINCES:
        raise IdRegionError(
            number,
            f"{number[:2]} is not a province code",
            f"{number[:2]} 不是有效的省级行政区划代码",
        )
    birth_date = _birth_date(number, as_of)
    gender = Gender.MALE if int(number[16]) % 2 else Gender.FEMALE
    return ResidentId(number, birth_date, gender, number[:6])


def _birth_date(number: str, as_of: date) -> date:
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    try:
        birth_date = date(year, month, day)
    except ValueError:
        raise IdBirthDateError(
            number,
            f"{number[6:14]} is not a calendar date",
            f"出生日期 {number[6:14]} 不存在",
        ) from None
    if birth_date < EARLIEST_BIRTH_DATE:
        raise IdBirthDateError(number, "the birth date is before 1900", "出生日期早于 1900 年")
    if birth_date > as_of:
        raise IdBirthDateError(
            number,
            f"the birth date is after {as_of.isoformat()}",
            f"出生日期晚于 {as_of.isoformat()}",
        )
    return birth_date


def age_on(birth_date: date, day: date) -> int:
    """Full years of age on `day` (周岁). Someone born on 29 February turns a year older on
    1 March in common years."""
    if day < birth_date:
        raise InvalidValue("day", day.isoformat(), "is before the birth date", "早于出生日期")
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def check_age(birth_date: date, day: date, age_min: int, age_max: int) -> int:
    """The age on `day` when `age_min ≤ age ≤ age_max` (inclusive: a maximum of 60 admits
    up to the day before the 61st birthday); otherwise `ID_AGE_OUT_OF_RANGE`."""
    age = age_on(birth_date, day)
    if not age_min <= age <= age_max:
        raise AgeOutOfRange(
            "age",
            age,
            f"the borrower is {age} on {day.isoformat()}; must be {age_min}–{age_max}",
            f"借款人于 {day.isoformat()} 年满 {age} 周岁，须在 {age_min}–{age_max} 周岁之间",
        )
    return age


def build_resident_id(region_code: str, birth_date: date, sequence: int) -> str:
    """The 18-digit number for a region code, a birth date and a sequence code 1–999 (odd for
    a man, even for a woman), with its check character."""
    if len(region_code) != 6 or not region_code.isascii() or not region_code.isdigit():
        raise InvalidValue("region_code", region_code, "must be 6 digits", "应为 6 位数字")
    if not 1 <= sequence <= 999:
        raise InvalidValue("sequence", sequence, "must be 1–999", "应在 1–999 之间")
    first17 = f"{region_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def valid_sample_ids(
    seed: int,
    count: int = 10,
    *,
    born_from: date = date(1970, 1, 1),
    born_to: date = date(2003, 12, 31),
) -> tuple[str, ...]:
    """`count` valid, made-up ID numbers (real region codes, birth dates in the range, a
    correct check character) for tests and the demo; the same seed gives the same numbers."""
    if born_to < born_from:
        raise InvalidValue("born_to", born_to.isoformat(), "is before born_from", "早于 born_from")
    rng = random.Random(seed)
    span = (born_to - born_from).days
    return tuple(
        build_resident_id(
            rng.choice(SAMPLE_REGION_CODES),
            born_from + timedelta(days=rng.randint(0, span)),
            rng.randint(1, 999),
        )
        for _ in range(count)
    )
