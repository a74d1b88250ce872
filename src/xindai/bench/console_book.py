"""A synthetic lender for the console's benchmark and tests, written with bulk inserts: the
book of `cob.portfolio.build_book` (open loans with schedules and repayments) plus what the
console's lists read around it — borrowers with encrypted, hashed personal data across
channels, their cards and contacts, applications (paid out, rejected, in review) with their
decisions, payouts (some failed first), withholdings (some failed), a journal entry per
transaction, daily snapshots of the last days and an audit trail.

Borrower k has mobile `mobile_of(k)` and resident ID `id_number_of(k)`; loan k is borrower
k's. For building large books, not for services: every value is consistent where a screen
shows it (balances, counts, masks), not a replay of real operations.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, FromClause, Table, insert, select, text

from xindai.cob.bulkload import Text, insert_columns
from xindai.cob.portfolio import BookStats, build_book
from xindai.origination.identity import build_resident_id
from xindai.security.pii import PiiCipher, mask_name
from xindai.store.models import (
    Borrower,
    JournalEntry,
    JournalLine,
    Loan,
    LoanTransaction,
)
from xindai.store.models_origination import (
    Application,
    AuditEvent,
    BankCard,
    Contact,
    DecisionRecord,
    Payout,
    Withholding,
)

CHANNELS = ("app", "app", "app", "app", "douyin", "douyin", "agent_a", "agent_b", "app", "wechat")
"""Channel of borrower k: CHANNELS[k % 10] (agent_a and agent_b: 10 % each)."""
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛")
REGIONS = ("110101", "310104", "440305", "330106", "510107", "420106", "320102", "610113")
COPY_BATCH = 20_000
BOOK_ACTORS = ("risk1", "finance1", "ops1", "cs1", "admin", "staff:1", "staff:2")
BOOK_ACTIONS = ("api.get", "borrower.view", "staff.login", "review.view", "export", "api.post")


def mobile_of(borrower_id: int) -> str:
    return f"13{borrower_id:09d}"


def id_number_of(borrower_id: int) -> str:
    birth = date(1975, 1, 1) + timedelta(days=borrower_id * 37 % 10_000)
    return build_resident_id(REGIONS[borrower_id % len(REGIONS)], birth, borrower_id % 999 + 1)


def name_of(borrower_id: int) -> str:
    return SURNAMES[borrower_id % len(SURNAMES)] + GIVEN[borrower_id // 20 % len(GIVEN)]


def channel_of(borrower_id: int) -> str:
    return CHANNELS[borrower_id % len(CHANNELS)]


@dataclass(frozen=True, slots=True)
class ConsoleBook:
    book: BookStats
    borrowers: int
    applications: int
    payouts: int
    withholdings: int
    journal_lines: int
    snapshots: int
    audit_events: int


def copy_rows(
    connection: Connection, table: FromClause, rows: Iterable[Sequence[Any]], columns: Sequence[str]
) -> int:
    """Insert `rows` (tuples in the order of `columns`) in batches: PostgreSQL COPY, SQLite
    executemany. For tables with text unique per row, which `bulkload.Text` is not for."""
    if not isinstance(table, Table):
        raise TypeError(f"{table!r} is not a table")
    written = 0
    if connection.dialect.name == "postgresql":
        cursor: Any = connection.connection.cursor()  # psycopg's, with COPY
        try:
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
        finally:
            cursor.close()
        return written
    statement = insert(table)
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(dict(zip(columns, row, strict=True)))
        if len(batch) >= COPY_BATCH:
            connection.execute(statement, batch)
            written += len(batch)
            batch = []
    if batch:
        connection.execute(statement, batch)
        written += len(batch)
    return written


def _at(day: date, seconds: int) -> datetime:
    return datetime.combine(day, datetime.min.time()) + timedelta(seconds=int(seconds))


def build_console_book(
    connection: Connection,
    cipher: PiiCipher,
    *,
    loans: int,
    start: date,
    seed: int = 20261203,
    snapshot_days: int = 2,
    contacts_for: int = 10_000,
    rejected_share: float = 0.3,
) -> ConsoleBook:
    """Write the lender into the empty, migrated database of `connection` (in the caller's
    transaction) with the business date `start`; `snapshot_days` closed days of snapshots
    before it."""
    rng = np.random.default_rng(seed)
    book = build_book(connection, loans=loans, start=start, seed=seed)
    connection.execute(
        text(
            "UPDATE loans SET channel = CASE id % 10 "
            + " ".join(f"WHEN {k} THEN '{c}'" for k, c in enumerate(CHANNELS))
            + " END, last_entry_no = last_txn_seq"
        )
    )
    loan_rows = connection.execute(
        select(
            Loan.id,
            Loan.product_code,
            Loan.product_version,
            Loan.principal_fen,
            Loan.term,
            Loan.annual_rate,
            Loan.disbursed_on,
        ).order_by(Loan.id)
    ).all()
    disbursed = {int(r.id): r.disbursed_on for r in loan_rows}

    # borrowers, cards, contacts
    def borrowers() -> Iterable[tuple[Any, ...]]:
        for k in range(1, loans + 1):
            name, phone, number = name_of(k), mobile_of(k), id_number_of(k)
            registered = disbursed[k] - timedelta(days=int(k * 7 % 30) + 1)
            yield (
                k,
                mask_name(name),
                channel_of(k),
                registered,
                cipher.lookup_hash("phone", phone),
                cipher.encrypt("phone", phone),
                cipher.encrypt("name", name),
                cipher.lookup_hash("id_number", number),
                cipher.encrypt("id_number", number),
                date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
                "verified",
                True,
                f"10.{k // 65536 % 256}.{k // 256 % 256}.{k % 256}",
            )

    copy_rows(
        connection,
        Borrower.__table__,
        borrowers(),
        (
            "id",
            "display_name",
            "channel",
            "created_on",
            "mobile_hash",
            "mobile_enc",
            "name_enc",
            "id_number_hash",
            "id_number_enc",
            "birth_date",
            "kyc_status",
            "liveness_passed",
            "registered_ip",
        ),
    )

    def cards() -> Iterable[tuple[Any, ...]]:
        for k in range(1, loans + 1):
            number = f"622202{k:013d}"
            yield (
                k,
                k,
                cipher.lookup_hash("card", number),
                cipher.encrypt("card", number),
                number[-4:],
                "ICBC",
                "工商银行",
                cipher.encrypt("phone", mobile_of(k)),
                "verified",
                f"CV{k:010d}",
                _at(disbursed[k] - timedelta(days=1), 9 * 3600),
            )

    copy_rows(
        connection,
        BankCard.__table__,
        cards(),
        (
            "id",
            "borrower_id",
            "card_hash",
            "card_enc",
            "last4",
            "bank_code",
            "bank_name",
            "phone_enc",
            "status",
            "verify_ref",
            "created_at",
        ),
    )

    def contacts() -> Iterable[tuple[Any, ...]]:
        for k in range(1, min(loans, contacts_for) + 1):
            for seq, relation in ((1, "parent"), (2, "friend")):
                phone = f"15{k:08d}{seq}"
                yield (
                    k,
                    seq,
                    cipher.encrypt("name", name_of(k + seq)),
                    cipher.encrypt("phone", phone),
                    cipher.lookup_hash("phone", phone),
                    relation,
                )

    copy_rows(
        connection,
        Contact.__table__,
        contacts(),
        (
            "borrower_id",
            "seq",
            "name_enc",
            "phone_enc",
            "phone_hash",
            "relation",
        ),
    )

    # applications: one paid out per loan, then rejected and in-review ones of random people
    extra = int(loans * rejected_share)
    extra_borrowers = rng.integers(1, loans + 1, extra)
    extra_status = np.where(rng.random(extra) < 0.9, 0, 1)  # 0 rejected, 1 review
    hashes: dict[int, tuple[str, str]] = {}

    def person(k: int) -> tuple[str, str]:
        if k not in hashes:
            hashes[k] = (
                cipher.lookup_hash("phone", mobile_of(k)),
                cipher.lookup_hash("id_number", id_number_of(k)),
            )
        return hashes[k]

    def applications() -> Iterable[tuple[Any, ...]]:
        for r in loan_rows:
            k = int(r.id)
            applied = _at(r.disbursed_on - timedelta(days=1), 36_000 + k % 20_000)
            phone_hash, id_hash = (
                cipher.lookup_hash("phone", mobile_of(k)),
                cipher.lookup_hash("id_number", id_number_of(k)),
            )
            yield (
                k,
                k,
                r.product_code,
                r.product_version,
                r.principal_fen,
                r.term,
                "consumption",
                k,
                "disbursed",
                r.annual_rate,
                "0.2400",
                "{}",
                k,
                applied,
                applied + timedelta(seconds=2),
                phone_hash,
                id_hash,
                r.principal_fen,
                "0.2400",
            )
        for n in range(extra):
            k = int(extra_borrowers[n])
            r = loan_rows[k - 1]
            applied = _at(start - timedelta(days=int(n % 60) + 1), 30_000 + n % 30_000)
            status = ("rejected", "review")[int(extra_status[n])]
            phone_hash, id_hash = person(k)
            yield (
                loans + n + 1,
                k,
                r.product_code,
                r.product_version,
                r.principal_fen,
                r.term,
                "consumption",
                k,
                status,
                r.annual_rate,
                "0.2400",
                "{}",
                None,
                applied,
                applied + timedelta(seconds=2) if status == "rejected" else None,
                phone_hash,
                id_hash,
                None,
                None,
            )

    copy_rows(
        connection,
        Application.__table__,
        applications(),
        (
            "id",
            "borrower_id",
            "product_code",
            "product_version",
            "amount_fen",
            "term",
            "purpose",
            "card_id",
            "status",
            "annual_rate",
            "apr",
            "quote",
            "loan_id",
            "created_at",
            "decided_at",
            "phone_hash",
            "id_number_hash",
            "approved_amount_fen",
            "offered_rate",
        ),
    )
    grades = ("A", "B", "C", "D", "E")

    def decisions() -> Iterable[tuple[Any, ...]]:
        for n in range(loans + extra):
            k = n + 1
            outcome = "approve" if n < loans else ("reject", "review")[int(extra_status[n - loans])]
            day = (
                disbursed[k] - timedelta(days=1)
                if n < loans
                else start - timedelta(days=(n - loans) % 60 + 1)
            )
            reasons = (
                []
                if outcome == "approve"
                else (["SCORE_LOW"] if outcome == "reject" else ["GREY_ZONE"])
            )
            yield (
                k,
                k,
                "engine",
                outcome,
                json.dumps(reasons),
                "{}",
                None,
                _at(day, 36_002 + k % 20_000),
                "[]",
                "default@v1",
                620.0 - (k % 200),
                grades[k % 5],
                "0.2400" if outcome == "approve" else None,
                loan_rows[k - 1].principal_fen if n < loans and outcome == "approve" else None,
            )

    copy_rows(
        connection,
        DecisionRecord.__table__,
        decisions(),
        (
            "id",
            "application_id",
            "path",
            "outcome",
            "reasons",
            "detail",
            "reviewer",
            "created_at",
            "customer_reasons",
            "strategy",
            "score",
            "grade",
            "rate",
            "approved_amount_fen",
        ),
    )

    # payouts: 2 % failed once, then paid on the second attempt
    failed_first = set(np.flatnonzero(rng.random(loans) < 0.02).tolist())
    amounts = dict(
        connection.execute(
            select(LoanTransaction.loan_id, LoanTransaction.amount_fen).where(
                LoanTransaction.kind == "disbursement"
            )
        ).all()
    )

    def payouts() -> Iterable[tuple[Any, ...]]:
        serial = 0
        for r in loan_rows:
            k = int(r.id)
            sent = _at(r.disbursed_on, 36_000 + k % 20_000)
            if k - 1 in failed_first:
                serial += 1
                yield (
                    serial,
                    k,
                    k,
                    f"PO{k:010d}A1",
                    amounts[k],
                    "failed",
                    1,
                    sent - timedelta(hours=1),
                    sent - timedelta(minutes=50),
                    "bank_rejected",
                )
            serial += 1
            attempt = 2 if k - 1 in failed_first else 1
            yield (
                serial,
                k,
                k,
                f"PO{k:010d}A{attempt}",
                amounts[k],
                "succeeded",
                attempt,
                sent,
                sent + timedelta(seconds=30),
                None,
            )

    payout_count = copy_rows(
        connection,
        Payout.__table__,
        sorted(payouts(), key=lambda row: row[7]),  # appended as they were sent
        (
            "id",
            "application_id",
            "loan_id",
            "request_ref",
            "amount_fen",
            "status",
            "attempt",
            "created_at",
            "settled_at",
            "reason",
        ),
    )

    # withholdings: one per repayment (auto, collected), one failed per past-due loan
    repaid = connection.execute(
        select(
            LoanTransaction.loan_id,
            LoanTransaction.seq,
            LoanTransaction.posted_on,
            LoanTransaction.amount_fen,
        ).where(LoanTransaction.kind == "repayment")
    ).all()
    overdue_loans = connection.execute(
        select(Loan.id, Loan.oldest_unpaid_due, Loan.overdue_fen).where(Loan.dpd > 0)
    ).all()

    def withholdings() -> Iterable[tuple[Any, ...]]:
        for loan_id, seq, posted, amount in repaid:
            at = _at(posted, 28_800)
            yield (
                f"WH{loan_id:010d}S{seq}",
                loan_id,
                posted,
                amount,
                "repayment",
                "succeeded",
                at,
                "auto",
                amount,
                None,
                at + timedelta(seconds=20),
            )
        for loan_id, due, overdue in overdue_loans:
            due = due or start
            at = _at(due, 28_800)
            yield (
                f"WH{loan_id:010d}F",
                loan_id,
                due,
                max(overdue, 100),
                "repayment",
                "failed",
                at,
                "auto",
                None,
                "insufficient_funds",
                at + timedelta(seconds=20),
            )

    withholding_count = copy_rows(
        connection,
        Withholding.__table__,
        sorted(withholdings(), key=lambda row: row[6]),  # appended as they were asked
        (
            "request_ref",
            "loan_id",
            "business_date",
            "amount_fen",
            "purpose",
            "status",
            "created_at",
            "origin",
            "collected_fen",
            "reason",
            "settled_at",
        ),
    )

    # the journal: an entry per transaction (entry_no = seq)
    txns = connection.execute(
        select(
            LoanTransaction.loan_id,
            LoanTransaction.seq,
            LoanTransaction.kind,
            LoanTransaction.posted_on,
            LoanTransaction.amount_fen,
            LoanTransaction.principal_fen,
            LoanTransaction.interest_fen,
            LoanTransaction.fee_fen,
        ).order_by(LoanTransaction.posted_on, LoanTransaction.loan_id, LoanTransaction.seq)
    ).all()
    lines = _journal(connection, txns)

    # snapshots of the closed days before `start`, and an audit trail
    snapshots = 0
    for back in range(1, snapshot_days + 1):
        snapshots += int(
            connection.execute(
                text(
                    "INSERT INTO loan_snapshots (business_date, loan_id, borrower_id, product_code,"
                    " status, dpd, bucket, principal_outstanding_fen, interest_outstanding_fen,"
                    " fee_outstanding_fen, penalty_outstanding_fen, overdue_fen)"
                    " SELECT :d, id, borrower_id, product_code, status,"
                    " CASE WHEN dpd > :back THEN dpd - :back ELSE 0 END, bucket,"
                    " principal_outstanding_fen, interest_outstanding_fen, fee_outstanding_fen,"
                    " penalty_outstanding_fen, overdue_fen FROM loans"
                    " WHERE disbursed_on < :d AND status IN ('active', 'overdue')"
                ),
                {"d": start - timedelta(days=back), "back": back},
            ).rowcount
        )
    events = _audit(connection, loans, start)
    if connection.dialect.name == "postgresql":  # rows were written with their ids
        for table in ("borrowers", "bank_cards", "applications", "decisions", "payouts"):
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT max(id) FROM {table}))"
                )
            )
    return ConsoleBook(
        book, loans, loans + extra, payout_count, withholding_count, lines, snapshots, events
    )


def _journal(connection: Connection, txns: Sequence[Any]) -> int:
    count = len(txns)
    loan = np.fromiter((t[0] for t in txns), np.int64, count)
    seq = np.fromiter((t[1] for t in txns), np.int64, count)
    repayment = np.fromiter((t[2] == "repayment" for t in txns), np.bool_, count)
    posted = np.array([t[3] for t in txns], dtype="datetime64[D]")
    amount, principal, interest, fee = (
        np.fromiter((t[i] for t in txns), np.int64, count) for i in (4, 5, 6, 7)
    )
    insert_columns(
        connection,
        JournalEntry.__table__,
        {
            "loan_id": loan,
            "entry_no": seq,
            "txn_seq": seq,
            "business_date": posted,
            "value_date": posted,
            "kind": Text(repayment.astype(np.int8), ("disbursement", "repayment")),
            "description": Text(repayment.astype(np.int8), ("放款", "还款")),
            "reverses_entry_no": None,
        },
    )
    # disbursement: Dr principal receivable, Cr channel cash (what was paid), Cr fee income
    # repayment: Dr channel cash, Cr principal receivable, Cr interest income, Cr fee income
    specs: list[tuple[str, Any, Any]] = [
        ("1101", np.where(repayment, 0, principal), np.where(repayment, principal, 0)),
        ("1001", np.where(repayment, amount, 0), np.where(repayment, 0, amount)),
        ("4101", 0, np.where(repayment, interest, 0)),
        ("4102", 0, np.where(repayment, fee, principal - amount)),
    ]
    parts: dict[str, list[Any]] = {k: [] for k in ("row", "line", "code", "debit", "credit")}
    line_no = np.zeros(count, np.int64)
    for number, (_code, debit, credit) in enumerate(specs):
        debit_a = np.broadcast_to(np.asarray(debit, np.int64), (count,))
        credit_a = np.broadcast_to(np.asarray(credit, np.int64), (count,))
        keep = (debit_a != 0) | (credit_a != 0)
        line_no = line_no + keep
        rows = np.flatnonzero(keep)
        parts["row"].append(rows)
        parts["line"].append(line_no[rows])
        parts["code"].append(np.full(len(rows), number, np.int8))
        parts["debit"].append(debit_a[rows])
        parts["credit"].append(credit_a[rows])
    row, line, code, debits, credits = (np.concatenate(parts[k]) for k in parts)
    order = np.lexsort((line, seq[row], loan[row], posted[row]))  # appended day by day
    row, line, code, debits, credits = (a[order] for a in (row, line, code, debits, credits))
    written = 0
    for cash in (True, False):  # the channel's cash lines name it; the others none
        pick = np.flatnonzero((code == 1) == cash)
        written += insert_columns(
            connection,
            JournalLine.__table__,
            {
                "loan_id": loan[row[pick]],
                "entry_no": seq[row[pick]],
                "line_no": line[pick],
                "business_date": posted[row[pick]],
                "account_code": Text(code[pick], [c for c, _d, _c in specs]),
                "channel": "default" if cash else None,
                "debit_fen": np.ascontiguousarray(debits[pick]),
                "credit_fen": np.ascontiguousarray(credits[pick]),
                "external_ref": None,
            },
        )
    return written


def _audit(connection: Connection, loans: int, start: date) -> int:
    """An audit trail as long as the book: API calls and views over the last 30 days."""
    rows = max(loans, 100)
    first = datetime.combine(start, datetime.min.time())

    def events() -> Iterable[tuple[Any, ...]]:
        for n in range(rows):
            yield (
                first - timedelta(seconds=n * 2_592_000 // rows),
                BOOK_ACTORS[n % len(BOOK_ACTORS)],
                BOOK_ACTIONS[n % len(BOOK_ACTIONS)],
                ("admin_api", "borrower")[n % 2],
                str(n % 1000 + 1),
                "10.0.0.1",
                None,
                '{"status": 200}',
            )

    return copy_rows(
        connection,
        AuditEvent.__table__,
        events(),
        ("at", "actor", "action", "resource", "resource_id", "ip", "before", "after"),
    )
