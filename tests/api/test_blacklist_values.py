"""Blacklist values are validated for their kind over the admin API: a real resident ID, a
mainland mobile (for the phone and contact-phone lists), a Luhn-valid card, a device token;
a refusal names the validator's code and never repeats the raw value."""

from __future__ import annotations

import pytest

from xindai.origination.cards import valid_sample_card
from xindai.origination.identity import valid_sample_ids

from .conftest import Local

PATH = "/api/v1/admin/blacklist"
[ID_NUMBER] = valid_sample_ids(seed=77, count=1)
CARD = valid_sample_card("ICBC", 77)
WRONG_CHECK = ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1")
BAD_LUHN = CARD[:-1] + str((int(CARD[-1]) + 1) % 10)


@pytest.mark.parametrize(
    ("kind", "value", "code"),
    [
        ("id_number", "x", "ID_FORMAT"),
        ("id_number", "110101199003074", "ID_FORMAT"),  # 15 digits: first generation
        ("id_number", WRONG_CHECK, "ID_CHECK_DIGIT"),
        ("id_number", "99" + ID_NUMBER[2:], "ID_CHECK_DIGIT"),
        ("phone", "x", "PHONE_INVALID"),
        ("phone", "12345678901", "PHONE_INVALID"),
        ("contact_phone", "010-12345678", "PHONE_INVALID"),
        ("card", "x", "CARD_FORMAT"),
        ("card", "6222", "CARD_FORMAT"),
        ("card", BAD_LUHN, "CARD_LUHN"),
        ("device", "x", "INVALID_VALUE"),
        ("device", "two words here", "INVALID_VALUE"),
        ("device", "dev\x00ice-1", "INVALID_VALUE"),
    ],
)
def test_a_value_not_valid_for_its_kind_is_refused(
    local: Local, kind: str, value: str, code: str
) -> None:
    staff = local.staff_auth("reviewer")
    response = local.client.post(
        PATH, headers=staff, json={"kind": kind, "value": value, "reason": "fraud ring"}
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == code and body["field"] == "value"
    assert body["message"]["zh-CN"] and body["message"]["en"]
    if len(value) > 6:
        assert value not in response.text


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("id_number", ID_NUMBER.lower(), ID_NUMBER[:6] + "********" + ID_NUMBER[-4:]),
        ("phone", "+86 139-1234-0901", "139****0901"),
        ("contact_phone", "１３９１２３４０９０２", "139****0902"),  # full-width digits
        ("card", " ".join([CARD[:4], CARD[4:8], CARD[8:12], CARD[12:]]), None),
        ("device", "3F2B8C1E-7D4A-4C3B-9E8F-0A1B2C3D4E5F", "3f2b****"),
    ],
)
def test_valid_values_of_each_kind_are_listed(
    local: Local, kind: str, value: str, masked: str | None
) -> None:
    staff = local.staff_auth("reviewer")
    response = local.client.post(
        PATH, headers=staff, json={"kind": kind, "value": value, "reason": "fraud ring"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == kind
    if masked is not None:
        assert response.json()["value_masked"] == masked
