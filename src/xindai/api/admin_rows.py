"""What the console's lists and details show of each record (`api.views_lists`), in one
place so that a list, its export and the details that embed its rows show the same thing:
masked personal data (decrypted only to be masked), yuan strings, ISO dates. Also the
search of `q` by phone or resident ID through their keyed hashes (never LIKE on
ciphertext), and the data scope of a detail (another channel's record is a 404)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, false, func, select
from sqlalchemy.orm import Session

from xindai.api.deps import Staff
from xindai.digits import fold_full_width_digits
from xindai.ledger.accounts import BY_CODE
from xindai.money import format_yuan
from xindai.security.pii import PiiCipher, mask_card, mask_id, mask_name, mask_phone
from xindai.security.rbac import visible_channel
from xindai.store.models import Borrower, JournalEntry, JournalLine, Loan, LoanTransaction
from xindai.store.models_origination import (
    Application,
    AuditEvent,
    BankCard,
    Contact,
    DecisionRecord,
    Payout,
    Withholding,
)
from xindai.store.repository import NotFound, load_product

OPEN = ("active", "overdue")
PHONE_SEARCH = re.compile(r"(\+?86|0086)?1[3-9][0-9]{9}")
ID_SEARCH = re.compile(r"[0-9]{17}[0-9X]")
_WHOLE = re.compile(r"[0-9]{1,18}")


def iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def yuan_or_none(fen: int | None) -> str | None:
    return None if fen is None else format_yuan(fen)


# ------------------------------------------------------------------ search and scope


def search_text(q: str | None) -> str | None:
    """`q` with full-width digits folded and separators dropped; None when empty."""
    if q is None:
        return None
    text = re.sub(r"[\s\-]", "", fold_full_width_digits(q)).upper()
    return text or None


def borrower_match(cipher: PiiCipher, q: str | None) -> ColumnElement[bool] | None:
    """The borrowers `q` names: a mobile number (by its hash), a resident ID number (by its
    hash) or a borrower id; None when there is no `q`; nothing when it is none of these."""
    text = search_text(q)
    if text is None:
        return None
    if PHONE_SEARCH.fullmatch(text):
        return Borrower.mobile_hash == cipher.lookup_hash("phone", text)
    if ID_SEARCH.fullmatch(text):
        return Borrower.id_number_hash == cipher.lookup_hash("id_number", text)
    if _WHOLE.fullmatch(text):
        return Borrower.id == int(text)
    return false()


def borrower_ids(cipher: PiiCipher, q: str | None) -> Any:
    """A subquery of the ids of the borrowers `borrower_match` finds by phone or ID number
    (None unless `q` is one of those)."""
    text = search_text(q)
    if text is None or not (PHONE_SEARCH.fullmatch(text) or ID_SEARCH.fullmatch(text)):
        return None
    condition = borrower_match(cipher, text)
    return select(Borrower.id).where(condition if condition is not None else false())


def whole_number(q: str | None) -> int | None:
    text = search_text(q)
    return int(text) if text is not None and _WHOLE.fullmatch(text) else None


def not_found(what_en: str, what_zh: str) -> NotFound:
    return NotFound(f"{what_en} not found", f"{what_zh}不存在")


def require_visible(staff: Staff, channel: str | None, what_en: str, what_zh: str) -> None:
    """A 404 (not a 403: nothing about another channel's records is disclosed) when a record
    of `channel` is outside the staff member's data scope."""
    visible = visible_channel(staff)
    if visible is not None and channel != visible:
        raise not_found(what_en, what_zh)


def channel_filter(staff: Staff, column: Any, asked: str | None) -> list[ColumnElement[bool]]:
    """The WHERE conditions on a channel column: the staff member's scope, and the channel
    asked for in the filters (an agent asking for another channel gets no rows)."""
    conditions: list[ColumnElement[bool]] = []
    visible = visible_channel(staff)
    if visible is not None:
        conditions.append(column == visible)
    if asked:
        conditions.append(column == asked)
    return conditions


def between_days(column: Any, first: date | None, last: date | None) -> list[Any]:
    """Conditions for a date column within [first, last] (either end open)."""
    found: list[Any] = []
    if first is not None:
        found.append(column >= first)
    if last is not None:
        found.append(column <= last)
    return found


def between_times(column: Any, first: date | None, last: date | None) -> list[Any]:
    """Conditions for a timestamp column on the days [first, last] (either end open)."""
    found: list[Any] = []
    if first is not None:
        found.append(column >= datetime.combine(first, datetime.min.time()))
    if last is not None:
        found.append(
            column < datetime.combine(date.fromordinal(last.toordinal() + 1), datetime.min.time())
        )
    return found


# ------------------------------------------------------------------ personal data


class Masked:
    """Decrypts stored personal data only to mask it."""

    def __init__(self, cipher: PiiCipher) -> None:
        self.cipher = cipher

    def phone(self, token: str | None) -> str:
        return mask_phone(self.cipher.decrypt("phone", token)) if token else ""

    def id_number(self, token: str | None) -> str:
        return mask_id(self.cipher.decrypt("id_number", token)) if token else ""

    def name(self, token: str | None, fallback: str = "") -> str:
        return mask_name(self.cipher.decrypt("name", token)) if token else fallback


def borrowers_by_id(session: Session, ids: Iterable[int]) -> dict[int, Borrower]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.scalars(select(Borrower).where(Borrower.id.in_(wanted)))
    return {b.id: b for b in rows}


# ------------------------------------------------------------------ borrowers


def borrower_rows(
    session: Session, cipher: PiiCipher, borrowers: Sequence[Borrower]
) -> list[dict[str, Any]]:
    ids = [b.id for b in borrowers]
    counts: dict[int, tuple[int, int]] = {}
    if ids:
        for borrower_id, loans, open_loans in session.execute(
            select(
                Loan.borrower_id,
                func.count(),
                func.sum(case((Loan.status.in_(OPEN), 1), else_=0)),
            )
            .where(Loan.borrower_id.in_(ids))
            .group_by(Loan.borrower_id)
        ):
            counts[int(borrower_id)] = (int(loans), int(open_loans or 0))
    masked = Masked(cipher)
    return [
        {
            "id": b.id,
            "name": b.display_name,
            "phone": masked.phone(b.mobile_enc),
            "id_number": masked.id_number(b.id_number_enc),
            "channel": b.channel,
            "kyc_status": b.kyc_status,
            "liveness_passed": bool(b.liveness_passed),
            "registered_on": b.created_on.isoformat(),
            "loans": counts.get(b.id, (0, 0))[0],
            "open_loans": counts.get(b.id, (0, 0))[1],
        }
        for b in borrowers
    ]


def contact_rows(cipher: PiiCipher, contacts: Sequence[Contact]) -> list[dict[str, Any]]:
    masked = Masked(cipher)
    return [
        {
            "seq": c.seq,
            "relation": c.relation,
            "name": masked.name(c.name_enc),
            "phone": mask_phone(cipher.decrypt("phone", c.phone_enc)),
        }
        for c in contacts
    ]


def card_rows(cipher: PiiCipher, cards: Sequence[BankCard]) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id,
            "bank": c.bank_name,
            "bank_code": c.bank_code,
            "card": mask_card(cipher.decrypt("card", c.card_enc)),
            "last4": c.last4,
            "status": c.status,
            "created_at": c.created_at.isoformat(),
        }
        for c in cards
    ]


