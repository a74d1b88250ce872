"""The contact guardrails (SPEC §8; CBA 2026, GB/T 45251-2025), checked before any contact
is logged or sent: quiet hours in the debtor's local time, attempts a day to a number that
has not answered, connected calls a day per debtor (in-house and agencies together),
third parties unrelated to the debt, template-only messages, two collectors on a visit.
Each refusal is a `GuardrailRefused` with a stable code and zh-CN / English message.

The counts are of the debtor's local calendar day (`collection_actions.local_day`), in one
statement through two indexes (debtor × day, number × day): a handful of index entries.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import BindParameter

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
    return clock_in(session.scalar(region_of(loan_id)), lender_now, guardrails)


def region_of(loan_id: Any) -> Select[str | None]:
    """The region (city) of the loan's application: `loan_id` a value or a column."""
    return select(Application.city).where(Application.loan_id == loan_id).limit(1)


def clock_in(region: str | None, lender_now: datetime, guardrails: Guardrails) -> DebtorClock:
    """The debtor's clock in `region` (the default offset when it is unknown)."""
    offset = utc_offset_hours(region, guardrails.default_utc_offset_hours)
    return DebtorClock(local_time(lender_now, offset), offset)


def _is(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


@dataclass(frozen=True, slots=True)
class DayCounts:
    """Today's calls: connected with the debtor's side, and per number attempts and
    connected (numbers not asked for count 0)."""

    debtor_connected: int
    attempts: dict[str, int]
    connected: dict[str, int]


def day_counts(session: Session, borrower_id: int, numbers: Sequence[str], day: date) -> DayCounts:
    """The guardrails' counts of `day` in one statement, through the debtor × day and the
    number × day indexes (each branch of the OR one index range)."""
    wanted = list(dict.fromkeys(numbers))
    params: dict[str, Any] = {"borrower_id": borrower_id, "day": day}
    params.update({f"number_{i}": n for i, n in enumerate(wanted)})
    # the connection, not the ORM session: a check is on every contact, keep it lean
    row = session.connection().execute(_day_counts_statement(len(wanted)), params).one()
    values = [int(v or 0) for v in row]
    return DayCounts(
        values[0],
        {n: values[1 + 2 * i] for i, n in enumerate(wanted)},
        {n: values[2 + 2 * i] for i, n in enumerate(wanted)},
    )


@functools.cache
def _day_counts_statement(numbers: int) -> Executable:
    """`day_counts`' statement for `numbers` numbers, built once (bound parameters)."""
    actions = ContactAction.__table__.c
    call, connected = actions.kind == "call", actions.connection == "connected"
    today = actions.local_day == bindparam("day")
    debtor: BindParameter[int] = bindparam("borrower_id")
    columns = [_is((actions.borrower_id == debtor) & connected)]
    hashes: list[BindParameter[str]] = [bindparam(f"number_{i}") for i in range(numbers)]
    for number in hashes:
        columns += [
            _is(actions.phone_hash == number),
            _is((actions.phone_hash == number) & connected),
        ]
    branches = [and_(actions.borrower_id == debtor, today, call)]
    if hashes:
        branches.append(and_(actions.phone_hash.in_(hashes), today, call))
    return select(*columns).where(or_(*branches))


def connected_today(session: Session, borrower_id: int, day: date) -> int:
    """Connected calls with the debtor's side today, by anyone (in-house and agencies)."""
    return day_counts(session, borrower_id, (), day).debtor_connected


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
    numbers = [contact.phone_hash] + ([] if own_number is None else [own_number.phone_hash])
    counts: DayCounts | None = None
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
            counts = day_counts(session, borrower_id, numbers, clock.day)
            own = counts.attempts[own_number.phone_hash], counts.connected[own_number.phone_hash]
            if own[1] > 0 or own[0] == 0:
                raise GuardrailRefused(
                    "COLLECTION_THIRD_PARTY",
                    "an unrelated third party only when the debtor cannot be reached today",
                    "仅在当日无法联系到债务人本人时方可联系无关第三人",
                )
    if kind != "call":
        return
    counts = counts or day_counts(session, borrower_id, numbers, clock.day)
    if counts.debtor_connected >= guardrails.max_connected_per_debtor:
        raise GuardrailRefused(
            "COLLECTION_CONNECTED_CAP",
            f"the debtor had {guardrails.max_connected_per_debtor} connected calls today "
            "(in-house and agencies together)",
            f"该债务人今日已接通 {guardrails.max_connected_per_debtor} 次（含委外），不得再拨打",
        )
    attempts, connected = counts.attempts[contact.phone_hash], counts.connected[contact.phone_hash]
    if connected == 0 and attempts >= guardrails.max_attempts_per_number:
        raise GuardrailRefused(
            "COLLECTION_ATTEMPTS_EXCEEDED",
            f"{attempts} unanswered attempts to this number today "
            f"(at most {guardrails.max_attempts_per_number})",
            f"该号码今日已拨打 {attempts} 次未接通（上限 {guardrails.max_attempts_per_number} 次）",
        )


__all__ = [
    "DayCounts",
    "DebtorClock",
    "GuardrailRefused",
    "check_contact",
    "clock_in",
    "connected_today",
    "day_counts",
    "debtor_clock",
    "region_of",
]
