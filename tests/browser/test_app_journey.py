"""The borrower app (H5, /app/) in headless Chromium on a 390 × 844 phone screen, against the
real server and the simulators as processes: a new borrower signs in with the SMS code the
simulator sent, verifies their identity, gives contacts, binds a card, applies (the schedule
and the comprehensive annualised cost before confirming), reads and signs the contract, is
paid out, repays what is due and then pays off; a refused applicant sees the reasons; an
applicant in manual review is asked for more by a staff member (admin API) and answers.

Every step is saved as a screenshot under tests/browser/artifacts/app/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import Stack, Watch, shot_path

pytestmark = pytest.mark.e2e

APP_INDEX = Path(__file__).resolve().parents[2] / "src" / "xindai" / "web" / "app" / "index.html"
PHONE_SCREEN = {"width": 390, "height": 844}
CONFIRM = ".van-dialog__confirm"


@pytest.fixture(scope="module", autouse=True)
def app_built(browser_available: None) -> None:
    if not APP_INDEX.is_file():
        message = f"the built borrower app ({APP_INDEX}; run `cd frontend && npm run build`)"
        if os.environ.get("XINDAI_REQUIRE_BROWSER", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(f"XINDAI_REQUIRE_BROWSER=1 but {message} is missing", pytrace=False)
        pytest.skip(f"app browser tests need {message}")


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A fresh phone-sized browser context (touch, zh-CN, no session)."""
    made = browser.new_context(
        viewport=PHONE_SCREEN,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    try:
        yield made
    finally:
        made.close()


def shot(page: Any, name: str) -> None:
    page.wait_for_timeout(250)  # toasts and transitions settle
    page.screenshot(path=shot_path("app", name), full_page=True)


def jpeg(folder: Path, name: str, colour: tuple[int, int, int]) -> Path:
    """A small real JPEG (what a phone's camera hands the page)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 400), colour)
    ImageDraw.Draw(image).rectangle((40, 40, 240, 300), outline=(255, 255, 255), width=6)
    path = folder / f"{name}.jpg"
    image.save(path, "JPEG", quality=80)
    return path


def id_of(profile: str, seed: int) -> str:
    from xindai.integrations.simulators.bureau import bureau_profile
    from xindai.origination.identity import valid_sample_ids

    return next(n for n in valid_sample_ids(seed=seed, count=400) if bureau_profile(n) == profile)


def tap(page: Any, test: str) -> None:
    page.locator(f'[data-test="{test}"]').first.click()


def fill(page: Any, test: str, value: str) -> None:
    field = page.locator(f'[data-test="{test}"] input, [data-test="{test}"] textarea').first
    field.fill(value)


def choose(page: Any, test: str, label: str) -> None:
    """Open a picker field and tap one of the action sheet's items."""
    page.locator(f'[data-test="{test}"]').first.click()
    page.locator(".van-action-sheet__item", has_text=label).first.click()
    page.wait_for_selector(".van-action-sheet", state="hidden")


def confirm_dialog(page: Any, name: str) -> str:
    dialog = page.locator(".van-dialog").first
    dialog.wait_for(state="visible")
    text: str = dialog.inner_text()
    shot(page, name)
    page.locator(CONFIRM).click()
    return text


def wait_status(page: Any, test: str, status: str, timeout: float = 30_000) -> None:
    page.wait_for_selector(f'[data-test="{test}"][data-status="{status}"]', timeout=timeout)


def signed_in_as(page: Any, stack: Stack, auth: dict[str, str]) -> None:
    """A borrower whose session the API made: the token put where the app keeps it."""
    token = auth["Authorization"].removeprefix("Bearer ")
    me = stack.ok(stack.api.get("/api/v1/borrower/me", headers=auth))
    page.add_init_script(
        f"localStorage.setItem('xindai.app.token', '{token}');"
        f"localStorage.setItem('xindai.app.borrower', '{me['id']}');"
    )


def onboard_with(stack: Stack, phone: str, id_number: str, seed: int) -> tuple[dict[str, str], int]:
    """Onboarding through the API (agreements, real name, contacts, a verified card)."""
    from xindai.origination.cards import valid_sample_card

    auth = stack.borrower_auth(phone)
    agreements = stack.ok(stack.api.get("/api/v1/borrower/agreements"))
    items = [{"code": a["code"], "version": a["version"]} for a in agreements]
    stack.ok(
        stack.api.post("/api/v1/borrower/agreements/accept", headers=auth, json={"items": items})
    )
    photo = "/9j/4AAQ"
    kyc = {"name": "赵小雨", "id_number": id_number, "id_front": photo, "id_back": photo}
    stack.ok(stack.api.post("/api/v1/borrower/kyc", headers=auth, json={**kyc, "face": photo}))
    contacts = [
        {"name": "赵父", "phone": f"1390{phone[-7:]}", "relation": "parent"},
        {"name": "钱朋友", "phone": f"1391{phone[-7:]}", "relation": "friend"},
    ]
    stack.ok(stack.api.put("/api/v1/borrower/contacts", headers=auth, json={"contacts": contacts}))
    card = {"card_number": valid_sample_card("CCB", seed), "phone": phone}
    started = stack.ok(stack.api.post("/api/v1/borrower/cards", headers=auth, json=card), 201)
    code = stack.sim.control.last_sms_code(phone)
    path = f"/api/v1/borrower/cards/{started['card_id']}/confirm"
    stack.ok(stack.api.post(path, headers=auth, json={"code": code}))
    return auth, int(started["card_id"])


def apply_in_app(page: Any, product: str, amount: str, term: int, prefix: str) -> None:
    """The 借款 tab's form filled as a borrower does, with the schedule awaited and confirmed."""
    page.wait_for_selector('[data-test="borrow-page"] [data-test="products"]')
    tap(page, f"product-{product}")
    fill(page, "amount", amount)
    tap(page, f"term-{term}")
    page.wait_for_selector('[data-test="schedule"] [data-test="installment"]')
    fill(page, "income", "15000")
    choose(page, "employment", "工薪")
    choose(page, "education", "本科")
    fill(page, "city", "上海")
    shot(page, f"{prefix}-apply-form")
    apply_button = page.locator('[data-test="apply"]')
    assert apply_button.is_disabled()  # the schedule is confirmed by the borrower, not pre-ticked
    tap(page, "confirm-quote")
    apply_button.click()
    page.wait_for_selector('[data-test="decision"]')


def test_a_new_borrower_goes_from_login_to_payout_then_repays_and_pays_off(
    stack: Stack, phone: Any, tmp_path: Path
) -> None:
    from xindai.origination.cards import valid_sample_card

    number = "13800138061"
    page = phone.new_page()
    watch = Watch(page)

    # 登录: the code comes from the SMS simulator's outbox; agreements with their versions
    page.goto(f"{stack.base_url}/app/")
    page.wait_for_selector('[data-test="login-page"]')
    assert page.url.endswith("/app/login")
    fill(page, "phone", number)
    tap(page, "send-code")
    page.wait_for_selector('[data-test="send-code"] >> text=/秒后重发/')
    code = stack.sim.control.last_sms_code(number)
    fill(page, "code", code)
    assert page.locator('[data-test="agreement-link"]').count() >= 2
    assert page.locator('[data-test="login"]').is_disabled()  # agreements not accepted yet
    shot(page, "01-login")
    page.locator('[data-test="agreement-link"]').first.click()
    page.wait_for_selector('[data-test="agreement-text"]')
    shot(page, "02-agreement")
    page.locator(".van-popup__close-icon").first.click()
    page.wait_for_selector('[data-test="agreement-text"]', state="hidden")
    tap(page, "agree")
    tap(page, "login")
    page.wait_for_selector('[data-test="home-page"] [data-test="limit"]')
    page.wait_for_selector('[data-test="home-product-INST12"]')
    assert "综合年化成本" in page.locator('[data-test="home-product-INST12"]').inner_text()
    shot(page, "03-home-new")

    # 实名认证: the ID number checked as typed, photos of both sides and a liveness selfie
    tap(page, "borrow-now")
    page.wait_for_selector('[data-test="kyc-page"]')
    id_number = id_of("clean", 61)
    fill(page, "name", "李明")
    wrong = id_number[:17] + ("0" if id_number[17] != "0" else "1")
    fill(page, "id-number", wrong)
    page.wait_for_selector("text=校验位不正确")
    shot(page, "04-kyc-checksum")
    fill(page, "id-number", id_number)
    page.wait_for_selector('[data-test="id-ok"]')
    for side, colour in (
        ("id_front", (70, 120, 200)),
        ("id_back", (200, 90, 70)),
        ("face", (230, 200, 170)),
    ):
        upload = page.locator(f'[data-test="photo-{side}"] input[type=file]')
        upload.set_input_files(str(jpeg(tmp_path, side, colour)))
    page.wait_for_function(
        "document.querySelectorAll('.van-uploader__preview').length === 3"
        " && !document.querySelector('.van-uploader__mask')"
    )
    shot(page, "05-kyc-filled")
    tap(page, "kyc-submit")

    # 联系认证: two contacts with their relation; the borrower's own number is refused
    page.wait_for_selector('[data-test="contacts-page"]')
    first = page.locator('[data-test="contact-0"]')
    first.locator('[data-test="contact-name"] input').fill("李父")
    first.locator('[data-test="contact-phone"] input').fill(number)
    page.wait_for_selector("text=不能填写本人手机号")
    shot(page, "06-contacts-own-number")
    first.locator('[data-test="contact-phone"] input').fill("13900139061")
    first.locator('[data-test="contact-relation"]').click()
    page.locator(".van-action-sheet__item", has_text="父母").click()
    second = page.locator('[data-test="contact-1"]')
    second.locator('[data-test="contact-name"] input').fill("王同事")
    second.locator('[data-test="contact-phone"] input').fill("13700137061")
    second.locator('[data-test="contact-relation"]').click()
    page.locator(".van-action-sheet__item", has_text="同事").click()
    page.wait_for_selector(".van-action-sheet", state="hidden")
    shot(page, "07-contacts")
    tap(page, "contacts-submit")

    # 绑卡: Luhn as typed, the bank from the BIN, the channel's SMS code
    page.wait_for_selector('[data-test="card-page"]')
    card_number = valid_sample_card("ICBC", 61)
    bad = card_number[:-1] + str((int(card_number[-1]) + 1) % 10)
    fill(page, "card-number", bad)
    page.wait_for_selector("text=卡号校验未通过")
    page.wait_for_selector('[data-test="card-bank"] >> text=工商银行')
    shot(page, "08-card-luhn")
    fill(page, "card-number", card_number)
    page.wait_for_selector("text=卡号校验未通过", state="hidden")
    assert page.locator('[data-test="card-phone"] input').input_value() == number
    shot(page, "09-card")
    tap(page, "card-start")
    page.wait_for_selector('[data-test="card-code"]')
    card_code = stack.sim.control.last_sms_code(number)
    fill(page, "card-code", card_code)
    shot(page, "10-card-code")
    tap(page, "card-confirm")

    # 借款: the schedule and the cost before confirming, then the decision
    page.wait_for_selector('[data-test="borrow-page"]')
    apply_in_app(page, "INST12", "3000", 3, "11")
    wait_status(page, "decision", "approved")
    assert "综合年化成本" in page.locator('[data-test="apr"]').inner_text()
    shot(page, "12-approved")

    # 签约: the contract read to its end, agreed (not pre-ticked) and signed; the payout
    tap(page, "read-contract")
    page.wait_for_selector('[data-test="contract"] iframe')
    unread = page.locator('[data-test="agree-contract"].van-checkbox--disabled')
    assert unread.count() == 1  # not before the contract's end has been read
    frame = page.frame_locator('[data-test="contract"] iframe')
    assert "借款合同" in frame.locator("body").inner_text()
    shot(page, "13-contract")
    page.locator('[data-test="contract-end"]').scroll_into_view_if_needed()
    page.wait_for_selector('[data-test="agree-contract"]:not(.van-checkbox--disabled)')
    tap(page, "agree-contract")
    tap(page, "sign")
    wait_status(page, "decision", "disbursed")
    page.wait_for_selector('[data-test="payout-status"] >> text=已到账')
    shot(page, "14-paid-out")

    # 还款: what is due, each amount shown before confirming; the result once confirmed
    tap(page, "to-loan")
    page.wait_for_selector('[data-test="loan-schedule"]')
    shot(page, "15-loan")
    page.goto(f"{stack.base_url}/app/repay")
    page.wait_for_selector('[data-test="pay-current"]')
    shot(page, "16-repay")
    tap(page, "pay-current")
    due_text = confirm_dialog(page, "17-repay-confirm")
    assert "¥" in due_text
    wait_status(page, "repay-result", "succeeded")
    shot(page, "18-repaid")
    tap(page, "result-done")

    # 提前结清: the payoff quote for today, confirmed, and the loan settled
    page.wait_for_selector('[data-test="pay-payoff"]')
    payoff = page.locator('[data-test="pay-payoff"]').inner_text()
    text = confirm_dialog_after(page, "pay-payoff", "19-payoff-confirm")
    assert payoff.replace("还 ", "") in text
    wait_status(page, "repay-result", "succeeded")
    shot(page, "20-paid-off")
    tap(page, "result-done")
    page.wait_for_selector('[data-test="nothing-due"]')

    # 我的: the settled loan, masked personal data; English at the switch
    tap(page, "tab-mine")
    page.wait_for_selector('[data-test="mine-loans"] >> text=已结清')
    shot(page, "21-mine")
    tap(page, "mine-profile")
    page.wait_for_selector('[data-test="masked-id"]')
    masked = page.locator('[data-test="masked-id"]').inner_text()
    assert id_number not in masked and "*" in masked
    shot(page, "22-profile-masked")
    page.locator(".van-popup__close-icon").first.click()
    tap(page, "locale-switch")
    page.wait_for_selector('[data-test="tab-mine"] >> text=Me')
    shot(page, "23-mine-english")
    tap(page, "tab-home")
    page.wait_for_selector('[data-test="home-page"] >> text=Comprehensive annualised cost')
    shot(page, "24-home-english")

    assert watch.errors == [], watch.errors
    assert watch.failed == [], watch.failed


def confirm_dialog_after(page: Any, test: str, name: str) -> str:
    tap(page, test)
    return confirm_dialog(page, name)


def test_a_refused_applicant_sees_the_reasons(stack: Stack, phone: Any) -> None:
    number = "13800138062"
    auth, _ = onboard_with(stack, number, id_of("serious_overdue", 62), seed=62)
    page = phone.new_page()
    watch = Watch(page)
    signed_in_as(page, stack, auth)
    page.goto(f"{stack.base_url}/app/borrow")
    apply_in_app(page, "INST12", "3000", 3, "30-refused")
    wait_status(page, "decision", "rejected")
    reasons = page.locator('[data-test="reasons"] .van-cell')
    assert reasons.count() >= 1
    assert all("_" not in reasons.nth(i).inner_text() for i in range(reasons.count()))
    shot(page, "31-refused")
    assert watch.errors == [], watch.errors


def test_an_applicant_in_review_is_asked_for_more_and_answers(stack: Stack, phone: Any) -> None:
    from .test_console_flows import grey_zone_for_everyone

    number = "13800138063"
    auth, _ = onboard_with(stack, number, id_of("clean", 63), seed=63)
    page = phone.new_page()
    watch = Watch(page)
    signed_in_as(page, stack, auth)
    grey_zone_for_everyone(stack)
    try:
        page.goto(f"{stack.base_url}/app/borrow")
        apply_in_app(page, "INST12", "5000", 6, "40-review")
        wait_status(page, "decision", "review")
    finally:
        stack.ok(
            stack.api.post(
                "/api/v1/admin/strategies/origination/rollback",
                headers=stack.auth("reviewer"),
                json={"reason": "app browser test done"},
            )
        )
    page.wait_for_selector('[data-test="eta"]')
    shot(page, "41-in-review")
    application_id = int(page.url.rstrip("/").split("/")[-1])

    # a reviewer claims it and asks for more through the admin API
    staff = stack.auth("reviewer")
    admin = f"/api/v1/admin/reviews/{application_id}"
    stack.ok(stack.api.post(f"{admin}/claim", headers=staff))
    request = "请补充近三个月的工资流水说明"
    stack.ok(stack.api.post(f"{admin}/ask-more", headers=staff, json={"request": request}))

    page.reload()
    page.wait_for_selector(f'[data-test="more-info"] >> text={request}')
    shot(page, "42-asked-for-more")
    fill(page, "reply", "工资每月 15 日发放，已通过邮件发送流水")
    tap(page, "reply-submit")
    page.wait_for_selector('[data-test="review-waiting"]')
    shot(page, "43-answered")
    answered = stack.ok(
        stack.api.get(f"/api/v1/borrower/applications/{application_id}/more-info", headers=auth)
    )
    assert answered["status"] == "answered" and "15 日" in (answered["reply"] or "")
    assert watch.errors == [], watch.errors
    assert watch.failed == [], watch.failed
