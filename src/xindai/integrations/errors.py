"""Typed errors of the external-service adapters and of callback verification.

`ProviderUnavailable` means the call may be retried later (network, timeout, 5xx);
`ProviderRejected` means the provider answered and refused the request (4xx).
"""

from __future__ import annotations

from xindai.errors import XindaiError


class ProviderError(XindaiError):
    """A call to an external provider failed; `provider` names it ("sms", "pay" …),
    `status_code` is the HTTP status if there was an answer, `detail` the provider's code."""

    code = "PROVIDER_ERROR"

    def __init__(
        self,
        provider: str,
        message_en: str,
        message_zh: str,
        *,
        status_code: int | None = None,
        detail: str | None = None,
    ):
        self.provider = provider
        self.status_code = status_code
        self.detail = detail
        super().__init__(f"{provider}: {message_en}", f"{provider}：{message_zh}")


class ProviderUnavailable(ProviderError):
    """No usable answer (connection refused, timeout, 5xx) after the allowed retries."""

    code = "PROVIDER_UNAVAILABLE"


class ProviderRejected(ProviderError):
    """The provider answered and refused the request (bad input, conflict, unauthorised)."""

    code = "PROVIDER_REJECTED"


class CallbackRejected(XindaiError):
    """A provider callback that must not be processed."""

    code = "CALLBACK_REJECTED"


class CallbackSignatureInvalid(CallbackRejected):
    """The callback's signature or timestamp header is missing, malformed or wrong."""

    code = "CALLBACK_SIGNATURE_INVALID"


class CallbackExpired(CallbackRejected):
    """The callback's signed timestamp is outside the tolerance window (replay protection)."""

    code = "CALLBACK_EXPIRED"
