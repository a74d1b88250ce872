"""The loan account: applying a transaction to a state, close of business for one loan,
payoff quotes and replay of a log (SPEC §4). Pure functions; the store persists results.

A loan's state is what replaying its log gives: `replay` folds `apply` over the log in
(value date, sequence) order, leaving out reversed transactions and the reversals
themselves. `close_day` produces the system transactions (due recognition and penalty
accrual) that close of business posts for one date; the set-based COB computes the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from xindai.dates import add_days, add_months
from xindai.errors import InvalidValue, XindaiError
from xindai.ledger import accounts as acc
from xindai.money import Fen, percent_of, round_half_up_ratio
from xindai.servicing.allocation import AllocationMode, InstallmentDue, allocate
from xindai.servicing.allocation import Component as C
from xindai.servicing.state import (
    COMPONENTS,
    Amounts,
    InstallmentState,
    LoanState,
    LoanStatus,
)
from xindai.servicing.transactions import Posting, Txn, TxnKind, TxnLine

RECEIVABLE = {
    C.PRINCIPAL: acc.PRINCIPAL_RECEIVABLE,
    C.INTEREST: acc.INTEREST_RECEIVABLE,
    C.FEE: acc.FEE_RECEIVABLE,
    C.PENALTY: acc.PENALTY_RECEIVABLE,
}
INCOME = {C.INTEREST: acc.INTEREST_INCOME, C.FEE: acc.FEE_INCOME, C.PENALTY: acc.PENALTY_INCOME}


class LoanStateError(XindaiError):
    """A transaction that the loan's state does not allow."""

    code = "LOAN_STATE"


def _refuse(code: str, en: str, zh: str) -> LoanStateError:
    error = LoanStateError(en, zh)
    error.code = code
    return error


def _set(state: LoanState, updated: dict[int, InstallmentState]) -> LoanState:
    return replace(state, installments=tuple(updated.get(i.number, i) for i in state.installments))


def refresh_status(state: LoanState, as_of: date) -> LoanState:
    """Active / overdue / settled from the amounts and the date; closed states stay."""
    if state.status.is_closed or state.status in (LoanStatus.PENDING, LoanStatus.DISBURSING):
        return state
    if state.outstanding_total == 0:
        return replace(state, status=LoanStatus.SETTLED, closed_on=state.closed_on or as_of)
    status = LoanStatus.OVERDUE if state.overdue_installments(as_of) else LoanStatus.ACTIVE
    return replace(state, status=status, closed_on=None)


def _require_open(state: LoanState, txn: Txn) -> None:
    if not state.status.is_open:
        raise _refuse(
            "LOAN_NOT_OPEN",
            f"loan is {state.status.value}; {txn.kind.value} needs an active loan",
            f"贷款状态为 {state.status.value}，不能办理该业务",
        )


# ---------------------------------------------------------------- paying and allocation


