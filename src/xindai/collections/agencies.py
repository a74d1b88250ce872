"""Collection agencies (委外机构): their records and commission terms, their users (collectors
who then see only the agency's cases), and the recall of a placement before its window
ends. Every change audited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import case, delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from xindai.cob.sql import Dialect
from xindai.collections.allocation import commission_fen
from xindai.collections.cases_cob import _paid_since
from xindai.errors import InvalidValue, XindaiError
from xindai.money import format_percent, format_yuan, parse_rate
from xindai.security import audit
from xindai.store import repository as repo
from xindai.store.models_collections import (
    Agency,
    AgencyUser,
    CollectionCase,
    Placement,
    QueueMember,
)
from xindai.store.models_origination import StaffUser


class AgencyExists(XindaiError):
    code = "COLLECTION_AGENCY_EXISTS"
    http_status = 409

    def __init__(self, code: str) -> None:
        super().__init__(f"an agency {code} exists already", f"委外机构代码 {code} 已存在")


@dataclass
class AgencyDesk:
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
    ) -> None:
        audit.record(
            session,
            actor=actor,
            action=action,
            resource=resource,
            resource_id=key,
            after=after,
            at=self.clock(),
            unmasked=("name",),
        )

    def agencies(self, session: Session) -> list[dict[str, Any]]:
        users: dict[int, list[dict[str, Any]]] = {}
        for agency_id, staff_id, username in session.execute(
            select(AgencyUser.agency_id, StaffUser.id, StaffUser.username).join(
                StaffUser, StaffUser.id == AgencyUser.staff_id
            )
        ):
            users.setdefault(int(agency_id), []).append({"id": staff_id, "username": username})
        totals = {
            int(a): (int(n or 0), int(r or 0), int(c or 0))
            for a, n, r, c in session.execute(
                select(
                    Placement.agency_id,
                    func.sum(case((Placement.status == "active", 1), else_=0)),
                    func.sum(Placement.recovered_fen),
                    func.sum(Placement.commission_fen),
                ).group_by(Placement.agency_id)
            ).all()
        }
        return [
            {
                "id": a.id,
                "code": a.code,
                "name": a.name,
                "commission_rate": format_percent(Decimal(a.commission_rate)),
                "window_days": a.window_days,
                "active": a.active,
                "users": users.get(a.id, []),
                "active_placements": totals.get(a.id, (0, 0, 0))[0],
                "recovered": format_yuan(totals.get(a.id, (0, 0, 0))[1]),
                "commission": format_yuan(totals.get(a.id, (0, 0, 0))[2]),
            }
            for a in session.scalars(select(Agency).order_by(Agency.id))
        ]

    def save_agency(
        self, body: dict[str, Any], *, actor: str, agency_id: int | None = None
    ) -> dict[str, Any]:
        rate = parse_rate(str(body["commission_rate"]), field="commission_rate")
        if not Decimal(0) <= rate <= Decimal("0.5"):
            raise InvalidValue("commission_rate", body["commission_rate"], "0–50 %", "应为 0–50%")
        window = int(body.get("window_days", 30))
        if not 1 <= window <= 365:
            raise InvalidValue("window_days", window, "1–365", "应为 1–365 天")
        with self.sessions.begin() as session:
            if agency_id is None:
                taken = session.scalar(select(Agency.id).where(Agency.code == body["code"]))
                if taken is not None:
                    raise AgencyExists(body["code"])
                agency = Agency(code=body["code"], created_at=self.clock(), active=True)
                session.add(agency)
            else:
                found = session.get(Agency, agency_id)
                if found is None:
                    raise repo.NotFound(
                        f"agency {agency_id} not found", f"委外机构 {agency_id} 不存在"
                    )
                agency = found
                agency.active = bool(body.get("active", agency.active))
            agency.name, agency.commission_rate, agency.window_days = (
                body["name"],
                str(rate),
                window,
            )
            session.flush()
            self._audit(
                session,
                actor,
                "collection.agency",
                "collection_agency",
                agency.id,
                {
                    "code": agency.code,
                    "name": agency.name,
                    "rate": str(rate),
                    "window_days": window,
                    "active": agency.active,
                },
            )
            return next(a for a in self.agencies(session) if a["id"] == agency.id)

    def link_user(
        self, agency_id: int, staff_id: int, *, actor: str, link: bool = True
    ) -> dict[str, Any]:
        with self.sessions.begin() as session:
            if session.get(Agency, agency_id) is None:
                raise repo.NotFound(f"agency {agency_id} not found", f"委外机构 {agency_id} 不存在")
            staff = session.get(StaffUser, staff_id)
            if staff is None or staff.role != "collector":
                raise InvalidValue("staff_id", staff_id, "a collector", "应为催收员")
            existing = session.get(AgencyUser, staff_id)
            if link:
                if existing is not None and existing.agency_id != agency_id:
                    raise InvalidValue(
                        "staff_id", staff_id, "already another agency's user", "已属于其他委外机构"
                    )
                if existing is None:
                    session.add(AgencyUser(staff_id=staff_id, agency_id=agency_id))
                session.execute(delete(QueueMember).where(QueueMember.staff_id == staff_id))
            elif existing is not None and existing.agency_id == agency_id:
                session.delete(existing)
            session.flush()
            self._audit(
                session,
                actor,
                "collection.agency_user",
                "collection_agency",
                agency_id,
                {"staff_id": staff_id, "linked": link},
            )
            return next(a for a in self.agencies(session) if a["id"] == agency_id)

    def recall(self, placement_id: int, *, actor: str) -> Placement:
        """Recall a placement before its window ends (what it recovered so far is its)."""
        with self.sessions.begin() as session:
            placement = session.get(Placement, placement_id, with_for_update=True)
            if placement is None:
                raise repo.NotFound(
                    f"placement {placement_id} not found", f"委外记录 {placement_id} 不存在"
                )
            if placement.status != "active":
                raise InvalidValue(
                    "placement", placement_id, f"is {placement.status}", "委外记录不是进行中"
                )
            today = self._today(session)
            connection = session.connection()
            dialect = Dialect(connection.dialect)
            paid = connection.execute(
                text(_paid_since(":placed", ":loan")),
                {
                    "placed": dialect.date_param(placement.placed_on),
                    "loan": placement.loan_id,
                    "d": dialect.date_param(today),
                    "false": False,
                },
            ).scalar()
            placement.recovered_fen = int(paid or 0)
            placement.commission_fen = commission_fen(
                placement.recovered_fen, placement.commission_rate
            )
            placement.status, placement.recalled_on = "recalled", today
            found = session.get(CollectionCase, placement.case_id)
            if found is not None and found.placement_id == placement.id:
                found.agency_id, found.placement_id = None, None
                found.requeue, found.requeue_reason = found.status == "open", "recall"
            self._audit(
                session,
                actor,
                "collection.recall",
                "collection_placement",
                placement.id,
                {"recovered_fen": placement.recovered_fen},
            )
            session.flush()
            session.expunge(placement)
            return placement


__all__ = ["AgencyDesk", "AgencyExists"]
