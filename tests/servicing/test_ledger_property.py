"""Property: whatever happens to loans, the trial balance balances on every business date and
the ledger's receivables equal the loans' own (SQLite; PostgreSQL runs the same code in
test_service.py)."""

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from xindai.cob.runner import run_cob
from xindai.errors import XindaiError
from xindai.ledger.reports import trial_balance
from xindai.products.catalogue import demo_products
from xindai.servicing.allocation import Component as C
from xindai.servicing.service import LoanService
from xindai.servicing.transactions import TxnKind
from xindai.store import migrate
from xindai.store import repository as repo
from xindai.store.db import make_engine, session_factory
from xindai.store.models import Loan

START = date(2026, 3, 1)
ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["book", "repay", "backdated", "reverse", "waive", "cob", "cob", "refund"]),
        st.integers(1, 500_000),
        st.integers(0, 5),
    ),
    min_size=5,
    max_size=25,
)


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'p.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = session_factory(engine)
    with factory.begin() as session:
        for product in demo_products():
            repo.save_product(session, product, created_by="ops", approved_by="lead")
        repo.set_business_date(session, START)
    yield factory
    engine.dispose()


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=ACTIONS)
def test_trial_balance_always_balances(sessions, actions) -> None:
    service = LoanService(sessions)
    loans: list[int] = []
    for kind, amount, pick in actions:
        with sessions() as session:
            today = repo.require_business_date(session)
        try:
            if kind == "book" or not loans:
                product = demo_products()[pick % 4]
                loan_id = service.book_loan(
                    product,
                    borrower_id=1,
                    amount_fen=product.amount_min_fen,
                    term=product.terms[0],
                    start=today,
                )
                service.disburse(loan_id, value_date=today)
                loans.append(loan_id)
            elif kind == "repay":
                service.repay(loans[pick % len(loans)], amount)
            elif kind == "backdated":
                service.repay(
                    loans[pick % len(loans)],
                    amount,
                    value_date=max(START, today - timedelta(days=pick + 1)),
                )
            elif kind == "reverse":
                loan_id = loans[pick % len(loans)]
                with sessions() as session:
                    rows = [
                        r
                        for r in repo.load_log(session, loan_id)
                        if r.kind == "repayment" and not r.reversed
                    ]
                if rows:
                    service.reverse(loan_id, rows[-1].seq, reason="bounced", actor="ops")
            elif kind == "waive":
                loan_id = loans[pick % len(loans)]
                state = service.state(loan_id)
                item = next((i for i in state.live if i.outstanding(C.PENALTY)), None)
                if item is not None:
                    request = service.request_approval(
                        TxnKind.WAIVER,
                        loan_id,
                        {"lines": [[item.number, "penalty", item.outstanding(C.PENALTY)]]},
                        reason="goodwill",
                        requested_by="a",
                    )
                    service.decide(request, approver="b", approve=True)
            elif kind == "refund":
                loan_id = loans[pick % len(loans)]
                credit = service.state(loan_id).credit_balance_fen
                if credit:
                    service.refund(loan_id, amount_fen=credit)
            else:
                run_cob(sessions, until=today + timedelta(days=pick * 7))
        except XindaiError:
            pass  # refused calls leave nothing behind
    with sessions() as session:
        today = repo.require_business_date(session)
        for day in (START, today - timedelta(days=1), today):
            assert trial_balance(session, day).balanced
        balance = trial_balance(session, today)
        states = [
            repo.load_state(session, loan_id)[1]
            for loan_id in session.scalars(select(Loan.id)).all()
        ]
    assert balance.balance("1101") == sum(s.receivable(C.PRINCIPAL) for s in states)
    assert balance.balance("1104") == sum(s.receivable(C.PENALTY) for s in states)
    for loan_id in loans:
        assert service.replayed_state(loan_id) == service.state(loan_id)
