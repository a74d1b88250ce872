"""The pure loan account: scenarios checked by hand and the replay property."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xindai.errors import InvalidValue, XindaiError
from xindai.ledger.accounts import Line
from xindai.products.catalogue import demo_products
from xindai.products.model import (
    EarlySettlement,
    EarlySettlementInterest,
    PenaltyBase,
    PenaltyTerms,
    Product,
    ProductType,
)
from xindai.schedules import Method, PeriodUnit, UpfrontFeeMode, build_schedule
from xindai.servicing.account import (
    LoanStateError,
    apply,
    close_day,
    extension_quote,
    payoff_quote,
    replay,
    reprocess,
)
from xindai.servicing.allocation import Component as C
from xindai.servicing.state import LoanRules, LoanState, LoanStatus
from xindai.servicing.transactions import NewInstallment, Txn, TxnKind, TxnLine

D = Decimal
START = date(2026, 1, 15)


def monthly(**changes) -> Product:
    fields = dict(
        code="M3",
        name="月供 Monthly",
        type=ProductType.INSTALLMENT,
        terms=(3,),
        period_unit=PeriodUnit.MONTH,
        amount_min_fen=100_000,
        amount_max_fen=10_000_000,
        amount_step_fen=100,
        annual_rate=D("0.12"),
        method=Method.EQUAL_PRINCIPAL,
        grace_days=3,
        penalty=PenaltyTerms(
            daily_rate=D("0.001"), overdue_fee_fen=1_000, cap_rate_of_principal=D("0.05")
        ),
    )
    fields.update(changes)
    return Product(**fields)


def booked(product: Product, amount: int = 300_000, term: int = 3) -> LoanState:
    schedule = build_schedule(product.schedule_terms(amount, term, START))
    return LoanState.booked(LoanRules.from_product(product, amount), schedule)


class Loan:
    """A loan driven like production: postings during the day, close of business at night."""

    def __init__(self, product: Product, amount: int = 300_000, term: int = 3):
        self.booked = booked(product, amount, term)
        self.state = self.booked
        self.log: list[Txn] = []
        self.postings: list[tuple[Line, ...]] = []
        self.today = START
        self.post(Txn(0, TxnKind.DISBURSEMENT, START, amount))

    def post(self, txn: Txn) -> None:
        txn = replace(txn, seq=len(self.log) + 1)
        back_dated = txn.kind is TxnKind.REVERSAL or any(
            t.value_date > txn.value_date or (t.kind.is_system and t.value_date >= txn.value_date)
            for t in self.log
        )
        if back_dated:
            outcome = reprocess(self.booked, self.log, txn, self.today)
            self.log += [txn, *outcome.additions]
            self.state = outcome.state
        else:
            self.state, posting = apply(self.state, txn)
            self.postings.append(posting.lines)
            self.log.append(txn)

    def close(self, days: int = 1) -> None:
        for _ in range(days):
            for system in close_day(self.state, self.today):
                self.state, posting = apply(self.state, replace(system, seq=len(self.log) + 1))
                self.postings.append(posting.lines)
                self.log.append(replace(system, seq=len(self.log) + 1))
            self.today += timedelta(days=1)


def test_disbursement_entry_and_deducted_fee() -> None:
    loan = Loan(monthly())
    assert loan.state.status is LoanStatus.ACTIVE
    assert loan.postings[0] == (Line("1101", 300_000, 0), Line("1001", 0, 300_000, "default"))
    state = booked(monthly(upfront_fee_rate=D("0.02"), upfront_fee_mode=UpfrontFeeMode.DEDUCT))
    with pytest.raises(InvalidValue):
        apply(
            state,
            Txn(
                1,
                TxnKind.DISBURSEMENT,
                START,
                300_000,
                upfront_fee_fen=6_000,
                upfront_fee_mode="deduct",
            ),
        )
    _, posting = apply(
        state,
        Txn(
            1,
            TxnKind.DISBURSEMENT,
            START,
            294_000,
            upfront_fee_fen=6_000,
            upfront_fee_mode="deduct",
        ),
    )
    assert Line("4102", 0, 6_000) in posting.lines


def test_due_recognition_then_on_time_payment_leaves_nothing_receivable() -> None:
    loan = Loan(monthly())  # 1000.00 principal + 30.00 interest due Feb 15
    loan.close(31)  # through Feb 14
    assert loan.state.receivable(C.INTEREST) == 0
    loan.close(1)  # Feb 15: the first installment falls due
    assert loan.log[-1].kind is TxnKind.DUE and loan.log[-1].amount_fen == 3_000
    assert loan.postings[-1] == (Line("1102", 3_000, 0), Line("4101", 0, 3_000))
    loan.post(Txn(0, TxnKind.REPAYMENT, loan.today, 103_000))
    assert loan.state.installments[0].is_settled
    assert loan.state.receivable(C.INTEREST) == 0 and loan.state.status is LoanStatus.ACTIVE


def test_grace_then_penalty_overdue_fee_once_and_cap() -> None:
    loan = Loan(monthly())
    loan.close(32 + 3)  # through Feb 18: due Feb 15, three days' grace
    assert loan.state.penalty_accrued_fen == 0 and loan.state.status is LoanStatus.ACTIVE
    loan.close(1)  # Feb 19: first day past grace: overdue fee 10.00 + 0.1% of 1000.00
    last = loan.log[-1]
    assert last.kind is TxnKind.PENALTY_ACCRUAL and last.overdue_fee_installments == (1,)
    assert last.lines == (TxnLine(1, C.PENALTY, 1_000), TxnLine(1, C.PENALTY, 100))
    assert loan.state.status is LoanStatus.OVERDUE
    loan.close(1)
    assert loan.log[-1].lines == (TxnLine(1, C.PENALTY, 100),)  # no second overdue fee
    loan.close(200)  # the cap: 5% of 3000.00 = 150.00 in all
    assert loan.state.penalty_accrued_fen == 15_000
    assert loan.state.outstanding(C.PENALTY) == 15_000


def test_paying_inside_grace_never_charges_penalty() -> None:
    loan = Loan(monthly())
    loan.close(32 + 2)  # through Feb 17, inside grace
    loan.post(Txn(0, TxnKind.REPAYMENT, loan.today, 103_000))
    loan.close(5)
    assert loan.state.penalty_accrued_fen == 0


def test_allocation_penalty_first_and_overpayment() -> None:
    loan = Loan(monthly())
    loan.close(40)
    penalty = loan.state.outstanding(C.PENALTY)
    assert penalty > 0
    loan.post(Txn(0, TxnKind.REPAYMENT, loan.today, penalty + 500))
    first = loan.state.installments[0]
    assert first.paid.penalty == penalty and first.paid.fee == 0 and first.paid.interest == 500
    # the rest of installment 1 (1025.00) and the current installment 2 (1020.00), then
    # 500.00 prepays installment 3's principal: its unstarted period charges interest on
    # what is left, 10.00 × 500/1000 = 5.00
    loan.post(Txn(0, TxnKind.REPAYMENT, loan.today, 102_500 + 102_000 + 50_000))
    third = loan.state.installments[2]
    assert third.paid.principal == 50_000 and third.due.interest == 500
    assert loan.state.status is LoanStatus.ACTIVE
    # paying more than the payoff settles the loan; the rest is a credit balance
    payoff = payoff_quote(loan.state, loan.today).total_fen
    assert payoff == 50_000 + 0  # nothing started on installment 3 yet
    loan.post(Txn(0, TxnKind.REPAYMENT, loan.today, 10_000_000))
    assert loan.state.status is LoanStatus.SETTLED
    assert loan.state.credit_balance_fen == 10_000_000 - payoff
    loan.post(Txn(0, TxnKind.REFUND, loan.today, loan.state.credit_balance_fen))
    assert loan.state.credit_balance_fen == 0


def test_payoff_quote_to_date_and_full_period() -> None:
    loan = Loan(monthly())
    loan.close(10)  # Jan 25: ten days into the first period (31 days)
    quote = payoff_quote(loan.state, loan.today)
    # principal 3000.00; interest to date 30.00 × 10/31 = 9.677… → 9.68; nothing else
    assert quote.amounts.principal == 300_000 and quote.amounts.interest == 968
    assert quote.interest_saved_fen == 3_000 + 2_000 + 1_000 - 968
    loan.post(Txn(0, TxnKind.EARLY_SETTLEMENT, loan.today, quote.total_fen))
    assert loan.state.status is LoanStatus.SETTLED and loan.state.outstanding_total == 0
    full = Loan(
        monthly(
            early_settlement=EarlySettlement(
                interest=EarlySettlementInterest.FULL_PERIOD, fee_rate=D("0.01")
            )
        )
    )
    full.close(10)
    quote = payoff_quote(full.state, full.today)
    assert quote.amounts.interest == 3_000 and quote.settlement_fee_fen == 3_000
    with pytest.raises(InvalidValue):
        full.post(Txn(0, TxnKind.EARLY_SETTLEMENT, full.today, quote.total_fen - 1))


def test_extension_of_a_single_payment_loan() -> None:
    product = replace(demo_products()[0])  # CASH14: 18%, 7-day extension at 0.5%
    loan = Loan(product, 100_000, 14)
    loan.close(10)
    quote = extension_quote(loan.state, loan.today)
    # fee 0.5% of 1000.00 = 5.00; interest so far 7.00 × 10/14 = 5.00
    assert (quote.fee_fen, quote.interest_fen) == (500, 500)
    loan.post(Txn(0, TxnKind.EXTENSION, loan.today, quote.total_fen, days=7))
    item = loan.state.installments[0]
    assert item.due_date == START + timedelta(days=21)
    # 7 more days of interest on 1000.00 at 18%: 3.50
    assert item.due.interest == 700 + 350 and item.paid.interest == 500
    loan.post(
        Txn(
            0,
            TxnKind.EXTENSION,
            loan.today,
            extension_quote(loan.state, loan.today).total_fen,
            days=7,
        )
    )
    with pytest.raises(LoanStateError) as info:
        loan.post(Txn(0, TxnKind.EXTENSION, loan.today, 1, days=7))
    assert info.value.code == "EXTENSION_LIMIT"
    with pytest.raises(LoanStateError):
        Loan(monthly()).post(Txn(0, TxnKind.EXTENSION, START, 1, days=7))


def test_deferral_rules() -> None:
    loan = Loan(monthly())
    with pytest.raises(InvalidValue):  # more than one month
        loan.post(Txn(0, TxnKind.DEFERRAL, START, installment=1, new_due_date=date(2026, 3, 16)))
    with pytest.raises(InvalidValue):  # past the next installment's due date
        loan.post(Txn(0, TxnKind.DEFERRAL, START, installment=2, new_due_date=date(2026, 4, 15)))
    loan.post(Txn(0, TxnKind.DEFERRAL, START, installment=1, new_due_date=date(2026, 3, 1)))
    loan.post(Txn(0, TxnKind.DEFERRAL, START, installment=2, new_due_date=date(2026, 3, 20)))
    with pytest.raises(LoanStateError) as info:
        loan.post(Txn(0, TxnKind.DEFERRAL, START, installment=3, new_due_date=date(2026, 4, 20)))
    assert info.value.code == "DEFERRAL_LIMIT"
    loan.close(40)  # Feb 24: nothing overdue, the first installment now falls due Mar 1
    assert loan.state.penalty_accrued_fen == 0


def test_waiver_write_off_and_sale_entries() -> None:
    loan = Loan(monthly())
    loan.close(45)
    penalty = loan.state.outstanding(C.PENALTY)
    loan.post(Txn(0, TxnKind.WAIVER, loan.today, penalty, (TxnLine(1, C.PENALTY, penalty),)))
    assert loan.state.outstanding(C.PENALTY) == 0
    with pytest.raises(InvalidValue):
        loan.post(Txn(0, TxnKind.WAIVER, loan.today, 1, (TxnLine(1, C.PENALTY, 1),)))
    sold = replace(loan.state)
    state, posting = apply(sold, Txn(99, TxnKind.SALE, loan.today, 50_000))
    assert state.status is LoanStatus.SOLD
    assert Line("1001", 50_000, 0, "default") in posting.lines
    receivable = 300_000 + 3_000  # principal and the recognised first interest
    assert Line("6102", receivable - 50_000, 0) in posting.lines
    state, posting = apply(sold, Txn(99, TxnKind.WRITE_OFF, loan.today))
    assert state.status is LoanStatus.WRITTEN_OFF and state.outstanding_total == 0
    assert Line("6101", receivable, 0) in posting.lines


def test_restructure_capitalises_receivables() -> None:
    loan = Loan(monthly())
    loan.close(50)
    capital = (
        loan.state.outstanding(C.PRINCIPAL)
        + loan.state.receivable(C.INTEREST)
        + loan.state.receivable(C.PENALTY)
    )
    new = (
        NewInstallment(4, loan.today, loan.today + timedelta(days=30), capital - 1000, 500, 0),
        NewInstallment(
            5, loan.today + timedelta(days=30), loan.today + timedelta(days=60), 1000, 10, 0
        ),
    )
    loan.post(Txn(0, TxnKind.RESTRUCTURE, loan.today, capital, new_installments=new))
    assert [i.number for i in loan.state.live] == [4, 5]
    assert loan.state.outstanding(C.PRINCIPAL) == capital
    assert loan.state.receivable(C.PENALTY) == 0 and loan.state.status is LoanStatus.ACTIVE
    with pytest.raises(XindaiError):
        Loan(monthly()).post(Txn(0, TxnKind.RESTRUCTURE, START, 1, new_installments=new))


def test_back_dated_repayment_removes_the_penalty_it_prevents() -> None:
    loan = Loan(monthly())
    loan.close(45)  # penalties since Feb 19
    assert loan.state.penalty_accrued_fen > 0
    loan.post(Txn(0, TxnKind.REPAYMENT, date(2026, 2, 15), 103_000))  # paid on the due date
    assert loan.state.penalty_accrued_fen == 0
    assert loan.state.installments[0].is_settled
    assert replay(loan.booked, loan.log)[0] == loan.state
    # reversing it brings the penalties back
    loan.post(
        Txn(
            0,
            TxnKind.REVERSAL,
            loan.today,
            reverses_seq=next(t.seq for t in loan.log if t.kind is TxnKind.REPAYMENT),
        )
    )
    assert loan.state.penalty_accrued_fen > 0 and loan.state.status is LoanStatus.OVERDUE


EVENTS = st.lists(
    st.tuples(
        st.sampled_from(
            ["repay", "repay", "backdated", "reverse", "fee", "waive", "defer", "none", "none"]
        ),
        st.integers(1, 200_000),
        st.integers(1, 20),
    ),
    min_size=20,
    max_size=90,
)


@settings(max_examples=60, deadline=None)
@given(
    events=EVENTS,
    method=st.sampled_from([Method.EQUAL_PRINCIPAL, Method.ANNUITY, Method.INTEREST_FIRST]),
    on_total=st.booleans(),
)
def test_replaying_the_whole_log_equals_applying_one_by_one(events, method, on_total) -> None:
    product = monthly(
        method=method,
        penalty=PenaltyTerms(
            daily_rate=D("0.0007"),
            overdue_fee_fen=700,
            cap_rate_of_principal=D("0.08"),
            base=PenaltyBase.OVERDUE_TOTAL if on_total else PenaltyBase.OVERDUE_PRINCIPAL,
        ),
    )
    loan = Loan(product)
    for kind, amount, days in events:
        try:
            if kind == "repay":
                loan.post(Txn(0, TxnKind.REPAYMENT, loan.today, amount))
            elif kind == "backdated":
                day = max(START, loan.today - timedelta(days=days))
                loan.post(Txn(0, TxnKind.REPAYMENT, day, amount))
            elif kind == "reverse":
                candidates = [
                    t.seq
                    for t in loan.log
                    if t.kind is TxnKind.REPAYMENT
                    and not any(r.reverses_seq == t.seq for r in loan.log)
                ]
                if candidates:
                    loan.post(
                        Txn(
                            0,
                            TxnKind.REVERSAL,
                            loan.today,
                            reverses_seq=candidates[amount % len(candidates)],
                        )
                    )
            elif kind == "fee":
                loan.post(
                    Txn(
                        0,
                        TxnKind.FEE_CHARGE,
                        loan.today,
                        amount % 5_000 + 1,
                        (TxnLine(1 + amount % 3, C.FEE, amount % 5_000 + 1),),
                    )
                )
            elif kind == "waive":
                item = max(loan.state.live, key=lambda i: i.outstanding(C.PENALTY))
                if item.outstanding(C.PENALTY):
                    fen = 1 + amount % item.outstanding(C.PENALTY)
                    loan.post(
                        Txn(
                            0,
                            TxnKind.WAIVER,
                            loan.today,
                            fen,
                            (TxnLine(item.number, C.PENALTY, fen),),
                        )
                    )
            elif kind == "defer":
                item = loan.state.live[amount % len(loan.state.live)]
                loan.post(
                    Txn(
                        0,
                        TxnKind.DEFERRAL,
                        loan.today,
                        installment=item.number,
                        new_due_date=item.due_date + timedelta(days=days),
                    )
                )
        except XindaiError:
            pass  # a refused transaction leaves no trace
        loan.close(days % 4 + 1)
    replayed, postings = replay(loan.booked, loan.log)
    from xindai.servicing.account import refresh_status

    assert refresh_status(replayed, loan.today) == refresh_status(loan.state, loan.today)
    for _, posting in postings:  # every posting balances
        assert sum(ln.debit_fen for ln in posting.lines) == sum(
            ln.credit_fen for ln in posting.lines
        )
    # money: principal is repaid, waived or outstanding, never more than lent
    principal = sum(
        i.paid.principal + i.waived.principal + i.outstanding(C.PRINCIPAL) for i in replayed.live
    )
    assert principal == 300_000