# ------------------------------------------------------------------ applications


def application_rows(
    session: Session, cipher: PiiCipher, applications: Sequence[Application]
) -> list[dict[str, Any]]:
    borrowers = borrowers_by_id(session, (a.borrower_id for a in applications))
    engine: dict[int, tuple[float | None, str | None]] = {}
    ids = [a.id for a in applications]
    if ids:
        latest = (
            select(DecisionRecord.application_id, func.max(DecisionRecord.id).label("id"))
            .where(DecisionRecord.application_id.in_(ids), DecisionRecord.path == "engine")
            .group_by(DecisionRecord.application_id)
            .subquery()
        )
        for application_id, score, grade in session.execute(
            select(DecisionRecord.application_id, DecisionRecord.score, DecisionRecord.grade).join(
                latest, DecisionRecord.id == latest.c.id
            )
        ):
            engine[int(application_id)] = (score, grade)
    masked = Masked(cipher)
    units = term_units(session, ((a.product_code, a.product_version) for a in applications))
    rows = []
    for a in applications:
        borrower = borrowers.get(a.borrower_id)
        score, grade = engine.get(a.id, (None, None))
        rows.append(
            {
                "id": a.id,
                "status": a.status,
                "product": a.product_code,
                "product_version": a.product_version,
                "amount": format_yuan(a.amount_fen),
                "approved_amount": yuan_or_none(a.approved_amount_fen),
                "term": a.term,
                "term_unit": units.get((a.product_code, a.product_version)),
                "purpose": a.purpose,
                "borrower_id": a.borrower_id,
                "applicant_name": borrower.display_name if borrower else "",
                "applicant_phone": masked.phone(borrower.mobile_enc) if borrower else "",
                "channel": borrower.channel if borrower else None,
                "score": score,
                "grade": grade,
                "offered_rate": a.offered_rate,
                "loan_id": a.loan_id,
                "created_at": a.created_at.isoformat(),
                "decided_at": iso(a.decided_at),
            }
        )
    return rows


