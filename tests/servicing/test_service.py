"""Servicing calls on a real database (SQLite and PostgreSQL): postings, idempotency,
concurrency, maker-checker, reversals, and the ledger agreeing with the loans."""

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from xindai.errors import InvalidValue
from xindai.ledger.reports import trial_balance
from xindai.products.catalogue import demo_products
from xindai.servicing.allocation import Component as C
from xindai.servicing.service import ApprovalError, IdempotencyConflict, LoanService
from xindai.servicing.state import LoanStatus
from xindai.servicing.transactions import TxnKind
from xindai.store import repository as repo
from xindai.store.models import ApprovalRequest, JournalLine, LoanTransaction

pytestmark = pytest.mark.db
START = date(2026, 1, 15)
PRODUCT = demo_products()[1]  # INST12: annuity, 1% amortised fee, 3 days' grace


@pytest.fixture
def service(session_factory) -> LoanService:
    with session_factory.begin() as session:
        repo.save_product(
            session, PRODUCT, created_by="ops", approved_by="lead", activated_on=START
        )
        repo.set_business_date(session, START)
    return LoanService(session_factory)


def open_loan(service: LoanService, amount: int = 1_200_000, term: int = 3) -> int:
    loan_id = service.book_loan(PRODUCT, borrower_id=7, amount_fen=amount, term=term, start=START)
    service.disburse(loan_id, value_date=START, idempotency_key=f"payout-{loan_id}")
    return loan_id


def ledger_matches_loans(service: LoanService, loan_ids: list[int]) -> None:
    """The trial balance balances and each receivable equals the loans' own."""
    with service.sessions() as session:
        balance = trial_balance(session, date(2099, 1, 1))
        assert balance.balanced
        states = [repo.load_state(session, i)[1] for i in loan_ids]
    for account, component in (
        ("1101", C.PRINCIPAL),
        ("1102", C.INTEREST),
        ("1103", C.FEE),
        ("1104", C.PENALTY),
    ):
        assert balance.balance(account) == sum(s.receivable(component) for s in states)
    assert -balance.balance("2101") == sum(s.credit_balance_fen for s in states)


def test_disburse_repay_in_part_then_in_full(service) -> None:
    loan_id = open_loan(service)
    state = service.state(loan_id)
    assert state.status is LoanStatus.ACTIVE
    first = service.repay(loan_id, 50_000, idempotency_key="r1", external_ref="PAY-1")
    assert first.applied["interest"] + first.applied["fee"] + first.applied["principal"] == 50_000
    ledger_matches_loans(service, [loan_id])
    rest = service.quote_payoff(loan_id, START)
    settled = service.settle_early(loan_id, amount_fen=rest.total_fen, idempotency_key="s1")
    assert settled.status == "settled"
    assert service.state(loan_id).outstanding_total == 0
    assert service.replayed_state(loan_id) == service.state(loan_id)
    ledger_matches_loans(service, [loan_id])
    with service.sessions() as session:
        cash = trial_balance(session, START).balance("1001")
    assert cash == -1_200_000 + 50_000 + rest.total_fen


def test_idempotency_key_posts_once(service) -> None:
    loan_id = open_loan(service)
    one = service.repay(loan_id, 10_000, idempotency_key="same")
    two = service.repay(loan_id, 10_000, idempotency_key="same")
    assert one == two
    with service.sessions() as session:
        count = session.scalar(
            select(func.count())
            .select_from(LoanTransaction)
            .where(LoanTransaction.loan_id == loan_id, LoanTransaction.kind == "repayment")
        )
    assert count == 1
    with pytest.raises(IdempotencyConflict) as info:
        service.repay(loan_id, 20_000, idempotency_key="same")
    assert info.value.code == "IDEMPOTENCY_KEY_REUSED"


