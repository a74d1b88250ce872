"""Roles and permissions of the back office (SPEC §11) as data.

The catalogue (`PERMISSIONS`, `ROLES`) and the default matrix (`DEFAULT_MATRIX`) are seeded
into `role_permissions` by `seed_permissions`; from then on the table is the truth and an
administrator may change it. Two roles also have a data scope: an agent (代理商) sees only
its own channel's customers (`visible_channel`, `channel_condition`), a collector (催收) only
the cases assigned to it (`assigned_collector`, `require_case_access`); a collector who is
an agency's user (委外, `collection_agency_users`) only the cases placed with its agency
(`collections.scope`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import ColumnElement, delete, select, true
from sqlalchemy.orm import Session

from xindai.errors import InvalidValue
from xindai.security.errors import PermissionDenied
from xindai.store.models_origination import RolePermission


@dataclass(frozen=True, slots=True)
class Permission:
    code: str
    zh: str
    en: str


class Scope(StrEnum):
    """Which records a role sees of those its permissions cover."""

    ALL = "all"
    OWN_CHANNEL = "own_channel"  # customers (borrowers, applications, loans) of its channel
    ASSIGNED_CASES = "assigned_cases"  # collection cases assigned to the staff user


@dataclass(frozen=True, slots=True)
class Role:
    code: str
    zh: str
    en: str
    scope: Scope = Scope.ALL


def _catalogue(*rows: tuple[str, str, str]) -> dict[str, Permission]:
    return {code: Permission(code, zh, en) for code, zh, en in rows}


PERMISSIONS: Mapping[str, Permission] = _catalogue(
    ("borrowers.read", "查看借款人（脱敏）", "View borrowers (masked)"),
    ("borrowers.pii.read", "查看完整个人信息", "View unmasked personal data"),
    ("applications.read", "查看贷款申请", "View applications"),
    ("applications.review", "人工审核", "Review applications (manual review)"),
    ("loans.read", "查看借据", "View loans"),
    ("loans.repay.manual", "登记线下还款", "Record a manual repayment"),
    ("loans.refund", "退还溢缴款", "Refund an overpayment"),
    ("loans.refund.approve", "审批溢缴款退款", "Approve a refund of a credit balance"),
    ("loans.fee.charge", "收取费用", "Charge a fee"),
    ("loans.extend", "展期", "Extend a loan"),
    ("loans.extend.approve", "审批展期", "Approve an extension"),
    ("loans.defer", "延期还款", "Defer an installment"),
    ("loans.defer.approve", "审批延期还款", "Approve a deferral"),
    ("loans.waive.request", "申请减免", "Request a waiver"),
    ("loans.waive.approve", "审批减免", "Approve a waiver"),
    ("loans.restructure.request", "申请重组", "Request a restructure"),
    ("loans.restructure.approve", "审批重组", "Approve a restructure"),
    ("loans.write_off.request", "申请核销", "Request a write-off"),
    ("loans.write_off.approve", "审批核销", "Approve a write-off"),
    ("loans.sale.request", "申请债权转让", "Request a loan sale"),
    ("loans.sale.approve", "审批债权转让", "Approve a loan sale"),
    ("payouts.manage", "放款处理", "Retry or cancel payouts"),
    ("collections.read", "查看催收案件", "View collection cases"),
    ("collections.act", "催收作业", "Work collection cases (calls, promises, messages)"),
    ("collections.assign", "分案", "Assign collection cases"),
    ("collections.agencies.manage", "委外机构管理", "Manage collection agencies"),
    (
        "collections.manage",
        "催收配置管理",
        "Configure collections (strategies, guardrails, reminders)",
    ),
    ("products.read", "查看产品", "View products"),
    ("products.edit", "编辑产品", "Edit products"),
    ("products.activate", "启用产品", "Activate products"),
    ("strategies.read", "查看风控策略", "View risk strategies"),
    ("strategies.edit", "编辑风控策略", "Edit risk strategies"),
    ("strategies.promote", "发布风控策略", "Promote a risk strategy to live"),
    ("blacklist.manage", "黑名单管理", "Manage blacklists"),
    ("credit_lines.manage", "额度管理", "Manage credit lines"),
    ("marketing.manage", "营销活动与渠道管理", "Manage campaigns and channels"),
    ("templates.edit", "编辑短信模板", "Draft message templates"),
    ("templates.approve", "审批短信模板", "Approve message templates"),
    ("sms.read", "查看短信发送记录", "View the SMS outbox"),
    ("reports.read", "查看报表", "View reports"),
    ("reports.export", "导出报表", "Export reports"),
    ("ledger.read", "查看账务", "View the ledger"),
    ("ledger.reconcile", "对账", "Reconcile the ledger"),
    ("cob.run", "执行日终批处理", "Run close of business"),
    ("settings.edit", "系统参数配置", "Edit system settings"),
    ("staff.manage", "员工与权限管理", "Manage staff users and role permissions"),
    ("audit.read", "查看审计日志", "View the audit log"),
)

ROLES: Mapping[str, Role] = {
    role.code: role
    for role in (
        Role("customer_manager", "客户经理", "Customer manager"),
        Role("customer_service", "客服", "Customer service"),
        Role("agent", "代理商", "Agent", Scope.OWN_CHANNEL),
        Role("risk", "风控", "Risk"),
        Role("finance", "财务", "Finance"),
        Role("operations", "运营", "Operations"),
        Role("collector", "催收", "Collector", Scope.ASSIGNED_CASES),
        Role("admin", "系统管理", "Administrator"),
    )
}

# Unmasked personal data only for the roles that must check it against the person:
# manual review calls the applicant and a contact, a customer manager meets customers.
# Collectors dial through the system and see masked numbers; the administrator manages
# accounts and settings, not customers. Requests and approvals of money movements are
# split between roles (maker-checker), and the services also refuse the same person.
DEFAULT_MATRIX: Mapping[str, frozenset[str]] = {
    "customer_manager": frozenset(
        {"borrowers.read", "borrowers.pii.read", "applications.read", "loans.read", "products.read"}
    ),
    "customer_service": frozenset(
        {
            "borrowers.read",
            "applications.read",
            "loans.read",
            "loans.extend",
            "loans.defer",
            "loans.waive.request",
            "products.read",
            "sms.read",
        }
    ),
    "agent": frozenset(
        {"borrowers.read", "applications.read", "loans.read", "products.read", "reports.read"}
    ),
    "risk": frozenset(
        {
            "borrowers.read",
            "borrowers.pii.read",
            "applications.read",
            "applications.review",
            "loans.read",
            "loans.write_off.request",
            "loans.sale.request",
            "loans.restructure.request",
            "collections.read",
            "products.read",
            "products.activate",
            "strategies.read",
            "strategies.edit",
            "strategies.promote",
            "blacklist.manage",
            "credit_lines.manage",
            "reports.read",
            "reports.export",
        }
    ),
    "finance": frozenset(
        {
            "loans.read",
            "loans.repay.manual",
            "loans.refund",
            "loans.refund.approve",
            "loans.fee.charge",
            "loans.extend.approve",
            "loans.defer.approve",
            "loans.waive.approve",
            "loans.restructure.approve",
            "loans.write_off.approve",
            "loans.sale.approve",
            "payouts.manage",
            "products.read",
            "reports.read",
            "reports.export",
            "ledger.read",
            "ledger.reconcile",
        }
    ),
    "operations": frozenset(
        {
            "borrowers.read",
            "applications.read",
            "loans.read",
            "collections.read",
            "collections.assign",
            "collections.agencies.manage",
            "collections.manage",
            "products.read",
            "products.edit",
            "marketing.manage",
            "templates.edit",
            "templates.approve",
            "sms.read",
            "reports.read",
            "reports.export",
            "cob.run",
        }
    ),
    "collector": frozenset(
        {
            "borrowers.read",
            "loans.read",
            "collections.read",
            "collections.act",
            "loans.waive.request",
            "loans.defer",
            "loans.extend",
            "loans.restructure.request",
        }
    ),

    "admin": frozenset({"staff.manage", "audit.read", "settings.edit", "cob.run", "reports.read"}),
}


class StaffScope(Protocol):
    """What the scope helpers need of a staff user (e.g. a `StaffUser` row)."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> str: ...

    @property
    def channel(self) -> str | None: ...


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise InvalidValue(
            "role", role, f"not one of {', '.join(ROLES)}", f"不是 {', '.join(ROLES)} 之一"
        )
    return ROLES[role]


