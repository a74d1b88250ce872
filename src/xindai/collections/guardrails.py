"""The contact guardrails (SPEC §8; CBA 2026, GB/T 45251-2025), checked before any contact
is logged or sent: quiet hours in the debtor's local time, attempts a day to a number that
has not answered, connected calls a day per debtor (in-house and agencies together),
third parties unrelated to the debt, template-only messages, two collectors on a visit.
Each refusal is a `GuardrailRefused` with a stable code and zh-CN / English message.

The counts are of the debtor's local calendar day (`collection_actions.local_day`), through
two indexes (debtor × day, number × day): a check reads a handful of index entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from xindai.collections.config import Guardrails, local_time, utc_offset_hours
from xindai.collections.skiptrace import RankedContact
from xindai.errors import XindaiError
from xindai.store.models_collections import ContactAction
from xindai.store.models_origination import Application

UNREACHED = ("no_answer", "rejected", "powered_off", "suspended", "vacant", "busy")


class GuardrailRefused(XindaiError):
    """A contact the guardrails do not allow (nothing was logged or sent)."""

    http_status = 409

    def __init__(self, code: str, en: str, zh: str, *, http_status: int = 409):
        super().__init__(en, zh, code=code)
        self.http_status = http_status


@dataclass(frozen=True, slots=True)
class DebtorClock:
    """The debtor's wall clock and calendar day now."""

    local: datetime
    utc_offset_hours: int

    @property
    def day(self) -> date:
        return self.local.date()


def debtor_clock(
    session: Session, loan_id: int, lender_now: datetime, guardrails: Guardrails
) -> DebtorClock:
    """The debtor's local time from the region of the loan's application (UTC+8 in China)."""
    region = session.scalar(select(Application.city).where(Application.loan_id == loan_id).limit(1))
    offset = utc_offset_hours(region, guardrails.default_utc_offset_hours)
    return DebtorClock(local_time(lender_now, offset), offset)


def connected_today(session: Session, borrower_id: int, day: date) -> int:
    """Connected calls with the debtor's side today, by anyone (in-house and agencies)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(ContactAction)
            .where(
                ContactAction.borrower_id == borrower_id,
                ContactAction.local_day == day,
                ContactAction.kind == "call",
                ContactAction.connection == "connected",
            )
        )
        or 0
    )


def number_today(session: Session, phone_hash: str, day: date) -> tuple[int, int]:
    """Today's call attempts to the number and how many of them connected."""
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((ContactAction.connection == "connected", 1), else_=0)), 0),
        ).where(
            ContactAction.phone_hash == phone_hash,
            ContactAction.local_day == day,
            ContactAction.kind == "call",
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


def _debtor_reached_today(session: Session, phone_hash: str, day: date) -> tuple[bool, bool]:
    """Whether the borrower's own number was tried today, and whether it connected."""
    attempts, connected = number_today(session, phone_hash, day)
    return attempts > 0, connected > 0


def _ever_refused(session: Session, phone_hash: str) -> bool:
    return (
        session.scalar(
            select(ContactAction.id)
            .where(
                ContactAction.phone_hash == phone_hash,
                ContactAction.party == "unrelated",
                ContactAction.result == "refused",
            )
            .limit(1)
        )
        is not None
    )


def check_contact(
    session: Session,
    *,
    kind: str,
    guardrails: Guardrails,
    clock: DebtorClock,
    borrower_id: int,
    contact: RankedContact,
    own_number: RankedContact | None,
    consented: bool = False,
) -> None:
    """Refuse (`GuardrailRefused`) a call or SMS to `contact` of the debtor now."""
    if guardrails.quiet_at(clock.local) and not consented:
        raise GuardrailRefused(
            "COLLECTION_QUIET_HOURS",
            f"no contact between {guardrails.quiet_start} and {guardrails.quiet_end} in the "
            f"debtor's local time (now {clock.local:%H:%M}, UTC{clock.utc_offset_hours:+d})",
            f"债务人当地时间 {guardrails.quiet_start}–{guardrails.quiet_end} 不得联系"
            f"（当前 {clock.local:%H:%M}）",
        )
    if contact.party == "unrelated":
        if kind == "sms":
            raise GuardrailRefused(
                "COLLECTION_THIRD_PARTY",
                "no messages to third parties unrelated to the debt",
                "不得向与债务无关的第三人发送短信",
            )
        if contact.refused or _ever_refused(session, contact.phone_hash):
            raise GuardrailRefused(
                "COLLECTION_THIRD_PARTY",
                "this third party refused to be contacted again",
                "该第三人已拒绝再被联系",
            )
        if own_number is not None:
            tried, reached = _debtor_reached_today(session, own_number.phone_hash, clock.day)
            if reached or not tried:
                raise GuardrailRefused(
                    "COLLECTION_THIRD_PARTY",
                    "an unrelated third party only when the debtor cannot be reached today",
                    "仅在当日无法联系到债务人本人时方可联系无关第三人",
                )
    if kind != "call":
        return
    if connected_today(session, borrower_id, clock.day) >= guardrails.max_connected_per_debtor:
        raise GuardrailRefused(
            "COLLECTION_CONNECTED_CAP",
            f"the debtor had {guardrails.max_connected_per_debtor} connected calls today "
            "(in-house and agencies together)",
            f"该债务人今日已接通 {guardrails.max_connected_per_debtor} 次（含委外），不得再拨打",
        )
    attempts, connected = number_today(session, contact.phone_hash, clock.day)
    if connected == 0 and attempts >= guardrails.max_attempts_per_number:
        raise GuardrailRefused(
            "COLLECTION_ATTEMPTS_EXCEEDED",
            f"{attempts} unanswered attempts to this number today "
            f"(at most {guardrails.max_attempts_per_number})",
            f"该号码今日已拨打 {attempts} 次未接通（上限 {guardrails.max_attempts_per_number} 次）",
        )


__all__ = [
    "DebtorClock",
    "GuardrailRefused",
    "check_contact",
    "connected_today",
    "debtor_clock",
    "number_today",
]
