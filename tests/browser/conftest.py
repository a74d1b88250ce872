"""The console in a real browser: headless Debian Chromium driven by Playwright (Python)
against a real `xindai serve` process and the provider simulators as their own process, on
loopback, with the console built into the package (frontend/: npm ci && npm run build).

Without the built console, Chromium or Playwright the tests are skipped and say which is
missing, unless XINDAI_REQUIRE_BROWSER=1 (CI sets it): then they fail. Screenshots go to
tests/browser/artifacts/ (git-ignored).

    stack      the server and simulators, staff of all eight roles (the demo's reviewer,
               finance and ops, the administrator, and the other four created through the
               admin API), a borrower onboarded with a loan paid out
    browser    one Chromium for the module
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from xindai.integrations.simulators.config import SimulatorConfig
from xindai.integrations.simulators.process import SimulatorProcess, free_port

PASSWORD = "correct-horse-battery-9"
SECRET = "browser-provider-secret"
ARTIFACTS = Path(__file__).parent / "artifacts"
CONSOLE_INDEX = (
    Path(__file__).resolve().parents[2] / "src" / "xindai" / "web" / "console" / "index.html"
)
CHROMIUM = os.environ.get("XINDAI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# username → role: the demo staff of `xindai serve --demo-staff`, the administrator, and
# one of each other role (created by the administrator through the admin API)
STAFF = {
    "admin": "admin",
    "reviewer": "risk",
    "finance": "finance",
    "ops": "operations",
    "manager": "customer_manager",
    "service": "customer_service",
    "agent": "agent",
    "collector": "collector",
}
CREATED = {"manager", "service", "agent", "collector"}
AGENT_CHANNEL = "store_south"


def _required() -> bool:
    return os.environ.get("XINDAI_REQUIRE_BROWSER", "").strip().lower() in ("1", "true", "yes")


def _missing() -> list[str]:
    missing = []
    if not CONSOLE_INDEX.is_file():
        missing.append(
            f"the built console ({CONSOLE_INDEX}; run `cd frontend && npm ci && npm run build`)"
        )
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium, or XINDAI_CHROMIUM)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install -e '.[dev]')")
    return missing


@pytest.fixture(scope="session")
def browser_available() -> None:
    """Skip (or, with XINDAI_REQUIRE_BROWSER=1, fail) when the console is not built or
    Chromium or Playwright is missing; every test that drives the browser depends on it."""
    missing = _missing()
    if not missing:
        return
    message = "browser tests need " + "; ".join(missing)
    if _required():
        pytest.fail(f"XINDAI_REQUIRE_BROWSER=1 but {message}", pytrace=False)
    pytest.skip(message)


@dataclass
class Stack:
    api: httpx.Client
    sim: SimulatorProcess
    base_url: str
    log: Path
    database_url: str = ""
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def console(self) -> str:
        return f"{self.base_url}/admin/"

    @staticmethod
    def ok(response: httpx.Response, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    def auth(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            session = self.ok(
                self.api.post(
                    "/api/v1/admin/auth/login", json={"username": username, "password": PASSWORD}
                )
            )
            self.tokens[username] = session["token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def me(self, username: str) -> dict[str, Any]:
        me: dict[str, Any] = self.ok(self.api.get("/api/v1/admin/me", headers=self.auth(username)))
        return me

    def borrower_auth(self, phone: str) -> dict[str, str]:
        self.ok(self.api.post("/api/v1/borrower/auth/code", json={"phone": phone}))
        code = self.sim.control.last_sms_code(phone)
        session = self.ok(
            self.api.post("/api/v1/borrower/auth/login", json={"phone": phone, "code": code})
        )
        return {"Authorization": f"Bearer {session['token']}"}

    def onboard(self, phone: str, seed: int) -> tuple[dict[str, str], int]:
        """A borrower through the journey up to a verified card: the session and the card id
        (an ID number whose simulated credit report is clean)."""
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
        photo = "/9j/4AAQ"
        kyc = {"name": "王小明", "id_number": id_number, "id_front": photo, "id_back": photo}
        self.ok(self.api.post("/api/v1/borrower/kyc", headers=auth, json={**kyc, "face": photo}))
        contacts = [
            {"name": "王父", "phone": f"1390{phone[-7:]}", "relation": "parent"},
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
        return auth, int(started["card_id"])

    def apply(
        self, auth: dict[str, str], card_id: int, product: str, amount: str, term: int, device: str
    ) -> dict[str, Any]:
        application: dict[str, Any] = self.ok(
            self.api.post(
                "/api/v1/borrower/applications",
                headers=auth,
                json={
                    "product": product,
                    "amount": amount,
                    "term": term,
                    "purpose": "consumption",
                    "card_id": card_id,
                    "device_fingerprint": device,
                    "monthly_income": "15000",
                    "employment_type": "salaried",
                    "education": "bachelor",
                    "city": "上海",
                    "phonebook_count": 320,
                },
            ),
            201,
        )
        return application

    def sign_and_wait(self, auth: dict[str, str], application_id: int) -> int:
        """Sign an approved application and wait for the payout: the loan id."""
        path = f"/api/v1/borrower/applications/{application_id}"
        self.ok(self.api.post(f"{path}/sign", headers=auth))
        deadline = time.monotonic() + 30
        while (view := self.ok(self.api.get(path, headers=auth)))["status"] != "disbursed":
            assert time.monotonic() < deadline, view
            time.sleep(0.2)
        return int(view["loan_id"])

    def borrower_with_a_loan(
        self, phone: str, seed: int, product: str = "INST12", amount: str = "3000", term: int = 3
    ) -> int:
        """A borrower onboarded, an application approved by the engine, signed and paid out:
        the loan id."""
        auth, card_id = self.onboard(phone, seed)
        application = self.apply(auth, card_id, product, amount, term, f"dev-browser-{seed}")
        assert application["status"] == "approved", application
        return self.sign_and_wait(auth, int(application["id"]))


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
def stack(tmp_path_factory: pytest.TempPathFactory, browser_available: None) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("browser")
    config = SimulatorConfig(secret=SECRET, callback_delay_ms=50, seed=11)
    with SimulatorProcess(config) as sim:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "XINDAI_DATABASE_URL": f"sqlite:///{folder / 'xindai.db'}",
            "XINDAI_DATA_DIR": str(folder),
            "XINDAI_PROVIDERS_URL": sim.base_url,
            "XINDAI_PROVIDER_SECRET": SECRET,
            "XINDAI_PUBLIC_URL": base,
        }
        log = folder / "server.log"
        server = _start_server(env, port, log)
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
            stack = Stack(client, sim, base, log, env["XINDAI_DATABASE_URL"])
            admin = stack.auth("admin")
            for username in sorted(CREATED):
                body = {"username": username, "password": PASSWORD, "role": STAFF[username]}
                if STAFF[username] == "agent":
                    body["channel"] = AGENT_CHANNEL
                stack.ok(client.post("/api/v1/admin/staff", headers=admin, json=body), 201)
            yield stack
            client.close()
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


@pytest.fixture(scope="module")
def browser(browser_available: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def shot_path(*parts: str) -> Path:
    """Where a screenshot goes: tests/browser/artifacts/<parts…>.png (folders made)."""
    path = ARTIFACTS.joinpath(*parts).with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no session, zh-CN) at a desktop size."""
    made = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    try:
        yield made
    finally:
        made.close()


class Watch:
    """What a page did: uncaught errors, and the API calls that failed."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.failed: list[tuple[str, str, int, str]] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("response", self._response)

    def _response(self, response: Any) -> None:
        url = urlparse(response.url)
        if url.path.startswith("/api/") and response.status >= 400:
            try:
                code = response.json().get("code", "")
            except Exception:
                code = ""
            self.failed.append((response.request.method, url.path, response.status, code))

    def reset(self) -> None:
        self.errors.clear()
        self.failed.clear()


def sign_in(page: Any, stack: Stack, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{stack.console}login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click('[data-test="login-submit"]')
    try:
        page.wait_for_selector('[data-test="sidebar"]', timeout=15_000)
    except Exception:
        page.screenshot(path=shot_path(username, "sign-in-failed"))
        raise


def settle(page: Any) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # the charts' first frame


def slug(path: str) -> str:
    return path.strip("/").replace("/", "_") or "home"
