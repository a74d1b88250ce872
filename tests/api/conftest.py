"""The API as a client meets it, two ways:

local        the ASGI app in this process on a fresh migrated SQLite database (admin and
             demo staff seeded), with a Starlette test client; tests may add routes
live         a real `xindai serve` process and the provider simulators as their own
             process, on loopback, as tests/e2e starts them (same environment), with an
             httpx client and tokens of a borrower and of the administrator
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from xindai.integrations.simulators.config import SimulatorConfig
from xindai.integrations.simulators.control import settled_breaks, trial_balance_balances
from xindai.integrations.simulators.process import SimulatorProcess, free_port

with warnings.catch_warnings():  # Starlette 1.x would rather have httpx2; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PASSWORD = "correct-horse-battery-9"
SECRET = "api-provider-secret"
BORROWER_PHONE = "13912340001"


@dataclass
class Local:
    app: FastAPI
    client: TestClient
    database_url: str

    def staff_auth(self, username: str = "admin") -> dict[str, str]:
        response = self.client.post(
            "/api/v1/admin/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    from xindai.api.app import create_app
    from xindai.bootstrap import bootstrap
    from xindai.platform import Platform
    from xindai.settings import Settings, override_settings
    from xindai.store import migrate

    folder = tmp_path_factory.mktemp("api-local")
    settings = Settings(data_dir=folder, provider_secret=SECRET)
    with override_settings(settings):
        migrate.upgrade(settings.database_url)
        platform = Platform.from_settings(settings)
        bootstrap(
            platform.sessions,
            cipher=platform.cipher,
            today=platform.clock().date(),
            admin_password=PASSWORD,
            staff={"reviewer": "risk", "ops": "operations"},
        )
        app = create_app(platform)
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Local(app, client, settings.database_url)


@dataclass
class Live:
    api: httpx.Client
    sim: SimulatorProcess
    base_url: str
    database_url: str
    log: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def borrower_auth(self, phone: str = BORROWER_PHONE) -> dict[str, str]:
        """A borrower session through the SMS-code login (the code from the SMS outbox)."""
        sent = self.api.post("/api/v1/borrower/auth/code", json={"phone": phone})
        assert sent.status_code == 200, sent.text
        code = self.sim.control.last_sms_code(phone)
        session = self.api.post("/api/v1/borrower/auth/login", json={"phone": phone, "code": code})
        assert session.status_code == 200, session.text
        return {"Authorization": f"Bearer {session.json()['token']}"}

    def onboard(self, phone: str, seed: int) -> tuple[dict[str, str], int]:
        """A borrower through the journey up to a verified card (steps 1-5): the session and
        the card id. The ID number is one whose simulated credit report is clean."""
        from xindai.integrations.simulators.bureau import bureau_profile
        from xindai.origination.cards import valid_sample_card
        from xindai.origination.identity import valid_sample_ids

        id_number = next(
            n for n in valid_sample_ids(seed=seed, count=200) if bureau_profile(n) == "clean"
        )
        auth = self.borrower_auth(phone)
        agreements = self.ok(self.api.get("/api/v1/borrower/agreements"))
        items = [{"code": a["code"], "version": a["version"]} for a in agreements]
        self.ok(
            self.api.post("/api/v1/borrower/agreements/accept", headers=auth, json={"items": items})
        )
        photo = "/9j/4AAQ"  # base64 of a JPEG's first bytes
        kyc = {"name": "张三", "id_number": id_number, "id_front": photo, "id_back": photo}
        self.ok(self.api.post("/api/v1/borrower/kyc", headers=auth, json={**kyc, "face": photo}))
        contacts = [
            {"name": "张父", "phone": f"1390{phone[-7:]}", "relation": "parent"},
            {"name": "李四", "phone": f"1391{phone[-7:]}", "relation": "friend"},
        ]
        self.ok(
            self.api.put("/api/v1/borrower/contacts", headers=auth, json={"contacts": contacts})
        )
        card = {"card_number": valid_sample_card("ICBC", seed), "phone": phone}
        started = self.ok(self.api.post("/api/v1/borrower/cards", headers=auth, json=card), 201)
        code = self.sim.control.last_sms_code(phone)
        path = f"/api/v1/borrower/cards/{started['card_id']}/confirm"
        self.ok(self.api.post(path, headers=auth, json={"code": code}))
        return auth, started["card_id"]

    @staticmethod
    def ok(response: httpx.Response, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    def staff_auth(self, username: str = "admin") -> dict[str, str]:
        session = self.api.post(
            "/api/v1/admin/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert session.status_code == 200, session.text
        return {"Authorization": f"Bearer {session.json()['token']}"}


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """`xindai serve` with the demo staff, the administrator's password from the environment."""
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
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("api-live")
    config = SimulatorConfig(secret=SECRET, callback_delay_ms=50, seed=5)
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
        log = folder / "server.log"
        server = start_server(env, port, log)
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
                    raise RuntimeError(log.read_text())
                time.sleep(0.2)
            yield Live(client, sim, base, database, log)
            client.close()
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


@pytest.fixture(autouse=True)
def reconciles_after_each_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test on the live server: the channel's statements and the journal agree
    on every reference (once callbacks on their way landed), and the trial balance balances."""
    yield
    if "live" not in request.fixturenames:
        return
    live: Live = request.getfixturevalue("live")
    breaks = settled_breaks(live.sim.base_url, SECRET, live.database_url)
    assert breaks == [], f"statement and journal disagree: {breaks}"
    assert trial_balance_balances(live.database_url)
