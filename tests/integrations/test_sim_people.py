"""The synthetic identifiers: resident ID numbers, Luhn card numbers, phones."""

from __future__ import annotations

from datetime import date

from xindai.integrations.simulators.people import (
    bank_of,
    id_number_valid,
    luhn_valid,
    make_card_number,
    make_id_number,
    make_phone,
    phone_valid,
)


def test_id_numbers_are_valid_and_deterministic() -> None:
    assert id_number_valid("11010519491231002X")  # the GB 11643 standard's example
    assert not id_number_valid("110105194912310021")  # wrong check character
    assert not id_number_valid("110105194902310027")  # 31 February
    numbers = [make_id_number(seed) for seed in range(200)]
    assert all(id_number_valid(number) for number in numbers)
    assert numbers == [make_id_number(seed) for seed in range(200)]
    assert make_id_number("x", birth=date(1990, 5, 17))[6:14] == "19900517"


def test_card_numbers_pass_luhn_with_any_suffix() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    for seed in range(50):
        card = make_card_number(seed, suffix="0000", bin_prefix="622848")
        assert luhn_valid(card) and card.endswith("0000") and len(card) == 16
        assert bank_of(card) == ("ABC", "中国农业银行")
    assert bank_of(make_card_number(1, bin_prefix="123456")) is None  # no such BIN


def test_phones() -> None:
    assert all(phone_valid(make_phone(seed)) for seed in range(100))
    assert not phone_valid("12800138000") and not phone_valid("1380013800")
