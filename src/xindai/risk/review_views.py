"""JSON-ready views of the manual-review queue for screens and the API: a task with its SLA
timer, the application and applicant (masked unless full), the engine's decision, contacts.
Personal data is decrypted through the `decrypt(kind, token)` the caller passes."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from xindai.money import format_yuan
from xindai.risk.review_rules import MORE_INFO, checklist_of, sla_state
from xindai.security.pii import mask_name, mask_phone
from xindai.store.models import Borrower
from xindai.store.models_origination import Application, Contact, DecisionRecord
from xindai.store.models_risk import ReviewTask

Decrypt = Callable[[str, str | None], str]
"""`decrypt(kind, token)`: the clear value of an encrypted column, "" for None."""


def iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _list(detail: Mapping[str, Any], key: str) -> list[Any]:
    value = detail.get(key)
    return value if isinstance(value, list) else []


def task_view(task: ReviewTask, now: datetime, *, with_texts: bool) -> dict[str, Any]:
    """The task and its SLA timer (`minutes_left` None while the clock is stopped); with the
    checklist, info request and reply and the outcome when `with_texts`."""
    minutes_left, overdue = sla_state(task, now)
    view: dict[str, Any] = {
        "application_id": task.application_id,
        "status": task.status,
        "reasons": json.loads(task.reasons or "[]"),
        "queued_at": iso(task.queued_at),
        "due_at": iso(task.due_at),
        "minutes_left": minutes_left,
        "overdue": overdue,
        "claimed_by": task.claimed_by,
        "claimed_at": iso(task.claimed_at),
    }
    if with_texts:
        view |= {
            "checklist": checklist_of(task),
            "info_request": task.info_request,
            "info_reply": task.info_reply,
            "outcome": task.outcome,
            "decided_by": task.decided_by,
            "decided_at": iso(task.decided_at),
            "note": task.note,
        }
    return view


def application_view(
    application: Application, borrower: Borrower | None, decrypt: Decrypt, *, full: bool
) -> dict[str, Any]:
    """The application and its applicant's name and phone (masked unless `full`)."""
    name = decrypt("name", borrower.name_enc if borrower else None)
    phone = decrypt("phone", borrower.mobile_enc if borrower else None)
    return {
        "id": application.id,
        "status": application.status,
        "product": application.product_code,
        "product_version": application.product_version,
        "amount": format_yuan(application.amount_fen),
        "amount_fen": application.amount_fen,
        "term": application.term,
        "purpose": application.purpose,
        "created_at": iso(application.created_at),
        "borrower_id": application.borrower_id,
        "channel": borrower.channel if borrower else None,
        "applicant_name": name if full else mask_name(name),
        "applicant_phone": phone if full else mask_phone(phone),
    }


def decision_view(record: DecisionRecord | None, *, full: bool = False) -> dict[str, Any] | None:
    """The engine decision's summary; with its reason codes and fired rules when `full`."""
    if record is None:
        return None
    view: dict[str, Any] = {
        "id": record.id,
        "outcome": record.outcome,
        "score": record.score,
        "grade": record.grade,
        "pd": record.pd,
        "rate": record.rate,
        "approved_amount": (
            format_yuan(record.approved_amount_fen)
            if record.approved_amount_fen is not None
            else None
        ),
        "customer_reasons": json.loads(record.customer_reasons or "[]"),
    }
    if full:
        stored = json.loads(record.detail or "{}")
        detail = stored if isinstance(stored, dict) else {}
        view |= {
            "reason_codes": json.loads(record.reasons or "[]"),
            "fired_rules": _list(detail, "fired"),  # node, rule_id, description, inputs
            "hits": _list(detail, "hits"),  # code, action, customer text
            "strategy": record.strategy,
            "model_version": record.model_version,
            "at": iso(record.created_at),
        }
    return view


def contact_view(contact: Contact, decrypt: Decrypt, *, full: bool) -> dict[str, Any]:
    """An emergency contact; name and phone masked unless `full`."""
    name = decrypt("name", contact.name_enc)
    phone = decrypt("phone", contact.phone_enc)
    return {
        "seq": contact.seq,
        "relation": contact.relation,
        "name": name if full else mask_name(name),
        "phone": phone if full else mask_phone(phone),
    }


def history_view(record: DecisionRecord) -> dict[str, Any]:
    return {
        "path": record.path,
        "outcome": record.outcome,
        "reviewer": record.reviewer,
        "reasons": json.loads(record.reasons or "[]"),
        "at": iso(record.created_at),
    }


def info_view(application_id: int, task: ReviewTask | None) -> dict[str, Any]:
    """What the borrower sees of a request for more: `awaiting_reply`, `answered` or `none`
    (never who asked)."""
    if task is None or task.info_request is None:
        state = "none"
    elif task.status == MORE_INFO:
        state = "awaiting_reply"
    else:
        state = "answered"
    return {
        "application_id": application_id,
        "status": state,
        "request": task.info_request if task is not None else None,
        "reply": task.info_reply if task is not None else None,
    }
