"""The admin API (管理后台), /api/v1/admin: staff login, manual review, payouts, loans.
Every call is authorised by permission and every change audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response

from xindai.api import views, views_admin
from xindai.api.deps import (
    PathId,
    Staff,
    client_ip,
    current_staff,
    permitted,
    platform,
)
from xindai.api.openapi import responses
from xindai.api.schemas import ReviewIn, StaffIn, StaffLoginIn
from xindai.origination.journey import OriginationService
from xindai.security import audit, tokens
from xindai.security.staff import StaffService

router = APIRouter(prefix="/api/v1/admin", tags=["admin 管理后台"])
CurrentStaff = Annotated[Staff, Depends(current_staff)]
PAYOUTS = "payouts.manage"  # finance retries or cancels payouts


@router.post(
    "/auth/login",
    response_model=views_admin.StaffSession,
    responses=responses(
        401,
        429,
        notes={
            401: "LOGIN_FAILED for an unknown user, a wrong password or an inactive account "
            "alike; TOTP_REQUIRED without a code when a second factor is active; TOTP_INVALID",
            429: "LOGIN_LOCKED: this client is locked out of the account for a while",
        },
    ),
    summary="Staff login (password + TOTP) / 员工登录",
)
def login(body: StaffLoginIn, request: Request) -> dict[str, Any]:
    p = platform(request)
    result = StaffService(p.sessions, p.cipher).login(
        body.username, body.password, body.totp, p.clock(), ip=client_ip(request)
    )
    return {"token": result.token, "role": result.role, "expires_at": result.expires_at.isoformat()}


@router.post(
    "/auth/logout",
    status_code=204,
    response_class=Response,
    summary="Sign out: the caller's token no longer works / 退出登录",
)
def logout(staff: CurrentStaff, request: Request) -> Response:
    """Revokes the bearer token of this call (other sessions of the same account stay);
    audited as `staff.logout`. A later call with the token is a 401 AUTH_REQUIRED."""
    p = platform(request)
    with p.sessions.begin() as session:
        tokens.revoke(session, tokens.bearer_of(request.headers.get("authorization", "")))
        audit.record(
            session,
            actor=staff.username,
            action="staff.logout",
            resource="staff_user",
            resource_id=staff.id,
            ip=client_ip(request),
            at=p.clock(),
        )
    return Response(status_code=204)


@router.get(
    "/applications/{application_id}/decisions",
    response_model=views_admin.Explanation,
    responses=responses(403, 404),
    summary="Why an application was decided so: every decision with its inputs / 决策解释",
)
def decisions(
    application_id: PathId,
    staff: Annotated[Staff, permitted("applications.read")],
    request: Request,
) -> dict[str, Any]:
    """The engine's decision (inputs as at decision time, rules fired, score, PD, grade,
    price and limit, reasons, versions, timings) and any reviewer's or credit line's after it;
    the same as `xindai risk explain`. An agent's own channel's applicants only (else 404)."""
    from xindai.api.admin_applications import visible_application
    from xindai.api.listing import reading

    with reading(request) as session:
        visible_application(session, staff, application_id)
    return platform(request).decisions.explain(application_id)


@router.post(
    "/applications/{application_id}/review",
    response_model=views.Application,
    responses=responses(400, 403, 404, 409),
    summary="Manual review / 人工审核",
)
def review(
    application_id: PathId,
    body: ReviewIn,
    staff: Annotated[Staff, permitted("applications.review")],
    request: Request,
) -> dict[str, Any]:
    """The one-call review kept for existing callers: claim (unless another reviewer's claim
    is live), record the checklist given, decide — through the queue (/api/v1/admin/reviews),
    which audits each step."""
    from xindai.risk.review import ReviewService

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


@router.post(
    "/applications/{application_id}/payout/retry",
    response_model=views_admin.PayoutRequested,
    responses=responses(403, 404, 409, 502, 503),
    summary="Retry a failed payout / 重新放款",
)
def retry_payout(
    application_id: PathId, staff: Annotated[Staff, permitted(PAYOUTS)], request: Request
) -> dict[str, Any]:
    return _payout_action(application_id, staff, request, "retry")


@router.post(
    "/applications/{application_id}/payout/cancel",
    response_model=views.Application,
    responses=responses(403, 404, 409),
    summary="Cancel a failed payout / 取消放款",
)
def cancel_payout(
    application_id: PathId, staff: Annotated[Staff, permitted(PAYOUTS)], request: Request
) -> dict[str, Any]:
    return _payout_action(application_id, staff, request, "cancel")


@router.post(
    "/staff",
    status_code=201,
    response_model=views_admin.StaffCreated,
    response_model_exclude_unset=True,  # totp_uri only when a second factor was enrolled
    responses=responses(400, 403, 409),
    summary="Create a staff user / 新增员工",
)
def create_staff(
    body: StaffIn, staff: Annotated[Staff, permitted("staff.manage")], request: Request
) -> dict[str, Any]:
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


@router.post(
    "/me/totp",
    response_model=views_admin.TotpEnrolment,
    responses=responses(
        401,
        403,
        429,
        notes={
            401: "TOTP_REQUIRED / TOTP_INVALID: the current code, when a factor is active",
            403: "REAUTH_FAILED: the current password is wrong",
            429: "LOGIN_LOCKED",
        },
    ),
    summary="Start enrolling a new second factor (TOTP) / 绑定动态口令",
)
def enrol_totp(
    staff: CurrentStaff,
    request: Request,
    password: Annotated[
        str, Body(embed=True, max_length=256, description="the current password / 当前密码")
    ],
    code: Annotated[
        str | None,
        Body(
            embed=True,
            max_length=12,
            description="a code from the active authenticator, when one is enrolled / 当前动态码",
        ),
    ] = None,
) -> dict[str, Any]:
    """A new secret (shown once), pending until `POST /me/totp/confirm` with a first code
    from it; the active second factor, if any, stays in force until then. Needs the current
    password, and a current code when a second factor is active (wrong ones count towards
    the login lockout)."""
    p = platform(request)
    enrolment = StaffService(p.sessions, p.cipher).enrol_totp(
        staff.id, password=password, code=code, now=p.clock(), ip=client_ip(request)
    )
    return {"totp_uri": enrolment.uri, "secret": enrolment.secret, "status": "pending"}


@router.post(
    "/me/totp/confirm",
    response_model=views_admin.TotpConfirmed,
    responses=responses(
        401,
        409,
        notes={
            401: "TOTP_INVALID: not a current code of the new secret",
            409: "TOTP_NOT_PENDING: no new secret waits for confirmation",
        },
    ),
    summary="Confirm the new second factor with a first code / 确认动态口令",
)
def confirm_totp(
    staff: CurrentStaff,
    request: Request,
    code: Annotated[
        str, Body(embed=True, max_length=12, description="a code from the new secret / 动态码")
    ],
) -> dict[str, Any]:
    """Makes the pending secret the active second factor (replacing the previous one)."""
    p = platform(request)
    StaffService(p.sessions, p.cipher).confirm_totp(
        staff.id, code, now=p.clock(), ip=client_ip(request)
    )
    return {"status": "active"}
