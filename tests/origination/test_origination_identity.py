"""Resident ID numbers (GB 11643-1999) and the borrower's age."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xindai.errors import InvalidValue
from xindai.origination.identity import (
    PROVINCES,
    SAMPLE_REGION_CODES,
    AgeOutOfRange,
    Gender,
    IdBirthDateError,
    IdCheckDigitError,
    IdFormatError,
    IdRegionError,
    ResidentIdError,
    age_on,
    build_resident_id,
    check_age,
    check_char,
    has_valid_check_char,
    parse_resident_id,
    valid_sample_ids,
)

AS_OF = date(2026, 1, 1)


def with_check(first17: str) -> str:
    return first17 + check_char(first17)


# --- valid numbers -------------------------------------------------------------------------


def test_the_standards_example_with_an_x_check_character() -> None:
    parsed = parse_resident_id("11010519491231002X", AS_OF)
    assert parsed.number == "11010519491231002X"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.gender is Gender.FEMALE  # 17th digit 2 is even
    assert parsed.region_code == "110105"
    assert parsed.province_code == "11"
    assert parsed.province_name == "北京市"
    assert parsed.masked == "110105********002X"


def test_lower_case_x_spaces_and_full_width_digits_are_normalised() -> None:
    assert parse_resident_id(" 110105 19491231 002x ", AS_OF).number == "11010519491231002X"
    full_width = "１１０１０５１９４９１２３１００２Ｘ"
    assert parse_resident_id(full_width, AS_OF).number == "11010519491231002X"


def test_gender_from_the_seventeenth_digit() -> None:
    male = with_check("11010119900307001")
    female = with_check("11010119900307002")
    assert parse_resident_id(male, AS_OF).gender is Gender.MALE
    assert parse_resident_id(female, AS_OF).gender is Gender.FEMALE
    assert Gender.MALE.label_zh == "男"


def test_sample_ids_are_valid_deterministic_and_include_x() -> None:
    ids = valid_sample_ids(7, 200)
    assert ids == valid_sample_ids(7, 200)
    assert ids != valid_sample_ids(8, 200)
    assert len(set(ids)) == 200
    assert any(number.endswith("X") for number in ids)
    for number in ids:
        parsed = parse_resident_id(number, AS_OF)
        assert parsed.region_code in SAMPLE_REGION_CODES
        assert date(1970, 1, 1) <= parsed.birth_date <= date(2003, 12, 31)


def test_sample_ids_respect_the_birth_range() -> None:
    for number in valid_sample_ids(1, 20, born_from=date(2000, 1, 1), born_to=date(2000, 1, 31)):
        assert parse_resident_id(number, AS_OF).birth_date.strftime("%Y%m") == "200001"


# --- every failure code --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1101051949123100",  # 16 characters
        "11010519491231002XX",  # 19
        "1101051949X231002X",  # X inside
        "11010519491231002A",
        "110105194912310",  # 15-digit first-generation number
    ],
)
def test_format_errors(text: str) -> None:
    with pytest.raises(IdFormatError) as caught:
        parse_resident_id(text, AS_OF)
    assert caught.value.code == "ID_FORMAT"
    assert isinstance(caught.value, ResidentIdError)


def test_fifteen_digit_numbers_get_a_specific_message() -> None:
    with pytest.raises(IdFormatError, match="15-digit") as caught:
        parse_resident_id("110105491231002", AS_OF)
    assert "15 位" in caught.value.message_zh


def test_check_digit_error() -> None:
    with pytest.raises(IdCheckDigitError) as caught:
        parse_resident_id("110105194912310028", AS_OF)
    assert caught.value.code == "ID_CHECK_DIGIT"
    assert "110105194912310028" not in str(caught.value)  # the number is masked
    assert "110105********0028" in str(caught.value)


@pytest.mark.parametrize("province", ["00", "10", "16", "20", "30", "47", "55", "66", "72", "99"])
def test_region_errors(province: str) -> None:
    with pytest.raises(IdRegionError) as caught:
        parse_resident_id(with_check(f"{province}0101199003070011"[:17]), AS_OF)
    assert caught.value.code == "ID_REGION"


@pytest.mark.parametrize("province", sorted(PROVINCES))
def test_every_province_code_is_accepted(province: str) -> None:
    assert parse_resident_id(with_check(f"{province}010119900307001"), AS_OF).province_code == (
        province
    )


@pytest.mark.parametrize(
    "birth",
    [
        "20050229",  # not a leap year
        "19001301",  # month 13
        "19900001",  # month 0
        "19900431",  # April 31
        "18991231",  # before 1900
        "20260102",  # after the business date
    ],
)
def test_birth_date_errors(birth: str) -> None:
    with pytest.raises(IdBirthDateError) as caught:
        parse_resident_id(with_check(f"110101{birth}001"), AS_OF)
    assert caught.value.code == "ID_BIRTH_DATE"


def test_the_standards_1880_example_is_refused_as_before_1900() -> None:
    assert has_valid_check_char("440524188001010014")
    with pytest.raises(IdBirthDateError):
        parse_resident_id("440524188001010014", AS_OF)


def birth_date_of(first17: str) -> date:
    return parse_resident_id(with_check(first17), AS_OF).birth_date


def test_leap_day_birth_dates() -> None:
    assert birth_date_of("11010120040229001") == date(2004, 2, 29)
    assert birth_date_of("11010120000229001") == date(2000, 2, 29)  # 2000 is divisible by 400
    with pytest.raises(IdBirthDateError):
        birth_date_of("11010119000229001")  # 1900 is not a leap year
    with pytest.raises(IdBirthDateError):
        birth_date_of("11010120250229001")


def test_born_on_the_business_date_is_accepted() -> None:
    assert parse_resident_id(with_check("11010120260101001"), AS_OF).birth_date == AS_OF


# --- age -----------------------------------------------------------------------------------


def test_age_turns_on_the_exact_birthday() -> None:
    birth = date(2008, 3, 10)
    assert age_on(birth, date(2026, 3, 9)) == 17
    assert age_on(birth, date(2026, 3, 10)) == 18
    assert age_on(birth, birth) == 0


def test_a_leap_day_birthday_counts_on_1_march_in_common_years() -> None:
    birth = date(2004, 2, 29)
    assert age_on(birth, date(2022, 2, 28)) == 17
    assert age_on(birth, date(2022, 3, 1)) == 18
    assert age_on(birth, date(2024, 2, 28)) == 19
    assert age_on(birth, date(2024, 2, 29)) == 20


def test_age_before_birth_is_an_error() -> None:
    with pytest.raises(InvalidValue, match="before the birth date"):
        age_on(date(2000, 1, 2), date(2000, 1, 1))


def test_minimum_age_boundary_on_the_birthday() -> None:
    birth = date(2008, 3, 10)
    with pytest.raises(AgeOutOfRange) as caught:
        check_age(birth, date(2026, 3, 9), 18, 60)
    assert caught.value.code == "ID_AGE_OUT_OF_RANGE"
    assert caught.value.value == 17
    assert "17" in str(caught.value) and "18–60" in str(caught.value)
    assert "17 周岁" in caught.value.message_zh
    assert check_age(birth, date(2026, 3, 10), 18, 60) == 18


def test_maximum_age_boundary_on_the_birthday() -> None:
    birth = date(1965, 6, 1)
    assert check_age(birth, date(2026, 5, 31), 18, 60) == 60  # the day before turning 61
    with pytest.raises(AgeOutOfRange, match="61"):
        check_age(birth, date(2026, 6, 1), 18, 60)


def test_leap_day_borrower_turns_eighteen_on_1_march() -> None:
    birth = date(2008, 2, 29)
    with pytest.raises(AgeOutOfRange):
        check_age(birth, date(2026, 2, 28), 18, 60)
    assert check_age(birth, date(2026, 3, 1), 18, 60) == 18


def test_resident_id_age_helper() -> None:
    parsed = parse_resident_id(with_check("11010120080310001"), AS_OF)
    assert parsed.age_on(date(2026, 3, 10)) == 18


def test_build_resident_id_checks_its_inputs() -> None:
    with pytest.raises(InvalidValue, match="6 digits"):
        build_resident_id("1101", date(1990, 1, 1), 1)
    with pytest.raises(InvalidValue, match="1–999"):
        build_resident_id("110101", date(1990, 1, 1), 0)


# --- properties ----------------------------------------------------------------------------

provinces = st.sampled_from(sorted(PROVINCES))
region_codes = st.one_of(
    st.sampled_from(SAMPLE_REGION_CODES),
    st.builds(lambda p, rest: p + rest, provinces, st.from_regex(r"[0-9]{4}", fullmatch=True)),
)
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=AS_OF)


@given(region_codes, birth_dates, st.integers(1, 999))
def test_generated_ids_always_validate(region: str, birth: date, sequence: int) -> None:
    number = build_resident_id(region, birth, sequence)
    parsed = parse_resident_id(number, AS_OF)
    assert parsed.number == number
    assert parsed.birth_date == birth
    assert parsed.region_code == region
    assert parsed.gender is (Gender.MALE if sequence % 2 else Gender.FEMALE)


@given(region_codes, birth_dates, st.integers(1, 999), st.integers(0, 17), st.data())
def test_changing_any_one_character_breaks_the_check(
    region: str, birth: date, sequence: int, position: int, data: st.DataObject
) -> None:
    number = build_resident_id(region, birth, sequence)
    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
    changed = number[:position] + replacement + number[position + 1 :]
    assert not has_valid_check_char(changed)
    with pytest.raises(IdCheckDigitError):
        parse_resident_id(changed, AS_OF)


@given(st.integers(0, 10_000))
def test_sample_ids_validate_for_any_seed(seed: int) -> None:
    for number in valid_sample_ids(seed, 3):
        parse_resident_id(number, AS_OF)
