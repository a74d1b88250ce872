"""What an applicant declares about themselves in the application (the scorecard's inputs):
monthly income, employment, education, the city they live in, and — when the app was given
the permission — how many entries their phone book holds. Validated here with zh/en errors.
"""

from __future__ import annotations

from dataclasses import dataclass

from xindai.errors import InvalidValue
from xindai.money import Fen, parse_yuan
from xindai.risk.scorecard.synthetic import EDUCATION, EMPLOYMENT

EMPLOYMENT_ZH = {
    "salaried": "工薪",
    "self_employed": "个体经营",
    "freelance": "自由职业",
    "student": "学生",
    "unemployed": "待业",
}
EDUCATION_ZH = {
    "junior_high": "初中及以下",
    "high_school": "高中/中专",
    "college": "大专",
    "bachelor": "本科",
    "master": "硕士及以上",
}
# 一线 / 新一线 and 二线 cities; every other city in the mainland is tier 3 or 4 — the app
# cannot tell them apart from the name alone, so they count as tier 3 unless listed below
_TIER1 = {"北京", "上海", "广州", "深圳"}
_TIER2 = {
    "成都", "重庆", "杭州", "武汉", "西安", "郑州", "青岛", "长沙", "天津", "苏州", "南京",
    "东莞", "沈阳", "合肥", "佛山", "宁波", "昆明", "福州", "无锡", "厦门", "济南", "大连",
    "哈尔滨", "温州", "石家庄", "南宁", "长春", "泉州", "贵阳", "南昌", "金华", "常州",
    "惠州", "嘉兴", "南通", "徐州", "太原", "珠海", "中山", "保定", "兰州", "台州", "绍兴",
    "烟台", "廊坊",
}  # fmt: skip
_TIER4_SUFFIXES = ("县", "旗")
MAX_MONTHLY_INCOME_FEN = 100_000_000  # one million yuan a month: beyond is a typo
MAX_PHONEBOOK = 100_000


def city_tier(city: str | None) -> str | None:
    """tier1–tier4 of a city name (市 suffix optional); a county (县/旗) is tier 4."""
    if city is None:
        return None
    name = city.strip().removesuffix("市")
    if not name:
        return None
    if name in _TIER1:
        return "tier1"
    if name in _TIER2:
        return "tier2"
    if name.endswith(_TIER4_SUFFIXES):
        return "tier4"
    return "tier3"


@dataclass(frozen=True, slots=True)
class Declared:
    monthly_income_fen: Fen | None = None
    employment_type: str | None = None
    education: str | None = None
    city: str | None = None
    phonebook_count: int | None = None

    @property
    def city_tier(self) -> str | None:
        return city_tier(self.city)


def parse_declared(
    *,
    monthly_income: str | None,
    employment_type: str | None,
    education: str | None,
    city: str | None,
    phonebook_count: int | None,
) -> Declared:
    """Check the declared inputs; every one may be left out (the scorecard treats a missing
    value as its own bin), none may be nonsense."""
    income: Fen | None = None
    if monthly_income not in (None, ""):
        assert monthly_income is not None
        income = parse_yuan(monthly_income, field="monthly_income")
        if not 0 <= income <= MAX_MONTHLY_INCOME_FEN:
            raise InvalidValue(
                "monthly_income",
                monthly_income,
                "must be between 0 and 1,000,000 yuan",
                "月收入应在 0 至 100 万元之间",
            )
    if employment_type is not None and employment_type not in EMPLOYMENT:
        raise InvalidValue(
            "employment_type",
            employment_type,
            f"must be one of {', '.join(EMPLOYMENT)}",
            f"应为 {', '.join(EMPLOYMENT)} 之一",
        )
    if education is not None and education not in EDUCATION:
        raise InvalidValue(
            "education",
            education,
            f"must be one of {', '.join(EDUCATION)}",
            f"应为 {', '.join(EDUCATION)} 之一",
        )
    clean_city = city.strip() if city is not None else None
    if clean_city is not None and not 1 <= len(clean_city) <= 32:
        raise InvalidValue("city", city, "must be 1 to 32 characters", "城市名称应为 1 至 32 个字")
    if phonebook_count is not None and not 0 <= phonebook_count <= MAX_PHONEBOOK:
        raise InvalidValue(
            "phonebook_count", phonebook_count, "must be 0 to 100,000", "应在 0 至 100000 之间"
        )
    return Declared(income, employment_type, education, clean_city or None, phonebook_count)