def _pay(
    state: LoanState,
    txn: Txn,
    amount: Fen,
    full: Sequence[InstallmentState],
    prepay: Sequence[InstallmentState],
) -> tuple[LoanState, Posting]:
    """Spread `amount` by the allocation order over `full` (all components, oldest first);
    what is left prepays the principal of `prepay` from the last installment back (the term
    shortens), and the rest goes to the credit balance. Periods not yet started that lost
    principal have their interest recomputed in proportion to the principal left."""
    rules = state.rules
    lines: list[TxnLine] = []
    remaining = amount
    if full:
        dues = [
            InstallmentDue(
                i.number,
                i.due_date,
                penalty_fen=i.outstanding(C.PENALTY),
                fee_fen=i.outstanding(C.FEE),
                interest_fen=i.outstanding(C.INTEREST),
                principal_fen=i.outstanding(C.PRINCIPAL),
            )
            for i in full
        ]
        allocation = allocate(
            dues, remaining, rules.allocation_order, AllocationMode.BY_INSTALLMENT
        )
        lines += [
            TxnLine(ln.installment_number, ln.component, ln.amount_fen) for ln in allocation.lines
        ]
        remaining = allocation.excess_fen
    for item in reversed(prepay):
        take = min(remaining, item.outstanding(C.PRINCIPAL))
        if take:
            lines.append(TxnLine(item.number, C.PRINCIPAL, take))
            remaining -= take
    updated: dict[int, InstallmentState] = {}
    journal = [acc.debit(acc.CHANNEL_CASH, amount, txn.channel)]
    applied = Amounts()
    for line in lines:
        current = updated.get(line.installment) or state.installment(line.installment)
        receivable_part = min(line.fen, max(0, current.receivable(line.component)))
        income_part = line.fen - receivable_part
        if receivable_part:
            journal.append(acc.credit(RECEIVABLE[line.component], receivable_part))
        if income_part:  # paid before it was due: income straight away
            journal.append(acc.credit(INCOME[line.component], income_part))
        updated[line.installment] = replace(
            current,
            paid=current.paid.add(line.component, line.fen),
            recognised=current.recognised.add(line.component, income_part),
        )
        applied = applied.add(line.component, line.fen)
    if remaining:
        journal.append(acc.credit(acc.CREDIT_BALANCES, remaining))
    new_state = replace(
        _set(state, updated), credit_balance_fen=state.credit_balance_fen + remaining
    )
    if prepay and any(ln.installment in {i.number for i in prepay} for ln in lines):
        new_state = _reamortise(state, new_state, txn.value_date)
    return refresh_status(new_state, txn.value_date), Posting(
        acc.entry(*journal), applied, remaining, tuple(lines)
    )


def _reamortise(before: LoanState, after: LoanState, as_of: date) -> LoanState:
    """After a principal prepayment: every period that has not started charges interest on
    the principal left, i.e. round(interest × left / before); an installment left with no
    principal and nothing booked is dropped with its interest and fee (the term shortens)."""

    def balance(state: LoanState, number: int) -> Fen:
        return sum(i.outstanding(C.PRINCIPAL) for i in state.live if i.number >= number)

    updated: dict[int, InstallmentState] = {}
    for item in after.live:
        if item.start_date < as_of or item.recognised.interest or item.is_settled:
            continue
        old, new = balance(before, item.number), balance(after, item.number)
        if old == 0 or new == old:
            continue
        interest = round_half_up_ratio(item.due.interest * new, old)
        fee = item.due.fee if new else item.paid.fee + item.waived.fee
        updated[item.number] = replace(item, due=replace(item.due, interest=interest, fee=fee))
    return _set(after, updated)


def _unsettled(state: LoanState) -> list[InstallmentState]:
    return [i for i in state.live if not i.is_settled]


def _repay(state: LoanState, txn: Txn) -> tuple[LoanState, Posting]:
    if state.status not in (LoanStatus.ACTIVE, LoanStatus.OVERDUE, LoanStatus.SETTLED):
        raise _refuse(
            "LOAN_NOT_OPEN",
            f"cannot repay a {state.status.value} loan",
            f"贷款状态为 {state.status.value}，不能还款",
        )
    if txn.amount_fen <= 0:
        raise InvalidValue("amount", txn.amount_fen, "must be positive", "还款金额必须大于零")
    if (
        state.status.is_open
        and state.rules.early_settlement_allowed
        and (txn.amount_fen >= payoff_quote(state, txn.value_date).total_fen)
    ):
        return _settle_early(state, txn)  # enough to pay off: settle, the rest is a credit
    unsettled = _unsettled(state)
    due_now = [i for i in unsettled if i.due_date <= txn.value_date]
    ahead = [i for i in unsettled if i.due_date > txn.value_date]
    full = due_now + ahead[:1]  # what is due plus the current period's installment
    later = ahead[1:] if state.rules.allow_prepayment else []
    return _pay(state, txn, txn.amount_fen, full, later)


# ---------------------------------------------------------------- quotes


@dataclass(frozen=True, slots=True)
class PayoffQuote:
    """提前结清报价: what settles the loan on `as_of`, by component."""

    as_of: date
    amounts: Amounts
    settlement_fee_fen: Fen
    interest_saved_fen: Fen  # contractual interest no longer charged

    @property
    def total_fen(self) -> Fen:
        return self.amounts.total + self.settlement_fee_fen


