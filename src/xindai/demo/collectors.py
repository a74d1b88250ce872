"""The demo's collectors at work (催收作业), through the services the workbench calls: each
in-house collector and each agency's user takes the next case of their queue
(`Workbench.next_case`) and works it with `CaseActions` — a call to the borrower logged in
its three dimensions, a family contact or another contact when the borrower does not
answer, an SMS from an approved template, a promise to pay with its amount and date, the
quadrant tag, a penalty waiver offered for approval, a demand or lawyer's letter, a field
visit with a second collector, a hold (留案), an escalation to legal. The guardrails are the
services': what they refuse is counted, never forced.

How a borrower answers is drawn, the same for the same seed, from their risk (`Traits`):
how often they pick up from the grade the lender gave them, whether they are willing,
able or out of reach from how they meet the loan (`lender.LoanPlan`: late a few days,
late long, never). A borrower who will keep a promise pays in the app on the promised day
(`payments`, paid by `DemoCollections`); one who will not leaves it to close of business
to find it broken.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text

from xindai.collections.actions import CallIn, CaseActions
from xindai.collections.scope import CaseScope
from xindai.collections.service import Workbench
from xindai.demo.people import Repayment
from xindai.errors import XindaiError
from xindai.integrations.simulators.people import stable_int
from xindai.origination.contacts import Relation
from xindai.platform import Platform
from xindai.servicing.allocation import Component
from xindai.servicing.approvals import ApprovalService, waiver_payload
from xindai.servicing.transactions import TxnKind
from xindai.store.models import Loan
from xindai.store.models_collections import CollectionCase
from xindai.store.models_origination import Application, Contact, DecisionRecord

NOTICE_TEMPLATE, PROMISE_TEMPLATE = "COLLECTION_NOTICE", "PROMISE_REMINDER"
CASES_A_DAY = {"inhouse": 7, "agency": 5}  # cases a collector works in a day, at most
UNREACHED = ("no_answer", "no_answer", "busy", "rejected", "powered_off")
LOST = ("powered_off", "powered_off", "no_answer", "suspended")
VISIT_NOTE, LEGAL_REASON = "上门核实居住及还款能力", "多次承诺未履行，无还款意愿，转法务"

REACH = {"A": 0.82, "B": 0.74, "C": 0.64, "D": 0.54, "E": 0.45}  # by the lender's grade
# willing, able, lost contact (chances) by how the borrower meets the loan
NEVER_PAYS, LATE_LONG, PAYS = (0.15, 0.25, 0.35), (0.85, 0.35, 0.08), (0.95, 0.85, 0.03)
LONG_LATE_DAYS = 14
Truth = Callable[[int], tuple[Repayment, int] | None]
"""How the loan's borrower meets it (and how many days late), if known."""


@dataclass(frozen=True, slots=True)
class Traits:
    """How a case's borrower meets the collectors (for the life of the case)."""

    reach: float
    willing: bool
    able: bool
    lost: bool
    never: bool  # a borrower who never pays this loan: a promise is hardly ever kept


@dataclass(frozen=True, slots=True)
class Debtor:
    """What the collector reads on the case before dialling."""

    case_id: int
    loan_id: int
    borrower_id: int
    dpd: int
    bucket: str
    overdue_fen: int
    outstanding_fen: int
    penalty: tuple[int, int] | None  # (installment, penalty fen) of the oldest overdue
    broken: int
    quadrant: str | None
    family: list[str]  # contact refs of relatives
    others: list[str]  # contact refs of others (unrelated to the debt)


