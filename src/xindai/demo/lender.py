"""The demo lender's people, one business day at a time (`BorrowerSide.day`): newcomers from
the acquisition channels sign up, bind a card and apply, returning borrowers apply again or
draw on their credit line, the approved sign and are paid out through the channel, and
borrowers with an installment due pay it in the app, leave it to the night's 代扣, pay late
(their account short until the day they pay: `short_cards` of the payment simulator) or
never. How each loan is met is drawn from its borrower's risk when it is booked (`LoanPlan`).
The day's order and the staff's part are in `business`; the market in `people`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, text

from xindai.demo.borrowers import Ask, BorrowerApp, first_ask, next_ask
from xindai.demo.desk import StaffDesk
from xindai.demo.people import CardTrouble, Person, Repayment, market
from xindai.errors import XindaiError
from xindai.integrations.simulators.control import SimulatorControl
from xindai.integrations.simulators.people import stable_int
from xindai.origination.journey import OriginationService
from xindai.platform import Platform
from xindai.store.models import Loan

# loans per person of the market over six months (measured: 2,222 people, 1,946 to 1,970
# loans): the default 2,000 loans is at least 2,000
LOANS_PER_PERSON = 0.86


_EPOCH = datetime(2000, 1, 1)  # the shared clock counts from here (naive, as the lender's)


def _seconds(moment: datetime) -> float:
    return (moment - _EPOCH).total_seconds()


class DemoClock:
    """The lender's clock while the demo runs: the business day's office hours, advancing
    a little with every action (so that records keep their order).

    With `shared` (a `multiprocessing.Value("d")`: seconds since `_EPOCH`) the processes
    of one build read and advance one clock: the worker processes' people, and the
    processes that take the channel's callbacks, keep one order of events."""

    def __init__(self, day: date, shared: Any = None):
        self._shared = shared
        self._now = datetime.combine(day, time(8, 30))
        if shared is not None and shared.value == 0:
            shared.value = _seconds(self._now)

    @property
    def now(self) -> datetime:
        if self._shared is None:
            return self._now
        return _EPOCH + timedelta(seconds=self._shared.value)

    @now.setter
    def now(self, value: datetime) -> None:
        if self._shared is None:
            self._now = value
        else:
            self._shared.value = _seconds(value)

    def __call__(self) -> datetime:
        return self.now

    def morning(self, day: date) -> None:
        self._advance(datetime.combine(day, time(8, 30)), 0.0)

    def tick(self, seconds: float = 40.0) -> None:
        if self._shared is None:
            self._now += timedelta(seconds=seconds)
        else:
            with self._shared.get_lock():
                self._shared.value += seconds

    def _advance(self, at_least: datetime, seconds: float) -> None:
        if self._shared is None:
            self._now = max(self._now, at_least) + timedelta(seconds=seconds)
            return
        with self._shared.get_lock():
            self._shared.value = max(self._shared.value, _seconds(at_least)) + seconds


@dataclass(frozen=True, slots=True)
class DemoSize:
    """How big the demo lender is: months of business, about how many loans, the seed."""

    months: int = 6
    loans: int = 2000
    seed: int = 7

    @property
    def people(self) -> int:
        scale = min(1.0, 0.65 + 0.06 * self.months)  # fewer months: fewer loans per person
        return max(10, int(self.loans / (LOANS_PER_PERSON * scale) + 0.5))


@dataclass
class LoanPlan:
    """How one loan's borrower will meet it (drawn from their risk when it is booked)."""

    loan_id: int
    person: Person
    repayment: Repayment
    late_days: int
    trouble_from: int  # the installment from which it is late / never paid
    payoff_on: date | None  # EARLY: the day they pay it all off
    extends: bool  # a 14/21-day loan extended once on its due date