def _charged_interest(state: LoanState, item: InstallmentState, as_of: date) -> Fen:
    """Interest still owed on `item` if the loan ends on `as_of` (not yet due items)."""
    from xindai.products.model import EarlySettlementInterest

    if item.due_date <= as_of:
        return item.outstanding(C.INTEREST)
    if as_of <= item.start_date:
        return 0
    if state.rules.early_settlement_interest is EarlySettlementInterest.FULL_PERIOD:
        return item.outstanding(C.INTEREST)
    days, elapsed = (item.due_date - item.start_date).days, (as_of - item.start_date).days
    to_date = round_half_up_ratio(item.due.interest * elapsed, days)
    return max(0, to_date - item.paid.interest - item.waived.interest)


def payoff_quote(state: LoanState, as_of: date) -> PayoffQuote:
    """The amount that settles the loan on `as_of` (SPEC §4 early settlement)."""
    if not state.status.is_open:
        raise _refuse(
            "LOAN_NOT_OPEN",
            f"no payoff quote for a {state.status.value} loan",
            f"贷款状态为 {state.status.value}，无法报价",
        )
    amounts, saved, not_due_principal = Amounts(), 0, 0
    for item in _unsettled(state):
        interest = _charged_interest(state, item, as_of)
        saved += item.outstanding(C.INTEREST) - interest
        started = item.due_date <= as_of or item.start_date < as_of
        fee = item.outstanding(C.FEE) if started else 0
        if item.due_date > as_of:
            not_due_principal += item.outstanding(C.PRINCIPAL)
        amounts = amounts.plus(
            Amounts(item.outstanding(C.PRINCIPAL), interest, fee, item.outstanding(C.PENALTY))
        )
    fee = percent_of(not_due_principal, state.rules.early_settlement_fee_rate)
    return PayoffQuote(as_of, amounts, fee, saved)


def _settle_early(state: LoanState, txn: Txn) -> tuple[LoanState, Posting]:
    _require_open(state, txn)
    if not state.rules.early_settlement_allowed:
        raise _refuse(
            "EARLY_SETTLEMENT_NOT_ALLOWED",
            "the product does not allow early settlement",
            "该产品不支持提前结清",
        )
    quote = payoff_quote(state, txn.value_date)
    if txn.amount_fen < quote.total_fen:
        raise InvalidValue(
            "amount",
            txn.amount_fen,
            f"the payoff on {txn.value_date} is {quote.total_fen} fen",
            f"结清金额应为 {quote.total_fen} 分",
        )
    updated: dict[int, InstallmentState] = {}
    unsettled = _unsettled(state)
    for item in unsettled:  # end the contract: interest and fees not yet earned are dropped
        interest = _charged_interest(state, item, txn.value_date)
        started = item.due_date <= txn.value_date or item.start_date < txn.value_date
        fee_due = item.due.fee if started else item.paid.fee + item.waived.fee
        updated[item.number] = replace(
            item,
            due=replace(
                item.due, interest=item.paid.interest + item.waived.interest + interest, fee=fee_due
            ),
        )
    if quote.settlement_fee_fen and unsettled:
        last = updated[unsettled[-1].number]
        updated[last.number] = replace(last, due=last.due.add(C.FEE, quote.settlement_fee_fen))
    ended = _set(state, updated)
    return _pay(ended, txn, txn.amount_fen, _unsettled(ended), [])


# ---------------------------------------------------------------- system transactions


def _recognise(state: LoanState, txn: Txn) -> tuple[LoanState, Posting]:
    updated: dict[int, InstallmentState] = {}
    journal: list[acc.Line] = []
    applied = Amounts()
    for line in txn.lines:
        item = updated.get(line.installment) or state.installment(line.installment)
        if txn.kind is TxnKind.PENALTY_ACCRUAL or txn.kind is TxnKind.FEE_CHARGE:
            item = replace(item, due=item.due.add(line.component, line.fen))
        updated[line.installment] = replace(
            item, recognised=item.recognised.add(line.component, line.fen)
        )
        journal += [
            acc.debit(RECEIVABLE[line.component], line.fen),
            acc.credit(INCOME[line.component], line.fen),
        ]
        applied = applied.add(line.component, line.fen)
    new_state = _set(state, updated)
    if txn.kind is TxnKind.PENALTY_ACCRUAL:
        new_state = replace(
            new_state,
            penalty_accrued_fen=state.penalty_accrued_fen + applied.penalty,
            overdue_fee_charged=state.overdue_fee_charged | set(txn.overdue_fee_installments),
        )
    return refresh_status(new_state, txn.value_date), Posting(
        acc.entry(*journal), applied, 0, txn.lines
    )


