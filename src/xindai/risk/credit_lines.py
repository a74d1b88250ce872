"""Revolving credit lines (预授信额度, SPEC §7): what a borrower may still draw (available =
limit − outstanding principal of their open loans), draws that become approved applications
without a new full review, and staff freezing and unfreezing a line (audited).

A draw runs the checks that a line cannot vouch for — the line itself, the product's range,
KYC, the card, an application in progress, blacklists, an overdue loan — then creates the
application through `origination.applications` and approves it at once with a `credit_line`
decision; the borrower signs it through the usual journey.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xindai.errors import InvalidValue, XindaiError
from xindai.money import Fen, format_yuan
from xindai.origination.applications import (
    active_product,
    new_application,
    ready_to_apply,
    record_offer,
)
from xindai.origination.declared import Declared
from xindai.origination.purposes import parse_purpose
from xindai.platform import Platform
from xindai.risk.history import histories, history
from xindai.risk.precredit import ACTIVE, CLOSED, FROZEN, active_blacklist_hits
from xindai.security import audit
from xindai.store import repository as repo
from xindai.store.models import Borrower
from xindai.store.models_origination import Application, DecisionRecord
from xindai.store.models_risk import CreditLine

CREDIT_LINE_PATH = "credit_line"
"""`DecisionRecord.path` of an application approved as a draw on a credit line."""

STATUSES = (ACTIVE, FROZEN, CLOSED)
MAX_REASON_CHARS = 500


class CreditLineError(XindaiError):
    """A credit line cannot do what was asked: a stable code and a zh-CN / English message."""

    code = "CREDIT_LINE_ERROR"

    def __init__(self, code: str, en: str, zh: str):
        super().__init__(en, zh, code=code)


class CreditLineNotFound(CreditLineError):
    """No credit line (for this borrower, or with this id)."""

    def __init__(self) -> None:
        super().__init__("CREDIT_LINE_NOT_FOUND", "no credit line found", "没有可用的授信额度")


@dataclass(frozen=True, slots=True)
class CreditLineView:
    """A line as the borrower and staff see it; amounts in fen. `expired` when the business
    date is after `expires_on` (the last day it can be drawn on)."""

    id: int
    borrower_id: int
    status: str
    level: int
    limit_fen: Fen
    outstanding_fen: Fen
    available_fen: Fen
    expires_on: date
    expired: bool
    granted_at: datetime
    updated_at: datetime
    batch_id: str
    freeze_reason: str | None

    @property
    def can_draw(self) -> bool:
        return self.status == ACTIVE and not self.expired and self.available_fen > 0

    def as_json(self) -> dict[str, Any]:
        """JSON for the API: yuan amounts as strings, dates ISO."""
        return {
            "id": self.id,
            "borrower_id": self.borrower_id,
            "status": self.status,
            "level": self.level,
            "limit": format_yuan(self.limit_fen),
            "outstanding": format_yuan(self.outstanding_fen),
            "available": format_yuan(self.available_fen),
            "expires_on": self.expires_on.isoformat(),
            "expired": self.expired,
            "can_draw": self.can_draw,
            "granted_at": self.granted_at.isoformat(),
            "freeze_reason": self.freeze_reason,
        }


def _view(line: CreditLine, outstanding_fen: Fen, today: date) -> CreditLineView:
    detail = json.loads(line.detail or "{}")
    return CreditLineView(
        id=line.id,
        borrower_id=line.borrower_id,
        status=line.status,
        level=line.level,
        limit_fen=line.limit_fen,
        outstanding_fen=outstanding_fen,
        available_fen=max(0, line.limit_fen - outstanding_fen),
        expires_on=line.expires_on,
        expired=today > line.expires_on,
        granted_at=line.granted_at,
        updated_at=line.updated_at,
        batch_id=line.batch_id,
        freeze_reason=detail.get("freeze_reason") if line.status == FROZEN else None,
    )


def credit_line_view(session: Session, borrower_id: int, today: date) -> CreditLineView:
    """The borrower's line with its outstanding and available amounts (`CreditLineNotFound`)."""
    line = session.scalars(
        select(CreditLine).where(CreditLine.borrower_id == borrower_id)
    ).one_or_none()
    if line is None:
        raise CreditLineNotFound()
    return _view(line, history(session, borrower_id).open_principal_fen, today)


def credit_line_views(
    session: Session, today: date, *, status: str | None = None, limit: int = 200, offset: int = 0
) -> list[CreditLineView]:
    """Lines by id, optionally of one status, with outstanding amounts (two queries)."""
    if status is not None and status not in STATUSES:
        raise InvalidValue(
            "status", status, f"must be one of {', '.join(STATUSES)}", f"应为 {'、'.join(STATUSES)}"
        )
    if not 1 <= limit <= 1000 or offset < 0:
        raise InvalidValue("limit", limit, "must be 1 to 1000", "应在 1 到 1000 之间")
    query = select(CreditLine).order_by(CreditLine.id).limit(limit).offset(offset)
    if status is not None:
        query = query.where(CreditLine.status == status)
    lines = list(session.scalars(query))
    outstanding = histories(session, [line.borrower_id for line in lines]) if lines else {}
    return [_view(line, outstanding[line.borrower_id].open_principal_fen, today) for line in lines]


