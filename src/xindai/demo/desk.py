"""What the demo lender's staff do each day, through the same services the console calls:
the risk team works the manual-review queue and keeps the blacklist, finance retries or
cancels failed payouts, approves servicing requests and refunds parked money, customer
service asks for waivers and deferrals, the monthly pre-credit run grants credit lines.

Actors are the demo logins' usernames (`demo.staff`), as the admin API records them.
"""

from __future__ import annotations

import contextlib
import random
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text

from xindai.demo.borrowers import Ask
from xindai.demo.people import Person
from xindai.errors import XindaiError
from xindai.integrations.simulators.control import SimulatorControl
from xindai.integrations.simulators.people import stable_int
from xindai.origination.journey import OriginationService
from xindai.origination.refunds import RefundService
from xindai.origination.withholding import WithholdingCadence
from xindai.platform import Platform
from xindai.risk.blacklist_store import add_entry
from xindai.risk.credit_lines import CreditLineService
from xindai.risk.precredit import run_precredit
from xindai.risk.review import ReviewService
from xindai.servicing.transactions import TxnKind
from xindai.store.models import ApprovalRequest, Loan
from xindai.store.models_origination import Application, BankCard, Payout, RefundTask
from xindai.store.models_risk import ReviewTask

if TYPE_CHECKING:
    from xindai.demo.lender import DemoClock

REVIEWER, FINANCE, SERVICE = "reviewer", "finance", "service"
CALLS_MADE = {"applicant_phone_verified": True, "contact_phone_verified": True}
SERVICING_DAYS = 21  # servicing requests come in the last three weeks (the approvals inbox)
DEMO_CALLBACK_DELAY_MS = 5  # how fast the channel answers while the demo runs (a day waits for it)