def close_day(state: LoanState, day: date) -> list[Txn]:
    """The system transactions close of business posts for `day` (seq 0: the caller numbers
    them): recognition of what falls due, then penalty accrual on what is past grace."""
    if not state.status.is_open:
        return []
    result: list[Txn] = []
    due_lines = []
    for item in state.live:
        if item.due_date <= day:
            for component in (C.INTEREST, C.FEE):
                unrecognised = item.due.get(component) - item.recognised.get(component)
                if unrecognised > 0:
                    due_lines.append(TxnLine(item.number, component, unrecognised))
    if due_lines:
        result.append(Txn(0, TxnKind.DUE, day, sum(ln.fen for ln in due_lines), tuple(due_lines)))
    rules = state.rules
    overdue = state.overdue_installments(day)
    if overdue:
        room = (
            rules.penalty_cap_fen - state.penalty_accrued_fen
            if rules.penalty_cap_fen is not None
            else None
        )
        penalty_lines: list[TxnLine] = []
        charged_fees: list[int] = []
        for item in overdue:
            if rules.overdue_fee_fen and item.number not in state.overdue_fee_charged:
                fee = (
                    rules.overdue_fee_fen
                    if room is None
                    else max(
                        0, min(rules.overdue_fee_fen, room - sum(ln.fen for ln in penalty_lines))
                    )
                )
                charged_fees.append(item.number)
                if fee:
                    penalty_lines.append(TxnLine(item.number, C.PENALTY, fee))
        base = sum(
            item.outstanding(C.PRINCIPAL)
            + (
                item.outstanding(C.INTEREST) + item.outstanding(C.FEE)
                if rules.penalty_on_total
                else 0
            )
            for item in overdue
        )
        numerator, denominator = rules.penalty_daily_rate.as_integer_ratio()
        daily = round_half_up_ratio(base * numerator, denominator)
        if room is not None:
            daily = max(0, min(daily, room - sum(ln.fen for ln in penalty_lines)))
        if daily:
            penalty_lines.append(TxnLine(overdue[0].number, C.PENALTY, daily))
        if penalty_lines or charged_fees:
            result.append(
                Txn(
                    0,
                    TxnKind.PENALTY_ACCRUAL,
                    day,
                    sum(ln.fen for ln in penalty_lines),
                    tuple(penalty_lines),
                    overdue_fee_installments=tuple(charged_fees),
                )
            )
    return result


# ---------------------------------------------------------------- servicing actions


def _disburse(state: LoanState, txn: Txn) -> tuple[LoanState, Posting]:
    if state.status not in (LoanStatus.PENDING, LoanStatus.DISBURSING):
        raise _refuse(
            "LOAN_ALREADY_DISBURSED", f"loan is {state.status.value}", "贷款已放款或已关闭"
        )
    principal = state.rules.principal_fen
    fee, mode = txn.upfront_fee_fen, txn.upfront_fee_mode
    payout = principal - fee if mode == "deduct" else principal
    if txn.amount_fen != payout:
        raise InvalidValue(
            "amount",
            txn.amount_fen,
            f"the payout must be {payout} fen",
            f"放款金额应为 {payout} 分",
        )
    journal = [
        acc.debit(acc.PRINCIPAL_RECEIVABLE, principal),
        acc.credit(acc.CHANNEL_CASH, payout, txn.channel),
    ]
    if mode in ("deduct", "separate") and fee:
        if mode == "separate":
            journal.append(acc.debit(acc.CHANNEL_CASH, fee, txn.channel))
        journal.append(acc.credit(acc.FEE_INCOME, fee))
    installments = tuple(
        replace(i, recognised=i.recognised.add(C.PRINCIPAL, i.due.principal))
        for i in state.installments
    )
    new_state = replace(
        state, installments=installments, status=LoanStatus.ACTIVE, disbursed_on=txn.value_date
    )
    return refresh_status(new_state, txn.value_date), Posting(
        acc.entry(*journal), Amounts(principal=principal)
    )


