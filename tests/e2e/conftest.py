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
from xindai.integrations.simulators.process import SimulatorProcess, free_port

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
