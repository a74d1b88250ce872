"""SMS templates and the outbox through the admin API on SQLite and PostgreSQL: a draft by
operations approved by a second person (a new version supersedes the old), the refusals —
an unknown variable, no sign, threatening words, the maker approving, a missing
permission, a rejection without a reason — and the outbox recording every attempt with the
number masked and the code hidden, searchable by the number. (Sending through the gateway
simulator: test_admin_live.py.)"""

from __future__ import annotations

import pytest

from xindai.integrations.errors import ProviderUnavailable
from xindai.messaging.outbox import TemplateNotApproved, send_sms

from .console_support import (
    Console,
    console_fixture,  # noqa: F401
)

REMINDER = "【信贷】您的借款将于{due_date}到期，应还{amount}元，请保持银行卡余额充足。"


def draft(c: Console, who: str = "ops", status: int = 201, **body: object) -> dict:
    return c.call(
        "POST",
        "/sms/templates",
        who,
        status,
        json={"code": "REMINDER_D3", "purpose": "reminder", "text": REMINDER} | body,
    )


def test_a_draft_is_approved_by_a_second_person_and_supersedes_the_old(console: Console) -> None:
    c = console
    names = [v["name"] for v in c.call("GET", "/sms/variables", "service")]
    assert {"amount", "due_date", "code"} <= set(names)
    seeded = c.call("GET", "/sms/templates?status=approved&page_size=100", "ops")
    assert {"OTP", "REVIEW_MORE_INFO"} <= {t["code"] for t in seeded["items"]}

    first = draft(c, note="到期前三天提醒")
    assert (first["version"], first["status"], first["variables"]) == (
        1,
        "draft",
        ["due_date", "amount"],
    )
    c.refused("POST", f"/sms/templates/{first['id']}/approve", "ops", 409, "SMS_TEMPLATE_STATE")
    c.refused("POST", f"/sms/templates/{first['id']}/approve", "service", 403, "PERMISSION_DENIED")
    approved = c.call("POST", f"/sms/templates/{first['id']}/approve", "ops2")
    assert (approved["status"], approved["decided_by"]) == ("approved", "ops2")
    assert approved["registered"] is False  # no gateway in these tests
    again = c.call("POST", f"/sms/templates/{first['id']}/register", "ops2")
    assert again["registered"] is False
    c.refused("POST", f"/sms/templates/{first['id']}/approve", "ops2", 409, "SMS_TEMPLATE_STATE")

    second = draft(
        c, text=REMINDER.replace("请保持", "请提前保持"), variables=["amount", "due_date"]
    )
    assert second["version"] == 2
    c.call("POST", f"/sms/templates/{second['id']}/approve", "ops2")
    versions = c.call("GET", "/sms/templates?q=reminder_d3&sort=id", "ops")["items"]
    assert [(t["version"], t["status"]) for t in versions] == [(1, "retired"), (2, "approved")]

    third = draft(c)
    c.refused(
        "POST",
        f"/sms/templates/{third['id']}/reject",
        "ops2",
        400,
        "INVALID_VALUE",
        json={"note": " "},
    )
    rejected = c.call("POST", f"/sms/templates/{third['id']}/reject", "ops2", json={"note": "重复"})
    assert (rejected["status"], rejected["note"]) == ("rejected", "重复")


def test_what_a_draft_may_not_be(console: Console) -> None:
    c = console
    unknown = draft(c, status=400, text="【信贷】您还欠{balance}元")
    assert (unknown["code"], unknown["field"]) == ("SMS_TEMPLATE_VARIABLE_UNKNOWN", "variables")
    declared = draft(c, status=400, variables=["amount", "due_date", "salary"])
    assert declared["code"] == "SMS_TEMPLATE_VARIABLE_UNKNOWN"
    undeclared = draft(c, status=400, variables=["amount"])
    assert undeclared["code"] == "SMS_TEMPLATE_VARIABLE_UNKNOWN"
    assert draft(c, status=400, text="您的借款将于{due_date}到期")["code"] == "INVALID_VALUE"
    threat = draft(c, status=400, purpose="collection", text="【信贷】再不还款将移送法院")
    assert threat["code"] == "SMS_TEMPLATE_CONTENT_REFUSED"
    assert draft(c, status=400, text="【信贷】{amount!r}元")["code"] == "INVALID_VALUE"
    assert draft(c, status=400, code="lower")["field"] == "code"
    assert draft(c, status=400, purpose="spam")["field"] == "purpose"
    assert draft(c, "service", 403)["code"] == "PERMISSION_DENIED"


def test_the_outbox_keeps_every_attempt_masked(console: Console) -> None:
    c = console
    p = c.platform
    with pytest.raises(ProviderUnavailable):  # the gateway is down: recorded as failed
        send_sms(p, "13812345678", "OTP", {"code": "123456"}, origin="login", borrower_id=7)
    with pytest.raises(TemplateNotApproved):  # never approved: refused, nothing sent
        send_sms(p, "13812345678", "NOT_A_TEMPLATE", {}, origin="notice")
    page = c.call("GET", "/sms/outbox?q=13812345678", "service")
    assert page["total"] == 2
    refused, failed = page["items"]
    assert (failed["status"], failed["template_code"], failed["origin"]) == (
        "failed",
        "OTP",
        "login",
    )
    assert failed["phone_masked"] == "138****5678" and failed["borrower_id"] == 7
    assert failed["params"] == {"code": "******"} and "123456" not in str(page)
    assert failed["text"] == "【信贷】您的验证码为******，5分钟内有效，请勿告诉他人。"
    assert failed["error"].startswith("PROVIDER_UNAVAILABLE")
    assert (refused["status"], refused["template_version"]) == ("refused", None)
    assert c.call("GET", "/sms/outbox?q=13900000000", "service")["total"] == 0
    assert c.call("GET", "/sms/outbox?status=failed&origin=login", "ops")["total"] >= 1
    c.refused("GET", "/sms/outbox", "finance", 403, "PERMISSION_DENIED")
