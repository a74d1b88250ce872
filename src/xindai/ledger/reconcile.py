"""Daily reconciliation (对账) of a payment channel's statement against the journal.

The statement is a CSV with a header `date,channel,reference,type,amount`: `type` is
`payout`, `collection` or `refund`, `amount` a positive yuan amount with two decimals. The
journal side is every channel-cash line of that channel booked on that business date, netted
by external reference (a collection is a debit, a payout or refund a credit).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xindai.dates import parse_date
from xindai.errors import InvalidValue
from xindai.ledger.accounts import CHANNEL_CASH
from xindai.money import Fen, parse_yuan
from xindai.store.models import JournalLine

STATEMENT_COLUMNS = ("date", "channel", "reference", "type", "amount")
_SIGN = {"collection": 1, "payout": -1, "refund": -1}


@dataclass(frozen=True, slots=True)
class StatementRow:
    day: date
    channel: str
    reference: str
    kind: str
    amount_fen: Fen

    @property
    def signed_fen(self) -> Fen:
        return _SIGN[self.kind] * self.amount_fen


def read_statement(path: Path) -> list[StatementRow]:
    """Parse a statement file; a bad row raises `InvalidValue` naming its line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidValue(
            "statement", str(path), f"cannot be read ({exc.strerror})", "无法读取对账文件"
        ) from None
    return parse_statement(text)


def parse_statement(text: str) -> list[StatementRow]:
    """Parse a statement's CSV text; a bad row raises `InvalidValue` naming its line."""
    rows: list[StatementRow] = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    if tuple(reader.fieldnames or ()) != STATEMENT_COLUMNS:
        raise InvalidValue(
            "statement header",
            ",".join(reader.fieldnames or ()),
            f"must be {','.join(STATEMENT_COLUMNS)}",
            f"表头应为 {','.join(STATEMENT_COLUMNS)}",
        )
    for number, raw in enumerate(reader, start=2):
        kind = (raw["type"] or "").strip()
        if kind not in _SIGN:
            raise InvalidValue(
                f"statement line {number} type",
                kind,
                "must be payout, collection or refund",
                "类型应为 payout、collection 或 refund",
            )
        amount = parse_yuan(raw["amount"] or "", field=f"statement line {number} amount")
        if amount <= 0:
            raise InvalidValue(
                f"statement line {number} amount",
                raw["amount"],
                "must be positive",
                "金额必须大于零",
            )
        reference = (raw["reference"] or "").strip()
        if not reference:
            raise InvalidValue(f"statement line {number} reference", "", "is empty", "流水号为空")
        rows.append(
            StatementRow(
                parse_date(raw["date"] or "", field=f"statement line {number} date"),
                (raw["channel"] or "").strip(),
                reference,
                kind,
                amount,
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class Break:
    """One difference: `statement_fen` / `journal_fen` are signed (collections positive)."""

    reference: str
    kind: str  # missing_in_journal | missing_in_statement | amount_mismatch
    statement_fen: Fen | None
    journal_fen: Fen | None


@dataclass(frozen=True, slots=True)
class Reconciliation:
    day: date
    channel: str
    matched: int
    matched_fen: Fen
    breaks: tuple[Break, ...] = field(default=())

    @property
    def clean(self) -> bool:
        return not self.breaks


def reconcile(session: Session, rows: list[StatementRow]) -> list[Reconciliation]:
    """Reconcile each (date, channel) of the statement against the journal."""
    results: list[Reconciliation] = []
    for day, channel in sorted({(r.day, r.channel) for r in rows}):
        statement: dict[str, Fen] = {}
        for row in rows:
            if (row.day, row.channel) == (day, channel):
                statement[row.reference] = statement.get(row.reference, 0) + row.signed_fen
        query = (
            select(
                JournalLine.external_ref, func.sum(JournalLine.debit_fen - JournalLine.credit_fen)
            )
            .where(
                JournalLine.account_code == CHANNEL_CASH.code,
                JournalLine.channel == channel,
                JournalLine.business_date == day,
            )
            .group_by(JournalLine.external_ref)
        )
        journal = {
            ref or "": int(total) for ref, total in session.execute(query).all() if int(total) != 0
        }
        breaks: list[Break] = []
        matched, matched_fen = 0, 0
        for reference in sorted(set(statement) | set(journal)):
            ours, theirs = journal.get(reference), statement.get(reference)
            if theirs is None:
                breaks.append(
                    Break(reference or "(no reference)", "missing_in_statement", None, ours)
                )
            elif ours is None:
                breaks.append(Break(reference, "missing_in_journal", theirs, None))
            elif ours != theirs:
                breaks.append(Break(reference, "amount_mismatch", theirs, ours))
            else:
                matched += 1
                matched_fen += abs(ours)
        results.append(Reconciliation(day, channel, matched, matched_fen, tuple(breaks)))
    return results


def reference_breaks(session: Session, rows: list[StatementRow], channel: str) -> list[Break]:
    """Every reference of `channel` where the statements `rows` (any number of days) and
    the journal's channel-cash lines (any business date) disagree: what `reconcile` finds
    when the business date and the channel's day part, e.g. while close of business runs
    ahead of the calendar."""
    statement: dict[str, Fen] = {}
    for row in rows:
        if row.channel == channel:
            statement[row.reference] = statement.get(row.reference, 0) + row.signed_fen
    query = (
        select(JournalLine.external_ref, func.sum(JournalLine.debit_fen - JournalLine.credit_fen))
        .where(JournalLine.account_code == CHANNEL_CASH.code, JournalLine.channel == channel)
        .group_by(JournalLine.external_ref)
    )
    journal = {ref or "": int(total) for ref, total in session.execute(query).all() if total}
    breaks: list[Break] = []
    for reference in sorted(set(statement) | set(journal)):
        ours, theirs = journal.get(reference), statement.get(reference)
        if ours == theirs:
            continue
        if theirs is None:
            breaks.append(Break(reference or "(no reference)", "missing_in_statement", None, ours))
        elif ours is None:
            breaks.append(Break(reference, "missing_in_journal", theirs, None))
        else:
            breaks.append(Break(reference, "amount_mismatch", theirs, ours))
    return breaks
