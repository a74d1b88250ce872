"""System administration in the admin API (系统管理), /api/v1/admin: staff accounts (list,
deactivate, unlock, reset the second factor; creating one is `POST /staff` in `api.admin`),
roles and the permission matrix as data (read, edit; nobody may be left able to manage
staff), and the platform's effective configuration with its secrets masked.

Staff and roles need `staff.manage`, the configuration `settings.edit`; every change is
audited (`security.staff`, `security.roles`)."""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from xindai.api import views_system as views
from xindai.api.deps import PathId, Staff, client_ip, permitted, platform
from xindai.api.listing import Listing, ListParams, page_of, reading
from xindai.api.openapi import responses
from xindai.security import roles as role_admin
from xindai.security.lockout import LOGIN_OK
from xindai.security.rbac import PERMISSIONS, ROLES, check_role
from xindai.security.staff import StaffService
from xindai.settings import Settings
from xindai.store.models_origination import AuditEvent, StaffUser

router = APIRouter(prefix="/api/v1/admin", tags=["admin 系统 system"])
STAFF = Listing(
    "staff",
    sortable={
        "id": StaffUser.id,
        "username": StaffUser.username,
        "created_at": StaffUser.created_at,
    },
    default_sort="id",
    tiebreak=StaffUser.id,
    search="username",
)
RoleCode = Annotated[
    str,
    Path(max_length=32, description="a role code", json_schema_extra={"enum": list(ROLES)}),
]
OWN_NOTES = {
    404: "STAFF_NOT_FOUND",
    409: "STAFF_OWN_ACCOUNT: your own account (another administrator acts on it); "
    "STAFF_LAST_MANAGER: nobody active would be left able to manage staff",
}


class PermissionsIn(BaseModel):
    permissions: list[str] = Field(
        max_length=len(PERMISSIONS),
        description="the role's whole set of permission codes (replaces the current one)",
        json_schema_extra={"items": {"type": "string", "enum": list(PERMISSIONS)}},
    )


def _service(request: Request) -> StaffService:
    p = platform(request)
    return StaffService(p.sessions, p.cipher)


def staff_view(user: StaffUser, last_login: Any) -> dict[str, Any]:
    role = ROLES.get(user.role)
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "role_zh": role.zh if role else user.role,
        "role_en": role.en if role else user.role,
        "channel": user.channel,
        "active": user.active,
        "totp_active": user.totp_secret_enc is not None,
        "totp_pending": bool(user.totp_pending_enc),
        "created_at": user.created_at.isoformat(),
        "last_login_at": last_login.isoformat() if last_login is not None else None,
    }


def _last_login() -> Any:
    return (
        select(func.max(AuditEvent.at))
        .where(AuditEvent.actor == StaffUser.username, AuditEvent.action == LOGIN_OK)
        .correlate(StaffUser)
        .scalar_subquery()
    )


def _one(request: Request, staff_id: int) -> dict[str, Any]:
    with reading(request) as session:
        row = session.execute(
            select(StaffUser, _last_login()).where(StaffUser.id == staff_id)
        ).first()
        if row is None:
            from xindai.security.errors import StaffNotFound

            raise StaffNotFound(staff_id)
        return staff_view(*row)


# ------------------------------------------------------------------ staff


@router.get(
    "/staff",
    response_model=page_of(views.StaffMember),
    responses=responses(403),
    summary="Staff accounts / 员工",
)
def staff_list(
    staff: Annotated[Staff, permitted("staff.manage")],
    request: Request,
    params: Annotated[ListParams, STAFF.params()],
    role: Annotated[
        str | None, Query(max_length=32, json_schema_extra={"enum": list(ROLES)})
    ] = None,
    active: bool | None = None,
) -> dict[str, Any]:
    stmt = select(StaffUser, _last_login())
    counted = select(StaffUser.id)
    for condition in (
        None if role is None else StaffUser.role == role,
        None if active is None else StaffUser.active.is_(active),
        None if params.query is None else StaffUser.username.contains(params.query.lower()),
    ):
        if condition is not None:
            stmt, counted = stmt.where(condition), counted.where(condition)
    with reading(request) as session:
        rows, total = STAFF.page(session, stmt, params, counted=counted)
        return params.answer([staff_view(user, last) for user, last in rows], total)


