"""The admin API (管理后台), /api/v1/admin: staff login, manual review, payouts, loans.
Every call is authorised by permission and every change audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from xindai.api.deps import PathId, Staff, client_ip, current_staff, platform
from xindai.api.schemas import ReviewIn, StaffIn, StaffLoginIn
from xindai.origination.journey import OriginationService
from xindai.security import audit
from xindai.security.pii import mask_id, mask_phone
from xindai.security.rbac import can_read_pii
from xindai.security.staff import StaffService
from xindai.store.models import Borrower
from xindai.store.models_origination import Application

router = APIRouter(prefix="/api/v1/admin", tags=["admin 管理后台"])
CurrentStaff = Annotated[Staff, Depends(current_staff)]


@router.post("/auth/login", summary="Staff login (password + TOTP) / 员工登录")
def login(body: StaffLoginIn, request: Request) -> dict[str, Any]:
    p = platform(request)
    result = StaffService(p.sessions, p.cipher).login(
        body.username, body.password, body.totp, p.clock(), ip=client_ip(request)
    )
    return {"token": result.token, "role": result.role, "expires_at": result.expires_at.isoformat()}


@router.get("/applications", summary="Applications, e.g. the review queue / 申请列表")
def applications(
    staff: CurrentStaff, request: Request, status: str = "review"
) -> list[dict[str, Any]]:
    staff.need("applications.read")
    p = platform(request)
    with p.sessions() as session:
        rows = session.scalars(
            select(Application)
            .where(Application.status == status)
            .order_by(Application.created_at)
            .limit(200)
        ).all()
        return [OriginationService.application_view(r) for r in rows]


@router.get(
    "/applications/{application_id}/decisions",
    summary="Why an application was decided so: every decision with its inputs / 决策解释",
)
def decisions(application_id: PathId, staff: CurrentStaff, request: Request) -> dict[str, Any]:
    """The engine's decision (inputs as at decision time, rules fired, score, PD, grade,
    price and limit, reasons, versions, timings) and any reviewer's or credit line's after it;
    the same as `xindai risk explain`."""
    staff.need("applications.read")
    return platform(request).decisions.explain(application_id)


@router.post("/applications/{application_id}/review", summary="Manual review / 人工审核")
def review(
    application_id: PathId, body: ReviewIn, staff: CurrentStaff, request: Request
) -> dict[str, Any]:
    """The one-call review kept for existing callers: claim (unless another reviewer's claim
    is live), record the checklist given, decide — through the queue (/api/v1/admin/reviews),
    which audits each step."""
    from xindai.risk.review import ReviewService

    staff.need("applications.review")
    p = platform(request)
    ReviewService(p).claim_and_decide(
        application_id,
        staff.username,
        approve=body.approve,
        note=body.note,
        checklist=body.checklist,
        ip=client_ip(request),
    )
    return OriginationService(p).get_application(None, application_id)


def _payout_action(
    application_id: int, staff: Staff, request: Request, action: str
) -> dict[str, Any]:
    staff.need("payouts.manage")  # operations (and finance) retry or cancel payouts
    p = platform(request)
    journey = OriginationService(p)
    if action == "retry":
        payout = journey.retry_payout(application_id)
        result = {"request_ref": payout.request_ref, "attempt": payout.attempt}
    else:
        result = journey.cancel_payout(application_id, actor=staff.username)
    with p.sessions.begin() as session:
        audit.record(
            session,
            actor=staff.username,
            action=f"payout.{action}",
            resource="application",
            resource_id=application_id,
            ip=client_ip(request),
            after=result,
            at=p.clock(),
        )
    return result


@router.post("/applications/{application_id}/payout/retry", summary="Retry a failed payout")
def retry_payout(application_id: PathId, staff: CurrentStaff, request: Request) -> dict[str, Any]:
    return _payout_action(application_id, staff, request, "retry")


@router.post("/applications/{application_id}/payout/cancel", summary="Cancel a failed payout")
def cancel_payout(application_id: PathId, staff: CurrentStaff, request: Request) -> dict[str, Any]:
    return _payout_action(application_id, staff, request, "cancel")


@router.get("/loans/{loan_id}", summary="A loan / 借据")
def loan(loan_id: PathId, staff: CurrentStaff, request: Request) -> dict[str, Any]:
    staff.need("loans.read")
    p = platform(request)
    with p.sessions() as session:
        return OriginationService(p).loan_view(session, loan_id)


@router.get("/borrowers/{borrower_id}", summary="A borrower (masked unless permitted)")
def borrower(borrower_id: PathId, staff: CurrentStaff, request: Request) -> dict[str, Any]:
    staff.need("borrowers.read")
    p = platform(request)
    with p.sessions() as session:
        row = session.get(Borrower, borrower_id)
        if row is None:
            from xindai.store.repository import NotFound

            raise NotFound("borrower not found", "借款人不存在")
        phone = p.cipher.decrypt("phone", row.mobile_enc) if row.mobile_enc else ""
        id_number = p.cipher.decrypt("id_number", row.id_number_enc) if row.id_number_enc else ""
        name = p.cipher.decrypt("name", row.name_enc) if row.name_enc else ""
    full = can_read_pii(staff.permissions)
    with p.sessions.begin() as session:
        audit.record(
            session,
            actor=staff.username,
            action="borrower.view",
            resource="borrower",
            resource_id=borrower_id,
            ip=client_ip(request),
            after={"unmasked": full},
            at=p.clock(),
        )
    return {
        "id": borrower_id,
        "name": name if full else row.display_name,
        "phone": phone if full else mask_phone(phone),
        "id_number": id_number if full else (mask_id(id_number) if id_number else ""),
        "kyc_status": row.kyc_status,
    }


@router.post("/staff", status_code=201, summary="Create a staff user / 新增员工")
def create_staff(body: StaffIn, staff: CurrentStaff, request: Request) -> dict[str, Any]:
    staff.need("staff.manage")
    p = platform(request)
    with p.sessions.begin() as session:
        created = StaffService(p.sessions, p.cipher).create(
            session,
            username=body.username,
            password=body.password,
            role=body.role,
            channel=body.channel,
            with_totp=body.with_totp,
            now=p.clock(),
            actor=staff.username,
        )
    result: dict[str, Any] = {"id": created.id, "username": created.username, "role": created.role}
    if created.totp is not None:  # shown once, for the authenticator app
        result["totp_uri"] = created.totp.uri
    return result


@router.post("/me/totp", summary="Enrol a second factor (TOTP) / 绑定动态口令")
def enrol_totp(staff: CurrentStaff, request: Request) -> dict[str, Any]:
    p = platform(request)
    with p.sessions.begin() as session:
        enrolment = StaffService(p.sessions, p.cipher).enrol_totp(
            session, staff.id, now=p.clock(), actor=staff.username
        )
    return {"totp_uri": enrolment.uri, "secret": enrolment.secret}