def _check_permission(permission: str) -> str:
    if permission not in PERMISSIONS:
        raise InvalidValue("permission", permission, "unknown permission", "未知的权限")
    return permission


def seed_permissions(session: Session, matrix: Mapping[str, Iterable[str]] = DEFAULT_MATRIX) -> int:
    """Write the `matrix` pairs missing from `role_permissions` (existing rows, including an
    administrator's additions, are kept: running it twice changes nothing). Returns how many
    rows were added."""
    existing = {
        (r, p) for r, p in session.execute(select(RolePermission.role, RolePermission.permission))
    }
    added = 0
    for role, permissions in matrix.items():
        check_role(role)
        for permission in sorted(set(permissions)):
            if (role, _check_permission(permission)) not in existing:
                session.add(RolePermission(role=role, permission=permission))
                added += 1
    session.flush()
    return added


def set_permissions(session: Session, role: str, permissions: Iterable[str]) -> None:
    """Replace the permissions of `role` (an administrator's edit; audit it)."""
    check_role(role)
    wanted = {_check_permission(p) for p in permissions}
    session.execute(delete(RolePermission).where(RolePermission.role == role))
    session.add_all(RolePermission(role=role, permission=p) for p in sorted(wanted))
    session.flush()


def permissions_for(session: Session, role: str) -> frozenset[str]:
    """The permissions the table grants `role` (empty for an unknown role: deny by default)."""
    rows = session.scalars(select(RolePermission.permission).where(RolePermission.role == role))
    return frozenset(rows)


