"""Loan purposes (借款用途) a borrower may declare for a consumer cash loan.

Consumer loans may not fund buying a home or repaying a mortgage, nor investment in stocks,
bonds, futures, financial derivatives or asset-management products (the 2020 CBIRC interim
measures on internet loans, art. 27), nor any unlawful use; the contract repeats this and the
borrower undertakes it.
"""

from __future__ import annotations

from enum import StrEnum

from xindai.errors import InvalidValue


class PurposeInvalid(InvalidValue):
    code = "PURPOSE_INVALID"


class LoanPurpose(StrEnum):
    CONSUMPTION = "consumption"  # 消费 (daily consumption, household goods)
    EDUCATION = "education"  # 教育
    MEDICAL = "medical"  # 医疗
    HOME_IMPROVEMENT = "home_improvement"  # 装修
    TRAVEL = "travel"  # 旅游
    OTHER = "other"  # 其他 (a lawful personal consumption purpose)

    @property
    def label_zh(self) -> str:
        return _PURPOSE_ZH[self]


_PURPOSE_ZH = {
    LoanPurpose.CONSUMPTION: "消费",
    LoanPurpose.EDUCATION: "教育",
    LoanPurpose.MEDICAL: "医疗",
    LoanPurpose.HOME_IMPROVEMENT: "装修",
    LoanPurpose.TRAVEL: "旅游",
    LoanPurpose.OTHER: "其他",
}
_PURPOSE_BY_LABEL = {label: purpose for purpose, label in _PURPOSE_ZH.items()}

#: Uses a consumer loan may not fund, with the words a borrower might type for them.
PROHIBITED_PURPOSES: dict[str, tuple[str, ...]] = {
    "购房 property purchase": ("购房", "买房", "首付", "房产", "property", "house", "mortgage"),
    "投资 investment": (
        "投资",
        "股票",
        "炒股",
        "证券",
        "期货",
        "基金",
        "理财",
        "债券",
        "衍生品",
        "invest",
        "stock",
        "securities",
        "futures",
    ),
    "赌博等违法用途 unlawful use": ("赌", "gambl", "博彩", "彩票"),
}


def parse_purpose(text: str | LoanPurpose, *, field: str = "purpose") -> LoanPurpose:
    """A purpose from its key (`medical`) or Chinese label (`医疗`) → `PURPOSE_INVALID`,
    with a specific message when the text names a prohibited use."""
    if isinstance(text, LoanPurpose):
        return text
    cleaned = str(text).strip()
    purpose = _PURPOSE_BY_LABEL.get(cleaned)
    if purpose is not None:
        return purpose
    try:
        return LoanPurpose(cleaned.lower())
    except ValueError:
        pass
    lowered = cleaned.lower()
    for prohibited, words in PROHIBITED_PURPOSES.items():
        if any(word in lowered for word in words):
            raise PurposeInvalid(
                field,
                text,
                f"a consumer loan may not be used for {prohibited.split(' ', 1)[1]}",
                f"消费贷款不得用于{prohibited.split(' ', 1)[0]}",
            )
    allowed = "、".join(f"{p.label_zh} {p.value}" for p in LoanPurpose)
    raise PurposeInvalid(
        field, text, f"must be one of: {allowed}", f"借款用途应为以下之一：{allowed}"
    )
