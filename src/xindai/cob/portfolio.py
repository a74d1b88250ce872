"""A synthetic book of open loans for close-of-business benchmarks, built with NumPy and
written with bulk inserts: as it stands after the close of business of the day before
`start`, with the business date at `start`.

Loans of the demo products (short single-payment, monthly annuity and flat, weekly equal
principal) at mixed ages; a share of them (15 % by default) past due, some of those after a
partial payment, with overdue fees charged and penalty accrued up to the cap. Schedules come
from `schedules.vectorised.build_schedules_columns`; every cached loan column is what
`repository.loan_cache` computes from the installment rows on the day before `start`, and the
loan rule columns are `cob.rules.loan_rule_columns` of the product's rules. The log holds the
disbursement and one repayment per paid installment (without payloads); past penalty accrual
is summed into the first unpaid installment rather than posted day by day, and there is no
journal history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, func, select, text

from xindai.cob.bulkload import Column, Text, insert_columns
from xindai.cob.rules import loan_rule_columns
from xindai.products.catalogue import demo_products
from xindai.products.model import Product
from xindai.schedules.columns import FEE_KIND_CODES, FEE_MODE_CODES, METHOD_CODES, UNIT_CODES
from xindai.schedules.vectorised import ScheduleBatch, build_schedules_columns
from xindai.servicing.delinquency import DEFAULT_BUCKET_SCHEME
from xindai.servicing.state import LoanRules
from xindai.store.models import InstallmentRecord, Loan, LoanTransaction, SystemState
from xindai.store.repository import BUSINESS_DATE_KEY, save_product

I64 = npt.NDArray[np.int64]
PRODUCT_WEIGHTS = (0.35, 0.35, 0.15, 0.15)  # the demo catalogue's order
INSTALLMENT_STATUSES = ("pending", "due", "partial", "paid", "overdue")
_DPD_RANGES = ((1, 30, 0.5), (31, 90, 0.25), (91, 200, 0.25))  # delinquent loans' DPD mix


@dataclass(frozen=True, slots=True)
class BookStats:
    loans: int
    installments: int
    past_due: int  # loans with an unpaid installment past its due date
    overdue: int  # loans past the grace days (status overdue)
    transactions: int


@dataclass(frozen=True, slots=True)
class _ProductTable:
    """Per-product values as arrays indexed by product number."""

    codes: tuple[str, ...]
    rates: tuple[str, ...]
    columns: dict[str, I64]

    @classmethod
    def of(cls, products: Sequence[Product]) -> _ProductTable:
        def ints(values: list[int]) -> I64:
            return np.array(values, dtype=np.int64)

        ratios = [p.annual_rate.as_integer_ratio() for p in products]
        upfront = [p.upfront_fee_rate.as_integer_ratio() for p in products]
        periodic = [p.periodic_fee_value.as_integer_ratio() for p in products]
        rules = [loan_rule_columns(LoanRules.from_product(p, 0)) for p in products]
        caps = [p.penalty.cap_rate_of_principal for p in products]
        if any(cap is None for cap in caps):
            raise ValueError("the benchmark book needs a penalty cap on every product")
        cap_ratios = [cap.as_integer_ratio() for cap in caps if cap is not None]
        return cls(
            tuple(p.code for p in products),
            tuple(str(p.annual_rate) for p in products),
            {
                "rate_num": ints([r[0] for r in ratios]),
                "rate_den": ints([r[1] for r in ratios]),
                "method": ints([METHOD_CODES[p.method] for p in products]),
                "unit": ints([UNIT_CODES[p.period_unit] for p in products]),
                "days_in_year": ints([p.day_count.days_in_year for p in products]),
                "interest_start_days": ints([p.interest_start_days for p in products]),
                "repayment_day": ints([p.repayment_day or 0 for p in products]),
                "upfront_num": ints([r[0] for r in upfront]),
                "upfront_den": ints([r[1] for r in upfront]),
                "upfront_mode": ints([FEE_MODE_CODES[p.upfront_fee_mode] for p in products]),
                "fee_kind": ints([FEE_KIND_CODES[p.periodic_fee_kind] for p in products]),
                "fee_num": ints([r[0] for r in periodic]),
                "fee_den": ints([r[1] for r in periodic]),
                "grace_days": ints([r["grace_days"] for r in rules]),
                "penalty_rate_num": ints([r["penalty_rate_num"] for r in rules]),
                "penalty_rate_den": ints([r["penalty_rate_den"] for r in rules]),
                "penalty_on_total": ints([int(r["penalty_on_total"]) for r in rules]),
                "overdue_fee_fen": ints([r["overdue_fee_fen"] for r in rules]),
                "cap_num": ints([r[0] for r in cap_ratios]),
                "cap_den": ints([r[1] for r in cap_ratios]),
            },
        )


def _round_half_up(numerator: I64, denominator: I64) -> I64:
    result: I64 = (2 * numerator + denominator) // (2 * denominator)
    return result


def _days(day: date) -> int:
    return int(np.datetime64(day, "D").astype(np.int64))


class _Book:
    """The random choices and the schedules of the book."""

    def __init__(
        self, products: Sequence[Product], loans: int, start: date, share: float, seed: int
    ) -> None:
        rng = np.random.default_rng(seed)
        self.table = _ProductTable.of(products)
        self.product = rng.choice(len(products), loans, p=PRODUCT_WEIGHTS[: len(products)])
        self.term = np.zeros(loans, dtype=np.int64)
        self.principal = np.zeros(loans, dtype=np.int64)
        for k, product in enumerate(products):
            rows = np.flatnonzero(self.product == k)
            self.term[rows] = rng.choice(np.array(product.terms), len(rows))
            steps = (product.amount_max_fen - product.amount_min_fen) // product.amount_step_fen
            self.principal[rows] = product.amount_min_fen + product.amount_step_fen * (
                rng.integers(0, steps + 1, len(rows))
            )
        self.today = _days(start)
        provisional = self.schedules(np.full(loans, self.today, dtype=np.int64))
        first = provisional.offsets[:-1]
        due = provisional.due_date.view(np.int64)
        span = due[provisional.offsets[1:] - 1] - self.today
        count = provisional.installment_counts
        self.past_due = rng.random(loans) < share
        low, high, weight = (np.array(v) for v in zip(*_DPD_RANGES, strict=True))
        band = rng.choice(len(low), loans, p=weight)
        dpd = rng.integers(low[band], high[band] + 1)
        self.first_unpaid = np.where(self.past_due, rng.integers(0, np.minimum(count, 3)), 0)
        offset = due[first + self.first_unpaid] - self.today
        age = (rng.random(loans) * np.maximum(1, span - 3)).astype(np.int64)
        self.start = np.where(self.past_due, self.today - 1 - dpd - offset, self.today - age)
        self.partial = self.past_due & (rng.random(loans) < 0.3)
        for _ in range(3):
            self.batch = self.schedules(self.start)
            due = self.batch.due_date.view(np.int64)
            maturity = due[self.batch.offsets[1:] - 1]
            first_due = due[self.batch.offsets[:-1] + self.first_unpaid]
            # month lengths move due dates: keep only what the choices meant
            self.past_due &= first_due <= self.today - 2
            self.first_unpaid[~self.past_due] = 0
            closed = ~self.past_due & (maturity < self.today)
            if not closed.any():
                break
            self.start[closed] = self.today
        self.partial &= self.past_due

    def schedules(self, start: I64) -> ScheduleBatch:
        c, p = self.table.columns, self.product
        return build_schedules_columns(
            principal_fen=self.principal,
            rate_numerator=c["rate_num"][p],
            rate_denominator=c["rate_den"][p],
            term=self.term,
            unit=c["unit"][p],
            method=c["method"][p],
            start_date=start.astype("datetime64[D]"),
            days_in_year=c["days_in_year"][p],
            interest_start_days=c["interest_start_days"][p],
            repayment_day=c["repayment_day"][p],
            upfront_fee_numerator=c["upfront_num"][p],
            upfront_fee_denominator=c["upfront_den"][p],
            upfront_fee_mode=c["upfront_mode"][p],
            periodic_fee_kind=c["fee_kind"][p],
            periodic_fee_numerator=c["fee_num"][p],
            periodic_fee_denominator=c["fee_den"][p],
        )


def build_book(
    connection: Connection,
    *,
    loans: int,
    start: date,
    seed: int = 20260302,
    past_due_share: float = 0.15,
    products: Sequence[Product] | None = None,
) -> BookStats:
    """Write a book of `loans` open loans into the empty, migrated database of `connection`
    (in the caller's transaction) and set the business date to `start`."""
    products = tuple(products or demo_products())
    if connection.scalar(select(func.count()).select_from(Loan)):
        raise ValueError("the benchmark book needs a database without loans")
    book = _Book(products, loans, start, past_due_share, seed)
    batch, c, p = book.batch, book.table.columns, book.product
    yesterday = book.today - 1
    offsets, first = batch.offsets, batch.offsets[:-1]
    row = np.repeat(np.arange(loans, dtype=np.int64), batch.installment_counts)
    number = batch.number
    due = batch.due_date.view(np.int64)
    principal_due, interest_due, fee_due = (
        batch.principal_fen.astype(np.int64),
        batch.interest_fen.astype(np.int64),
        batch.fee_fen.astype(np.int64),
    )
    past = due <= yesterday
    first_unpaid = book.past_due[row] & (number - 1 == book.first_unpaid[row])
    paid = past & ~(book.past_due[row] & (number - 1 >= book.first_unpaid[row]))
    part = first_unpaid & book.partial[row]
    principal_paid = np.where(paid, principal_due, np.where(part, principal_due // 2, 0))
    interest_paid = np.where(paid | part, interest_due, 0)
    fee_paid = np.where(paid | part, fee_due, 0)
    grace = c["grace_days"][p][row]
    overdue = past & ~paid & (yesterday - due > grace)
    # penalty so far, on the first unpaid installment: daily rate on its principal since the
    # grace days ended, one overdue fee per overdue installment, within the cap
    loan_overdue = np.add.reduceat(overdue.astype(np.int64), first)
    first_due = due[first + book.first_unpaid]
    penalty_days = np.maximum(0, yesterday - first_due - c["grace_days"][p])
    base = (principal_due - principal_paid)[first + book.first_unpaid]
    daily = _round_half_up(base * c["penalty_rate_num"][p], c["penalty_rate_den"][p])
    cap = _round_half_up(book.principal * c["cap_num"][p], c["cap_den"][p])
    penalty = np.where(
        book.past_due,
        np.minimum(cap, daily * penalty_days + c["overdue_fee_fen"][p] * loan_overdue),
        0,
    )
    penalty_due = np.where(first_unpaid, penalty[row], 0)
    settled = paid
    outstanding = (
        principal_due - principal_paid + interest_due - interest_paid + fee_due - fee_paid
    ) + penalty_due
    status = np.select(
        [settled, overdue, past & (principal_paid + interest_paid + fee_paid > 0), past],
        [3, 4, 2, 1],
        0,
    )
    never = np.iinfo(np.int64).max
    oldest = np.minimum.reduceat(np.where(settled, never, due), first)
    dpd = np.maximum(0, yesterday - oldest)
    repaid = np.add.reduceat(paid.astype(np.int64), first) + book.partial
    installments: dict[str, Column] = {
        "loan_id": row + 1,
        "number": number,
        "start_date": batch.period_start,
        "due_date": batch.due_date,
        "principal_due_fen": principal_due,
        "interest_due_fen": interest_due,
        "fee_due_fen": fee_due,
        "penalty_due_fen": penalty_due,
        "principal_paid_fen": principal_paid,
        "interest_paid_fen": interest_paid,
        "fee_paid_fen": fee_paid,
        "penalty_paid_fen": 0,
        "principal_waived_fen": 0,
        "interest_waived_fen": 0,
        "fee_waived_fen": 0,
        "penalty_waived_fen": 0,
        "principal_recognised_fen": principal_due,
        "interest_recognised_fen": np.where(past, interest_due, 0),
        "fee_recognised_fen": np.where(past, fee_due, 0),
        "penalty_recognised_fen": penalty_due,
        "overdue_fee_charged": overdue & (c["overdue_fee_fen"][p][row] > 0),
        "cancelled": False,
        "status": Text(status, INSTALLMENT_STATUSES),
    }

    def per_loan(values: I64) -> I64:
        summed: I64 = np.add.reduceat(values, first)
        return summed

    loan_columns: dict[str, Column] = {
        "id": np.arange(1, loans + 1, dtype=np.int64),
        "borrower_id": np.arange(1, loans + 1, dtype=np.int64),
        "product_code": Text(p, book.table.codes),
        "product_version": 1,
        "status": Text((loan_overdue > 0).astype(np.int8), ("active", "overdue")),
        "principal_fen": book.principal,
        "annual_rate": Text(p, book.table.rates),
        "term": book.term,
        "booked_on": book.start.astype("datetime64[D]"),
        "disbursed_on": book.start.astype("datetime64[D]"),
        "maturity_date": due[offsets[1:] - 1].astype("datetime64[D]"),
        "closed_on": None,
        "channel": "default",
        "grace_days": c["grace_days"][p],
        "penalty_rate_num": c["penalty_rate_num"][p],
        "penalty_rate_den": c["penalty_rate_den"][p],
        "penalty_on_total": c["penalty_on_total"][p] == 1,
        "penalty_cap_fen": cap,
        "overdue_fee_fen": c["overdue_fee_fen"][p],
        "principal_outstanding_fen": per_loan(principal_due - principal_paid),
        "interest_outstanding_fen": per_loan(interest_due - interest_paid),
        "fee_outstanding_fen": per_loan(fee_due - fee_paid),
        "penalty_outstanding_fen": penalty,
        "credit_balance_fen": 0,
        "penalty_accrued_fen": penalty,
        "overdue_fen": per_loan(np.where(overdue, outstanding, 0)),
        "dpd": dpd,
        "max_dpd": dpd,
        "bucket": Text(DEFAULT_BUCKET_SCHEME.bucket_index(dpd), DEFAULT_BUCKET_SCHEME.names),
        "oldest_unpaid_due": oldest.astype("datetime64[D]"),
        "extension_count": 0,
        "deferral_count": 0,
        "last_txn_seq": 1 + repaid,
        "last_entry_no": 0,
        "row_version": 1,
    }
    for product in products:
        save_product_row(connection, product, start)
    insert_columns(connection, Loan.__table__, loan_columns)
    insert_columns(connection, InstallmentRecord.__table__, installments)
    transactions = _insert_log(connection, book, row, paid, part, principal_paid, start)
    insert_columns(
        connection,
        SystemState.__table__,
        {"key": Text(np.zeros(1, np.int8), [BUSINESS_DATE_KEY]), "value": start.isoformat()},
    )
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT setval(pg_get_serial_sequence('loans', 'id'), :last)"), {"last": loans}
        )
    return BookStats(
        loans,
        len(row),
        int(book.past_due.sum()),
        int((loan_overdue > 0).sum()),
        transactions,
    )


def save_product_row(connection: Connection, product: Product, start: date) -> None:
    """The product through the repository, on the connection's transaction."""
    from sqlalchemy.orm import Session

    with Session(bind=connection) as session:  # joins the connection's transaction
        save_product(
            session,
            product,
            created_by="bench",
            approved_by="bench",
            activated_on=start - timedelta(days=400),
        )
        session.flush()


def _insert_log(
    connection: Connection,
    book: _Book,
    row: I64,
    paid: npt.NDArray[np.bool_],
    part: npt.NDArray[np.bool_],
    principal_paid: I64,
    start: date,
) -> int:
    """The disbursements and one repayment per paid (or partly paid) installment."""
    batch = book.batch
    loans = len(book.start)
    created = datetime.combine(start - timedelta(days=1), datetime.min.time())
    repaid = np.flatnonzero(paid | part)
    interest, fee = batch.interest_fen[repaid], batch.fee_fen[repaid]
    principal = principal_paid[repaid]
    common: dict[str, Column] = {
        "credit_fen": 0,
        "penalty_fen": 0,
        "channel": "default",
        "external_ref": None,
        "payload": None,
        "reverses_seq": None,
        "reversed": False,
        "idempotency_key": None,
        "actor": "bench",
        "created_at": created,
    }
    insert_columns(
        connection,
        LoanTransaction.__table__,
        {
            "loan_id": np.arange(1, loans + 1, dtype=np.int64),
            "seq": 1,
            "kind": "disbursement",
            "value_date": book.start.astype("datetime64[D]"),
            "posted_on": book.start.astype("datetime64[D]"),
            "amount_fen": batch.disbursed_fen.astype(np.int64),
            "principal_fen": book.principal,
            "interest_fen": 0,
            "fee_fen": 0,
            **common,
        },
    )
    insert_columns(
        connection,
        LoanTransaction.__table__,
        {
            "loan_id": row[repaid] + 1,
            "seq": batch.number[repaid] + 1,
            "kind": "repayment",
            "value_date": batch.due_date[repaid],
            "posted_on": batch.due_date[repaid],
            "amount_fen": principal + interest + fee,
            "principal_fen": principal,
            "interest_fen": interest,
            "fee_fen": fee,
            **common,
        },
    )
    return loans + len(repaid)
