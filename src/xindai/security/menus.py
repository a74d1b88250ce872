"""The console's menu tree (菜单) and who sees which menu: each item names the permissions
that show it (any one of them), so that the sidebar follows the editable role_permissions
table and the console never hard-codes who sees what. A parent shows when one of its
children does. The admin API's routes check the same permissions again on every call.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from xindai.security.rbac import PERMISSIONS


@dataclass(frozen=True, slots=True)
class Menu:
    """A sidebar item: `key` stable, `path` the console route, `icon` an Element Plus icon
    name; `any_of` the permissions that show it (empty: every signed-in staff member)."""

    key: str
    zh: str
    en: str
    path: str
    icon: str
    any_of: tuple[str, ...] = ()
    children: tuple[Menu, ...] = field(default=())

    def __post_init__(self) -> None:
        for permission in self.any_of:
            if permission not in PERMISSIONS:
                raise ValueError(f"menu {self.key}: unknown permission {permission!r}")

    def visible(self, permissions: Collection[str]) -> bool:
        if self.children:
            return any(child.visible(permissions) for child in self.children)
        return not self.any_of or any(p in permissions for p in self.any_of)

    def as_json(self, permissions: Collection[str]) -> dict[str, Any]:
        return {
            "key": self.key,
            "zh": self.zh,
            "en": self.en,
            "path": self.path,
            "icon": self.icon,
            "children": [c.as_json(permissions) for c in self.children if c.visible(permissions)],
        }


APPROVERS = (
    "loans.waive.approve",
    "loans.defer.approve",
    "loans.extend.approve",
    "loans.refund.approve",
    "loans.restructure.approve",
    "loans.write_off.approve",
    "loans.sale.approve",
    "products.activate",
    "strategies.promote",
    "templates.approve",
)
"""The permissions of a second person (maker-checker): whoever holds one has an inbox."""

MENUS: Sequence[Menu] = (
    Menu("overview", "平台概览", "Overview", "/overview", "Odometer", ("reports.read",)),
    Menu("borrowers", "客户管理", "Borrowers", "/borrowers", "User", ("borrowers.read",)),
    Menu(
        "applications",
        "申请管理",
        "Applications",
        "/applications",
        "Document",
        ("applications.read",),
    ),
    Menu(
        "approval",
        "审批管理",
        "Approvals",
        "/approval",
        "Stamp",
        children=(
            Menu("approvals", "待我审批", "My approvals", "/approvals", "Bell", APPROVERS),
            Menu(
                "review",
                "人工审核",
                "Manual review",
                "/review",
                "Checked",
                ("applications.review",),
            ),
        ),
    ),
    Menu("payouts", "放款管理", "Payouts", "/payouts", "Promotion", ("payouts.manage",)),
    Menu("loans", "借款管理", "Loans", "/loans", "Tickets", ("loans.read",)),
    Menu("repayments", "还款管理", "Repayments", "/repayments", "Wallet", ("loans.read",)),
    Menu("overdue", "逾期管理", "Overdue", "/overdue", "Warning", ("collections.read",)),
    Menu(
        "collections_workbench",
        "催收工作台",
        "Collection workbench",
        "/collections/workbench",
        "Headset",
        ("collections.act",),
    ),
    Menu(
        "collections",
        "催收管理",
        "Collections",
        "/collections",
        "PhoneFilled",
        children=(
            Menu(
                "collection_cases",
                "催收案件",
                "Cases",
                "/collections/cases",
                "Files",
                ("collections.read",),
            ),
            Menu(
                "collection_warnings",
                "预警监控",
                "Early warning",
                "/collections/warnings",
                "WarnTriangleFilled",
                ("collections.read",),
            ),
            Menu(
                "collection_queues",
                "队列与分案",
                "Queues & allocation",
                "/collections/queues",
                "Share",
                ("collections.assign",),
            ),
            Menu(
                "collection_agencies",
                "委外机构",
                "Agencies",
                "/collections/agencies",
                "OfficeBuilding",
                ("collections.agencies.manage",),
            ),
            Menu(
                "collection_strategies",
                "催收策略",
                "Strategies",
                "/collections/strategies",
                "Guide",
                ("collections.manage",),
            ),
            Menu(
                "collection_guardrails",
                "合规配置",
                "Guardrails",
                "/collections/guardrails",
                "Lock",
                ("collections.manage",),
            ),
            Menu(
                "collection_reminders",
                "还款提醒",
                "Reminders",
                "/collections/reminders",
                "AlarmClock",
                ("collections.manage",),
            ),
            Menu(
                "collection_load",
                "催收员负荷",
                "Collector load",
                "/collections/load",
                "DataLine",
                ("collections.assign",),
            ),
            Menu(
                "collection_kpis",
                "催收绩效",
                "Collection KPIs",
                "/collections/kpis",
                "TrendCharts",
                ("collections.assign",),
            ),
        ),
    ),
    Menu(
        "products",
        "产品管理",
        "Products",
        "/products",
        "Goods",
        ("products.read", "products.edit", "products.activate"),
    ),
    Menu(
        "strategies",
        "风控策略",
        "Risk strategies",
        "/strategies",
        "Operation",
        ("strategies.read",),
    ),
    Menu("blacklist", "黑名单", "Blacklist", "/blacklist", "CircleClose", ("blacklist.manage",)),
    Menu(
        "credit_lines",
        "授信额度",
        "Credit lines",
        "/credit-lines",
        "CreditCard",
        ("credit_lines.manage",),
    ),
    Menu(
        "sms",
        "短信管理",
        "SMS",
        "/sms",
        "Message",
        ("templates.edit", "templates.approve", "sms.read", "marketing.manage"),
    ),
    Menu(
        "finance",
        "财务",
        "Finance",
        "/finance",
        "Coin",
        ("ledger.read", "ledger.reconcile"),
    ),
    Menu("cob", "日终批处理", "Close of business", "/cob", "Timer", ("cob.run",)),
    Menu(
        "system",
        "系统管理",
        "System",
        "/system",
        "Setting",
        children=(
            Menu("staff", "员工", "Staff", "/system/staff", "UserFilled", ("staff.manage",)),
            Menu(
                "roles",
                "角色权限",
                "Roles & permissions",
                "/system/roles",
                "Key",
                ("staff.manage",),
            ),
            Menu("audit", "审计日志", "Audit log", "/system/audit", "List", ("audit.read",)),
            Menu(
                "config",
                "系统配置",
                "Configuration",
                "/system/config",
                "Tools",
                ("settings.edit",),
            ),
            Menu("totp", "双因素", "Second factor", "/system/totp", "Lock"),
        ),
    ),
)


def menus_for(permissions: Collection[str]) -> list[dict[str, Any]]:
    """The menu tree a staff member holding `permissions` sees, as the API answers it:
    `[{key, zh, en, path, icon, children: [...]}, ...]`."""
    return [m.as_json(permissions) for m in MENUS if m.visible(permissions)]


def all_menus() -> list[Menu]:
    """Every menu item, parents and children, in tree order."""
    found: list[Menu] = []

    def walk(items: Sequence[Menu]) -> None:
        for item in items:
            found.append(item)
            walk(item.children)

    walk(MENUS)
    return found
