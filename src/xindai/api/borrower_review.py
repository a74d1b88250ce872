"""The borrower's side of manual review (人工审核), /api/v1/borrower: what the reviewer asked
for on an application (补充资料) and the borrower's answer, which puts the application back
in the review queue."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from xindai.api import views
from xindai.api.deps import PathId, current_borrower, platform
from xindai.api.openapi import responses
from xindai.risk.review import ReviewService
from xindai.risk.review_rules import MAX_TEXT

router = APIRouter(prefix="/api/v1/borrower", tags=["borrower 借款人"])
BorrowerId = Annotated[int, Depends(current_borrower)]


class MoreInfoReplyIn(BaseModel):
    reply: str = Field(min_length=1, max_length=MAX_TEXT, description="The answer / 补充说明")


@router.get(
    "/applications/{application_id}/more-info",
    response_model=views.InfoRequest,
    responses=responses(404),
    summary="What the reviewer asks for, if anything / 补充资料请求",
)
def more_info(application_id: PathId, borrower_id: BorrowerId, request: Request) -> dict[str, Any]:
    return ReviewService(platform(request)).info_request_for(borrower_id, application_id)


@router.post(
    "/applications/{application_id}/more-info",
    response_model=views.InfoRequest,
    responses=responses(400, 404, 409),
    summary="Answer the reviewer's request / 提交补充资料",
)
def reply(
    application_id: PathId, body: MoreInfoReplyIn, borrower_id: BorrowerId, request: Request
) -> dict[str, Any]:
    return ReviewService(platform(request)).reply(borrower_id, application_id, body.reply)
