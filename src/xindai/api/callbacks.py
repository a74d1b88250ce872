"""Provider callbacks, /api/v1/callbacks: signed (HMAC), deduplicated, applied once."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from xindai.api.deps import platform
from xindai.origination.journey import OriginationService

router = APIRouter(prefix="/api/v1/callbacks", tags=["callbacks 回调"])


@router.post("/payment", summary="Payment channel callbacks (payout, withholding)")
async def payment(request: Request) -> dict[str, Any]:
    raw = await request.body()
    service = OriginationService(platform(request))
    outcome = await run_in_threadpool(  # database work off the event loop
        service.handle_payment_callback,
        raw,
        request.headers.get("x-sim-timestamp"),
        request.headers.get("x-sim-signature"),
    )
    return {"ok": True, "outcome": outcome}
