"""The workbench (催收工作台): a collector's cases, the next one to work, a case in full
(loan, schedule, what is due now, payoff quote, ranked contacts, history), within the
caller's scope (`collections.scope`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, sessionmaker

from xindai.collections.config import (
    ACTIONS,
    Guardrails,
    load_guardrails,
    load_strategies,
)
from xindai.collections.guardrails import connected_today, debtor_clock
from xindai.collections.scope import CaseScope, visible_case
from xindai.collections.skiptrace import contacts_of
from xindai.collections.views import (
    action_views,
    assignment_views,
    case_rows,
    placement_views,
    promise_view,
    staff_names,
)
from xindai.money import format_percent, format_yuan
from xindai.security.pii import PiiCipher
from xindai.servicing.account import payoff_quote
from xindai.servicing.approvals import approval_view
from xindai.servicing.state import COMPONENTS
from xindai.store import repository as repo
from xindai.store.models import ApprovalRequest, InstallmentRecord, Loan, LoanTransaction
from xindai.store.models_collections import (
    Assignment,
    CollectionCase,
    ContactAction,
    Placement,
    Promise,
)

HISTORY_LIMIT, PAYMENTS_LIMIT = 200, 100
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
        case = visible_case(session, scope, case_id)
        loan = session.get(Loan, case.loan_id)
        assert loan is not None
        today = self.today(session)
        guardrails = load_guardrails(session)
        clock = debtor_clock(session, loan.id, self.clock(), guardrails)
        installments = list(
            session.scalars(
                select(InstallmentRecord)
                .where(InstallmentRecord.loan_id == loan.id)
                .order_by(InstallmentRecord.number)
            )
        )
        payoff = 0
        if loan.status in ("active", "overdue"):
            _row, state = repo.load_state(session, loan.id)
            payoff = payoff_quote(state, today).total_fen
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
                    "waived": format_yuan(
                        sum(getattr(i, f"{c.value}_waived_fen") for c in COMPONENTS)
                    ),
                    "outstanding": format_yuan(sum(owed.values())),
                }
            )
        history = session.scalars(
            select(ContactAction)
            .where(ContactAction.case_id == case.id)
            .order_by(ContactAction.id.desc())
            .limit(HISTORY_LIMIT)
        ).all()
        payments = session.scalars(
            select(LoanTransaction)
            .where(
                LoanTransaction.loan_id == loan.id,
                LoanTransaction.kind.in_(("repayment", "early_settlement", "waiver")),
            )
            .order_by(LoanTransaction.seq.desc())
            .limit(PAYMENTS_LIMIT)
        ).all()
        promises = session.scalars(
            select(Promise).where(Promise.case_id == case.id).order_by(Promise.id.desc())
        ).all()
        assignments = session.scalars(
            select(Assignment).where(Assignment.case_id == case.id).order_by(Assignment.id.desc())
        ).all()
        placements = session.scalars(
            select(Placement).where(Placement.case_id == case.id).order_by(Placement.id.desc())
        ).all()
        offers = session.scalars(
            select(ApprovalRequest)
            .where(ApprovalRequest.loan_id == loan.id)
            .order_by(ApprovalRequest.id.desc())
            .limit(50)
        ).all()
        actors = staff_names(session, (p.actor_id for p in promises))
        return {
            "case": case_rows(session, [case])[0],
            "loan": {
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
            },
            "due_now": {
                **{k: format_yuan(v) for k, v in due_now.items()},
                "total": format_yuan(sum(due_now.values())),
            },
            "payoff": format_yuan(payoff),
            "schedule": schedule,
            "contacts": [
                c.view() for c in contacts_of(session, self.cipher, case.borrower_id, clock.day)
            ],
            "history": action_views(session, history),
            "payments": [
                {
                    "seq": t.seq,
                    "posted_on": t.posted_on.isoformat(),
                    "amount": format_yuan(t.amount_fen),
                    "kind": t.kind,
                    "reversed": t.reversed,
                }
                for t in payments
            ],
            "promises": [promise_view(p, actors) for p in promises],
            "assignments": assignment_views(session, assignments),
            "placements": placement_views(session, placements),
            "offers": [approval_view(r, loan) for r in offers],
            "strategy": strategy_for(session, case),
            "guardrails": guardrail_state(session, case, clock.local, guardrails),
        }


def strategy_for(session: Session, case: CollectionCase) -> dict[str, Any]:
    """The actions the strategy gives the case: by quadrant (the challenger's when the case is
    in its cell and it has some), else by stage (bucket)."""
    strategies = load_strategies(session)
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


def guardrail_state(
    session: Session, case: CollectionCase, local: datetime, guardrails: Guardrails
) -> dict[str, Any]:
    return {
        "local_time": local.isoformat(),
        "quiet_now": guardrails.quiet_at(local),
        "connected_today": connected_today(session, case.borrower_id, local.date()),
        "max_connected": guardrails.max_connected_per_debtor,
    }


def quadrant_of(willing: bool, able: bool) -> str:
    return QUADRANT_OF[(willing, able)]


__all__ = ["Workbench", "guardrail_state", "quadrant_of", "strategy_for"]
