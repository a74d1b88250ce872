"""Credit lines in the admin API (管理后台), /api/v1/admin/credit-lines: the list by status,
freezing and unfreezing a line (permission `credit_lines.manage`; audited by the service)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from xindai.api import views
from xindai.api.deps import MAX_ID, PathId, Staff, client_ip, permitted, platform
from xindai.api.openapi import responses
from xindai.api.schemas import WholeNumber
from xindai.risk.credit_lines import STATUSES, CreditLineService

router = APIRouter(prefix="/api/v1/admin/credit-lines", tags=["admin 管理后台"])
PERMISSION = "credit_lines.manage"


class LineActionIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


def service(request: Request) -> CreditLineService:
    return CreditLineService(platform(request))


@router.get(
    "",
    response_model=list[views.CreditLine],
    responses=responses(400, 403),
    summary="Credit lines / 授信额度列表",
)
def credit_lines(
    staff: Annotated[Staff, permitted(PERMISSION)],
    request: Request,
    status: Annotated[
        str | None,
        Query(max_length=16, json_schema_extra={"enum": list(STATUSES)}),
    ] = None,
    limit: Annotated[WholeNumber, Query(ge=1, le=1000)] = 200,
    offset: Annotated[WholeNumber, Query(ge=0, le=MAX_ID)] = 0,
) -> list[dict[str, Any]]:
    lines = service(request).lines(status=status, limit=limit, offset=offset)
    return [line.as_json() for line in lines]


@router.post(
    "/{line_id}/freeze",
    response_model=views.CreditLine,
    responses=responses(403, 404, 409),
    summary="Freeze a credit line / 冻结额度",
)
def freeze(
    line_id: PathId,
    body: LineActionIn,
    staff: Annotated[Staff, permitted(PERMISSION)],
    request: Request,
) -> dict[str, Any]:
    view = service(request).freeze(line_id, staff.username, body.reason, ip=client_ip(request))
    return view.as_json()


@router.post(
    "/{line_id}/unfreeze",
    response_model=views.CreditLine,
    responses=responses(403, 404, 409),
    summary="Unfreeze a credit line / 解冻额度",
)
def unfreeze(
    line_id: PathId,
    body: LineActionIn,
    staff: Annotated[Staff, permitted(PERMISSION)],
    request: Request,
) -> dict[str, Any]:
    view = service(request).unfreeze(line_id, staff.username, body.reason, ip=client_ip(request))
    return view.as_json()
