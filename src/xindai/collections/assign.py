"""A manager's assignment of a case by hand (手工分案): to a collector, or placed with an
agency for its window; the earlier placement recalled; logged and audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from xindai.collections.guardrails import GuardrailRefused
from xindai.collections.views import case_rows
from xindai.errors import InvalidValue
from xindai.security import audit
from xindai.store import repository as repo
from xindai.store.models_collections import Agency, Assignment, CollectionCase, Placement
from xindai.store.models_origination import StaffUser


def assign_case(
    sessions: sessionmaker[Session],
    clock: Callable[[], datetime],
    actor: str,
    case_id: int,
    *,
    staff_id: int | None,
    agency_id: int | None,
    reason: str,
) -> dict[str, Any]:
    """Assign open case `case_id` to collector `staff_id` or place it with `agency_id`."""
    if (staff_id is None) == (agency_id is None):
        raise InvalidValue(
            "staff_id", staff_id, "give a collector or an agency", "请指定催收员或委外机构"
        )
    with sessions.begin() as session:
        case = session.get(CollectionCase, case_id, with_for_update=True)
        if case is None:
            raise repo.NotFound(
                f"collection case {case_id} not found", f"催收案件 {case_id} 不存在"
            )
        if case.status != "open":
            raise GuardrailRefused("COLLECTION_CASE_CLOSED", "the case is closed", "案件已结案")
        today = repo.get_business_date(session) or clock().date()
        before = (case.assignee_id, case.agency_id)
        if case.placement_id is not None:
            placement = session.get(Placement, case.placement_id)
            if placement is not None and placement.status == "active":
                placement.status, placement.recalled_on = "recalled", today
        case.placement_id = None
        if staff_id is not None:
            staff = session.get(StaffUser, staff_id)
            if staff is None or not staff.active or staff.role != "collector":
                raise InvalidValue(
                    "staff_id", staff_id, "not an active collector", "不是在职催收员"
                )
            case.assignee_id, case.agency_id = staff_id, None
        else:
            agency = session.get(Agency, agency_id)
            if agency is None or not agency.active:
                raise InvalidValue(
                    "agency_id", agency_id, "not an active agency", "不是有效的委外机构"
                )
            placement = Placement(
                agency_id=agency.id,
                case_id=case.id,
                loan_id=case.loan_id,
                placed_on=today,
                window_end=today + timedelta(days=agency.window_days),
                status="active",
                balance_at_placement_fen=case.overdue_fen,
                recovered_fen=0,
                commission_rate=agency.commission_rate,
                commission_fen=0,
            )
            session.add(placement)
            session.flush()
            case.assignee_id, case.agency_id, case.placement_id = None, agency.id, placement.id
        case.assigned_on, case.requeue, case.requeue_reason = today, False, None
        session.add(
            Assignment(
                case_id=case.id,
                loan_id=case.loan_id,
                at=clock(),
                business_date=today,
                queue_id=case.queue_id,
                from_staff=before[0],
                to_staff=case.assignee_id,
                from_agency=before[1],
                to_agency=case.agency_id,
                reason="manual",
                actor=actor,
            )
        )
        audit.record(
            session,
            actor=actor,
            action="collection.assign",
            resource="collection_case",
            resource_id=case.id,
            before={"staff": before[0], "agency": before[1]},
            after={"staff": case.assignee_id, "agency": case.agency_id, "reason": reason},
            at=clock(),
        )
        return case_rows(session, [case])[0]


__all__ = ["assign_case"]
