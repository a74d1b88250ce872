"""Loan contracts: data from the core objects, HTML (escaped, with the cost disclosure and every
installment) and PDF (a well-formed file, deterministic, with the same content)."""

from __future__ import annotations

import base64
import re
import zlib
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from xindai.errors import InvalidValue
from xindai.money import format_percent, format_yuan
from xindai.origination.cards import parse_card, valid_sample_card
from xindai.origination.contract_data import ContractData, key_terms
from xindai.origination.contracts import (
    contract_data_from,
    render_contract_html,
    render_contract_pdf,
)
from xindai.origination.identity import valid_sample_ids
from xindai.origination.purposes import LoanPurpose
from xindai.products import Product, annualised_cost
from xindai.products.catalogue import demo_products
from xindai.schedules import Schedule, UpfrontFeeMode, build_schedule

SIGNED = date(2026, 1, 15)
ID_NUMBER = valid_sample_ids(3, 1)[0]


def product(code: str) -> Product:
    return next(p for p in demo_products() if p.code == code)


def contract(
    product_code: str = "INST12",
    amount_fen: int = 1_000_000,
    term: int = 12,
    **changes: object,
) -> tuple[ContractData, Schedule]:
    chosen = product(product_code)
    if changes:
        chosen = replace(chosen, **changes)  # type: ignore[arg-type]
    schedule = build_schedule(chosen.schedule_terms(amount_fen, term, SIGNED))
    data = contract_data_from(
        schedule,
        chosen,
        annualised_cost(schedule),
        contract_no="XD20260115-000123",
        lender_name="示例小额贷款有限公司",
        borrower_name="张三丰",
        borrower_id_number=ID_NUMBER,
        signing_date=SIGNED,
        purpose=LoanPurpose.EDUCATION,
        payout_card=parse_card(valid_sample_card("CMB", 5)),
        borrower_phone="13800138000",
    )
    return data, schedule


# --- the data ------------------------------------------------------------------------------


def test_contract_data_from_the_core_objects() -> None:
    data, schedule = contract()
    cost = annualised_cost(schedule)
    assert data.apr_nominal == cost.nominal and data.apr_effective == cost.effective
    assert data.borrower_name_masked == "张**"
    assert data.borrower_id_masked == f"{ID_NUMBER[:6]}********{ID_NUMBER[14:]}"
    assert data.borrower_phone_masked == "138****8000"
    assert data.payout_account is not None and data.payout_account.startswith("招商银行 ")
    assert data.installments == schedule.installments
    assert data.maturity_date == schedule.installments[-1].due_date
    assert data.total_repayment_fen == schedule.total_payment_fen
    assert data.total_cost_fen == schedule.total_cost_fen
    assert data.terms.version == 1


@pytest.mark.parametrize("mode", list(UpfrontFeeMode))
def test_fees_include_the_upfront_fee_in_every_mode(mode: UpfrontFeeMode) -> None:
    data, schedule = contract(upfront_fee_rate=Decimal("0.02"), upfront_fee_mode=mode)
    assert data.upfront_fee_fen == 20_000
    assert data.total_cost_fen == schedule.total_cost_fen
    assert data.total_fees_fen == data.total_cost_fen - data.total_interest_fen
    deducted = mode is UpfrontFeeMode.DEDUCT
    assert data.disbursed_fen == 1_000_000 - (20_000 if deducted else 0)
    rows = dict(key_terms(data))
    assert "头息 Upfront fee" in rows
    assert ("砍头息" in rows["头息 Upfront fee"]) is deducted


def test_schedule_must_follow_the_product() -> None:
    _, schedule = contract()
    other = product("FLAT6")
    with pytest.raises(InvalidValue, match="does not follow product"):
        contract_data_from(
            schedule,
            other,
            annualised_cost(schedule),
            contract_no="X1",
            lender_name="L",
            borrower_name="张三",
            borrower_id_number=ID_NUMBER,
            signing_date=SIGNED,
        )


def test_unknown_terms_version_is_refused() -> None:
    _, schedule = contract()
    with pytest.raises(InvalidValue):
        contract_data_from(
            schedule,
            product("INST12"),
            annualised_cost(schedule),
            contract_no="X1",
            lender_name="L",
            borrower_name="张三",
            borrower_id_number=ID_NUMBER,
            signing_date=SIGNED,
            agreement_version=9,
        )