def _waive(state: LoanState, txn: Txn, *, write_off: bool = False) -> tuple[LoanState, Posting]:
    _require_open(state, txn)
    updated: dict[int, InstallmentState] = {}
    journal: list[acc.Line] = []
    applied = Amounts()
    for line in txn.lines:
        item = updated.get(line.installment) or state.installment(line.installment)
        if line.fen <= 0 or line.fen > item.outstanding(line.component):
            raise InvalidValue(
                "waiver",
                f"{line.component.value} {line.fen}",
                f"installment {line.installment} has "
                f"{item.outstanding(line.component)} fen outstanding",
                f"第 {line.installment} 期该项未还 {item.outstanding(line.component)} 分",
            )
        receivable = min(line.fen, max(0, item.receivable(line.component)))
        if receivable:
            loss = (
                acc.WRITE_OFF_LOSS
                if write_off or line.component is C.PRINCIPAL
                else INCOME[line.component]
            )
            journal += [
                acc.debit(loss, receivable),
                acc.credit(RECEIVABLE[line.component], receivable),
            ]
        # what was never booked needs no entry: it was never income
        updated[line.installment] = replace(
            item,
            waived=item.waived.add(line.component, line.fen),
            recognised=item.recognised.add(line.component, line.fen - receivable),
        )
        applied = applied.add(line.component, line.fen)
    new_state = refresh_status(_set(state, updated), txn.value_date)
    return new_state, Posting(acc.entry(*journal), applied, 0, txn.lines)


def _close_out(state: LoanState, txn: Txn, status: LoanStatus) -> tuple[LoanState, Posting]:
    """Write-off or sale: derecognise every receivable; drop what was never booked."""
    _require_open(state, txn)
    updated: dict[int, InstallmentState] = {}
    receivables = Amounts()
    for item in _unsettled(state):
        booked = Amounts(*(max(0, item.receivable(c)) for c in COMPONENTS))
        receivables = receivables.plus(booked)
        due = Amounts(*(item.paid.get(c) + item.waived.get(c) + booked.get(c) for c in COMPONENTS))
        updated[item.number] = replace(item, due=due, waived=item.waived.plus(booked))
    journal = [acc.credit(RECEIVABLE[c], receivables.get(c)) for c in COMPONENTS]
    if status is LoanStatus.WRITTEN_OFF:
        journal.append(acc.debit(acc.WRITE_OFF_LOSS, receivables.total))
    else:
        if txn.amount_fen < 0:
            raise InvalidValue("price", txn.amount_fen, "must not be negative", "转让价格不能为负")
        journal += [
            acc.debit(acc.CHANNEL_CASH, txn.amount_fen, txn.channel),
            acc.debit(acc.SALE_LOSS, receivables.total - txn.amount_fen),
        ]
    new_state = replace(_set(state, updated), status=status, closed_on=txn.value_date)
    return new_state, Posting(acc.entry(*journal), receivables)


def _extend(state: LoanState, txn: Txn) -> tuple[LoanState, Posting]:
    _require_open(state, txn)
    rules = state.rules
    if not rules.extension_allowed or not rules.single_payment:
        raise _refuse(
            "EXTENSION_NOT_ALLOWED", "the product does not allow extension", "该产品不支持展期"
        )
    if state.extension_count >= rules.extension_max:
        raise _refuse(
            "EXTENSION_LIMIT",
            f"at most {rules.extension_max} extensions",
            f"最多展期 {rules.extension_max} 次",
        )
    item = _unsettled(state)[0]
    quote = extension_quote(state, txn.value_date)
    if txn.amount_fen != quote.total_fen:
        raise InvalidValue(
            "amount",
            txn.amount_fen,
            f"the extension costs {quote.total_fen} fen",
            f"展期应付 {quote.total_fen} 分",
        )
    days = rules.extension_days
    extra = round_half_up_ratio(
        item.outstanding(C.PRINCIPAL) * days * rules.annual_rate.as_integer_ratio()[0],
        rules.annual_rate.as_integer_ratio()[1] * rules.day_count.days_in_year,
    )
    charged = replace(
        item,
        due=item.due.add(C.FEE, quote.fee_fen),
        recognised=item.recognised.add(C.FEE, quote.fee_fen),
    )
    state = _set(state, {item.number: charged})
    paid_state, posting = _pay(state, txn, txn.amount_fen, [charged], [])
    moved = paid_state.installment(item.number)
    moved = replace(
        moved, due_date=add_days(moved.due_date, days), due=moved.due.add(C.INTEREST, extra)
    )
    journal = acc.entry(
        acc.debit(acc.FEE_RECEIVABLE, quote.fee_fen),
        acc.credit(acc.FEE_INCOME, quote.fee_fen),
        *posting.lines,
    )
    new_state = replace(
        _set(paid_state, {moved.number: moved}), extension_count=state.extension_count + 1
    )
    return refresh_status(new_state, txn.value_date), replace(posting, lines=journal)


