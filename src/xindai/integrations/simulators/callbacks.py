"""Delivery of signed payment callbacks to the platform, from background tasks.

A delivery POSTs the event's JSON with `X-Sim-Timestamp` / `X-Sim-Signature` (see
`xindai.integrations.signing`; the timestamp is the simulated clock's) and `X-Sim-Event-Id`;
any answer but 2xx, or no answer, is retried after `retry_ms`, doubling, at most
`max_attempts` times. Every attempt is logged for `GET /pay/_callbacks`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import httpx

from xindai.integrations.signing import signed_headers
from xindai.integrations.simulators.core import SimState


@dataclass
class Delivery:
    event_id: str
    request_ref: str
    copy: int  # 1 for the first delivery, 2 for a duplicate, 0 for a replay
    attempt: int
    sent_at: str
    status_code: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class CallbackDispatcher:
    def __init__(self, state: SimState):
        self.state = state
        self.log: list[Delivery] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._client: httpx.AsyncClient | None = None

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run `work` in the background, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def post_once(
        self, url: str, event: dict[str, Any], *, copy: int, attempt: int
    ) -> Delivery:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0))
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
        headers = signed_headers(self.state.config.secret, body, now=self.state.clock.unix())
        headers |= {
            "Content-Type": "application/json",
            "X-Sim-Event-Id": event["event_id"],
            "X-Sim-Delivery-Attempt": str(attempt),
        }
        delivery = Delivery(
            event["event_id"],
            event["request_ref"],
            copy,
            attempt,
            self.state.clock.now().isoformat(),
        )
        try:
            response = await self._client.post(url, content=body, headers=headers)
            delivery.status_code = response.status_code
        except httpx.HTTPError as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
        self.log.append(delivery)
        return delivery

    async def deliver(
        self, url: str, event: dict[str, Any], *, copy: int, retry_ms: int, max_attempts: int
    ) -> bool:
        """Deliver until a 2xx answer or `max_attempts` tries; whether it got through."""
        for attempt in range(1, max_attempts + 1):
            if (await self.post_once(url, event, copy=copy, attempt=attempt)).ok:
                return True
            if attempt < max_attempts:
                await asyncio.sleep(retry_ms / 1000 * 2 ** (attempt - 1))
        return False

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
