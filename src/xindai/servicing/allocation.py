"""The allocation waterfall (SPEC §4): spread a repayment over the oldest unpaid installments.

A payment in fen is applied to penalty, fee, interest and principal in the product's
allocation order, either installment by installment (the default) or component by component
across installments; whatever is left once everything outstanding is paid is the excess, which
the caller prepays or keeps as a credit balance.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from xindai.errors import InvalidValue
from xindai.money import Fen


class Component(StrEnum):
    """A part of what an installment owes."""

    PENALTY = "penalty"
    FEE = "fee"
    INTEREST = "interest"
    PRINCIPAL = "principal"


DEFAULT_ALLOCATION_ORDER: tuple[Component, ...] = (
    Component.PENALTY,
    Component.FEE,
    Component.INTEREST,
    Component.PRINCIPAL,
)
"""Penalty, then fee, then interest, then principal."""


class AllocationMode(StrEnum):
    """How the order is applied across several installments."""

    BY_INSTALLMENT = "by_installment"
    """Oldest installment first; within it, the components in order."""
    BY_COMPONENT = "by_component"
    """For each component in order, every installment oldest first."""


def _check_fen(field: str, value: object, *, minimum: int) -> Fen:
    # bool is an int subclass, but True is never an amount
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidValue(field, value, "must be a whole number of fen", "必须是整数（分）")
    if value < minimum:
        raise InvalidValue(field, value, f"must be at least {minimum}", f"必须不小于 {minimum}")
    return value


@dataclass(frozen=True)
class InstallmentDue:
    """What one installment still owes, per component, in fen (each ≥ 0)."""

    number: int
    due_date: date
    penalty_fen: Fen = 0
    fee_fen: Fen = 0
    interest_fen: Fen = 0
    principal_fen: Fen = 0

    def __post_init__(self) -> None:
        _check_fen("installment.number", self.number, minimum=0)
        # a datetime would not sort against dates; due dates are calendar days
        if not isinstance(self.due_date, date) or isinstance(self.due_date, datetime):
            raise InvalidValue(
                "installment.due_date", self.due_date, "must be a date", "必须是日期"
            )
        for component in Component:
            _check_fen(
                f"installment.{component.value}_fen", self.outstanding_fen(component), minimum=0
            )

    def outstanding_fen(self, component: Component) -> Fen:
        """What is still owed on `component`, in fen."""
        match component:
            case Component.PENALTY:
                return self.penalty_fen
            case Component.FEE:
                return self.fee_fen
            case Component.INTEREST:
                return self.interest_fen
            case Component.PRINCIPAL:
                return self.principal_fen

    @property
    def total_fen(self) -> Fen:
        """Everything still owed on this installment, in fen."""
        return self.penalty_fen + self.fee_fen + self.interest_fen + self.principal_fen

    def after_paying(self, paid_fen: Mapping[Component, Fen]) -> InstallmentDue:
        """This installment with `paid_fen` taken off each component; paying more than is
        owed raises `InvalidValue`."""
        return dataclasses.replace(
            self,
            penalty_fen=self.penalty_fen - paid_fen.get(Component.PENALTY, 0),
            fee_fen=self.fee_fen - paid_fen.get(Component.FEE, 0),
            interest_fen=self.interest_fen - paid_fen.get(Component.INTEREST, 0),
            principal_fen=self.principal_fen - paid_fen.get(Component.PRINCIPAL, 0),
        )


@dataclass(frozen=True)
class AllocationLine:
    """`amount_fen` (> 0) of a payment applied to `component` of one installment."""

    installment_number: int
    component: Component
    amount_fen: Fen


@dataclass(frozen=True)
class Allocation:
    """The result of spreading `payment_fen` over `installments` (oldest first, as they were
    before the payment). `lines` are the non-zero amounts in the order they were applied."""

    payment_fen: Fen
    installments: tuple[InstallmentDue, ...]
    order: tuple[Component, ...]
    mode: AllocationMode
    lines: tuple[AllocationLine, ...]

    @property
    def allocated_fen(self) -> Fen:
        """The part of the payment applied to installments, in fen."""
        return sum(line.amount_fen for line in self.lines)

    @property
    def excess_fen(self) -> Fen:
        """What is left of the payment once everything outstanding is paid, in fen."""
        return self.payment_fen - self.allocated_fen

    @property
    def by_component(self) -> dict[Component, Fen]:
        """Total applied to each component (every component, in allocation order)."""
        totals = dict.fromkeys(self.order, 0)
        for line in self.lines:
            totals[line.component] += line.amount_fen
        return totals

    @property
    def by_installment(self) -> dict[int, Fen]:
        """Total applied to each installment number (every installment, oldest first)."""
        totals = {installment.number: 0 for installment in self.installments}
        for line in self.lines:
            totals[line.installment_number] += line.amount_fen
        return totals

    def paid_fen(self, installment_number: int, component: Component) -> Fen:
        """What this allocation applied to one component of one installment, in fen."""
        return sum(
            line.amount_fen
            for line in self.lines
            if line.installment_number == installment_number and line.component is component
        )

    def remaining(self) -> tuple[InstallmentDue, ...]:
        """Every installment (oldest first) with what it still owes after this allocation."""
        paid: dict[int, dict[Component, Fen]] = {i.number: {} for i in self.installments}
        for line in self.lines:
            per_component = paid[line.installment_number]
            per_component[line.component] = per_component.get(line.component, 0) + line.amount_fen
        return tuple(i.after_paying(paid[i.number]) for i in self.installments)


def validate_allocation_order(order: Iterable[Component | str]) -> tuple[Component, ...]:
    """Check that `order` names each of penalty, fee, interest and principal exactly once and
    return it as components; anything else raises `InvalidValue`."""
    given = tuple(order)
    components: list[Component] = []
    for item in given:
        try:
            components.append(Component(item))
        except ValueError:
            raise InvalidValue(
                "allocation_order", given, f"unknown component {item!r}", f"未知的分配项 {item!r}"
            ) from None
    duplicates = sorted({c.value for c in components if components.count(c) > 1})
    if duplicates:
        raise InvalidValue(
            "allocation_order",
            given,
            f"{', '.join(duplicates)} listed more than once",
            f"{', '.join(duplicates)} 重复",
        )
    missing = [c.value for c in Component if c not in components]
    if missing:
        raise InvalidValue(
            "allocation_order", given, f"missing {', '.join(missing)}", f"缺少 {', '.join(missing)}"
        )
    return tuple(components)


def oldest_first(installments: Iterable[InstallmentDue]) -> tuple[InstallmentDue, ...]:
    """Installments ordered by (due_date, number); duplicate numbers raise `InvalidValue`."""
    ordered = tuple(sorted(installments, key=lambda i: (i.due_date, i.number)))
    numbers = [i.number for i in ordered]
    duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
    if duplicates:
        raise InvalidValue(
            "installments",
            duplicates,
            "installment numbers must be unique",
            "期次编号必须唯一",
        )
    return ordered


def allocate(
    installments: Sequence[InstallmentDue],
    payment_fen: Fen,
    order: Sequence[Component | str] = DEFAULT_ALLOCATION_ORDER,
    mode: AllocationMode | str = AllocationMode.BY_INSTALLMENT,
) -> Allocation:
    """Spread `payment_fen` (> 0) over `installments`, oldest (due_date, number) first, by
    `order` and `mode`. Money is conserved: sum of lines + excess == payment; no line is more
    than was outstanding."""
    _check_fen("payment_fen", payment_fen, minimum=1)
    components = validate_allocation_order(order)
    try:
        allocation_mode = AllocationMode(mode)
    except ValueError:
        raise InvalidValue(
            "allocation_mode",
            mode,
            "must be by_installment or by_component",
            "必须是 by_installment 或 by_component",
        ) from None
    ordered = oldest_first(installments)
    if allocation_mode is AllocationMode.BY_INSTALLMENT:
        slots = [(i, c) for i in ordered for c in components]
    else:
        slots = [(i, c) for c in components for i in ordered]
    left = payment_fen
    lines: list[AllocationLine] = []
    for installment, component in slots:
        if left == 0:
            break
        amount = min(left, installment.outstanding_fen(component))
        if amount > 0:
            lines.append(AllocationLine(installment.number, component, amount))
            left -= amount
    return Allocation(
        payment_fen=payment_fen,
        installments=ordered,
        order=components,
        mode=allocation_mode,
        lines=tuple(lines),
    )