@dataclass(frozen=True, slots=True)
class ExtensionQuote:
    fee_fen: Fen
    interest_fen: Fen

    @property
    def total_fen(self) -> Fen:
        return self.fee_fen + self.interest_fen


def extension_quote(state: LoanState, as_of: date) -> ExtensionQuote:
    """展期: the extension fee plus the interest so far (to `as_of`); LOAN_NOT_OPEN when
    nothing is left to extend (e.g. the loan was settled meanwhile)."""
    unsettled = _unsettled(state)
    if not state.status.is_open or not unsettled:
        raise _refuse(
            "LOAN_NOT_OPEN",
            f"no extension quote for a {state.status.value} loan",
            f"贷款状态为 {state.status.value}，无法展期",
        )
    item = unsettled[0]
    return ExtensionQuote(
        percent_of(item.outstanding(C.PRINCIPAL), state.rules.extension_fee_rate),
        _charged_interest(state, item, as_of),
    )


def _defer(state: LoanState, txn: Txn) -> tuple[LoanState, Posting]:
    _require_open(state, txn)
    if state.deferral_count >= state.rules.deferral_max:
        raise _refuse(
            "DEFERRAL_LIMIT",
            f"at most {state.rules.deferral_max} deferrals per loan",
            f"每笔贷款最多延期 {state.rules.deferral_max} 次",
        )
    if txn.installment is None or txn.new_due_date is None:
        raise InvalidValue(
            "deferral",
            txn.installment,
            "needs an installment and a new date",
            "需指定期数和新到期日",
        )
    item = state.installment(txn.installment)
    if item.is_settled or item.cancelled:
        raise InvalidValue("installment", txn.installment, "is already settled", "该期已结清")
    latest = add_months(item.due_date, 1)
    if not item.due_date < txn.new_due_date <= latest:
        raise InvalidValue(
            "new_due_date",
            txn.new_due_date.isoformat(),
            f"must be after {item.due_date} and at most one month later ({latest})",
            f"应晚于原到期日且不超过一个月（{latest}）",
        )
    later = [i for i in state.live if i.number > item.number]
    if later and txn.new_due_date >= later[0].due_date:
        raise InvalidValue(
            "new_due_date",
            txn.new_due_date.isoformat(),
            f"must be before the next installment's due date {later[0].due_date}",
            f"应早于下一期到期日 {later[0].due_date}",
        )
    moved = replace(item, due_date=txn.new_due_date)
    new_state = replace(_set(state, {item.number: moved}), deferral_count=state.deferral_count + 1)
    return refresh_status(new_state, txn.value_date), Posting()


