"""`xindai bench http`: the borrower API under load, as `xindai serve` answers it.

A small demo lender is built first (a month of business through the real services and a
simulator process), then `xindai serve` (with `--workers`) is started on it, the borrowers of
open loans log in over HTTP with their SMS codes, and `clients` concurrent clients each send
one kind of request for `seconds`: a quote, the borrower's loan view, a repayment request (a
collection of 1.00 yuan through the channel, whose callbacks the server also handles), or
(`mixed`) loan views beside repayment requests. Each kind is reported as requests per
second and latency percentiles; an error is any answer but the route's success status.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx

KINDS = ("quote", "loan", "repay", "mixed")
"""`mixed`: half the clients view their loans while the other half ask for repayments (the
reads beside the writes: what read transactions are for)."""
SECRET = "bench-http-secret"


@dataclass
class KindResult:
    kind: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0


@dataclass
class HttpBenchResult:
    clients: int
    workers: int
    borrowers: int
    kinds: list[KindResult]


@dataclass(frozen=True, slots=True)
class Borrower:
    token: str
    loan_id: int


def _open_loans(database_url: str, count: int) -> list[tuple[str, int]]:
    """(phone, loan id) of borrowers with an open loan, one loan each."""
    from sqlalchemy import select

    from xindai.security.pii import PiiCipher
    from xindai.settings import get_settings
    from xindai.store.db import make_engine, session_factory
    from xindai.store.models import Borrower as BorrowerRow
    from xindai.store.models import Loan

    cipher = PiiCipher(get_settings().key_bytes("pii"))
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            rows = session.execute(
                select(BorrowerRow.mobile_enc, Loan.id)
                .join(Loan, Loan.borrower_id == BorrowerRow.id)
                .where(Loan.status == "active")
                .order_by(Loan.id)
            ).all()
    finally:
        engine.dispose()
    seen: set[str] = set()
    found: list[tuple[str, int]] = []
    for mobile, loan_id in rows:
        phone = cipher.decrypt("phone", mobile or "")
        if phone and phone not in seen:
            seen.add(phone)
            found.append((phone, int(loan_id)))
    return found[:count]


def _login(client: httpx.Client, sim_url: str, phone: str) -> str:
    from xindai.integrations.simulators.control import SimulatorControl

    client.post("/api/v1/borrower/auth/code", json={"phone": phone}).raise_for_status()
    control = SimulatorControl(sim_url)
    try:
        code = control.last_sms_code(phone)
    finally:
        control.close()
    answer = client.post("/api/v1/borrower/auth/login", json={"phone": phone, "code": code})
    answer.raise_for_status()
    return str(answer.json()["token"])


async def _load(
    base_url: str, kind: str, borrowers: list[Borrower], clients: int, seconds: float
) -> list[KindResult]:
    names = ("mixed:loan", "mixed:repay") if kind == "mixed" else (kind,)
    latencies: dict[str, list[float]] = {name: [] for name in names}
    statuses: dict[str, dict[int, int]] = {name: {} for name in names}
    errors = dict.fromkeys(names, 0)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        deadline = time.perf_counter() + seconds

        async def one_client(number: int) -> None:
            who = borrowers[number % len(borrowers)]
            auth = {"Authorization": f"Bearer {who.token}"}
            does = kind if kind != "mixed" else ("loan", "repay")[number % 2]
            name = does if kind != "mixed" else f"mixed:{does}"
            success = 202 if does == "repay" else 200
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                if does == "quote":
                    body = {"product": "INST12", "amount": "3000", "term": 6}
                    response = await client.post("/api/v1/borrower/quote", json=body)
                elif does == "loan":
                    response = await client.get(
                        f"/api/v1/borrower/loans/{who.loan_id}", headers=auth
                    )
                else:
                    response = await client.post(
                        f"/api/v1/borrower/loans/{who.loan_id}/repayments",
                        json={"mode": "amount", "amount": "1.00"},
                        headers=auth,
                    )
                latencies[name].append((time.perf_counter() - began) * 1000)
                seen = statuses[name]
                seen[response.status_code] = seen.get(response.status_code, 0) + 1
                if response.status_code != success:
                    errors[name] += 1

        started = time.perf_counter()
        await asyncio.gather(*(one_client(n) for n in range(clients)))
        elapsed = time.perf_counter() - started
    return [
        KindResult(
            name, len(latencies[name]), errors[name], elapsed, latencies[name], statuses[name]
        )
        for name in names
    ]


def run_http_bench(
    *,
    clients: int = 32,
    seconds: float = 10.0,
    workers: int = 1,
    kinds: tuple[str, ...] = KINDS,
    loans: int = 80,
    progress: Callable[[str], None] | None = None,
) -> HttpBenchResult:
    """Build the lender, serve it with `workers` processes, load each of `kinds` in turn."""
    from xindai.demo.build import build_demo_lender
    from xindai.demo.lender import DemoSize
    from xindai.integrations.simulators.config import SimulatorConfig
    from xindai.integrations.simulators.process import SimulatorProcess, free_port

    say = progress or (lambda _text: None)
    with tempfile.TemporaryDirectory(prefix="xindai-bench-http-") as folder_name:
        folder = Path(folder_name)
        database = f"sqlite:///{folder / 'xindai.db'}"
        with SimulatorProcess(SimulatorConfig(secret=SECRET, callback_delay_ms=50)) as sim:
            say("building a month of a small lender …")
            build_demo_lender(
                database,
                sim_url=sim.base_url,
                sim_secret=SECRET,
                size=DemoSize(months=1, loans=loans, seed=3),
                end=date.today(),
                data_dir=folder,
            )
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            env = {
                **os.environ,
                "XINDAI_DATABASE_URL": database,
                "XINDAI_DATA_DIR": str(folder),
                "XINDAI_PROVIDERS_URL": sim.base_url,
                "XINDAI_PROVIDER_SECRET": SECRET,
                "XINDAI_PUBLIC_URL": base,
            }
            env.pop("XINDAI_ADMIN_PASSWORD", None)
            command = [sys.executable, "-c", "from xindai.cli import main; main()", "serve"]
            command += ["--port", str(port), "--workers", str(workers)]
            log = (folder / "server.log").open("wb")
            server = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
            try:
                say(f"xindai serve --workers {workers} …")
                with httpx.Client(base_url=base, timeout=30) as client:
                    _wait_healthy(client, server, folder / "server.log")
                    people = _open_loans(database, clients)
                    borrowers = [
                        Borrower(_login(client, sim.base_url, phone), loan_id)
                        for phone, loan_id in people
                    ]
                results: list[KindResult] = []
                for kind in kinds:
                    say(f"{clients} clients × {seconds:.0f} s: {kind} …")
                    results += asyncio.run(_load(base, kind, borrowers, clients, seconds))
                return HttpBenchResult(clients, workers, len(borrowers), results)
            finally:
                server.terminate()
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
                log.close()


def _wait_healthy(client: httpx.Client, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if client.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"xindai serve did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
