"""The demo lender's staff: one login per role of the back office (SPEC §11), then the
collection team (the collections manager, in-house collectors, the agencies' users), with
passwords that are public — the demo serves only on loopback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from xindai.demo.people import AGENT_CHANNEL
from xindai.security.rbac import ROLES
from xindai.security.staff import StaffService
from xindai.store.models_origination import StaffUser


@dataclass(frozen=True, slots=True)
class DemoLogin:
    role: str
    username: str
    password: str
    channel: str | None = None
    note: str = ""  # what the login is for, beyond its role (the collection team)

    @property
    def role_zh(self) -> str:
        return ROLES[self.role].zh


DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("admin", "admin", "lantern-harbor-71"),
    DemoLogin("customer_manager", "manager", "teapot-meadow-42"),
    DemoLogin("customer_service", "service", "willow-signal-38"),
    DemoLogin("agent", "agent", "copper-kite-56", AGENT_CHANNEL),
    DemoLogin("risk", "reviewer", "granite-owl-29"),
    DemoLogin("finance", "finance", "abacus-river-63"),
    DemoLogin("operations", "ops", "tidal-beacon-84"),
    DemoLogin("collector", "collector", "amber-compass-17", note="M1 早期催收 early stage"),
    # the collection team (`demo.collections`): its manager, in-house collectors, agencies
    DemoLogin("operations", "collect_lead", "harbor-ledger-45", note="催收主管 collections lead"),
    DemoLogin("collector", "collector2", "pine-lantern-62", note="M1 早期催收 early stage"),
    DemoLogin("collector", "collector3", "quartz-meadow-28", note="M1 早期催收 early stage"),
    DemoLogin("collector", "collector4", "cedar-signal-93", note="M2-M3 资深催收 senior"),
    DemoLogin("collector", "agency_hx", "saffron-bridge-57", note="委外 华信资产 agency"),
    DemoLogin("collector", "agency_yx", "violet-harbor-34", note="委外 远翔信用 agency"),
)
"""One login per role, in the order of `security.rbac.ROLES`'s menu of roles, then the
collection team's."""

assert {login.role for login in DEMO_LOGINS} == set(ROLES), "a demo login for every role"


def login_for(role: str) -> DemoLogin:
    return next(login for login in DEMO_LOGINS if login.role == role)


def create_demo_staff(session: Session, service: StaffService, now: datetime) -> int:
    """Create the demo logins that do not exist yet (audited as `demo`); how many."""
    created = 0
    for login in DEMO_LOGINS:
        found = session.scalar(select(StaffUser.id).where(StaffUser.username == login.username))
        if found is not None:
            continue
        service.create(
            session,
            username=login.username,
            password=login.password,
            role=login.role,
            channel=login.channel,
            now=now,
            actor="demo",
        )
        created += 1
    return created