class CollectorDesk:
    """The collection team's working day: `work` runs every collector's share of it."""

    def __init__(
        self,
        platform: Platform,
        clock: Callable[[], datetime],
        tick: Callable[[float], None],
        truth: Truth,
        *,
        seed: int,
    ):
        self.p = platform
        self.clock = clock
        self.tick = tick
        self.truth = truth
        self.seed = seed
        self.workbench = Workbench(platform.sessions, platform.cipher, platform.clock)
        self.actions = CaseActions(
            platform.sessions, platform.cipher, platform.clock, platform.providers, platform.loans
        )
        self.approvals = ApprovalService(platform.loans)
        self.scopes: list[CaseScope] = []
        self.inhouse: list[int] = []  # staff ids of the in-house collectors (visits)
        # by date: (borrower, loan, fen, whether their account is short again afterwards)
        self.payments: dict[date, list[tuple[int, int, int, bool]]] = {}
        self.counts: Counter[str] = Counter()
        self._grades: dict[int, str] = {}
        self._done: set[tuple[int, str]] = set()  # (case, letter / offer / visit …) once each

    def _rng(self, *parts: object) -> random.Random:
        return random.Random(stable_int(":".join(map(str, (self.seed, *parts))), "collect"))

    # ------------------------------------------------------------------ the day

    def work(self, day: date, until: datetime, *, share: float = 1.0) -> None:
        """Every collector in turn takes their next case until their day's cases are done,
        their queue has nothing workable, or the clock reaches `until`."""
        worked: dict[str, set[int]] = {scope.actor: set() for scope in self.scopes}
        held = self._open_cases()
        cap = {
            scope.actor: min(
                held.get((scope.staff_id, scope.agency_id), 0),
                int(CASES_A_DAY["agency" if scope.agency_id is not None else "inhouse"] * share),
            )
            for scope in self.scopes
        }
        active = [scope for scope in self.scopes if cap[scope.actor] > 0]
        while active and self.clock() < until:
            for scope in list(active):
                if len(worked[scope.actor]) >= cap[scope.actor]:
                    active.remove(scope)
                    continue
                with self.p.reads() as session:
                    row = self.workbench.next_case(session, scope)
                if row is None or row["id"] in worked[scope.actor] or self.clock() >= until:
                    active.remove(scope)
                    continue
                worked[scope.actor].add(int(row["id"]))
                self.work_case(scope, int(row["id"]), day)

    def _open_cases(self) -> dict[tuple[int | None, int | None], int]:
        """Open cases by (collector, agency) holding them."""
        with self.p.reads() as session:
            rows = session.execute(
                select(CollectionCase.assignee_id, CollectionCase.agency_id, func.count())
                .where(CollectionCase.status == "open")
                .group_by(CollectionCase.assignee_id, CollectionCase.agency_id)
            ).all()
        held: dict[tuple[int | None, int | None], int] = {}
        for staff_id, agency_id, count in rows:
            key = (None, int(agency_id)) if agency_id is not None else (staff_id, None)
            held[key] = held.get(key, 0) + int(count)
        return held

    def work_case(self, scope: CaseScope, case_id: int, day: date) -> None:
        debtor = self._debtor(case_id)
        if debtor is None:
            return
        traits = self._traits(debtor)
        rng = self._rng("work", case_id, day, scope.actor)
        self.tick(rng.randrange(60, 240))  # reads the case, the history, the schedule
        reached = self._call(scope, debtor, "borrower", traits, rng, day)
        if not reached:
            if rng.random() < 0.35:
                self._do("sms", lambda: self.actions.send_sms(scope, case_id, NOTICE_TEMPLATE))
                self.tick(20)
            for ref in debtor.family[:1]:
                self._call(scope, debtor, ref, traits, rng, day)
            if debtor.others and rng.random() < 0.2:
                self._call(scope, debtor, debtor.others[0], traits, rng, day)
        self._paperwork(scope, debtor, traits, rng, day)

    # ------------------------------------------------------------------ calls

    def _call(
        self,
        scope: CaseScope,
        debtor: Debtor,
        ref: str,
        traits: Traits,
        rng: random.Random,
        day: date,
    ) -> bool:
        """One call to `ref`; whether the borrower was reached (and answered)."""
        own = ref == "borrower"
        if own:
            chance = traits.reach - 0.003 * min(debtor.dpd, 90)
            if traits.lost:  # the phone is off; an agency's tracing finds them now and then
                chance = 0.3 if scope.agency_id is not None else 0.04
        else:
            chance = 0.55 if ref in debtor.family else 0.45
        if rng.random() >= chance:
            connection = rng.choice(LOST if own and traits.lost else UNREACHED)
            self._log(scope, debtor, CallIn(contact=ref, connection=connection), rng, 40)
            return False
        if not own:  # a relative passes the message on, another refuses or passes it on
            party = "related" if ref in debtor.family else "unrelated"
            result = "relay"
            if party == "unrelated" and rng.random() < 0.3:
                result = "refused"  # never to be called again (the guardrail remembers)
            elif traits.lost and rng.random() < 0.4:
                result = "lead"  # a clue where the borrower is
            call = CallIn(contact=ref, connection="connected", party=party, result=result)
            self._log(scope, debtor, call, rng, 150)
            return False
        call = self._right_party(scope, debtor, traits, rng, day)
        view = self._log(scope, debtor, call, rng, 240)
        if view is not None and debtor.quadrant is None:
            self._do(
                "quadrant",
                lambda: self.actions.set_quadrant(
                    scope, debtor.case_id, traits.willing, traits.able
                ),
            )
        if view is not None and call.result == "promise":
            self._after_promise(scope, debtor, call, traits, rng, day)
        return True

    def _right_party(
        self, scope: CaseScope, debtor: Debtor, traits: Traits, rng: random.Random, day: date
    ) -> CallIn:
        """The borrower answered: what they say, by willingness and ability."""
        draw = rng.random()
        promise = (
            draw < 0.9
            if traits.willing and traits.able
            else draw < 0.5
            if traits.willing
            else draw < (0.45 if traits.able else 0.3)
        )
        if traits.willing and not traits.able and debtor.penalty and not promise:
            note = "客户表示收入下降，协商减免"
            return CallIn("borrower", "connected", "self", "plan", note=note)
        if not promise:
            result = "refused" if draw < 0.93 else ("dispute" if traits.able else "complaint")
            return CallIn("borrower", "connected", "self", result)
        owed = min(debtor.overdue_fen or debtor.outstanding_fen, debtor.outstanding_fen)
        amount = owed if traits.able else max(10_000, owed // 2 // 10_000 * 10_000)
        on = day + timedelta(days=rng.choice((1, 1, 2, 3, 3, 5, 7)))
        return CallIn(
            "borrower",
            "connected",
            "self",
            "promise",
            note="客户承诺按期还款",
            promise_amount_fen=min(amount, debtor.outstanding_fen),
            promise_date=on,
        )

    def _after_promise(
        self,
        scope: CaseScope,
        debtor: Debtor,
        call: CallIn,
        traits: Traits,
        rng: random.Random,
        day: date,
    ) -> None:
        """Whether they will keep it (fully, in part, not at all); an SMS confirming it; a
        hold when the case is about to move bucket."""
        assert call.promise_date is not None and call.promise_amount_fen is not None
        keep = (0.7 if traits.able else 0.5) if traits.willing else 0.15
        keep *= (0.1 if traits.never else 1.0) * 0.6**debtor.broken
        draw = rng.random()
        if (traits.never or not traits.willing) and not debtor.broken:
            paid = 0  # one who will not (or never) pay: a first promise only ends the call
        elif draw < keep:
            paid = call.promise_amount_fen
        elif draw < keep + 0.1:
            paid = max(1_000, call.promise_amount_fen // 3)  # partial
        else:
            paid = 0
        if paid:
            self.payments.setdefault(call.promise_date, []).append(
                (debtor.borrower_id, debtor.loan_id, paid, traits.never)
            )
        if rng.random() < 0.3:
            self._do("sms", lambda: self.actions.send_sms(scope, debtor.case_id, PROMISE_TEMPLATE))
            self.tick(20)
        if scope.agency_id is None and debtor.dpd in (27, 28, 29) and rng.random() < 0.5:
            self._do(
                "hold",
                lambda: self.actions.hold(scope, debtor.case_id, 5, "已承诺还款，留案跟进"),
            )

    def _log(
        self, scope: CaseScope, debtor: Debtor, call: CallIn, rng: random.Random, seconds: int
    ) -> dict[str, Any] | None:
        self.tick(rng.randrange(seconds // 2, seconds * 2))
        view: dict[str, Any] | None = self._do(
            "call", lambda: self.actions.log_call(scope, debtor.case_id, call)
        )
        if view is not None:
            self.counts[f"call:{call.connection}"] += 1
        return view

    # ------------------------------------------------------------------ paperwork

    def _paperwork(
        self, scope: CaseScope, debtor: Debtor, traits: Traits, rng: random.Random, day: date
    ) -> None:
        """Once per case each: a waiver offered to the willing who cannot pay, letters as the
        case ages, a field visit for the worst in-house, legal for the hopeless."""
        case_id = debtor.case_id
        inhouse = scope.agency_id is None
        offers = inhouse and traits.willing and not traits.able and debtor.penalty is not None
        if offers and self._once(case_id, "offer") and rng.random() < 0.6:
            self._offer_waiver(scope, debtor)
        if debtor.dpd >= 31 and self._once(case_id, "demand", rng.random() < 0.4):
            self._do("letter", lambda: self.actions.letter(scope, case_id, "demand"))
            self.tick(120)
        if debtor.dpd >= 61 and self._once(case_id, "lawyer", rng.random() < 0.3):
            self._do("letter", lambda: self.actions.letter(scope, case_id, "lawyer"))
            self.tick(120)
        hopeless = not traits.willing and not traits.able
        if inhouse and hopeless and 31 <= debtor.dpd <= 90:
            companions = [i for i in self.inhouse if i != scope.actor_id][:1]
            if companions and self._once(case_id, "visit", rng.random() < 0.08):
                self._do(
                    "visit",
                    lambda: self.actions.visit(
                        scope, case_id, companions, day + timedelta(days=2), VISIT_NOTE
                    ),
                )
        legal = hopeless and debtor.dpd >= 85 and debtor.broken >= 2
        if legal and self._once(case_id, "legal", rng.random() < 0.3):
            self._do("legal", lambda: self.actions.legal(scope, case_id, LEGAL_REASON))

    def _offer_waiver(self, scope: CaseScope, debtor: Debtor) -> None:
        assert debtor.penalty is not None
        number, fen = debtor.penalty
        payload = waiver_payload([(number, Component.PENALTY, fen)])

        def submit() -> dict[str, Any]:
            return self.approvals.submit(
                TxnKind.WAIVER,
                debtor.loan_id,
                payload,
                reason="客户有还款意愿但暂时困难，申请减免罚息以促成还款",
                maker=scope.actor,
            )

        self.tick(180)
        self._do("offer", lambda: self.actions.offer(scope, debtor.case_id, submit))

    def _once(self, case_id: int, what: str, wanted: bool = True) -> bool:
        """Whether `what` is done on the case now: wanted, and not done before."""
        if not wanted or (case_id, what) in self._done:
            return False
        self._done.add((case_id, what))
        return True

    def _do(self, what: str, action: Callable[[], Any]) -> Any:
        try:
            result = action()
        except XindaiError as refused:
            self.counts[f"refused:{refused.code}"] += 1
            return None
        self.counts[what] += 1
        return result

    # ------------------------------------------------------------------ reading the case

    def _traits(self, debtor: Debtor) -> Traits:
        known = self.truth(debtor.loan_id)
        repayment, late_days = known if known is not None else (Repayment.LATE, 1)
        if repayment is Repayment.NEVER:
            willing, able, lost = NEVER_PAYS
        elif repayment is Repayment.LATE and late_days > LONG_LATE_DAYS:
            willing, able, lost = LATE_LONG
        else:
            willing, able, lost = PAYS
        rng = self._rng("traits", debtor.case_id)
        return Traits(
            reach=REACH.get(self._grade(debtor.loan_id), REACH["C"]),
            willing=rng.random() < willing,
            able=rng.random() < able,
            lost=rng.random() < lost,
            never=repayment is Repayment.NEVER,
        )

    def _grade(self, loan_id: int) -> str:
        """The grade the lender gave the loan's borrower (its application's, else their
        latest graded decision's)."""
        if loan_id not in self._grades:
            with self.p.reads() as session:
                grade = session.scalar(
                    select(DecisionRecord.grade)
                    .join(Application, Application.id == DecisionRecord.application_id)
                    .where(
                        Application.borrower_id
                        == select(Loan.borrower_id).where(Loan.id == loan_id).scalar_subquery(),
                        DecisionRecord.grade.is_not(None),
                    )
                    .order_by((Application.loan_id == loan_id).desc(), DecisionRecord.id.desc())
                    .limit(1)
                )
            self._grades[loan_id] = grade or "C"
        return self._grades[loan_id]

    def _debtor(self, case_id: int) -> Debtor | None:
        with self.p.reads() as session:
            row = session.execute(
                text(
                    "SELECT c.loan_id, c.borrower_id, c.dpd, c.bucket, c.overdue_fen,"
                    " c.broken_promises, c.quadrant, l.principal_outstanding_fen"
                    " + l.interest_outstanding_fen + l.fee_outstanding_fen"
                    " + l.penalty_outstanding_fen FROM collection_cases c"
                    " JOIN loans l ON l.id = c.loan_id WHERE c.id = :id AND c.status = 'open'"
                ),
                {"id": case_id},
            ).first()
            if row is None:
                return None
            loan_id, borrower_id = int(row[0]), int(row[1])
            penalty = session.execute(
                text(
                    "SELECT number, penalty_due_fen - penalty_paid_fen - penalty_waived_fen"
                    " FROM installments WHERE loan_id = :loan AND cancelled = :no"
                    " AND penalty_due_fen - penalty_paid_fen - penalty_waived_fen > 0"
                    " ORDER BY number LIMIT 1"
                ),
                {"loan": loan_id, "no": False},
            ).first()
            contacts = session.execute(
                select(Contact.seq, Contact.relation)
                .where(Contact.borrower_id == borrower_id)
                .order_by(Contact.seq)
            ).all()
        family: list[str] = []
        others: list[str] = []
        for seq, relation in contacts:
            try:
                is_family = Relation(relation).is_family
            except ValueError:
                is_family = False
            (family if is_family else others).append(f"contact:{seq}")
        return Debtor(
            case_id=case_id,
            loan_id=loan_id,
            borrower_id=borrower_id,
            dpd=int(row[2]),
            bucket=str(row[3]),
            overdue_fen=int(row[4]),
            outstanding_fen=int(row[7]),
            penalty=None if penalty is None else (int(penalty[0]), int(penalty[1])),
            broken=int(row[5]),
            quadrant=row[6],
            family=family,
            others=others,
        )


__all__ = ["CASES_A_DAY", "NOTICE_TEMPLATE", "PROMISE_TEMPLATE", "CollectorDesk", "Traits"]
