"""Reconciliation runs (对账) kept for the console: a channel's statement file uploaded by
finance is matched against the journal (`ledger.reconcile`), the run and every break are
stored, and each break stays open until someone resolves it with a note (audited).

Two ways to match: `day` (the default, the daily reconciliation: each statement day
against the channel-cash lines the journal booked on that business date) and `reference`
(every reference of the statement, whatever its day, against the journal's lines of that
reference on any date — for a statement of the whole history, e.g. while close of business
runs ahead of the calendar).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xindai.errors import InvalidValue, XindaiError
from xindai.ledger.accounts import CHANNEL_CASH
from xindai.ledger.reconcile import (
    Break,
    StatementRow,
    parse_statement,
    reconcile,
    reference_breaks,
)
from xindai.money import format_yuan
from xindai.security import audit
from xindai.store.models import JournalLine
from xindai.store.models_admin import ReconciliationBreak, ReconciliationRun
from xindai.store.models_origination import Payout, RefundTask, Withholding
from xindai.store.repository import NotFound

MODES = ("day", "reference")
BREAK_KINDS = ("missing_in_journal", "missing_in_statement", "amount_mismatch")
BREAK_STATUSES = ("open", "resolved")
MAX_STATEMENT_ROWS = 200_000


class BreakResolved(XindaiError):
    code = "RECONCILIATION_BREAK_RESOLVED"
    http_status = 409


@dataclass(frozen=True, slots=True)
class Matched:
    """What matching gave: the breaks with their day, and how much matched."""

    breaks: list[tuple[date, Break]]
    matched: int
    matched_fen: int


def _match(session: Session, rows: Sequence[StatementRow], channel: str, mode: str) -> Matched:
    if mode == "day":
        found: list[tuple[date, Break]] = []
        matched = matched_fen = 0
        for result in reconcile(session, list(rows)):
            found += [(result.day, b) for b in result.breaks]
            matched += result.matched
            matched_fen += result.matched_fen
        return Matched(found, matched, matched_fen)
    days = {row.reference: row.day for row in rows}
    last = max(row.day for row in rows)
    breaks = reference_breaks(session, list(rows), channel)
    broken = {b.reference for b in breaks}
    clean = {row.reference for row in rows} - broken
    matched_fen = sum(abs(row.signed_fen) for row in rows if row.reference in clean)
    return Matched([(days.get(b.reference, last), b) for b in breaks], len(clean), matched_fen)


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidValue(
            "statement", "<bytes>", "is not UTF-8 text (CSV)", "对账文件不是 UTF-8 文本（CSV）"
        ) from None


def run_view(run: ReconciliationRun, open_breaks: int | None = None) -> dict[str, Any]:
    return {
        "id": run.id,
        "channel": run.channel,
        "file_name": run.file_name,
        "file_sha256": run.file_sha256,
        "first_day": run.first_day.isoformat(),
        "last_day": run.last_day.isoformat(),
        "statement_rows": run.statement_rows,
        "matched": run.matched,
        "matched_amount": format_yuan(run.matched_fen),
        "breaks": run.breaks,
        "open_breaks": run.breaks if open_breaks is None else open_breaks,
        "uploaded_by": run.uploaded_by,
        "uploaded_at": run.uploaded_at.isoformat(),
    }


def _yuan(fen: int | None) -> str | None:
    return None if fen is None else format_yuan(fen)


def break_view(row: ReconciliationBreak, loan_id: int | None = None) -> dict[str, Any]:
    """A break as finance sees it: amounts signed (collections positive)."""
    difference = (row.statement_fen or 0) - (row.journal_fen or 0)
    return {
        "id": row.id,
        "run_id": row.run_id,
        "day": row.day.isoformat(),
        "channel": row.channel,
        "reference": row.reference,
        "kind": row.kind,
        "statement_amount": _yuan(row.statement_fen),
        "journal_amount": _yuan(row.journal_fen),
        "difference": format_yuan(difference),
        "loan_id": loan_id,
        "status": row.status,
        "resolved_by": row.resolved_by,
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
        "resolution_note": row.resolution_note,
    }


def loans_of(session: Session, references: Sequence[str]) -> dict[str, int]:
    """The loan behind each reference: its journal lines, or the payout, collection or
    refund request that carries it."""
    refs = sorted({r for r in references if r})
    found: dict[str, int] = {}
    if not refs:
        return found
    for ref, loan in session.execute(
        select(JournalLine.external_ref, JournalLine.loan_id).where(
            JournalLine.external_ref.in_(refs), JournalLine.account_code == CHANNEL_CASH.code
        )
    ):
        found.setdefault(str(ref), int(loan))
    for column, loan_column in (
        (Payout.request_ref, Payout.loan_id),
        (Withholding.request_ref, Withholding.loan_id),
        (RefundTask.refund_ref, RefundTask.loan_id),
    ):
        for ref, loan in session.execute(select(column, loan_column).where(column.in_(refs))):
            found.setdefault(str(ref), int(loan))
    return found


class ReconciliationRuns:
    """Upload statements, keep their runs and breaks, resolve breaks."""

    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], datetime]):
        self.sessions = sessions
        self.clock = clock

    def upload(
        self,
        data: bytes,
        *,
        file_name: str,
        actor: str,
        mode: str = "day",
        ip: str | None = None,
    ) -> ReconciliationRun:
        """Parse the statement (a bad line is a 400 naming it), match it against the journal
        and store the run with its breaks, in one transaction; audited."""
        if mode not in MODES:
            raise InvalidValue("mode", mode, "must be day or reference", "应为 day 或 reference")
        rows = parse_statement(_text(data))
        if not rows:
            raise InvalidValue("statement", file_name, "has no rows", "对账文件没有数据行")
        if len(rows) > MAX_STATEMENT_ROWS:
            raise InvalidValue(
                "statement",
                len(rows),
                f"at most {MAX_STATEMENT_ROWS} rows a file",
                f"单个文件最多 {MAX_STATEMENT_ROWS} 行",
            )
        channels = sorted({row.channel for row in rows})
        if len(channels) != 1 or not channels[0]:
            raise InvalidValue(
                "statement channel",
                ",".join(channels),
                "a statement is one channel's",
                "一个对账文件只能属于一个支付渠道",
            )
        with self.sessions.begin() as session:
            matched = _match(session, rows, channels[0], mode)
            run = ReconciliationRun(
                channel=channels[0],
                file_name=(file_name or "statement.csv")[:128],
                file_sha256=hashlib.sha256(data).hexdigest(),
                first_day=min(row.day for row in rows),
                last_day=max(row.day for row in rows),
                statement_rows=len(rows),
                matched=matched.matched,
                matched_fen=matched.matched_fen,
                breaks=len(matched.breaks),
                uploaded_by=actor,
                uploaded_at=self.clock(),
            )
            session.add(run)
            session.flush()
            session.add_all(
                ReconciliationBreak(
                    run_id=run.id,
                    day=day,
                    channel=run.channel,
                    reference=found.reference[:64],
                    kind=found.kind,
                    statement_fen=found.statement_fen,
                    journal_fen=found.journal_fen,
                    status="open",
                )
                for day, found in matched.breaks
            )
            audit.record(
                session,
                actor=actor,
                action="reconciliation.upload",
                resource="reconciliation_run",
                resource_id=run.id,
                ip=ip,
                after={
                    "file_name": run.file_name,
                    "sha256": run.file_sha256,
                    "mode": mode,
                    "rows": len(rows),
                    "matched": run.matched,
                    "breaks": run.breaks,
                },
                at=self.clock(),
            )
            session.flush()
            session.expunge(run)
            return run

    def resolve(
        self, break_id: int, *, actor: str, note: str, ip: str | None = None
    ) -> dict[str, Any]:
        """Close an open break with what was found and done (the note is required)."""
        text = (note or "").strip()
        if not text:
            raise InvalidValue("note", note, "say what was found and done", "请说明核查结果与处理")
        with self.sessions.begin() as session:
            row = session.scalars(
                select(ReconciliationBreak)
                .where(ReconciliationBreak.id == break_id)
                .with_for_update()
            ).one_or_none()
            if row is None:
                raise NotFound(f"break {break_id} does not exist", f"差异 {break_id} 不存在")
            if row.status != "open":
                raise BreakResolved(
                    f"break {break_id} was resolved by {row.resolved_by}",
                    f"差异 {break_id} 已由 {row.resolved_by} 处理",
                )
            row.status, row.resolved_by = "resolved", actor
            row.resolved_at, row.resolution_note = self.clock(), text
            audit.record(
                session,
                actor=actor,
                action="reconciliation.resolve",
                resource="reconciliation_break",
                resource_id=break_id,
                ip=ip,
                before={"status": "open"},
                after={"status": "resolved", "note": text, "reference": row.reference},
                at=self.clock(),
            )
            session.flush()
            return break_view(row, loans_of(session, [row.reference]).get(row.reference))


__all__ = [
    "BREAK_KINDS",
    "BREAK_STATUSES",
    "MODES",
    "BreakResolved",
    "ReconciliationRuns",
    "break_view",
    "loans_of",
    "run_view",
]
