"""The loan contract as a PDF (reportlab), with the built-in Adobe CID font STSong-Light so
that Chinese renders without shipping a font file. Rendering is deterministic: the same
contract gives the same bytes (reportlab's invariant mode fixes dates and document ids)."""

from __future__ import annotations

import copy
from functools import cache
from io import BytesIO
from typing import Any, ClassVar
from xml.sax.saxutils import escape

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.enums import TA_CENTER  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from xindai.money import format_percent
from xindai.origination import contract_data as wording
from xindai.origination.contract_data import ContractData

CJK_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"
_RED = colors.HexColor("#c0392b")
_GRID = colors.HexColor("#999999")
_SHADE = colors.HexColor("#f0f0f0")
_WIDTH = A4[0] - 36 * mm


class _CidFont(UnicodeCIDFont):  # type: ignore[misc]
    """STSong-Light whose one-character widths are remembered: reportlab's CJK line breaking
    asks the width of every character of every paragraph, one call each (a sixth of a
    contract's rendering). The same widths, so the same bytes."""

    def __init__(self, face: str):
        super().__init__(face)
        self._widths: dict[tuple[str, float], float] = {}

    def stringWidth(self, text: str, size: float, encoding: str | None = None) -> float:
        if len(text) != 1:
            return float(super().stringWidth(text, size, encoding))
        key = (text, size)
        width = self._widths.get(key)
        if width is None:
            width = self._widths[key] = float(super().stringWidth(text, size, encoding))
        return width


@cache
def _font() -> str:
    pdfmetrics.registerFont(_CidFont(CJK_FONT))
    return CJK_FONT


@cache
def _styles() -> dict[str, ParagraphStyle]:
    font = _font()

    def style(name: str, size: float, **options: object) -> ParagraphStyle:
        return ParagraphStyle(
            name, fontName=font, fontSize=size, leading=size * 1.45, wordWrap="CJK", **options
        )

    return {
        "title": style("title", 18, alignment=TA_CENTER, spaceAfter=2 * mm),
        "subtitle": style("subtitle", 9, alignment=TA_CENTER, textColor=colors.grey),
        "h2": style("h2", 12, spaceBefore=4 * mm, spaceAfter=2 * mm),
        "h3": style("h3", 10, spaceBefore=2 * mm),
        "body": style("body", 9),
        "clause": style("clause", 9, firstLineIndent=18),
        "cell": style("cell", 8.5),
        "apr": style("apr", 13, textColor=_RED),
        "en": ParagraphStyle(
            "en",
            fontName=LATIN_FONT,
            fontSize=7.5,
            leading=10,
            textColor=colors.HexColor("#555555"),
        ),
    }


def _p(text: str, style: str) -> Paragraph:
    # user-supplied text is escaped: Paragraph parses its input as markup
    return Paragraph(escape(text), _styles()[style])


class _FixedParagraph(Paragraph):  # type: ignore[misc]
    """A paragraph of the contract's fixed wording (the general terms: the same for every
    contract of a terms version), parsed once and broken into lines once per width: the
    clauses are most of a contract's text and, measured, half of its rendering. Pieces of
    a paragraph split across pages are plain paragraphs (their class's `_key` is None)."""

    _key: tuple[str, str] | None = None
    _lines: ClassVar[dict[tuple[tuple[str, str], float], tuple[Any, float]]] = {}

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        if self._key is None:
            return super().wrap(availWidth, availHeight)  # type: ignore[no-any-return]
        found = self._lines.get((self._key, availWidth))
        if found is None:
            width, height = super().wrap(availWidth, availHeight)
            self._lines[self._key, availWidth] = (getattr(self, "blPara"), height)  # noqa: B009
            return width, height
        style = self.style
        self.width = availWidth
        self._wrapWidths = [
            availWidth - (style.leftIndent + style.firstLineIndent) - style.rightIndent,
            availWidth - style.leftIndent - style.rightIndent,
        ]
        self.blPara, self.height = found
        return availWidth, self.height


_FIXED: dict[tuple[str, str], _FixedParagraph] = {}


def _fixed(text: str, style: str) -> Paragraph:
    """A paragraph of fixed wording: a copy of the one parsed the first time (its lines are
    shared, read-only once broken). Only the terms' own text comes here, so the cache holds
    one entry per clause of each terms version."""
    key = (text, style)
    parsed = _FIXED.get(key)
    if parsed is None:
        parsed = _FIXED[key] = _FixedParagraph(escape(text), _styles()[style])
        parsed._key = key
    return copy.copy(parsed)


