"""`GET /approvals/mine` and `GET /approvals` on one loan (`loan_id`), as the loan page's
requests tab asks, on SQLite and PostgreSQL: only that loan's requests, the maker's own in
/mine and the checker's approvable ones in the inbox; a bad id is a 422."""

from __future__ import annotations

from xindai.money import format_yuan
from xindai.servicing.allocation import Component

from .console_support import (
    Console,
    console_fixture,  # noqa: F401
)


def ids(page: dict) -> list[int]:
    return [item["id"] for item in page["items"]]


def test_requests_filtered_by_loan(console: Console) -> None:
    c = console
    first, second = c.book(), c.book()
    c.close_days(20)  # both past due: penalty to waive
    c.give_case(second)  # the collector's own case: it may ask for a waiver on it
    requests: dict[int, list[int]] = {first: [], second: []}
    for loan_id, maker in ((first, "service"), (second, "service"), (second, "collector")):
        penalty = c.platform.loans.state(loan_id).installment(1).outstanding(Component.PENALTY)
        line = {"installment": 1, "component": "penalty", "amount": format_yuan(penalty // 2)}
        if maker == "collector":  # a second pending waiver on a loan is refused: withdraw first
            c.call("POST", f"/approvals/{requests[loan_id][0]}/withdraw", "service")
        submitted = c.call(
            "POST",
            f"/loans/{loan_id}/waivers",
            maker,
            201,
            json={"lines": [line], "reason": "客户投诉，核实后减免部分罚息"},
        )
        requests[loan_id].append(submitted["id"])

    mine_first = c.call("GET", f"/approvals/mine?loan_id={first}", "service")
    assert ids(mine_first) == requests[first] and mine_first["total"] == 1
    assert {item["loan_id"] for item in mine_first["items"]} == {first}
    mine_second = c.call("GET", f"/approvals/mine?loan_id={second}&sort=id", "service")
    assert ids(mine_second) == [requests[second][0]]  # the collector's is not mine
    assert mine_second["items"][0]["status"] == "withdrawn"
    pending = c.call("GET", f"/approvals/mine?loan_id={second}&status=pending", "service")
    assert ids(pending) == []
    everything = ids(c.call("GET", "/approvals/mine", "service"))
    assert set(requests[first]) | {requests[second][0]} <= set(everything)

    inbox = c.call("GET", f"/approvals?loan_id={second}", "finance")
    assert ids(inbox) == [requests[second][1]]  # pending, on that loan
    assert ids(c.call("GET", f"/approvals?loan_id={first}", "finance")) == requests[first]
    assert ids(c.call("GET", f"/approvals?loan_id={first + second + 1000}", "finance")) == []

    for bad in ("0", "-1", "x", str(2**63)):
        for path in ("/approvals/mine", "/approvals"):
            answer = c.client.get(
                f"/api/v1/admin{path}", params={"loan_id": bad}, headers=c.auth("finance")
            )
            assert answer.status_code == 422, (path, bad, answer.text)
            assert answer.json()["code"] == "VALIDATION_ERROR"
