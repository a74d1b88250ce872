"""Who the signed-in staff member is (/api/v1/admin/me): role, permissions, second factor,
the business date and the console's menu tree for those permissions (`security.menus`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from xindai.api import views_lists as views
from xindai.api.deps import Staff, current_staff, platform
from xindai.api.listing import reading
from xindai.security.menus import menus_for
from xindai.security.rbac import ROLES
from xindai.store import repository as repo
from xindai.store.models_origination import StaffUser

router = APIRouter(prefix="/api/v1/admin", tags=["admin 管理后台"])


@router.get("/me", response_model=views.Me, summary="Who am I, and what may I see / 当前员工")
def me(staff: Annotated[Staff, Depends(current_staff)], request: Request) -> dict[str, Any]:
    """Any signed-in staff member: the permissions the role_permissions table gives the role
    now, and the menus they show."""
    with reading(request) as session:
        user = session.get(StaffUser, staff.id)
        totp_active = user is not None and user.totp_secret_enc is not None
        today = repo.get_business_date(session)
    role = ROLES.get(staff.role)
    return {
        "id": staff.id,
        "username": staff.username,
        "role": staff.role,
        "role_zh": role.zh if role else staff.role,
        "role_en": role.en if role else staff.role,
        "channel": staff.channel,
        "permissions": sorted(staff.permissions),
        "totp_active": totp_active,
        "business_date": (today or platform(request).clock().date()).isoformat(),
        "menus": menus_for(staff.permissions),
    }
