"""The workbench (催收工作台): a collector's cases, the next one to work, a case in full
(loan, schedule, what is due now, payoff quote, ranked contacts, history), within the
caller's scope (`collections.scope`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, sessionmaker

from xindai.collections.case_file import CaseFile, read_case_file
from xindai.collections.config import (
    ACTIONS,
    Guardrails,
    load_guardrails,
    load_strategies,
)
from xindai.collections.scope import CaseScope
from xindai.collections.skiptrace import rank_contacts
from xindai.collections.views import (
    action_rows,
    assignment_rows,
    case_row,
    case_rows,
    placement_rows,
    promise_view,
)
from xindai.money import format_percent, format_yuan
from xindai.security.pii import PiiCipher
from xindai.servicing.account import payoff_quote
from xindai.servicing.approvals import approval_view
from xindai.servicing.state import COMPONENTS
from xindai.store import repository as repo
from xindai.store.models import InstallmentRecord, Loan
from xindai.store.models_collections import CollectionCase, Promise
from xindai.store.repository import NotFound

QUADRANT_OF = {(True, True): "I", (True, False): "II", (False, True): "III", (False, False): "IV"}


@dataclass
class Workbench:
    sessions: sessionmaker[Session]
    cipher: PiiCipher
    clock: Callable[[], datetime]

    def today(self, session: Session) -> date:
        return repo.get_business_date(session) or self.clock().date()

    # ------------------------------------------------------------ my queue

    def next_case(self, session: Session, scope: CaseScope) -> dict[str, Any] | None:
        """The open case in scope with the highest priority that is workable now: no
        pending promise whose date has not come, not contacted within the cooldown."""
        guardrails = load_guardrails(session)
        today = self.today(session)
        since = self.clock() - timedelta(minutes=guardrails.next_case_cooldown_minutes)
        waiting = exists().where(
            Promise.case_id == CollectionCase.id,
            Promise.status == "pending",
            Promise.promised_on >= today,
        )
        found = session.scalars(
            select(CollectionCase)
            .where(
                scope.condition(),
                CollectionCase.status == "open",
                or_(
                    CollectionCase.last_contact_at.is_(None), CollectionCase.last_contact_at < since
                ),
                ~waiting,
            )
            .order_by(CollectionCase.priority.desc(), CollectionCase.id)
            .limit(1)
        ).first()
        return None if found is None else case_rows(session, [found])[0]

    # ------------------------------------------------------------ a case

    def detail(self, session: Session, scope: CaseScope, case_id: int) -> dict[str, Any]:
        """The case in full (`collections.case_file`: each table read once)."""
        file = read_case_file(session, scope, case_id, self.clock())
        return case_page(file, self.cipher, file.settings.business_date or self.clock().date())


def case_page(file: CaseFile, cipher: PiiCipher, today: date) -> dict[str, Any]:
    """The case detail from what its file holds, seen on business date `today`."""
    case, loan, names = file.case, file.loan, file.names
    schedule, due_now = _schedule(file.installments, today)
    pending = next((p for p in file.promises if p.status == "pending"), None)
    made = {p.action_id: p for p in reversed(file.promises) if p.action_id is not None}
    borrower_name = None if file.borrower is None else file.borrower.display_name
    ranked = rank_contacts(cipher, file.borrower, file.contacts, file.calls, file.clock.day)
    return {
        "case": case_row(case, loan, borrower_name, names, pending),
        "loan": _loan_view(loan),
        "due_now": {
            **{k: format_yuan(v) for k, v in due_now.items()},
            "total": format_yuan(sum(due_now.values())),
        },
        "payoff": format_yuan(_payoff(file, today)),
        "schedule": schedule,
        "contacts": [c.view() for c in ranked],
        "history": action_rows(file.history, names.agencies, made),
        "payments": [
            {
                "seq": t.seq,
                "posted_on": t.posted_on.isoformat(),
                "amount": format_yuan(t.amount_fen),
                "kind": t.kind,
                "reversed": t.reversed,
            }
            for t in file.payments
        ],
        "promises": [promise_view(p, names.staff) for p in file.promises],
        "assignments": assignment_rows(file.assignments, names),
        "placements": placement_rows(file.placements, names.agencies),
        "offers": [approval_view(r, loan) for r in file.offers],
        "strategy": strategy_of(case, file.settings.strategies),
        "guardrails": guardrail_view(
            file.clock.local, file.settings.guardrails, file.connected_today
        ),
    }


def _loan_view(loan: Loan) -> dict[str, Any]:
    return {
        "id": loan.id,
        "status": loan.status,
        "product_code": loan.product_code,
        "principal": format_yuan(loan.principal_fen),
        "term": loan.term,
        "disbursed_on": loan.disbursed_on.isoformat() if loan.disbursed_on else None,
        "maturity_date": loan.maturity_date.isoformat() if loan.maturity_date else None,
        "dpd": loan.dpd,
        "max_dpd": loan.max_dpd,
        "bucket": loan.bucket,
        "annual_rate": format_percent(Decimal(loan.annual_rate)),
    }


def _payoff(file: CaseFile, today: date) -> int:
    """What settles the loan today in fen (0 unless it is active or overdue)."""
    loan = file.loan
    if loan.status not in ("active", "overdue"):
        return 0
    if file.product is None:
        raise NotFound(
            f"product {loan.product_code} v{loan.product_version} does not exist",
            f"产品 {loan.product_code} v{loan.product_version} 不存在",
        )
    state = repo.state_of(loan, repo.product_of(file.product), file.installments)
    return payoff_quote(state, today).total_fen


def _schedule(
    installments: Sequence[InstallmentRecord], today: date
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The schedule as shown (cancelled installments left out) and what is due by `today`
    per component in fen."""
    due_now = dict.fromkeys((c.value for c in COMPONENTS), 0)
    schedule = []
    for i in installments:
        if i.cancelled:
            continue
        owed = {
            c.value: getattr(i, f"{c.value}_due_fen")
            - getattr(i, f"{c.value}_paid_fen")
            - getattr(i, f"{c.value}_waived_fen")
            for c in COMPONENTS
        }
        if i.due_date <= today:
            for key, fen in owed.items():
                due_now[key] += fen
        schedule.append(
            {
                "number": i.number,
                "due_date": i.due_date.isoformat(),
                "status": i.status,
                "due": format_yuan(sum(getattr(i, f"{c.value}_due_fen") for c in COMPONENTS)),
                "paid": format_yuan(sum(getattr(i, f"{c.value}_paid_fen") for c in COMPONENTS)),
                "waived": format_yuan(sum(getattr(i, f"{c.value}_waived_fen") for c in COMPONENTS)),
                "outstanding": format_yuan(sum(owed.values())),
            }
        )
    return schedule, due_now


