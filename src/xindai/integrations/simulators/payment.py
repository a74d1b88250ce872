"""The payment-channel simulator: card binding (four elements + SMS code), payouts and
withholdings answered at once and settled later by signed callbacks, daily statements.

Deterministic rules the tests and the demo rely on:
- the four elements mismatch (confirm fails with `elements_mismatch`) when the name contains
  "假"; a card whose BIN is not in `people.BANKS_BY_BIN` fails with `card_bin_unsupported`;
- the code is 6 digits, texted through the simulator's SMS outbox (template
  PAY_CARD_VERIFY, sender = the channel); it lives `card_code_ttl_s` (300 s) on the
  simulated clock; a wrong code fails with `code_mismatch` and may be retried, the 5th wrong
  one ends the binding (`too_many_attempts`); an expired code ends it (`code_expired`);
- the next N payouts or withholdings fail when `/_control` `fail_next` says so
  (`forced_failure`); a payout to a card ending in "0000" fails (`account_frozen`), a
  withholding from one fails (`insufficient_balance`); a ref forced through `/_control`
  gets the forced outcome; a withholding from a card `/_control` `short_cards` lists fails
  (`insufficient_balance`: its account lacks the money, until `funded_cards` takes it off
  the list); others fail at `failure_rate`;
- a request_ref is paid at most once: the same request again answers the first result, the
  same ref with another amount, card or kind is refused (409 idempotency_conflict);
- a withholding forced through `/_control` `partial` (by reference, or "*" for the next
  one) collects only that many fen (the card held less): its callback, its order query
  (`collected_fen`) and the statement say so;
- `query_delay_ms` holds every order query back that long (a slow channel while a callback
  is being confirmed).

    POST /cards/verify     {name, id_number, card_number, phone} → {verify_ref, status}
    POST /cards/confirm    {verify_ref, sms_code} → {status, reason, bank_code, bank_name}
    POST /payouts          {request_ref, name, card_number, amount_fen, callback_url} → 202
    POST /withholdings     {request_ref, card_number, amount_fen, callback_url} → 202
    GET  /transfers/{ref}  {request_ref, kind, status, amount_fen, collected_fen, reason,
                            occurred_at}   (主动查询: the order query)
    GET  /cards/verifications/{verify_ref}  {verify_ref, status, reason}
    GET  /statements/{YYYY-MM-DD}   text/csv (date,channel,reference,type,amount)
    GET|POST /_control     rates, delays, forced outcomes; {"reset": true} restores them
    POST /_replay/{event_id}        deliver a callback once more, now
    GET  /_callbacks?request_ref=   every delivery attempt
"""

from __future__ import annotations

import asyncio
import csv
import hmac
import io
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any, Literal

from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, Field

from xindai.integrations.ports import CallbackEventType, TransferKind, TransferStatus
from xindai.integrations.simulators.callbacks import CallbackDispatcher
from xindai.integrations.simulators.core import CST, SimError, SimState, provider_app
from xindai.integrations.simulators.people import bank_of, id_number_valid, luhn_valid, phone_valid
from xindai.integrations.simulators.sms import SmsSimulator
from xindai.money import format_yuan

MAX_CODE_ATTEMPTS = 5
DUPLICATE_GAP_S = 0.05
_FAILURE_REASONS = {
    TransferKind.PAYOUT: ("bank_declined", "account_abnormal"),
    TransferKind.WITHHOLD: ("insufficient_balance", "card_limit_exceeded"),
}
_ALWAYS_FAIL_REASON = {
    TransferKind.PAYOUT: "account_frozen",
    TransferKind.WITHHOLD: "insufficient_balance",
}


@dataclass
class PaymentBehaviour:
    """Run-time settings of the channel, changed through `POST /pay/_control`."""

    failure_rate: float
    duplicate_rate: float
    late_rate: float
    late_delay_ms: int
    callback_delay_ms: int
    callback_retry_ms: int
    callback_max_attempts: int
    card_code_ttl_s: int
    query_delay_ms: int = 0
    forced: dict[str, str] = field(default_factory=dict)  # request_ref → succeeded | failed
    partial: dict[str, int] = field(default_factory=dict)  # request_ref → fen collected
    fail_next: dict[str, int] = field(default_factory=dict)  # kind → how many fail
    short_cards: set[str] = field(default_factory=set)  # withholdings from them fail


