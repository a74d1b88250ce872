"""The permission matrix as an administrator edits it, and the one rule that keeps the back
office manageable: some active staff member always holds `staff.manage` (an edit of a role's
permissions, or a deactivation, that would leave nobody able to manage staff is refused).
Changes are audited with what was added and removed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xindai.security import audit
from xindai.security.errors import SecurityError
from xindai.security.rbac import PERMISSIONS, ROLES, permissions_for, set_permissions
from xindai.store.models_origination import RolePermission, StaffUser

MANAGE = "staff.manage"


class LastManager(SecurityError):
    """The change would leave no active staff member who can manage staff."""

    code = "STAFF_LAST_MANAGER"
    http_status = 409

    def __init__(self) -> None:
        super().__init__(
            f"no active staff member would hold {MANAGE} (the last administrator's)",
            f"此操作后将没有在职员工拥有“{PERMISSIONS[MANAGE].zh}”权限",
        )


class OwnAccount(SecurityError):
    """An administrator acting on their own account where another must."""

    code = "STAFF_OWN_ACCOUNT"
    http_status = 409

    def __init__(self, action_en: str, action_zh: str) -> None:
        super().__init__(
            f"you cannot {action_en} your own account; another administrator can",
            f"不能{action_zh}自己的账号，请由其他管理员操作",
        )


def managers(
    session: Session, *, without_role: str | None = None, without_staff: int | None = None
) -> int:
    """Active staff members whose role holds `staff.manage`, leaving out a role (whose
    permissions are being replaced) or one staff member (being deactivated)."""
    roles = select(RolePermission.role).where(RolePermission.permission == MANAGE)
    if without_role is not None:
        roles = roles.where(RolePermission.role != without_role)
    query = (
        select(func.count())
        .select_from(StaffUser)
        .where(StaffUser.active.is_(True), StaffUser.role.in_(roles))
    )
    if without_staff is not None:
        query = query.where(StaffUser.id != without_staff)
    return int(session.scalar(query) or 0)


def matrix(session: Session) -> dict[str, Any]:
    """Every role with its permissions (as the table has them) and its active staff count,
    and the catalogue of permissions."""
    counts = dict(
        session.execute(
            select(StaffUser.role, func.count())
            .where(StaffUser.active.is_(True))
            .group_by(StaffUser.role)
        ).all()
    )
    return {
        "roles": [
            {
                "role": role.code,
                "zh": role.zh,
                "en": role.en,
                "scope": role.scope.value,
                "staff": int(counts.get(role.code, 0)),
                "permissions": sorted(permissions_for(session, role.code)),
            }
            for role in ROLES.values()
        ],
        "permissions": [{"code": p.code, "zh": p.zh, "en": p.en} for p in PERMISSIONS.values()],
    }


def edit_role(
    session: Session,
    role: str,
    permissions: Iterable[str],
    *,
    actor: str,
    now: datetime,
    ip: str | None = None,
) -> dict[str, list[str]]:
    """Replace `role`'s permissions (unknown codes are refused); `STAFF_LAST_MANAGER` when
    no active staff member would be left holding `staff.manage`. Audited; what was added
    and removed."""
    wanted = set(permissions)
    before = permissions_for(session, role)
    if MANAGE in before and MANAGE not in wanted and managers(session, without_role=role) == 0:
        raise LastManager()
    set_permissions(session, role, wanted)
    after = permissions_for(session, role)
    change = {"added": sorted(after - before), "removed": sorted(before - after)}
    audit.record(
        session,
        actor=actor,
        action="role.permissions",
        resource="role",
        resource_id=role,
        ip=ip,
        before={"permissions": sorted(before)},
        after={"permissions": sorted(after), **change},
        at=now,
    )
    return change


def check_deactivation(session: Session, staff: StaffUser, *, actor_id: int) -> None:
    """Refuse deactivating one's own account, or the last active manager of staff."""
    if staff.id == actor_id:
        raise OwnAccount("deactivate", "停用")
    if (
        staff.active
        and MANAGE in permissions_for(session, staff.role)
        and managers(session, without_staff=staff.id) == 0
    ):
        raise LastManager()


__all__ = [
    "MANAGE",
    "LastManager",
    "OwnAccount",
    "check_deactivation",
    "edit_role",
    "managers",
    "matrix",
]
