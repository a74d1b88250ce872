"""The platform as a user meets it: the API server and the provider simulators, each a real
process on loopback, and an HTTP client."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from xindai.integrations.simulators.config import SimulatorConfig
from xindai.integrations.simulators.control import settled_breaks, trial_balance_balances
from xindai.integrations.simulators.process import SimulatorProcess, free_port
from xindai.ledger.reconcile import Break

PASSWORD = "correct-horse-battery-9"
SECRET = "e2e-provider-secret"


@dataclass
class Stack:
    api: httpx.Client
    sim: SimulatorProcess
    database_url: str
    base_url: str

    def wait_for(self, check, *, timeout_s: float = 20.0, what: str = "condition"):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            result = check()
            if result:
                return result
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def _start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from xindai.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--demo-staff",
        ],
        env={**env, "XINDAI_ADMIN_PASSWORD": PASSWORD},
        stdout=handle,
        stderr=subprocess.STDOUT,
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("e2e")
    config = SimulatorConfig(secret=SECRET, callback_delay_ms=100, seed=3)
    with SimulatorProcess(config) as sim:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        database = f"sqlite:///{folder / 'xindai.db'}"
        env = {
            **os.environ,
            "XINDAI_DATABASE_URL": database,
            "XINDAI_DATA_DIR": str(folder),
            "XINDAI_PROVIDERS_URL": sim.base_url,
            "XINDAI_PROVIDER_SECRET": SECRET,
            "XINDAI_PUBLIC_URL": base,
        }
        server = _start_server(env, port, folder / "server.log")
        try:
            client = httpx.Client(base_url=base, timeout=30)
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((folder / "server.log").read_text())
                time.sleep(0.2)
            yield Stack(client, sim, database, base)
            client.close()
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


@pytest.fixture(autouse=True)
def reconciles_after_each_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that has the stack: the channel's statements and the journal agree
    on every reference (waiting for callbacks still on their way), and the trial balance
    balances."""
    yield
    if "stack" not in request.fixturenames:
        return
    stack: Stack = request.getfixturevalue("stack")
    breaks = settled_breaks(stack.sim.base_url, SECRET, stack.database_url)
    assert breaks == [], f"statement and journal disagree: {breaks}\n{_explain(stack, breaks)}"
    assert trial_balance_balances(stack.database_url)


def _explain(stack: Stack, breaks: list[Break]) -> str:
    """The requests, loan transactions and journal lines behind broken references (to find
    why when it happens)."""
    from sqlalchemy import text

    from xindai.store.db import make_engine

    engine = make_engine(stack.database_url)
    lines: list[str] = []
    try:
        with engine.connect() as connection:
            for ref in (b.reference for b in breaks):
                for sql in (
                    "SELECT * FROM withholdings WHERE request_ref = :r",
                    "SELECT * FROM provider_callbacks WHERE reference = :r",
                    "SELECT * FROM loan_transactions WHERE loan_id IN"
                    " (SELECT loan_id FROM withholdings WHERE request_ref = :r)",
                    "SELECT * FROM journal_lines WHERE loan_id IN"
                    " (SELECT loan_id FROM withholdings WHERE request_ref = :r)",
                ):
                    lines += [str(tuple(row)) for row in connection.execute(text(sql), {"r": ref})]
    finally:
        engine.dispose()
    return "\n".join(lines)
