"""Champion/challenger routing: a deterministic hash of the application id picks the arm."""

from __future__ import annotations

import hashlib
from decimal import Decimal

BUCKETS = 10_000


def challenger_bucket(application_id: str, salt: str = "") -> int:
    """A stable bucket in [0, 10000) for an application (SHA-256, not Python's hash())."""
    digest = hashlib.sha256(f"{salt}:{application_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def route_version(
    application_id: str,
    champion: int,
    challenger: int | None,
    challenger_share: Decimal,
    salt: str = "",
) -> int:
    """The version an application runs: the challenger for `challenger_share` of the
    buckets (0–1), the champion otherwise."""
    if challenger is None or challenger_share <= 0:
        return champion
    threshold = int(challenger_share * BUCKETS)
    return challenger if challenger_bucket(application_id, salt) < threshold else champion
