"""The exact reference implementation of the six repayment methods (SPEC §3).

Rates are Decimal at the edge and exact rationals inside (`Decimal.as_integer_ratio`), so
every rounding to the fen is ROUND_HALF_UP of the exact value: no precision ties. Every
amount is rounded as it is computed; the last installment takes the remainder of principal.
This is the yardstick the vectorised implementation is checked against.
"""

from __future__ import annotations

from fractions import Fraction

from xindai.money import Fen, percent_of, round_half_up_ratio
from xindai.schedules.model import (
    Installment,
    Method,
    PeriodicFeeKind,
    Schedule,
    ScheduleTerms,
    UpfrontFeeMode,
)
from xindai.schedules.periods import Period, periods, regular_rate


def round_fraction(value: Fraction) -> Fen:
    return round_half_up_ratio(value.numerator, value.denominator)


def annuity_payment(principal_fen: Fen, rate: Fraction, count: int) -> Fen:
    """A = round(P·r·(1+r)^n / ((1+r)^n − 1)); round(P/n) when the rate is zero."""
    if rate == 0:
        return round_fraction(Fraction(principal_fen, count))
    growth = (1 + rate) ** count
    return round_fraction(principal_fen * rate * growth / (growth - 1))


def _even_split(total_fen: Fen, count: int) -> list[Fen]:
    """round(total/n) for each part, the last part taking the remainder; a part never takes
    more than is left (only tiny totals such as 24 fen over 48 parts ever reach that)."""
    part = round_fraction(Fraction(total_fen, count))
    parts: list[Fen] = []
    remaining = total_fen
    for _ in range(count - 1):
        taken = min(part, remaining)
        parts.append(taken)
        remaining -= taken
    parts.append(remaining)
    return parts


def _principal_and_interest(terms: ScheduleTerms, plan: list[Period]) -> list[tuple[Fen, Fen]]:
    principal = terms.principal_fen
    count = len(plan)
    method = terms.method
    rows: list[tuple[Fen, Fen]] = []
    balance = principal
    if method is Method.BULLET:
        return [(principal, round_fraction(principal * plan[0].rate))]
    if method is Method.ANNUITY:
        payment = annuity_payment(principal, regular_rate(terms), count)
        for period in plan:
            interest = round_fraction(balance * period.rate)
            if period.number == count:
                part = balance
            else:
                part = min(balance, max(0, payment - interest))
            rows.append((part, interest))
            balance -= part
        return rows
    if method is Method.INTEREST_FIRST:
        return [
            (principal if p.number == count else 0, round_fraction(principal * p.rate))
            for p in plan
        ]
    parts = _even_split(principal, count)
    if method is Method.FLAT:
        return [
            (part, round_fraction(principal * p.rate)) for part, p in zip(parts, plan, strict=True)
        ]
    accrued = 0
    for part, period in zip(parts, plan, strict=True):
        interest = round_fraction(balance * period.rate)
        if method is Method.EQUAL_PRINCIPAL:
            rows.append((part, interest))
        else:  # principal_first: all interest with the last installment
            accrued += interest
            rows.append((part, accrued if period.number == count else 0))
        balance -= part
    return rows


def upfront_fee(terms: ScheduleTerms) -> Fen:
    return percent_of(terms.principal_fen, terms.upfront_fee_rate)


def periodic_fee(terms: ScheduleTerms) -> Fen:
    if terms.periodic_fee_kind is PeriodicFeeKind.FIXED:
        return int(terms.periodic_fee_value)
    return percent_of(terms.principal_fen, terms.periodic_fee_value)


def build_schedule(terms: ScheduleTerms) -> Schedule:
    """The schedule of `terms`, exact to the fen."""
    plan = periods(terms)
    rows = _principal_and_interest(terms, plan)
    count = len(plan)
    head_fee = upfront_fee(terms)
    fees = [periodic_fee(terms)] * count
    if terms.upfront_fee_mode is UpfrontFeeMode.AMORTIZED and head_fee:
        fees = [f + a for f, a in zip(fees, _even_split(head_fee, count), strict=True)]
    installments = tuple(
        Installment(p.number, p.start_date, p.due_date, part, interest, fee)
        for p, (part, interest), fee in zip(plan, rows, fees, strict=True)
    )
    disbursed = terms.principal_fen
    if terms.upfront_fee_mode is UpfrontFeeMode.DEDUCT:
        disbursed -= head_fee
    return Schedule(terms, installments, upfront_fee_fen=head_fee, disbursed_fen=disbursed)