class StaffDesk:
    def __init__(
        self,
        platform: Platform,
        clock: DemoClock,
        control: SimulatorControl,
        journey: OriginationService,
        *,
        seed: int,
    ):
        self.p = platform
        self.clock = clock
        self.control = control
        self.journey = journey
        self.seed = seed
        self.reviews = ReviewService(platform)
        self.lines = CreditLineService(platform)
        self.last_drawn: int | None = None
        self.blacklisted = False

    def _rng(self, *parts: object) -> random.Random:
        return random.Random(stable_int(":".join(map(str, (self.seed, *parts))), "desk"))

    # ------------------------------------------------------------------ risk

    def review_queue(self, day: date, *, last: bool) -> list[tuple[int, int]]:
        """The reviewer decides the tasks queued before this morning (today's wait for
        tomorrow; on the last day a third of yesterday's are still waiting); a few get a
        request for more documents first, answered by the borrower the same day. The
        applications approved, as (application id, borrower id)."""
        morning = datetime.combine(day, time(8, 30))
        with self.p.reads() as session:
            rows = session.execute(
                select(ReviewTask.application_id, ReviewTask.status, Application.borrower_id)
                .join(Application, Application.id == ReviewTask.application_id)
                .where(ReviewTask.status.in_(("queued", "claimed")), ReviewTask.queued_at < morning)
                .order_by(ReviewTask.due_at, ReviewTask.application_id)
            ).all()
        approved: list[tuple[int, int]] = []
        for number, (application_id, _status, borrower_id) in enumerate(rows):
            if last and number % 3 == 0:
                continue
            rng = self._rng("review", application_id)
            self.clock.tick(300)
            try:
                if rng.random() < 0.08 and not last:
                    self.reviews.claim(application_id, REVIEWER)
                    self.reviews.ask_for_more(
                        application_id, REVIEWER, "请补充近三个月的工资流水或收入证明"
                    )
                    self.clock.tick(600)
                    self.reviews.reply(
                        borrower_id, application_id, "已上传近三个月工资流水，请查收"
                    )
                    continue
                approve = rng.random() < 0.62
                self.reviews.claim_and_decide(
                    application_id,
                    REVIEWER,
                    approve=approve,
                    note="电话核实本人及联系人，收入稳定"
                    if approve
                    else "联系人无法核实，负债偏高",
                    checklist=CALLS_MADE if approve else {"applicant_phone_verified": True},
                )
            except XindaiError:
                continue  # e.g. the application went elsewhere meanwhile
            if approve:
                approved.append((application_id, int(borrower_id)))
        if day.day >= 10 and not self.blacklisted:
            self._blacklist()
        return approved

    def _blacklist(self) -> None:
        """The risk team lists the device a ring of applicants shared (once one has)."""
        with self.p.sessions.begin() as session:
            device = session.scalar(
                select(Application.device_fingerprint)
                .where(Application.device_fingerprint.like("%-ring"))
                .limit(1)
            )
            if device is None:
                return
            self.blacklisted = True
            with contextlib.suppress(XindaiError):
                add_entry(
                    session,
                    self.p.cipher,
                    kind="device",
                    value=device,
                    reason="多人共用同一设备申请（疑似团伙）",
                    actor=REVIEWER,
                    now=self.clock(),
                )

    def credit_lines(self, day: date) -> None:
        """The monthly pre-credit run: lines for borrowers with a good record."""
        run_precredit(
            self.p.sessions,
            as_of=day,
            now=self.clock(),
            line_days=self.p.settings.credit_line_days,
        )

    def draw_on_line(self, person: Person, borrower_id: int, card_id: int, ask: Ask) -> bool:
        """Half of the borrowers with a line draw on it instead of applying afresh."""
        self.last_drawn = None
        if self._rng("draw", person.index, borrower_id, ask.amount_fen).random() < 0.5:
            return False
        try:
            view = self.lines.view(borrower_id)
        except XindaiError:
            return False
        if not view.can_draw:
            return False
        product, term = ("INST12", ask.term) if ask.product == "INST12" else ("CASH14", 14)
        amount = min(view.available_fen, ask.amount_fen) // 10_000 * 10_000
        if amount < 100_000:
            return False
        try:
            application = self.lines.draw(
                borrower_id,
                product_code=product,
                amount_fen=amount,
                term=term,
                purpose=ask.purpose,
                card_id=card_id,
                device_fingerprint=person.device,
                ip=person.ip,
            )
        except XindaiError:
            return False
        self.last_drawn = application.id
        return True

    # ------------------------------------------------------------------ finance

    def finance_payouts(self, *, last: bool) -> None:
        """Failed payouts: retried once; what fails again is cancelled (the loan with it)."""
        with self.p.reads() as session:
            rows = session.execute(
                select(Application.id, func.count(Payout.id))
                .join(Payout, Payout.application_id == Application.id)
                .where(Application.status == "payout_failed")
                .group_by(Application.id)
                .order_by(Application.id)
            ).all()
        for number, (application_id, attempts) in enumerate(rows):
            if last and number % 2 == 0:
                continue  # today's desk has not got to them yet
            self.clock.tick(120)
            try:
                if attempts < 2:
                    self.journey.retry_payout(application_id)
                else:
                    self.journey.cancel_payout(application_id, actor=FINANCE)
            except XindaiError:
                continue

    def late_payers_to_write_off(self) -> list[tuple[int, int]]:
        """Two of the deepest overdue loans whose borrowers find the money tonight, just as
        the risk team asks to write them off; (loan, write-off request). Their cards are
        funded and the channel answers slowly, so that tonight's 代扣 is still in flight when
        finance approves the write-off: the money lands on a closed loan, is parked on the
        borrower's credit balance, and finance refunds it (溢缴款退款)."""
        cadence = WithholdingCadence.from_settings(self.p.settings)
        with self.p.reads() as session:
            rows = session.execute(
                select(Loan.id, Loan.dpd, BankCard.card_enc)
                .join(Application, Application.loan_id == Loan.id)
                .join(BankCard, BankCard.id == Application.card_id)
                .where(Loan.status == "overdue", Loan.dpd >= 30)
                .order_by(Loan.dpd.desc(), Loan.id)
            ).all()
        # loans withheld tonight (tonight they are a day later)
        rows = [row for row in rows if cadence.withholds_at(int(row[1]) + 1)][:2]
        chosen: list[tuple[int, int]] = []
        for loan_id, _dpd, card_enc in rows:
            self._request(
                TxnKind.WRITE_OFF, loan_id, {}, "逾期超过 30 天，失联，申请核销", REVIEWER
            )
            with self.p.reads() as session:
                request_id = session.scalar(
                    select(ApprovalRequest.id).where(
                        ApprovalRequest.loan_id == loan_id,
                        ApprovalRequest.status == "pending",
                        ApprovalRequest.kind == TxnKind.WRITE_OFF.value,
                    )
                )
            if request_id is None:
                continue
            card = self.p.cipher.decrypt("card", card_enc)
            self.control.payment_control(funded_cards=[card])
            chosen.append((int(loan_id), int(request_id)))
        if chosen:
            self.control.payment_control(callback_delay_ms=3000)
        return chosen

    def write_off_while_collecting(self, chosen: list[tuple[int, int]]) -> None:
        """Finance approves the write-offs while tonight's collections are in flight."""
        for _loan_id, request_id in chosen:
            self.clock.tick(60)
            try:
                self.p.loans.decide(request_id, approver=FINANCE, approve=True, note="同意核销")
            except XindaiError:
                continue
        self.control.payment_control(callback_delay_ms=DEMO_CALLBACK_DELAY_MS)

    def refund_parked(self) -> None:
        """Finance sends back the money parked on closed loans, but for the newest task."""
        with self.p.reads() as session:
            open_tasks = session.scalars(
                select(RefundTask.id).where(RefundTask.status == "open").order_by(RefundTask.id)
            ).all()
        for task_id in open_tasks[:-1]:
            try:
                RefundService(self.p).send(task_id, actor=FINANCE)
            except XindaiError:
                continue

    # ------------------------------------------------------------------ servicing

    def servicing(self, day: date, end: date) -> None:
        """Every month the risk team asks to write off loans 100 days past due, and finance
        approves the next day (their 代扣 stops). In the last weeks also: finance decides
        yesterday's requests (approving most), customer service asks for penalty waivers
        and deferrals for a few overdue loans, the risk team for more write-offs."""
        if day < end - timedelta(days=SERVICING_DAYS):
            if day.day == 1:
                for loan_id in self._deep_overdue(limit=50, dpd=100):
                    reason = "逾期超过 100 天，催收无果，申请核销"
                    self._request(TxnKind.WRITE_OFF, loan_id, {}, reason, REVIEWER)
            elif day.day == 2:
                self._decide_requests(day)
            return
        if day < end:
            self._decide_requests(day)
        rng = self._rng("servicing", day)
        busy = 5 if day == end else 1  # this morning's requests wait in the approvals inbox
        for first, (loan_id, number, penalty) in enumerate(self._penalties(limit=40)):
            if rng.random() < 0.06 * busy or (day == end and first == 0):
                self._request(
                    TxnKind.WAIVER,
                    loan_id,
                    {"lines": [[number, "penalty", penalty]]},
                    "客户来电说明逾期原因（住院），申请减免罚息",
                    SERVICE,
                )
        for first, (loan_id, number, due) in enumerate(self._next_due(day, limit=30)):
            if rng.random() < 0.04 * busy or (day == end and first == 0):
                self._request(
                    TxnKind.DEFERRAL,
                    loan_id,
                    {"installment": number, "new_due_date": (due + timedelta(days=10)).isoformat()},
                    "客户临时资金周转困难，申请本期延期 10 天",
                    SERVICE,
                )
        for loan_id in self._deep_overdue(limit=20):
            if rng.random() < 0.3:
                self._request(
                    TxnKind.WRITE_OFF, loan_id, {}, "逾期超过 90 天，催收无果，申请核销", REVIEWER
                )

    def _request(
        self, kind: TxnKind, loan_id: int, payload: dict[str, Any], reason: str, actor: str
    ) -> None:
        with self.p.reads() as session:
            pending = session.scalar(
                select(ApprovalRequest.id).where(
                    ApprovalRequest.loan_id == loan_id, ApprovalRequest.status == "pending"
                )
            )
        if pending is not None:
            return
        self.clock.tick(180)
        try:
            self.p.loans.request_approval(kind, loan_id, payload, reason=reason, requested_by=actor)
        except XindaiError:
            return

    def _decide_requests(self, day: date) -> None:
        with self.p.reads() as session:
            pending = session.scalars(
                select(ApprovalRequest.id)
                .where(ApprovalRequest.status == "pending")
                .order_by(ApprovalRequest.id)
            ).all()
        for request_id in pending:
            rng = self._rng("decide", request_id)
            self.clock.tick(240)
            try:
                self.p.loans.decide(
                    request_id,
                    approver=FINANCE,
                    approve=rng.random() < 0.85,
                    note="同意" if rng.random() < 0.5 else "核实无误，同意",
                )
            except XindaiError:
                continue

    def _penalties(self, *, limit: int) -> list[tuple[int, int, int]]:
        """Overdue installments carrying penalty: (loan, installment, penalty fen)."""
        with self.p.reads() as session:
            rows = session.execute(
                text(
                    "SELECT i.loan_id, i.number,"
                    " i.penalty_due_fen - i.penalty_paid_fen - i.penalty_waived_fen AS penalty"
                    " FROM installments i JOIN loans l ON l.id = i.loan_id"
                    " WHERE l.status = 'overdue' AND l.dpd BETWEEN 3 AND 40"
                    " AND i.cancelled = :no"
                    " AND i.penalty_due_fen - i.penalty_paid_fen - i.penalty_waived_fen > 0"
                    " ORDER BY i.loan_id, i.number LIMIT :n"
                ),
                {"no": False, "n": limit},
            ).all()
        return [(int(a), int(b), int(c)) for a, b, c in rows]

    def _next_due(self, day: date, *, limit: int) -> list[tuple[int, int, date]]:
        """Installments of healthy instalment loans falling due in the coming days."""
        with self.p.reads() as session:
            rows = session.execute(
                text(
                    "SELECT i.loan_id, i.number, i.due_date FROM installments i"
                    " JOIN loans l ON l.id = i.loan_id"
                    " WHERE l.status = 'active' AND l.term >= 3 AND l.product_code = 'INST12'"
                    " AND i.cancelled = :no AND i.due_date BETWEEN :a AND :b"
                    " ORDER BY i.loan_id LIMIT :n"
                ),
                {
                    "no": False,
                    "a": day + timedelta(days=2),
                    "b": day + timedelta(days=6),
                    "n": limit,
                },
            ).all()
        return [
            (int(a), int(b), c if isinstance(c, date) else date.fromisoformat(str(c)))
            for a, b, c in rows
        ]

    def _deep_overdue(self, *, limit: int, dpd: int = 90) -> list[int]:
        with self.p.reads() as session:
            return list(
                session.scalars(
                    select(Loan.id)
                    .where(Loan.status == "overdue", Loan.dpd >= dpd)
                    .order_by(Loan.id)
                    .limit(limit)
                )
            )
