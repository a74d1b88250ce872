"""Loans, installments and transactions between the pure servicing state and the tables.

`load_state` rebuilds a `LoanState` from the cached rows; `save_state` writes a state back
(the loan's cached balances and every installment); `txn_row` / `row_txn` carry a `Txn`
to and from the log table. The log stays the truth: `servicing.account.replay` of the log
must give the state these rows hold.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xindai import clock
from xindai.errors import XindaiError
from xindai.products.model import Product
from xindai.servicing.allocation import Component
from xindai.servicing.delinquency import DEFAULT_BUCKET_SCHEME, days_past_due
from xindai.servicing.state import (
    COMPONENTS,
    Amounts,
    InstallmentState,
    LoanRules,
    LoanState,
    LoanStatus,
)
from xindai.servicing.transactions import NewInstallment, Txn, TxnKind, TxnLine
from xindai.store.models import (
    InstallmentRecord,
    Loan,
    LoanTransaction,
    ProductRecord,
    SystemState,
)

BUSINESS_DATE_KEY = "business_date"


class NotFound(XindaiError):
    code = "NOT_FOUND"


# ---------------------------------------------------------------- business date


def get_business_date(session: Session) -> date | None:
    row = session.get(SystemState, BUSINESS_DATE_KEY)
    return date.fromisoformat(row.value) if row else None


def set_business_date(session: Session, day: date) -> None:
    row = session.get(SystemState, BUSINESS_DATE_KEY)
    if row is None:
        session.add(SystemState(key=BUSINESS_DATE_KEY, value=day.isoformat()))
    else:
        row.value = day.isoformat()


def require_business_date(session: Session) -> date:
    day = get_business_date(session)
    if day is None:
        raise NotFound(
            "the business date is not set: run `xindai db upgrade` and book or set a start date",
            "营业日未设置",
        )
    return day


# ---------------------------------------------------------------- products


def save_product(
    session: Session,
    product: Product,
    *,
    created_by: str,
    approved_by: str | None = None,
    activated_on: date | None = None,
) -> None:
    record = session.get(ProductRecord, (product.code, product.version))
    definition = json.dumps(product.to_dict(), ensure_ascii=False, sort_keys=True)
    status = "active" if approved_by else "draft"
    if record is None:
        session.add(
            ProductRecord(
                code=product.code,
                version=product.version,
                definition=definition,
                status=status,
                created_by=created_by,
                approved_by=approved_by,
                activated_on=activated_on,
            )
        )
    else:
        record.definition, record.status = definition, status
        record.approved_by, record.activated_on = approved_by, activated_on


_PRODUCTS: dict[tuple[str, int, str], Product] = {}


def load_product(session: Session, code: str, version: int) -> Product:
    record = session.get(ProductRecord, (code, version))
    if record is None:
        raise NotFound(
            f"product {code} v{version} does not exist", f"产品 {code} v{version} 不存在"
        )
    return product_of(record)


def product_of(record: ProductRecord) -> Product:
    """The product a stored version defines (parsed once per definition)."""
    key = (record.code, record.version, record.definition)
    product = _PRODUCTS.get(key)
    if product is None:  # products are immutable versions: parse each once
        product = Product.from_dict(json.loads(record.definition))
        _PRODUCTS[key] = product
    return product


# ---------------------------------------------------------------- loan state


def rules_for(loan: Loan, product: Product) -> LoanRules:
    base = LoanRules.from_product(product, loan.principal_fen, Decimal(loan.annual_rate))
    return base


def _amounts(row: InstallmentRecord, suffix: str) -> Amounts:
    return Amounts(*(getattr(row, f"{c.value}_{suffix}_fen") for c in COMPONENTS))


def load_state(
    session: Session, loan_id: int, *, for_update: bool = False
) -> tuple[Loan, LoanState]:
    """The loan row and its state from the cached tables (`for_update` locks the loan row
    on PostgreSQL so that two postings on one loan serialise)."""
    query = select(Loan).where(Loan.id == loan_id)
    if for_update:
        query = query.with_for_update()
    loan = session.scalars(query).one_or_none()
    if loan is None:
        raise NotFound(f"loan {loan_id} does not exist", f"贷款 {loan_id} 不存在")
    product = load_product(session, loan.product_code, loan.product_version)
    rows = session.scalars(
        select(InstallmentRecord)
        .where(InstallmentRecord.loan_id == loan_id)
        .order_by(InstallmentRecord.number)
    ).all()
    return loan, state_of(loan, product, rows)


def state_of(loan: Loan, product: Product, rows: Sequence[InstallmentRecord]) -> LoanState:
    """The state of `loan` of `product` from its installment rows (in number order)."""
    installments = tuple(
        InstallmentState(
            r.number,
            r.start_date,
            r.due_date,
            _amounts(r, "due"),
            _amounts(r, "paid"),
            _amounts(r, "waived"),
            _amounts(r, "recognised"),
            r.cancelled,
        )
        for r in rows
    )
    charged = frozenset(r.number for r in rows if r.overdue_fee_charged)
    return LoanState(
        rules_for(loan, product),
        LoanStatus(loan.status),
        installments,
        loan.credit_balance_fen,
        loan.penalty_accrued_fen,
        loan.disbursed_on,
        loan.closed_on,
        loan.extension_count,
        loan.deferral_count,
        charged,
    )


def loan_cache(state: LoanState, as_of: date) -> dict[str, Any]:
    """The loan row's cached columns for `state` seen on business date `as_of`."""
    oldest = state.oldest_unpaid_due()
    dpd = days_past_due(as_of, oldest) if state.status.is_open else 0
    overdue = sum(i.outstanding_total for i in state.overdue_installments(as_of))
    return {
        "status": state.status.value,
        "principal_outstanding_fen": state.outstanding(Component.PRINCIPAL),
        "interest_outstanding_fen": state.outstanding(Component.INTEREST),
        "fee_outstanding_fen": state.outstanding(Component.FEE),
        "penalty_outstanding_fen": state.outstanding(Component.PENALTY),
        "credit_balance_fen": state.credit_balance_fen,
        "penalty_accrued_fen": state.penalty_accrued_fen,
        "overdue_fen": overdue if state.status.is_open else 0,
        "dpd": dpd,
        "bucket": DEFAULT_BUCKET_SCHEME.bucket_for(dpd).name,
        "oldest_unpaid_due": oldest if state.status.is_open else None,
        "extension_count": state.extension_count,
        "deferral_count": state.deferral_count,
        "disbursed_on": state.disbursed_on,
        "closed_on": state.closed_on,
        "maturity_date": state.maturity_date,
    }


