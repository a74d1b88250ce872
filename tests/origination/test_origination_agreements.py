"""Agreement texts as versioned data, and loan purposes."""

from __future__ import annotations

import pytest

from xindai.origination.agreements import (
    DEFAULT_AGREEMENTS,
    REGISTRATION_AGREEMENTS,
    AgreementCode,
    AgreementUnknown,
    agreement,
)
from xindai.origination.purposes import LoanPurpose, PurposeInvalid, parse_purpose


def test_three_default_agreements_at_version_one() -> None:
    assert {(a.code, a.version) for a in DEFAULT_AGREEMENTS} == {
        (AgreementCode.USER_AGREEMENT, 1),
        (AgreementCode.DATA_AUTHORISATION, 1),
        (AgreementCode.LOAN_CONTRACT, 1),
    }
    assert REGISTRATION_AGREEMENTS == (
        AgreementCode.USER_AGREEMENT,
        AgreementCode.DATA_AUTHORISATION,
    )


@pytest.mark.parametrize("item", DEFAULT_AGREEMENTS, ids=lambda a: a.code.value)
def test_agreement_texts_fit_the_store(item: object) -> None:
    from xindai.origination.agreements import Agreement

    assert isinstance(item, Agreement)
    assert len(item.code.value) <= 32 and len(item.title) <= 128
    body = item.body_zh
    assert body.startswith(item.title_zh)
    assert "第一条" in body and f"版本 v{item.version}" in body
    assert item.summary_en and "English summary" in item.body
    assert "  " not in item.summary_en


def test_titles_and_key_content() -> None:
    assert agreement("user_agreement").title == "用户协议 User Agreement"
    authorisation = agreement(AgreementCode.DATA_AUTHORISATION).body_zh
    assert "敏感个人信息" in authorisation and "征信" in authorisation
    contract = agreement(AgreementCode.LOAN_CONTRACT, 1)
    text = contract.body_zh
    for words in ("综合年化成本", "购房", "提前", "罚息", "电子签名法", "争议"):
        assert words in text
    numbers = [number for number, _ in contract.numbered_clauses()]
    assert numbers[:3] == ["第一条", "第二条", "第三条"]
    assert numbers[9:12] == ["第十条", "第十一条", "第十二条"]


def test_unknown_agreement_or_version() -> None:
    with pytest.raises(AgreementUnknown) as caught:
        agreement("privacy_policy")
    assert caught.value.code == "AGREEMENT_UNKNOWN"
    with pytest.raises(AgreementUnknown, match="v2"):
        agreement(AgreementCode.USER_AGREEMENT, 2)


def test_newest_version_is_the_default() -> None:
    from dataclasses import replace

    newer = replace(DEFAULT_AGREEMENTS[0], version=2)
    assert agreement("user_agreement", agreements=(*DEFAULT_AGREEMENTS, newer)).version == 2
    assert agreement("user_agreement", 1, (*DEFAULT_AGREEMENTS, newer)).version == 1


# --- purposes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "purpose"),
    [
        ("消费", LoanPurpose.CONSUMPTION),
        ("education", LoanPurpose.EDUCATION),
        (" 医疗 ", LoanPurpose.MEDICAL),
        ("装修", LoanPurpose.HOME_IMPROVEMENT),
        ("TRAVEL", LoanPurpose.TRAVEL),
        ("其他", LoanPurpose.OTHER),
        (LoanPurpose.MEDICAL, LoanPurpose.MEDICAL),
    ],
)
def test_allowed_purposes(text: str, purpose: LoanPurpose) -> None:
    assert parse_purpose(text) is purpose


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("买房首付", "property"),
        ("购房", "property"),
        ("炒股", "investment"),
        ("买基金理财", "investment"),
        ("invest in stocks", "investment"),
        ("赌博", "unlawful"),
    ],
)
def test_prohibited_purposes(text: str, reason: str) -> None:
    with pytest.raises(PurposeInvalid, match=reason) as caught:
        parse_purpose(text)
    assert caught.value.code == "PURPOSE_INVALID"
    assert "不得用于" in caught.value.message_zh


def test_unknown_purpose() -> None:
    with pytest.raises(PurposeInvalid, match="must be one of") as caught:
        parse_purpose("wedding")
    assert caught.value.code == "PURPOSE_INVALID"
    assert [p.label_zh for p in LoanPurpose] == ["消费", "教育", "医疗", "装修", "旅游", "其他"]
