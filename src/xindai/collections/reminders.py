"""Repayment reminders (还款提醒), close-of-business step 5: for every active plan (offset
from the due date, template), the unpaid installments of open loans due `offset` days from
the business date get one reminder row each (set-based; never twice for the same
installment and offset). An installment paid in full is not reminded.

The messages go out once the step's transaction committed (`StepContext.after_commit`, one
call per partition): each through the SMS gateway from the approved version of its
template, recorded in the outbox (number masked and hashed) and on the reminder; then the
gateway is asked for the delivery receipts of what the partition sent in the last days that
is not yet delivered or failed. A template with no approved version refuses its reminders
(status `refused`); nothing else is sent unapproved.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from xindai.cob.registry import StepContext, StepFn
from xindai.cob.sql import OPEN_STATUSES, Dialect, outstanding_total
from xindai.errors import XindaiError
from xindai.integrations.errors import ProviderError
from xindai.messaging.templates import approved
from xindai.money import format_yuan
from xindai.security.pii import PiiCipher, mask_phone
from xindai.store.models_admin import SmsMessage

logger = logging.getLogger("xindai.collections")
RECEIPT_DAYS = 3  # receipts are asked for messages of the last days still undecided
HOTLINE = "400-800-8888"


class Sender(Protocol):
    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def cipher(self) -> PiiCipher: ...

    @property
    def providers(self) -> Any: ...

    def clock(self) -> datetime: ...


def queue_reminders(ctx: StepContext) -> int:
    """Reminder rows (status queued) of the partition for the business date; how many."""
    plans = ctx.execute(
        "SELECT offset_days, template_code FROM collection_reminder_plans WHERE active = :true"
        " ORDER BY offset_days",
        true=True,
    ).all()
    queued = 0
    for offset, template in (tuple(p) for p in plans):
        due = ctx.business_date - timedelta(days=int(offset))
        # overdue reminders ask for everything overdue, the others for the installment
        amount = "l.overdue_fen" if int(offset) > 0 else outstanding_total("i")
        queued += ctx.execute(
            "INSERT INTO collection_reminders (loan_id, installment, offset_days,"
            " business_date, borrower_id, template_code, amount_fen, due_date, dpd, status)"
            f" SELECT i.loan_id, i.number, :offset, :d, l.borrower_id, :template, {amount},"
            " i.due_date, l.dpd, 'queued' FROM installments i JOIN loans l ON l.id = i.loan_id"
            f" WHERE i.due_date = :due AND i.loan_id BETWEEN :lo AND :hi"
            f" AND l.status IN {OPEN_STATUSES} AND i.cancelled = :false"
            f" AND i.status <> 'paid' AND {outstanding_total('i')} > 0"
            " AND NOT EXISTS (SELECT 1 FROM collection_reminders r WHERE r.loan_id = i.loan_id"
            " AND r.installment = i.number AND r.offset_days = :offset)",
            offset=int(offset),
            template=str(template),
            due=ctx.dialect.date_param(due),
            false=False,
        ).rowcount
    return int(queued)


def _day(session: Session, day: date) -> Any:
    """`day` as the database binds a DATE (ISO text on SQLite)."""
    return Dialect(session.get_bind().dialect).date_param(day)


def _params(code: str, declared: list[str], row: Any) -> dict[str, str]:
    values = {
        "amount": format_yuan(int(row.amount_fen)),
        "due_date": row.due_date.isoformat()
        if isinstance(row.due_date, date)
        else str(row.due_date),
        "days": str(int(row.dpd)),
        "loan_no": str(int(row.loan_id)),
        "installment": str(int(row.installment)),
        "name": (row.display_name or "")[:1] or "客户",
        "hotline": HOTLINE,
        "app_name": "信贷",
    }
    return {name: values.get(name, "") for name in declared}


def send_reminders(platform: Sender, day: date, lo: int, hi: int) -> int:
    """Send the partition's queued reminders of `day`, then ask for receipts; how many sent."""
    with platform.sessions() as session:
        rows = session.execute(
            text(
                "SELECT r.id, r.loan_id, r.installment, r.template_code, r.amount_fen,"
                " r.due_date, r.dpd, r.borrower_id, b.mobile_enc, b.display_name"
                " FROM collection_reminders r JOIN borrowers b ON b.id = r.borrower_id"
                " WHERE r.business_date = :d AND r.status = 'queued'"
                " AND r.loan_id BETWEEN :lo AND :hi ORDER BY r.id"
            ),
            {"d": _day(session, day), "lo": lo, "hi": hi},
        ).all()
        templates: dict[str, tuple[int, list[str]] | None] = {}
        for code in {str(r.template_code) for r in rows}:
            found = approved(session, code)
            templates[code] = (
                None if found is None else (found.version, list(json.loads(found.variables)))
            )
    outcomes: list[dict[str, Any]] = []
    outbox: list[SmsMessage] = []
    now = platform.clock()
    for row in rows:
        template = templates.get(str(row.template_code))
        if template is None or not row.mobile_enc:
            outcomes.append({"id": row.id, "status": "refused", "message_id": None, "at": now})
            continue
        phone = platform.cipher.decrypt("phone", row.mobile_enc)
        params = _params(str(row.template_code), template[1], row)
        try:
            receipt = platform.providers.sms.send(phone, str(row.template_code), params)
            status, message_id, error = receipt.status.value, receipt.message_id, None
        except ProviderError as exc:
            status, message_id, error = "failed", None, f"{exc.code}: {exc}"[:256]
        outcomes.append({"id": row.id, "status": status, "message_id": message_id, "at": now})
        outbox.append(
            SmsMessage(
                sent_at=now,
                phone_hash=platform.cipher.lookup_hash("phone", phone),
                phone_masked=mask_phone(phone)[:20],
                template_code=str(row.template_code),
                template_version=template[0],
                params=json.dumps(params, ensure_ascii=False),
                origin="reminder",
                status=status,
                message_id=message_id,
                error=error,
                borrower_id=int(row.borrower_id),
            )
        )
    if outcomes:
        with platform.sessions.begin() as session:
            session.execute(
                text(
                    "UPDATE collection_reminders SET status = :status, message_id = :message_id,"
                    " sent_at = :at WHERE id = :id"
                ),
                outcomes,
            )
            session.add_all(outbox)
    collect_receipts(platform, day, lo, hi)
    return sum(1 for o in outcomes if o["status"] != "refused")


