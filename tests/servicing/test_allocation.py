"""Allocation waterfall (SPEC §4): hand-worked payments, validation and money properties."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xindai.errors import InvalidValue
from xindai.servicing.allocation import (
    DEFAULT_ALLOCATION_ORDER,
    Allocation,
    AllocationLine,
    AllocationMode,
    Component,
    InstallmentDue,
    allocate,
    oldest_first,
    validate_allocation_order,
)

PEN, FEE, INT, PRI = Component.PENALTY, Component.FEE, Component.INTEREST, Component.PRINCIPAL

FIRST = InstallmentDue(
    1, date(2024, 1, 15), penalty_fen=100, fee_fen=200, interest_fen=300, principal_fen=1000
)
SECOND = InstallmentDue(2, date(2024, 2, 15), fee_fen=200, interest_fen=300, principal_fen=1000)


def _lines(allocation: Allocation) -> list[tuple[int, Component, int]]:
    return [(x.installment_number, x.component, x.amount_fen) for x in allocation.lines]


# --- hand-worked payments ------------------------------------------------------------------


def test_default_order_is_penalty_fee_interest_principal() -> None:
    assert DEFAULT_ALLOCATION_ORDER == (PEN, FEE, INT, PRI)
    assert [c.value for c in DEFAULT_ALLOCATION_ORDER] == [
        "penalty",
        "fee",
        "interest",
        "principal",
    ]


def test_partial_payment_by_installment() -> None:
    allocation = allocate([FIRST, SECOND], 450)
    assert _lines(allocation) == [(1, PEN, 100), (1, FEE, 200), (1, INT, 150)]
    assert allocation.allocated_fen == 450
    assert allocation.excess_fen == 0
    assert allocation.by_component == {PEN: 100, FEE: 200, INT: 150, PRI: 0}
    assert allocation.by_installment == {1: 450, 2: 0}
    assert allocation.mode is AllocationMode.BY_INSTALLMENT


def test_payment_spills_into_the_next_installment() -> None:
    allocation = allocate([FIRST, SECOND], 1800)
    assert _lines(allocation) == [
        (1, PEN, 100),
        (1, FEE, 200),
        (1, INT, 300),
        (1, PRI, 1000),
        (2, FEE, 200),
    ]
    assert allocation.by_installment == {1: 1600, 2: 200}
    assert allocation.paid_fen(2, FEE) == 200
    assert allocation.paid_fen(2, INT) == 0


def test_by_component_takes_each_component_across_installments() -> None:
    allocation = allocate([FIRST, SECOND], 1000, mode=AllocationMode.BY_COMPONENT)
    assert _lines(allocation) == [
        (1, PEN, 100),
        (1, FEE, 200),
        (2, FEE, 200),
        (1, INT, 300),
        (2, INT, 200),
    ]
    assert allocation.by_component == {PEN: 100, FEE: 400, INT: 500, PRI: 0}
    assert allocation.by_installment == {1: 600, 2: 400}


def test_overpayment_leaves_an_excess() -> None:
    for mode in AllocationMode:
        allocation = allocate([FIRST, SECOND], 5000, mode=mode)
        assert allocation.allocated_fen == 3100
        assert allocation.excess_fen == 1900
        assert allocation.by_installment == {1: 1600, 2: 1500}
        assert allocation.by_component == {PEN: 100, FEE: 400, INT: 600, PRI: 2000}
        assert all(i.total_fen == 0 for i in allocation.remaining())


def test_exact_payment_has_no_excess() -> None:
    allocation = allocate([FIRST, SECOND], 3100)
    assert allocation.excess_fen == 0
    assert all(i.total_fen == 0 for i in allocation.remaining())


def test_custom_order_principal_first() -> None:
    allocation = allocate([FIRST, SECOND], 1200, order=(PRI, INT, FEE, PEN))
    assert _lines(allocation) == [(1, PRI, 1000), (1, INT, 200)]
    assert allocation.order == (PRI, INT, FEE, PEN)
    assert allocation.by_component == {PRI: 1000, INT: 200, FEE: 0, PEN: 0}
    assert list(allocation.by_component) == [PRI, INT, FEE, PEN]


def test_order_and_mode_may_be_given_as_strings() -> None:
    allocation = allocate(
        [FIRST, SECOND], 700, order=["interest", "principal", "fee", "penalty"], mode="by_component"
    )
    assert _lines(allocation) == [(1, INT, 300), (2, INT, 300), (1, PRI, 100)]
    assert allocation.mode is AllocationMode.BY_COMPONENT


def test_oldest_first_regardless_of_input_order() -> None:
    assert allocate([SECOND, FIRST], 1800) == allocate([FIRST, SECOND], 1800)
    # number 5 is due before number 4: the due date decides
    earlier = InstallmentDue(5, date(2024, 1, 1), principal_fen=500)
    later = InstallmentDue(4, date(2024, 3, 1), principal_fen=500)
    assert _lines(allocate([later, earlier], 600)) == [(5, PRI, 500), (4, PRI, 100)]
    # same due date: the lower number first
    same_a = InstallmentDue(7, date(2024, 1, 1), principal_fen=500)
    same_b = InstallmentDue(6, date(2024, 1, 1), principal_fen=500)
    assert _lines(allocate([same_a, same_b], 600)) == [(6, PRI, 500), (7, PRI, 100)]
    assert [i.number for i in oldest_first([later, same_a, earlier, same_b])] == [5, 6, 7, 4]


def test_paid_components_and_installments_are_skipped_without_zero_lines() -> None:
    paid = InstallmentDue(1, date(2024, 1, 15))
    due = InstallmentDue(2, date(2024, 2, 15), interest_fen=50, principal_fen=100)
    allocation = allocate([paid, due], 120)
    assert allocation.lines == (AllocationLine(2, INT, 50), AllocationLine(2, PRI, 70))
    assert allocation.by_installment == {1: 0, 2: 120}


def test_remaining_after_a_partial_payment() -> None:
    remaining = allocate([SECOND, FIRST], 450).remaining()
    assert remaining == (
        InstallmentDue(1, date(2024, 1, 15), interest_fen=150, principal_fen=1000),
        SECOND,
    )


def test_no_installments_means_all_excess() -> None:
    allocation = allocate([], 500)
    assert allocation.lines == ()
    assert allocation.excess_fen == 500
    assert allocation.by_installment == {}
    assert allocation.remaining() == ()


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize("payment", [0, -1, True, 1.5, "100"])
def test_payment_must_be_positive_whole_fen(payment: Any) -> None:
    with pytest.raises(InvalidValue) as caught:
        allocate([FIRST], payment)
    assert caught.value.field == "payment_fen"


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        ((PEN, FEE, INT, INT), "interest listed more than once"),
        ((PEN, FEE, INT), "missing principal"),
        ((PEN, FEE, INT, PRI, PEN), "penalty listed more than once"),
        ((), "missing penalty, fee, interest, principal"),
        (("penalty", "fee", "interest", "capital"), "unknown component 'capital'"),
    ],
)
def test_order_must_be_a_permutation_of_the_components(order: Any, reason: str) -> None:
    with pytest.raises(InvalidValue, match=reason) as caught:
        allocate([FIRST], 100, order=order)
    assert caught.value.field == "allocation_order"
    assert caught.value.code == "INVALID_VALUE"


def test_validate_allocation_order_normalises_strings() -> None:
    assert validate_allocation_order(["principal", "interest", "fee", "penalty"]) == (
        PRI,
        INT,
        FEE,
        PEN,
    )


def test_unknown_mode_is_invalid() -> None:
    with pytest.raises(InvalidValue) as caught:
        allocate([FIRST], 100, mode="oldest_first")
    assert caught.value.field == "allocation_mode"


@pytest.mark.parametrize(
    "fields",
    [
        {"principal_fen": -1},
        {"penalty_fen": -5},
        {"fee_fen": 1.5},
        {"interest_fen": True},
        {"number": -1},
        {"due_date": datetime(2024, 1, 15, 9, 0)},
        {"due_date": "2024-01-15"},
    ],
)
def test_installment_values_are_validated(fields: dict[str, Any]) -> None:
    base: dict[str, Any] = {"number": 1, "due_date": date(2024, 1, 15), "principal_fen": 100}
    with pytest.raises(InvalidValue):
        InstallmentDue(**(base | fields))


def test_duplicate_installment_numbers_are_invalid() -> None:
    twin = InstallmentDue(1, date(2024, 3, 15), principal_fen=10)
    with pytest.raises(InvalidValue, match="unique"):
        allocate([FIRST, twin], 100)


def test_paying_more_than_owed_on_a_component_is_invalid() -> None:
    with pytest.raises(InvalidValue):
        FIRST.after_paying({PEN: 101})


# --- properties ----------------------------------------------------------------------------

amounts = st.one_of(st.just(0), st.integers(min_value=0, max_value=5_000))


@st.composite
def installment_lists(draw: st.DrawFn) -> list[InstallmentDue]:
    numbers = draw(st.lists(st.integers(0, 40), unique=True, max_size=6))
    start = date(2024, 1, 1)
    return [
        InstallmentDue(
            number=n,
            due_date=start + timedelta(days=draw(st.integers(0, 200))),
            penalty_fen=draw(amounts),
            fee_fen=draw(amounts),
            interest_fen=draw(amounts),
            principal_fen=draw(amounts),
        )
        for n in numbers
    ]


orders = st.permutations(list(Component))
modes = st.sampled_from(list(AllocationMode))
payments = st.integers(min_value=1, max_value=40_000)


def _slots(allocation: Allocation) -> list[tuple[InstallmentDue, Component]]:
    if allocation.mode is AllocationMode.BY_INSTALLMENT:
        return [(i, c) for i in allocation.installments for c in allocation.order]
    return [(i, c) for c in allocation.order for i in allocation.installments]


@given(installment_lists(), payments, orders, modes)
def test_money_is_conserved(
    installments: list[InstallmentDue], payment: int, order: list[Component], mode: AllocationMode
) -> None:
    allocation = allocate(installments, payment, order, mode)
    assert sum(line.amount_fen for line in allocation.lines) + allocation.excess_fen == payment
    assert sum(allocation.by_component.values()) == allocation.allocated_fen
    assert sum(allocation.by_installment.values()) == allocation.allocated_fen
    total = sum(i.total_fen for i in installments)
    assert allocation.allocated_fen == min(payment, total)
    assert allocation.excess_fen >= 0


@given(installment_lists(), payments, orders, modes)
def test_no_line_exceeds_what_was_outstanding(
    installments: list[InstallmentDue], payment: int, order: list[Component], mode: AllocationMode
) -> None:
    allocation = allocate(installments, payment, order, mode)
    by_number = {i.number: i for i in installments}
    seen: set[tuple[int, Component]] = set()
    for line in allocation.lines:
        assert line.amount_fen > 0
        assert line.amount_fen <= by_number[line.installment_number].outstanding_fen(line.component)
        assert (line.installment_number, line.component) not in seen
        seen.add((line.installment_number, line.component))
    for before, after in zip(allocation.installments, allocation.remaining(), strict=True):
        assert before.number == after.number
        for component in Component:
            paid = allocation.paid_fen(before.number, component)
            assert after.outstanding_fen(component) + paid == before.outstanding_fen(component)


@given(installment_lists(), payments, orders, modes)
def test_waterfall_pays_each_slot_in_full_before_the_next(
    installments: list[InstallmentDue], payment: int, order: list[Component], mode: AllocationMode
) -> None:
    # By installment: a later component only once the earlier ones of that installment are
    # paid, a later installment only once the earlier ones are; by component: the same along
    # components first.
    allocation = allocate(installments, payment, order, mode)
    short_seen = False
    for installment, component in _slots(allocation):
        paid = allocation.paid_fen(installment.number, component)
        if short_seen:
            assert paid == 0
        if paid < installment.outstanding_fen(component):
            short_seen = True
    applied = [(x.installment_number, x.component) for x in allocation.lines]
    slot_keys = [(i.number, c) for i, c in _slots(allocation)]
    assert applied == [key for key in slot_keys if key in applied]


@given(installment_lists(), payments, orders, modes)
def test_excess_only_when_everything_is_paid(
    installments: list[InstallmentDue], payment: int, order: list[Component], mode: AllocationMode
) -> None:
    allocation = allocate(installments, payment, order, mode)
    everything_paid = all(i.total_fen == 0 for i in allocation.remaining())
    if allocation.excess_fen > 0:
        assert everything_paid
    if not everything_paid:
        assert allocation.excess_fen == 0


@given(installment_lists(), payments, orders, modes, st.data())
def test_input_order_does_not_matter(
    installments: list[InstallmentDue],
    payment: int,
    order: list[Component],
    mode: AllocationMode,
    data: st.DataObject,
) -> None:
    shuffled = data.draw(st.permutations(installments))
    assert allocate(shuffled, payment, order, mode) == allocate(installments, payment, order, mode)


@given(installment_lists(), payments, payments, orders, modes)
def test_two_payments_leave_what_one_combined_payment_leaves(
    installments: list[InstallmentDue],
    first: int,
    second: int,
    order: list[Component],
    mode: AllocationMode,
) -> None:
    after_first = allocate(installments, first, order, mode).remaining()
    after_both = allocate(after_first, second, order, mode).remaining()
    assert after_both == allocate(installments, first + second, order, mode).remaining()


@given(installment_lists(), orders)
def test_modes_agree_when_everything_is_paid(
    installments: list[InstallmentDue], order: list[Component]
) -> None:
    payment = sum(i.total_fen for i in installments) + 1
    by_installment = allocate(installments, payment, order, AllocationMode.BY_INSTALLMENT)
    by_component = allocate(installments, payment, order, AllocationMode.BY_COMPONENT)
    assert by_installment.by_component == by_component.by_component
    assert by_installment.by_installment == by_component.by_installment
    assert by_installment.excess_fen == by_component.excess_fen == 1