@dataclass
class CardBinding:
    verify_ref: str
    name: str
    id_number: str
    card_number: str
    phone: str
    code: str
    expires_at: datetime
    attempts: int = 0
    final: dict[str, Any] | None = None


@dataclass
class TransferRecord:
    request_ref: str
    kind: TransferKind
    card_number: str
    amount_fen: int
    name: str
    callback_url: str
    accepted_at: datetime
    outcome: TransferStatus
    reason: str | None
    collected_fen: int = 0  # what moves when it succeeds (less than asked: a partial 代扣)
    status: TransferStatus = TransferStatus.PENDING
    occurred_at: datetime | None = None
    event_id: str | None = None

    def public(self) -> dict[str, Any]:
        succeeded = self.status is TransferStatus.SUCCEEDED
        return {
            "request_ref": self.request_ref,
            "kind": self.kind.value,
            "status": self.status.value,
            "amount_fen": self.amount_fen,
            "collected_fen": self.collected_fen if succeeded else None,
            "reason": self.reason if self.status is TransferStatus.FAILED else None,
            "occurred_at": self.occurred_at.isoformat() if self.occurred_at else None,
        }


class PaymentSimulator:
    def __init__(self, state: SimState, sms: SmsSimulator):
        self.state = state
        self.sms = sms
        self.behaviour = self.default_behaviour()
        self.bindings: dict[str, CardBinding] = {}
        self.transfers: dict[str, TransferRecord] = {}
        self.events: dict[str, tuple[str, dict[str, Any]]] = {}  # event_id → (url, body)
        self.callbacks = CallbackDispatcher(state)

    def default_behaviour(self) -> PaymentBehaviour:
        config = self.state.config
        return PaymentBehaviour(
            failure_rate=config.payment_failure_rate,
            duplicate_rate=config.duplicate_rate,
            late_rate=config.late_rate,
            late_delay_ms=config.late_delay_ms,
            callback_delay_ms=config.callback_delay_ms,
            callback_retry_ms=config.callback_retry_ms,
            callback_max_attempts=config.callback_max_attempts,
            card_code_ttl_s=config.card_code_ttl_s,
        )

    # --- card binding ---------------------------------------------------------------------

    def verify_card(self, name: str, id_number: str, card_number: str, phone: str) -> CardBinding:
        if not name.strip():
            raise SimError(400, "name_required", "the card holder's name is empty")
        if not id_number_valid(id_number):
            raise SimError(400, "id_number_invalid", "not a valid resident ID number")
        if not luhn_valid(card_number):
            raise SimError(400, "card_number_invalid", "the card number fails the Luhn check")
        if not phone_valid(phone):
            raise SimError(400, "phone_invalid", "not a mainland mobile number")
        binding = CardBinding(
            verify_ref=self.state.new_id("cv"),
            name=name,
            id_number=id_number,
            card_number=card_number,
            phone=phone,
            code=f"{self.state.rng.randrange(10**6):06d}",
            expires_at=self.state.clock.now() + timedelta(seconds=self.behaviour.card_code_ttl_s),
        )
        self.sms.send(
            phone,
            "PAY_CARD_VERIFY",
            {
                "channel": self.state.config.channel,
                "card_tail": card_number[-4:],
                "code": binding.code,
            },
            sender=self.state.config.channel,
        )
        self.bindings[binding.verify_ref] = binding
        return binding

    def card_verification(self, verify_ref: str) -> dict[str, Any]:
        """Where a card binding stands (for a platform whose confirm answer was lost)."""
        binding = self.bindings.get(verify_ref)
        if binding is None:
            raise SimError(404, "verify_ref_unknown", f"no card verification {verify_ref!r}")
        if binding.final is not None:
            return {"verify_ref": verify_ref, **binding.final}
        if self.state.clock.now() > binding.expires_at:
            return {"verify_ref": verify_ref, **_failed("code_expired")}
        return {"verify_ref": verify_ref, "status": "sms_sent", "reason": None}

    def confirm_card(self, verify_ref: str, sms_code: str) -> dict[str, Any]:
        binding = self.bindings.get(verify_ref)
        if binding is None:
            raise SimError(404, "verify_ref_unknown", f"no card verification {verify_ref!r}")
        if binding.final is not None:
            return binding.final
        if self.state.clock.now() > binding.expires_at:
            binding.final = _failed("code_expired")
            return binding.final
        if not hmac.compare_digest(binding.code.encode(), sms_code.strip().encode()):
            binding.attempts += 1
            if binding.attempts >= MAX_CODE_ATTEMPTS:
                binding.final = _failed("too_many_attempts")
                return binding.final
            return _failed("code_mismatch")
        bank = bank_of(binding.card_number)
        if "假" in binding.name:
            binding.final = _failed("elements_mismatch")
        elif bank is None:
            binding.final = _failed("card_bin_unsupported")
        else:
            binding.final = {
                "status": "verified",
                "reason": None,
                "bank_code": bank[0],
                "bank_name": bank[1],
            }
        return binding.final

    # --- payouts and withholdings ----------------------------------------------------------

    def submit(
        self,
        kind: TransferKind,
        request_ref: str,
        card_number: str,
        amount_fen: int,
        callback_url: str,
        name: str = "",
    ) -> dict[str, Any]:
        """Accept a transfer (or answer the first acceptance of the same request again)."""
        existing = self.transfers.get(request_ref)
        if existing is not None:
            if (existing.kind, existing.card_number, existing.amount_fen) != (
                kind,
                card_number,
                amount_fen,
            ):
                raise SimError(
                    409,
                    "idempotency_conflict",
                    f"request_ref {request_ref!r} was used for another {existing.kind.value}",
                )
            return {"request_ref": request_ref, "status": "accepted", "duplicate": True}
        if not luhn_valid(card_number):
            raise SimError(400, "card_number_invalid", "the card number fails the Luhn check")
        if not callback_url.startswith(("http://", "https://")):
            raise SimError(400, "callback_url_invalid", "callback_url must be http(s)")
        outcome, reason = self._outcome(kind, request_ref, card_number)
        partial = self.behaviour.partial
        if kind is TransferKind.WITHHOLD and request_ref not in partial and "*" in partial:
            request_ref_key = "*"  # the next withholding, whatever its reference
        else:
            request_ref_key = request_ref
        collected = min(amount_fen, partial.pop(request_ref_key, amount_fen))
        record = TransferRecord(
            request_ref=request_ref,
            kind=kind,
            card_number=card_number,
            amount_fen=amount_fen,
            name=name,
            callback_url=callback_url,
            accepted_at=self.state.clock.now(),
            outcome=outcome,
            reason=reason,
            collected_fen=collected,
        )
        self.transfers[request_ref] = record
        self.callbacks.spawn(self._settle(record))
        return {"request_ref": request_ref, "status": "accepted", "duplicate": False}

    def _outcome(
        self, kind: TransferKind, request_ref: str, card_number: str
    ) -> tuple[TransferStatus, str | None]:
        forced = self.behaviour.forced.pop(request_ref, None)
        if forced is not None:
            if forced == TransferStatus.SUCCEEDED:
                return TransferStatus.SUCCEEDED, None
            return TransferStatus.FAILED, "forced_failure"
        if self.behaviour.fail_next.get(kind.value, 0) > 0:
            self.behaviour.fail_next[kind.value] -= 1
            return TransferStatus.FAILED, "forced_failure"
        if card_number.endswith("0000"):
            return TransferStatus.FAILED, _ALWAYS_FAIL_REASON[kind]
        if kind is TransferKind.WITHHOLD and card_number in self.behaviour.short_cards:
            return TransferStatus.FAILED, "insufficient_balance"
        if self.state.chance(self.behaviour.failure_rate):
            return TransferStatus.FAILED, self.state.rng.choice(_FAILURE_REASONS[kind])
        return TransferStatus.SUCCEEDED, None

    async def _settle(self, record: TransferRecord) -> None:
        behaviour = self.behaviour
        await asyncio.sleep(behaviour.callback_delay_ms / 1000)
        record.status = record.outcome
        record.occurred_at = self.state.clock.now()
        record.event_id = self.state.new_id("evt")
        event_type = CallbackEventType(f"{record.kind.value}.{record.outcome.value}")
        event: dict[str, Any] = {
            "event_id": record.event_id,
            "event": event_type.value,
            "request_ref": record.request_ref,
            "amount_fen": record.amount_fen
            if record.outcome is TransferStatus.FAILED
            else record.collected_fen,
            "occurred_at": record.occurred_at.isoformat(),
        }
        if record.reason is not None and record.outcome is TransferStatus.FAILED:
            event["reason"] = record.reason
        self.events[record.event_id] = (record.callback_url, event)
        late = self.state.chance(behaviour.late_rate)
        duplicate = self.state.chance(behaviour.duplicate_rate)
        if late:
            await asyncio.sleep(behaviour.late_delay_ms / 1000)
        options = {
            "retry_ms": behaviour.callback_retry_ms,
            "max_attempts": behaviour.callback_max_attempts,
        }
        await self.callbacks.deliver(record.callback_url, event, copy=1, **options)
        if duplicate:
            await asyncio.sleep(DUPLICATE_GAP_S)
            await self.callbacks.deliver(record.callback_url, event, copy=2, **options)

    async def replay(self, event_id: str) -> dict[str, Any]:
        found = self.events.get(event_id)
        if found is None:
            raise SimError(404, "event_unknown", f"no event {event_id!r}")
        url, event = found
        delivery = await self.callbacks.post_once(url, event, copy=0, attempt=1)
        return asdict(delivery)

    def statement(self, day: date) -> str:
        """CSV of the transfers that succeeded on `day` (CST), in the reconcile format."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(("date", "channel", "reference", "type", "amount"))
        succeeded = [
            record
            for record in self.transfers.values()
            if record.status is TransferStatus.SUCCEEDED
            and record.occurred_at is not None
            and record.occurred_at.astimezone(CST).date() == day
        ]
        for record in sorted(succeeded, key=lambda r: (r.occurred_at, r.request_ref)):
            kind = "payout" if record.kind is TransferKind.PAYOUT else "collection"
            writer.writerow(
                (
                    day.isoformat(),
                    self.state.config.channel,
                    record.request_ref,
                    kind,
                    format_yuan(record.collected_fen),
                )
            )
        return buffer.getvalue()


def _failed(reason: str) -> dict[str, Any]:
    return {"status": "failed", "reason": reason, "bank_code": None, "bank_name": None}


class VerifyIn(BaseModel):
    name: str
    id_number: str
    card_number: str
    phone: str


class ConfirmIn(BaseModel):
    verify_ref: str
    sms_code: str


class PayoutIn(BaseModel):
    request_ref: str = Field(min_length=1, max_length=64)
    name: str
    card_number: str
    amount_fen: int = Field(gt=0)
    callback_url: str


class WithholdIn(BaseModel):
    request_ref: str = Field(min_length=1, max_length=64)
    card_number: str
    amount_fen: int = Field(gt=0)
    callback_url: str


Rate = Field(default=None, ge=0, le=1)
Millis = Field(default=None, ge=0)


class ControlIn(BaseModel):
    reset: bool = False
    failure_rate: float | None = Rate
    duplicate_rate: float | None = Rate
    late_rate: float | None = Rate
    late_delay_ms: int | None = Millis
    callback_delay_ms: int | None = Millis
    callback_retry_ms: int | None = Millis
    callback_max_attempts: int | None = Field(default=None, ge=1)
    card_code_ttl_s: int | None = Field(default=None, ge=0)
    query_delay_ms: int | None = Millis
    force: dict[str, Literal["succeeded", "failed"]] = {}
    partial: dict[str, int] = {}  # request_ref → fen the withholding collects (≥ 1)
    fail_next: dict[Literal["payout", "withhold"], int] = {}  # the next N of a kind fail
    fail_refs: list[str] = []
    short_cards: list[str] = []  # withholdings from these cards fail until they are funded
    funded_cards: list[str] = []


def create_payment_app(state: SimState, payment: PaymentSimulator) -> FastAPI:
    app = provider_app(
        "pay", f"Payment channel simulator ({state.config.channel}) / 支付通道模拟器", state
    )

    @app.post("/cards/verify")
    async def verify(body: VerifyIn, request: Request) -> Any:
        if (answer := state.replayed("pay", request)) is not None:
            return answer
        binding = payment.verify_card(body.name, body.id_number, body.card_number, body.phone)
        answer = {"verify_ref": binding.verify_ref, "status": "sms_sent"}
        return state.remember("pay", request, answer)

    @app.post("/cards/confirm")
    async def confirm(body: ConfirmIn, request: Request) -> Any:
        if (answer := state.replayed("pay", request)) is not None:
            return answer
        return state.remember("pay", request, payment.confirm_card(body.verify_ref, body.sms_code))

    @app.post("/payouts", status_code=202)
    async def payout(body: PayoutIn) -> dict[str, Any]:
        return payment.submit(
            TransferKind.PAYOUT,
            body.request_ref,
            body.card_number,
            body.amount_fen,
            body.callback_url,
            body.name,
        )

    @app.post("/withholdings", status_code=202)
    async def withhold(body: WithholdIn) -> dict[str, Any]:
        return payment.submit(
            TransferKind.WITHHOLD,
            body.request_ref,
            body.card_number,
            body.amount_fen,
            body.callback_url,
        )

    @app.get("/cards/verifications/{verify_ref}")
    async def card_verification(verify_ref: str) -> dict[str, Any]:
        return payment.card_verification(verify_ref)

    @app.get("/transfers/{request_ref}")
    async def transfer(request_ref: str) -> dict[str, Any]:
        if payment.behaviour.query_delay_ms:
            await asyncio.sleep(payment.behaviour.query_delay_ms / 1000)
        record = payment.transfers.get(request_ref)
        if record is None:
            raise SimError(404, "request_ref_unknown", f"no transfer {request_ref!r}")
        return record.public()

    @app.get("/statements/{day}")
    async def statement(day: date) -> Response:
        return Response(payment.statement(day), media_type="text/csv; charset=utf-8")

    @app.get("/_control")
    async def show_control() -> dict[str, Any]:
        shown = asdict(payment.behaviour)
        shown["short_cards"] = len(payment.behaviour.short_cards)
        return shown

    @app.post("/_control")
    async def control(body: ControlIn) -> dict[str, Any]:
        if body.reset:
            payment.behaviour = payment.default_behaviour()
        for spec in fields(PaymentBehaviour):
            value = getattr(body, spec.name, None)
            if spec.name not in ("forced", "partial", "fail_next", "short_cards") and (
                value is not None
            ):
                setattr(payment.behaviour, spec.name, value)
        payment.behaviour.forced.update(body.force)
        payment.behaviour.partial.update({k: max(1, v) for k, v in body.partial.items()})
        payment.behaviour.fail_next.update({k: max(0, v) for k, v in body.fail_next.items()})
        payment.behaviour.forced.update(dict.fromkeys(body.fail_refs, "failed"))
        payment.behaviour.short_cards.update(body.short_cards)
        payment.behaviour.short_cards.difference_update(body.funded_cards)
        shown = asdict(payment.behaviour)
        shown["short_cards"] = len(payment.behaviour.short_cards)  # card numbers stay inside
        return shown

    @app.post("/_replay/{event_id}")
    async def replay(event_id: str) -> dict[str, Any]:
        return await payment.replay(event_id)

    @app.get("/_callbacks")
    async def deliveries(request_ref: str | None = None) -> dict[str, Any]:
        log = payment.callbacks.log
        chosen = [d for d in log if request_ref is None or d.request_ref == request_ref]
        return {"deliveries": [asdict(d) for d in chosen]}

    @app.get("/_events")
    async def events(request_ref: str | None = None) -> dict[str, Any]:
        bodies = [event for _, event in payment.events.values()]
        return {"events": [e for e in bodies if request_ref in (None, e["request_ref"])]}

    return app
