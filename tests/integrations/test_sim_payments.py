"""Payouts and withholdings through the payment adapter, with the signed callbacks received
by a real HTTP server in the test, and the statement read by the reconciliation parser."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from xindai.integrations.errors import CallbackExpired, ProviderRejected
from xindai.integrations.http import HttpProviders
from xindai.integrations.ports import (
    CallbackEvent,
    CallbackEventType,
    TransferKind,
    TransferStatus,
)
from xindai.integrations.signing import verify_callback
from xindai.integrations.simulators.control import wait_until
from xindai.integrations.simulators.core import CST
from xindai.integrations.simulators.people import make_card_number
from xindai.integrations.simulators.process import SimulatorProcess
from xindai.integrations.simulators.receiver import CallbackReceiver, Received
from xindai.ledger.reconcile import read_statement

SECRET = "test-secret"  # the session simulator's, see conftest.py
CARD = make_card_number("borrower")
FROZEN_CARD = make_card_number("frozen", suffix="0000")


def new_ref(prefix: str = "PO") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def deliveries(sim: SimulatorProcess, ref: str, count: int) -> list[dict[str, Any]] | None:
    """The simulator's delivery log for `ref` once it has `count` entries."""
    log = sim.control.callbacks(ref)
    return log if len(log) >= count else None


def verified(received: Received) -> CallbackEvent:
    """What the platform's callback endpoint does: check the signature, parse the event."""
    payload = verify_callback(
        SECRET,
        received.headers.get("X-Sim-Timestamp"),
        received.headers.get("X-Sim-Signature"),
        received.body,
        now=time.time(),
    )
    return CallbackEvent.from_payload(payload)


def test_a_payout_is_settled_by_a_signed_callback(
    sim: SimulatorProcess, providers: HttpProviders, receiver: CallbackReceiver
) -> None:
    ref = new_ref()
    accepted = providers.payment.payout(ref, "张三", CARD, 250_000, receiver.url)
    assert (accepted.request_ref, accepted.status) == (ref, TransferStatus.ACCEPTED)
    [received] = receiver.wait_for(1)
    assert received.path == "/callbacks/pay"
    event = verified(received)
    assert event.event is CallbackEventType.PAYOUT_SUCCEEDED
    assert (event.request_ref, event.amount_fen, event.reason) == (ref, 250_000, None)
    assert received.headers["X-Sim-Event-Id"] == event.event_id
    assert event.occurred_at.tzinfo is not None
    transfer = providers.payment.query(ref)
    assert (transfer.kind, transfer.status, transfer.amount_fen) == (
        TransferKind.PAYOUT,
        TransferStatus.SUCCEEDED,
        250_000,
    )
    assert transfer.occurred_at == event.occurred_at


def test_a_payout_to_a_card_ending_0000_fails(
    providers: HttpProviders, receiver: CallbackReceiver
) -> None:
    ref = new_ref()
    providers.payment.payout(ref, "张三", FROZEN_CARD, 100_000, receiver.url)
    event = verified(receiver.wait_for(1)[0])
    assert (event.event, event.reason) == (CallbackEventType.PAYOUT_FAILED, "account_frozen")
    assert providers.payment.query(ref).status is TransferStatus.FAILED


def test_withholding(providers: HttpProviders, receiver: CallbackReceiver) -> None:
    ok, broke = new_ref("WH"), new_ref("WH")
    providers.payment.withhold(ok, CARD, 88_088, receiver.url)
    providers.payment.withhold(broke, FROZEN_CARD, 88_088, receiver.url)
    events = {event.request_ref: event for event in map(verified, receiver.wait_for(2))}
    assert events[ok].event is CallbackEventType.WITHHOLD_SUCCEEDED
    assert (events[broke].event, events[broke].reason) == (
        CallbackEventType.WITHHOLD_FAILED,
        "insufficient_balance",
    )
    assert providers.payment.query(ok).kind is TransferKind.WITHHOLD


