"""The borrower app's screens beyond the journey's steps (/api/v1/borrower, docs/borrower-api.md):
products and the home screen, messages, cards and the BIN look-up, the masked profile, the
list and progress of applications, today's repayment options and the receipts of a loan.

Everything here reads; money moves only through POST /loans/{id}/repayments (api.borrower),
with the amounts `repayment-options` shows."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from xindai.api import views_app as views
from xindai.api.deps import PathId, current_borrower, platform
from xindai.api.openapi import responses
from xindai.origination.application_progress import ApplicationProgress
from xindai.origination.borrower_home import BorrowerHome, bank_of, supported_banks
from xindai.origination.repayment_options import RepaymentOptions
from xindai.risk.credit_lines import CreditLineNotFound, CreditLineService

router = APIRouter(prefix="/api/v1/borrower", tags=["borrower 借款人"])
BorrowerId = Annotated[int, Depends(current_borrower)]
MAX_ID = 2**63 - 1


class CardNumberIn(BaseModel):
    card_number: str = Field(
        min_length=1, max_length=32, description="the digits typed so far (6–19), spaces allowed"
    )


def _home(request: Request) -> BorrowerHome:
    return BorrowerHome(platform(request))


@router.get(
    "/products",
    response_model=list[views.AppProduct],
    summary="Products on offer with their cost / 在售产品与综合年化成本",
)
def products(request: Request) -> list[dict[str, Any]]:
    """Every active product: terms, amount range, rates and fees, extension and early
    settlement, and the comprehensive annualised cost at each term (paid out today).
    The schedule of a chosen amount and term is POST /quote."""
    return _home(request).products()


@router.get("/banks", response_model=list[views.Bank], summary="Banks that can be bound / 支持银行")
def banks() -> list[dict[str, str]]:
    return supported_banks()


@router.get(
    "/home",
    response_model=views.Home,
    summary="Home screen: limit, products, next due, steps, messages / 首页",
)
def home(borrower_id: BorrowerId, request: Request) -> dict[str, Any]:
    try:
        line: dict[str, Any] | None = (
            CreditLineService(platform(request)).view(borrower_id).as_json()
        )
    except CreditLineNotFound:
        line = None
    return _home(request).home(borrower_id, line)


@router.get(
    "/profile",
    response_model=views.MaskedProfile,
    summary="My data, masked: identity, contacts, agreements / 我的资料",
)
def profile(borrower_id: BorrowerId, request: Request) -> dict[str, Any]:
    return _home(request).profile(borrower_id)


@router.get(
    "/messages",
    response_model=list[views.Message],
    summary="Messages sent to me / 消息",
)
def messages(
    borrower_id: BorrowerId,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=50, description="at most this many")] = 20,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="ids below this (the next page)")
    ] = None,
) -> list[dict[str, Any]]:
    return _home(request).messages(borrower_id, limit, before)


@router.get("/cards", response_model=list[views.CardView], summary="My bank cards / 我的银行卡")
def cards(borrower_id: BorrowerId, request: Request) -> list[dict[str, Any]]:
    return _home(request).cards(borrower_id)


@router.post(
    "/cards/bin",
    response_model=views.BinLookup,
    responses=responses(400),
    summary="The bank of a card number by its BIN / 卡号识别银行",
)
def card_bin(body: CardNumberIn, borrower_id: BorrowerId) -> dict[str, Any]:
    """As the number is typed (a body, not a query: a card number stays out of URLs and
    access logs): the bank, debit or credit, and the Luhn check once complete."""
    return bank_of(body.card_number)


@router.get(
    "/applications",
    response_model=list[views.ApplicationSummary],
    summary="My applications / 我的申请",
)
def applications(borrower_id: BorrowerId, request: Request) -> list[dict[str, Any]]:
    return ApplicationProgress(platform(request)).applications(borrower_id)


@router.get(
    "/applications/{application_id}/progress",
    response_model=views.Progress,
    responses=responses(404),
    summary="Where an application is: decision, review, contract, payout / 申请进度",
)
def progress(application_id: PathId, borrower_id: BorrowerId, request: Request) -> dict[str, Any]:
    return ApplicationProgress(platform(request)).progress(borrower_id, application_id)


@router.get(
    "/loans/{loan_id}/repayment-options",
    response_model=views.RepaymentOptions,
    responses=responses(404, 409),
    summary="Today's amounts: current due, any amount, payoff, extension / 还款试算",
)
def repayment_options(loan_id: PathId, borrower_id: BorrowerId, request: Request) -> dict[str, Any]:
    """Each amount is what POST /loans/{id}/repayments asks the card for in that mode
    today; the loan is credited only when the channel confirms. 409 LOAN_NOT_OPEN for a
    settled (or otherwise closed) loan."""
    return RepaymentOptions(platform(request)).options(borrower_id, loan_id)


@router.get(
    "/loans/{loan_id}/receipts",
    response_model=list[views.Receipt],
    responses=responses(404),
    summary="A loan's repayment records / 还款记录",
)
def receipts(loan_id: PathId, borrower_id: BorrowerId, request: Request) -> list[dict[str, Any]]:
    return RepaymentOptions(platform(request)).receipts(borrower_id, loan_id)
