"""The demo lender's collection teams (贷后与催收), run through the services the console
calls, over every day of the build.

The first morning the collections lead sets them up: operations drafts the collection SMS
templates and the lead approves them (a second person) and registers them with the
gateway; the lead creates two agencies (委外) with a user each, puts the in-house collectors
in the M1 and M2–M3 queues and the agencies in M3+, and runs a challenger strategy on a
fifth of the new cases.

Every business day (`around_people`): the reminders that last night's close of business
queued are sent in the morning, after the quiet hours; the borrowers who will keep a promise
pay in the app on the promised day, their account funded as a late payer's is; the
collectors and the agencies' users work their queues from 09:00 (`collectors`); finance
decides the waivers they offered (maker-checker); on Mondays the lead places cases whose
borrower cannot be reached with the agency that traces (失联委外). With the people in worker
processes all this runs beside their day, in a thread of this process (which only waits for
them). Close of business runs with the collection steps (`registry`): promises judged,
cases opened, closed and refreshed, allocation and placements, recalls with commission.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, select

from xindai.cob.registry import DEFAULT_REGISTRY, StepRegistry
from xindai.collections.agencies import AgencyDesk
from xindai.collections.assign import assign_case
from xindai.collections.cob import register_collections
from xindai.collections.manage import Management
from xindai.collections.reminders import send_reminders
from xindai.collections.scope import scope_of
from xindai.demo.borrowers import BorrowerApp
from xindai.demo.collectors import NOTICE_TEMPLATE, PROMISE_TEMPLATE, CollectorDesk
from xindai.demo.lender import DemoClock, DemoSize
from xindai.demo.people import Person, Repayment, market
from xindai.errors import XindaiError
from xindai.integrations.errors import ProviderError
from xindai.integrations.simulators.control import SimulatorControl
from xindai.messaging.templates import SmsTemplates
from xindai.origination.journey import OriginationService
from xindai.origination.withholding import registry_with_withholding
from xindai.platform import Platform
from xindai.servicing.approvals import ApprovalService
from xindai.store.models import ApprovalRequest, Borrower, Loan
from xindai.store.models_collections import CollectionCase, ContactAction
from xindai.store.models_origination import Application, BankCard, StaffUser

LEAD, DRAFTER, FINANCE = "collect_lead", "ops", "finance"
WORKDAY = (time(9, 0), time(18, 0))  # the collectors' hours (quiet hours are 22:00–08:00)
ALL_LOANS = (0, 2**62)
LOST_AFTER_DAYS, LOST_ATTEMPTS = 7, 3  # unreached on every call to the borrower this long


@dataclass(frozen=True, slots=True)
class AgencyPlan:
    code: str
    name: str
    commission_rate: str
    window_days: int
    user: str
    weight: int  # its share of the M3+ queue (performance allocation)


AGENCIES = (
    AgencyPlan("HUAXIN", "华信资产管理有限公司", "0.18", 30, "agency_hx", 60),
    AgencyPlan("YUANXIANG", "远翔信用管理有限公司", "0.22", 45, "agency_yx", 40),
)
TRACING_AGENCY = "YUANXIANG"  # takes the lost-contact cases (失联修复)
QUEUE_MEMBERS = {  # in-house queues: (collector, team), the first is the senior's
    "M1": (("collector", "早期一组"), ("collector2", "早期一组"), ("collector3", "早期二组")),
    "M2M3": (("collector4", "资深组"), ("collector2", "资深组")),
}
M2M3_CAPACITY = 80
TEMPLATES = (
    (
        NOTICE_TEMPLATE,
        "【信贷】{name}您好，您的借款（借据号{loan_no}）已逾期{days}天，应还{amount}元。"
        "请尽快通过{app_name}还款，如有困难请致电{hotline}协商。",
        "催收通知：电话未接通时发送",
    ),
    (
        PROMISE_TEMPLATE,
        "【信贷】感谢您的配合，请按约定通过{app_name}归还借款（借据号{loan_no}），"
        "如已还款请忽略本短信。客服电话{hotline}。",
        "承诺还款后的确认提醒",
    ),
)
CHALLENGER = {
    "share_percent": 20,
    "quadrants": {"II": ["offer_deferral", "offer_restructure"], "III": ["raise_cost"]},
}


def demo_registry(platform: Platform) -> StepRegistry:
    """Close of business as the demo runs it: withholding and the collection steps, with
    the reminders queued at night and sent in the morning (`DemoCollections.reminders`)."""
    registry = registry_with_withholding(DEFAULT_REGISTRY, platform)
    return register_collections(registry, platform, send_reminders=False)


class DemoCollections:
    """The collection teams' part of each demo day (see the module's docstring)."""

    def __init__(
        self,
        platform: Platform,
        clock: DemoClock,
        control: SimulatorControl,
        size: DemoSize,
        *,
        start: date,
        end: date,
    ):
        self.p = platform
        self.clock = clock
        self.control = control
        self.size = size
        self.days = (end - start).days + 1
        self.desk = CollectorDesk(platform, clock, clock.tick, self.truth, seed=size.seed)
        self.app = BorrowerApp(OriginationService(platform), control)
        self.management = Management(platform.sessions, platform.clock)
        self.agencies = AgencyDesk(platform.sessions, platform.clock)
        self.agency_ids: dict[str, int] = {}
        self.ready = False
        self._people: dict[str, Person] | None = None  # by the phone's lookup hash

    def truth(self, loan_id: int) -> tuple[Repayment, int] | None:
        """How the borrower of `loan_id` meets it, as the people's side drew it when the
        loan was booked (`Person.repayment` of their n-th loan), from the same market."""
        if self._people is None:
            cipher = self.p.cipher
            self._people = {
                cipher.lookup_hash("phone", person.phone): person
                for person in market(self.size.people, self.days, seed=self.size.seed)
            }
        with self.p.reads() as session:
            row = session.execute(
                select(Borrower.mobile_hash, Loan.borrower_id)
                .join(Borrower, Borrower.id == Loan.borrower_id)
                .where(Loan.id == loan_id)
            ).first()
            if row is None or row[0] is None:
                return None
            earlier = session.scalar(
                select(func.count())
                .select_from(Loan)
                .where(Loan.borrower_id == row[1], Loan.id < loan_id)
            )
        person = self._people.get(str(row[0]))
        return None if person is None else person.repayment(int(earlier or 0), self.size.seed)

    # ------------------------------------------------------------------ the first morning

    def setup(self) -> None:
        """Templates, agencies and their users, queue members, the challenger."""
        self._templates()
        for plan in AGENCIES:
            view = self.agencies.save_agency(
                {
                    "code": plan.code,
                    "name": plan.name,
                    "commission_rate": plan.commission_rate,
                    "window_days": plan.window_days,
                },
                actor=LEAD,
            )
            self.agency_ids[plan.code] = int(view["id"])
            self.agencies.link_user(int(view["id"]), self._staff_id(plan.user), actor=LEAD)
            self.clock.tick(120)
        with self.p.reads() as session:
            queues = {q["code"]: q for q in self.management.queues(session)}
        for code, members in QUEUE_MEMBERS.items():
            body = self._queue_body(queues[code])
            body["members"] = [
                {"staff_id": self._staff_id(username), "team": team} for username, team in members
            ]
            if code == "M2M3":
                body["capacity"] = M2M3_CAPACITY
            self.management.put_queue(code, body, actor=LEAD)
            self.clock.tick(60)
        agency_queue = next(q for q in queues.values() if q["owner"] == "agency")
        body = self._queue_body(agency_queue)
        body["members"] = [
            {"agency_id": self.agency_ids[plan.code], "weight": plan.weight} for plan in AGENCIES
        ]
        self.management.put_queue(agency_queue["code"], body, actor=LEAD)
        self.management.put_strategies({"challenger": CHALLENGER}, actor=LEAD)
        self._scopes()
        self.ready = True

    def _templates(self) -> None:
        templates = SmsTemplates(self.p.sessions, self.p.clock)
        for code, body, note in TEMPLATES:
            draft = templates.draft(
                code=code, purpose="collection", text=body, variables=None, note=note, actor=DRAFTER
            )
            self.clock.tick(300)
            approved = templates.decide(
                int(draft["id"]), approve=True, actor=LEAD, note="措辞合规，同意使用"
            )
            try:
                self.p.providers.sms.register_template(approved["code"], approved["text"])
            except ProviderError:
                continue  # refused by the gateway: its messages fail (and are counted)

    @staticmethod
    def _queue_body(view: dict[str, Any]) -> dict[str, Any]:
        """A queue's editable fields as `Management.queues` shows them."""
        shown = ("open_cases", "unassigned", "members")
        return {key: value for key, value in view.items() if key not in shown}

    def _staff_id(self, username: str) -> int:
        with self.p.reads() as session:
            found = session.scalar(select(StaffUser.id).where(StaffUser.username == username))
        if found is None:
            raise LookupError(f"demo login {username} missing")
        return int(found)

    def _scopes(self) -> None:
        users = [u for members in QUEUE_MEMBERS.values() for u, _ in members]
        users = list(dict.fromkeys(users)) + [plan.user for plan in AGENCIES]
        with self.p.reads() as session:
            for username in users:
                staff = session.scalar(select(StaffUser).where(StaffUser.username == username))
                assert staff is not None
                self.desk.scopes.append(scope_of(session, staff, username))
                if staff.username not in {plan.user for plan in AGENCIES}:
                    self.desk.inhouse.append(int(staff.id))

    # ------------------------------------------------------------------ the morning

    def reminders(self, day: date) -> int:
        """Send the reminders last night's close of business queued (the platform's
        `send_reminders`: the approved templates, the outbox, the receipts)."""
        return send_reminders(self.p, day - timedelta(days=1), *ALL_LOANS)

    @contextmanager
    def around_people(self, day: date, *, last: bool, concurrent: bool) -> Iterator[None]:
        """Around the people's day: this morning's reminders before it and the collectors'
        day after it — or, when the people are in worker processes and this one only waits,
        both beside it in a thread, the collectors from 09:00 by the shared clock."""
        if not concurrent:
            self.reminders(day)
            yield
            self.workday(day, last=last)
            return
        people_done = threading.Event()
        failed: list[BaseException] = []

        def team() -> None:
            try:
                self.reminders(day)
                opens = datetime.combine(day, WORKDAY[0])
                while self.clock() < opens and not people_done.wait(0.05):
                    continue
                self.workday(day, last=last)
            except BaseException as error:  # re-raised once the people's day is over
                failed.append(error)

        thread = threading.Thread(target=team, name="demo-collections", daemon=True)
        thread.start()
        try:
            yield
        finally:
            people_done.set()
            thread.join()
        if failed:
            raise failed[0]

    def decide_offers(self) -> None:
        """Finance decides the collectors' pending offers (the approvals inbox)."""
        collectors = [scope.actor for scope in self.desk.scopes]
        with self.p.reads() as session:
            pending = session.scalars(
                select(ApprovalRequest.id)
                .where(
                    ApprovalRequest.status == "pending",
                    ApprovalRequest.requested_by.in_(collectors),
                )
                .order_by(ApprovalRequest.id)
            ).all()
        service = ApprovalService(self.p.loans)
        for number, request_id in enumerate(pending):
            self.clock.tick(150)
            approve = number % 7 != 6
            note = "同意减免罚息，促成还款" if approve else "减免金额超出授权，请先协商部分还款"
            try:
                service.decide(
                    int(request_id),
                    checker=FINANCE,
                    approve=approve,
                    note=note,
                )
            except XindaiError:
                continue

    # ------------------------------------------------------------------ the working day

    def workday(self, day: date, *, last: bool) -> None:
        """From 09:00: the promised payments of the day, the lead's placements (Mondays),
        the collectors' queues (on the last day, this morning's share), then finance's
        decisions on the offers they made."""
        if not self.ready:
            self.setup()
        opens = datetime.combine(day, WORKDAY[0])
        if self.clock.now < opens:  # (beside the people's day the clock is past it: no race)
            self.clock.now = opens
        self.pay_promised(day)
        if day.weekday() == 0:
            self.place_lost(day)
        until = datetime.combine(day, time(12, 0) if last else WORKDAY[1])
        self.desk.work(day, until, share=0.5 if last else 1.0)
        if not last:  # the last day's offers wait in the approvals inbox
            self.decide_offers()

    def pay_promised(self, day: date) -> None:
        """Borrowers who promised for today put money on their card and pay in the app; one
        who never pays the loan otherwise is short again afterwards (as the people's side
        left them), the others keep their account funded, as a late payer does."""
        due = self.desk.payments.pop(day, [])
        cards = {loan_id: self._card(loan_id) for _b, loan_id, _f, _s in due}
        funded = sorted({card for card in cards.values() if card})
        if funded:
            self.control.payment_control(funded_cards=funded)
        short_again: list[str] = []
        for borrower_id, loan_id, fen, short in due:
            self.clock.tick(45)
            try:
                self.app.journey.repay(borrower_id, loan_id, mode="amount", amount_fen=fen)
            except XindaiError:
                # more than is owed now, or a collection in flight: what is due, if anything
                self.app.repay(borrower_id, loan_id, "current_due")
            self.desk.counts["promise_paid"] += 1
            card = cards[loan_id]
            if short and card:  # the channel decided the collection when it was asked
                short_again.append(card)
        if short_again:
            self.control.payment_control(short_cards=sorted(set(short_again)))

    def _card(self, loan_id: int) -> str | None:
        with self.p.reads() as session:
            encrypted = session.scalar(
                select(BankCard.card_enc)
                .join(Application, Application.card_id == BankCard.id)
                .where(Application.loan_id == loan_id)
                .limit(1)
            )
        return None if encrypted is None else self.p.cipher.decrypt("card", encrypted)

    def place_lost(self, day: date) -> None:
        """The lead places in-house cases unreached on every call to the borrower for a
        week with the tracing agency (手工分案, 失联委外)."""
        since = day - timedelta(days=LOST_AFTER_DAYS)
        connected = func.sum(case((ContactAction.connection == "connected", 1), else_=0))
        with self.p.reads() as session:
            rows = session.execute(
                select(ContactAction.case_id)
                .join(CollectionCase, CollectionCase.id == ContactAction.case_id)
                .where(
                    CollectionCase.status == "open",
                    CollectionCase.assignee_id.is_not(None),
                    CollectionCase.agency_id.is_(None),
                    ContactAction.kind == "call",
                    ContactAction.contact_ref == "borrower",
                    ContactAction.business_date >= since,
                )
                .group_by(ContactAction.case_id)
                .having(func.count() >= LOST_ATTEMPTS, connected == 0)
                .order_by(ContactAction.case_id)
            ).all()
        for (case_id,) in rows:
            self.clock.tick(90)
            try:
                assign_case(
                    self.p.sessions,
                    self.p.clock,
                    LEAD,
                    int(case_id),
                    staff_id=None,
                    agency_id=self.agency_ids[TRACING_AGENCY],
                    reason="本人电话连续一周无法接通，委外失联修复",
                )
            except XindaiError:
                continue
            self.desk.counts["placed_lost"] += 1


__all__ = ["AGENCIES", "DemoCollections", "demo_registry"]
