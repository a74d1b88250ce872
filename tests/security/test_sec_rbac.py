"""Roles and permissions as data (SPEC §11): the default matrix, seeding, checks and the data
scopes of agents and collectors."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import Column, MetaData, String, Table, func, select
from sqlalchemy.orm import Session, sessionmaker

from xindai.errors import InvalidValue
from xindai.security.errors import PermissionDenied
from xindai.security.rbac import (
    DEFAULT_MATRIX,
    PERMISSIONS,
    ROLES,
    Scope,
    assigned_collector,
    can_read_pii,
    channel_condition,
    permissions_for,
    require,
    require_case_access,
    require_channel_access,
    seed_permissions,
    set_permissions,
    visible_channel,
)
from xindai.store.db import transaction
from xindai.store.models_origination import RolePermission


@dataclass
class Staff:
    id: int
    role: str
    channel: str | None = None


def test_catalogue_is_complete_and_labelled() -> None:
    assert set(ROLES) == {
        "customer_manager",
        "customer_service",
        "agent",
        "risk",
        "finance",
        "operations",
        "collector",
        "admin",
    }
    assert ROLES["agent"].zh == "代理商" and ROLES["collector"].zh == "催收"
    assert set(DEFAULT_MATRIX) == set(ROLES)
    used = set().union(*DEFAULT_MATRIX.values())
    assert used <= set(PERMISSIONS)
    assert used == set(PERMISSIONS)  # every permission is given to somebody
    for permission in PERMISSIONS.values():
        assert permission.zh and permission.en


def test_default_matrix_grants_what_the_roles_need_and_no_more() -> None:
    assert not can_read_pii(DEFAULT_MATRIX["collector"])
    assert not can_read_pii(DEFAULT_MATRIX["admin"])
    assert not can_read_pii(DEFAULT_MATRIX["agent"])
    assert can_read_pii(DEFAULT_MATRIX["risk"])
    pii_roles = {r for r, p in DEFAULT_MATRIX.items() if "borrowers.pii.read" in p}
    assert pii_roles == {"risk", "customer_manager"}
    require(DEFAULT_MATRIX["admin"], "staff.manage")
    require(DEFAULT_MATRIX["admin"], "audit.read")
    assert [r for r, p in DEFAULT_MATRIX.items() if "staff.manage" in p] == ["admin"]
    # maker-checker: no role both requests and approves a money movement
    for kind in ("waive", "write_off", "restructure", "sale"):
        for role, permissions in DEFAULT_MATRIX.items():
            assert not {f"loans.{kind}.request", f"loans.{kind}.approve"} <= permissions, role
    assert "products.edit" in DEFAULT_MATRIX["operations"]
    assert "products.activate" not in DEFAULT_MATRIX["operations"]


def test_require_raises_a_typed_403() -> None:
    with pytest.raises(PermissionDenied) as caught:
        require(DEFAULT_MATRIX["collector"], "borrowers.pii.read")
    assert caught.value.code == "PERMISSION_DENIED" and caught.value.http_status == 403
    assert caught.value.permission == "borrowers.pii.read"
    assert "完整个人信息" in caught.value.message_zh
    with pytest.raises(InvalidValue):
        require(DEFAULT_MATRIX["admin"], "staff.manag")  # a typo is caught, not denied


def test_agent_sees_only_its_channel() -> None:
    agent = Staff(1, "agent", "douyin")
    assert ROLES["agent"].scope is Scope.OWN_CHANNEL
    assert visible_channel(agent) == "douyin"
    assert visible_channel(Staff(2, "risk")) is None
    require_channel_access(agent, "douyin")
    with pytest.raises(PermissionDenied):
        require_channel_access(agent, "baidu")
    with pytest.raises(PermissionDenied):
        require_channel_access(agent, None)
    require_channel_access(Staff(2, "operations"), "baidu")
    with pytest.raises(PermissionDenied):
        visible_channel(Staff(3, "agent"))  # no channel configured: sees nothing
    borrowers = Table("b", MetaData(), Column("channel", String))
    query = (
        select(func.count())
        .select_from(borrowers)
        .where(channel_condition(agent, borrowers.c.channel))
    )
    assert "channel" in str(query.compile()).split("WHERE")[1]
    unrestricted = select(borrowers).where(channel_condition(Staff(2, "risk"), borrowers.c.channel))
    assert "channel =" not in str(unrestricted.compile())


def test_collector_sees_only_cases_assigned_to_it() -> None:
    collector = Staff(9, "collector")
    assert assigned_collector(collector) == 9
    assert assigned_collector(Staff(4, "operations")) is None
    require_case_access(collector, 9)
    with pytest.raises(PermissionDenied):
        require_case_access(collector, 10)
    with pytest.raises(PermissionDenied):
        require_case_access(collector, None)
    require_case_access(Staff(4, "operations"), 10)


def test_seed_is_idempotent_and_the_table_is_the_truth(
    session_factory: sessionmaker[Session],
) -> None:
    total = sum(len(p) for p in DEFAULT_MATRIX.values())
    with transaction(session_factory) as session:
        assert seed_permissions(session) == total
    with transaction(session_factory) as session:
        assert seed_permissions(session) == 0
        assert session.scalar(select(func.count()).select_from(RolePermission)) == total
        for role, permissions in DEFAULT_MATRIX.items():
            assert permissions_for(session, role) == permissions
        assert permissions_for(session, "nobody") == frozenset()
        set_permissions(session, "collector", [*DEFAULT_MATRIX["collector"], "reports.read"])
        with pytest.raises(InvalidValue):
            set_permissions(session, "collector", ["no.such.permission"])
        with pytest.raises(InvalidValue):
            set_permissions(session, "janitor", [])
    with transaction(session_factory) as session:
        assert seed_permissions(session) == 0  # an administrator's change is kept
        require(permissions_for(session, "collector"), "reports.read")
        with pytest.raises(PermissionDenied):
            require(permissions_for(session, "collector"), "borrowers.pii.read")
