"""Collection reports whose figures the scenario fixes, on SQLite and PostgreSQL: the
champion / challenger outcomes by strategy × cell (cure, roll and recovery rates of the cases
that entered in a period) through the API and `xindai collections kpi --cells`, and the
recovered amount of the KPIs credited to whoever held the case when the money came in (a
case re-assigned between two payments, another placed with an agency between two)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from tests.collections.support import Desk, desk_fixture  # noqa: F401
from typer.testing import CliRunner

from xindai.cli import app
from xindai.money import format_percent, format_yuan, parse_yuan
from xindai.store.models import Loan


def _loan(desk: Desk, loan_id: int) -> Loan:
    with desk.platform.reads() as session:
        loan = session.get(Loan, loan_id)
        assert loan is not None
        session.expunge(loan)
        return loan


def _case(desk: Desk, loan_id: int) -> dict:
    page = desk.call("GET", f"/cases?q={loan_id}&status=all", "ops")
    assert page["total"] == 1, page
    case: dict = page["items"][0]
    return case


def _rate(part: int, whole: int) -> str:
    return format_percent(Decimal(part) / Decimal(whole))


def _pay(desk: Desk, loan_id: int, fen: int, ref: str) -> None:
    desk.platform.loans.repay(loan_id, fen, channel="offline", external_ref=ref, actor="test")


def test_outcomes_by_cell_and_recovered_credited_to_the_holder(desk: Desk) -> None:
    d = desk
    col1, col2 = d.staff_id("col1"), d.staff_id("col2")
    agency = d.call(
        "POST",
        "/agencies",
        "ops",
        201,
        json={"code": "cells_a", "name": "甲", "commission_rate": "10%"},
    )
    queue = {"dpd_max": 30, "owner": "inhouse", "allocation": "round_robin"}
    d.call(  # M1: col1 alone, no re-allocation for want of a promise
        "PUT",
        "/queues/M1",
        "ops",
        json={
            **queue,
            "name_zh": "M1",
            "name_en": "M1",
            "dpd_min": 1,
            "members": [{"staff_id": col1}],
        },
    )
    d.call(  # M2-M3 placed with the agency
        "PUT",
        "/queues/M2M3",
        "ops",
        json={
            "name_zh": "M2-M3",
            "name_en": "M2-M3",
            "dpd_min": 31,
            "dpd_max": 90,
            "owner": "agency",
            "allocation": "performance",
            "members": [{"agency_id": agency["id"]}],
        },
    )
    strategies = d.call("GET", "/strategies", "ops")
    assert {"code": "offer_restructure", "zh": "提供债务重组", "en": "offer a restructure"} in (
        strategies["catalog"]
    )
    strategies["challenger"] = {"share_percent": 50, "quadrants": {"II": ["offer_restructure"]}}
    saved = d.call("PUT", "/strategies", "ops", json=strategies)  # the catalogue is not stored
    assert saved["challenger"]["share_percent"] == 50 and saved["catalog"] == strategies["catalog"]

    loans = [d.book() for _ in range(4)]
    d.close_days(18)
    entered = d.business_date() - timedelta(days=1)
    cases = {loan: _case(d, loan) for loan in loans}
    assert {c["opened_on"] for c in cases.values()} == {entered.isoformat()}
    assert {c["assignee"] for c in cases.values()} == {"col1"}
    cell = {loan: cases[loan]["test_cell"] for loan in loans}
    challengers = sorted(loan for loan in loans if cell[loan] == "challenger")
    champions = sorted(loan for loan in loans if cell[loan] == "champion")
    assert len(challengers) == len(champions) == 2, cell  # (loan id × 7919) % 100 < 50
    a, b = challengers
    c, e = champions
    balance = {
        loan: parse_yuan(
            d.client.get(f"/api/v1/admin/loans/{loan}", headers=d.auth("ops")).json()["balances"][
                "total"
            ]
        )
        for loan in loans
    }
    for loan in (a, c):  # willing, unable: quadrant II (the challenger has its own actions)
        tagged = d.call(
            "POST",
            f"/cases/{cases[loan]['id']}/quadrant",
            "col1",
            json={"willing": True, "able": False},
        )
        expected = (
            ["offer_restructure"]
            if loan == a
            else ["offer_extension", "offer_deferral", "offer_restructure"]
        )
        assert [x["code"] for x in tagged["actions"]] == expected

    # a settles at once; b pays 50.00 to col1, is re-assigned to col2, then settles with col2
    paid_a = d.platform.loans.quote_payoff(a).total_fen
    _pay(d, a, paid_a, "RP-A")
    _pay(d, b, 5_000, "RP-B1")
    _pay(d, e, 10_000, "RP-E1")  # e pays 100.00 to col1 while in M1
    d.close_days(1)
    d.call(
        "POST", f"/cases/{cases[b]['id']}/assign", "ops", json={"staff_id": col2, "reason": "调整"}
    )
    d.close_days(1)
    rest_b = d.platform.loans.quote_payoff(b).total_fen
    _pay(d, b, rest_b, "RP-B2")
    # c and e roll into M2 at DPD 31 and are placed with the agency; e pays 30.00 to it
    while _loan(d, c).dpd < 31:
        d.close_days(1)
    assert _case(d, e)["agency"] == "甲" and _case(d, c)["agency"] == "甲"
    _pay(d, e, 3_000, "RP-E2")
    d.close_days(1)
    end = d.business_date()
    assert _case(d, a)["close_reason"] == "settled" and _case(d, b)["close_reason"] == "settled"

    period = {"date_from": entered.isoformat(), "date_to": end.isoformat()}
    report = d.call("GET", "/strategies/outcomes", "ops", params=period)
    rows = {(r["strategy"], r["cell"]): r for r in report["items"]}
    assert list(rows) == [
        ("II", "champion"),
        ("II", "challenger"),
        ("stage", "champion"),
        ("stage", "challenger"),
    ]
    assert rows[("II", "challenger")]["strategy_zh"] == "有意愿无能力"
    for key, loan, cured, rolled, recovered in (
        (("II", "challenger"), a, 1, 0, paid_a),
        (("stage", "challenger"), b, 1, 0, 5_000 + rest_b),
        (("II", "champion"), c, 0, 1, 0),
        (("stage", "champion"), e, 0, 1, 13_000),
    ):
        row = rows[key]
        assert (row["cases"], row["cured"], row["rolled"]) == (1, cured, rolled), key
        assert row["recovered"] == format_yuan(recovered), key
        assert row["balance_at_entry"] == format_yuan(balance[loan]), key
        assert row["recovery_rate"] == _rate(recovered, balance[loan]), key
    totals = {r["cell"]: r for r in report["cells"]}
    champion, challenger = totals["champion"], totals["challenger"]
    assert (challenger["cure_rate"], challenger["roll_rate"]) == ("100.00%", "0.00%")
    assert (champion["cure_rate"], champion["roll_rate"]) == ("0.00%", "100.00%")
    assert challenger["recovery_rate"] == _rate(paid_a + 5_000 + rest_b, balance[a] + balance[b])
    assert champion["recovery_rate"] == _rate(13_000, balance[c] + balance[e])
    assert report["share_percent"] == 50
    before = {"date_from": "2026-01-01", "date_to": (entered - timedelta(days=1)).isoformat()}
    empty = d.call("GET", "/strategies/outcomes", "ops", params=before)
    assert empty["items"] == [] and [r["cases"] for r in empty["cells"]] == [0, 0]
    d.refused("GET", "/strategies/outcomes", "col1", 403, "PERMISSION_DENIED")
    d.refused(
        "GET",
        "/strategies/outcomes",
        "ops",
        400,
        "INVALID_VALUE",
        params={"date_from": end.isoformat(), "date_to": entered.isoformat()},
    )
    _cli_prints_the_same_outcomes(d, report, entered, end)

    # the KPIs credit each payment to whoever held the case on its date (the assignment log)
    recovered = {
        level: {
            r["name"]: r["recovered"]
            for r in d.call("GET", "/kpis", "ops", params={**period, "level": level})["items"]
        }
        for level in ("collector", "agency", "queue")
    }
    assert recovered["collector"]["col1"] == format_yuan(paid_a + 5_000 + 10_000)
    assert recovered["collector"]["col2"] == format_yuan(rest_b)
    assert recovered["agency"]["甲"] == format_yuan(3_000)
    assert recovered["queue"]["M1"] == format_yuan(paid_a + 5_000 + rest_b + 10_000)
    assert recovered["queue"]["M2M3"] == format_yuan(3_000)


def _cli_prints_the_same_outcomes(desk: Desk, report: dict, first: date, last: date) -> None:
    runner = CliRunner()
    args = ["collections", "kpi", "--cells", "--from", first.isoformat(), "--to", last.isoformat()]
    answer = runner.invoke(app, [*args, "--json", "-d", desk.database_url])
    assert answer.exit_code == 0, answer.output
    assert json.loads(answer.output) == report
    table = runner.invoke(app, [*args, "-d", desk.database_url])
    assert table.exit_code == 0, table.output
    assert "冠军挑战者" in table.output and report["cells"][1]["cure_rate"] in table.output
