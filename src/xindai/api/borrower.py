"""The borrower API (借款人端), /api/v1/borrower: the journey of SPEC §7 steps 1–7."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from xindai.api import views
from xindai.api.deps import (
    IdempotencyKey,
    PathId,
    client_ip,
    current_borrower,
    idempotent,
    platform,
)
from xindai.api.openapi import responses
from xindai.api.schemas import (
    AgreementsIn,
    ApplicationIn,
    CardConfirmIn,
    CardIn,
    ContactsIn,
    KycIn,
    LoginIn,
    PhoneIn,
    QuoteIn,
    RepaymentIn,
)
from xindai.errors import InvalidValue
from xindai.money import parse_yuan
from xindai.origination.agreements import REGISTRATION_AGREEMENTS, agreement
from xindai.origination.declared import parse_declared
from xindai.origination.journey import OriginationService
from xindai.security import audit, tokens
from xindai.security.pii import mask_phone
from xindai.store.models import Borrower

router = APIRouter(prefix="/api/v1/borrower", tags=["borrower 借款人"])
BorrowerId = Annotated[int, Depends(current_borrower)]


def journey(request: Request) -> OriginationService:
    return OriginationService(platform(request))


def _photo(text: str, field: str) -> bytes:
    try:
        content = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidValue(field, "<image>", "is not base64", "不是 base64 图片") from None
    if not content:
        raise InvalidValue(field, "<image>", "is empty", "图片为空")
    return content


@router.post(
    "/auth/code",
    response_model=views.CodeSent,
    responses=responses(400, 429, 502, 503),
    summary="Send a login code by SMS / 发送登录验证码",
)
def send_code(body: PhoneIn, request: Request) -> dict[str, Any]:
    expires = journey(request).send_login_code(body.phone, client_ip(request))
    return {"sent": True, "expires_at": expires.isoformat()}


@router.post(
    "/auth/login",
    response_model=views.BorrowerSession,
    responses=responses(400, 429),
    summary="Log in (registering on first use) / 登录或注册",
)
def login(body: LoginIn, request: Request) -> dict[str, Any]:
    result = journey(request).login(body.phone, body.code, client_ip(request), body.channel)
    return {
        "token": result.token,
        "borrower_id": result.borrower_id,
        "new_borrower": result.new_borrower,
        "expires_at": result.expires_at.isoformat(),
    }


@router.post(
    "/auth/logout",
    status_code=204,
    response_class=Response,
    summary="Log out: the app's token no longer works / 退出登录",
)
def logout(borrower_id: BorrowerId, request: Request) -> Response:
    """Revokes the bearer token of this call (the borrower's other devices stay signed in);
    audited as `borrower.logout`. A later call with the token is a 401 AUTH_REQUIRED."""
    p = platform(request)
    with p.sessions.begin() as session:
        tokens.revoke(session, tokens.bearer_of(request.headers.get("authorization", "")))
        audit.record(
            session,
            actor=f"borrower:{borrower_id}",
            action="borrower.logout",
            resource="borrower",
            resource_id=borrower_id,
            ip=client_ip(request),
            at=p.clock(),
        )
    return Response(status_code=204)


@router.get("/me", response_model=views.Profile, summary="My profile (masked) / 我的资料")
def me(borrower_id: BorrowerId, request: Request) -> dict[str, Any]:
    p = platform(request)
    with p.reads() as session:
        borrower = session.get(Borrower, borrower_id)
        assert borrower is not None
        phone = p.cipher.decrypt("phone", borrower.mobile_enc or "")
        return {
            "id": borrower.id,
            "name": borrower.display_name,
            "phone": mask_phone(phone),
            "kyc_status": borrower.kyc_status,
        }


@router.get(
    "/agreements",
    response_model=list[views.Agreement],
    summary="The agreements to accept / 需同意的协议",
)
def agreements() -> list[dict[str, Any]]:
    result = []
    for code in REGISTRATION_AGREEMENTS:
        item = agreement(code)
        result.append(
            {
                "code": item.code.value,
                "version": item.version,
                "title": item.title,
                "body": item.body_zh,
            }
        )
    return result


@router.post(
    "/agreements/accept",
    response_model=list[views.Acceptance],
    responses=responses(400),
    summary="Accept agreements / 同意协议",
)
def accept(body: AgreementsIn, borrower_id: BorrowerId, request: Request) -> list[dict[str, Any]]:
    return journey(request).accept_agreements(
        borrower_id, [(i.code, i.version) for i in body.items], client_ip(request)
    )


@router.post(
    "/kyc",
    response_model=views.Identity,
    responses=responses(400, 409, 502, 503),
    summary="Real-name verification / 实名认证",
)
def kyc(body: KycIn, borrower_id: BorrowerId, request: Request) -> dict[str, Any]:
    photos = {
        "id_front": _photo(body.id_front, "id_front"),
        "id_back": _photo(body.id_back, "id_back"),
        "face": _photo(body.face, "face"),
    }
    return journey(request).verify_identity(borrower_id, body.name, body.id_number, photos)


@router.put(
    "/contacts",
    response_model=views.ContactsSaved,
    responses=responses(400),
    summary="Emergency contacts / 紧急联系人",
)
def contacts(body: ContactsIn, borrower_id: BorrowerId, request: Request) -> dict[str, Any]:
    count = journey(request).set_contacts(borrower_id, [c.model_dump() for c in body.contacts])
    return {"contacts": count}


@router.post(
    "/cards",
    status_code=201,
    response_model=views.CardStarted,
    responses=responses(400, 409, 502, 503),
    summary="Bind a bank card: four-element check / 绑卡",
)
def bind_card(
    body: CardIn, borrower_id: BorrowerId, request: Request, _key: IdempotencyKey = None
) -> Response:
    return idempotent(
        request,
        f"borrower:{borrower_id}",
        body.model_dump(),
        lambda: journey(request).start_card(borrower_id, body.card_number, body.phone),
        status_code=201,
    )


@router.post(
    "/cards/{card_id}/confirm",
    response_model=views.Card,
    responses=responses(400, 404, 409, 502, 503),
    summary="Confirm the card's SMS code / 绑卡确认",
)
def confirm_card(
    card_id: PathId, body: CardConfirmIn, borrower_id: BorrowerId, request: Request
) -> dict[str, Any]:
    return journey(request).confirm_card(borrower_id, card_id, body.code)


@router.post(
    "/quote",
    response_model=views.Quote,
    responses=responses(400),
    summary="Schedule and annualised cost before applying / 试算",
)
def quote(body: QuoteIn, request: Request) -> dict[str, Any]:
    return journey(request).quote(body.product, parse_yuan(body.amount, field="amount"), body.term)


@router.post(
    "/applications",
    status_code=201,
    response_model=views.Application,
    responses=responses(400, 404, 409, 502, 503),
    summary="Apply / 申请借款",
)
def apply(
    body: ApplicationIn, borrower_id: BorrowerId, request: Request, _key: IdempotencyKey = None
) -> Response:
    def run() -> dict[str, Any]:
        return journey(request).apply(
            borrower_id,
            product_code=body.product,
            amount_fen=parse_yuan(body.amount, field="amount"),
            term=body.term,
            purpose=body.purpose,
            card_id=body.card_id,
            device_fingerprint=body.device_fingerprint,
            ip=client_ip(request),
            declared=parse_declared(
                monthly_income=body.monthly_income,
                employment_type=body.employment_type,
                education=body.education,
                city=body.city,
                phonebook_count=body.phonebook_count,
            ),
        )

    return idempotent(request, f"borrower:{borrower_id}", body.model_dump(), run, status_code=201)


@router.get(
    "/applications/{application_id}",
    response_model=views.Application,
    responses=responses(404),
    summary="An application / 申请详情",
)
def application(
    application_id: PathId, borrower_id: BorrowerId, request: Request
) -> dict[str, Any]:
    return journey(request).get_application(borrower_id, application_id)


@router.get(
    "/applications/{application_id}/contract",
    response_class=HTMLResponse,
    responses=responses(404, 409),
    summary="The contract (HTML) / 借款合同",
)
def contract_html(application_id: PathId, borrower_id: BorrowerId, request: Request) -> str:
    return journey(request).contract(borrower_id, application_id).html


@router.get(
    "/applications/{application_id}/contract.pdf",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The contract as PDF; X-Content-SHA256 is its SHA-256 (hex)",
        },
        **responses(404, 409),
    },
    summary="The contract (PDF) / 借款合同 PDF",
)
def contract_pdf(application_id: PathId, borrower_id: BorrowerId, request: Request) -> Response:
    record = journey(request).contract(borrower_id, application_id)
    return Response(
        record.pdf, media_type="application/pdf", headers={"X-Content-SHA256": record.pdf_sha256}
    )


@router.post(
    "/applications/{application_id}/sign",
    response_model=views.Application,
    responses=responses(404, 409, 502, 503),
    summary="Sign; payout follows / 签约放款",
)
def sign(
    application_id: PathId, borrower_id: BorrowerId, request: Request, _key: IdempotencyKey = None
) -> Response:
    return idempotent(
        request,
        f"borrower:{borrower_id}",
        {"application": application_id},
        lambda: journey(request).sign(borrower_id, application_id),
    )


@router.get("/loans", response_model=list[views.Loan], summary="My loans / 我的借款")
def loans(borrower_id: BorrowerId, request: Request) -> list[dict[str, Any]]:
    return journey(request).loans_of(borrower_id)


@router.get(
    "/loans/{loan_id}",
    response_model=views.Loan,
    responses=responses(404),
    summary="A loan / 借款详情",
)
def loan(loan_id: PathId, borrower_id: BorrowerId, request: Request) -> dict[str, Any]:
    return journey(request).borrower_loan(borrower_id, loan_id)


@router.post(
    "/loans/{loan_id}/repayments",
    status_code=202,
    response_model=views.RepaymentRequested,
    responses=responses(400, 404, 409, 502, 503),
    summary="Repay: the card is charged, the loan credited when the channel confirms / 还款",
)
def repay(
    loan_id: PathId,
    body: RepaymentIn,
    borrower_id: BorrowerId,
    request: Request,
    _key: IdempotencyKey = None,
) -> Response:
    amount = parse_yuan(body.amount, field="amount") if body.amount is not None else None
    return idempotent(
        request,
        f"borrower:{borrower_id}",
        {"loan": loan_id, **body.model_dump()},
        lambda: journey(request).repay(borrower_id, loan_id, mode=body.mode, amount_fen=amount),
        status_code=202,
    )
