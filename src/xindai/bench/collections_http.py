"""The workbench over HTTP, part of `xindai bench collections`: `xindai serve` started as
its own process on a loopback port on the bench's database (after close of business and a
day of calls), the in-house collectors with the most open cases given real passwords and
logged in (bearer tokens), then rounds of calls as the console makes them — a collector's
next case (GET /collections/next) and one of its open cases in full (GET
/collections/cases/{id}) — first one call at a time, then `clients` collectors at once.
Each call's latency is taken in this process around the whole request (connection kept
alive); reported p50 / p95 / max per call and round, with the statuses. Figures, not
assertions: the target (issue 13) is p95 ≤ 100 ms with 150,000 open cases.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.table import Table
from sqlalchemy import text

from xindai.bench.http import _wait_healthy
from xindai.integrations.simulators.process import free_port
from xindai.security.passwords import hash_password
from xindai.store.db import make_engine

PASSWORD = "bench-collections-password-7"
TARGET_MS = 100.0
CALLS = ("next case", "case detail")
CASES_PER_COLLECTOR = 200  # of its open cases, the ones whose detail is asked for


@dataclass(frozen=True, slots=True)
class Collector:
    username: str
    open_cases: int
    case_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CallTimes:
    """`samples` calls of one kind in one round of `clients` concurrent collectors."""

    call: str
    clients: int
    millis: tuple[float, ...]
    statuses: dict[int, int]
    empty: int  # next case: answers without a case (nothing workable); detail: 0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.millis)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]

    @property
    def p50(self) -> float:
        return self.percentile(0.50)

    @property
    def p95(self) -> float:
        return self.percentile(0.95)

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)


@dataclass(frozen=True, slots=True)
class WorkbenchHttpResult:
    workers: int  # xindai serve --workers
    collectors: tuple[Collector, ...]
    calls: tuple[CallTimes, ...]  # per round (1, clients) and call, in that order
    round_seconds: tuple[float, ...]


def _collectors(url: str, count: int, seed: int) -> list[Collector]:
    """The `count` in-house collectors with the most open cases, each given the bench's
    password (one argon2 hash for all, as `StaffService` would store it) and a sample of
    its open case ids."""
    rng = random.Random(seed)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            busiest = connection.execute(
                text(
                    "SELECT s.id, s.username, COUNT(*) AS n FROM collection_cases c"
                    " JOIN staff_users s ON s.id = c.assignee_id"
                    " WHERE c.status = 'open' AND s.role = 'collector' AND s.active"
                    " GROUP BY s.id, s.username ORDER BY n DESC, s.id LIMIT :count"
                ),
                {"count": count},
            ).all()
            password_hash = hash_password(PASSWORD)
            found = []
            for staff_id, username, open_cases in busiest:
                connection.execute(
                    text("UPDATE staff_users SET password_hash = :h WHERE id = :id"),
                    {"h": password_hash, "id": staff_id},
                )
                ids = list(
                    connection.scalars(
                        text(
                            "SELECT id FROM collection_cases WHERE assignee_id = :s"
                            " AND status = 'open'"
                        ),
                        {"s": staff_id},
                    )
                )
                sample = rng.sample(ids, min(CASES_PER_COLLECTOR, len(ids)))
                found.append(Collector(str(username), int(open_cases), tuple(sorted(sample))))
    finally:
        engine.dispose()
    if not found:
        raise RuntimeError("no collector has an open case: nothing to time over HTTP")
    return found


def _login(client: httpx.Client, username: str) -> dict[str, str]:
    answer = client.post(
        "/api/v1/admin/auth/login", json={"username": username, "password": PASSWORD}
    )
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['token']}"}


async def _round(
    base: str,
    who: list[tuple[Collector, dict[str, str]]],
    plan: list[tuple[int, int]],
    clients: int,
) -> tuple[CallTimes, CallTimes, float]:
    """`clients` collectors at once work through `plan` ((collector index, case id) per
    step: its next case, then that case in full), each step on the next free client."""
    millis: dict[str, list[float]] = {call: [] for call in CALLS}
    statuses: dict[str, dict[int, int]] = {call: {} for call in CALLS}
    empty = 0
    steps = iter(plan)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=600, limits=limits) as client:

        async def timed(call: str, path: str, headers: dict[str, str]) -> httpx.Response:
            started = time.perf_counter()
            answer = await client.get(path, headers=headers)
            millis[call].append((time.perf_counter() - started) * 1000)
            seen = statuses[call]
            seen[answer.status_code] = seen.get(answer.status_code, 0) + 1
            return answer

        async def one_client() -> None:
            nonlocal empty
            for collector, case_id in steps:  # shared: each step is taken by one client
                headers = who[collector][1]
                answer = await timed("next case", "/api/v1/admin/collections/next", headers)
                if answer.status_code == 200 and answer.json().get("case") is None:
                    empty += 1
                await timed("case detail", f"/api/v1/admin/collections/cases/{case_id}", headers)

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        seconds = time.perf_counter() - started
    next_case, detail = (
        CallTimes(
            call, clients, tuple(millis[call]), statuses[call], empty if call == CALLS[0] else 0
        )
        for call in CALLS
    )
    return next_case, detail, seconds


def time_workbench_http(
    url: str,
    scratch: Path,
    *,
    samples: int = 300,
    collectors: int = 8,
    clients: int = 4,
    workers: int = 1,
    seed: int = 20260302,
    on_phase: Callable[[str], None] | None = None,
) -> WorkbenchHttpResult:
    """Serve the app on `url`'s database (its log in `scratch`), log `collectors` collectors
    in and time `samples` next-case and case-detail calls one at a time, then with
    `clients` at once (after one warm-up call of each per collector)."""
    phase = on_phase or (lambda _message: None)
    people = _collectors(url, collectors, seed)
    rng = random.Random(seed)
    plan = [
        (n, rng.choice(people[n].case_ids))
        for n in (rng.randrange(len(people)) for _ in range(samples))
    ]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "XINDAI_DATABASE_URL": url,
        "XINDAI_DATA_DIR": str(scratch),
        "XINDAI_PUBLIC_URL": base,
    }
    env.pop("XINDAI_ADMIN_PASSWORD", None)  # no administrator needed: collectors log in
    command = [sys.executable, "-c", "from xindai.cli import main; main()", "serve"]
    command += ["--port", str(port), "--workers", str(workers)]
    log_path = scratch / "bench-collections-server.log"
    phase(f"xindai serve --workers {workers} on the bench's database …")
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        try:
            with httpx.Client(base_url=base, timeout=600) as client:
                _wait_healthy(client, server, log_path)
                who = [(c, _login(client, c.username)) for c in people]
                for collector, headers in who:  # warm-up: the first call of a worker
                    client.get("/api/v1/admin/collections/next", headers=headers)
                    client.get(
                        f"/api/v1/admin/collections/cases/{collector.case_ids[0]}",
                        headers=headers,
                    )
            calls: list[CallTimes] = []
            seconds: list[float] = []
            for concurrent in dict.fromkeys((1, clients)):
                phase(f"workbench over HTTP: {samples} steps, {concurrent} at once …")
                next_case, detail, took = asyncio.run(_round(base, who, plan, concurrent))
                calls += (next_case, detail)
                seconds.append(took)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return WorkbenchHttpResult(workers, tuple(people), tuple(calls), tuple(seconds))


def render_workbench_http(result: WorkbenchHttpResult, open_cases: int) -> Table:
    people = result.collectors
    table = Table(
        title=f"Workbench over HTTP · xindai serve --workers {result.workers} · "
        f"{open_cases:,} open cases · {len(people)} collectors logged in "
        f"({min(c.open_cases for c in people):,}–{max(c.open_cases for c in people):,} "
        f"open cases each) · target p95 ≤ {TARGET_MS:.0f} ms"
    )
    table.add_column("call")
    table.add_column("at once", justify="right")
    table.add_column("calls", justify="right")
    table.add_column("p50 ms", justify="right")
    table.add_column("p95 ms", justify="right")
    table.add_column("max ms", justify="right")
    table.add_column("statuses")
    for times in result.calls:
        p95 = f"{times.p95:.1f}" if times.p95 <= TARGET_MS else f"[red]{times.p95:.1f}[/red]"
        statuses = ", ".join(f"{code}×{n}" for code, n in sorted(times.statuses.items()))
        table.add_row(
            times.call,
            str(times.clients),
            f"{len(times.millis):,}",
            f"{times.p50:.1f}",
            p95,
            f"{max(times.millis):.1f}",
            statuses + (f" ({times.empty} without a case)" if times.empty else ""),
        )
    return table


__all__ = [
    "CallTimes",
    "Collector",
    "WorkbenchHttpResult",
    "render_workbench_http",
    "time_workbench_http",
]