def collect_receipts(platform: Sender, day: date, lo: int, hi: int) -> int:
    """Ask the gateway for the delivery status of the partition's reminders sent in the last
    `RECEIPT_DAYS` days and still `sent`; record the answers (reminder and outbox)."""
    with platform.sessions() as session:
        waiting = session.execute(
            text(
                "SELECT id, message_id FROM collection_reminders WHERE status = 'sent'"
                " AND business_date >= :since AND loan_id BETWEEN :lo AND :hi"
                " AND message_id IS NOT NULL"
            ),
            {"since": _day(session, day - timedelta(days=RECEIPT_DAYS)), "lo": lo, "hi": hi},
        ).all()
    decided: list[dict[str, Any]] = []
    for reminder_id, message_id in (tuple(w) for w in waiting):
        try:
            receipt = platform.providers.sms.status(str(message_id))
        except ProviderError:
            continue  # asked again at the next close of business
        if receipt.status.value != "sent":
            decided.append({"id": reminder_id, "status": receipt.status.value, "m": message_id})
    if decided:
        with platform.sessions.begin() as session:
            session.execute(
                text("UPDATE collection_reminders SET status = :status WHERE id = :id"), decided
            )
            session.execute(
                text("UPDATE sms_outbox SET status = :status WHERE message_id = :m"), decided
            )
    return len(decided)


def reminders_step(platform: Sender | None, *, send: bool = True) -> StepFn:
    """The callable for the `reminders` extension point: queue the partition's reminders
    and, after commit, send them (`send=False` queues only, e.g. a benchmark without a
    gateway)."""

    def run(ctx: StepContext) -> int:
        queued = queue_reminders(ctx)
        if send and platform is not None:
            sender = platform
            call: Callable[[], object] = lambda: _send_safely(  # noqa: E731
                sender, ctx.business_date, ctx.lo, ctx.hi
            )
            ctx.after_commit.append(call)
        return queued

    return run


def _send_safely(platform: Sender, day: date, lo: int, hi: int) -> int:
    try:
        return send_reminders(platform, day, lo, hi)
    except XindaiError:
        logger.warning("reminders of %s (%s–%s) not sent", day, lo, hi, exc_info=True)
        raise


__all__ = ["collect_receipts", "queue_reminders", "reminders_step", "send_reminders"]