@router.post(
    "/staff/{staff_id}/deactivate",
    response_model=views.StaffMember,
    responses=responses(403, 404, 409, notes=OWN_NOTES),
    summary="Deactivate a staff account (its sessions end) / 停用员工",
)
def deactivate(
    staff_id: PathId, staff: Annotated[Staff, permitted("staff.manage")], request: Request
) -> dict[str, Any]:
    p = platform(request)
    service = _service(request)
    with p.sessions.begin() as session:
        user = session.get(StaffUser, staff_id, with_for_update=True)
        if user is None:
            from xindai.security.errors import StaffNotFound

            raise StaffNotFound(staff_id)
        role_admin.check_deactivation(session, user, actor_id=staff.id)
        service.deactivate(session, staff_id, now=p.clock(), actor=staff.username)
    return _one(request, staff_id)


@router.post(
    "/staff/{staff_id}/unlock",
    response_model=views.StaffMember,
    responses=responses(403, 404, notes={404: "STAFF_NOT_FOUND"}),
    summary="Forget the failed logins that locked an account / 解锁员工",
)
def unlock(
    staff_id: PathId, staff: Annotated[Staff, permitted("staff.manage")], request: Request
) -> dict[str, Any]:
    p = platform(request)
    with p.sessions.begin() as session:
        user = session.get(StaffUser, staff_id)
        if user is None:
            from xindai.security.errors import StaffNotFound

            raise StaffNotFound(staff_id)
        _service(request).unlock(session, user.username, now=p.clock(), actor=staff.username)
    return _one(request, staff_id)


@router.post(
    "/staff/{staff_id}/reset-totp",
    response_model=views.StaffMember,
    responses=responses(403, 404, 409, notes=OWN_NOTES),
    summary="Remove a lost second factor (the user enrols again) / 重置动态口令",
)
def reset_totp(
    staff_id: PathId, staff: Annotated[Staff, permitted("staff.manage")], request: Request
) -> dict[str, Any]:
    """Removes the active and any pending secret and ends the account's sessions; the next
    login needs the password only and should enrol a new second factor."""
    p = platform(request)
    if staff_id == staff.id:
        raise role_admin.OwnAccount("reset the second factor of", "重置")
    with p.sessions.begin() as session:
        user = session.get(StaffUser, staff_id)
        if user is None:
            from xindai.security.errors import StaffNotFound

            raise StaffNotFound(staff_id)
        _service(request).reset_totp(session, user.username, now=p.clock(), actor=staff.username)
    return _one(request, staff_id)


# ------------------------------------------------------------------ roles


@router.get(
    "/roles",
    response_model=views.PermissionMatrix,
    responses=responses(403),
    summary="Roles and the permission matrix / 角色与权限",
)
def roles(staff: Annotated[Staff, permitted("staff.manage")], request: Request) -> dict[str, Any]:
    with reading(request) as session:
        return role_admin.matrix(session)


@router.put(
    "/roles/{role}/permissions",
    response_model=views.RoleChange,
    responses=responses(
        400,
        403,
        409,
        notes={
            400: "INVALID_VALUE: an unknown role or permission code",
            409: "STAFF_LAST_MANAGER: nobody active would be left holding staff.manage",
        },
    ),
    summary="Replace a role's permissions / 编辑角色权限",
)
def edit_role(
    role: RoleCode,
    body: PermissionsIn,
    staff: Annotated[Staff, permitted("staff.manage")],
    request: Request,
) -> dict[str, Any]:
    """Takes effect at each member's next call (every call reads the table); menus follow
    at their next `GET /me`."""
    check_role(role)
    p = platform(request)
    with p.sessions.begin() as session:
        change = role_admin.edit_role(
            session,
            role,
            body.permissions,
            actor=staff.username,
            now=p.clock(),
            ip=client_ip(request),
        )
    with reading(request) as session:
        found = next(r for r in role_admin.matrix(session)["roles"] if r["role"] == role)
    return {**found, **change}


