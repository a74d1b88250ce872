"""A fault test: the server is killed (SIGKILL) while it confirms a callback with the channel,
between the callback's receipt and its posting; after a restart the channel's redelivery
posts the money exactly once (the dedup row and the posting commit together)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from xindai.integrations.simulators.config import SimulatorConfig
from xindai.integrations.simulators.process import SimulatorProcess, free_port
from xindai.origination.cards import valid_sample_card

from .conftest import SECRET, Stack, _start_server
from .people import clean_id
from .test_bad_inputs import _postings
from .test_journey import ok, onboard
from .test_payouts import approved, status_of

pytestmark = pytest.mark.e2e


class Restartable(Stack):
    server: object = None
    env: dict[str, str] = {}  # noqa: RUF012 - set once per fixture
    port: int = 0
    folder: Path = Path()

    def start(self) -> None:
        self.server = _start_server(self.env, self.port, self.folder / f"server{time.time()}.log")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.api.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the server did not come up")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restartable]:
    folder = tmp_path_factory.mktemp("crash")
    config = SimulatorConfig(
        secret=SECRET, callback_delay_ms=100, callback_retry_ms=1000, callback_max_attempts=20
    )
    with SimulatorProcess(config) as sim:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        database = f"sqlite:///{folder / 'xindai.db'}"
        running = Restartable(httpx.Client(base_url=base, timeout=30), sim, database, base)
        running.folder, running.port = folder, port
        running.env = {
            **os.environ,
            "XINDAI_DATABASE_URL": database,
            "XINDAI_DATA_DIR": str(folder),
            "XINDAI_PROVIDERS_URL": sim.base_url,
            "XINDAI_PROVIDER_SECRET": SECRET,
            "XINDAI_PUBLIC_URL": base,
        }
        running.start()
        try:
            yield running
        finally:
            running.server.terminate()  # type: ignore[attr-defined]
            running.server.wait(timeout=10)  # type: ignore[attr-defined]


def test_killed_between_receipt_and_posting_posts_once(stack: Restartable) -> None:
    auth, card_id = onboard(stack, "13300000001", clean_id(91), valid_sample_card("CMB", 31))
    application_id = approved(stack, auth, card_id, "INST12", "2000", 3)
    ok(stack.api.post(f"/api/v1/borrower/applications/{application_id}/sign", headers=auth))
    loan_id = status_of(stack, auth, application_id, "disbursed")["loan_id"]
    stack.sim.control.payment_control(query_delay_ms=8000)
    requested = ok(
        stack.api.post(
            f"/api/v1/borrower/loans/{loan_id}/repayments",
            headers=auth,
            json={"mode": "amount", "amount": "100"},
        ),
        202,
    )
    ref = requested["request_ref"]
    # the callback (100 ms after the request) has arrived and the server is waiting on the
    # channel's order query (8 s)
    time.sleep(1.5)
    os.kill(stack.server.pid, signal.SIGKILL)  # type: ignore[attr-defined]
    stack.server.wait(timeout=10)  # type: ignore[attr-defined]
    assert _postings(stack, loan_id, "repayment") == 0
    stack.sim.control.payment_control(query_delay_ms=0)
    stack.start()
    stack.wait_for(
        lambda: _postings(stack, loan_id, "repayment") == 1, timeout_s=40, what="redelivery"
    )
    for event in stack.sim.control.events(request_ref=ref):  # and once more: still once
        stack.sim.control.replay(event["event_id"])
    time.sleep(1)
    assert _postings(stack, loan_id, "repayment") == 1
    loan = ok(stack.api.get(f"/api/v1/borrower/loans/{loan_id}", headers=auth))
    assert loan["installments"][0]["paid"] == "100.00"
