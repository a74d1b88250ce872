"""Collections in close of business, on SQLite and PostgreSQL with the SMS simulator: the
reminders of a plan go out (D-3 … D+3) with delivery receipts and a borrower who paid is
not reminded; a case opens at DPD 1, is allocated in its queue and logged; promises are
judged; a cured loan closes its case."""

from __future__ import annotations

from sqlalchemy import select, text
from tests.collections.support import Desk, desk_fixture  # noqa: F401

from xindai.store.models_collections import (
    Assignment,
    CollectionCase,
    CollectionQueue,
    QueueMember,
    Reminder,
)


def _members(desk: Desk, queue: str, *usernames: str) -> None:
    ids = [desk.staff_id(name) for name in usernames]
    with desk.platform.sessions.begin() as session:
        q = session.scalar(select(CollectionQueue).where(CollectionQueue.code == queue))
        assert q is not None
        for staff_id in ids:
            session.add(QueueMember(queue_id=q.id, staff_id=staff_id, weight=100))


def test_reminders_cases_and_allocation(desk: Desk) -> None:
    _members(desk, "M1", "col1", "col2")
    overdue = desk.book()
    paid = desk.book()
    desk.close_days(12)  # due on day 14: D-3 is the close of day 11
    desk.platform.loans.repay(
        paid,
        200_000,
        value_date=desk.business_date(),
        channel="offline",
        external_ref="RP-1",
        actor="test",
    )
    desk.close_days(7)
    with desk.platform.reads() as session:
        sent = session.scalars(select(Reminder).order_by(Reminder.id)).all()
        by_loan = {(r.loan_id, r.offset_days): r.status for r in sent}
        cases = session.scalars(select(CollectionCase)).all()
        logged = session.scalars(select(Assignment)).all()
    assert {k[1] for k in by_loan if k[0] == overdue} == {-3, -1, 0, 1, 3}
    assert {k[1] for k in by_loan if k[0] == paid} == {-3}
    assert set(by_loan.values()) == {"delivered"}
    outbox = desk.sim.control.outbox()
    assert sum(1 for m in outbox if m["template_code"] == "OVERDUE_NOTICE") >= 2
    assert [c.loan_id for c in cases] == [overdue]
    assert cases[0].assignee_id in (desk.staff_id("col1"), desk.staff_id("col2"))
    assert [a.reason for a in logged] == ["opened"]
    if desk.backend != "sqlite":
        # close of business analysed the case tables it grew (autovacuum comes much later:
        # the next day's steps would plan against an empty table), reltuples -1 = never
        with desk.platform.reads() as session:
            known = dict(
                session.execute(
                    text(
                        "SELECT relname, reltuples FROM pg_class WHERE relname IN"
                        " ('collection_cases', 'collection_assignments')"
                    )
                ).all()
            )
        assert known == {"collection_cases": 1, "collection_assignments": 1}