def save_state(session: Session, loan: Loan, state: LoanState, as_of: date) -> None:
    """Write `state` into the loan row and its installment rows."""
    _assign(loan, loan_cache(state, as_of))
    if (loan.max_dpd or 0) < loan.dpd:
        loan.max_dpd = loan.dpd
    existing = {
        r.number: r
        for r in session.scalars(
            select(InstallmentRecord).where(InstallmentRecord.loan_id == loan.id)
        ).all()
    }
    grace = state.rules.grace_days
    for item in state.installments:
        row = existing.get(item.number)
        if row is None:
            row = InstallmentRecord(loan_id=loan.id, number=item.number)
            session.add(row)
        values: dict[str, Any] = {
            "start_date": item.start_date,
            "due_date": item.due_date,
            "cancelled": item.cancelled,
            "overdue_fee_charged": item.number in state.overdue_fee_charged,
            "status": "cancelled" if item.cancelled else item.status(as_of, grace).value,
        }
        for suffix, amounts in (
            ("due", item.due),
            ("paid", item.paid),
            ("waived", item.waived),
            ("recognised", item.recognised),
        ):
            for component in COMPONENTS:
                values[_COLUMN[component, suffix]] = amounts.get(component)
        _assign(row, values)


_COLUMN = {
    (component, suffix): f"{component.value}_{suffix}_fen"
    for component in COMPONENTS
    for suffix in ("due", "paid", "waived", "recognised")
}


