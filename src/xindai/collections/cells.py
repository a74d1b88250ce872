"""Champion / challenger outcomes (SPEC §8): every case gets its test cell when it enters
the queue (`cases_cob.open_cases`); this reports, for the cases that entered in a period of
business dates, by strategy × cell:

- cure rate: cases cured (DPD back to 0) or settled by the period's end ÷ cases;
- roll rate: cases that moved to a worse bucket while open (a forward `bucket_moves` row
  after the day they opened, up to the period's end) ÷ cases;
- recovery rate: what the loans paid while their case was open (repayments and early
  settlements from the opening to the close or the period's end) ÷ the balance at entry
  (the loan's outstanding principal, interest, fee and penalty in the snapshot of the day
  the case opened; its overdue amount at opening when no snapshot exists).

The strategy is the one the case works under: its quadrant's actions (I–IV, where the
challenger may have its own) or, untagged, the stage timeline (`stage`, the same for both
cells). Rates are percent strings, amounts yuan strings (docs/collections-api.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from xindai.collections.config import QUADRANTS, load_strategies
from xindai.errors import InvalidValue
from xindai.money import format_percent, format_yuan
from xindai.servicing.delinquency import DEFAULT_BUCKET_SCHEME, BucketScheme
from xindai.store.models import BucketMove, LoanSnapshot, LoanTransaction
from xindai.store.models_collections import CollectionCase

CELLS = ("champion", "challenger")
STRATEGIES = (*QUADRANTS, "stage")
STAGE = ("按阶段（未标象限）", "stage timeline (no quadrant tagged)")
CURED = ("cured", "settled")
PAID = ("repayment", "early_settlement")
FIGURES = ("cases", "cured", "rolled", "recovered_fen", "balance_fen")


def _rate(part: int, whole: int) -> str:
    return format_percent(Decimal(part) / Decimal(whole) if whole else Decimal(0))


def _per_case(date_from: date, date_to: date, scheme: BucketScheme) -> Any:
    """One row per case that entered in the period: strategy, cell and its outcomes."""
    c = CollectionCase
    rank = {name: i for i, name in enumerate(scheme.names)}
    move = aliased(BucketMove)
    worse = case(rank, value=move.to_bucket, else_=-1) > case(
        rank, value=move.from_bucket, else_=-1
    )
    open_until = or_(c.closed_on.is_(None), move.business_date <= c.closed_on)
    rolled = exists().where(
        move.loan_id == c.loan_id,
        move.business_date > c.opened_on,
        move.business_date <= date_to,
        open_until,
        worse,
    )
    recovered = (
        select(func.coalesce(func.sum(LoanTransaction.amount_fen), 0))
        .where(
            LoanTransaction.loan_id == c.loan_id,
            LoanTransaction.kind.in_(PAID),
            LoanTransaction.reversed.is_(False),
            LoanTransaction.posted_on >= c.opened_on,
            LoanTransaction.posted_on <= date_to,
            or_(c.closed_on.is_(None), LoanTransaction.posted_on <= c.closed_on),
        )
        .correlate(c)
        .scalar_subquery()
    )
    snapshot = (
        select(
            LoanSnapshot.principal_outstanding_fen
            + LoanSnapshot.interest_outstanding_fen
            + LoanSnapshot.fee_outstanding_fen
            + LoanSnapshot.penalty_outstanding_fen
        )
        .where(LoanSnapshot.business_date == c.opened_on, LoanSnapshot.loan_id == c.loan_id)
        .correlate(c)
        .scalar_subquery()
    )
    return (
        select(
            func.coalesce(c.quadrant, literal("stage")).label("strategy"),
            c.test_cell.label("cell"),
            case((and_(c.close_reason.in_(CURED), c.closed_on <= date_to), 1), else_=0).label(
                "cured"
            ),
            case((rolled, 1), else_=0).label("rolled"),
            recovered.label("recovered_fen"),
            func.coalesce(snapshot, c.overdue_at_open_fen).label("balance_fen"),
        )
        .where(c.opened_on >= date_from, c.opened_on <= date_to)
        .subquery()
    )


def _row(figures: tuple[int, ...]) -> dict[str, Any]:
    cases, cured, rolled, recovered, balance = figures
    return {
        "cases": cases,
        "cured": cured,
        "cure_rate": _rate(cured, cases),
        "rolled": rolled,
        "roll_rate": _rate(rolled, cases),
        "balance_at_entry": format_yuan(balance),
        "recovered": format_yuan(recovered),
        "recovery_rate": _rate(recovered, balance),
    }


def cell_outcomes(
    session: Session,
    date_from: date,
    date_to: date,
    scheme: BucketScheme = DEFAULT_BUCKET_SCHEME,
) -> dict[str, Any]:
    """Cure, roll and recovery rates by strategy × cell of the cases that entered a queue on
    business dates `date_from` … `date_to` (the module's docstring), with each cell's
    totals (both cells always, for the comparison) and the challenger's current share."""
    if date_to < date_from:
        raise InvalidValue(
            "date_to", date_to.isoformat(), "on or after date_from", "结束日期早于开始日期"
        )
    per_case = _per_case(date_from, date_to, scheme)
    grouped = session.execute(
        select(
            per_case.c.strategy,
            per_case.c.cell,
            func.count(),
            func.sum(per_case.c.cured),
            func.sum(per_case.c.rolled),
            func.sum(per_case.c.recovered_fen),
            func.sum(per_case.c.balance_fen),
        ).group_by(per_case.c.strategy, per_case.c.cell)
    ).all()
    figures = {
        (str(strategy), str(cell)): tuple(int(v or 0) for v in values)
        for strategy, cell, *values in grouped
    }
    order = {s: i for i, s in enumerate(STRATEGIES)}
    items = []
    for strategy, cell in sorted(
        figures,
        key=lambda k: (
            order.get(k[0], len(order)),
            k[0],
            CELLS.index(k[1]) if k[1] in CELLS else 2,
        ),
    ):
        zh, en = (
            (QUADRANTS[strategy][0], QUADRANTS[strategy][1]) if strategy in QUADRANTS else STAGE
        )
        items.append(
            {
                "strategy": strategy,
                "strategy_zh": zh,
                "strategy_en": en,
                "cell": cell,
                **_row(figures[(strategy, cell)]),
            }
        )
    cells = []
    for cell in CELLS:
        total = [0] * len(FIGURES)
        for (_strategy, of), values in figures.items():
            if of == cell:
                total = [a + b for a, b in zip(total, values, strict=True)]
        cells.append({"cell": cell, **_row(tuple(total))})
    return {
        "date_from": date_from.isoformat(),
        "date_to": date_to.isoformat(),
        "share_percent": int(load_strategies(session)["challenger"].get("share_percent", 0)),
        "items": items,
        "cells": cells,
    }


__all__ = ["CELLS", "cell_outcomes"]
