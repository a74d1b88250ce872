"""Personal names and mainland mobile numbers."""

from __future__ import annotations

import pytest

from xindai.origination.masking import mask_card, mask_id_number, mask_name, mask_phone, redact
from xindai.origination.names import (
    NameInvalid,
    PhoneInvalid,
    is_chinese_name,
    normalise_name,
    normalise_phone,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("张三", "张三"),
        (" 欧阳娜娜 ", "欧阳娜娜"),
        ("王 五", "王五"),
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("阿依古丽•买买提", "阿依古丽·买买提"),  # bullet → middle dot
        ("阿依古丽・买买提", "阿依古丽·买买提"),  # katakana middle dot
        ("王𠇔", "王𠇔"),  # a rare character of CJK Extension B
        ("李" * 20, "李" * 20),
        ("John Smith", "John Smith"),
        ("  John   SMITH ", "John SMITH"),
        ("Ｊｏｈｎ Ｓｍｉｔｈ", "John Smith"),  # full-width letters
    ],
)
def test_valid_names(text: str, expected: str) -> None:
    assert normalise_name(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "张",  # too short
        "李" * 21,  # too long
        "张三1",
        "·张三",
        "张三·",
        "张··三",
        "张三 Smith",  # mixed scripts
        "John3",
        "J",
        "O'Brien",
        "<script>",
        "A" * 61,
    ],
)
def test_invalid_names(text: str) -> None:
    with pytest.raises(NameInvalid) as caught:
        normalise_name(text)
    assert caught.value.code == "NAME_INVALID"
    assert caught.value.message_zh


def test_name_field_is_named_in_the_error() -> None:
    with pytest.raises(NameInvalid) as caught:
        normalise_name("张", field="contacts[0].name")
    assert caught.value.field == "contacts[0].name"


def test_is_chinese_name() -> None:
    assert is_chinese_name("张三")
    assert not is_chinese_name("John Smith")


@pytest.mark.parametrize(
    "text",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 138-0013-8000",
        "+8613800138000",
        "0086 13800138000",
        "8613800138000",
        "(+86) 13800138000",
        "１３８００１３８０００",
    ],
)
def test_phone_normalisation(text: str) -> None:
    assert normalise_phone(text) == "13800138000"


@pytest.mark.parametrize("prefix", ["13", "14", "15", "16", "17", "18", "19"])
def test_every_mobile_prefix(prefix: str) -> None:
    assert normalise_phone(f"{prefix}912345678") == f"{prefix}912345678"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12800138000",  # 12 is not a mobile prefix
        "10086",
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "+1 415 555 0100",
        "010-12345678",  # a landline
        "1380013800a",
        "+87 13800138000",
    ],
)
def test_invalid_phones(text: str) -> None:
    with pytest.raises(PhoneInvalid) as caught:
        normalise_phone(text)
    assert caught.value.code == "PHONE_INVALID"


def test_masks() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_card("6222021234567890123") == "622202*********0123"
    assert mask_card("6222 0212 3456 7890") == "622202******7890"
    assert redact("abcdefgh") == "abc***gh"
    assert redact("abc") == "***"
