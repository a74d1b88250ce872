"""The manager's side of collections (催收管理): queues with their members and allocation
rules, agencies with their users, placements and recalls, reminder plans, strategies and
guardrails as data, a collector-load view, and allocation on demand. Every change audited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from xindai.cob.registry import StepContext
from xindai.cob.sql import Dialect
from xindai.collections.allocation import AllocationResult, allocate
from xindai.collections.config import (
    GUARDRAILS_KEY,
    STRATEGIES_KEY,
    check_strategies,
    guardrails_from,
    guardrails_view,
    load_guardrails,
    load_strategies,
    save_setting,
)
from xindai.errors import InvalidValue
from xindai.messaging.templates import approved
from xindai.security import audit
from xindai.store import repository as repo
from xindai.store.models_collections import (
    Agency,
    AgencyUser,
    CollectionCase,
    CollectionQueue,
    ContactAction,
    Promise,
    QueueMember,
    ReminderPlan,
)
from xindai.store.models_origination import StaffUser

OWNERS = ("inhouse", "agency", "legal")
METHODS = ("round_robin", "capacity", "performance")


@dataclass
class Management:
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime]

    def _today(self, session: Session) -> date:
        return repo.get_business_date(session) or self.clock().date()

    def _audit(
        self,
        session: Session,
        actor: str,
        action: str,
        resource: str,
        key: Any,
        after: dict[str, Any],
        before: dict[str, Any] | None = None,
    ) -> None:
        audit.record(
            session,
            actor=actor,
            action=action,
            resource=resource,
            resource_id=key,
            before=before,
            after=after,
            at=self.clock(),
            unmasked=("name",),
        )

    # ------------------------------------------------------------ queues

    def queues(self, session: Session) -> list[dict[str, Any]]:
        counts = {
            int(q): (int(n), int(u or 0))
            for q, n, u in session.execute(
                select(
                    CollectionCase.queue_id,
                    func.count(),
                    func.sum(
                        case(
                            (
                                CollectionCase.assignee_id.is_(None)
                                & CollectionCase.agency_id.is_(None),
                                1,
                            ),
                            else_=0,
                        )
                    ),
                )
                .where(CollectionCase.status == "open", CollectionCase.queue_id.is_not(None))
                .group_by(CollectionCase.queue_id)
            ).all()
        }
        staff_load = dict(
            session.execute(
                select(CollectionCase.assignee_id, func.count())
                .where(CollectionCase.status == "open", CollectionCase.assignee_id.is_not(None))
                .group_by(CollectionCase.assignee_id)
            ).all()
        )
        agency_load = dict(
            session.execute(
                select(CollectionCase.agency_id, func.count())
                .where(CollectionCase.status == "open", CollectionCase.agency_id.is_not(None))
                .group_by(CollectionCase.agency_id)
            ).all()
        )
        names = dict(session.execute(select(StaffUser.id, StaffUser.username)).all())
        agencies = dict(session.execute(select(Agency.id, Agency.name)).all())
        views = []
        for q in session.scalars(select(CollectionQueue).order_by(CollectionQueue.priority)):
            members = session.scalars(
                select(QueueMember).where(QueueMember.queue_id == q.id).order_by(QueueMember.id)
            ).all()
            n, unassigned = counts.get(q.id, (0, 0))
            views.append(
                {
                    "code": q.code,
                    "name_zh": q.name_zh,
                    "name_en": q.name_en,
                    "dpd_min": q.dpd_min,
                    "dpd_max": q.dpd_max,
                    "product_code": q.product_code,
                    "channel": q.channel,
                    "owner": q.owner,
                    "allocation": q.allocation,
                    "capacity": q.capacity,
                    "no_promise_days": q.no_promise_days,
                    "priority": q.priority,
                    "active": q.active,
                    "pre_due": q.pre_due,
                    "open_cases": n,
                    "unassigned": unassigned,
                    "members": [
                        {
                            "staff_id": m.staff_id,
                            "agency_id": m.agency_id,
                            "name": names.get(m.staff_id)
                            if m.staff_id is not None
                            else agencies.get(m.agency_id or 0),
                            "weight": m.weight,
                            "capacity": m.capacity,
                            "team": m.team,
                            "open_cases": int(
                                staff_load.get(m.staff_id, 0)
                                if m.staff_id is not None
                                else agency_load.get(m.agency_id, 0)
                            ),
                        }
                        for m in members
                    ],
                }
            )
        return views

    def put_queue(self, code: str, body: dict[str, Any], *, actor: str) -> dict[str, Any]:
        """Create or replace queue `code` with its members (validated)."""
        owner, method = body.get("owner"), body.get("allocation")
        if owner not in OWNERS:
            raise InvalidValue("owner", owner, f"one of {', '.join(OWNERS)}", "归属不在可选范围")
        if method not in METHODS:
            raise InvalidValue(
                "allocation", method, f"one of {', '.join(METHODS)}", "分案方式不在可选范围"
            )
        low, high = int(body["dpd_min"]), body.get("dpd_max")
        pre_due = bool(body.get("pre_due", False))  # the pre-due segment takes any DPD
        if (low < 1 and not pre_due) or (high is not None and int(high) < low):
            raise InvalidValue("dpd_max", high, "a DPD range from 1 up", "逾期天数区间无效")
        if pre_due and owner != "inhouse":
            raise InvalidValue(
                "owner", owner, "inhouse for a pre-due queue", "预警预催队列应为内催"
            )
        with self.sessions.begin() as session:
            queue = session.scalar(select(CollectionQueue).where(CollectionQueue.code == code))
            before = None
            if queue is None:
                queue = CollectionQueue(code=code, rr_cursor=0)
                session.add(queue)
            else:
                before = {
                    "dpd_min": queue.dpd_min,
                    "dpd_max": queue.dpd_max,
                    "allocation": queue.allocation,
                    "owner": queue.owner,
                    "pre_due": queue.pre_due,
                }
            queue.name_zh, queue.name_en = body["name_zh"], body["name_en"]
            queue.dpd_min, queue.dpd_max = low, None if high is None else int(high)
            queue.product_code, queue.channel = body.get("product_code"), body.get("channel")
            queue.owner, queue.allocation = owner, method
            queue.capacity = int(body.get("capacity") or 100)
            queue.no_promise_days = body.get("no_promise_days")
            queue.priority, queue.active = (
                int(body.get("priority", 100)),
                bool(body.get("active", True)),
            )
            queue.pre_due = pre_due
            session.flush()
            session.execute(delete(QueueMember).where(QueueMember.queue_id == queue.id))
            for member in body.get("members") or []:
                staff_id, agency_id = member.get("staff_id"), member.get("agency_id")
                if owner == "agency":
                    if agency_id is None or session.get(Agency, agency_id) is None:
                        raise InvalidValue(
                            "members.agency_id", agency_id, "an agency", "应为委外机构"
                        )
                    staff_id = None
                else:
                    staff = session.get(StaffUser, staff_id) if staff_id is not None else None
                    if staff is None or staff.role != "collector":
                        raise InvalidValue(
                            "members.staff_id", staff_id, "a collector", "应为催收员"
                        )
                    if session.get(AgencyUser, staff.id) is not None:
                        raise InvalidValue(
                            "members.staff_id",
                            staff_id,
                            "an agency's user works the agency's cases",
                            "委外机构人员不能加入内催队列",
                        )
                    agency_id = None
                session.add(
                    QueueMember(
                        queue_id=queue.id,
                        staff_id=staff_id,
                        agency_id=agency_id,
                        weight=int(member.get("weight", 100)),
                        capacity=member.get("capacity"),
                        team=member.get("team"),
                    )
                )
            session.flush()
            self._audit(
                session,
                actor,
                "collection.queue",
                "collection_queue",
                code,
                {**body, "members": len(body.get("members") or [])},
                before,
            )
            return next(q for q in self.queues(session) if q["code"] == code)

    def allocate_now(self, *, actor: str) -> AllocationResult:
        with self.sessions.begin() as session:
            connection = session.connection()
            ctx = StepContext(
                connection, Dialect(connection.dialect), self._today(session), now=self.clock()
            )
            result = allocate(ctx, actor)
            self._audit(
                session, actor, "collection.allocate", "collection_queue", None, result.as_dict()
            )
            return result

    # ------------------------------------------------------------ plans, strategies, guardrails

    def reminder_plans(self, session: Session) -> list[dict[str, Any]]:
        return [
            {
                "offset_days": p.offset_days,
                "template_code": p.template_code,
                "active": p.active,
                "updated_by": p.updated_by,
                "updated_at": p.updated_at.isoformat(),
            }
            for p in session.scalars(select(ReminderPlan).order_by(ReminderPlan.offset_days))
        ]

    def put_reminder_plans(
        self, items: list[dict[str, Any]], *, actor: str
    ) -> list[dict[str, Any]]:
        with self.sessions.begin() as session:
            seen: set[int] = set()
            for item in items:
                offset = int(item["offset_days"])
                if not -30 <= offset <= 60 or offset in seen:
                    raise InvalidValue(
                        "offset_days", offset, "−30 … 60, each once", "应为 −30 至 60 且不重复"
                    )
                seen.add(offset)
                template = approved(session, str(item["template_code"]))
                if template is None or template.purpose not in ("reminder", "collection"):
                    raise InvalidValue(
                        "template_code",
                        item["template_code"],
                        "an approved reminder or collection template",
                        "应为已审批的提醒或催收模板",
                    )
            before = self.reminder_plans(session)
            session.execute(delete(ReminderPlan))
            for item in items:
                session.add(
                    ReminderPlan(
                        offset_days=int(item["offset_days"]),
                        template_code=str(item["template_code"]),
                        active=bool(item.get("active", True)),
                        updated_by=actor,
                        updated_at=self.clock(),
                    )
                )
            session.flush()
            self._audit(
                session,
                actor,
                "collection.reminder_plans",
                "collection_settings",
                "reminder_plans",
                {"plans": items},
                {"plans": before},
            )
            return self.reminder_plans(session)

    def put_strategies(self, value: dict[str, Any], *, actor: str) -> dict[str, Any]:
        checked = check_strategies(value)
        with self.sessions.begin() as session:
            before = load_strategies(session)
            save_setting(session, STRATEGIES_KEY, checked, actor=actor, now=self.clock())
            self._audit(
                session,
                actor,
                "collection.strategies",
                "collection_settings",
                STRATEGIES_KEY,
                checked,
                before,
            )
            return checked

    def put_guardrails(self, body: dict[str, Any], *, actor: str) -> dict[str, Any]:
        guardrails = guardrails_from(body)
        with self.sessions.begin() as session:
            before = guardrails_view(load_guardrails(session))
            save_setting(
                session, GUARDRAILS_KEY, guardrails_view(guardrails), actor=actor, now=self.clock()
            )
            self._audit(
                session,
                actor,
                "collection.guardrails",
                "collection_settings",
                GUARDRAILS_KEY,
                guardrails_view(guardrails),
                before,
            )
            return guardrails_view(guardrails)

    # ------------------------------------------------------------ load

    def load(self, session: Session) -> list[dict[str, Any]]:
        today = self._today(session)
        collectors = session.scalars(
            select(StaffUser)
            .where(StaffUser.role == "collector", StaffUser.active.is_(True))
            .order_by(StaffUser.id)
        ).all()
        agency_users = dict(
            session.execute(select(AgencyUser.staff_id, AgencyUser.agency_id)).all()
        )

        def per_staff(query: Any) -> dict[int, int]:
            return {int(k): int(v) for k, v in session.execute(query).all() if k is not None}

        open_cases = per_staff(
            select(CollectionCase.assignee_id, func.count())
            .where(CollectionCase.status == "open")
            .group_by(CollectionCase.assignee_id)
        )
        held = per_staff(
            select(CollectionCase.assignee_id, func.count())
            .where(CollectionCase.status == "open", CollectionCase.held_until >= today)
            .group_by(CollectionCase.assignee_id)
        )
        calls = per_staff(
            select(ContactAction.actor_id, func.count())
            .where(ContactAction.business_date == today, ContactAction.kind == "call")
            .group_by(ContactAction.actor_id)
        )
        connected = per_staff(
            select(ContactAction.actor_id, func.count())
            .where(
                ContactAction.business_date == today,
                ContactAction.kind == "call",
                ContactAction.connection == "connected",
            )
            .group_by(ContactAction.actor_id)
        )
        promises = per_staff(
            select(Promise.actor_id, func.count())
            .where(Promise.status == "pending")
            .group_by(Promise.actor_id)
        )
        capacity = {
            int(s or 0): int(c or 0)
            for s, c in session.execute(
                select(
                    QueueMember.staff_id,
                    func.max(func.coalesce(QueueMember.capacity, CollectionQueue.capacity)),
                )
                .join(CollectionQueue, CollectionQueue.id == QueueMember.queue_id)
                .where(QueueMember.staff_id.is_not(None))
                .group_by(QueueMember.staff_id)
            ).all()
        }
        teams = dict(
            session.execute(
                select(QueueMember.staff_id, func.max(QueueMember.team))
                .where(QueueMember.staff_id.is_not(None))
                .group_by(QueueMember.staff_id)
            ).all()
        )
        return [
            {
                "staff_id": s.id,
                "username": s.username,
                "team": teams.get(s.id),
                "agency_id": agency_users.get(s.id),
                "open_cases": open_cases.get(s.id, 0),
                "capacity": capacity.get(s.id),
                "held": held.get(s.id, 0),
                "calls_today": calls.get(s.id, 0),
                "connected_today": connected.get(s.id, 0),
                "promises_pending": promises.get(s.id, 0),
            }
            for s in collectors
        ]


__all__ = ["METHODS", "OWNERS", "Management"]