# --- HTML ----------------------------------------------------------------------------------


def test_html_has_the_disclosure_and_every_installment() -> None:
    data, schedule = contract()
    html = render_contract_html(data)
    assert html.startswith("<!DOCTYPE html>")
    disclosure = html[html.index('id="apr-disclosure"') :]
    disclosure = disclosure[: disclosure.index("</section>")]
    assert "综合年化成本" in disclosure and "IRR" in disclosure
    assert format_percent(data.apr_nominal) in disclosure
    assert format_percent(data.apr_effective) in disclosure
    assert html.count('<tr class="installment">') == len(schedule.installments) == 12
    for installment in schedule.installments:
        assert f"<td>{installment.due_date.isoformat()}</td>" in html
        assert format_yuan(installment.total_fen, thousands=True) in html
    assert format_yuan(schedule.total_payment_fen, thousands=True) in html
    for words in ("逾期与罚息", "提前结清", "借款用途", "教育", "第十二条", "借款合同 v1"):
        assert words in html
    assert ID_NUMBER not in html and "张三丰" not in html  # only masked forms


def test_html_escapes_every_value() -> None:
    data, _ = contract()
    hostile = replace(
        data,
        lender_name="<script>alert('x')</script>",
        product_name='Loan "A" & <b>B</b>',
        contract_no="<img src=x onerror=alert(1)>",
        borrower_name_masked="<*",
    )
    html = render_contract_html(hostile)
    assert "<script>" not in html and "<img" not in html and "<b>B" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "Loan &#34;A&#34; &amp; &lt;b&gt;B&lt;/b&gt;" in html
    assert "&lt;*" in html


def test_bullet_contract_html() -> None:
    data, _ = contract("CASH14", 300_000, 14)
    html = render_contract_html(data)
    assert html.count('<tr class="installment">') == 1
    assert "14 天（到期一次性还本付息）" in html
    assert "逾期费 20.00 元" in html


# --- PDF -----------------------------------------------------------------------------------