@dataclass
class Counts:
    registrations: int = 0
    applications: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    loans: int = 0
    payout_failures: int = 0
    card_failures: int = 0
    in_app_payments: int = 0
    extensions: int = 0
    early_payoffs: int = 0
    days: int = 0

    def add(self, other: Counts) -> None:
        """Add another shard's counts (its days are the same days, not more)."""
        for name in (
            "registrations",
            "applications",
            "loans",
            "payout_failures",
            "card_failures",
            "in_app_payments",
            "extensions",
            "early_payoffs",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.outcomes.update(other.outcomes)
        self.days = max(self.days, other.days)


ProgressFn = Callable[[int, int, Counts], None]


class BorrowerSide:
    """The people of one shard of the market (all of it unless workers split it) and what
    they do each day: sign up and apply, come back, sign, repay."""

    def __init__(
        self,
        platform: Platform,
        clock: DemoClock,
        control: SimulatorControl,
        size: DemoSize,
        *,
        start: date,
        end: date,
        shard: int = 0,
        shards: int = 1,
    ):
        self.p = platform
        self.clock = clock
        self.control = control
        self.size = size
        self.start, self.end = start, end
        self.journey = OriginationService(platform)
        self.app = BorrowerApp(self.journey, control)
        self.desk = StaffDesk(platform, clock, control, self.journey, seed=size.seed)
        days = (end - start).days + 1
        people = market(size.people, days, seed=size.seed)
        self.arrivals: dict[int, list[Person]] = {}
        for person in people:
            if person.index % shards == shard:
                self.arrivals.setdefault(person.arrives_on_day, []).append(person)
        self.borrower_of: dict[int, int] = {}  # person index -> borrower id
        self.card_of: dict[int, int] = {}  # person index -> card id
        self.person_of: dict[int, Person] = {}  # borrower id -> person
        self.loans_of: dict[int, list[int]] = {}  # person index -> loan ids, oldest first
        self.plans: dict[int, LoanPlan] = {}
        self.returning: dict[date, list[Person]] = {}
        self.fund_on: dict[date, list[Person]] = {}
        self.short: set[str] = set()
        self.settled_seen: set[int] = set()
        self.counts = Counts()

    def day(self, day: date, approved: list[tuple[int, int]]) -> Counts:
        """The people's part of business day `day`; `approved` are the applications the
        review approved this morning (those of this shard's borrowers are signed)."""
        self.clock.morning(day)
        self._returning_after_settlement(day)
        self._fund_accounts(day)
        for application_id, borrower_id in approved:
            person = self.person_of.get(borrower_id)
            if person is not None:
                self._sign(person, borrower_id, application_id)
        for person in self.arrivals.get((day - self.start).days, []):
            self._newcomer(person)
        for person in self.returning.pop(day, []):
            self._apply_again(person)
        self._due_today(day)
        self.counts.days += 1
        return self.counts

    # ------------------------------------------------------------------ people

    def _newcomer(self, person: Person) -> None:
        self.clock.tick()
        try:
            borrower_id = self.app.sign_up(person)
        except XindaiError:
            self.counts.outcomes["sign_up_refused"] += 1  # e.g. KYC_AGE
            return
        self.counts.registrations += 1
        self.borrower_of[person.index] = borrower_id
        self.person_of[borrower_id] = person
        card_id, failures = self.app.bind_card(person, borrower_id)
        self.card_of[person.index] = card_id
        self.counts.card_failures += failures
        self._apply(person, first_ask(person, self.size.seed))

    def _apply_again(self, person: Person) -> None:
        self.clock.tick()
        loans = self.loans_of.get(person.index, [])
        with self.p.reads() as session:
            last_fen = session.scalar(select(Loan.principal_fen).where(Loan.id == loans[-1]))
        ask = next_ask(person, len(loans), int(last_fen or 100_000), self.size.seed)
        borrower_id = self.borrower_of[person.index]
        if self.desk.draw_on_line(person, borrower_id, self.card_of[person.index], ask):
            self.counts.applications += 1
            self.counts.outcomes["credit_line"] += 1
            application_id = self.desk.last_drawn
            if application_id is not None:
                self._sign(person, borrower_id, application_id)
            return
        self._apply(person, ask)

    def _apply(self, person: Person, ask: Ask) -> None:
        borrower_id = self.borrower_of[person.index]
        self.clock.tick(90)
        try:
            application = self.app.apply(person, borrower_id, self.card_of[person.index], ask)
        except XindaiError as error:
            self.counts.outcomes[f"refused:{error.code}"] += 1
            return
        self.counts.applications += 1
        self.counts.outcomes[application["status"]] += 1
        if application["status"] == "approved":
            self._sign(person, borrower_id, int(application["id"]))

    def _sign(self, person: Person, borrower_id: int, application_id: int) -> None:
        self.clock.tick(120)
        number = len(self.loans_of.get(person.index, []))
        transient = stable_int(f"{self.size.seed}:{person.index}:{number}", "payout") % 40 == 0
        if transient and person.card_trouble is not CardTrouble.FROZEN_ACCOUNT:
            self.control.fail_next("payout", 1)  # the bank declines this payout once
        view = self.app.sign(borrower_id, application_id)
        loan_id = view.get("loan_id")
        if loan_id is None:
            return
        self.counts.loans += 1
        self.loans_of.setdefault(person.index, []).append(int(loan_id))
        self.plans[int(loan_id)] = self._plan(person, int(loan_id), number)

    def _plan(self, person: Person, loan_id: int, number: int) -> LoanPlan:
        repayment, late_days = person.repayment(number, self.size.seed)
        rng = random.Random(stable_int(f"{self.size.seed}:{loan_id}", "plan"))
        with self.p.reads() as session:
            loan = session.get(Loan, loan_id)
            assert loan is not None
            term, booked, maturity = loan.term, loan.booked_on, loan.maturity_date
            short_loan = loan.product_code == "CASH14"
        installments = 1 if short_loan else term
        payoff_on = None
        if repayment is Repayment.EARLY and maturity is not None:
            payoff_on = booked + timedelta(days=max(3, rng.randrange((maturity - booked).days)))
        return LoanPlan(
            loan_id=loan_id,
            person=person,
            repayment=repayment,
            late_days=late_days,
            trouble_from=rng.randrange(1, installments + 1),
            payoff_on=payoff_on,
            extends=short_loan and repayment is Repayment.ON_TIME and rng.random() < 0.06,
        )

    # ------------------------------------------------------------------ repaying

    def _due_today(self, day: date) -> None:
        """Borrowers with an installment due today: short accounts for the late and the
        defaulters (today's 代扣 fails), in-app payments for those who pay themselves."""
        rows = self._installments_due(day)
        newly_short: list[str] = []
        for loan_id, number in rows:
            plan = self.plans.get(loan_id)
            if plan is None:
                continue
            person = plan.person
            troubled = number >= plan.trouble_from and plan.repayment in (
                Repayment.LATE,
                Repayment.NEVER,
            )
            if plan.repayment is Repayment.LATE and number > plan.trouble_from:
                troubled = person.card in self.short
            if troubled:
                if person.card not in self.short:
                    self.short.add(person.card)
                    newly_short.append(person.card)
                    if plan.repayment is Repayment.LATE:
                        pays_on = day + timedelta(days=plan.late_days)
                        self.fund_on.setdefault(pays_on, []).append(person)
                continue
            borrower_id = self.borrower_of[person.index]
            self.clock.tick(30)
            if plan.extends and number == 1:
                plan.extends = False
                if self.app.repay(borrower_id, loan_id, "extension"):
                    self.counts.extensions += 1
                continue
            if person.pays_in_app and self.app.repay(borrower_id, loan_id, "current_due"):
                self.counts.in_app_payments += 1
        for loan_id, plan in self.plans.items():
            if plan.payoff_on == day and plan.person.card not in self.short:
                self.clock.tick(30)
                borrower_id = self.borrower_of[plan.person.index]
                if self.app.repay(borrower_id, loan_id, "payoff"):
                    self.counts.early_payoffs += 1
        if newly_short:
            self.control.payment_control(short_cards=newly_short)

    def _installments_due(self, day: date) -> list[tuple[int, int]]:
        with self.p.reads() as session:
            rows = session.execute(
                text(
                    "SELECT i.loan_id, i.number FROM installments i"
                    " JOIN loans l ON l.id = i.loan_id"
                    " WHERE i.due_date = :d AND i.cancelled = :no"
                    " AND l.status IN ('active', 'overdue') ORDER BY i.loan_id, i.number"
                ),
                {"d": day, "no": False},
            ).all()
        return [(int(loan), int(number)) for loan, number in rows]

    def _fund_accounts(self, day: date) -> None:
        """Late payers whose day it is have money again: today's 代扣 collects what is due
        (or they pay it in the app themselves)."""
        people = self.fund_on.pop(day, [])
        cards = [p.card for p in people if p.card in self.short]
        if not cards:
            return
        self.short.difference_update(cards)
        self.control.payment_control(funded_cards=cards)
        for person in people:
            if not person.pays_in_app:
                continue
            for loan_id in self.loans_of.get(person.index, [])[-1:]:
                self.clock.tick(30)
                if self.app.repay(self.borrower_of[person.index], loan_id, "current_due"):
                    self.counts.in_app_payments += 1

    def _returning_after_settlement(self, day: date) -> None:
        """Borrowers whose loan was settled may come back for another (复贷)."""
        with self.p.reads() as session:
            settled = session.scalars(
                select(Loan.id).where(
                    Loan.status == "settled", Loan.closed_on >= day - timedelta(days=3)
                )
            ).all()
        for loan_id in settled:
            plan = self.plans.get(loan_id)
            if loan_id in self.settled_seen or plan is None:
                continue
            self.settled_seen.add(loan_id)
            person = plan.person
            rng = random.Random(stable_int(f"{self.size.seed}:{loan_id}", "return"))
            late = plan.repayment is Repayment.LATE and plan.late_days > 30
            if late or rng.random() > person.returns:
                continue
            back_on = day + timedelta(days=rng.choice((0, 1, 2, 3, 5, 8, 12, 20)))
            if back_on <= self.end:
                self.returning.setdefault(back_on, []).append(person)