def _restructure(state: LoanState, txn: Txn) -> tuple[LoanState, Posting]:
    """债务重组: every booked receivable is capitalised into a new schedule's principal."""
    _require_open(state, txn)
    unsettled = _unsettled(state)
    booked = Amounts()
    updated: dict[int, InstallmentState] = {}
    for item in unsettled:
        take = Amounts(
            item.outstanding(C.PRINCIPAL), *(max(0, item.receivable(c)) for c in COMPONENTS[1:])
        )
        booked = booked.plus(take)
        due = Amounts(*(item.paid.get(c) + item.waived.get(c) for c in COMPONENTS))
        updated[item.number] = replace(item, due=due, recognised=due, cancelled=True)
    new_principal = booked.total
    if sum(n.principal_fen for n in txn.new_installments) != new_principal:
        raise InvalidValue(
            "restructure",
            sum(n.principal_fen for n in txn.new_installments),
            f"the new schedule must carry {new_principal} fen of principal",
            f"新计划本金应为 {new_principal} 分",
        )
    start = max(i.number for i in state.installments) + 1
    if [n.number for n in txn.new_installments] != list(
        range(start, start + len(txn.new_installments))
    ):
        raise InvalidValue(
            "restructure",
            [n.number for n in txn.new_installments],
            f"new installments are numbered from {start}",
            f"新期数应从 {start} 开始",
        )
    fresh = tuple(
        InstallmentState(
            n.number,
            n.start_date,
            n.due_date,
            Amounts(n.principal_fen, n.interest_fen, n.fee_fen),
            recognised=Amounts(principal=n.principal_fen),
        )
        for n in txn.new_installments
    )
    journal = [acc.debit(acc.PRINCIPAL_RECEIVABLE, new_principal - booked.principal)] + [
        acc.credit(RECEIVABLE[c], booked.get(c)) for c in COMPONENTS[1:]
    ]
    new_state = replace(
        _set(state, updated), installments=_set(state, updated).installments + fresh
    )
    return refresh_status(new_state, txn.value_date), Posting(acc.entry(*journal), booked)


def _refund(state: LoanState, txn: Txn) -> tuple[LoanState, Posting]:
    if not 0 < txn.amount_fen <= state.credit_balance_fen:
        raise InvalidValue(
            "amount",
            txn.amount_fen,
            f"the credit balance is {state.credit_balance_fen} fen",
            f"溢缴款余额为 {state.credit_balance_fen} 分",
        )
    journal = acc.entry(
        acc.debit(acc.CREDIT_BALANCES, txn.amount_fen),
        acc.credit(acc.CHANNEL_CASH, txn.amount_fen, txn.channel),
    )
    return (
        replace(state, credit_balance_fen=state.credit_balance_fen - txn.amount_fen),
        Posting(journal, Amounts(), -txn.amount_fen),
    )


def _cancel(state: LoanState, txn: Txn) -> tuple[LoanState, Posting]:
    if state.status not in (LoanStatus.PENDING, LoanStatus.DISBURSING):
        raise _refuse(
            "LOAN_NOT_CANCELLABLE",
            "only a loan not yet paid out can be cancelled",
            "仅未放款的贷款可以取消",
        )
    return replace(state, status=LoanStatus.CANCELLED, closed_on=txn.value_date), Posting()


def apply(state: LoanState, txn: Txn) -> tuple[LoanState, Posting]:
    """The state after `txn`, and its posting (journal lines and allocation)."""
    kind = txn.kind
    if kind is TxnKind.DISBURSEMENT:
        return _disburse(state, txn)
    if kind is TxnKind.REPAYMENT:
        return _repay(state, txn)
    if kind in (TxnKind.DUE, TxnKind.PENALTY_ACCRUAL, TxnKind.FEE_CHARGE):
        if kind is TxnKind.FEE_CHARGE:
            _require_open(state, txn)
        return _recognise(state, txn)
    if kind is TxnKind.WAIVER:
        return _waive(state, txn)
    if kind is TxnKind.EARLY_SETTLEMENT:
        return _settle_early(state, txn)
    if kind is TxnKind.EXTENSION:
        return _extend(state, txn)
    if kind is TxnKind.DEFERRAL:
        return _defer(state, txn)
    if kind is TxnKind.RESTRUCTURE:
        return _restructure(state, txn)
    if kind is TxnKind.WRITE_OFF:
        return _close_out(state, txn, LoanStatus.WRITTEN_OFF)
    if kind is TxnKind.SALE:
        return _close_out(state, txn, LoanStatus.SOLD)
    if kind is TxnKind.REFUND:
        return _refund(state, txn)
    if kind is TxnKind.CANCELLATION:
        return _cancel(state, txn)
    raise InvalidValue(
        "transaction",
        kind.value,
        "cannot be applied directly (a reversal is applied by replaying the log)",
        "冲正通过重放交易日志生效",
    )


