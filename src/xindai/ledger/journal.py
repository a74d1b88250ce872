"""The journal (日记账) in the database: append-only entries that always balance.

A loan's entries are numbered per loan (loan id, entry number) so that close of business can
post them set-based; entries of no loan use loan id 0 and a platform counter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from xindai.ledger.accounts import CHART, Line, entry
from xindai.store.models import Account, JournalEntry, JournalLine, Loan


def ensure_chart(session: Session) -> None:
    """Insert any account of the chart that is missing (idempotent)."""
    existing = set(session.scalars(select(Account.code)).all())
    for account in CHART:
        if account.code not in existing:
            session.add(
                Account(
                    code=account.code,
                    name_zh=account.name_zh,
                    name_en=account.name_en,
                    kind=account.kind.value,
                )
            )


def post_entry(
    session: Session,
    loan: Loan,
    lines: Sequence[Line],
    *,
    kind: str,
    business_date: date,
    value_date: date,
    txn_seq: int | None,
    description: str = "",
    reverses_entry_no: int | None = None,
    external_ref: str | None = None,
) -> int:
    """Append a balanced entry for `loan`; returns its entry number. Zero-line entries are
    kept too: a state change that moves no money (a deferral) is still on the journal."""
    checked = entry(*lines)
    loan.last_entry_no += 1
    number = loan.last_entry_no
    session.add(
        JournalEntry(
            loan_id=loan.id,
            entry_no=number,
            txn_seq=txn_seq,
            business_date=business_date,
            value_date=value_date,
            kind=kind,
            description=description[:256],
            reverses_entry_no=reverses_entry_no,
        )
    )
    for line_no, line in enumerate(checked, start=1):
        session.add(
            JournalLine(
                loan_id=loan.id,
                entry_no=number,
                line_no=line_no,
                business_date=business_date,
                account_code=line.account,
                channel=line.channel,
                debit_fen=line.debit_fen,
                credit_fen=line.credit_fen,
                external_ref=external_ref if line.channel is not None else None,
            )
        )
    return number


Net = dict[tuple[str, str | None], int]  # debit − credit fen per (account, channel)


def net_lines_by_txn(session: Session, loan_id: int) -> dict[int, Net]:
    """For every transaction of a loan, the net (debit − credit) per account and channel of
    all the entries booked for it (one query)."""
    rows = session.execute(
        select(
            JournalEntry.txn_seq,
            JournalLine.account_code,
            JournalLine.channel,
            JournalLine.debit_fen,
            JournalLine.credit_fen,
        )
        .join(
            JournalEntry,
            (JournalEntry.loan_id == JournalLine.loan_id)
            & (JournalEntry.entry_no == JournalLine.entry_no),
        )
        .where(JournalEntry.loan_id == loan_id, JournalEntry.txn_seq.is_not(None))
    ).all()
    nets: dict[int, Net] = {}
    for txn_seq, account, channel, debit_fen, credit_fen in rows:
        if txn_seq is None:  # excluded by the query; keeps the type checker informed
            continue
        net = nets.setdefault(txn_seq, {})
        net[(account, channel)] = net.get((account, channel), 0) + debit_fen - credit_fen
    return {seq: {k: v for k, v in net.items() if v} for seq, net in nets.items()}


def net_of(lines: Sequence[Line]) -> dict[tuple[str, str | None], int]:
    net: dict[tuple[str, str | None], int] = {}
    for line in lines:
        key = (line.account, line.channel)
        net[key] = net.get(key, 0) + line.debit_fen - line.credit_fen
    return {k: v for k, v in net.items() if v}


def lines_from_net(net: dict[tuple[str, str | None], int]) -> list[Line]:
    return [
        Line(account, max(0, amount), max(0, -amount), channel)
        for (account, channel), amount in sorted(
            net.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
        )
    ]