def test_a_short_account_fails_withholdings_until_it_is_funded(
    sim: SimulatorProcess, providers: HttpProviders, receiver: CallbackReceiver
) -> None:
    card = make_card_number("short-of-money")
    shown = sim.control.payment_control(short_cards=[card])
    assert shown["short_cards"] >= 1  # a count: the card numbers are not echoed
    short, payout, funded = new_ref("WH"), new_ref(), new_ref("WH")
    providers.payment.withhold(short, card, 50_000, receiver.url)
    providers.payment.payout(payout, "张三", card, 50_000, receiver.url)  # payouts still go
    events = {e.request_ref: e for e in map(verified, receiver.wait_for(2))}
    assert (events[short].event, events[short].reason) == (
        CallbackEventType.WITHHOLD_FAILED,
        "insufficient_balance",
    )
    assert events[payout].event is CallbackEventType.PAYOUT_SUCCEEDED
    sim.control.payment_control(funded_cards=[card])
    providers.payment.withhold(funded, card, 50_000, receiver.url)
    event = verified(receiver.wait_for(3)[2])
    assert (event.request_ref, event.event) == (funded, CallbackEventType.WITHHOLD_SUCCEEDED)


def test_a_repeated_request_ref_pays_once(
    sim: SimulatorProcess, providers: HttpProviders, receiver: CallbackReceiver
) -> None:
    ref = new_ref()
    first = providers.payment.payout(ref, "张三", CARD, 300_000, receiver.url)
    assert providers.payment.payout(ref, "张三", CARD, 300_000, receiver.url) == first
    receiver.wait_for(1)
    # a retry after the result is known still answers the first acceptance, and pays nothing
    assert providers.payment.payout(ref, "张三", CARD, 300_000, receiver.url) == first
    with pytest.raises(ProviderRejected) as info:
        providers.payment.payout(ref, "张三", CARD, 999_999, receiver.url)
    assert (info.value.status_code, info.value.detail) == (409, "idempotency_conflict")
    with pytest.raises(ProviderRejected):
        providers.payment.withhold(ref, CARD, 300_000, receiver.url)
    time.sleep(0.3)  # longer than the callback delay: a second payment would have settled
    assert len(sim.control.events(ref)) == 1
    assert len(receiver.received) == 1


def test_a_payout_retried_after_an_outage_is_one_payout(
    sim: SimulatorProcess, providers: HttpProviders, receiver: CallbackReceiver
) -> None:
    ref = new_ref()
    sim.control.set_faults("pay", fail_next=2)
    providers.payment.payout(ref, "张三", CARD, 120_000, receiver.url)
    receiver.wait_for(1)
    assert len(sim.control.events(ref)) == 1


def test_duplicated_callbacks_repeat_the_event_id(
    sim: SimulatorProcess, providers: HttpProviders, receiver: CallbackReceiver
) -> None:
    sim.control.payment_control(duplicate_rate=1.0)
    ref = new_ref()
    providers.payment.payout(ref, "张三", CARD, 50_000, receiver.url)
    first, second = receiver.wait_for(2)
    assert verified(first) == verified(second)
    assert first.body == second.body
    log = wait_until(lambda: deliveries(sim, ref, 2))
    assert [delivery["copy"] for delivery in log] == [1, 2]


def test_late_callbacks_arrive_after_the_result_is_known(
    sim: SimulatorProcess, providers: HttpProviders, receiver: CallbackReceiver
) -> None:
    sim.control.payment_control(late_rate=1.0, late_delay_ms=1500)
    ref = new_ref()
    started = time.monotonic()
    providers.payment.payout(ref, "张三", CARD, 70_000, receiver.url)
    wait_until(lambda: providers.payment.query(ref).status is TransferStatus.SUCCEEDED)
    assert receiver.received == []  # settled at the channel, the platform not told yet
    [received] = receiver.wait_for(1, timeout_s=5)
    assert received.at - started >= 1.4
    assert verified(received).event is CallbackEventType.PAYOUT_SUCCEEDED


def test_callbacks_are_retried_until_the_platform_answers_2xx(
    sim: SimulatorProcess, providers: HttpProviders
) -> None:
    with CallbackReceiver(fail_first=2) as receiver:
        ref = new_ref()
        providers.payment.payout(ref, "张三", CARD, 60_000, receiver.url)
        attempts = receiver.wait_for(3)
        assert len({verified(attempt).event_id for attempt in attempts}) == 1
        assert [a.headers["X-Sim-Delivery-Attempt"] for a in attempts] == ["1", "2", "3"]
        log = wait_until(lambda: deliveries(sim, ref, 3))
        assert [entry["status_code"] for entry in log] == [500, 500, 200]


