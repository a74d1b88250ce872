"""The workbench's reads stay few, on SQLite and PostgreSQL (issue 13): a case detail reads
each table once (at most 12 statements, whatever the case holds: calls, a promise, its
assignment), and a guardrail check before a call is one statement. Counts, not timings
(the speed is `xindai bench collections`'s)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from tests.collections.support import Desk, desk_fixture  # noqa: F401

from xindai.collections.config import Guardrails
from xindai.collections.guardrails import DebtorClock, GuardrailRefused, check_contact
from xindai.collections.scope import CaseScope
from xindai.collections.service import Workbench
from xindai.collections.skiptrace import RankedContact, contacts_of

MAX_DETAIL_STATEMENTS = 12


@contextmanager
def statements(desk: Desk) -> Iterator[list[str]]:
    """The SQL statements the platform's engine runs inside the block."""
    engine = desk.platform.sessions.kw["bind"]
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _worked_case(d: Desk) -> dict[str, Any]:
    """An overdue case of col3 with three calls and a pending promise."""
    d.early_queue("col3")
    loan = d.book()
    d.close_days(18)
    case = d.call("GET", f"/cases?q={loan}&status=all", "ops")["items"][0]
    day = d.business_date()
    d.clock.at = datetime(day.year, day.month, day.day, 10)
    path = f"/cases/{case['id']}/calls"
    d.call("POST", path, "col3", 201, json={"contact": "borrower", "connection": "no_answer"})
    d.call("POST", path, "col3", 201, json={"contact": "contact:1", "connection": "busy"})
    d.call(
        "POST",
        path,
        "col3",
        201,
        json={
            "contact": "borrower",
            "connection": "connected",
            "party": "self",
            "result": "promise",
            "promise": {"amount": "300.00", "promised_on": (day + timedelta(days=2)).isoformat()},
        },
    )
    return dict(case)


def test_case_detail_reads_each_table_once(desk: Desk) -> None:
    d = desk
    case = _worked_case(d)
    bench = Workbench(d.platform.sessions, d.platform.cipher, d.clock)
    with d.platform.reads() as session, statements(d) as seen:
        detail = bench.detail(session, CaseScope(None, None, 0, "test"), case["id"])
    assert len(seen) <= MAX_DETAIL_STATEMENTS, "\n".join(seen)
    # what was read once still shows everything
    assert detail["case"]["promise"]["amount"] == "300.00"
    assert detail["case"]["assignee"] == "col3" and detail["case"]["queue"] == "M1"
    assert [p["actor"] for p in detail["promises"]] == ["col3"]
    assert len(detail["history"]) == 3 and detail["history"][0]["promise"] is not None
    assert detail["guardrails"]["connected_today"] == 1
    assert [c["attempts_today"] for c in detail["contacts"] if c["ref"] == "borrower"] == [2]
    assert detail["assignments"][0]["to_staff"] == "col3"
    assert detail == d.call("GET", f"/cases/{case['id']}", "col3")  # the API's answer


def test_a_guardrail_check_is_one_statement(desk: Desk) -> None:
    d = desk
    case = d.call("GET", "/cases?status=open", "col3")["items"][0]
    day = d.business_date()
    clock = DebtorClock(datetime(day.year, day.month, day.day, 11), 8)
    with d.platform.reads() as session:
        ranked = contacts_of(session, d.platform.cipher, case["borrower_id"], day)
        own = next(c for c in ranked if c.ref == "borrower")
        friend = next(c for c in ranked if c.party == "unrelated")

        def check(contact: RankedContact) -> None:
            check_contact(
                session,
                kind="call",
                guardrails=Guardrails(),
                clock=clock,
                borrower_id=case["borrower_id"],
                contact=contact,
                own_number=own,
            )

        with statements(d) as seen:
            check(own)  # the day's counts: debtor connected, the number's attempts
        assert len(seen) == 1, seen
        with statements(d) as seen, pytest.raises(GuardrailRefused) as refused:
            check(friend)  # ever refused, then the day's counts: the debtor answered today
        assert refused.value.code == "COLLECTION_THIRD_PARTY" and len(seen) == 2, seen