def effective_log(txns: Iterable[Txn]) -> list[Txn]:
    """The log as it counts: reversed transactions and the reversals themselves left out,
    in (value date, sequence) order."""
    items = list(txns)
    reversed_seqs = {t.reverses_seq for t in items if t.kind is TxnKind.REVERSAL}
    kept = [t for t in items if t.kind is not TxnKind.REVERSAL and t.seq not in reversed_seqs]
    return sorted(kept, key=lambda t: (t.value_date, t.seq))


def replay(initial: LoanState, txns: Iterable[Txn]) -> tuple[LoanState, list[tuple[Txn, Posting]]]:
    """Fold the effective log over the booked state: the loan's state, by definition."""
    state = initial
    postings: list[tuple[Txn, Posting]] = []
    for txn in effective_log(txns):
        state, posting = apply(state, txn)
        postings.append((txn, posting))
    return state, postings


def as_of(state: LoanState, day: date) -> LoanState:
    """The state with its status as seen on `day` (overdue-ness moves with the date)."""
    return refresh_status(state, day)


def expected_system_txns(
    booked: LoanState, log: Iterable[Txn], from_date: date, closed_through: date
) -> list[Txn]:
    """Replay the non-system part of `log` day by day, closing every day up to
    `closed_through`, and return the system transactions dated `from_date` or later."""
    events = [t for t in effective_log(log) if not t.kind.is_system]
    result: list[Txn] = []
    if not events:
        return result
    state, index, day = booked, 0, events[0].value_date
    while True:
        while index < len(events) and events[index].value_date == day:
            state, _ = apply(state, events[index])
            index += 1
        if day <= closed_through:
            for system in close_day(state, day):
                state, _ = apply(state, system)
                if day >= from_date:
                    result.append(system)
        if index >= len(events) and day >= closed_through:
            return result
        day += timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Reprocessed:
    """The outcome of posting a back-dated transaction or a reversal."""

    additions: tuple[Txn, ...]  # system corrections: reversals of stale, then fresh ones
    state: LoanState
    postings: dict[int, Posting] = field(default_factory=dict)  # by seq, effective log only


def reprocess(booked: LoanState, log: Sequence[Txn], txn: Txn, business_date: date) -> Reprocessed:
    """Post `txn` (numbered already) into `log` when it is back-dated or a reversal: the
    system transactions after its date are recomputed; those that no longer stand are
    reversed and the right ones added (numbered after `txn`). Returns the additions, the
    replayed state as of `business_date` and every transaction's posting."""
    if txn.kind is TxnKind.REVERSAL:
        target = next((t for t in log if t.seq == txn.reverses_seq), None)
        if target is None or target.kind is TxnKind.REVERSAL or target.kind.is_system:
            raise InvalidValue(
                "reverses",
                txn.reverses_seq,
                "is not a transaction of this loan that can be reversed",
                "不是本笔贷款可冲正的交易",
            )
        if any(t.kind is TxnKind.REVERSAL and t.reverses_seq == target.seq for t in log):
            raise InvalidValue("reverses", txn.reverses_seq, "is already reversed", "该交易已冲正")
        from_date = target.value_date
    else:
        from_date = txn.value_date
    full = [*log, txn]
    expected = expected_system_txns(booked, full, from_date, business_date - timedelta(days=1))
    stale = [t for t in effective_log(full) if t.kind.is_system and t.value_date >= from_date]
    reversals: list[Txn] = []
    for old in stale:
        key = (old.kind, old.value_date, old.lines, old.overdue_fee_installments)
        match = next(
            (
                e
                for e in expected
                if (e.kind, e.value_date, e.lines, e.overdue_fee_installments) == key
            ),
            None,
        )
        if match is None:
            reversals.append(
                Txn(0, TxnKind.REVERSAL, old.value_date, old.amount_fen, reverses_seq=old.seq)
            )
        else:
            expected.remove(match)
    additions = tuple(
        replace(extra, seq=txn.seq + 1 + k) for k, extra in enumerate([*reversals, *expected])
    )
    state = booked
    postings: dict[int, Posting] = {}
    for item in effective_log([*full, *additions]):
        state, posting = apply(state, item)
        postings[item.seq] = posting
    return Reprocessed(additions, refresh_status(state, business_date), postings)