def strategy_for(session: Session, case: CollectionCase) -> dict[str, Any]:
    """The actions the strategy gives the case: by quadrant (the challenger's when the case is
    in its cell and it has some), else by stage (bucket)."""
    return strategy_of(case, load_strategies(session))


def strategy_of(case: CollectionCase, strategies: dict[str, Any]) -> dict[str, Any]:
    """`strategy_for` under `strategies`."""
    codes: list[str] = []
    if case.quadrant:
        challenger = strategies["challenger"].get("quadrants") or {}
        if case.test_cell == "challenger" and case.quadrant in challenger:
            codes = list(challenger[case.quadrant])
        else:
            codes = list(strategies["quadrants"].get(case.quadrant, []))
    if not codes:
        stage = next(
            (s for s in strategies["stages"] if s["bucket"] == case.bucket),
            strategies["stages"][-1] if case.bucket not in ("M0", "M1", "M2", "M3") else None,
        )
        codes = list(stage["actions"]) if stage else []
    return {
        "quadrant": case.quadrant,
        "stage": case.bucket,
        "test_cell": case.test_cell,
        "actions": [{"code": c, "zh": ACTIONS[c][0], "en": ACTIONS[c][1]} for c in codes],
    }


def guardrail_view(local: datetime, guardrails: Guardrails, connected: int) -> dict[str, Any]:
    return {
        "local_time": local.isoformat(),
        "quiet_now": guardrails.quiet_at(local),
        "connected_today": connected,
        "max_connected": guardrails.max_connected_per_debtor,
    }


def quadrant_of(willing: bool, able: bool) -> str:
    return QUADRANT_OF[(willing, able)]


__all__ = [
    "Workbench",
    "case_page",
    "guardrail_view",
    "quadrant_of",
    "strategy_for",
    "strategy_of",
]