def decision_rows(decisions: Sequence[DecisionRecord]) -> list[dict[str, Any]]:
    return [
        {
            "id": d.id,
            "application_id": d.application_id,
            "path": d.path,
            "outcome": d.outcome,
            "score": d.score,
            "grade": d.grade,
            "rate": d.rate,
            "approved_amount": yuan_or_none(d.approved_amount_fen),
            "reasons": list(json.loads(d.reasons or "[]")),
            "strategy": d.strategy,
            "reviewer": d.reviewer,
            "created_at": d.created_at.isoformat(),
        }
        for d in decisions
    ]


# ------------------------------------------------------------------ payouts, loans, money


def payout_rows(session: Session, payouts: Sequence[Payout]) -> list[dict[str, Any]]:
    loans = loans_by_id(session, (p.loan_id for p in payouts))
    borrowers = borrowers_by_id(session, (loan.borrower_id for loan in loans.values()))
    rows = []
    for p in payouts:
        loan = loans.get(p.loan_id)
        borrower = borrowers.get(loan.borrower_id) if loan else None
        rows.append(
            {
                "id": p.id,
                "application_id": p.application_id,
                "loan_id": p.loan_id,
                "borrower_id": loan.borrower_id if loan else None,
                "borrower_name": borrower.display_name if borrower else None,
                "product": loan.product_code if loan else None,
                "channel": loan.channel if loan else None,
                "request_ref": p.request_ref,
                "amount": format_yuan(p.amount_fen),
                "status": p.status,
                "attempt": p.attempt,
                "reason": p.reason,
                "created_at": p.created_at.isoformat(),
                "settled_at": iso(p.settled_at),
            }
        )
    return rows


def loans_by_id(session: Session, ids: Iterable[int]) -> dict[int, Loan]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {loan.id: loan for loan in session.scalars(select(Loan).where(Loan.id.in_(wanted)))}


