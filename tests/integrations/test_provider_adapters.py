"""The HTTP adapters' failure handling: provider down, injected outages and latency, wrong
secret (against the simulator process), and the retry policy in detail (mock transport)."""

from __future__ import annotations

import httpx
import pytest

from xindai.integrations.errors import ProviderError, ProviderRejected, ProviderUnavailable
from xindai.integrations.http import (
    HttpCreditBureau,
    HttpIdentityProvider,
    HttpPaymentChannel,
    HttpSmsGateway,
    ProviderClient,
    ProviderEndpoint,
)
from xindai.integrations.simulators.people import make_id_number
from xindai.integrations.simulators.process import SimulatorProcess, free_port

PERSON = make_id_number("adapters")


def test_a_provider_that_is_down_is_unavailable() -> None:
    endpoint = ProviderEndpoint(
        f"http://127.0.0.1:{free_port()}/pay", "s", max_attempts=3, backoff_s=0.01
    )
    pauses: list[float] = []
    with (
        HttpPaymentChannel(endpoint, sleep=pauses.append) as channel,
        pytest.raises(ProviderUnavailable) as info,
    ):
        channel.payout("PO-1", "张三", "6222020000000009", 100, "http://127.0.0.1:1/cb")
    assert isinstance(info.value, ProviderError)
    assert (info.value.code, info.value.provider, info.value.status_code) == (
        "PROVIDER_UNAVAILABLE",
        "pay",
        None,
    )
    assert pauses == [0.01, 0.02]  # three attempts, exponential backoff
    assert "无法" in info.value.message_zh or "失败" in info.value.message_zh


def test_injected_outages_are_retried_then_given_up(sim: SimulatorProcess) -> None:
    with HttpCreditBureau(sim.endpoint("bureau", max_attempts=3, backoff_s=0.01)) as bureau:
        sim.control.set_faults("bureau", fail_next=2)
        assert bureau.report(PERSON, "张三").reported_on  # third attempt gets through
        sim.control.set_faults("bureau", error_rate=1.0)
        with pytest.raises(ProviderUnavailable) as info:
            bureau.report(PERSON, "张三")
    assert info.value.status_code == 503


def test_a_slow_provider_times_out(sim: SimulatorProcess) -> None:
    sim.control.set_faults("identity", latency_ms=500)
    endpoint = sim.endpoint("identity", timeout_s=0.1, max_attempts=2, backoff_s=0.01)
    with HttpIdentityProvider(endpoint) as identity, pytest.raises(ProviderUnavailable):
        identity.verify_id_name(PERSON, "张三")


def test_a_wrong_secret_is_rejected(sim: SimulatorProcess) -> None:
    endpoint = ProviderEndpoint(sim.url("sms"), "not-the-secret")
    with HttpSmsGateway(endpoint) as sms, pytest.raises(ProviderRejected) as info:
        sms.send("13800138000", "OTP", {"code": "123456"})
    assert (info.value.code, info.value.status_code, info.value.detail) == (
        "PROVIDER_REJECTED",
        401,
        "unauthorized",
    )


def scripted(
    *answers: int | type[httpx.TransportError],
) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, int):
            return httpx.Response(answer, json={"code": f"c{answer}", "message": "m", "ok": 1})
        raise answer("scripted", request=request)

    return httpx.MockTransport(handle), seen


def client(transport: httpx.MockTransport, attempts: int = 3) -> ProviderClient:
    endpoint = ProviderEndpoint("http://provider.test/x", "k", max_attempts=attempts)
    return ProviderClient("test", endpoint, transport=transport, sleep=lambda _: None)


@pytest.mark.parametrize(
    ("answers", "idempotent", "calls", "outcome"),
    [
        ((503, 502, 200), True, 3, "ok"),
        ((429, 200), True, 2, "ok"),
        ((httpx.ReadTimeout, 200), True, 2, "ok"),
        ((httpx.ConnectError, 200), False, 2, "ok"),  # never reached: safe to repeat
        ((503,), False, 1, "unavailable"),
        ((httpx.ReadTimeout,), False, 1, "unavailable"),
        ((503, 503, 503), True, 3, "unavailable"),
        ((400,), True, 1, "rejected"),
        ((409,), True, 1, "rejected"),
    ],
)
def test_retry_policy(
    answers: tuple[int | type[httpx.TransportError], ...],
    idempotent: bool,
    calls: int,
    outcome: str,
) -> None:
    transport, seen = scripted(*answers)
    provider = client(transport)
    if outcome == "ok":
        assert provider.call("POST", "/a", payload={}, idempotent=idempotent)["ok"] == 1
    else:
        expected = ProviderUnavailable if outcome == "unavailable" else ProviderRejected
        with pytest.raises(expected):
            provider.call("POST", "/a", payload={}, idempotent=idempotent)
    assert len(seen) == calls


def test_requests_are_signed_and_keyed() -> None:
    transport, seen = scripted(200, 200)
    provider = client(transport)
    provider.call("POST", "/a", payload={"x": "元"}, idempotency_key="PO-7")
    provider.call("POST", "/a", payload={"x": "元"}, idempotency_key="PO-7")
    first, again = seen
    assert first.headers["Idempotency-Key"] == again.headers["Idempotency-Key"] == "PO-7"
    assert first.headers["X-Sim-Timestamp"].isdigit()
    assert len(first.headers["X-Sim-Signature"]) == 64
    assert first.url == httpx.URL("http://provider.test/x/a")
    assert first.content == '{"x":"元"}'.encode()


def test_a_rejection_carries_the_provider_code() -> None:
    transport, _ = scripted(409)
    with pytest.raises(ProviderRejected) as info:
        client(transport).call("POST", "/a", payload={})
    assert (info.value.status_code, info.value.detail) == (409, "c409")


def test_an_answer_that_is_not_json_is_unavailable() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>"))
    with pytest.raises(ProviderUnavailable) as info:
        client(transport).call("GET", "/a")
    assert info.value.detail == "malformed_response"
