"""What every simulated provider shares: the simulated clock, the seeded random generator,
fault injection (latency, 503s), request-signature checks, idempotency-key replay and the
JSON error shape `{"code", "message"}`.

Paths whose first segment starts with "_" (control endpoints) and `/outbox` are for the
console and the tests: they are neither signed nor slowed down nor failed.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from xindai.integrations.errors import CallbackRejected
from xindai.integrations.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, check_signature
from xindai.integrations.simulators.config import PROVIDERS, SimulatorConfig

CST = timezone(timedelta(hours=8), "CST")
"""China Standard Time: the simulators' business dates (statements) are dates in CST."""

OPEN_PATHS = ("/outbox",)


class SimError(Exception):
    """An error answer of a simulated provider: HTTP `status` and a stable `code`."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class SimClock:
    """Wall-clock time shifted by `offset_s` (set through `POST /_control`), in CST."""

    def __init__(self) -> None:
        self.offset_s = 0.0

    def unix(self) -> float:
        return time.time() + self.offset_s

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.unix(), CST)


@dataclass
class ProviderFaults:
    """Mutable at run time: `fail_next` requests get a 503 before `error_rate` applies."""

    latency_ms: int
    error_rate: float
    fail_next: int = 0


class SimState:
    """State shared by the providers of one simulator process."""

    def __init__(self, config: SimulatorConfig):
        self.config = config
        self.clock = SimClock()
        self.rng = random.Random(config.seed)
        self.faults: dict[str, ProviderFaults] = {}
        self._idempotent: dict[tuple[str, str], Any] = {}
        self.reset_faults()

    def reset_faults(self) -> None:
        self.faults = {
            name: ProviderFaults(self.config.latency_for(name), self.config.error_rate_for(name))
            for name in PROVIDERS
        }

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{uuid.uuid4().hex[:20]}"

    def chance(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    def replayed(self, provider: str, request: Request) -> Any | None:
        """The answer already given to this request's Idempotency-Key, if any."""
        key = request.headers.get("Idempotency-Key")
        return None if key is None else self._idempotent.get((provider, key))

    def remember(self, provider: str, request: Request, answer: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if key is not None:
            self._idempotent[(provider, key)] = answer
        return answer


def _relative_path(request: Request) -> str:
    root = request.scope.get("root_path", "")
    path = request.url.path
    return path[len(root) :] if root and path.startswith(root) else path


def is_open_path(request: Request) -> bool:
    return _open(_relative_path(request))


def _open(path: str) -> bool:
    return path.startswith("/_") or path in OPEN_PATHS


class _Faults:
    """Provider `name`'s injected faults (added latency, 503s) as plain ASGI middleware:
    `app.middleware("http")` would run every request through a task group and a stream of
    its own (measured: a quarter of the simulator process's CPU while the demo builds)."""

    def __init__(self, app: ASGIApp, *, name: str, state: SimState):
        self.app, self.name, self.state = app, name, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _open(_scope_path(scope)):
            await self.app(scope, receive, send)
            return
        fault = self.state.faults[self.name]
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.fail_next > 0 or self.state.chance(fault.error_rate):
            fault.fail_next = max(0, fault.fail_next - 1)
            response = JSONResponse(
                {"code": "unavailable", "message": f"{self.name} simulator: injected failure"},
                status_code=503,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _scope_path(scope: Scope) -> str:
    root, path = str(scope.get("root_path", "")), str(scope["path"])
    return path[len(root) :] if root and path.startswith(root) else path


def signed_request(state: SimState) -> Callable[[Request], Awaitable[None]]:
    """A dependency rejecting (401) a request not signed with the shared secret."""

    async def check(request: Request) -> None:
        if is_open_path(request):
            return
        body = await request.body()
        try:
            check_signature(
                state.config.secret,
                request.headers.get(TIMESTAMP_HEADER),
                request.headers.get(SIGNATURE_HEADER),
                body,
                now=time.time(),  # requests are checked against real time, not the sim clock
            )
        except CallbackRejected as exc:
            raise SimError(401, "unauthorized", str(exc)) from None

    return check


def provider_app(name: str, title: str, state: SimState) -> FastAPI:
    """A FastAPI app for provider `name` with signature checks, faults and error shapes."""
    app = FastAPI(title=title, dependencies=[Depends(signed_request(state))])

    @app.exception_handler(SimError)
    async def sim_error(request: Request, exc: SimError) -> JSONResponse:
        return JSONResponse({"code": exc.code, "message": exc.message}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        return JSONResponse({"code": "invalid_request", "message": problems}, status_code=400)

    app.add_middleware(_Faults, name=name, state=state)
    return app
