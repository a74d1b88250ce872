"""Card binding through the payment channel: four elements, SMS code, expiry, attempts."""

from __future__ import annotations

import pytest

from xindai.integrations.errors import ProviderRejected
from xindai.integrations.http import HttpProviders
from xindai.integrations.ports import CardStatus, CardVerification, PaymentChannel
from xindai.integrations.simulators.people import make_card_number, make_id_number, make_phone
from xindai.integrations.simulators.process import SimulatorProcess


def start(
    providers: HttpProviders, case: str, *, name: str = "李四", bin_prefix: str = "622202"
) -> tuple[CardVerification, str]:
    phone = make_phone(f"card-{case}")
    verification = providers.payment.verify_card(
        name, make_id_number(case), make_card_number(case, bin_prefix=bin_prefix), phone
    )
    return verification, phone


def test_binding_succeeds_with_the_texted_code(
    sim: SimulatorProcess, providers: HttpProviders
) -> None:
    assert isinstance(providers.payment, PaymentChannel)
    verification, phone = start(providers, "ok", bin_prefix="622588")
    assert verification.status is CardStatus.SMS_SENT
    message = sim.control.outbox(phone)[-1]
    assert (message["sender"], message["template_code"]) == ("simpay", "PAY_CARD_VERIFY")
    code = sim.control.last_sms_code(phone)
    assert len(code) == 6 and code.isdigit() and code in message["text"]
    confirmation = providers.payment.confirm_card(verification.verify_ref, code)
    assert confirmation.status is CardStatus.VERIFIED
    assert (confirmation.bank_code, confirmation.bank_name) == ("CMB", "招商银行")
    assert providers.payment.confirm_card(verification.verify_ref, code) == confirmation


def test_a_wrong_code_fails_and_may_be_retyped(
    sim: SimulatorProcess, providers: HttpProviders
) -> None:
    verification, phone = start(providers, "wrong")
    code = sim.control.last_sms_code(phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    failed = providers.payment.confirm_card(verification.verify_ref, wrong)
    assert (failed.status, failed.reason, failed.bank_code) == (
        CardStatus.FAILED,
        "code_mismatch",
        None,
    )
    assert providers.payment.confirm_card(verification.verify_ref, code).status == "verified"


def test_five_wrong_codes_end_the_binding(sim: SimulatorProcess, providers: HttpProviders) -> None:
    verification, phone = start(providers, "five-wrong")
    code = sim.control.last_sms_code(phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    reasons = [
        providers.payment.confirm_card(verification.verify_ref, wrong).reason for _ in "12345"
    ]
    assert reasons == ["code_mismatch"] * 4 + ["too_many_attempts"]
    late = providers.payment.confirm_card(verification.verify_ref, code)
    assert (late.status, late.reason) == (CardStatus.FAILED, "too_many_attempts")


def test_the_code_expires_after_five_minutes(
    sim: SimulatorProcess, providers: HttpProviders
) -> None:
    verification, phone = start(providers, "expired")
    code = sim.control.last_sms_code(phone)
    sim.control.set_clock_offset(299)
    sim.control.set_clock_offset(301)
    expired = providers.payment.confirm_card(verification.verify_ref, code)
    assert (expired.status, expired.reason) == (CardStatus.FAILED, "code_expired")


def test_within_five_minutes_the_code_still_works(
    sim: SimulatorProcess, providers: HttpProviders
) -> None:
    verification, phone = start(providers, "in-time")
    sim.control.set_clock_offset(290)
    code = sim.control.last_sms_code(phone)
    assert providers.payment.confirm_card(verification.verify_ref, code).status == "verified"


@pytest.mark.parametrize(
    ("case", "name", "bin_prefix", "reason"),
    [
        ("mismatch", "假名字", "622202", "elements_mismatch"),
        ("bin", "王五", "123456", "card_bin_unsupported"),  # 999999 is Hua Xia Bank
    ],
)
def test_checks_that_fail_on_confirmation(
    sim: SimulatorProcess,
    providers: HttpProviders,
    case: str,
    name: str,
    bin_prefix: str,
    reason: str,
) -> None:
    verification, phone = start(providers, case, name=name, bin_prefix=bin_prefix)
    code = sim.control.last_sms_code(phone)
    result = providers.payment.confirm_card(verification.verify_ref, code)
    assert (result.status, result.reason) == (CardStatus.FAILED, reason)


def test_malformed_elements_are_refused(providers: HttpProviders) -> None:
    phone = make_phone("card-bad")
    with pytest.raises(ProviderRejected) as info:
        providers.payment.verify_card("赵六", make_id_number(1), "6222020000000001", phone)
    assert info.value.detail == "card_number_invalid"
    with pytest.raises(ProviderRejected) as info:
        providers.payment.verify_card("赵六", "110105194912310021", make_card_number(1), phone)
    assert info.value.detail == "id_number_invalid"
    with pytest.raises(ProviderRejected) as info:
        providers.payment.confirm_card("cv_unknown", "123456")
    assert (info.value.status_code, info.value.detail) == (404, "verify_ref_unknown")
