"""The cost disclosure of a schedule as data: what the calculator prints and what a
borrower is shown before confirming (SPEC §2: the comprehensive annualised cost)."""

from __future__ import annotations

from typing import Any

from xindai.money import format_rate, format_yuan
from xindai.products.cost import AnnualisedCost
from xindai.schedules.model import Schedule


def schedule_json(schedule: Schedule, cost: AnnualisedCost) -> dict[str, Any]:
    """A schedule and its comprehensive annualised cost as JSON (amounts as yuan strings with
    two decimals, rates as fractions with six places): the stable shape of
    `xindai calc schedule --json` and of the quote a borrower sees before applying."""
    terms = schedule.terms
    return {
        "method": terms.method.value,
        "principal": format_yuan(terms.principal_fen),
        "disbursed": format_yuan(schedule.disbursed_fen),
        "upfront_fee": format_yuan(schedule.upfront_fee_fen),
        "upfront_fee_mode": terms.upfront_fee_mode.value if schedule.upfront_fee_fen else None,
        "installments": [
            {
                "number": i.number,
                "due_date": i.due_date.isoformat(),
                "principal": format_yuan(i.principal_fen),
                "interest": format_yuan(i.interest_fen),
                "fee": format_yuan(i.fee_fen),
                "total": format_yuan(i.total_fen),
            }
            for i in schedule.installments
        ],
        "total_interest": format_yuan(schedule.total_interest_fen),
        "total_fee": format_yuan(schedule.total_fee_fen),
        "total_payment": format_yuan(schedule.total_payment_fen),
        "apr": format_rate(cost.nominal),
        "apr_effective": format_rate(cost.effective),
    }
