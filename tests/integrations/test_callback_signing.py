"""Callback signatures: valid, forged, tampered, expired, malformed; the event body."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from xindai.errors import InvalidValue
from xindai.integrations.errors import CallbackExpired, CallbackSignatureInvalid
from xindai.integrations.ports import CallbackEvent, CallbackEventType
from xindai.integrations.signing import sign, signed_headers, verify_callback

SECRET = "s3cret"
NOW = 1_760_000_000
BODY = json.dumps(
    {
        "event_id": "evt_1",
        "event": "payout.succeeded",
        "request_ref": "PO-1",
        "amount_fen": 150000,
        "occurred_at": "2025-10-09T16:53:20+08:00",
    }
).encode()


def headers(body: bytes = BODY, *, at: int = NOW, secret: str = SECRET) -> tuple[str, str]:
    signed = signed_headers(secret, body, now=at)
    return signed["X-Sim-Timestamp"], signed["X-Sim-Signature"]


def test_a_valid_callback_returns_its_body() -> None:
    timestamp, signature = headers()
    payload = verify_callback(SECRET, timestamp, signature, BODY, now=NOW + 10)
    event = CallbackEvent.from_payload(payload)
    assert event.event is CallbackEventType.PAYOUT_SUCCEEDED and event.event.succeeded
    assert (event.request_ref, event.amount_fen, event.reason) == ("PO-1", 150000, None)
    assert event.to_payload() == payload


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), b"123." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, "123", BODY) == expected


def test_now_may_be_an_aware_datetime() -> None:
    timestamp, signature = headers()
    now = datetime.fromtimestamp(NOW, UTC)
    assert verify_callback(SECRET, timestamp, signature, BODY, now=now)["request_ref"] == "PO-1"


@pytest.mark.parametrize(
    ("case", "mutate"),
    [
        ("wrong secret", lambda t, s, b: (t, headers(secret="other")[1], b)),
        ("tampered body", lambda t, s, b: (t, s, b.replace(b"150000", b"950000"))),
        ("other timestamp", lambda t, s, b: (str(int(t) + 1), s, b)),
        ("forged signature", lambda t, s, b: (t, "0" * 64, b)),
        ("no signature", lambda t, s, b: (t, None, b)),
        ("no timestamp", lambda t, s, b: (None, s, b)),
        ("timestamp not a number", lambda t, s, b: ("yesterday", s, b)),
    ],
)
def test_forgeries_are_rejected(case: str, mutate: object) -> None:
    timestamp, signature = headers()
    args = mutate(timestamp, signature, BODY)  # type: ignore[operator]
    with pytest.raises(CallbackSignatureInvalid) as info:
        verify_callback(SECRET, *args, now=NOW)
    assert info.value.code == "CALLBACK_SIGNATURE_INVALID", case


@pytest.mark.parametrize("skew", [301, -301, 86_400])
def test_old_or_future_timestamps_are_expired(skew: int) -> None:
    timestamp, signature = headers(at=NOW - skew)
    with pytest.raises(CallbackExpired) as info:
        verify_callback(SECRET, timestamp, signature, BODY, now=NOW)
    assert info.value.code == "CALLBACK_EXPIRED"
    assert verify_callback(SECRET, timestamp, signature, BODY, now=NOW, tolerance_s=abs(skew))


def test_a_signed_body_that_is_not_a_json_object_is_rejected() -> None:
    for body in (b"[1, 2]", b"not json"):
        timestamp, signature = headers(body)
        with pytest.raises(CallbackSignatureInvalid):
            verify_callback(SECRET, timestamp, signature, body, now=NOW)


def test_a_malformed_event_is_an_invalid_value() -> None:
    with pytest.raises(InvalidValue):
        CallbackEvent.from_payload({"event_id": "e", "event": "payout.exploded"})
