"""Bank cards: format, Luhn, bank by BIN (longest prefix), debit only."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xindai.errors import InvalidValue
from xindai.origination import bank_bins
from xindai.origination.cards import (
    Bank,
    BinEntry,
    BinTable,
    CardBankUnsupported,
    CardCreditRefused,
    CardFormatError,
    CardKind,
    CardLuhnError,
    bin_table,
    card_bank,
    card_bin,
    luhn_check_digit,
    luhn_valid,
    normalise_card_number,
    parse_card,
    valid_sample_card,
)


def with_luhn(body: str) -> str:
    return body + luhn_check_digit(body)


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("79927398713", True),  # the textbook example
        ("79927398710", False),
        ("4111111111111111", True),
        ("4111111111111112", False),
        ("5555555555554444", True),
        ("0", True),
        ("", False),
        ("1234a", False),
    ],
)
def test_luhn_vectors(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


def test_luhn_check_digit() -> None:
    assert luhn_check_digit("7992739871") == "3"
    assert luhn_check_digit("411111111111111") == "1"


@pytest.mark.parametrize(
    ("prefix", "bank"),
    [
        ("622202", "ICBC"),
        ("621700", "CCB"),
        ("436742", "CCB"),
        ("622848", "ABC"),
        ("103", "ABC"),
        ("621661", "BOC"),
        ("456351", "BOC"),
        ("622260", "BOCOM"),
        ("601428", "BOCOM"),
        ("621483", "CMB"),
        ("622588", "CMB"),
        ("621799", "PSBC"),
        ("622188", "PSBC"),
        ("622690", "CITIC"),
        ("622660", "CEB"),
        ("622622", "CMBC"),
        ("622521", "SPDB"),
        ("622908", "CIB"),
        ("623058", "PAB"),
        ("622630", "HXB"),
        ("622568", "GDB"),
    ],
)
def test_debit_bins_of_the_major_banks(prefix: str, bank: str) -> None:
    entry = bin_table().lookup(prefix + "0" * 13)
    assert entry is not None
    assert entry.bank.code == bank
    assert entry.kind is CardKind.DEBIT


def test_bank_names() -> None:
    bank = card_bank("6222020000000000000")
    assert bank == Bank(
        "ICBC", "中国工商银行", "工商银行", "Industrial and Commercial Bank of China"
    )


def test_parse_card_with_spaces() -> None:
    number = with_luhn("622848040256489001")
    spaced = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    card = parse_card(spaced)
    assert card.number == number
    assert card.bank.code == "ABC"
    assert card.entry.length == 19
    assert card.last4 == number[-4:]
    assert card.masked == f"622848*********{number[-4:]}"


def test_436742_is_a_ccb_debit_card_and_436745_a_ccb_credit_card() -> None:
    assert parse_card(with_luhn("436742000000000000")).bank.code == "CCB"
    with pytest.raises(CardCreditRefused) as caught:
        parse_card(with_luhn("436745000000000"))
    assert caught.value.code == "CARD_CREDIT_REFUSED"
    assert "建设银行" in caught.value.message_zh


@pytest.mark.parametrize(
    "text",
    [
        "6222-0212-3456-7890",  # dashes are not accepted
        "622202123456789",  # 15 digits
        "62220212345678901234",  # 20 digits
        "6222O21234567890",  # letter O
        "",
    ],
)
def test_format_errors(text: str) -> None:
    with pytest.raises(CardFormatError) as caught:
        normalise_card_number(text)
    assert caught.value.code == "CARD_FORMAT"


def test_luhn_error_masks_the_number() -> None:
    number = with_luhn("622202123456789012")
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    with pytest.raises(CardLuhnError) as caught:
        parse_card(wrong)
    assert caught.value.code == "CARD_LUHN"
    assert wrong not in str(caught.value)
    assert "622202" in str(caught.value)


def test_unknown_bin_is_unsupported() -> None:
    number = with_luhn("620000123456789")
    assert card_bank(number) is None
    assert card_bin(number) is None
    with pytest.raises(CardBankUnsupported) as caught:
        parse_card(number)
    assert caught.value.code == "CARD_BANK_UNSUPPORTED"


def test_full_width_digits() -> None:
    number = with_luhn("622202123456789012")
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)
    assert normalise_card_number(full_width) == number


# --- the BIN table -------------------------------------------------------------------------

BANK_A = Bank("A", "甲银行", "甲银行", "Bank A")
BANK_B = Bank("B", "乙银行", "乙银行", "Bank B")
BANK_C = Bank("C", "丙银行", "丙银行", "Bank C")


def test_longest_prefix_wins() -> None:
    table = BinTable(
        [
            BinEntry("62", BANK_A, CardKind.DEBIT, 16),
            BinEntry("6222", BANK_B, CardKind.DEBIT, 19),
            BinEntry("622202", BANK_C, CardKind.CREDIT, 16),
        ]
    )
    assert card_bank("6299000000000000", table) == BANK_A
    assert card_bank("6222990000000000", table) == BANK_B
    assert card_bank("6222020000000000", table) == BANK_C
    assert card_bank("6122020000000000", table) is None
    assert table.lookup("62") == table.lookup("6200")
    assert len(table) == 3


def test_a_prefix_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        BinTable([BinEntry("62", BANK_A, CardKind.DEBIT, 16)] * 2)
    with pytest.raises(ValueError, match="digits"):
        BinTable([BinEntry("62x", BANK_A, CardKind.DEBIT, 16)])


def test_default_table_covers_every_bank_with_debit_and_credit_bins() -> None:
    table = bin_table()
    assert set(table.banks) == set(bank_bins.BANKS)
    for code in bank_bins.BANKS:
        kinds = {e.kind for e in table.entries() if e.bank.code == code}
        assert kinds == {CardKind.DEBIT, CardKind.CREDIT}, code
    for entry in table.entries():
        assert 16 <= entry.length <= 19
        assert len(entry.prefix) < entry.length


def test_sample_cards_are_deterministic() -> None:
    assert valid_sample_card("ICBC", 1) == valid_sample_card("ICBC", 1)
    assert valid_sample_card("ICBC", 1) != valid_sample_card("ICBC", 2)
    credit = valid_sample_card("CMB", 3, kind=CardKind.CREDIT)
    with pytest.raises(CardCreditRefused):
        parse_card(credit)
    with pytest.raises(InvalidValue, match="no debit BIN"):
        valid_sample_card("NOPE", 1)


# --- properties ----------------------------------------------------------------------------

bank_codes = st.sampled_from(sorted(bank_bins.BANKS))


@given(bank_codes, st.integers(0, 10**9))
def test_sample_cards_always_validate(bank: str, seed: int) -> None:
    number = valid_sample_card(bank, seed)
    card = parse_card(number)
    assert card.bank.code == bank
    assert len(number) == card.entry.length


@given(bank_codes, st.integers(0, 10**9), st.data())
def test_changing_any_one_digit_breaks_the_luhn_check(
    bank: str, seed: int, data: st.DataObject
) -> None:
    number = valid_sample_card(bank, seed)
    position = data.draw(st.integers(0, len(number) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != number[position]]))
    changed = number[:position] + digit + number[position + 1 :]
    assert not luhn_valid(changed)
    with pytest.raises(CardLuhnError):
        parse_card(changed)
