"""The console as staff meet it, in headless Chromium against the real server: each of the
eight roles signs in and sees exactly the menus its permissions give (the server's /me),
every page of those menus opens without an error, a page outside them is refused, the
second factor is asked for at sign-in when the account has one, English switches every
label, and the pages used on the move work on a 390 px phone. Screenshots of every page
are kept in tests/browser/artifacts/<username>/."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from .conftest import ARTIFACTS, PASSWORD, STAFF, Stack, Watch, settle, shot_path, sign_in, slug

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


def leaves(menus: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for item in menus:
        if item["children"]:
            found += leaves(item["children"])
        else:
            found.append(item["path"])
    return found


def labels(menus: list[dict[str, Any]], language: str) -> list[str]:
    found: list[str] = []
    for item in menus:
        found.append(item[language])
        found += labels(item["children"], language)
    return found


def every_leaf(stack: Stack) -> set[str]:
    """Every leaf path of the whole menu tree (the administrator's and the others' together)."""
    return {path for username in STAFF for path in leaves(stack.me(username)["menus"])}


@pytest.fixture(scope="module")
def documented(stack: Stack) -> list[tuple[str, re.Pattern[str]]]:
    """(method, path pattern) of every operation the running server documents."""
    document = stack.ok(stack.api.get("/openapi.json"))
    return [
        (method.upper(), re.compile("^" + re.sub(r"\{[^}/]+\}", "[^/]+", path) + "$"))
        for path, operations in document["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    ]


@pytest.fixture(scope="module")
def loan(stack: Stack) -> dict[str, int]:
    loan_id = stack.borrower_with_a_loan("13712340001", seed=7)
    loan = stack.ok(stack.api.get(f"/api/v1/admin/loans/{loan_id}", headers=stack.auth("finance")))
    borrower_id = loan.get("borrower_id") or loan.get("loan", {}).get("borrower_id")
    return {"loan_id": loan_id, "borrower_id": int(borrower_id)}


@pytest.mark.parametrize("username", list(STAFF))
def test_each_role_sees_exactly_its_menus_and_every_page_opens(
    stack: Stack,
    context: Any,
    documented: list[tuple[str, re.Pattern[str]]],
    loan: dict[str, int],
    username: str,
) -> None:
    me = stack.me(username)
    assert me["role"] == STAFF[username]
    expected = leaves(me["menus"])
    page = context.new_page()
    watch = Watch(page)
    sign_in(page, stack, username)
    settle(page)

    shown = page.eval_on_selector_all(
        '[data-test="sidebar"] [data-path]', "items => items.map(i => i.dataset.path)"
    )
    assert shown == expected, f"{username}: the sidebar shows {shown}, /me gives {expected}"
    top = page.eval_on_selector_all(
        '[data-test="sidebar"] > [data-menu]', "items => items.map(i => i.dataset.menu)"
    )
    assert top == [m["key"] for m in me["menus"]]
    assert (
        page.locator('[data-test="business-date"]')
        .inner_text()
        .strip()
        .endswith(me["business_date"])
    )
    page.screenshot(path=shot_path(username, "00-signed-in"))

    problems: list[str] = []
    missing: set[tuple[str, str]] = set()

    def visit(path: str, name: str) -> None:
        watch.reset()
        page.goto(f"{stack.console}{path.lstrip('/')}")
        settle(page)
        page.screenshot(path=shot_path(username, name), full_page=True)
        problems.extend(f"{path}: page error {e}" for e in watch.errors)
        if page.locator('[data-test="forbidden"], [data-test="not-found"]').count():
            problems.append(f"{path}: the console refused a page the menus give")
        for method, api_path, status, code in watch.failed:
            if any(m == method and p.match(api_path) for m, p in documented):
                problems.append(f"{path}: {method} {api_path} answered {status} {code}")
            else:  # an endpoint the server does not have (yet): the page shows its error
                missing.add((method, api_path))

    for number, path in enumerate(expected, start=1):
        visit(path, f"{number:02d}-{slug(path)}")
    # the demo borrower is not of the agent's channel and its loan is no collector's case: its
    # records are outside those two roles' scopes (tests/collections/test_collections_scope.py)
    scoped_out = STAFF[username] in ("agent", "collector")
    if "/loans" in expected and not scoped_out:
        visit(f"/loans/{loan['loan_id']}", "90-loan-detail")
    if "/borrowers" in expected and not scoped_out:
        visit(f"/borrowers/{loan['borrower_id']}", "91-borrower-detail")

    outside = sorted(every_leaf(stack) - set(expected))
    if outside:
        page.goto(f"{stack.console}{outside[0].lstrip('/')}")
        page.wait_for_selector('[data-test="forbidden"]', timeout=10_000)
        page.screenshot(path=shot_path(username, "99-refused"))

    report = ARTIFACTS / username / "missing-endpoints.json"
    report.write_text(json.dumps(sorted(missing), indent=1) + "\n")
    assert problems == [], "\n".join(problems)


def test_sign_in_asks_for_the_second_factor_when_the_account_has_one(
    stack: Stack, context: Any
) -> None:
    created = stack.ok(
        stack.api.post(
            "/api/v1/admin/staff",
            headers=stack.auth("admin"),
            json={"username": "auditor2", "password": PASSWORD, "role": "risk", "with_totp": True},
        ),
        201,
    )
    secret = parse_qs(urlparse(created["totp_uri"]).query)["secret"][0]
    page = context.new_page()
    page.goto(f"{stack.console}login")
    page.fill("input[name=username]", "auditor2")
    page.fill("input[name=password]", PASSWORD)
    page.click('[data-test="login-submit"]')
    code_field = page.locator('[data-test="totp"] input, input[data-test="totp"]').first
    code_field.wait_for(timeout=10_000)
    page.screenshot(path=shot_path("auditor2", "01-totp-asked"))
    code_field.fill("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.click('[data-test="login-submit"]')
    error = page.locator('[data-test="error-state"]')
    error.wait_for(timeout=10_000)
    assert error.get_attribute("data-code") == "TOTP_INVALID"
    page.screenshot(path=shot_path("auditor2", "02-totp-wrong"))
    code_field.fill(pyotp.TOTP(secret).now())
    page.click('[data-test="login-submit"]')
    page.wait_for_selector('[data-test="sidebar"]', timeout=15_000)
    assert "/login" not in page.url


def test_a_wrong_password_shows_the_server_message_and_code(stack: Stack, context: Any) -> None:
    page = context.new_page()
    page.goto(f"{stack.console}login")
    page.fill("input[name=username]", "ops")
    page.fill("input[name=password]", "not-the-password-1")
    page.click('[data-test="login-submit"]')
    error = page.locator('[data-test="error-state"]')
    error.wait_for(timeout=10_000)
    assert error.get_attribute("data-code") == "LOGIN_FAILED"
    assert "错误码" in error.inner_text()
    page.screenshot(path=shot_path("login", "wrong-password"))


def test_sign_out_revokes_the_token_on_the_server(stack: Stack, context: Any) -> None:
    page = context.new_page()
    sign_in(page, stack, "ops")
    token = page.evaluate("sessionStorage.getItem('xindai.console.token')")
    assert token
    bearer = {"Authorization": f"Bearer {token}"}
    assert stack.api.get("/api/v1/admin/me", headers=bearer).status_code == 200
    page.click('[data-test="user-menu"] button')
    with page.expect_response("**/api/v1/admin/auth/logout") as logout:
        page.click('[data-test="menu-logout"]')
    assert logout.value.status == 204
    page.wait_for_url("**/login", timeout=10_000)
    assert page.evaluate("sessionStorage.getItem('xindai.console.token')") is None
    refused = stack.api.get("/api/v1/admin/me", headers=bearer)
    assert refused.status_code == 401
    assert refused.json()["code"] == "AUTH_REQUIRED"
    page.screenshot(path=shot_path("ops", "signed-out"))


def test_a_strategy_version_shows_its_graph_and_a_nodes_rules(stack: Stack, context: Any) -> None:
    page = context.new_page()
    watch = Watch(page)
    sign_in(page, stack, "reviewer")
    page.goto(f"{stack.console}strategies")
    settle(page)
    page.locator('.el-table__body button:visible:has-text("查看")').first.click()
    chart = page.locator('[data-test="graph-chart"] canvas').first
    chart.wait_for(timeout=10_000)
    settle(page)
    box = chart.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 200, box
    table = page.locator('[data-test="graph-table"]')
    assert "决策表" in table.inner_text() and "准入规则" in table.inner_text()
    panel = page.locator('[data-test="node-panel"]')
    assert "点击图中的节点" in panel.inner_text()
    # the default graph is one row of 8 nodes, left to right: the second is 准入规则
    page.mouse.click(
        box["x"] + 60 + (box["width"] - 120) / 7, box["y"] + 48 + (box["height"] - 72) / 2
    )
    panel.locator('[data-test="node-name"]').wait_for(timeout=5_000)
    assert "准入规则" in panel.locator('[data-test="node-name"]').inner_text()
    rules = panel.locator('[data-test="node-rules"]')
    assert "collect" in panel.inner_text() and rules.locator("tbody tr").count() > 3
    page.screenshot(path=shot_path("reviewer", "strategy-graph"))
    table.locator("tbody tr", has_text="结论").first.click()  # a row selects its node too
    page.wait_for_function(
        "() => document.querySelector('[data-test=\"node-name\"]').innerText.includes('结论')"
    )
    assert "expression" in panel.inner_text()
    page.screenshot(path=shot_path("reviewer", "strategy-graph-expression"))
    assert watch.errors == [] and watch.failed == []


def test_english_switches_the_menus_and_the_shell(stack: Stack, context: Any) -> None:
    me = stack.me("reviewer")
    page = context.new_page()
    sign_in(page, stack, "reviewer")
    page.click('[data-test="language"] button')
    page.click('[data-locale="en"]')
    page.wait_for_function("document.documentElement.lang === 'en'")
    page.eval_on_selector_all(
        '[data-test="sidebar"] .el-sub-menu__title',
        "titles => titles.forEach(t => t.click())",  # open the groups to read every label
    )
    page.wait_for_timeout(400)
    text = page.locator('[data-test="sidebar"]').inner_text()
    for label in labels(me["menus"], "en"):
        assert label in text
    assert "Business date" in page.locator('[data-test="business-date"]').inner_text()
    page.screenshot(path=shot_path("reviewer", "en-overview"))
    page.reload()
    page.wait_for_selector('[data-test="sidebar"]')
    assert page.evaluate("document.documentElement.lang") == "en"  # remembered


@pytest.mark.parametrize("path", ["/overview", "/review", "/approvals", "/loans"])
def test_the_pages_used_on_the_move_fit_a_phone(
    stack: Stack, browser: Any, loan: dict[str, int], path: str
) -> None:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        watch = Watch(page)
        page.goto(f"{stack.console}login")
        page.screenshot(path=shot_path("phone", "00-login"))
        page.fill("input[name=username]", "reviewer")
        page.fill("input[name=password]", PASSWORD)
        page.click('[data-test="login-submit"]')
        page.wait_for_url(lambda url: "/login" not in url, timeout=15_000)
        page.goto(f"{stack.console}{path.lstrip('/')}")
        settle(page)
        assert watch.errors == []
        assert page.locator(".sidebar").count() == 0  # one column: the menu is a drawer
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide on a 390px phone"
        page.screenshot(path=shot_path("phone", slug(path)), full_page=True)
        page.click('[data-test="hamburger"]')
        page.wait_for_selector('[data-test="sidebar"]', state="visible", timeout=5_000)
        page.wait_for_timeout(500)  # the drawer's slide
        page.screenshot(path=shot_path("phone", f"{slug(path)}-menu"))
    finally:
        context.close()
