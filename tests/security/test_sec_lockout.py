"""The login lockout as an attacker meets it: a stranger's failures lock only the stranger's
client out of an account, never its owner; the lock backs off (1, 2, 4 … minutes, at most
an hour); rotating addresses inside one IPv6 /64 does not escape it; guessing spread over
many clients hits the per-account ceiling, which spares the clients the owner logged in
from; `unlock` forgets the failures."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xindai.security.errors import LoginFailed, LoginLocked
from xindai.security.lockout import LockoutPolicy, Recorded, client_key, lock_until
from xindai.security.pii import PiiCipher
from xindai.security.staff import LoginPolicy, StaffService
from xindai.store.db import transaction
from xindai.store.models_origination import AuditEvent

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
CIPHER = PiiCipher(bytes(range(32)))
T0 = datetime(2024, 3, 7, 9, 0, 0)
PASSWORD = "Correct-Horse-42"
OWNER = "198.51.100.7"
STRANGER = "203.0.113.66"
POLICY = LockoutPolicy()


@pytest.fixture
def service(session_factory: sessionmaker[Session]) -> StaffService:
    svc = StaffService(session_factory, CIPHER, hasher=CHEAP)
    with transaction(session_factory) as session:
        svc.create(session, username="admin", password=PASSWORD, role="admin", now=T0)
    return svc


def fail(service: StaffService, at: datetime, ip: str, username: str = "admin") -> None:
    with pytest.raises(LoginFailed):
        service.login(username, "wrong-password", None, at, ip=ip)


def locked(service: StaffService, at: datetime, ip: str, username: str = "admin") -> int:
    """The retry-after seconds of the lock, asserting there is one (the right password)."""
    with pytest.raises(LoginLocked) as caught:
        service.login(username, PASSWORD, None, at, ip=ip)
    assert caught.value.code == "LOGIN_LOCKED"
    return caught.value.retry_after_seconds


# ------------------------------------------------------------------ over the database


def test_a_stranger_locks_only_itself_out_of_a_named_account(service: StaffService) -> None:
    for second in range(5):
        fail(service, T0 + timedelta(seconds=second), STRANGER)
    assert locked(service, T0 + timedelta(seconds=10), STRANGER) == 54  # 1 min from the 5th
    # the owner, from its own address, at the same moment: not locked
    assert service.login("admin", PASSWORD, None, T0 + timedelta(seconds=11), ip=OWNER)
    # the stranger keeps guessing, locked most of the time: the owner stays unaffected
    for second in range(20, 400, 5):
        with pytest.raises((LoginLocked, LoginFailed)):
            service.login("admin", "guess", None, T0 + timedelta(seconds=second), ip=STRANGER)
    assert service.login("admin", PASSWORD, None, T0 + timedelta(seconds=401), ip=OWNER)


def test_the_lock_backs_off_and_is_capped(service: StaffService) -> None:
    at = T0
    for _ in range(5):
        fail(service, at, STRANGER)
    locks = []
    for _ in range(9):
        seconds = locked(service, at, STRANGER)
        locks.append(seconds)
        at += timedelta(seconds=seconds)  # the lock is over: one more wrong guess
        fail(service, at, STRANGER)
    assert locks == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]


def test_the_right_password_from_a_locked_client_is_refused_until_the_lock_ends(
    service: StaffService,
) -> None:
    for second in range(5):
        fail(service, T0 + timedelta(seconds=second), OWNER)
    locked(service, T0 + timedelta(seconds=63), OWNER)
    login = service.login("admin", PASSWORD, None, T0 + timedelta(seconds=64), ip=OWNER)
    assert login.username == "admin"
    # the success starts the count afresh: four failures do not lock again
    for second in range(70, 74):
        fail(service, T0 + timedelta(seconds=second), OWNER)
    assert service.login("admin", PASSWORD, None, T0 + timedelta(seconds=75), ip=OWNER)


def test_unknown_usernames_lock_the_same_way(service: StaffService) -> None:
    for second in range(5):
        fail(service, T0 + timedelta(seconds=second), STRANGER, username="ghost")
    with pytest.raises(LoginLocked):
        service.login("ghost", "whatever-pass", None, T0 + timedelta(seconds=6), ip=STRANGER)


def test_rotating_addresses_inside_one_ipv6_slash_64_does_not_escape(
    service: StaffService,
) -> None:
    for n in range(5):
        fail(service, T0 + timedelta(seconds=n), f"2001:db8:1:2::{n + 1:x}")
    locked(service, T0 + timedelta(seconds=6), "2001:db8:1:2:ffff::9")
    # another /64 is another client
    assert service.login("admin", PASSWORD, None, T0 + timedelta(seconds=7), ip="2001:db8:1:3::1")


def test_guessing_from_many_clients_hits_the_account_ceiling_which_spares_known_clients(
    session_factory: sessionmaker[Session],
) -> None:
    policy = LoginPolicy(lockout=LockoutPolicy(account_max_failures=12))
    service = StaffService(session_factory, CIPHER, hasher=CHEAP, policy=policy)
    with transaction(session_factory) as session:
        service.create(session, username="admin", password=PASSWORD, role="admin", now=T0)
    service.login("admin", PASSWORD, None, T0, ip=OWNER)  # the owner's usual network
    # a botnet: three guesses from each of four addresses, below the per-client limit
    at = T0 + timedelta(minutes=1)
    for bot in range(4):
        for _ in range(3):
            at += timedelta(seconds=1)
            fail(service, at, f"192.0.2.{bot + 10}")
    # a fifth bot, fresh: the account is closed to clients it never saw succeed ...
    retry = locked(service, at + timedelta(seconds=1), "192.0.2.99")
    assert retry == 3600 - 12  # until the first of the twelve leaves the hour
    # ... while the owner, from where it logged in before, gets in
    assert service.login("admin", PASSWORD, None, at + timedelta(seconds=2), ip=OWNER)


def test_unlock_forgets_the_failures_and_is_audited(
    service: StaffService, session_factory: sessionmaker[Session]
) -> None:
    for second in range(5):
        fail(service, T0 + timedelta(seconds=second), STRANGER)
    locked(service, T0 + timedelta(seconds=10), STRANGER)
    with transaction(session_factory) as session:
        service.unlock(session, "Admin", now=T0 + timedelta(seconds=11), actor="cli:ops")
    assert service.login("admin", PASSWORD, None, T0 + timedelta(seconds=12), ip=STRANGER)
    with session_factory() as session:
        unlock = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "staff.unlock")
        ).one()
    assert (unlock.actor, unlock.resource) == ("cli:ops", "staff_user")


# ------------------------------------------------------------------ the rule itself (pure)


def failures(*seconds: int, client: str = "a", first_id: int = 1) -> list[Recorded]:
    return [
        Recorded(first_id + n, T0 + timedelta(seconds=s), client) for n, s in enumerate(seconds)
    ]


def test_rule_counts_per_client_and_resets_on_that_clients_success() -> None:
    four = failures(0, 1, 2, 3)
    assert lock_until("a", T0 + timedelta(seconds=4), four, [], POLICY) is None
    five = failures(0, 1, 2, 3, 4)
    now = T0 + timedelta(seconds=5)
    assert lock_until("a", now, five, [], POLICY) == T0 + timedelta(seconds=64)
    assert lock_until("b", now, five, [], POLICY) is None
    # a success of client a after its failures resets a; one of client b does not
    assert lock_until("a", now, five, [Recorded(10, now, "a")], POLICY) is None
    assert lock_until("a", now, five, [Recorded(10, now, "b")], POLICY) is not None


def test_rule_forgets_failures_older_than_its_memory() -> None:
    five = failures(0, 1, 2, 3, 4)
    assert lock_until("a", T0 + timedelta(hours=24, seconds=3), five, [], POLICY) is None


def test_rule_account_ceiling_counts_all_clients_in_the_window() -> None:
    spread = [
        Recorded(n + 1, T0 + timedelta(seconds=n), f"c{n % 25}")
        for n in range(POLICY.account_max_failures)
    ]
    now = T0 + timedelta(minutes=5)
    assert lock_until("new", now, spread, [], POLICY) == T0 + POLICY.account_window
    owner = [Recorded(0, T0 - timedelta(days=29), "home")]
    assert lock_until("home", now, spread, owner, POLICY) is None
    stale_owner = [Recorded(0, T0 - timedelta(days=31), "home")]
    assert lock_until("home", now, spread, stale_owner, POLICY) is not None
    assert lock_until("new", T0 + POLICY.account_window, spread, [], POLICY) is None


@pytest.mark.parametrize(
    ("ip", "key"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::ffff", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.5", "203.0.113.5"),
        (None, ""),
        ("testclient", "testclient"),
    ],
)
def test_client_keys(ip: str | None, key: str) -> None:
    assert client_key(ip) == key
