"""Staff login lockout per account and client, so that a stranger cannot lock a named account
out for its owner.

- Per client (an IPv4 address, an IPv6 /64 — one subscriber's usual allocation): after
  `max_failures` failed logins to an account from one client, that client is locked out of
  that account for `first_lock`, doubled with every further failure up to `longest_lock`.
  A success from that client starts its count afresh; failures older than `memory` are
  forgotten.
- Per account, against guessing spread over many clients: `account_max_failures` failures
  from all clients within `account_window` lock the account for every client that has not
  logged into it successfully within `known_client_for` — the owner, on a network it used
  before, still gets in.
- `xindai staff unlock` (`StaffUser.failures_cleared_at`) forgets every earlier failure.

Failures and successes are the audit entries `staff.login_failed` and `staff.login` (actor =
the username tried, ip = the client), so unknown usernames lock exactly like real ones.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from xindai.store.models_origination import AuditEvent

LOGIN_OK: Final = "staff.login"
LOGIN_FAILED: Final = "staff.login_failed"
_MAX_DOUBLINGS: Final = 20  # beyond this the lock is at its longest anyway


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    max_failures: int = 5  # failures from one client before it is locked out
    first_lock: timedelta = timedelta(minutes=1)
    longest_lock: timedelta = timedelta(hours=1)
    memory: timedelta = timedelta(hours=24)  # older failures are forgotten
    account_max_failures: int = 50  # from all clients within account_window
    account_window: timedelta = timedelta(hours=1)
    known_client_for: timedelta = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Recorded:
    """One recorded login outcome: its audit id (the order), time and client key."""

    id: int
    at: datetime
    client: str


def client_key(ip: str | None) -> str:
    """The client a login is counted against: an IPv4 address as it is, an IPv6 address by
    its /64 network (an IPv4-mapped one as the IPv4 address), "" when unknown."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def lock_until(
    client: str,
    now: datetime,
    failures: Sequence[Recorded],
    successes: Sequence[Recorded],
    policy: LockoutPolicy,
) -> datetime | None:
    """When the lock of `client` on the account ends, or None when it may try at `now`;
    `failures` and `successes` are the account's recorded outcomes up to `now` (pure)."""
    last_success = max((s.id for s in successes if s.client == client), default=0)
    own = sorted(
        f.at
        for f in failures
        if f.client == client and f.id > last_success and f.at > now - policy.memory
    )
    ends: list[datetime] = []
    if len(own) >= policy.max_failures:
        doublings = min(len(own) - policy.max_failures, _MAX_DOUBLINGS)
        ends.append(own[-1] + min(policy.longest_lock, policy.first_lock * 2**doublings))
    known = any(s.client == client and s.at > now - policy.known_client_for for s in successes)
    if not known:
        recent = sorted(f.at for f in failures if f.at > now - policy.account_window)
        if len(recent) >= policy.account_max_failures:
            # until fewer than the ceiling remain in the trailing window
            ends.append(recent[len(recent) - policy.account_max_failures] + policy.account_window)
    end = max(ends, default=None)
    return end if end is not None and end > now else None


def recorded_outcomes(
    session: Session,
    username: str,
    now: datetime,
    policy: LockoutPolicy,
    *,
    cleared_at: datetime | None = None,
) -> tuple[list[Recorded], list[Recorded]]:
    """The failures (since `cleared_at`, within what the policy remembers) and successes
    (within `known_client_for`) of logins as `username` up to `now`."""
    since = now - max(policy.memory, policy.account_window)
    if cleared_at is not None and cleared_at > since:
        since = cleared_at

    def outcomes(action: str, after: datetime) -> list[Recorded]:
        rows = session.execute(
            select(AuditEvent.id, AuditEvent.at, AuditEvent.ip).where(
                AuditEvent.actor == username,
                AuditEvent.action == action,
                AuditEvent.at > after,
                AuditEvent.at <= now,
            )
        )
        return [Recorded(row.id, row.at, client_key(row.ip)) for row in rows]

    return outcomes(LOGIN_FAILED, since), outcomes(LOGIN_OK, now - policy.known_client_for)
