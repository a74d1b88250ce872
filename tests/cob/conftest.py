"""A loan book run twice, side by side: by the pure core (`close_day`, `apply`,
`refresh_status`, one loan at a time) and in the database (services through the repository,
close of business through `xindai.cob`). `World.check` compares the two.

Borrowers behave by type: pay in full on the due date, pay late, pay part, overpay, settle
early, have penalties waived, or never pay. A loan's history before the first database day
is run by the pure core alone and then written as a service would write it (rows, log).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from xindai.cob import StepRegistry, loan_rule_columns, run_cob
from xindai.cob.runner import ProgressFn
from xindai.ledger.accounts import Line
from xindai.money import DayCount
from xindai.products.model import PenaltyBase, PenaltyTerms, Product, ProductType
from xindai.schedules import build_schedule
from xindai.schedules.model import Method, PeriodicFeeKind, PeriodUnit, UpfrontFeeMode
from xindai.servicing.account import apply, close_day, payoff_quote, refresh_status
from xindai.servicing.allocation import Component as C
from xindai.servicing.delinquency import DEFAULT_BUCKET_SCHEME, days_past_due
from xindai.servicing.state import LoanRules, LoanState
from xindai.servicing.transactions import Posting, Txn, TxnKind, TxnLine
from xindai.store import repository as repo
from xindai.store.db import transaction
from xindai.store.models import (
    BucketMove,
    InstallmentRecord,
    JournalEntry,
    JournalLine,
    Loan,
    LoanSnapshot,
    LoanTransaction,
)


def _product(code: str, **values: Any) -> Product:
    base: dict[str, Any] = {
        "name": code,
        "amount_min_fen": 50_000,
        "amount_max_fen": 2_000_000,
        "amount_step_fen": 10_000,
        "annual_rate": Decimal("0.18"),
    }
    return Product(code=code, **{**base, **values})


PRODUCTS: tuple[Product, ...] = (
    _product(
        "T-BUL",
        type=ProductType.SINGLE,
        terms=(7, 14),
        period_unit=PeriodUnit.DAY,
        method=Method.BULLET,
        grace_days=2,
        penalty=PenaltyTerms(daily_rate=Decimal("0.0005"), overdue_fee_fen=2_000),
    ),
    _product(  # a tight cap on the overdue total: binds within days
        "T-BULCAP",
        type=ProductType.SINGLE,
        terms=(10,),
        period_unit=PeriodUnit.DAY,
        method=Method.BULLET,
        annual_rate=Decimal("0.2399"),
        penalty=PenaltyTerms(
            daily_rate=Decimal("0.01"),
            base=PenaltyBase.OVERDUE_TOTAL,
            overdue_fee_fen=1_500,
            cap_rate_of_principal=Decimal("0.05"),
        ),
    ),
    _product(
        "T-ANN",
        type=ProductType.INSTALLMENT,
        terms=(3, 6),
        period_unit=PeriodUnit.MONTH,
        method=Method.ANNUITY,
        grace_days=3,
        upfront_fee_rate=Decimal("0.02"),
        upfront_fee_mode=UpfrontFeeMode.AMORTIZED,
        penalty=PenaltyTerms(
            daily_rate=Decimal("0.001"),
            base=PenaltyBase.OVERDUE_TOTAL,
            overdue_fee_fen=500,
            cap_rate_of_principal=Decimal("0.03"),
        ),
    ),
    _product(  # no cap, no overdue fee, fixed repayment day
        "T-FLAT",
        type=ProductType.INSTALLMENT,
        terms=(3,),
        period_unit=PeriodUnit.MONTH,
        method=Method.FLAT,
        annual_rate=Decimal("0.12"),
        repayment_day=10,
        penalty=PenaltyTerms(daily_rate=Decimal("0.0008"), cap_rate_of_principal=None),
    ),
    _product(  # the cap is reached by overdue fees alone: later fees are charged at 0
        "T-WEEK",
        type=ProductType.INSTALLMENT,
        terms=(4, 8),
        period_unit=PeriodUnit.WEEK,
        method=Method.EQUAL_PRINCIPAL,
        day_count=DayCount.ACT365,
        annual_rate=Decimal("0.2"),
        grace_days=1,
        periodic_fee_kind=PeriodicFeeKind.FIXED,
        periodic_fee_value=Decimal(300),
        penalty=PenaltyTerms(
            daily_rate=Decimal("0.0005"),
            base=PenaltyBase.OVERDUE_TOTAL,
            overdue_fee_fen=1_000,
            cap_rate_of_principal=Decimal("0.004"),
        ),
    ),
    _product(
        "T-IFIRST",
        type=ProductType.INSTALLMENT,
        terms=(6,),
        period_unit=PeriodUnit.WEEK,
        method=Method.INTEREST_FIRST,
        grace_days=2,
        periodic_fee_value=Decimal("0.001"),
        penalty=PenaltyTerms(
            daily_rate=Decimal("0.0006"), overdue_fee_fen=800, cap_rate_of_principal=Decimal("0.5")
        ),
    ),
    _product(  # a rate whose penalty rounds half up often
        "T-PFIRST",
        type=ProductType.INSTALLMENT,
        terms=(3,),
        period_unit=PeriodUnit.MONTH,
        method=Method.PRINCIPAL_FIRST,
        grace_days=5,
        penalty=PenaltyTerms(daily_rate=Decimal("0.00055")),
    ),
)

BEHAVIOURS = ("good", "good", "late", "late", "partial", "over", "settle", "waive", "never")


@dataclass
class PureLoan:
    """One loan of the book as the pure core sees it."""

    index: int
    product: Product
    behaviour: str
    lag: int
    state: LoanState
    disbursed_on: date
    term: int
    loan_id: int = 0  # set once in the database
    seq: int = 0
    log: list[tuple[Txn, Posting, str]] = field(default_factory=list)  # source: cob|service
    cache_as_of: date = date.min  # the loan row holds loan_cache(state, cache_as_of)

    @property
    def cache(self) -> dict[str, Any]:
        return repo.loan_cache(self.state, self.cache_as_of)

    @property
    def bucket(self) -> str:
        """The cached bucket (only DPD of the oldest unpaid installment: cheap)."""
        if not self.state.status.is_open:
            return DEFAULT_BUCKET_SCHEME.names[0]
        dpd = days_past_due(self.cache_as_of, self.state.oldest_unpaid_due())
        return DEFAULT_BUCKET_SCHEME.bucket_for(dpd).name


@dataclass(frozen=True)
class CobPosted:
    loan_id: int
    txn: Txn
    posting: Posting


class World:
    """The book, the database and the pure core in step; see the module docstring."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        engine: Engine,
        *,
        seed: int,
        start: date,
        initial_loans: int,
        new_per_day: int,
        history_days: int = 150,
        migrated_loans: int = 12,
        snapshot_every: int = 4,
        partition_size: int = 64,
    ) -> None:
        self.sessions, self.engine = sessions, engine
        self.random = random.Random(seed)
        self.start, self.partition_size = start, partition_size
        self.today = start
        self.loans: list[PureLoan] = []
        self.by_id: dict[int, PureLoan] = {}
        self.new_per_day = new_per_day
        self.snapshot_every = snapshot_every
        self.expected_moves: dict[date, dict[int, tuple[str, str, int]]] = {}
        self.expected_snapshots: dict[date, dict[int, dict[str, Any]]] = {}
        with transaction(sessions) as session:
            for product in PRODUCTS:
                repo.save_product(session, product, created_by="test", approved_by="checker")
            repo.set_business_date(session, start)
        # history before the database takes over: the pure core alone
        first = start - timedelta(days=history_days)
        for _ in range(initial_loans):
            self._book_pure(first + timedelta(days=self.random.randrange(history_days)))
        for offset in range(history_days):
            day = first + timedelta(days=offset)
            for loan in self.loans:
                if loan.disbursed_on <= day:
                    if loan.disbursed_on < day:
                        self._service(loan, day, database=False)
                    self._close_pure(loan, day)
        # loans taken over from another system: disbursed long ago, never closed by a COB, so
        # that their first close recognises several installments and charges several fees
        for n in range(migrated_loans):
            product = PRODUCTS[(2, 4, 5)[n % 3]]
            loan = self._book_pure(start - timedelta(days=40 + 3 * n), product)
            loan.state = refresh_status(loan.state, start - timedelta(days=1))
        with transaction(sessions) as session:
            for loan in sorted(self.loans, key=lambda x: x.disbursed_on):
                self._insert(session, loan, start - timedelta(days=1))

    # ------------------------------------------------------------ booking

    def _book_pure(self, day: date, product: Product | None = None) -> PureLoan:
        product = product or self.random.choice(PRODUCTS)
        term = self.random.choice(product.terms)
        amount = product.amount_min_fen + product.amount_step_fen * self.random.randrange(
            (product.amount_max_fen - product.amount_min_fen) // product.amount_step_fen + 1
        )
        schedule = build_schedule(product.schedule_terms(amount, term, day))
        rules = LoanRules.from_product(product, amount)
        state = LoanState.booked(rules, schedule)
        upfront = schedule.upfront_fee_fen if product.upfront_fee_mode.value != "amortized" else 0
        txn = Txn(
            1,
            TxnKind.DISBURSEMENT,
            day,
            schedule.disbursed_fen,
            upfront_fee_fen=upfront,
            upfront_fee_mode=product.upfront_fee_mode.value,
        )
        state, posting = apply(state, txn)
        loan = PureLoan(
            len(self.loans),
            product,
            self.random.choice(BEHAVIOURS),
            self.random.randrange(1, 45),
            state,
            day,
            term,
            seq=1,
        )
        loan.log.append((txn, posting, "service"))
        loan.cache_as_of = day
        self.loans.append(loan)
        return loan

    def _insert(self, session: Session, loan: PureLoan, as_of: date) -> None:
        """Write a loan booked by the pure core as the services would have: row, state, log."""
        row = Loan(
            borrower_id=1000 + loan.index,
            product_code=loan.product.code,
            product_version=loan.product.version,
            status=loan.state.status.value,
            principal_fen=loan.state.rules.principal_fen,
            annual_rate=str(loan.product.annual_rate),
            term=loan.term,
            booked_on=loan.disbursed_on,
            channel="default",
            last_txn_seq=loan.seq,
            **loan_rule_columns(loan.state.rules),
        )
        session.add(row)
        session.flush()
        repo.save_state(session, row, loan.state, as_of)
        for txn, posting, _source in loan.log:
            session.add(_txn_row(row.id, txn, posting))
        loan.loan_id = row.id
        loan.cache_as_of = as_of
        self.by_id[row.id] = loan

    # ------------------------------------------------------------ services

    def _action(self, loan: PureLoan, day: date) -> Txn | None:
        """What the borrower (or an officer) does on `day`, from the pure state."""
        state = loan.state
        if not state.status.is_open:
            return None
        unsettled = [i for i in state.live if not i.is_settled]
        owed = sum(i.outstanding_total for i in unsettled if i.due_date <= day)
        due_today = any(i.due_date == day for i in unsettled)
        oldest = unsettled[0].due_date if unsettled else None
        seq = loan.seq + 1
        behaviour = loan.behaviour
        if behaviour in ("good", "over", "settle") and due_today and owed:
            if behaviour == "settle" and loan.index % 2:
                quote = payoff_quote(state, day)
                return Txn(seq, TxnKind.EARLY_SETTLEMENT, day, quote.total_fen)
            extra = 5_000 if behaviour == "over" else 0
            return Txn(seq, TxnKind.REPAYMENT, day, owed + extra)
        if behaviour == "settle" and oldest and (day - loan.disbursed_on).days == 20:
            return Txn(seq, TxnKind.EARLY_SETTLEMENT, day, payoff_quote(state, day).total_fen)
        if behaviour == "late" and oldest and (day - oldest).days == loan.lag and owed:
            return Txn(seq, TxnKind.REPAYMENT, day, owed)
        if behaviour == "partial" and oldest and (day - oldest).days % 9 == 0 and owed > 1:
            return Txn(seq, TxnKind.REPAYMENT, day, owed * 2 // 5)
        if behaviour == "waive" and day.day in (7, 21):
            with_penalty = [i for i in unsettled if i.outstanding(C.PENALTY) > 1]
            if with_penalty:
                item = with_penalty[0]
                line = TxnLine(item.number, C.PENALTY, item.outstanding(C.PENALTY) // 2)
                return Txn(seq, TxnKind.WAIVER, day, lines=(line,))
        return None

    def _service(self, loan: PureLoan, day: date, *, database: bool) -> None:
        txn = self._action(loan, day)
        if txn is None:
            return
        if database:
            with transaction(self.sessions) as session:
                row, state = repo.load_state(session, loan.loan_id, for_update=True)
                assert state == loan.state, f"loan {loan.loan_id} differs before {day}"
                assert row.last_txn_seq == loan.seq
                new_state, posting = apply(state, txn)
                repo.save_state(session, row, new_state, day)
                row.last_txn_seq = txn.seq
                session.add(_txn_row(row.id, txn, posting))
        loan.state, posting = apply(loan.state, txn)
        loan.seq = txn.seq
        loan.log.append((txn, posting, "service"))
        loan.cache_as_of = day

    def _close_pure(self, loan: PureLoan, day: date) -> None:
        """close_day + apply for the day, then refresh_status (the COB's definition)."""
        if not loan.state.status.is_open:
            return  # nothing changes a closed loan, and its cache does not depend on the date
        for txn in close_day(loan.state, day):
            loan.seq += 1
            numbered = replace(txn, seq=loan.seq)
            loan.state, posting = apply(loan.state, numbered)
            loan.log.append((numbered, posting, "cob"))
        loan.state = refresh_status(loan.state, day)
        loan.cache_as_of = day

    # ------------------------------------------------------------ days

    def services(self, day: date) -> None:
        """The business day's postings (before its close of business)."""
        for _ in range(self.new_per_day):
            loan = self._book_pure(day)
            with transaction(self.sessions) as session:
                self._insert(session, loan, day)
        for loan in self.loans:
            if loan.loan_id and loan.disbursed_on < day:
                self._service(loan, day, database=True)

    def close_pure(self, day: date, *, snapshots: bool) -> None:
        """Close the day in the pure core; keep the bucket moves it makes and (if asked)
        the snapshot rows it should write."""
        moves, rows = {}, {}
        for loan in self.loans:
            before = loan.bucket
            self._close_pure(loan, day)
            if loan.state.status.is_open:
                after = loan.bucket
                if after != before:
                    dpd = days_past_due(day, loan.state.oldest_unpaid_due())
                    moves[loan.loan_id] = (before, after, dpd)
                if snapshots:
                    rows[loan.loan_id] = loan.cache
        self.expected_moves[day] = moves
        if snapshots:
            self.expected_snapshots[day] = rows

    def run_day(
        self,
        *,
        progress: ProgressFn | None = None,
        registry: StepRegistry | None = None,
    ) -> None:
        """Services, close of business in the database, and the same day in the pure core."""
        day = self.today
        self.services(day)
        run_cob(
            self.engine,
            date=day,
            partition_size=self.partition_size,
            progress=progress,
            registry=registry,
        )
        self.close_pure(day, snapshots=(day - self.start).days % self.snapshot_every == 0)
        self.today = day + timedelta(days=1)

    # ------------------------------------------------------------ checks

    def check(self) -> None:
        """Every loan, installment, COB transaction, journal entry, snapshot and bucket move
        in the database equals what the pure core says."""
        as_of = self.today - timedelta(days=1)
        with transaction(self.sessions, read_only=True) as session:
            assert repo.get_business_date(session) == self.today
            for loan in self.loans:
                row, state = repo.load_state(session, loan.loan_id)
                assert state == loan.state, _diff(loan, state)
                expected = loan.cache
                assert {k: getattr(row, k) for k in expected} == expected, loan.loan_id
                assert row.last_txn_seq == loan.seq
                statuses = dict(
                    session.execute(
                        select(InstallmentRecord.number, InstallmentRecord.status).where(
                            InstallmentRecord.loan_id == loan.loan_id
                        )
                    ).all()
                )
                grace = loan.state.rules.grace_days
                assert statuses == {
                    i.number: "cancelled" if i.cancelled else i.status(as_of, grace).value
                    for i in loan.state.installments
                }
            self._check_log(session)
            self._check_journal(session)
            self._check_facts(session)

    def cob_posted(self) -> list[CobPosted]:
        return [
            CobPosted(loan.loan_id, txn, posting)
            for loan in self.loans
            for txn, posting, source in loan.log
            if source == "cob" and txn.value_date >= self.start
        ]

    def _check_log(self, session: Session) -> None:
        rows = {
            (r.loan_id, r.seq): r
            for r in session.scalars(
                select(LoanTransaction).where(
                    LoanTransaction.kind.in_(("due", "penalty_accrual")),
                    LoanTransaction.posted_on >= self.start,
                )
            )
        }
        expected = {(p.loan_id, p.txn.seq): p for p in self.cob_posted()}
        assert sorted(rows) == sorted(expected)
        for key, posted in expected.items():
            row = rows[key]
            assert repo.row_txn(row) == posted.txn, key
            applied = posted.posting.applied
            assert (row.principal_fen, row.interest_fen, row.fee_fen, row.penalty_fen) == (
                applied.principal,
                applied.interest,
                applied.fee,
                applied.penalty,
            )
            assert (row.posted_on, row.credit_fen, row.actor, row.channel) == (
                posted.txn.value_date,
                0,
                "system",
                "default",
            )
            assert row.idempotency_key == f"cob:{row.posted_on}:{row.kind}"
            reference = _txn_row(posted.loan_id, posted.txn, posted.posting)
            assert json.loads(row.payload or "{}") == json.loads(reference.payload or "{}")
            assert row.payload == reference.payload  # byte for byte as txn_row writes it

    def _check_journal(self, session: Session) -> None:
        unbalanced = session.execute(
            text(
                "SELECT loan_id, entry_no FROM journal_lines GROUP BY loan_id, entry_no"
                " HAVING SUM(debit_fen) <> SUM(credit_fen)"
            )
        ).all()
        assert unbalanced == []
        entries = {(e.loan_id, e.txn_seq): e for e in session.scalars(select(JournalEntry)).all()}
        lines: dict[tuple[int, int], list[Line]] = {}
        for ln in session.scalars(
            select(JournalLine).order_by(
                JournalLine.loan_id, JournalLine.entry_no, JournalLine.line_no
            )
        ):
            lines.setdefault((ln.loan_id, ln.entry_no), []).append(
                Line(ln.account_code, ln.debit_fen, ln.credit_fen, ln.channel)
            )
        posted_by_cob = self.cob_posted()
        assert len(entries) == len(posted_by_cob)  # one entry per transaction, as post_entry
        numbers: dict[int, list[int]] = {}
        for posted in posted_by_cob:
            entry = entries[(posted.loan_id, posted.txn.seq)]
            txn = posted.txn
            assert (entry.kind, entry.business_date, entry.value_date, entry.description) == (
                txn.kind.value,
                txn.value_date,
                txn.value_date,
                f"{txn.kind.value} #{txn.seq}",
            )
            expected = list(posted.posting.lines)
            assert lines.get((entry.loan_id, entry.entry_no), []) == expected
            numbers.setdefault(entry.loan_id, []).append(entry.entry_no)
        for loan_id, entry_numbers in numbers.items():
            assert sorted(entry_numbers) == list(range(1, len(entry_numbers) + 1)), loan_id
            row = session.get(Loan, loan_id)
            assert row is not None and row.last_entry_no == len(entry_numbers)

    def _check_facts(self, session: Session) -> None:
        snapshot_columns = (
            "status",
            "dpd",
            "bucket",
            "principal_outstanding_fen",
            "interest_outstanding_fen",
            "fee_outstanding_fen",
            "penalty_outstanding_fen",
            "overdue_fen",
        )
        for day, expected in self.expected_snapshots.items():
            snapshots = {
                s.loan_id: {c: getattr(s, c) for c in snapshot_columns}
                for s in session.scalars(
                    select(LoanSnapshot).where(LoanSnapshot.business_date == day)
                )
            }
            assert snapshots == {
                loan_id: {c: cache[c] for c in snapshot_columns}
                for loan_id, cache in expected.items()
            }, day
            moves = {
                m.loan_id: (m.from_bucket, m.to_bucket, m.dpd)
                for m in session.scalars(select(BucketMove).where(BucketMove.business_date == day))
            }
            assert moves == self.expected_moves[day], day


def _txn_row(loan_id: int, txn: Txn, posting: Posting) -> LoanTransaction:
    source_is_cob = txn.kind.is_system
    return repo.txn_row(
        loan_id,
        txn,
        posted_on=txn.value_date,
        applied=posting.applied,
        credit_fen=posting.credit_fen,
        actor="system" if source_is_cob else "test",
        idempotency_key=f"cob:{txn.value_date}:{txn.kind.value}" if source_is_cob else None,
    )


def _diff(loan: PureLoan, state: LoanState) -> str:
    """A readable first difference between the database's state and the pure one."""
    pure = loan.state
    where = f"loan {loan.loan_id} {loan.product.code} ({loan.behaviour})"
    for name in ("status", "credit_balance_fen", "penalty_accrued_fen", "overdue_fee_charged"):
        mine, theirs = getattr(state, name), getattr(pure, name)
        if mine != theirs:
            return f"{where}: {name} {mine!r} ≠ pure {theirs!r}"
    for item, expected in zip(state.installments, pure.installments, strict=False):
        if item != expected:
            return f"{where}: {item} ≠ pure {expected}"
    return f"{where}: states differ"


def dump_tables(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (timestamps of progress left out), sorted."""
    from xindai.store.models import Base

    tables: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in ("started_at", "finished_at")]
            rows = connection.execute(select(*columns)).all()
            tables[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return tables


@pytest.fixture
def make_world(
    session_factory: sessionmaker[Session], migrated_engine: Engine
) -> Iterator[Callable[..., World]]:
    def make(**values: Any) -> World:
        return World(session_factory, migrated_engine, **values)

    yield make


@pytest.fixture
def dump() -> Callable[[Engine], dict[str, list[tuple[Any, ...]]]]:
    return dump_tables