def _assign(row: Any, values: dict[str, Any]) -> None:
    """Set the columns whose value changes: a row none of whose values change is not
    dirty, so the flush neither compares nor updates it (a repayment touches one or two
    installments of a loan's twelve)."""
    current = row.__dict__
    for column, value in values.items():
        if column not in current or current[column] != value:
            setattr(row, column, value)


# ---------------------------------------------------------------- the log


def txn_row(
    loan_id: int,
    txn: Txn,
    *,
    posted_on: date,
    applied: Amounts,
    credit_fen: int,
    actor: str,
    idempotency_key: str | None,
    external_ref: str | None = None,
) -> LoanTransaction:
    payload: dict[str, Any] = {}
    if txn.lines:
        payload["lines"] = [[ln.installment, ln.component.value, ln.fen] for ln in txn.lines]
    for name in ("installment", "days", "overdue_fee_installments"):
        value = getattr(txn, name)
        if value:
            payload[name] = list(value) if isinstance(value, tuple) else value
    if txn.new_due_date:
        payload["new_due_date"] = txn.new_due_date.isoformat()
    if txn.kind is TxnKind.DISBURSEMENT:
        payload["upfront_fee_fen"] = txn.upfront_fee_fen
        payload["upfront_fee_mode"] = txn.upfront_fee_mode
    if txn.new_installments:
        payload["new_installments"] = [
            [
                n.number,
                n.start_date.isoformat(),
                n.due_date.isoformat(),
                n.principal_fen,
                n.interest_fen,
                n.fee_fen,
            ]
            for n in txn.new_installments
        ]
    return LoanTransaction(
        loan_id=loan_id,
        seq=txn.seq,
        kind=txn.kind.value,
        value_date=txn.value_date,
        posted_on=posted_on,
        amount_fen=txn.amount_fen,
        principal_fen=applied.principal,
        interest_fen=applied.interest,
        fee_fen=applied.fee,
        penalty_fen=applied.penalty,
        credit_fen=credit_fen,
        channel=txn.channel,
        external_ref=external_ref,
        payload=json.dumps(payload) if payload else None,
        reverses_seq=txn.reverses_seq,
        reversed=False,
        idempotency_key=idempotency_key,
        actor=actor,
        created_at=clock.now(),
    )


def row_txn(row: LoanTransaction) -> Txn:
    payload: dict[str, Any] = json.loads(row.payload) if row.payload else {}
    return Txn(
        seq=row.seq,
        kind=TxnKind(row.kind),
        value_date=row.value_date,
        amount_fen=row.amount_fen,
        lines=tuple(TxnLine(n, Component(c), f) for n, c, f in payload.get("lines", [])),
        channel=row.channel or "default",
        reverses_seq=row.reverses_seq,
        installment=payload.get("installment"),
        new_due_date=(
            date.fromisoformat(payload["new_due_date"]) if payload.get("new_due_date") else None
        ),
        days=payload.get("days"),
        upfront_fee_fen=payload.get("upfront_fee_fen", 0),
        upfront_fee_mode=payload.get("upfront_fee_mode", "separate"),
        new_installments=tuple(
            NewInstallment(n, date.fromisoformat(s), date.fromisoformat(d), p, i, f)
            for n, s, d, p, i, f in payload.get("new_installments", [])
        ),
        overdue_fee_installments=tuple(payload.get("overdue_fee_installments", [])),
    )


def load_log(session: Session, loan_id: int) -> list[LoanTransaction]:
    return list(
        session.scalars(
            select(LoanTransaction)
            .where(LoanTransaction.loan_id == loan_id)
            .order_by(LoanTransaction.seq)
        ).all()
    )


def log_txns(rows: Sequence[LoanTransaction]) -> list[Txn]:
    return [row_txn(r) for r in rows]
