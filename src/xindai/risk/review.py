"""The manual-review queue (人工审核, SPEC §7): grey-zone applications wait with an SLA
deadline; a reviewer claims one, phones the applicant and a contact (the checklist), may ask
the borrower for more, then approves (the engine's offer, possibly lowered) or rejects.

Task states: queued → claimed → (more_info → queued …) → done. The SLA clock runs while a
task is queued or claimed and stops while the borrower is asked for more; the answer puts
the task back in the queue with a fresh deadline. Every change is one transaction with its
audit entry. The rules and errors are in `review_rules`, the views in `review_views`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xindai.errors import InvalidValue, XindaiError
from xindai.messaging.outbox import send_sms
from xindai.money import Fen, format_yuan
from xindai.origination.applications import record_offer
from xindai.platform import Platform
from xindai.products.model import Product
from xindai.risk import review_views as views
from xindai.risk.review_rules import (
    APPROVE,
    CHECKLIST_ITEMS,
    CLAIMED,
    DONE,
    ENGINE_PATH,
    LEGACY_CHECKLIST_NAMES,
    MANUAL_REVIEW_PATH,
    MAX_NOTE,
    MAX_QUEUE,
    MAX_TEXT,
    MORE_INFO,
    OPEN_STATUSES,
    QUEUED,
    REJECT,
    REQUIRED_TO_APPROVE,
    SLA_RUNNING,
    STATUSES,
    AlreadyDecided,
    AwaitingInfo,
    ChecklistIncomplete,
    ChecklistItemUnknown,
    ClaimedByOther,
    NoInfoRequested,
    NotClaimer,
    NotInReview,
    ReviewError,
    checked_items,
    checklist_of,
    clean_text,
    missing_to_approve,
    not_found,
    offer_amount,
)
from xindai.security import audit
from xindai.security.pii import mask_id
from xindai.store import repository as repo
from xindai.store.db import transaction
from xindai.store.fastsql import execute, executemany, fetch, in_list, param_markers
from xindai.store.models import Borrower
from xindai.store.models_origination import Application, AuditEvent, Contact, DecisionRecord
from xindai.store.models_risk import ReviewTask

_log = logging.getLogger(__name__)

__all__ = [
    "AlreadyDecided",
    "AwaitingInfo",
    "ChecklistIncomplete",
    "ChecklistItemUnknown",
    "ClaimedByOther",
    "NoInfoRequested",
    "NotClaimer",
    "NotInReview",
    "ReviewError",
    "ReviewService",
    "enqueue",
]


# ------------------------------------------------------------------ enqueue (the journey)


def enqueue(
    session: Session, application_id: int, reasons: Sequence[str], now: datetime, sla: timedelta
) -> ReviewTask:
    """Queue `application_id` for manual review in the caller's transaction: the reason codes
    that sent it, due by `now + sla`; the application's status becomes `review`. Idempotent:
    an open task is returned unchanged; a decided one is refused (`AlreadyDecided`)."""
    task = session.get(ReviewTask, application_id, with_for_update=True)
    if task is not None:
        if task.status in OPEN_STATUSES:
            return task
        raise AlreadyDecided(application_id)
    application = session.get(Application, application_id)
    if application is None:
        raise not_found(application_id)
    if application.status not in ("deciding", "review"):
        raise NotInReview(application_id, application.status)
    application.status = "review"
    task, entry = _queued(application_id, reasons, now, sla)
    session.add_all((task, entry))
    session.flush()
    return task


def _queued(
    application_id: int, reasons: Sequence[str], now: datetime, sla: timedelta
) -> tuple[ReviewTask, AuditEvent]:
    """A new task in the queue and the audit entry that records it."""
    task = ReviewTask(
        application_id=application_id,
        status=QUEUED,
        reasons=json.dumps(list(reasons)),
        queued_at=now,
        due_at=now + sla,
        checklist="{}",
    )
    entry = audit.new_entry(
        actor="decision_engine",
        action="review.enqueue",
        resource="application",
        resource_id=application_id,
        after={"reasons": list(reasons), "due_at": task.due_at},
        at=now,
    )
    return task, entry


def enqueue_many(
    session: Session,
    referrals: Sequence[tuple[int, Sequence[str]]],
    now: datetime,
    sla: timedelta,
) -> int:
    """`enqueue` for applications still `deciding` that the caller has read and locked in
    this transaction (a batch of decisions): (application id, reason codes) each, with one
    status UPDATE, one look for existing tasks and one flush for all. Returns how many
    applications moved from `deciding` to `review` (the caller rolls back on fewer); one
    with a decided task raises `AlreadyDecided`."""
    if not referrals:
        return 0
    ids = [application_id for application_id, _ in referrals]
    test, params = in_list(session, ids)
    existing = dict(
        fetch(
            session,
            f"SELECT application_id, status FROM review_tasks WHERE application_id {test}",
            params,
        )
    )
    for application_id, status in existing.items():
        if status not in OPEN_STATUSES:
            raise AlreadyDecided(application_id)
    changed = execute(
        session,
        f"UPDATE applications SET status = 'review', decided_at = NULL"
        f" WHERE id {test} AND status = 'deciding'",
        params,
    )
    tasks: list[list[Any]] = []
    entries: list[AuditEvent] = []
    for application_id, reasons in referrals:
        if application_id not in existing:
            task, entry = _queued(application_id, reasons, now, sla)
            tasks.append([getattr(task, column) for column in _TASK_COLUMNS])
            entries.append(entry)
    executemany(session, _INSERT_TASK, tasks)
    audit.append_many(session, entries)
    return changed


_TASK_COLUMNS = ("application_id", "status", "reasons", "queued_at", "due_at", "checklist")
_INSERT_TASK = (
    f"INSERT INTO review_tasks ({', '.join(_TASK_COLUMNS)})"
    f" VALUES {param_markers(len(_TASK_COLUMNS))}"
)


# ------------------------------------------------------------------ the service


class ReviewService:
    """The reviewers' side of the queue (and the borrower's answer to a request)."""

    def __init__(self, platform: Platform):
        self.p = platform
        self.sla = timedelta(minutes=platform.settings.review_sla_minutes)

    # ---------------------------------------------------------- reading

    def queue(
        self,
        status: str | None = None,
        overdue_only: bool = False,
        limit: int = 200,
        *,
        channel: str | None = None,
    ) -> list[dict[str, Any]]:
        """The tasks (open ones unless `status` is given), soonest deadline first, with the
        application (applicant masked), the engine's decision and the SLA timer; `channel`
        limits them to one channel's customers (an agent's scope)."""
        if status is not None and status not in STATUSES:
            known = ", ".join(STATUSES)
            raise InvalidValue("status", status, f"not one of {known}", f"不是 {known} 之一")
        if not 1 <= limit <= MAX_QUEUE:
            raise InvalidValue("limit", limit, f"must be 1–{MAX_QUEUE}", f"应为 1–{MAX_QUEUE}")
        now = self.p.clock()
        query = (
            select(ReviewTask, Application, Borrower)
            .join(Application, Application.id == ReviewTask.application_id)
            .outerjoin(Borrower, Borrower.id == Application.borrower_id)
            .where(ReviewTask.status.in_(OPEN_STATUSES if status is None else (status,)))
        )
        if overdue_only:
            query = query.where(ReviewTask.status.in_(SLA_RUNNING), ReviewTask.due_at < now)
        if channel is not None:
            query = query.where(Borrower.channel == channel)
        query = query.order_by(ReviewTask.due_at, ReviewTask.application_id).limit(limit)
        with transaction(self.p.sessions, read_only=True) as session:
            rows = session.execute(query).all()
            decisions = self._engine_decisions(session, [task.application_id for task, *_ in rows])
            return [
                {
                    **views.task_view(task, now, with_texts=False),
                    "application": views.application_view(
                        application, borrower, self._decrypt, full=False
                    ),
                    "decision": views.decision_view(decisions.get(task.application_id)),
                }
                for task, application, borrower in rows
            ]

    def detail(self, application_id: int, can_read_pii: bool) -> dict[str, Any]:
        """One task with everything a reviewer works from: the application and applicant, the
        emergency contacts (phones unmasked only with `can_read_pii`), the engine's decision
        with its fired rules and reason codes, the checklist, the info request and reply, and
        the decision history."""
        now = self.p.clock()
        with transaction(self.p.sessions, read_only=True) as session:
            application = session.get(Application, application_id)
            if application is None:
                raise not_found(application_id)
            task = session.get(ReviewTask, application_id)
            if task is None:
                if application.status != "review":
                    raise NotInReview(application_id, application.status)
                task = self._unqueued(session, application)  # shown, not stored
            borrower = session.get(Borrower, application.borrower_id)
            engine = self._engine_decisions(session, [application_id]).get(application_id)
            contacts = session.scalars(
                select(Contact)
                .where(Contact.borrower_id == application.borrower_id)
                .order_by(Contact.seq)
            ).all()
            history = session.scalars(
                select(DecisionRecord)
                .where(DecisionRecord.application_id == application_id)
                .order_by(DecisionRecord.id)
            ).all()
            product = repo.load_product(
                session, application.product_code, application.product_version
            )
            ceiling, rate = self._offer_terms(application, product, engine)
            applicant = views.application_view(
                application, borrower, self._decrypt, full=can_read_pii
            )
            id_number = self._decrypt("id_number", borrower.id_number_enc if borrower else None)
            applicant["applicant_id_number"] = (
                id_number if can_read_pii or not id_number else mask_id(id_number)
            )
            applicant["term_unit"] = product.period_unit.value
            return {
                **views.task_view(task, now, with_texts=True),
                "application": applicant,
                "decision": views.decision_view(engine, full=True),
                "offer": {
                    "max_amount": format_yuan(ceiling),
                    "max_amount_fen": ceiling,
                    "rate": str(rate),
                },
                "checklist_items": [
                    {
                        "item": item,
                        "label": {"zh-CN": zh, "en": en},
                        "required_to_approve": item in REQUIRED_TO_APPROVE,
                    }
                    for item, (zh, en) in CHECKLIST_ITEMS.items()
                ],
                "contacts": [
                    views.contact_view(c, self._decrypt, full=can_read_pii) for c in contacts
                ],
                "history": [views.history_view(d) for d in history],
                "unmasked": can_read_pii,
            }

    def info_request_for(self, borrower_id: int, application_id: int) -> dict[str, Any]:
        """What the borrower is asked for on their application (status `awaiting_reply`,
        `answered` or `none`); another borrower's application is not found."""
        with transaction(self.p.sessions, read_only=True) as session:
            self._borrowers_application(session, borrower_id, application_id)
            task = session.get(ReviewTask, application_id)
            return views.info_view(application_id, task)

    # ---------------------------------------------------------- reviewer actions

    def claim(self, application_id: int, reviewer: str, *, ip: str | None = None) -> dict[str, Any]:
        """Take the task: refused (`ClaimedByOther`) while another reviewer's claim is younger
        than the SLA window; claiming one's own task again changes nothing."""
        with transaction(self.p.sessions) as session:
            task, now = self._open_task(session, application_id), self.p.clock()
            self._claim(session, task, reviewer, now, ip)
            return views.task_view(task, now, with_texts=True)

    def release(
        self, application_id: int, reviewer: str, *, ip: str | None = None
    ) -> dict[str, Any]:
        """Give the task back to the queue (the claimer only); its deadline is unchanged."""
        with transaction(self.p.sessions) as session:
            task, now = self._open_task(session, application_id), self.p.clock()
            self._require_claimer(task, reviewer)
            before = self._state(task)
            task.claimed_by, task.claimed_at = None, None
            if task.status == CLAIMED:
                task.status = QUEUED
            self._audit(session, reviewer, "review.release", task, before, now, ip)
            return views.task_view(task, now, with_texts=True)

    def update_checklist(
        self,
        application_id: int,
        reviewer: str,
        items: Mapping[str, bool | str],
        *,
        ip: str | None = None,
    ) -> dict[str, Any]:
        """Record checklist results (true / false or a remark) of the claimer; items not given
        keep their result; an unknown item is refused (`ChecklistItemUnknown`)."""
        checked = checked_items(items)
        with transaction(self.p.sessions) as session:
            task, now = self._open_task(session, application_id), self.p.clock()
            self._update_checklist(session, task, reviewer, checked, now, ip)
            return views.task_view(task, now, with_texts=True)

    def ask_for_more(
        self, application_id: int, reviewer: str, request_text: str, *, ip: str | None = None
    ) -> dict[str, Any]:
        """Ask the borrower for more (补充资料): the task waits (`more_info`) and its SLA clock
        stops until the borrower answers."""
        text = clean_text("request", request_text, MAX_TEXT)
        with transaction(self.p.sessions) as session:
            task, now = self._open_task(session, application_id), self.p.clock()
            self._require_claimer(task, reviewer)
            if task.status == MORE_INFO:
                raise AwaitingInfo()
            before = self._state(task)
            task.status, task.info_request, task.info_reply = MORE_INFO, text, None
            self._audit(session, reviewer, "review.ask_more", task, before, now, ip, request=text)
            view = views.task_view(task, now, with_texts=True)
            mobile = session.scalar(
                select(Borrower.mobile_enc)
                .join(Application, Application.borrower_id == Borrower.id)
                .where(Application.id == application_id)
            )
        self._tell_borrower(mobile)
        return view

    def _tell_borrower(self, mobile_enc: str | None) -> None:
        """An SMS that the application needs more (an approved template: the reviewer's own
        words are in the app, never in a text message). Not sending it fails nothing."""
        if not mobile_enc:
            return
        try:
            phone = self.p.cipher.decrypt("phone", mobile_enc)
            send_sms(self.p, phone, "REVIEW_MORE_INFO", {}, origin="review")
        except XindaiError as exc:
            _log.warning("review: the more-info SMS was not sent (%s)", exc.code)

    def reply(self, borrower_id: int, application_id: int, text: str) -> dict[str, Any]:
        """The borrower's answer: the task goes back to the queue, unclaimed, due a full SLA
        window from now."""
        answer = clean_text("reply", text, MAX_TEXT)
        with transaction(self.p.sessions) as session:
            self._borrowers_application(session, borrower_id, application_id, lock=True)
            task = session.get(ReviewTask, application_id, with_for_update=True)
            if task is None or task.status != MORE_INFO:
                raise NoInfoRequested()
            now, before = self.p.clock(), self._state(task)
            task.info_reply, task.status = answer, QUEUED
            task.claimed_by, task.claimed_at = None, None
            task.due_at = now + self.sla
            self._audit(session, f"borrower:{borrower_id}", "review.reply", task, before, now, None)
            return views.info_view(application_id, task)

    def decide(
        self,
        application_id: int,
        reviewer: str,
        approve: bool,
        note: str,
        amount_fen: Fen | None = None,
        *,
        ip: str | None = None,
    ) -> dict[str, Any]:
        """Approve or reject (the claimer only). Approval needs the applicant's and a contact's
        phone verification on the checklist and offers the engine's approved amount (or the
        applied amount when the engine gave none), lowered to `amount_fen` if given, at the
        engine's rate (or the product's). Stores a `manual_review` decision."""
        with transaction(self.p.sessions) as session:
            task, now = self._open_task(session, application_id), self.p.clock()
            self._decide(session, task, reviewer, approve, note, amount_fen, now, ip)
            return views.task_view(task, now, with_texts=True)

    def claim_and_decide(
        self,
        application_id: int,
        reviewer: str,
        *,
        approve: bool,
        note: str,
        checklist: Mapping[str, bool | str],
        amount_fen: Fen | None = None,
        ip: str | None = None,
    ) -> dict[str, Any]:
        """The one-call review of the older admin route, in one transaction: claim (refused
        while another reviewer's claim is live), record the checklist items given (the older
        names `applicant_call` / `contact_call` accepted), then `decide`."""
        items = {LEGACY_CHECKLIST_NAMES.get(k, k): v for k, v in checklist.items()}
        checked = checked_items(items)
        with transaction(self.p.sessions) as session:
            task, now = self._open_task(session, application_id), self.p.clock()
            self._claim(session, task, reviewer, now, ip)
            if checked:
                self._update_checklist(session, task, reviewer, checked, now, ip)
            self._decide(session, task, reviewer, approve, note, amount_fen, now, ip)
            return views.task_view(task, now, with_texts=True)

    # ---------------------------------------------------------- steps in a transaction

    def _claim(
        self, session: Session, task: ReviewTask, reviewer: str, now: datetime, ip: str | None
    ) -> None:
        if task.claimed_by == reviewer:
            return
        if task.claimed_by is not None and task.claimed_at is not None:
            until = task.claimed_at + self.sla
            if now < until:
                raise ClaimedByOther(task.claimed_by, until)
        before = self._state(task)
        task.claimed_by, task.claimed_at = reviewer, now
        if task.status == QUEUED:
            task.status = CLAIMED
        self._audit(session, reviewer, "review.claim", task, before, now, ip)

    def _update_checklist(
        self,
        session: Session,
        task: ReviewTask,
        reviewer: str,
        checked: Mapping[str, bool | str],
        now: datetime,
        ip: str | None,
    ) -> None:
        self._require_claimer(task, reviewer)
        before = self._state(task)
        task.checklist = json.dumps(
            {**json.loads(task.checklist or "{}"), **checked}, ensure_ascii=False, sort_keys=True
        )
        self._audit(session, reviewer, "review.checklist", task, before, now, ip)

    def _decide(
        self,
        session: Session,
        task: ReviewTask,
        reviewer: str,
        approve: bool,
        note: str,
        amount_fen: Fen | None,
        now: datetime,
        ip: str | None,
    ) -> None:
        self._require_claimer(task, reviewer)
        clean_note = clean_text("note", note, MAX_NOTE, required=False)
        if amount_fen is not None and not approve:
            raise InvalidValue("amount", format_yuan(amount_fen), "only an approval has an amount")
        checklist = checklist_of(task)
        application = session.get(Application, task.application_id, with_for_update=True)
        if application is None:
            raise not_found(task.application_id)
        engine = self._engine_decisions(session, [application.id]).get(application.id)
        reasons: list[str] = json.loads(task.reasons or "[]")
        before = {**self._state(task), "application_status": application.status}
        record = DecisionRecord(
            application_id=application.id,
            path=MANUAL_REVIEW_PATH,
            outcome=APPROVE if approve else REJECT,
            reasons=json.dumps([*reasons, "MR_APPROVED" if approve else "MR_REJECTED"]),
            detail=json.dumps(
                {
                    "note": clean_note,
                    "checklist": checklist,
                    "engine_decision_id": engine.id if engine else None,
                },
                ensure_ascii=False,
            ),
            reviewer=reviewer,
            created_at=now,
            customer_reasons="[]" if approve else _refusal_reasons(engine),
            score=engine.score if engine else None,
            pd=engine.pd if engine else None,
            grade=engine.grade if engine else None,
        )
        if approve:
            missing = missing_to_approve(checklist)
            if missing:
                raise ChecklistIncomplete(missing)
            product = repo.load_product(
                session, application.product_code, application.product_version
            )
            ceiling, rate = self._offer_terms(application, product, engine)
            amount = offer_amount(product, ceiling, amount_fen)
            today = repo.get_business_date(session) or now.date()
            record_offer(application, product, amount, rate, today)
            record.approved_amount_fen, record.rate = amount, str(rate)
        else:
            application.status = "rejected"
        application.decided_at = now
        session.add(record)
        task.status, task.outcome = DONE, record.outcome
        task.decided_by, task.decided_at, task.note = reviewer, now, clean_note
        self._audit(
            session,
            reviewer,
            "review.decide",
            task,
            before,
            now,
            ip,
            application_status=application.status,
            approved_amount_fen=record.approved_amount_fen,
            rate=record.rate,
        )

    # ---------------------------------------------------------- plumbing

    def _open_task(self, session: Session, application_id: int) -> ReviewTask:
        """The task, locked (with its application), open and the application in review; an
        application sent to review without a task (before the queue existed) is queued now."""
        application = session.get(Application, application_id, with_for_update=True)
        if application is None:
            raise not_found(application_id)
        task = session.get(ReviewTask, application_id, with_for_update=True)
        if task is None and application.status == "review":
            unqueued = self._unqueued(session, application)
            task = enqueue(
                session, application_id, json.loads(unqueued.reasons), self.p.clock(), self.sla
            )
        if task is None or task.status == DONE or application.status != "review":
            raise NotInReview(application_id, application.status)
        return task

    def _unqueued(self, session: Session, application: Application) -> ReviewTask:
        """A transient task for an application in review that has none (never stored here)."""
        latest = session.scalars(
            select(DecisionRecord)
            .where(DecisionRecord.application_id == application.id)
            .order_by(DecisionRecord.id.desc())
        ).first()
        reasons = json.loads(latest.reasons) if latest is not None else ["MANUAL_REVIEW"]
        return ReviewTask(
            application_id=application.id,
            status=QUEUED,
            reasons=json.dumps(reasons),
            queued_at=application.created_at,
            due_at=application.created_at + self.sla,
            checklist="{}",
        )

    @staticmethod
    def _require_claimer(task: ReviewTask, reviewer: str) -> None:
        if task.claimed_by != reviewer:
            raise NotClaimer(task.claimed_by)

    @staticmethod
    def _borrowers_application(
        session: Session, borrower_id: int, application_id: int, *, lock: bool = False
    ) -> Application:
        application = session.get(Application, application_id, with_for_update=lock)
        if application is None or application.borrower_id != borrower_id:
            raise not_found(application_id)  # never reveal another borrower's
        return application

    @staticmethod
    def _engine_decisions(
        session: Session, application_ids: Iterable[int]
    ) -> dict[int, DecisionRecord]:
        """The latest engine decision of each application."""
        ids = list(application_ids)
        if not ids:
            return {}
        rows = session.scalars(
            select(DecisionRecord)
            .where(DecisionRecord.application_id.in_(ids), DecisionRecord.path == ENGINE_PATH)
            .order_by(DecisionRecord.id)
        ).all()
        return {row.application_id: row for row in rows}

    @staticmethod
    def _offer_terms(
        application: Application, product: Product, engine: DecisionRecord | None
    ) -> tuple[Fen, Decimal]:
        """The most a reviewer may approve and the rate of the offer."""
        ceiling = (
            engine.approved_amount_fen
            if engine is not None and engine.approved_amount_fen is not None
            else application.amount_fen
        )
        rate = Decimal(engine.rate) if engine is not None and engine.rate else product.annual_rate
        return ceiling, rate

    def _decrypt(self, kind: str, token: str | None) -> str:
        return self.p.cipher.decrypt(kind, token) if token else ""

    @staticmethod
    def _state(task: ReviewTask) -> dict[str, Any]:
        return {
            "status": task.status,
            "claimed_by": task.claimed_by,
            "checklist": json.loads(task.checklist or "{}"),
            "due_at": task.due_at,
        }

    def _audit(
        self,
        session: Session,
        actor: str,
        action: str,
        task: ReviewTask,
        before: Mapping[str, Any],
        now: datetime,
        ip: str | None,
        **extra: Any,
    ) -> None:
        audit.record(
            session,
            actor=actor,
            action=action,
            resource="application",
            resource_id=task.application_id,
            ip=ip,
            before=before,
            after={**self._state(task), **extra},
            at=now,
        )


MANUAL_REFUSAL_REASON = "综合评估未通过 Not approved after an overall assessment"
REVIEW_ONLY_REASON = "需人工复核 Needs a manual review"
"""The reason a review rule gives a customer for waiting; says nothing once refused."""


def _refusal_reasons(engine: DecisionRecord | None) -> str:
    """The customer reasons of a refusal by the reviewer: the engine's (e.g. 负债较高) but
    not 需人工复核, which is why it was reviewed; a plain one when none is left."""
    reasons: list[str] = json.loads(engine.customer_reasons or "[]") if engine else []
    kept = [reason for reason in reasons if reason != REVIEW_ONLY_REASON]
    return json.dumps(kept or [MANUAL_REFUSAL_REASON], ensure_ascii=False)
