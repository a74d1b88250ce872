"""What the console's list and detail routes answer (Pydantic response models): who am I
and the menus, borrowers, applications, payouts, loans, repayments, withholdings, the
overview, the ledger and the audit log. Conventions as in `api.views`: money in yuan strings
with two decimals, dates YYYY-MM-DD, timestamps ISO 8601, personal data masked unless the
role has `borrowers.pii.read`."""

from __future__ import annotations

from pydantic import Field

from xindai.api.views import View, one_of, shown
from xindai.security.rbac import PERMISSIONS, ROLES


class Menu(View):
    key: str
    zh: str
    en: str
    path: str = shown("the console's route", pattern=r"^/[a-z0-9/-]*$")
    icon: str = shown("an Element Plus icon name")
    children: list[Menu] = Field(description="sub-menus the staff member may see")


class Me(View):
    id: int
    username: str
    role: str = one_of(ROLES)
    role_zh: str
    role_en: str
    channel: str | None = shown("an agent's channel (it sees only that channel's customers)")
    permissions: list[str] = Field(
        description="what the role may do now",
        json_schema_extra={"items": {"enum": list(PERMISSIONS)}},
    )
    totp_active: bool = shown("a second factor is enrolled and confirmed")
    business_date: str = shown("营业日, YYYY-MM-DD")
    menus: list[Menu]