def _literal_strings(stream: bytes) -> list[tuple[str, bytes]]:
    """(font resource, raw bytes) of every string shown with Tj, in order."""
    shown: list[tuple[str, bytes]] = []
    font = ""
    token = re.compile(rb"/(F\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", re.S)
    for match in token.finditer(stream):
        if match.group(1):
            font = match.group(1).decode()
            continue
        raw = re.sub(
            rb"\\([0-7]{1,3}|.)",
            lambda m: (
                bytes([int(m.group(1), 8)])
                if m.group(1)[:1].isdigit()
                else {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(
                    m.group(1), m.group(1)
                )
            ),
            match.group(2),
            flags=re.S,
        )
        shown.append((font, raw))
    return shown


def read_pdf(pdf: bytes) -> tuple[int, str]:
    """Check the file's structure like a reader would and return (pages, text)."""
    assert pdf.startswith(b"%PDF-1.")
    assert pdf.rstrip().endswith(b"%%EOF")
    startxref = re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", pdf)
    assert startxref is not None
    xref_at = int(startxref.group(1))
    assert pdf[xref_at:].startswith(b"xref")
    header = re.match(rb"xref\s+0 (\d+)\s+", pdf[xref_at:])
    assert header is not None
    size = int(header.group(1))
    table = pdf[xref_at + header.end() : xref_at + header.end() + 20 * size]
    for number in range(1, size):  # every object is where the cross-reference table says
        offset = int(table[20 * number : 20 * number + 10])
        assert pdf[offset:].startswith(f"{number} 0 obj".encode()), number
    trailer = pdf[xref_at + header.end() + 20 * size :]
    assert re.search(rb"/Root \d+ 0 R", trailer) and f"/Size {size}".encode() in trailer
    counts = re.findall(rb"/Count (\d+)", pdf)
    pages = len(re.findall(rb"/Type /Page\b(?!s)", pdf))
    assert counts == [str(pages).encode()]
    fonts = dict(re.findall(rb"/(F\d+) (\d+) 0 R", pdf))
    cjk = {
        name.decode()
        for name, obj in fonts.items()
        if re.search(rb"\n" + obj + rb" 0 obj\s*<<\s*/BaseFont /STSong-Light", pdf)
    }
    assert cjk, "the CJK CID font is used"
    assert b"/Encoding /UniGB-UCS2-H" in pdf
    lines: list[str] = []
    for stream in re.finditer(rb"<<([^>]*?)>>\s*stream\r?\n(.*?)endstream", pdf, re.S):
        filters, data = stream.group(1), stream.group(2)
        if b"/ASCII85Decode" in filters:
            data = base64.a85decode(data.strip(), adobe=True)
        if b"/FlateDecode" in filters:
            data = zlib.decompress(data)
        for font, raw in _literal_strings(data):
            lines.append(raw.decode("utf-16-be") if font in cjk else raw.decode("latin-1"))
    return pages, "\n".join(lines)


def test_pdf_is_well_formed_with_the_contract_text() -> None:
    data, schedule = contract()
    pages, text = read_pdf(render_contract_pdf(data))
    assert pages >= 2
    # every page carries its number in the footer
    assert sorted(int(n) for n in re.findall(r"第 (\d+) 页", text)) == list(range(1, pages + 1))
    assert "借款合同" in text and data.contract_no in text
    assert "综合年化成本" in text and format_percent(data.apr_nominal) in text
    for installment in schedule.installments:
        assert installment.due_date.isoformat() in text
        assert format_yuan(installment.total_fen, thousands=True) in text
    assert data.borrower_id_masked in text and ID_NUMBER not in text


def test_pdf_is_deterministic() -> None:
    data, _ = contract()
    first = render_contract_pdf(data)
    assert render_contract_pdf(data) == first
    assert render_contract_pdf(replace(data, contract_no="XD-OTHER")) != first


def test_the_pdf_font_measures_as_reportlab_does() -> None:
    """The contract's CJK font remembers one-character widths (rendering is faster): they
    are the widths reportlab's own font gives, for one character or many, asked twice."""
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]

    from xindai.origination.contract_pdf import CJK_FONT, _CidFont

    plain, remembering = UnicodeCIDFont(CJK_FONT), _CidFont(CJK_FONT)
    for text in [
        *"借款合同编号 XD0000000123：年化 23.99%，人民币¥1,500.00（元）ABCxyz",
        "借款合同 No.7",
    ]:
        for size in (7.5, 8, 8.5, 9, 18):
            expected = plain.stringWidth(text, size)
            assert remembering.stringWidth(text, size) == expected
            assert remembering.stringWidth(text, size) == expected


def test_long_schedules_take_more_pages() -> None:
    short, _ = contract("INST12", 1_000_000, 3)
    twelve = contract("INST12", 1_000_000, 12)[0].installments
    long = replace(short, installments=twelve * 8)  # 96 rows
    short_pages, _ = read_pdf(render_contract_pdf(short))
    long_pages, text = read_pdf(render_contract_pdf(long))
    assert long_pages > short_pages
    # the schedule's header row repeats on every page the table spans
    assert text.count("期数 No.") >= 2


def test_pdf_escapes_markup_in_values() -> None:
    data, _ = contract()
    hostile = replace(data, lender_name="<b>A & B</b> <font size=40>x</font>")
    _, text = read_pdf(render_contract_pdf(hostile))
    assert "<b>A & B</b> <font size=40>x</font>" in text


def test_fixed_wording_cache_gives_the_bytes_of_a_cold_render() -> None:
    """The general terms are parsed and broken into lines once and shared between
    contracts: contracts of different lengths (their clauses split across pages at
    different places) rendered in turn give the bytes each gives with nothing cached."""
    from xindai.origination import contract_pdf

    short, _ = contract("INST12", 1_000_000, 3)
    twelve = contract("INST12", 1_000_000, 12)[0].installments
    contracts = [short, replace(short, installments=twelve * 3), replace(short, contract_no="X1")]
    cold = []
    for data in contracts:
        contract_pdf._FIXED.clear()
        contract_pdf._FixedParagraph._lines.clear()
        cold.append(render_contract_pdf(data))
    warm = [render_contract_pdf(data) for data in contracts + contracts[::-1]]
    assert warm == cold + cold[::-1]
    assert contract_pdf._FIXED, "the fixed wording was cached"
