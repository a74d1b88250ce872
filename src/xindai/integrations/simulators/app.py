"""The simulator process's ASGI app: the providers mounted under /sms, /pay, /bureau,
/identity and /esign, plus process-wide endpoints (unsigned):

    GET  /health      {status: ok, providers, channel, now}
    GET  /_control    the simulated clock's offset and every provider's faults
    POST /_control    {clock_offset_s?, provider?, latency_ms?, error_rate?, fail_next?,
                       reset?}: shift the simulated clock; set a provider's added latency,
                       share of 503 answers, or number of next requests answered 503;
                       `reset` restores the clock, the faults and the payment behaviour
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from xindai.integrations.simulators.bureau import create_bureau_app
from xindai.integrations.simulators.config import PROVIDERS, SimulatorConfig
from xindai.integrations.simulators.core import SimState
from xindai.integrations.simulators.esign import create_esign_app
from xindai.integrations.simulators.identity import create_identity_app
from xindai.integrations.simulators.payment import PaymentSimulator, create_payment_app
from xindai.integrations.simulators.sms import SmsSimulator, create_sms_app


class ControlIn(BaseModel):
    reset: bool = False
    clock_offset_s: float | None = None
    provider: str | None = None
    latency_ms: int | None = Field(default=None, ge=0)
    error_rate: float | None = Field(default=None, ge=0, le=1)
    fail_next: int | None = Field(default=None, ge=0)


def create_app(config: SimulatorConfig | None = None) -> FastAPI:
    """A fresh simulator (all state in memory) configured by `config`."""
    state = SimState(config or SimulatorConfig())
    sms = SmsSimulator(state)
    payment = PaymentSimulator(state, sms)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await payment.callbacks.aclose()

    app = FastAPI(title="Xindai external-service simulators / 外部服务模拟器", lifespan=lifespan)
    app.state.sim = state
    app.state.payment = payment

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "providers": list(PROVIDERS),
            "channel": state.config.channel,
            "now": state.clock.now().isoformat(),
        }

    def snapshot() -> dict[str, Any]:
        return {
            "clock_offset_s": state.clock.offset_s,
            "faults": {name: asdict(fault) for name, fault in state.faults.items()},
        }

    @app.get("/_control")
    async def show_control() -> dict[str, Any]:
        return snapshot()

    @app.post("/_control", response_model=None)
    async def control(body: ControlIn) -> dict[str, Any] | JSONResponse:
        if body.reset:
            state.reset_faults()
            state.clock.offset_s = 0.0
            payment.behaviour = payment.default_behaviour()
        if body.clock_offset_s is not None:
            state.clock.offset_s = body.clock_offset_s
        settings = {
            "latency_ms": body.latency_ms,
            "error_rate": body.error_rate,
            "fail_next": body.fail_next,
        }
        chosen = {name: value for name, value in settings.items() if value is not None}
        if chosen:
            if body.provider not in state.faults:
                return JSONResponse(
                    {"code": "provider_unknown", "message": f"provider must be one of {PROVIDERS}"},
                    status_code=400,
                )
            for name, value in chosen.items():
                setattr(state.faults[body.provider], name, value)
        return snapshot()

    app.mount("/sms", create_sms_app(state, sms))
    app.mount("/pay", create_payment_app(state, payment))
    app.mount("/bureau", create_bureau_app(state))
    app.mount("/identity", create_identity_app(state))
    app.mount("/esign", create_esign_app(state))
    return app