def term_units(session: Session, products: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The period unit (day, week, month) of each product version: a term is a count of
    them ("14" of a 14-day loan is days, "3" of an installment loan months)."""
    units = {}
    for code, version in set(products):
        try:
            units[code, version] = load_product(session, code, version).period_unit.value
        except NotFound:
            continue
    return units


def loan_rows(session: Session, loans: Sequence[Loan]) -> list[dict[str, Any]]:
    borrowers = borrowers_by_id(session, (loan.borrower_id for loan in loans))
    units = term_units(session, ((loan.product_code, loan.product_version) for loan in loans))
    rows = []
    for loan in loans:
        borrower = borrowers.get(loan.borrower_id)
        outstanding = (
            loan.principal_outstanding_fen
            + loan.interest_outstanding_fen
            + loan.fee_outstanding_fen
            + loan.penalty_outstanding_fen
        )
        rows.append(
            {
                "id": loan.id,
                "borrower_id": loan.borrower_id,
                "borrower_name": borrower.display_name if borrower else None,
                "product": loan.product_code,
                "status": loan.status,
                "channel": loan.channel,
                "principal": format_yuan(loan.principal_fen),
                "principal_outstanding": format_yuan(loan.principal_outstanding_fen),
                "outstanding": format_yuan(outstanding),
                "overdue": format_yuan(loan.overdue_fen),
                "dpd": loan.dpd,
                "max_dpd": loan.max_dpd,
                "bucket": loan.bucket,
                "term": loan.term,
                "term_unit": units.get((loan.product_code, loan.product_version)),
                "annual_rate": loan.annual_rate,
                "disbursed_on": iso(loan.disbursed_on),
                "maturity_date": iso(loan.maturity_date),
                "closed_on": iso(loan.closed_on),
            }
        )
    return rows


def transaction_row(t: LoanTransaction) -> dict[str, Any]:
    return {
        "loan_id": t.loan_id,
        "seq": t.seq,
        "kind": t.kind,
        "value_date": t.value_date.isoformat(),
        "posted_on": t.posted_on.isoformat(),
        "amount": format_yuan(t.amount_fen),
        "principal": format_yuan(t.principal_fen),
        "interest": format_yuan(t.interest_fen),
        "fee": format_yuan(t.fee_fen),
        "penalty": format_yuan(t.penalty_fen),
        "credit": format_yuan(t.credit_fen),
        "channel": t.channel,
        "external_ref": t.external_ref,
        "reversed": bool(t.reversed),
        "reverses_seq": t.reverses_seq,
        "actor": t.actor,
        "created_at": t.created_at.isoformat(),
    }


def withholding_row(w: Withholding) -> dict[str, Any]:
    return {
        "request_ref": w.request_ref,
        "loan_id": w.loan_id,
        "business_date": w.business_date.isoformat(),
        "amount": format_yuan(w.amount_fen),
        "collected": yuan_or_none(w.collected_fen),
        "purpose": w.purpose,
        "status": w.status,
        "origin": w.origin,
        "reason": w.reason,
        "created_at": w.created_at.isoformat(),
        "settled_at": iso(w.settled_at),
    }


def journal_rows(session: Session, lines: Sequence[JournalLine]) -> list[dict[str, Any]]:
    """Journal lines with their entry's kind and description (one query for the page)."""
    keys = {(line.loan_id, line.entry_no) for line in lines}
    entries: dict[tuple[int, int], JournalEntry] = {}
    if keys:
        loan_ids = sorted({k[0] for k in keys})
        found = session.scalars(
            select(JournalEntry).where(
                JournalEntry.loan_id.in_(loan_ids),
                JournalEntry.entry_no.in_(sorted({k[1] for k in keys})),
            )
        )
        entries = {(e.loan_id, e.entry_no): e for e in found if (e.loan_id, e.entry_no) in keys}
    rows = []
    for line in lines:
        entry = entries.get((line.loan_id, line.entry_no))
        account = BY_CODE.get(line.account_code)
        rows.append(
            {
                "business_date": line.business_date.isoformat(),
                "loan_id": line.loan_id,
                "entry_no": line.entry_no,
                "line_no": line.line_no,
                "kind": entry.kind if entry else None,
                "description": entry.description if entry else None,
                "account": line.account_code,
                "account_zh": account.name_zh if account else line.account_code,
                "account_en": account.name_en if account else line.account_code,
                "channel": line.channel,
                "debit": format_yuan(line.debit_fen),
                "credit": format_yuan(line.credit_fen),
                "external_ref": line.external_ref,
            }
        )
    return rows


def audit_rows(events: Sequence[AuditEvent]) -> list[dict[str, Any]]:
    def parsed(text: str | None) -> dict[str, Any] | None:
        if not text:
            return None
        value = json.loads(text)
        return value if isinstance(value, dict) else {"value": value}

    return [
        {
            "id": e.id,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "resource": e.resource,
            "resource_id": e.resource_id,
            "ip": e.ip,
            "before": parsed(e.before),
            "after": parsed(e.after),
        }
        for e in events
    ]