# ------------------------------------------------------------------ configuration

SECRETS = ("pii_key", "secret_key", "provider_secret")
DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "data_dir": ("本地文件目录", "where local files live"),
    "database_url": ("数据库连接（密码已隐藏）", "the database (password hidden)"),
    "echo_sql": ("记录每条 SQL", "log every SQL statement"),
    "pii_key": ("个人信息加密密钥", "encryption key of personal data at rest"),
    "secret_key": ("密钥（索引哈希、验证码、令牌）", "key of lookups, SMS codes and tokens"),
    "providers_url": ("外部服务地址", "base URL of the external services"),
    "provider_secret": ("外部服务回调签名密钥", "shared secret of signed provider callbacks"),
    "public_url": ("平台对外地址（回调）", "this platform's base URL, for callbacks"),
    "trusted_proxies": ("可信反向代理", "reverse proxies whose forwarded headers are trusted"),
    "lender_name": ("放贷机构名称（合同）", "the lender's name on contracts"),
    "strategy_name": ("决策策略", "the decision strategy every application runs"),
    "bureau_cache_days": ("征信报告缓存天数", "days a person's credit report is reused"),
    "review_sla_minutes": ("人工审核时限（分钟）", "minutes manual review must decide within"),
    "payments_resolve_after_minutes": (
        "主动查询等待（分钟）",
        "minutes before a payment without a result is asked about",
    ),
    "credit_line_days": ("预授信额度有效天数", "days a pre-granted credit line lasts"),
    "withhold_daily_until_dpd": (
        "每日代扣至逾期天数",
        "automatic withholding every day until a loan is this many days past due",
    ),
    "withhold_then_every_days": (
        "此后每隔几天代扣一次",
        "then withheld only every this many days (1: every day)",
    ),
    "scorecard_model": ("评分卡模型文件", "scorecard model file (empty: the shipped one)"),
    "blocked_regions": ("不服务的省份代码", "province codes not served"),
}


def _shown(settings: Settings, key: str) -> tuple[Any, bool]:
    """The value as the screen shows it, and whether it is a public development default."""
    value = getattr(settings, key)
    if key in SECRETS:
        development = f"XINDAI_{key.upper()}" in settings.development_defaults()
        return ("<development default>" if development else "<set>"), development
    if key == "database_url":
        return make_url(value).render_as_string(hide_password=True), False
    if isinstance(value, bool | int):
        return value, False
    return str(value), False


@router.get(
    "/settings",
    response_model=views.Configuration,
    responses=responses(403),
    summary="The effective configuration, secrets masked / 系统配置",
)
def settings(
    staff: Annotated[Staff, permitted("settings.edit")], request: Request
) -> dict[str, Any]:
    """What this server runs with (`XINDAI_*` environment variables, else the defaults);
    changed by setting the variable and restarting the server."""
    current = platform(request).settings
    items = []
    for key, field in Settings.model_fields.items():
        value, development = _shown(current, key)
        variable = f"XINDAI_{key.upper()}"
        zh, en = DESCRIPTIONS.get(key, (key, key))
        default = field.get_default(call_default_factory=True)
        items.append(
            {
                "key": key,
                "variable": variable,
                "value": value,
                "type": "secret" if key in SECRETS else type(getattr(current, key)).__name__,
                "description": {"zh-CN": zh, "en": en},
                "source": "environment"
                if variable in os.environ
                else ("default" if getattr(current, key) == default else "configured"),
                "development_default": development,
                "editable": False,
            }
        )
    return {"items": items, "development_defaults": current.development_defaults()}
