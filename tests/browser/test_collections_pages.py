"""The collections pages in headless Chromium against the real server and simulators: an
operations manager changes the M1 queue's allocation rule and its members on 队列与分案 and
allocates now, and the overdue case lands with the collector; the collector works it on
催收工作台 — next case, a pre-dial check and a call refused in quiet hours (the server's code
and message on screen, nothing logged), calls logged in three dimensions, a promise made on
the call, the fourth connected call of the day refused by the cap, an offer (deferral)
submitted for approval that waits in finance's inbox, the promise in the history, an SMS
from the templates the server offers, a field visit with a colleague picked by name —, the
champion / challenger outcomes on 催收策略, and the case on a 390 px phone.
Every collections page is photographed (tests/browser/artifacts/collections/)."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import pytest

from .conftest import PASSWORD, Stack, Watch, settle, shot_path, sign_in

pytestmark = pytest.mark.e2e
CONFIRM = ".el-message-box__btns .el-button--primary"
COLL = "/api/v1/admin/collections"
CALLS_AT_LEAST = (
    'n => document.querySelectorAll(\'[data-test="history"] [data-kind="call"]\').length >= n'
)
PAGES = [
    "collections/cases",
    "collections/queues",
    "collections/agencies",
    "collections/strategies",
    "collections/guardrails",
    "collections/reminders",
    "collections/load",
    "collections/kpis",
]


def shot(page: Any, name: str) -> None:
    page.screenshot(path=shot_path("collections", name), full_page=True)


def signed_in(context: Any, stack: Stack, username: str) -> Any:
    page = context.new_page()
    sign_in(page, stack, username)
    return page


def close_business(stack: Stack, days: int) -> None:
    """Close `days` business days through the admin API (no withholding: nobody pays)."""
    ops = stack.auth("ops")
    today = date.fromisoformat(stack.me("ops")["business_date"])
    until = (today + timedelta(days=days - 1)).isoformat()
    run = stack.ok(
        stack.api.post(
            "/api/v1/admin/cob/runs", headers=ops, json={"until": until, "withholding": False}
        ),
        202,
    )
    deadline = time.monotonic() + 240
    path = f"/api/v1/admin/cob/runs/{run['id']}"
    while (view := stack.ok(stack.api.get(path, headers=ops)))["status"] == "running":
        assert time.monotonic() < deadline, view
        time.sleep(0.5)
    assert view["status"] == "done", view


def quiet_hours(stack: Stack, case_id: int, *, now: bool) -> None:
    """Operations sets the quiet hours (the guardrails' configuration) to cover the debtor's
    present hour or to leave the next hours free, so that the test does not depend on the
    time of day it runs at."""
    ops = stack.auth("ops")
    detail = stack.ok(stack.api.get(f"{COLL}/cases/{case_id}", headers=ops))
    hour = int(detail["guardrails"]["local_time"][11:13])
    start, end = ((hour - 1) % 24, (hour + 2) % 24) if now else ((hour + 3) % 24, (hour + 4) % 24)
    config = stack.ok(stack.api.get(f"{COLL}/guardrails", headers=ops))
    config.update(quiet_start=f"{start:02d}:00", quiet_end=f"{end:02d}:00")
    stack.ok(stack.api.put(f"{COLL}/guardrails", headers=ops, json=config))
    detail = stack.ok(stack.api.get(f"{COLL}/cases/{case_id}", headers=ops))
    assert detail["guardrails"]["quiet_now"] is now, detail["guardrails"]


@pytest.fixture(scope="module")
def overdue_case(stack: Stack) -> dict[str, Any]:
    """A 14-day loan nobody repays, closed past its due date: its collection case is open
    (DPD ≥ 1) in the M1 queue. The debtor's quiet hours are moved off the present hour."""
    loan_id = stack.borrower_with_a_loan(
        "13712340071", seed=71, product="CASH14", amount="1000", term=14
    )
    close_business(stack, 20)
    page = stack.ok(
        stack.api.get(f"{COLL}/cases", headers=stack.auth("ops"), params={"q": loan_id})
    )
    assert page["total"] == 1, page
    case = page["items"][0]
    assert case["status"] == "open" and case["dpd"] >= 1 and case["queue"] == "M1", case
    quiet_hours(stack, case["id"], now=False)
    return case


def assigned_to_collector(stack: Stack, case_id: int) -> dict[str, Any]:
    """The case, allocated to the collector (through the API when the manager's test did not
    run first)."""
    ops = stack.auth("ops")
    case = stack.ok(stack.api.get(f"{COLL}/cases/{case_id}", headers=ops))["case"]
    if case["assignee"] != "collector":
        collector = stack.me("collector")["id"]
        stack.ok(
            stack.api.post(
                f"{COLL}/cases/{case_id}/assign",
                headers=ops,
                json={"staff_id": collector, "reason": "browser test"},
            )
        )
        case = stack.ok(stack.api.get(f"{COLL}/cases/{case_id}", headers=ops))["case"]
    assert case["assignee"] == "collector", case
    return case


def test_a_manager_changes_an_allocation_rule_and_the_case_reaches_the_collector(
    stack: Stack, context: Any, overdue_case: dict[str, Any]
) -> None:
    page = signed_in(context, stack, "ops")
    watch = Watch(page)
    page.goto(f"{stack.console}collections/queues")
    page.wait_for_selector('[data-test="queue-table"] .el-table__row')
    settle(page)
    shot(page, "manager-01-queues")
    page.click('[data-edit="M1"]')
    form = page.locator('[data-test="queue-form"]')
    form.wait_for()
    form.locator('[data-test="q-allocation"] [data-value="capacity"]').click()
    form.get_by_role("button", name="添加成员").click()
    member = form.locator('[data-test="q-member"]').last
    member.locator(".el-select").click()
    page.locator(
        ".el-select-dropdown:visible .el-select-dropdown__item", has_text="collector"
    ).first.click()
    shot(page, "manager-02-edit-m1")
    page.click('[data-test="q-save"]')
    page.wait_for_selector('[data-test="queue-form"]', state="hidden")
    row = page.locator('[data-test="queue-table"] .el-table__row', has_text="M1").first
    assert "按容量" in row.inner_text()
    assert "collector" in row.inner_text()
    page.click('[data-test="allocate"]')
    page.click(CONFIRM)
    page.wait_for_selector(".el-message--success")
    settle(page)
    shot(page, "manager-03-allocated")

    m1 = next(
        q
        for q in stack.ok(stack.api.get(f"{COLL}/queues", headers=stack.auth("ops")))["items"]
        if q["code"] == "M1"
    )
    assert m1["allocation"] == "capacity", m1
    assert "collector" in [m["name"] for m in m1["members"]], m1
    case = stack.ok(stack.api.get(f"{COLL}/cases/{overdue_case['id']}", headers=stack.auth("ops")))[
        "case"
    ]
    assert case["assignee"] == "collector", case
    log = stack.ok(
        stack.api.get(
            f"{COLL}/assignments",
            headers=stack.auth("ops"),
            params={"case_id": overdue_case["id"]},
        )
    )
    assert any(a["to_staff"] == "collector" for a in log["items"]), log

    # an agency is added on 委外机构 (commission on what it recovers inside its window)
    page.goto(f"{stack.console}collections/agencies")
    settle(page)
    page.click('[data-test="new-agency"]')
    page.fill('input[data-test="a-code"]', "agency_east")
    page.fill('input[data-test="a-name"]', "华东催收服务公司")
    page.fill('input[data-test="a-rate"]', "12%")
    page.click('[data-test="a-save"]')
    page.wait_for_selector('[data-test="agency-table"] .el-table__row >> text=华东催收服务公司')
    agencies = stack.ok(stack.api.get(f"{COLL}/agencies", headers=stack.auth("ops")))["items"]
    assert [(a["code"], a["commission_rate"]) for a in agencies] == [("agency_east", "12.00%")]

    # 催收策略: champion / challenger outcomes of the cases that entered, table and chart
    page.goto(f"{stack.console}collections/strategies")
    page.wait_for_selector('[data-test="outcomes-table"] .el-table__row')
    settle(page)
    table = page.locator('[data-test="outcomes-table"]').inner_text()
    assert "治愈率" in table and "冠军" in table and "合计" in table, table
    assert page.locator('[data-chart="champion-challenger"] canvas').count() == 1
    page.locator('[data-test="outcomes"]').screenshot(
        path=shot_path("collections", "manager-04-strategy-outcomes")
    )
    page.locator('[data-chart="champion-challenger"] [data-test="chart-table"]').click()
    rates = page.locator('[data-chart="champion-challenger"] .el-table').inner_text()
    assert "回收率" in rates and "挑战者" in rates, rates

    # every manager page opens without an error, photographed
    for path in PAGES:
        watch.reset()
        page.goto(f"{stack.console}{path}")
        settle(page)
        assert not page.locator('[data-test="error-state"]').count(), path
        assert watch.errors == [] and watch.failed == [], (path, watch.errors, watch.failed)
        shot(page, f"manager-page-{path.replace('/', '_')}")
    page.goto(f"{stack.console}collections/cases/{overdue_case['id']}")
    page.wait_for_selector('[data-test="case-summary"]')
    settle(page)
    shot(page, "manager-case-read-only")


def colleague_in_m1(stack: Stack) -> None:
    """A second collector (collector2) working the M1 queue beside the collector: the one a
    field visit may take along."""
    admin, ops = stack.auth("admin"), stack.auth("ops")
    body = {"username": "collector2", "password": PASSWORD, "role": "collector"}
    stack.ok(stack.api.post("/api/v1/admin/staff", headers=admin, json=body), 201)
    queues = stack.ok(stack.api.get(f"{COLL}/queues", headers=ops))["items"]
    m1 = next(q for q in queues if q["code"] == "M1")
    ids = {m["staff_id"] for m in m1["members"]}
    wanted = {stack.me("collector")["id"], stack.me("collector2")["id"]}
    if not wanted <= ids:
        members = [
            {k: m[k] for k in ("staff_id", "agency_id", "weight", "capacity")}
            for m in m1["members"]
        ] + [{"staff_id": i} for i in sorted(wanted - ids)]
        fields = {k: v for k, v in m1.items() if k not in ("code", "open_cases", "unassigned")}
        stack.ok(
            stack.api.put(f"{COLL}/queues/M1", headers=ops, json={**fields, "members": members})
        )


def test_a_collector_works_a_case_in_the_workbench(
    stack: Stack, context: Any, browser: Any, overdue_case: dict[str, Any]
) -> None:
    case_id = overdue_case["id"]
    assigned_to_collector(stack, case_id)
    colleague_in_m1(stack)
    collector = stack.auth("collector")
    page = signed_in(context, stack, "collector")
    watch = Watch(page)
    page.goto(f"{stack.console}collections/workbench")
    page.wait_for_selector(f'[data-case="{case_id}"]')
    settle(page)
    shot(page, "collector-01-queue")
    page.click('[data-test="workbench"] [data-test="next-case"]')
    page.wait_for_selector('[data-test="case-summary"]')
    assert page.url.endswith(f"/collections/workbench/{case_id}"), page.url
    settle(page)
    shot(page, "collector-02-case")
    assert page.locator('[data-test="guardrails"] [data-quiet="false"]').count() == 1

    def history() -> int:
        return len(stack.ok(stack.api.get(f"{COLL}/cases/{case_id}", headers=collector))["history"])

    def call(connection: str, party: str | None = None, result: str | None = None) -> None:
        form = page.locator('[data-test="call-form"]')
        form.locator(f'[data-test="call-connection"] [data-value="{connection}"]').click()
        if party:
            form.locator(f'[data-test="call-party"] [data-value="{party}"]').click()
        if result:
            form.locator(f'[data-test="call-result"] [data-value="{result}"]').click()

    # quiet hours now (operations moves them onto the present hour): the check before
    # dialling and the call itself are refused, with the code and message, nothing logged
    quiet_hours(stack, case_id, now=True)
    before = history()
    page.click('[data-test="dial"]')
    banner = page.locator('[data-test="refusal"]')
    banner.wait_for()
    assert banner.get_attribute("data-code") == "COLLECTION_QUIET_HOURS"
    call("no_answer")
    page.fill('textarea[data-test="call-note"]', "静默时段拨打")
    page.click('[data-test="save-call"]')
    page.wait_for_selector('[data-test="refusal"] >> text=未登记、未发送')
    assert page.locator('[data-test="refusal-code"]').inner_text() == "COLLECTION_QUIET_HOURS"
    message = page.locator('[data-test="refusal-message"]').inner_text()
    assert message and page.locator('[data-test="refusal-other"]').inner_text(), message
    shot(page, "collector-03-quiet-hours-refused")
    assert history() == before
    quiet_hours(stack, case_id, now=False)

    # an unanswered call, then a connected one where the debtor promises to pay
    page.click('[data-test="save-call"]')
    page.wait_for_selector('[data-test="refusal"]', state="detached")
    page.wait_for_selector('[data-test="history"] [data-kind="call"]')
    business = date.fromisoformat(stack.me("collector")["business_date"])
    promised_on = (business + timedelta(days=3)).isoformat()
    call("connected", "self", "promise")
    page.fill('input[data-test="call-promise-amount"]', "300")
    page.fill('[data-test="call-form"] .promise .el-date-editor input', promised_on)
    page.keyboard.press("Enter")
    page.fill('textarea[data-test="call-note"]', "本人承诺三日内还款 300 元")
    shot(page, "collector-04-promise-call")
    page.click('[data-test="save-call"]')
    page.wait_for_selector('[data-figure="promise"] >> text=300.00')
    detail = stack.ok(stack.api.get(f"{COLL}/cases/{case_id}", headers=collector))
    assert detail["case"]["promise"]["amount"] == "300.00", detail["case"]
    assert detail["case"]["promise"]["promised_on"] == promised_on, detail["case"]
    calls = [a for a in detail["history"] if a["kind"] == "call"]
    assert [c["connection"] for c in calls[:2]] == ["connected", "no_answer"], calls
    assert (calls[0]["party"], calls[0]["result"]) == ("self", "promise"), calls[0]

    # two more connected calls are the day's cap (3); the fourth is refused
    for result in ("plan", "dispute"):
        call("connected", "self", result)
        page.click('[data-test="save-call"]')
        page.wait_for_function(
            CALLS_AT_LEAST,
            arg=len(calls) + (1 if result == "plan" else 2),
        )
    settle(page)
    assert "3 / 3" in page.locator('[data-test="guardrails"]').inner_text() or "3 of 3" in (
        page.locator('[data-test="guardrails"]').inner_text()
    )
    before = history()
    call("connected", "self", "refused")
    page.click('[data-test="save-call"]')
    page.wait_for_selector('[data-test="refusal"][data-code="COLLECTION_CONNECTED_CAP"]')
    settle(page)
    shot(page, "collector-05-connected-cap-refused")
    assert history() == before

    # an offer: a deferral of the overdue installment, submitted for approval
    page.click('[data-test="offer-deferral"]')
    offer = page.locator('[data-test="offer-form"]')
    offer.wait_for()
    page.fill(
        '[data-test="offer-form"] .el-date-editor input',
        (business + timedelta(days=20)).isoformat(),
    )
    page.keyboard.press("Enter")
    page.fill('textarea[data-test="offer-reason"]', "借款人失业，申请延期 20 天")
    shot(page, "collector-06-offer")
    page.click('[data-test="offer-submit"]')
    page.wait_for_selector('[data-test="offer-form"]', state="hidden")
    page.click("#tab-offers")
    page.wait_for_selector('[data-test="offers"] .el-table__row')
    settle(page)
    shot(page, "collector-07-offer-submitted")
    inbox = stack.ok(
        stack.api.get(
            "/api/v1/admin/approvals",
            headers=stack.auth("finance"),
            params={"status": "pending", "kind": "deferral", "loan_id": overdue_case["loan_id"]},
        )
    )
    assert inbox["total"] == 1 and inbox["items"][0]["requested_by"] == "collector", inbox
    page.click("#tab-history")
    settle(page)
    promised = page.locator('[data-test="history"] [data-test="history-promise"]').first
    assert "300.00" in promised.inner_text() and promised_on in promised.inner_text()
    shot(page, "collector-08-history")

    # an SMS from the templates the server offers (the approved collection ones)
    page.click('[data-test="open-sms"]')
    page.locator('[data-test="sms-template"]').click()
    page.locator('.el-select-dropdown:visible [data-template="OVERDUE_NOTICE"]').click()
    assert "{amount}" in page.locator('[data-test="sms-template-text"]').inner_text()
    shot(page, "collector-11-sms-template")
    page.click('[data-test="sms-send"]')
    page.wait_for_selector('[data-test="history"] [data-kind="sms"]')

    # a field visit with a colleague of the same queue, picked by name
    page.click('[data-test="open-visit"]')
    page.locator('[data-test="visit-companions"]').click()
    page.locator('.el-select-dropdown:visible [data-colleague="collector2"]').click()
    page.keyboard.press("Escape")
    page.fill(
        ".el-dialog:visible .el-date-editor input", (business + timedelta(days=2)).isoformat()
    )
    page.keyboard.press("Enter")
    shot(page, "collector-12-visit-companion")
    page.click('[data-test="visit-save"]')
    page.wait_for_selector('[data-test="history"] [data-kind="visit"] >> text=collector2')
    settle(page)
    unexpected = [
        f
        for f in watch.failed
        if f[3] not in ("COLLECTION_QUIET_HOURS", "COLLECTION_CONNECTED_CAP")
    ]
    assert watch.errors == [] and unexpected == [], (watch.errors, unexpected)

    # the same case on a phone: one column, nothing wider than the screen
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    try:
        mobile = phone.new_page()
        mobile.goto(f"{stack.console}login")
        mobile.fill("input[name=username]", "collector")
        mobile.fill("input[name=password]", PASSWORD)
        mobile.click('[data-test="login-submit"]')
        mobile.wait_for_url(lambda url: "/login" not in url, timeout=15_000)
        mobile.goto(f"{stack.console}collections/workbench")
        mobile.wait_for_selector('[data-test="list-cards"] .row-card')
        settle(mobile)
        shot(mobile, "collector-09-phone-queue")
        mobile.goto(f"{stack.console}collections/workbench/{case_id}")
        mobile.wait_for_selector('[data-test="call-form"]')
        settle(mobile)
        width = mobile.evaluate("document.documentElement.scrollWidth")
        assert width <= 392, width
        mobile.set_viewport_size({"width": 390, "height": 2600})  # the whole page in one shot
        settle(mobile)
        shot(mobile, "collector-10-phone-case")
        summary = mobile.locator('[data-test="case-summary"]').bounding_box()
        form = mobile.locator('[data-test="call-form"]').bounding_box()
        assert form["y"] > summary["y"] and form["x"] < 40, (summary, form)
    finally:
        phone.close()


def test_the_early_warning_page_shows_hits(stack: Stack, context: Any) -> None:
    """预警监控: a borrower's bureau report turns after the loan (five new applications at
    other lenders, scripted in the bureau simulator) and the borrower applies again from
    another phone; with the whole book in the day's bureau sample, close of business records
    both hits — a pre-due case for the first — and the page shows them in the chart and the
    list, with the rules editor beside them."""
    from xindai.integrations.simulators.bureau import bureau_profile
    from xindai.origination.identity import valid_sample_ids

    ops = stack.auth("ops")
    seed, phone = 83, "13712340083"
    auth, card_id = stack.onboard(phone, seed)
    first = stack.apply(auth, card_id, "INST12", "3000", 3, f"dev-browser-{seed}")
    assert first["status"] == "approved", first
    loan_id = stack.sign_and_wait(auth, int(first["id"]))
    id_number = next(
        n for n in valid_sample_ids(seed=seed, count=200) if bureau_profile(n) == "clean"
    )
    today = date.fromisoformat(stack.me("ops")["business_date"])
    stack.sim.control.bureau_event(id_number, today, applications=5)
    again = stack.api.post(
        "/api/v1/borrower/applications",
        headers=auth,
        json={"product": "CASH14", "amount": "1000", "term": 14, "purpose": "consumption",
              "card_id": card_id, "device_fingerprint": "a-new-phone-83",
              "monthly_income": "15000", "employment_type": "salaried",
              "education": "bachelor", "city": "上海", "phonebook_count": 320},
    )  # fmt: skip
    assert again.status_code == 201, again.text
    rules = stack.ok(stack.api.get(f"{COLL}/warnings/rules", headers=ops))
    body = {
        "bureau_refresh": {"sample_bp": 10_000, "on_trigger": True},
        "rules": [
            {k: r[k] for k in ("code", "name_zh", "name_en", "enabled", "params", "effect", "by")}
            for r in rules["rules"]
        ],
    }
    # the rule looks back over business days at applications stamped by the platform's
    # clock; earlier tests of this module closed weeks of business days ahead of that clock,
    # so the device rule looks back as far as it may (30 days) for this day
    devices = next(r for r in body["rules"] if r["code"] == "device_changed")
    lookback = devices["params"]["lookback_days"]
    devices["params"]["lookback_days"] = 30
    stack.ok(stack.api.put(f"{COLL}/warnings/rules", headers=ops, json=body))
    try:
        close_business(stack, 1)
    finally:
        body["bureau_refresh"]["sample_bp"] = rules["bureau_refresh"]["sample_bp"]
        devices["params"]["lookback_days"] = lookback
        stack.ok(stack.api.put(f"{COLL}/warnings/rules", headers=ops, json=body))
    hits = stack.ok(
        stack.api.get(f"{COLL}/warnings", headers=ops, params={"q": loan_id, "sort": "rule_code"})
    )
    assert [h["rule_code"] for h in hits["items"]] == ["bureau_multi_lending", "device_changed"]
    assert hits["items"][0]["outcome"] == "precase", hits

    page = signed_in(context, stack, "ops")
    watch = Watch(page)
    page.goto(f"{stack.console}collections/warnings")
    page.wait_for_selector('[data-test="warn-summary"]')
    page.wait_for_selector('[data-test="collection-warnings"] canvas')
    settle(page)
    table = page.locator('[data-test="collection-warnings"] .el-table').last.inner_text()
    assert "征信复查：新增多头申请" in table and "已开预催案件" in table, table
    assert "更换设备或手机号" in table, table
    shot(page, "warnings-01-hits")
    page.locator('[data-test="collection-warnings"] [data-test="chart-table"]').first.click()
    settle(page)
    shot(page, "warnings-02-chart-table")
    page.click("#tab-rules")
    page.wait_for_selector('[data-test="warn-rule-table"] .el-table__row')
    settle(page)
    assert page.locator('[data-test="warn-save"]').count() == 1
    shot(page, "warnings-03-rules")
    assert watch.errors == [] and watch.failed == [], (watch.errors, watch.failed)
