"""Provider callbacks, /api/v1/callbacks: signed (HMAC), deduplicated, applied once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from starlette.concurrency import run_in_threadpool

from xindai.api import views
from xindai.api.deps import platform
from xindai.api.openapi import responses
from xindai.integrations.ports import CallbackEventType
from xindai.origination.journey import OriginationService

router = APIRouter(prefix="/api/v1/callbacks", tags=["callbacks 回调"])

PAYMENT_EVENT = {
    "type": "object",
    "required": ["event_id", "event", "request_ref", "amount_fen", "occurred_at"],
    "properties": {
        "event_id": {"type": "string", "description": "unique per event; repeats are duplicates"},
        "event": {"type": "string", "enum": [e.value for e in CallbackEventType]},
        "request_ref": {"type": "string", "description": "the payout or collection request"},
        "amount_fen": {"type": "integer", "minimum": 1, "description": "what moved, in fen"},
        "occurred_at": {"type": "string", "format": "date-time"},
        "reason": {"type": ["string", "null"], "description": "why it failed"},
    },
}
"""The channel's callback body; it is read raw, because the signature covers its bytes."""


@router.post(
    "/payment",
    response_model=views.CallbackResult,
    responses=responses(
        400,
        401,
        422,
        503,
        notes={
            400: "a body that is not a callback (INVALID_VALUE)",
            401: "a wrong signature, or a timestamp more than 5 minutes off",
            503: "the channel's order query could not confirm the event yet: deliver it again",
        },
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": PAYMENT_EVENT}},
        }
    },
    summary="Payment channel callbacks (payout, withholding) / 支付回调",
)
async def payment(
    request: Request,
    timestamp: Annotated[
        str | None,
        Header(alias="X-Sim-Timestamp", max_length=20, description="Unix seconds, signed"),
    ] = None,
    signature: Annotated[
        str | None,
        Header(
            alias="X-Sim-Signature",
            max_length=128,
            description='hex HMAC-SHA256 of timestamp + "." + the raw body',
        ),
    ] = None,
) -> dict[str, Any]:
    """The signature is checked first, then the event is confirmed with the channel's order
    query and applied exactly once; a repeat answers `duplicate`."""
    raw = await request.body()
    service = OriginationService(platform(request))
    outcome = await run_in_threadpool(  # database work off the event loop
        service.handle_payment_callback, raw, timestamp, signature
    )
    return {"ok": True, "outcome": outcome}
