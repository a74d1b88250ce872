"""A small client of the simulators' unsigned endpoints (outbox, control, callback log), for
the tests, the demo and the console."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T | None], *, timeout_s: float = 5.0, interval_s: float = 0.05
) -> T:
    """Poll `condition` until it returns something truthy, and return that; `TimeoutError`
    after `timeout_s` seconds."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"condition not met within {timeout_s} s")
        time.sleep(interval_s)


class SimulatorControl:
    def __init__(self, base_url: str, *, timeout_s: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout_s)

    def close(self) -> None:
        self._client.close()

    def _get(self, path: str, **params: Any) -> Any:
        clean = {key: value for key, value in params.items() if value is not None}
        response = self._client.get(path, params=clean)
        response.raise_for_status()
        return response.json()

    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._client.post(path, json=body or {})
        response.raise_for_status()
        return response.json()

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._get("/health")
        return result

    # --- process-wide ----------------------------------------------------------------------

    def reset(self) -> dict[str, Any]:
        """Clock offset 0, configured faults and payment behaviour (state is kept)."""
        result: dict[str, Any] = self._post("/_control", {"reset": True})
        return result

    def set_clock_offset(self, seconds: float) -> None:
        """Move the simulated clock `seconds` away from the wall clock."""
        self._post("/_control", {"clock_offset_s": seconds})

    def set_faults(
        self,
        provider: str,
        *,
        latency_ms: int | None = None,
        error_rate: float | None = None,
        fail_next: int | None = None,
    ) -> None:
        body = {"provider": provider, "latency_ms": latency_ms, "error_rate": error_rate}
        body["fail_next"] = fail_next
        self._post("/_control", {key: value for key, value in body.items() if value is not None})

    # --- SMS ---------------------------------------------------------------------------------

    def outbox(self, phone: str | None = None) -> list[dict[str, Any]]:
        """Messages sent (to `phone`), oldest first."""
        messages: list[dict[str, Any]] = self._get("/sms/outbox", phone=phone)["messages"]
        return messages

    def last_sms_code(self, phone: str) -> str:
        """The `code` variable of the newest message to `phone` that has one."""
        for message in reversed(self.outbox(phone)):
            code = message["params"].get("code")
            if code:
                return str(code)
        raise LookupError(f"no message with a code to {phone}")

    def approve_template(self, code: str, text: str) -> None:
        self._post("/sms/_templates", {"code": code, "text": text})

    # --- payment -----------------------------------------------------------------------------

    def payment_control(self, **settings: Any) -> dict[str, Any]:
        """Set payment behaviour: failure_rate, duplicate_rate, late_rate, late_delay_ms,
        callback_delay_ms, callback_retry_ms, callback_max_attempts, card_code_ttl_s,
        query_delay_ms, force={ref: outcome}, fail_refs=[...], partial={ref: fen},
        fail_next={kind: n}, reset=True."""
        result: dict[str, Any] = self._post("/pay/_control", settings)
        return result

    def force_outcome(self, request_ref: str, outcome: str) -> None:
        """The next transfer with `request_ref` will end `outcome` (succeeded | failed)."""
        self.payment_control(force={request_ref: outcome})

    def fail_next(self, kind: str, count: int = 1) -> None:
        """Make the next `count` transfers of `kind` (payout | withhold) fail."""
        self.payment_control(fail_next={kind: count})

    def callbacks(self, request_ref: str | None = None) -> list[dict[str, Any]]:
        """Every callback delivery attempt (for `request_ref`), in order."""
        log: list[dict[str, Any]] = self._get("/pay/_callbacks", request_ref=request_ref)[
            "deliveries"
        ]
        return log

    def events(self, request_ref: str | None = None) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self._get("/pay/_events", request_ref=request_ref)["events"]
        return events

    def replay(self, event_id: str) -> dict[str, Any]:
        """Deliver the callback `event_id` once more, now; the delivery record."""
        result: dict[str, Any] = self._post(f"/pay/_replay/{event_id}")
        return result

    # --- bureau ------------------------------------------------------------------------------

    def bureau_profile(self, id_number: str) -> str:
        return str(self._get("/bureau/_profile", id_number=id_number)["profile"])

    def bureau_event(
        self, id_number: str, on: date, *, applications: int = 0, overdue_loans: int = 0
    ) -> None:
        """From `on`, the person's reports show `applications` more credit applications and
        `overdue_loans` more loans overdue at other lenders."""
        self._post(
            "/bureau/_events",
            {
                "id_number": id_number,
                "on": on.isoformat(),
                "applications": applications,
                "overdue_loans": overdue_loans,
            },
        )


def statement_rows(sim_base_url: str, secret: str) -> list[Any]:
    """The payment simulator's daily statements for every day it settled a transfer, read
    through the platform's own adapter (signed with `secret`), as `StatementRow`s."""
    from xindai.integrations.http import HttpPaymentChannel, ProviderEndpoint
    from xindai.integrations.simulators.core import CST
    from xindai.ledger.reconcile import parse_statement

    control = SimulatorControl(sim_base_url)
    try:
        days = {
            datetime.fromisoformat(event["occurred_at"]).astimezone(CST).date()
            for event in control.events()
        }
    finally:
        control.close()
    channel = HttpPaymentChannel(ProviderEndpoint(f"{sim_base_url.rstrip('/')}/pay", secret))
    try:
        return [row for day in sorted(days) for row in parse_statement(channel.statement(day))]
    finally:
        channel.close()


def journal_breaks(sim_base_url: str, secret: str, database_url: str) -> list[Any]:
    """Where the payment simulator's statements and the journal at `database_url` disagree,
    reference by reference (`ledger.reconcile.Break`s); empty when every movement of money
    the channel made is posted, and nothing is posted that it did not make."""
    from xindai.ledger.reconcile import reference_breaks
    from xindai.origination.payments import CHANNEL
    from xindai.store.db import make_engine, session_factory

    rows = statement_rows(sim_base_url, secret)
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            return list(reference_breaks(session, rows, CHANNEL))
    finally:
        engine.dispose()


def settled_breaks(
    sim_base_url: str, secret: str, database_url: str, *, timeout_s: float = 30.0
) -> list[Any]:
    """`journal_breaks` once the callbacks still on their way have landed: polled until no
    break is left or `timeout_s` passed; what is left then."""
    deadline = time.monotonic() + timeout_s
    breaks = journal_breaks(sim_base_url, secret, database_url)
    while breaks and time.monotonic() < deadline:
        time.sleep(0.3)
        breaks = journal_breaks(sim_base_url, secret, database_url)
    return breaks


def trial_balance_balances(database_url: str) -> bool:
    """Whether the trial balance at `database_url` balances as of its business date (true
    before the first business day)."""
    from xindai.ledger.reports import trial_balance
    from xindai.store import repository as repo
    from xindai.store.db import make_engine, session_factory

    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            as_of = repo.get_business_date(session)
            return as_of is None or trial_balance(session, as_of).balanced
    finally:
        engine.dispose()
