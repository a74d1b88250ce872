"""What the workbench offers a collector to choose from: the colleagues who may be a field
visit's second collector — an agency's user the other active users of its agency, an
in-house collector the other active in-house collectors of its teams (queue members of the
same `team`) or, without a team, of the queues it works; names only, no personal data —
and the SMS templates it may send (the approved version of each template of purpose
`collection` or `reminder`). A visit takes companions from the colleagues only."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xindai.collections.guardrails import GuardrailRefused
from xindai.collections.scope import CaseScope
from xindai.store.models_admin import SmsTemplate
from xindai.store.models_collections import AgencyUser, QueueMember
from xindai.store.models_origination import StaffUser

SMS_PURPOSES = ("collection", "reminder")


def colleague_ids(session: Session, scope: CaseScope) -> set[int]:
    """The staff ids of the caller's colleagues (the module's docstring), without itself."""
    if scope.agency_id is not None:
        ids = set(
            session.scalars(
                select(AgencyUser.staff_id).where(AgencyUser.agency_id == scope.agency_id)
            )
        )
    else:
        mine = session.execute(
            select(QueueMember.queue_id, QueueMember.team).where(
                QueueMember.staff_id == scope.actor_id
            )
        ).all()
        teams = {team for _queue, team in mine if team}
        same = (
            QueueMember.team.in_(teams)
            if teams
            else QueueMember.queue_id.in_({queue for queue, _team in mine})
        )
        agency_users = select(AgencyUser.staff_id)
        ids = set(
            session.scalars(
                select(QueueMember.staff_id).where(
                    same,
                    QueueMember.staff_id.is_not(None),
                    QueueMember.staff_id.not_in(agency_users),
                )
            )
        )
    ids.discard(scope.actor_id)
    if not ids:
        return set()
    return set(
        session.scalars(
            select(StaffUser.id).where(
                StaffUser.id.in_(ids), StaffUser.active.is_(True), StaffUser.role == "collector"
            )
        )
    )


def colleagues(session: Session, scope: CaseScope) -> list[dict[str, Any]]:
    """`[{"id", "name"}]` of the caller's colleagues, by name."""
    ids = colleague_ids(session, scope)
    if not ids:
        return []
    rows = session.execute(
        select(StaffUser.id, StaffUser.username)
        .where(StaffUser.id.in_(ids))
        .order_by(StaffUser.username)
    ).all()
    return [{"id": int(i), "name": str(name)} for i, name in rows]


def companions_of(
    session: Session, scope: CaseScope, companions: list[int], minimum: int
) -> list[str]:
    """The names of a visit's `companions` when each is one of the caller's colleagues and,
    with the caller, they are at least `minimum` collectors; else COLLECTION_VISIT_COMPANIONS
    (400)."""
    allowed = colleague_ids(session, scope)
    strangers = sorted(set(companions) - allowed - {scope.actor_id})
    if strangers:
        raise GuardrailRefused(
            "COLLECTION_VISIT_COMPANIONS",
            f"a companion must be an active collector of your own team or agency ({strangers[0]})",
            f"同行人员须为本团队或本机构的在职催收员（{strangers[0]}）",
            http_status=400,
        )
    chosen = set(companions) & allowed
    if len(chosen) + 1 < minimum:
        raise GuardrailRefused(
            "COLLECTION_VISIT_COMPANIONS",
            f"a field visit needs at least {minimum} collectors",
            f"上门催收至少需要 {minimum} 名催收员",
            http_status=400,
        )
    names = session.scalars(select(StaffUser.username).where(StaffUser.id.in_(chosen)))
    return sorted(str(n) for n in names)


def sms_templates(session: Session) -> list[dict[str, Any]]:
    """The templates a collector may send: the approved version of each code of purpose
    `collection` or `reminder`, by code — `{"code", "version", "purpose", "text",
    "variables"}` (the server fills the variables)."""
    rows = session.scalars(
        select(SmsTemplate)
        .where(SmsTemplate.status == "approved", SmsTemplate.purpose.in_(SMS_PURPOSES))
        .order_by(SmsTemplate.code, SmsTemplate.version.desc())
    )
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        found.setdefault(
            row.code,
            {
                "code": row.code,
                "version": row.version,
                "purpose": row.purpose,
                "text": row.text,
                "variables": json.loads(row.variables),
            },
        )
    return list(found.values())


__all__ = ["SMS_PURPOSES", "colleague_ids", "colleagues", "companions_of", "sms_templates"]
