"""The ports of the external services (SPEC §12): what the platform needs from an SMS
gateway, a payment channel, a credit bureau, an identity provider and an e-signature service.

Each port is a `typing.Protocol`; requests and results are frozen dataclasses. Amounts are
integer fen, times are timezone-aware. Adapters raise `ProviderUnavailable` (retry later) or
`ProviderRejected` (the provider refused) from `xindai.integrations.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from xindai.errors import InvalidValue
from xindai.money import Fen
from xindai.risk.antifraud.bureau import BureauReport

# --- SMS ------------------------------------------------------------------------------------


class SmsStatus(StrEnum):
    SENT = "sent"  # accepted by the gateway, handed to the carrier
    DELIVERED = "delivered"  # the handset acknowledged it
    FAILED = "failed"  # the carrier could not deliver it


@dataclass(frozen=True, slots=True)
class SmsReceipt:
    message_id: str
    status: SmsStatus


@runtime_checkable
class SmsGateway(Protocol):
    def send(self, phone: str, template_code: str, params: dict[str, str]) -> SmsReceipt:
        """Send the operations-approved template `template_code` rendered with `params`."""
        ...


# --- payment channel --------------------------------------------------------------------------


class CardStatus(StrEnum):
    SMS_SENT = "sms_sent"  # four elements received, the channel texted a code to the phone
    VERIFIED = "verified"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CardVerification:
    verify_ref: str
    status: CardStatus = CardStatus.SMS_SENT


@dataclass(frozen=True, slots=True)
class CardConfirmation:
    """`reason` is set when `status` is failed: elements_mismatch, code_mismatch,
    code_expired, too_many_attempts; the bank is known when verified."""

    status: CardStatus
    reason: str | None = None
    bank_code: str | None = None
    bank_name: str | None = None


class TransferKind(StrEnum):
    PAYOUT = "payout"  # 放款: platform → borrower's card
    WITHHOLD = "withhold"  # 代扣: borrower's card → platform


class TransferStatus(StrEnum):
    ACCEPTED = "accepted"  # the channel took the instruction; the result comes by callback
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Accepted:
    request_ref: str
    status: TransferStatus = TransferStatus.ACCEPTED


@dataclass(frozen=True, slots=True)
class Transfer:
    """A payout or withholding as the channel knows it (the order query, 主动查询: what
    confirms a callback before anything is posted, and resolves a request whose callback never
    came); `occurred_at` is set once it succeeded or failed. `amount_fen` is what was asked,
    `collected_fen` what actually moved (set when it succeeded; a withholding from a card
    that held less collects less)."""

    request_ref: str
    kind: TransferKind
    status: TransferStatus
    amount_fen: Fen
    reason: str | None = None
    occurred_at: datetime | None = None
    collected_fen: Fen | None = None

    @property
    def moved_fen(self) -> Fen:
        """The fen that moved: what was collected (or paid out); 0 unless it succeeded."""
        if self.status is not TransferStatus.SUCCEEDED:
            return 0
        return self.amount_fen if self.collected_fen is None else self.collected_fen


class CallbackEventType(StrEnum):
    PAYOUT_SUCCEEDED = "payout.succeeded"
    PAYOUT_FAILED = "payout.failed"
    WITHHOLD_SUCCEEDED = "withhold.succeeded"
    WITHHOLD_FAILED = "withhold.failed"

    @property
    def succeeded(self) -> bool:
        return self.value.endswith(".succeeded")


@dataclass(frozen=True, slots=True)
class CallbackEvent:
    """The body of a payment callback. The same `event_id` may arrive more than once and
    callbacks may arrive late or out of order: process each `event_id` once."""

    event_id: str
    event: CallbackEventType
    request_ref: str
    amount_fen: Fen
    occurred_at: datetime
    reason: str | None = None

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> CallbackEvent:
        """Parse a verified callback body (see `signing.verify_callback`)."""
        try:
            event = CallbackEventType(payload["event"])
            amount = payload["amount_fen"]
            if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
                raise ValueError("amount_fen")
            occurred_at = datetime.fromisoformat(str(payload["occurred_at"]))
            event_id, request_ref = str(payload["event_id"]), str(payload["request_ref"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidValue(
                "callback", payload, f"malformed callback body ({exc})", "回调内容格式错误"
            ) from None
        reason = payload.get("reason")
        return cls(event_id, event, request_ref, amount, occurred_at, reason and str(reason))

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "event_id": self.event_id,
            "event": self.event.value,
            "request_ref": self.request_ref,
            "amount_fen": self.amount_fen,
            "occurred_at": self.occurred_at.isoformat(),
        }
        if self.reason is not None:
            payload["reason"] = self.reason
        return payload


@runtime_checkable
class PaymentChannel(Protocol):
    def verify_card(
        self, name: str, id_number: str, card_number: str, phone: str
    ) -> CardVerification:
        """Start the four-element check; the channel texts a 6-digit code to `phone`."""
        ...

    def confirm_card(self, verify_ref: str, sms_code: str) -> CardConfirmation: ...

    def card_verification(self, verify_ref: str) -> CardConfirmation:
        """Where a card binding stands now (sms_sent while the code is still awaited)."""
        ...

    def payout(
        self, request_ref: str, name: str, card_number: str, amount_fen: Fen, callback_url: str
    ) -> Accepted:
        """Pay `amount_fen` to the card; idempotent on `request_ref`; result by callback."""
        ...

    def withhold(
        self, request_ref: str, card_number: str, amount_fen: Fen, callback_url: str
    ) -> Accepted:
        """Collect `amount_fen` from the card; idempotent on `request_ref`."""
        ...

    def query(self, request_ref: str) -> Transfer:
        """The channel's current record of a payout or withholding; `ProviderRejected` with
        status 404 when the channel never accepted `request_ref`."""
        ...

    def statement(self, day: date) -> str:
        """The day's statement CSV (`date,channel,reference,type,amount`, see
        `xindai.ledger.reconcile`): every payout and withholding that succeeded that day."""
        ...


# --- credit bureau, identity, e-signature ----------------------------------------------------


@runtime_checkable
class CreditBureau(Protocol):
    def report(self, id_number: str, name: str, *, as_of: date | None = None) -> BureauReport:
        """The person's report dated `as_of` (default: the bureau's today)."""
        ...


@dataclass(frozen=True, slots=True)
class IdCheck:
    """`reason`: match, name_mismatch or id_number_invalid."""

    match: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Liveness:
    """`score` in [0, 1]; `passed` when it reaches the provider's threshold."""

    passed: bool
    score: float


@runtime_checkable
class IdentityProvider(Protocol):
    def verify_id_name(self, id_number: str, name: str) -> IdCheck: ...

    def liveness(self, image: bytes) -> Liveness: ...


@dataclass(frozen=True, slots=True)
class Signature:
    signature_ref: str
    signed_at: datetime
    signature_hex: str


@runtime_checkable
class ESignature(Protocol):
    def sign(self, document_sha256: str, signer_name: str, signer_id_number: str) -> Signature:
        """Sign the document with hash `document_sha256` (64 hex digits) for the signer."""
        ...

    def verify(self, signature_ref: str, document_sha256: str) -> bool:
        """Whether `signature_ref` is a signature of exactly this document."""
        ...