def _label_table(rows: tuple[tuple[str, str], ...], *, fixed_labels: bool = False) -> Table:
    """Labels and values; `fixed_labels` when the labels are the contract's own wording."""
    label = _fixed if fixed_labels else _p
    table = Table(
        [[label(name, "cell"), _p(value, "cell")] for name, value in rows],
        colWidths=[48 * mm, _WIDTH - 48 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, _GRID),
                ("BACKGROUND", (0, 0), (0, -1), _SHADE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _disclosure(data: ContractData) -> Table:
    zh, en = wording.cost_disclosure(data)
    headline = (
        f"综合年化成本（IRR，含全部利息和费用）：{format_percent(data.apr_nominal)}"
        f"　实际年化（复利）：{format_percent(data.apr_effective)}"
    )
    table = Table([[[_p(headline, "apr"), _p(zh, "body"), _p(en, "en")]]], colWidths=[_WIDTH])
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.5, _RED),
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#fdf2f0")),
                ("LEFTPADDING", (0, 0), (-1, -1), 4 * mm),
                ("TOPPADDING", (0, 0), (-1, -1), 2 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3 * mm),
            ]
        )
    )
    return table


def _schedule(data: ContractData) -> Table:
    rows = [list(wording.SCHEDULE_HEADER), *map(list, wording.schedule_rows(data))]
    rows.append(list(wording.schedule_totals(data)))
    widths = [16 * mm, 28 * mm] + [(_WIDTH - 44 * mm) / 4] * 4
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), _font()),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("GRID", (0, 0), (-1, -1), 0.5, _GRID),
                ("BACKGROUND", (0, 0), (-1, 0), _SHADE),
                ("BACKGROUND", (0, -1), (-1, -1), _SHADE),
                ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
                ("ALIGN", (0, 1), (0, -2), "CENTER"),
            ]
        )
    )
    return table


def _story(data: ContractData) -> list[object]:
    terms = data.terms
    story: list[object] = [
        _p(terms.title_zh, "title"),
        _p(f"{terms.title_en} · 合同编号 {data.contract_no}", "subtitle"),
        _p("一、合同双方 Parties", "h2"),
        _label_table(wording.parties(data), fixed_labels=True),
        Spacer(1, 3 * mm),
        _disclosure(data),
        _p("二、借款要素 Key terms", "h2"),
        _label_table(wording.key_terms(data), fixed_labels=True),
        _p("三、还款计划表 Repayment schedule（单位：元）", "h2"),
        _schedule(data),
        _fixed(f"四、通用条款 General terms（v{terms.version}）", "h2"),
        _fixed(terms.preamble_zh, "clause"),
    ]
    for number, clause in terms.numbered_clauses():
        story.append(_fixed(f"{number} {clause.heading_zh}", "h3"))
        story += [_fixed(paragraph, "clause") for paragraph in clause.paragraphs_zh]
    story += [
        Spacer(1, 2 * mm),
        _fixed(terms.summary_en, "en"),
        _p("五、签署 Signatures", "h2"),
        _label_table(wording.signatures(data), fixed_labels=True),
    ]
    return story


def render_contract_pdf(data: ContractData) -> bytes:
    """The contract as PDF bytes (A4); byte-identical for the same `data`."""
    buffer = BytesIO()
    footer = f"合同编号 {data.contract_no}"

    def on_page(canvas: Any, document: Any) -> None:
        canvas.setFont(_font(), 8)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, f"第 {canvas.getPageNumber()} 页 · {footer}")

    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"借款合同 {data.contract_no}",
        author=data.lender_name,
        subject="Loan contract 借款合同",
        creator="xindai",
        invariant=1,
        lang="zh-CN",
    )
    document.build(_story(data), onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


def render_letter_pdf(
    *,
    title: str,
    subtitle: str,
    facts: tuple[tuple[str, str], ...],
    paragraphs: tuple[str, ...],
    signature: str,
    reference: str,
) -> bytes:
    """A one-page letter (e.g. a collection letter, 催收函 / 律师函) with the contract's fonts
    and layout: a title, a table of facts, paragraphs, a signature; deterministic bytes."""
    buffer = BytesIO()

    def on_page(canvas: Any, document: Any) -> None:
        canvas.setFont(_font(), 8)
        canvas.drawCentredString(
            A4[0] / 2, 10 * mm, f"第 {canvas.getPageNumber()} 页 · {reference}"
        )

    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"{title} {reference}",
        author=signature,
        subject=title,
        creator="xindai",
        invariant=1,
        lang="zh-CN",
    )
    story: list[object] = [_p(title, "title"), _p(subtitle, "subtitle"), Spacer(1, 4 * mm)]
    story.append(_label_table(facts))
    story.append(Spacer(1, 4 * mm))
    story += [_p(text, "clause") for text in paragraphs]
    story += [Spacer(1, 10 * mm), _p(signature, "body")]
    document.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