def require(permissions: Collection[str], needed: str) -> None:
    """`PermissionDenied` unless `needed` (a catalogue code) is among `permissions`."""
    if _check_permission(needed) not in permissions:
        label = PERMISSIONS[needed]
        raise PermissionDenied(needed, label.en, label.zh)


def can_read_pii(permissions: Collection[str]) -> bool:
    """Whether screens and exports may show personal data unmasked to this caller."""
    return "borrowers.pii.read" in permissions


# ------------------------------------------------------------------ data scopes


def visible_channel(staff: StaffScope) -> str | None:
    """The one channel whose customers `staff` may see, or None for every channel. An agent
    without a channel sees nothing: `PermissionDenied`."""
    if check_role(staff.role).scope is not Scope.OWN_CHANNEL:
        return None
    if not staff.channel:
        raise PermissionDenied(
            "borrowers.read", "agent account has no channel", "代理商账号未配置渠道"
        )
    return staff.channel


def channel_condition(staff: StaffScope, channel_column: Any) -> ColumnElement[bool]:
    """A WHERE condition limiting `channel_column` (e.g. `Borrower.channel`, `Loan.channel`)
    to what `staff` may see: `stmt.where(channel_condition(staff, Borrower.channel))`."""
    channel = visible_channel(staff)
    if channel is None:
        return true()
    condition: ColumnElement[bool] = channel_column == channel
    return condition


def require_channel_access(staff: StaffScope, channel: str | None) -> None:
    """`PermissionDenied` when a record of `channel` is outside the scope of `staff`."""
    visible = visible_channel(staff)
    if visible is not None and channel != visible:
        raise PermissionDenied("borrowers.read", "another channel's customer", "非本渠道客户")


def assigned_collector(staff: StaffScope) -> int | None:
    """Hook for collections: the staff id that cases must be assigned to for `staff` to see
    them (a collector: its own id), or None when every case is visible. Case queries add
    `where(<case>.assignee_id == assigned_collector(staff))` when it is not None."""
    return staff.id if check_role(staff.role).scope is Scope.ASSIGNED_CASES else None


def require_case_access(staff: StaffScope, assigned_to: int | None) -> None:
    """`PermissionDenied` when a collection case assigned to `assigned_to` (a staff id, or
    None when unassigned) is outside the scope of `staff`."""
    collector = assigned_collector(staff)
    if collector is not None and assigned_to != collector:
        raise PermissionDenied("collections.read", "case not assigned to you", "案件未分配给您")
