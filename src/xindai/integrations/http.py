"""HTTP adapters of the ports (httpx): one per provider, configured by a `ProviderEndpoint`
(base URL + shared secret).

Every request is signed like a callback (`X-Sim-Timestamp`, `X-Sim-Signature` over the raw
body, see `signing`) and every POST carries an `Idempotency-Key` (the `request_ref` for
payouts and withholdings, a fresh UUID per logical call otherwise), so that every call is safe
to retry: a connection that could not be opened is always retried, a timeout or a 429/5xx
answer is retried for idempotent calls, with exponential backoff; what is left raises
`ProviderUnavailable`. A 4xx answer raises `ProviderRejected` with the provider's code.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from xindai.integrations.errors import ProviderRejected, ProviderUnavailable
from xindai.integrations.ports import (
    Accepted,
    CardConfirmation,
    CardStatus,
    CardVerification,
    IdCheck,
    Liveness,
    Signature,
    SmsReceipt,
    SmsStatus,
    Transfer,
    TransferKind,
    TransferStatus,
)
from xindai.integrations.signing import signed_headers
from xindai.integrations.wire import bureau_report_from_json
from xindai.money import Fen
from xindai.risk.antifraud.bureau import BureauReport

IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True, slots=True)
class ProviderEndpoint:
    """Where a provider lives and how to talk to it; times in seconds. A call makes at most
    `max_attempts` requests, waiting `backoff_s`, 2×`backoff_s` … between them."""

    base_url: str
    secret: str
    timeout_s: float = 5.0
    connect_timeout_s: float = 2.0
    max_attempts: int = 3
    backoff_s: float = 0.2


def _path(template: str, *values: str) -> str:
    return template.format(*(quote(value, safe="") for value in values))


class ProviderClient:
    """Signed, retried JSON calls to one provider; `transport` replaces the network in tests."""

    def __init__(
        self,
        provider: str,
        endpoint: ProviderEndpoint,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ):
        self.provider = provider
        self.endpoint = endpoint
        self._sleep = sleep
        self._clock = clock
        self._client = httpx.Client(
            base_url=endpoint.base_url.rstrip("/"),
            timeout=httpx.Timeout(endpoint.timeout_s, connect=endpoint.connect_timeout_s),
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        payload: Any = None,
        content: bytes | None = None,
        content_type: str = "application/json",
        idempotency_key: str | None = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """The first answer below 400; see the module docstring for retries and errors."""
        if content is None and payload is not None:
            content = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        body = content or b""
        problem, status_code = "no attempt made", None
        for attempt in range(1, max(1, self.endpoint.max_attempts) + 1):
            headers = signed_headers(self.endpoint.secret, body, now=self._clock())
            if body:
                headers["Content-Type"] = content_type
            if idempotency_key is not None:
                headers[IDEMPOTENCY_HEADER] = idempotency_key
            try:
                response = self._client.request(method, path, content=body, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # the request never reached the provider: always safe to repeat
                problem, status_code, retryable = f"cannot connect ({exc})", None, True
            except httpx.TransportError as exc:
                problem, status_code = f"{type(exc).__name__} ({exc})", None
                retryable = idempotent
            else:
                if response.status_code < 400:
                    return response
                if response.status_code != 429 and response.status_code < 500:
                    code, message = _error_detail(response)
                    raise ProviderRejected(
                        self.provider,
                        f"{method} {path} refused with HTTP {response.status_code}: {message}",
                        f"{method} {path} 被拒绝（HTTP {response.status_code}）：{message}",
                        status_code=response.status_code,
                        detail=code,
                    )
                problem, status_code = f"HTTP {response.status_code}", response.status_code
                retryable = idempotent
            if not retryable or attempt >= self.endpoint.max_attempts:
                break
            self._sleep(self.endpoint.backoff_s * 2 ** (attempt - 1))
        raise ProviderUnavailable(
            self.provider,
            f"{method} {path} failed after {attempt} attempt(s): {problem}",
            f"{method} {path} 调用 {attempt} 次均失败：{problem}",
            status_code=status_code,
            detail="unavailable",
        )

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """`request` and decode the JSON object answered."""
        response = self.request(method, path, **kwargs)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ProviderUnavailable(
                self.provider,
                f"{method} {path} answered something that is not a JSON object",
                f"{method} {path} 返回的不是 JSON 对象",
                status_code=response.status_code,
                detail="malformed_response",
            )
        return data


def _error_detail(response: httpx.Response) -> tuple[str, str]:
    try:
        data = response.json()
    except ValueError:
        return "http_" + str(response.status_code), response.text[:200]
    if isinstance(data, dict):
        detail = data.get("detail")
        if isinstance(detail, dict):
            data = detail
        code = str(data.get("code") or f"http_{response.status_code}")
        return code, str(data.get("message") or detail or code)
    return "http_" + str(response.status_code), str(data)[:200]


def _new_key() -> str:
    return uuid.uuid4().hex


class _HttpAdapter:
    provider = "provider"

    def __init__(
        self,
        endpoint: ProviderEndpoint,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.client = ProviderClient(self.provider, endpoint, transport=transport, sleep=sleep)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class HttpSmsGateway(_HttpAdapter):
    """`SmsGateway` over HTTP: POST /messages, GET /messages/{id}."""

    provider = "sms"

    def send(self, phone: str, template_code: str, params: dict[str, str]) -> SmsReceipt:
        data = self.client.call(
            "POST",
            "/messages",
            payload={"phone": phone, "template_code": template_code, "params": params},
            idempotency_key=_new_key(),
        )
        return SmsReceipt(str(data["message_id"]), SmsStatus(data["status"]))

    def status(self, message_id: str) -> SmsReceipt:
        """The delivery status of a message sent earlier."""
        data = self.client.call("GET", _path("/messages/{}", message_id))
        return SmsReceipt(str(data["message_id"]), SmsStatus(data["status"]))

    def register_template(self, code: str, text: str) -> None:
        """Register a template the lender approved, so that messages may use it (gateways
        send only templates registered with them)."""
        self.client.call(
            "POST",
            "/templates",
            payload={"code": code, "text": text},
            idempotency_key=_new_key(),
        )


def _transfer(data: dict[str, Any]) -> Transfer:
    occurred_at = data.get("occurred_at")
    return Transfer(
        request_ref=str(data["request_ref"]),
        kind=TransferKind(data["kind"]),
        status=TransferStatus(data["status"]),
        amount_fen=int(data["amount_fen"]),
        reason=data.get("reason"),
        occurred_at=datetime.fromisoformat(occurred_at) if occurred_at else None,
        collected_fen=None if data.get("collected_fen") is None else int(data["collected_fen"]),
    )


class HttpPaymentChannel(_HttpAdapter):
    """`PaymentChannel` over HTTP: /cards/verify, /cards/confirm, /payouts, /withholdings,
    /transfers/{ref}, /statements/{day}."""

    provider = "pay"

    def verify_card(
        self, name: str, id_number: str, card_number: str, phone: str
    ) -> CardVerification:
        data = self.client.call(
            "POST",
            "/cards/verify",
            payload={
                "name": name,
                "id_number": id_number,
                "card_number": card_number,
                "phone": phone,
            },
            idempotency_key=_new_key(),
        )
        return CardVerification(str(data["verify_ref"]), CardStatus(data["status"]))

    def confirm_card(self, verify_ref: str, sms_code: str) -> CardConfirmation:
        data = self.client.call(
            "POST",
            "/cards/confirm",
            payload={"verify_ref": verify_ref, "sms_code": sms_code},
            idempotency_key=_new_key(),
        )
        return CardConfirmation(
            CardStatus(data["status"]),
            data.get("reason"),
            data.get("bank_code"),
            data.get("bank_name"),
        )

    def card_verification(self, verify_ref: str) -> CardConfirmation:
        data = self.client.call("GET", _path("/cards/verifications/{}", verify_ref))
        return CardConfirmation(
            CardStatus(data["status"]),
            data.get("reason"),
            data.get("bank_code"),
            data.get("bank_name"),
        )

    def _transfer_request(self, path: str, request_ref: str, payload: dict[str, Any]) -> Accepted:
        data = self.client.call(
            "POST",
            path,
            payload={"request_ref": request_ref, **payload},
            idempotency_key=request_ref,
        )
        return Accepted(str(data["request_ref"]), TransferStatus(data["status"]))

    def payout(
        self, request_ref: str, name: str, card_number: str, amount_fen: Fen, callback_url: str
    ) -> Accepted:
        return self._transfer_request(
            "/payouts",
            request_ref,
            {
                "name": name,
                "card_number": card_number,
                "amount_fen": amount_fen,
                "callback_url": callback_url,
            },
        )

    def withhold(
        self, request_ref: str, card_number: str, amount_fen: Fen, callback_url: str
    ) -> Accepted:
        return self._transfer_request(
            "/withholdings",
            request_ref,
            {"card_number": card_number, "amount_fen": amount_fen, "callback_url": callback_url},
        )

    def query(self, request_ref: str) -> Transfer:
        return _transfer(self.client.call("GET", _path("/transfers/{}", request_ref)))

    def statement(self, day: date) -> str:
        response = self.client.request("GET", _path("/statements/{}", day.isoformat()))
        return response.content.decode("utf-8")


class HttpCreditBureau(_HttpAdapter):
    """`CreditBureau` over HTTP: POST /reports. Loans of `own_lenders` (the platform's own
    names at the bureau) are dropped from the report, as the risk engine expects."""

    provider = "bureau"

    def __init__(
        self,
        endpoint: ProviderEndpoint,
        *,
        own_lenders: Iterable[str] = (),
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        super().__init__(endpoint, transport=transport, sleep=sleep)
        self.own_lenders = frozenset(own_lenders)

    def report(self, id_number: str, name: str, *, as_of: date | None = None) -> BureauReport:
        payload: dict[str, str] = {"id_number": id_number, "name": name}
        if as_of is not None:
            payload["as_of"] = as_of.isoformat()
        data = self.client.call("POST", "/reports", payload=payload, idempotency_key=_new_key())
        return bureau_report_from_json(data, drop_lenders=self.own_lenders)


class HttpIdentityProvider(_HttpAdapter):
    """`IdentityProvider` over HTTP: POST /id-name, POST /liveness (raw image bytes)."""

    provider = "identity"

    def verify_id_name(self, id_number: str, name: str) -> IdCheck:
        data = self.client.call(
            "POST",
            "/id-name",
            payload={"id_number": id_number, "name": name},
            idempotency_key=_new_key(),
        )
        return IdCheck(bool(data["match"]), str(data["reason"]))

    def liveness(self, image: bytes) -> Liveness:
        data = self.client.call(
            "POST",
            "/liveness",
            content=image,
            content_type="application/octet-stream",
            idempotency_key=_new_key(),
        )
        return Liveness(bool(data["passed"]), float(data["score"]))


class HttpESignature(_HttpAdapter):
    """`ESignature` over HTTP: POST /signatures, POST /signatures/{ref}/verify."""

    provider = "esign"

    def sign(self, document_sha256: str, signer_name: str, signer_id_number: str) -> Signature:
        data = self.client.call(
            "POST",
            "/signatures",
            payload={
                "document_sha256": document_sha256,
                "signer_name": signer_name,
                "signer_id_number": signer_id_number,
            },
            idempotency_key=_new_key(),
        )
        return Signature(
            str(data["signature_ref"]),
            datetime.fromisoformat(data["signed_at"]),
            str(data["signature_hex"]),
        )

    def verify(self, signature_ref: str, document_sha256: str) -> bool:
        data = self.client.call(
            "POST",
            _path("/signatures/{}/verify", signature_ref),
            payload={"document_sha256": document_sha256},
        )
        return bool(data["valid"])


@dataclass(frozen=True, slots=True)
class HttpProviders:
    """The five adapters together (e.g. all pointed at one simulator process)."""

    sms: HttpSmsGateway
    payment: HttpPaymentChannel
    bureau: HttpCreditBureau
    identity: HttpIdentityProvider
    esign: HttpESignature

    @classmethod
    def at(
        cls,
        base_url: str,
        secret: str,
        *,
        prefixes: dict[str, str] | None = None,
        own_lenders: Iterable[str] = (),
        **endpoint_options: Any,
    ) -> HttpProviders:
        """Adapters for providers under `base_url` + prefix (default the simulator's:
        /sms, /pay, /bureau, /identity, /esign)."""
        paths = {"sms": "/sms", "pay": "/pay", "bureau": "/bureau"}
        paths |= {"identity": "/identity", "esign": "/esign"} | (prefixes or {})
        root = base_url.rstrip("/")

        def endpoint(name: str) -> ProviderEndpoint:
            return ProviderEndpoint(root + paths[name], secret, **endpoint_options)

        return cls(
            sms=HttpSmsGateway(endpoint("sms")),
            payment=HttpPaymentChannel(endpoint("pay")),
            bureau=HttpCreditBureau(endpoint("bureau"), own_lenders=own_lenders),
            identity=HttpIdentityProvider(endpoint("identity")),
            esign=HttpESignature(endpoint("esign")),
        )

    def close(self) -> None:
        for adapter in (self.sms, self.payment, self.bureau, self.identity, self.esign):
            adapter.close()
