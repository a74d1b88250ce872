"""HMAC-SHA256 signing of provider messages: callbacks to the platform and adapter requests.

The signature is the hex HMAC-SHA256 under the shared secret of `timestamp + "." + raw body`,
where `timestamp` is whole Unix seconds as decimal text; it travels in the headers
`X-Sim-Timestamp` and `X-Sim-Signature`. Verification compares in constant time and rejects
a timestamp more than `tolerance_s` away from now, so that a captured message cannot be
replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from xindai.integrations.errors import CallbackExpired, CallbackSignatureInvalid

TIMESTAMP_HEADER = "X-Sim-Timestamp"
SIGNATURE_HEADER = "X-Sim-Signature"
DEFAULT_TOLERANCE_S = 300


def sign(secret: str, timestamp: str, raw_body: bytes) -> str:
    """The hex HMAC-SHA256 under `secret` of `timestamp + "." + raw_body`."""
    message = timestamp.encode("ascii") + b"." + raw_body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, raw_body: bytes, *, now: float) -> dict[str, str]:
    """The two signature headers for `raw_body` sent at Unix time `now` (seconds)."""
    timestamp = str(int(now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, raw_body)}


def _unix_seconds(now: datetime | float) -> float:
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return now.timestamp()
    return float(now)


def check_signature(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    raw_body: bytes,
    *,
    now: datetime | float,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> None:
    """Raise `CallbackSignatureInvalid` unless `signature` signs `timestamp` and `raw_body`
    under `secret`, and `CallbackExpired` when `timestamp` is more than `tolerance_s`
    seconds from `now` (an aware datetime or Unix seconds)."""
    if not timestamp or not signature:
        raise CallbackSignatureInvalid(
            "signature or timestamp header missing", "缺少签名或时间戳请求头"
        )
    if not timestamp.isascii() or not timestamp.isdigit():
        raise CallbackSignatureInvalid(
            f"timestamp {timestamp!r} is not Unix seconds", f"时间戳 {timestamp!r} 格式错误"
        )
    expected = sign(secret, timestamp, raw_body)
    # constant-time: a timing side channel must not reveal how much of a forgery is right
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().lower().encode()):
        raise CallbackSignatureInvalid("signature does not match", "签名不匹配")
    age = abs(_unix_seconds(now) - int(timestamp))
    if age > tolerance_s:
        raise CallbackExpired(
            f"timestamp is {int(age)} s from now, more than {tolerance_s} s",
            f"时间戳与当前时间相差 {int(age)} 秒，超过 {tolerance_s} 秒",
        )


def verify_callback(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    raw_body: bytes,
    *,
    now: datetime | float,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> dict[str, Any]:
    """The JSON object of a provider callback after checking its signature (see
    `check_signature`); a body that is not a JSON object raises `CallbackSignatureInvalid`
    too, as no honest provider signs one."""
    check_signature(secret, timestamp, signature, raw_body, now=now, tolerance_s=tolerance_s)
    try:
        payload = json.loads(raw_body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CallbackSignatureInvalid("body is not JSON", "回调内容不是 JSON") from None
    if not isinstance(payload, dict):
        raise CallbackSignatureInvalid("body is not a JSON object", "回调内容不是 JSON 对象")
    return payload