def test_concurrent_repayments_never_lose_an_update(service) -> None:
    loan_id = open_loan(service, amount=5_000_000, term=12)
    errors: list[BaseException] = []

    def pay(worker: int) -> None:
        try:
            for k in range(5):
                service.repay(loan_id, 1_000 + worker, idempotency_key=f"c-{worker}-{k}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=pay, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    state = service.state(loan_id)
    paid = sum(i.paid.total for i in state.installments) + state.credit_balance_fen
    assert paid == sum(5 * (1_000 + w) for w in range(4))
    with service.sessions() as session:
        seqs = session.scalars(
            select(LoanTransaction.seq).where(LoanTransaction.loan_id == loan_id)
        ).all()
    assert sorted(seqs) == list(range(1, 22))
    assert service.replayed_state(loan_id) == state
    ledger_matches_loans(service, [loan_id])


def test_same_key_at_the_same_moment_posts_once(service) -> None:
    loan_id = open_loan(service)
    results = []

    def pay() -> None:
        results.append(service.repay(loan_id, 7_777, idempotency_key="race"))

    threads = [threading.Thread(target=pay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and len({r.seq for r in results}) == 1
    assert sum(i.paid.total for i in service.state(loan_id).installments) == 7_777


def test_maker_checker_waiver(service) -> None:
    loan_id = open_loan(service)
    request_id = service.request_approval(
        TxnKind.WAIVER,
        loan_id,
        {"lines": [[1, "fee", 1000]]},
        reason="complaint settled",
        requested_by="alice",
    )
    assert service.state(loan_id).installments[0].waived.fee == 0  # not yet effective
    with pytest.raises(ApprovalError):
        service.decide(request_id, approver="alice", approve=True)
    result = service.decide(request_id, approver="bob", approve=True, note="ok")
    assert result is not None and result.kind == "waiver"
    assert service.state(loan_id).installments[0].waived.fee == 1000
    with pytest.raises(ApprovalError):
        service.decide(request_id, approver="carol", approve=True)
    with service.sessions() as session:
        request = session.get(ApprovalRequest, request_id)
        assert (request.requested_by, request.decided_by, request.reason, request.status) == (
            "alice",
            "bob",
            "complaint settled",
            "approved",
        )
    rejected = service.request_approval(
        TxnKind.WRITE_OFF, loan_id, {}, reason="fraud", requested_by="alice"
    )
    assert service.decide(rejected, approver="bob", approve=False) is None
    assert service.state(loan_id).status is LoanStatus.ACTIVE
    with pytest.raises(InvalidValue):
        service.request_approval(TxnKind.REPAYMENT, loan_id, {}, reason="x", requested_by="a")
    ledger_matches_loans(service, [loan_id])


def test_write_off_and_sale_need_a_second_person(service) -> None:
    written, sold = open_loan(service), open_loan(service)
    request = service.request_approval(
        TxnKind.WRITE_OFF, written, {}, reason="uncollectable", requested_by="alice"
    )
    service.decide(request, approver="bob", approve=True)
    request = service.request_approval(
        TxnKind.SALE, sold, {"price_fen": 300_000}, reason="portfolio sale", requested_by="alice"
    )
    service.decide(request, approver="bob", approve=True)
    assert service.state(written).status is LoanStatus.WRITTEN_OFF
    assert service.state(sold).status is LoanStatus.SOLD
    with service.sessions() as session:
        balance = trial_balance(session, START)
    assert balance.balance("6101") == 1_200_000
    assert balance.balance("6102") == 1_200_000 - 300_000
    ledger_matches_loans(service, [written, sold])


def test_restructure_by_approval(service) -> None:
    loan_id = open_loan(service)
    request = service.request_approval(
        TxnKind.RESTRUCTURE,
        loan_id,
        {"annual_rate": "0.10", "term": 6, "method": "annuity"},
        reason="hardship",
        requested_by="alice",
    )
    service.decide(request, approver="bob", approve=True)
    state = service.state(loan_id)
    assert [i.number for i in state.live] == [4, 5, 6, 7, 8, 9]
    assert state.outstanding(C.PRINCIPAL) == 1_200_000
    assert service.replayed_state(loan_id) == state
    ledger_matches_loans(service, [loan_id])


def test_reversal_replays_and_the_journal_follows(service) -> None:
    loan_id = open_loan(service)
    first = service.repay(loan_id, 30_000, idempotency_key="a")
    service.repay(loan_id, 400_000, idempotency_key="b")
    reversal = service.reverse(loan_id, first.seq, reason="bounced", actor="ops")
    assert reversal.replayed
    state = service.state(loan_id)
    assert sum(i.paid.total for i in state.installments) + state.credit_balance_fen == 400_000
    assert service.replayed_state(loan_id) == state
    ledger_matches_loans(service, [loan_id])
    with pytest.raises(InvalidValue):
        service.reverse(loan_id, first.seq, reason="again", actor="ops")
    with service.sessions() as session:
        journal_rows = session.scalar(select(func.count()).select_from(JournalLine))
    assert journal_rows > 0


def test_refund_and_bad_calls(service) -> None:
    loan_id = open_loan(service)
    payoff = service.quote_payoff(loan_id, START).total_fen
    service.repay(loan_id, payoff + 5_000, idempotency_key="over")
    state = service.state(loan_id)
    assert state.status is LoanStatus.SETTLED and state.credit_balance_fen >= 5_000
    with pytest.raises(InvalidValue):
        service.refund(loan_id, amount_fen=state.credit_balance_fen + 1)
    service.refund(loan_id, amount_fen=state.credit_balance_fen, idempotency_key="refund")
    assert service.state(loan_id).credit_balance_fen == 0
    with pytest.raises(repo.NotFound):
        service.repay(99_999, 100)
    with pytest.raises(InvalidValue):
        service.repay(loan_id, 0)
    ledger_matches_loans(service, [loan_id])


def test_back_dated_repayment_after_close_of_business(service) -> None:
    from xindai.cob.runner import run_cob

    loan_id = open_loan(service)
    run_cob(service.sessions, until=date(2026, 3, 1))  # installment 1 (Feb 15) goes overdue
    before = service.state(loan_id)
    assert before.status is LoanStatus.OVERDUE and before.penalty_accrued_fen > 0
    due = before.installments[0].due
    result = service.repay(
        loan_id,
        due.principal + due.interest + due.fee,
        value_date=date(2026, 2, 15),
        idempotency_key="late-posting",
        external_ref="BANK-1",
    )
    assert result.replayed
    after = service.state(loan_id)
    assert after.penalty_accrued_fen == 0 and after.installments[0].is_settled
    assert after.status is LoanStatus.ACTIVE
    assert service.replayed_state(loan_id) == after
    ledger_matches_loans(service, [loan_id])
    with service.sessions() as session:
        kinds = session.scalars(
            select(LoanTransaction.kind)
            .where(LoanTransaction.loan_id == loan_id)
            .order_by(LoanTransaction.seq)
        ).all()
    assert "reversal" in kinds  # the stale penalty accruals were reversed, not deleted


def test_reconciliation_of_a_channel_statement(service, tmp_path) -> None:
    from xindai.ledger.reconcile import read_statement, reconcile

    loan_id = service.book_loan(PRODUCT, borrower_id=1, amount_fen=1_200_000, term=3, start=START)
    service.disburse(loan_id, value_date=START, external_ref="PO-1", idempotency_key="po")
    service.repay(loan_id, 10_000, external_ref="RP-1", idempotency_key="rp1")
    service.repay(loan_id, 20_000, external_ref="RP-2", idempotency_key="rp2")
    statement = tmp_path / "statement.csv"
    statement.write_text(
        "date,channel,reference,type,amount\n"
        f"{START},default,PO-1,payout,12000.00\n"
        f"{START},default,RP-1,collection,100.00\n"
        f"{START},default,RP-2,collection,200.01\n"
        f"{START},default,RP-9,collection,50.00\n",
        encoding="utf-8",
    )
    with service.sessions() as session:
        [result] = reconcile(session, read_statement(statement))
    assert result.matched == 2
    breaks = {(b.reference, b.kind) for b in result.breaks}
    assert breaks == {("RP-2", "amount_mismatch"), ("RP-9", "missing_in_journal")}
    statement.write_text(
        f"date,channel,reference,type,amount\n{START},default,PO-1,payout,12000.00\n",
        encoding="utf-8",
    )
    with service.sessions() as session:
        [result] = reconcile(session, read_statement(statement))
    assert {(b.reference, b.kind) for b in result.breaks} == {
        ("RP-1", "missing_in_statement"),
        ("RP-2", "missing_in_statement"),
    }
    statement.write_text("date,channel,reference,kind,amount\n", encoding="utf-8")
    with pytest.raises(InvalidValue):
        read_statement(statement)
