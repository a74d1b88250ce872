"""The borrower's credit line (预授信额度), /api/v1/borrower/credit-line: what is available
and draws that become approved applications, signed through the usual journey."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from xindai.api import views
from xindai.api.deps import IdempotencyKey, client_ip, current_borrower, idempotent, platform
from xindai.api.openapi import responses
from xindai.api.schemas import WholeNumber
from xindai.money import parse_yuan
from xindai.origination.journey import OriginationService
from xindai.risk.credit_lines import CreditLineService

router = APIRouter(prefix="/api/v1/borrower/credit-line", tags=["borrower 借款人"])
BorrowerId = Annotated[int, Depends(current_borrower)]


class DrawIn(BaseModel):
    """A draw on the credit line: like an application, within the available amount."""

    product: str = Field(max_length=32, examples=["INST12"])
    amount: str = Field(max_length=20, description="yuan, e.g. 2000 or 1999.50")
    term: WholeNumber = Field(ge=1, le=400)
    purpose: str = Field(max_length=32, examples=["consumption"])
    card_id: WholeNumber = Field(ge=1, le=2**63 - 1)
    device_fingerprint: str | None = Field(default=None, max_length=128)


def service(request: Request) -> CreditLineService:
    return CreditLineService(platform(request))


@router.get(
    "",
    response_model=views.CreditLine,
    responses=responses(404),
    summary="My credit line: limit, outstanding, available / 我的授信额度",
)
def credit_line(borrower_id: BorrowerId, request: Request) -> dict[str, Any]:
    return service(request).view(borrower_id).as_json()


@router.post(
    "/draws",
    status_code=201,
    response_model=views.Application,
    responses=responses(400, 404, 409, 502, 503),
    summary="Draw on the credit line / 额度内借款",
)
def draw(
    body: DrawIn, borrower_id: BorrowerId, request: Request, _key: IdempotencyKey = None
) -> Response:
    def run() -> dict[str, Any]:
        application = service(request).draw(
            borrower_id,
            product_code=body.product,
            amount_fen=parse_yuan(body.amount, field="amount"),
            term=body.term,
            purpose=body.purpose,
            card_id=body.card_id,
            device_fingerprint=body.device_fingerprint,
            ip=client_ip(request),
        )
        return OriginationService.application_view(application)

    return idempotent(request, f"borrower:{borrower_id}", body.model_dump(), run, status_code=201)