def test_forced_outcomes_and_failure_rate(
    sim: SimulatorProcess, providers: HttpProviders, receiver: CallbackReceiver
) -> None:
    forced, listed, random_fail = new_ref(), new_ref(), new_ref()
    sim.control.force_outcome(forced, "failed")
    sim.control.payment_control(fail_refs=[listed])
    providers.payment.payout(forced, "张三", CARD, 10_000, receiver.url)
    providers.payment.payout(listed, "张三", CARD, 10_000, receiver.url)
    events = {e.request_ref: e for e in map(verified, receiver.wait_for(2))}
    assert events[forced].event is CallbackEventType.PAYOUT_FAILED
    assert events[forced].reason == events[listed].reason == "forced_failure"
    sim.control.payment_control(failure_rate=1.0)
    providers.payment.payout(random_fail, "张三", CARD, 10_000, receiver.url)
    event = verified(receiver.wait_for(3)[2])
    assert event.event is CallbackEventType.PAYOUT_FAILED
    assert event.reason in ("bank_declined", "account_abnormal")


def test_a_callback_can_be_replayed(
    sim: SimulatorProcess, providers: HttpProviders, receiver: CallbackReceiver
) -> None:
    ref = new_ref()
    providers.payment.payout(ref, "张三", CARD, 20_000, receiver.url)
    original = verified(receiver.wait_for(1)[0])
    delivery = sim.control.replay(original.event_id)
    assert (delivery["status_code"], delivery["copy"]) == (200, 0)
    assert verified(receiver.wait_for(2)[1]) == original


def test_a_callback_signed_by_a_skewed_clock_is_expired(
    sim: SimulatorProcess, providers: HttpProviders, receiver: CallbackReceiver
) -> None:
    sim.control.set_clock_offset(-600)  # the channel's clock is ten minutes behind
    providers.payment.payout(new_ref(), "张三", CARD, 20_000, receiver.url)
    with pytest.raises(CallbackExpired):
        verified(receiver.wait_for(1)[0])


def test_the_statement_parses_and_lists_what_succeeded(
    sim: SimulatorProcess, providers: HttpProviders, receiver: CallbackReceiver, tmp_path: Path
) -> None:
    payout, collection, failed = new_ref(), new_ref("WH"), new_ref()
    providers.payment.payout(payout, "张三", CARD, 123_456, receiver.url)
    providers.payment.withhold(collection, CARD, 7_805, receiver.url)
    providers.payment.payout(failed, "张三", FROZEN_CARD, 500, receiver.url)
    events = [verified(received) for received in receiver.wait_for(3)]
    day = events[0].occurred_at.astimezone(CST).date()
    text = providers.payment.statement(day)
    assert text.splitlines()[0] == "date,channel,reference,type,amount"
    path = tmp_path / "simpay.csv"
    path.write_text(text, encoding="utf-8")
    rows = {row.reference: row for row in read_statement(path)}
    assert (rows[payout].kind, rows[payout].amount_fen, rows[payout].signed_fen) == (
        "payout",
        123_456,
        -123_456,
    )
    assert (rows[collection].kind, rows[collection].amount_fen) == ("collection", 7_805)
    assert rows[payout].channel == "simpay" and rows[payout].day == day
    assert failed not in rows
    assert f"{payout},payout,1234.56" in text
    other_day = datetime(2001, 1, 1, tzinfo=CST).date()
    assert providers.payment.statement(other_day) == "date,channel,reference,type,amount\n"


def test_the_callback_body_is_the_documented_json(
    providers: HttpProviders, receiver: CallbackReceiver
) -> None:
    ref = new_ref()
    providers.payment.payout(ref, "张三", FROZEN_CARD, 30_000, receiver.url)
    received = receiver.wait_for(1)[0]
    body = json.loads(received.body)
    assert set(body) == {"event_id", "event", "request_ref", "amount_fen", "occurred_at", "reason"}
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["X-Sim-Timestamp"].isdigit()
    assert len(received.headers["X-Sim-Signature"]) == 64
