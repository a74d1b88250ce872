"""SMS gateway simulator through the HTTP adapter: templates, outbox, delivery status."""

from __future__ import annotations

import pytest

from xindai.integrations.errors import ProviderRejected
from xindai.integrations.http import HttpProviders
from xindai.integrations.ports import SmsGateway, SmsStatus
from xindai.integrations.simulators.people import make_phone
from xindai.integrations.simulators.process import SimulatorProcess


def test_an_otp_lands_in_the_outbox(sim: SimulatorProcess, providers: HttpProviders) -> None:
    phone = make_phone("sms-otp")
    assert isinstance(providers.sms, SmsGateway)
    receipt = providers.sms.send(phone, "OTP", {"code": "246810"})
    assert receipt.status is SmsStatus.SENT
    [message] = sim.control.outbox(phone)
    assert message["message_id"] == receipt.message_id
    assert message["text"] == "【信贷】您的验证码为246810，5分钟内有效，请勿告诉他人。"
    assert sim.control.last_sms_code(phone) == "246810"
    assert providers.sms.status(receipt.message_id).status is SmsStatus.DELIVERED


def test_numbers_ending_0000_are_never_delivered(providers: HttpProviders) -> None:
    receipt = providers.sms.send("13912340000", "REPAYMENT_RECEIVED", {"amount": "100.00"})
    assert providers.sms.status(receipt.message_id).status is SmsStatus.FAILED


@pytest.mark.parametrize(
    ("phone", "template", "params", "detail"),
    [
        ("13800138000", "NOT_APPROVED", {}, "template_not_approved"),
        ("13800138000", "OVERDUE_NOTICE", {"days": "3"}, "template_params_missing"),
        ("02112345678", "OTP", {"code": "1"}, "phone_invalid"),
    ],
)
def test_refusals(
    providers: HttpProviders, phone: str, template: str, params: dict[str, str], detail: str
) -> None:
    with pytest.raises(ProviderRejected) as info:
        providers.sms.send(phone, template, params)
    assert (info.value.code, info.value.status_code, info.value.detail) == (
        "PROVIDER_REJECTED",
        400,
        detail,
    )


def test_operations_approve_a_template(sim: SimulatorProcess, providers: HttpProviders) -> None:
    sim.control.approve_template("BIRTHDAY", "【信贷】{name}，生日快乐！")
    phone = make_phone("sms-birthday")
    providers.sms.send(phone, "BIRTHDAY", {"name": "张三"})
    assert sim.control.outbox(phone)[-1]["text"] == "【信贷】张三，生日快乐！"


def test_a_repeated_idempotency_key_sends_once(
    sim: SimulatorProcess, providers: HttpProviders
) -> None:
    phone = make_phone("sms-idempotent")
    body = {"phone": phone, "template_code": "OTP", "params": {"code": "111111"}}
    first = providers.sms.client.call("POST", "/messages", payload=body, idempotency_key="k-1")
    again = providers.sms.client.call("POST", "/messages", payload=body, idempotency_key="k-1")
    assert first == again
    assert len(sim.control.outbox(phone)) == 1


def test_an_injected_outage_is_retried_without_a_second_message(
    sim: SimulatorProcess, providers: HttpProviders
) -> None:
    phone = make_phone("sms-retry")
    sim.control.set_faults("sms", fail_next=2)
    providers.sms.send(phone, "OTP", {"code": "333333"})
    assert len(sim.control.outbox(phone)) == 1
