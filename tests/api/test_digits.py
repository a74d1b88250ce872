"""One digit rule for every amount and number (`xindai.digits`): ASCII digits, full-width
digits read as the same, every other digit refused — over HTTP against the real server, and
for the parsers the routes call."""

from __future__ import annotations

from datetime import date

import pytest

from xindai.digits import ascii_digits, foreign_digit
from xindai.money import parse_rate, parse_yuan
from xindai.origination.cards import normalise_card_number, valid_sample_card
from xindai.origination.identity import parse_resident_id, valid_sample_ids
from xindai.origination.names import normalise_phone

from .conftest import Live

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
OTHERS = {  # digits that int(), Decimal(), NFKC or `\d` would each read as 0–9
    "arabic-indic": str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"),
    "extended arabic-indic": str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"),
    "devanagari": str.maketrans("0123456789", "०१२३४५६७८९"),
    "circled": str.maketrans("0123456789", "⓪①②③④⑤⑥⑦⑧⑨"),
    "mathematical bold": str.maketrans("0123456789", "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗"),
    "superscript": str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"),
}


def test_the_rule() -> None:
    assert ascii_digits("3000.50") == "3000.50"
    assert ascii_digits("３０００.５０") == "3000.50"
    for table in OTHERS.values():
        assert ascii_digits("3000".translate(table)) is None
        assert foreign_digit("12" + "3".translate(table)) == "3".translate(table)
    assert foreign_digit("张三 abc -+.,") is None


@pytest.mark.parametrize("script", sorted(OTHERS))
def test_every_parser_refuses_other_digits_and_reads_full_width(script: str) -> None:
    other = OTHERS[script]
    card = valid_sample_card("ICBC", 3)
    [id_number] = valid_sample_ids(seed=5, count=1)
    as_of = date(2026, 1, 1)
    readers = (
        (lambda text: parse_yuan(text), "3000.50", 300050, "INVALID_VALUE"),
        (lambda text: str(parse_rate(text)), "18%", "0.18", "INVALID_VALUE"),
        (normalise_phone, "13812345678", "13812345678", "PHONE_INVALID"),
        (normalise_card_number, card, card, "CARD_FORMAT"),
        (lambda text: parse_resident_id(text, as_of).number, id_number, id_number, "ID_FORMAT"),
    )
    for read, text, expected, code in readers:
        assert read(text) == expected
        assert read(text.translate(FULL_WIDTH)) == expected
        with pytest.raises(Exception) as refused:
            read(text.translate(other))
        assert getattr(refused.value, "code", None) == code, (text, script)


@pytest.mark.e2e
def test_amounts_over_http(live: Live) -> None:
    quote = {"product": "INST12", "term": 3}
    ascii_quote = live.api.post("/api/v1/borrower/quote", json={**quote, "amount": "3000"})
    assert ascii_quote.status_code == 200, ascii_quote.text
    full = live.api.post("/api/v1/borrower/quote", json={**quote, "amount": "３０００"})
    assert full.status_code == 200 and full.json() == ascii_quote.json()
    for script, table in OTHERS.items():
        response = live.api.post(
            "/api/v1/borrower/quote", json={**quote, "amount": "3000".translate(table)}
        )
        assert response.status_code == 400, (script, response.text)
        assert response.json()["code"] == "INVALID_VALUE" and response.json()["field"] == "amount"


@pytest.mark.e2e
def test_whole_numbers_in_bodies_paths_and_queries(live: Live) -> None:
    quote = {"product": "INST12", "amount": "3000"}
    assert live.api.post("/api/v1/borrower/quote", json={**quote, "term": "３"}).status_code == 200
    for term in ("1_2", "٣", "3.0", "³"):
        response = live.api.post("/api/v1/borrower/quote", json={**quote, "term": term})
        assert response.status_code == 422, (term, response.text)
        assert response.json()["code"] == "VALIDATION_ERROR"
    auth = live.borrower_auth("13912340201")
    for path in (
        "/api/v1/borrower/loans/1_0",
        "/api/v1/borrower/loans/١",
        "/api/v1/borrower/loans/¹",
    ):
        response = live.api.get(path, headers=auth)
        assert response.status_code == 422, (path, response.text)
    found = live.api.get("/api/v1/borrower/loans/１", headers=auth)
    assert found.status_code == 404  # read as loan 1, which is not this borrower's
    admin = live.staff_auth("reviewer")  # risk: manages credit lines
    assert live.api.get("/api/v1/admin/credit-lines?limit=1_0", headers=admin).status_code == 422
    assert live.api.get("/api/v1/admin/credit-lines?limit=١٠", headers=admin).status_code == 422
    assert live.api.get("/api/v1/admin/credit-lines?limit=１０", headers=admin).status_code == 200


@pytest.mark.e2e
def test_phones_codes_and_id_numbers_over_http(live: Live) -> None:
    phone = "13912340301"
    for table in OTHERS.values():
        response = live.api.post(
            "/api/v1/borrower/auth/code", json={"phone": phone.translate(table)}
        )
        assert response.status_code == 400 and response.json()["code"] == "PHONE_INVALID"
    sent = live.api.post("/api/v1/borrower/auth/code", json={"phone": phone.translate(FULL_WIDTH)})
    assert sent.status_code == 200, sent.text
    code = live.sim.control.last_sms_code(phone)
    refused = live.api.post(
        "/api/v1/borrower/auth/login",
        json={"phone": phone, "code": code.translate(OTHERS["arabic-indic"])},
    )
    assert refused.status_code == 422 and refused.json()["code"] == "VALIDATION_ERROR"
    session = live.api.post(
        "/api/v1/borrower/auth/login", json={"phone": phone, "code": code.translate(FULL_WIDTH)}
    )
    assert session.status_code == 200, session.text
    auth = {"Authorization": f"Bearer {session.json()['token']}"}
    [id_number] = valid_sample_ids(seed=9, count=1)
    kyc = {"name": "张三", "id_front": "aGk=", "id_back": "aGk=", "face": "aGk="}
    for table in (OTHERS["circled"], OTHERS["arabic-indic"]):
        response = live.api.post(
            "/api/v1/borrower/kyc",
            headers=auth,
            json={**kyc, "id_number": id_number.translate(table)},
        )
        assert response.status_code == 400 and response.json()["code"] == "ID_FORMAT", response.text
