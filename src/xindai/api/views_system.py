"""What the system-administration routes answer: staff accounts, the permission matrix and
the configuration. Conventions as in `api.views`."""

from __future__ import annotations

from typing import Any

from xindai.api.views import View, one_of, shown
from xindai.security.rbac import PERMISSIONS, ROLES, Scope


class StaffMember(View):
    id: int
    username: str
    role: str = one_of(ROLES)
    role_zh: str
    role_en: str
    channel: str | None = shown("an agent's channel")
    active: bool
    totp_active: bool = shown("a second factor is in force")
    totp_pending: bool = shown("a new secret waits for its first code")
    created_at: str
    last_login_at: str | None


class RoleRow(View):
    role: str = one_of(ROLES)
    zh: str
    en: str
    scope: str = one_of(Scope, "which records the role sees")
    staff: int = shown("active staff members of the role")
    permissions: list[str] = shown("permission codes", items={"enum": list(PERMISSIONS)})


class PermissionRow(View):
    code: str = one_of(PERMISSIONS)
    zh: str
    en: str


class PermissionMatrix(View):
    roles: list[RoleRow]
    permissions: list[PermissionRow] = shown("the catalogue, in the matrix's order")


class RoleChange(RoleRow):
    added: list[str]
    removed: list[str]


class Setting(View):
    key: str
    variable: str = shown("the environment variable that sets it")
    value: Any = shown("secrets masked, the database password hidden")
    type: str
    description: dict[str, str] = shown("zh-CN and en")
    source: str = one_of(("environment", "configured", "default"))
    development_default: bool = shown("a secret still at its public development value")
    editable: bool = shown("false: set the variable and restart the server")


class Configuration(View):
    items: list[Setting]
    development_defaults: list[str] = shown(
        "variables still at a public development value (serving elsewhere than loopback is "
        "refused with them)"
    )