class CreditLineService:
    """Viewing, drawing on, freezing and unfreezing credit lines; one transaction per call."""

    def __init__(self, platform: Platform):
        self.p = platform

    def _today(self, session: Session) -> date:
        return repo.get_business_date(session) or self.p.clock().date()

    # ------------------------------------------------------------ view

    def view(self, borrower_id: int) -> CreditLineView:
        """The borrower's line: limit, outstanding principal, available, status, level and
        expiry (`CreditLineNotFound` when none)."""
        with self.p.sessions() as session:
            return credit_line_view(session, borrower_id, self._today(session))

    def lines(
        self, *, status: str | None = None, limit: int = 200, offset: int = 0
    ) -> list[CreditLineView]:
        with self.p.sessions() as session:
            return credit_line_views(
                session, self._today(session), status=status, limit=limit, offset=offset
            )

    # ------------------------------------------------------------ draw

    def draw(
        self,
        borrower_id: int,
        *,
        product_code: str,
        amount_fen: Fen,
        term: int,
        purpose: str,
        card_id: int,
        device_fingerprint: str | None,
        ip: str | None,
    ) -> Application:
        """Draw `amount_fen` on the borrower's line: checks the line (active, not expired,
        amount within what is available), the product's amount and term, KYC, the card (the
        borrower's own, verified), that no application is in progress, blacklists (ID, phone,
        device, card) and overdue loans; then creates the application and approves it at the
        product's rate with a `credit_line` decision. Every refusal is a `XindaiError`."""
        loan_purpose = parse_purpose(purpose)
        now = self.p.clock()
        with self.p.sessions.begin() as session:
            line = session.scalars(
                select(CreditLine).where(CreditLine.borrower_id == borrower_id).with_for_update()
            ).one_or_none()
            if line is None:
                raise CreditLineNotFound()
            today = self._today(session)
            self._require_drawable(line, today)
            borrower = session.get(Borrower, borrower_id)
            if borrower is None:
                raise CreditLineNotFound()
            product = active_product(session, product_code)
            product.schedule_terms(amount_fen, term, today)  # the product's amount and term
            card = ready_to_apply(session, borrower, product, card_id, today)
            past = history(session, borrower_id)
            if past.open_dpd > 0:
                raise CreditLineError(
                    "CREDIT_LINE_LOAN_OVERDUE",
                    "repay your overdue loan before drawing again",
                    "您有逾期未还的借款，请先还款",
                )
            outstanding = past.open_principal_fen
            available = max(0, line.limit_fen - outstanding)
            if amount_fen > available:
                raise CreditLineError(
                    "CREDIT_LINE_INSUFFICIENT",
                    f"the amount is more than the {format_yuan(available)} yuan available",
                    f"借款金额超过可用额度 {format_yuan(available)} 元",
                )
            device_hash = (
                self.p.cipher.lookup_hash("device", device_fingerprint)
                if device_fingerprint
                else None
            )
            hits = active_blacklist_hits(
                session,
                [
                    ("id_number", borrower.id_number_hash),
                    ("phone", borrower.mobile_hash),
                    ("device", device_hash),
                    ("card", card.card_hash),
                ],
                now,
            )
            if hits:  # the borrower is not told which list: that would teach evasion
                raise CreditLineError(
                    "CREDIT_LINE_REFUSED",
                    "the line cannot be drawn on at the moment",
                    "暂时无法使用授信额度借款",
                )
            application = new_application(
                session,
                self.p.cipher,
                borrower=borrower,
                product=product,
                amount_fen=amount_fen,
                term=term,
                purpose=loan_purpose,
                card=card,
                device_fingerprint=device_fingerprint,
                ip=ip,
                declared=Declared(),
                today=today,
                now=now,
                credit_line_id=line.id,
            )
            record_offer(application, product, amount_fen, product.annual_rate, today)
            application.decided_at = now
            session.add(
                DecisionRecord(
                    application_id=application.id,
                    path=CREDIT_LINE_PATH,
                    outcome="approve",
                    reasons=json.dumps([]),
                    customer_reasons=json.dumps([]),
                    detail=json.dumps(
                        {
                            "credit_line_id": line.id,
                            "line_level": line.level,
                            "line_limit_fen": line.limit_fen,
                            "outstanding_fen": outstanding,
                            "available_before_fen": available,
                            "available_after_fen": available - amount_fen,
                            "line_expires_on": line.expires_on.isoformat(),
                            "checks_passed": [
                                "line_active",
                                "line_not_expired",
                                "kyc_verified",
                                "product_amount_term",
                                "age",
                                "card_verified",
                                "no_application_in_progress",
                                "no_open_loan_overdue",
                                "within_available",
                                "not_blacklisted",
                            ],
                        },
                        ensure_ascii=False,
                    ),
                    approved_amount_fen=amount_fen,
                    rate=str(product.annual_rate),
                    created_at=now,
                )
            )
            session.flush()
            return application

    @staticmethod
    def _require_drawable(line: CreditLine, today: date) -> None:
        if line.status == FROZEN:
            raise CreditLineError(
                "CREDIT_LINE_FROZEN", "the credit line is frozen", "授信额度已冻结"
            )
        if line.status != ACTIVE:
            raise CreditLineError(
                "CREDIT_LINE_CLOSED", "the credit line is closed", "授信额度已关闭"
            )
        if today > line.expires_on:
            raise CreditLineError(
                "CREDIT_LINE_EXPIRED",
                f"the credit line expired on {line.expires_on.isoformat()}",
                f"授信额度已于 {line.expires_on.isoformat()} 到期",
            )

    # ------------------------------------------------------------ staff

    def _line(self, session: Session, line_id: int) -> CreditLine:
        line = session.scalars(
            select(CreditLine).where(CreditLine.id == line_id).with_for_update()
        ).one_or_none()
        if line is None:
            raise CreditLineNotFound()
        return line

    @staticmethod
    def _reason(reason: str) -> str:
        cleaned = reason.strip()
        if not cleaned or len(cleaned) > MAX_REASON_CHARS:
            raise InvalidValue(
                "reason", reason, "must be 1 to 500 characters", "原因应为 1 到 500 个字"
            )
        return cleaned

    def freeze(
        self, line_id: int, actor: str, reason: str, *, ip: str | None = None
    ) -> CreditLineView:
        """Freeze a line (staff): no draws until a staff member unfreezes it; the batch does
        not lift it. Freezing a line the batch froze makes the freeze the staff's."""
        why = self._reason(reason)
        now = self.p.clock()
        with self.p.sessions.begin() as session:
            line = self._line(session, line_id)
            if line.status == CLOSED:
                raise CreditLineError(
                    "CREDIT_LINE_CLOSED", "the credit line is closed", "授信额度已关闭"
                )
            detail = json.loads(line.detail or "{}")
            if line.status == FROZEN and str(detail.get("frozen_by", "")).startswith("staff:"):
                raise CreditLineError(
                    "CREDIT_LINE_FROZEN", "the credit line is already frozen", "授信额度已冻结"
                )
            before = {"status": line.status, "frozen_by": detail.get("frozen_by")}
            detail |= {
                "frozen_by": f"staff:{actor}",
                "frozen_at": now.isoformat(),
                "freeze_reason": "STAFF_FROZEN",
                "freeze_message_zh": why,
                "freeze_message_en": why,
            }
            return self._set_status(session, line, FROZEN, detail, before, actor, why, ip, now)

    def unfreeze(
        self, line_id: int, actor: str, reason: str, *, ip: str | None = None
    ) -> CreditLineView:
        """Make a frozen line active again (staff); the next pre-credit batch freezes it
        again if the borrower is no longer whitelisted."""
        why = self._reason(reason)
        now = self.p.clock()
        with self.p.sessions.begin() as session:
            line = self._line(session, line_id)
            if line.status != FROZEN:
                raise CreditLineError(
                    "CREDIT_LINE_NOT_FROZEN",
                    f"the credit line is {line.status}, not frozen",
                    f"授信额度状态为 {line.status}，未冻结",
                )
            detail = json.loads(line.detail or "{}")
            before = {
                "status": FROZEN,
                "frozen_by": detail.get("frozen_by"),
                "freeze_reason": detail.get("freeze_reason"),
            }
            detail = {k: v for k, v in detail.items() if not k.startswith(("frozen", "freeze"))}
            detail |= {"unfrozen_by": f"staff:{actor}", "unfrozen_at": now.isoformat()}
            return self._set_status(session, line, ACTIVE, detail, before, actor, why, ip, now)

    def _set_status(
        self,
        session: Session,
        line: CreditLine,
        status: str,
        detail: dict[str, Any],
        before: dict[str, Any],
        actor: str,
        why: str,
        ip: str | None,
        now: datetime,
    ) -> CreditLineView:
        """A staff freeze or unfreeze: the line's new status and detail, and its audit entry."""
        line.status, line.updated_at = status, now
        line.detail = json.dumps(detail, ensure_ascii=False, sort_keys=True)
        audit.record(
            session,
            actor=actor,
            action="credit_line.freeze" if status == FROZEN else "credit_line.unfreeze",
            resource="credit_line",
            resource_id=line.id,
            ip=ip,
            before=before,
            after={"status": status, "reason": why},
            at=now,
        )
        return credit_line_view(session, line.borrower_id, self._today(session))
