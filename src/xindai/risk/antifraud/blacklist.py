"""Blacklists (黑名单) of ID numbers, phones, devices, cards and contact phones, stored only as
keyed hashes, with entries that start and may expire; an in-memory index checks an
application's identifiers against the entries active at a given time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from xindai.errors import InvalidValue
from xindai.risk.antifraud.identifiers import (
    HashedIdentifiers,
    check_datetime,
    check_value_hash,
    hash_identifier,
)

__all__ = [
    "BLACKLIST_FEATURES",
    "BLACKLIST_REASON_CODES",
    "BlacklistEntry",
    "BlacklistHit",
    "BlacklistIndex",
    "BlacklistKind",
    "blacklist_features",
    "hash_identifier",
]


class BlacklistKind(StrEnum):
    """Which list an entry is on, and which of an application's identifiers matched it.

    A contact phone is checked against the phone list and the contact-phone list (numbers
    that are only suspect as somebody's emergency contact); the applicant's own phone is
    checked against the phone list only.
    """

    ID_NUMBER = "id_number"
    PHONE = "phone"
    DEVICE = "device"
    CARD = "card"
    CONTACT_PHONE = "contact_phone"


BLACKLIST_REASON_CODES: dict[BlacklistKind, str] = {
    BlacklistKind.ID_NUMBER: "AF_BLACKLIST_ID",
    BlacklistKind.PHONE: "AF_BLACKLIST_PHONE",
    BlacklistKind.DEVICE: "AF_BLACKLIST_DEVICE",
    BlacklistKind.CARD: "AF_BLACKLIST_CARD",
    BlacklistKind.CONTACT_PHONE: "AF_BLACKLIST_CONTACT",
}
"""Reason code for a hit on each kind of the application's identifiers."""

_FEATURE_OF_KIND: dict[BlacklistKind, str] = {
    BlacklistKind.ID_NUMBER: "blacklist_id_hit",
    BlacklistKind.PHONE: "blacklist_phone_hit",
    BlacklistKind.DEVICE: "blacklist_device_hit",
    BlacklistKind.CARD: "blacklist_card_hit",
    BlacklistKind.CONTACT_PHONE: "blacklist_contact_hit",
}

BLACKLIST_FEATURES: tuple[str, ...] = (*_FEATURE_OF_KIND.values(), "blacklist_hit_count")
"""Feature names written by `blacklist_features`, in order."""

# the lists each of the application's identifiers is looked up in
_LISTS_CHECKED: dict[BlacklistKind, tuple[BlacklistKind, ...]] = {
    BlacklistKind.ID_NUMBER: (BlacklistKind.ID_NUMBER,),
    BlacklistKind.PHONE: (BlacklistKind.PHONE,),
    BlacklistKind.DEVICE: (BlacklistKind.DEVICE,),
    BlacklistKind.CARD: (BlacklistKind.CARD,),
    BlacklistKind.CONTACT_PHONE: (BlacklistKind.PHONE, BlacklistKind.CONTACT_PHONE),
}


@dataclass(frozen=True, slots=True)
class BlacklistEntry:
    """One blacklisted identifier: `value_hash` is `hash_identifier(kind, value, key)`.

    The entry is active from `added_at` (inclusive) until `expires_at` (exclusive; None =
    never expires), so that a decision replayed at its original time sees the same list.
    """

    kind: BlacklistKind
    value_hash: str
    reason: str
    added_by: str
    added_at: datetime
    expires_at: datetime | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", BlacklistKind(self.kind))
        except ValueError:
            raise InvalidValue(
                "kind",
                self.kind,
                f"not one of {', '.join(k.value for k in BlacklistKind)}",
                f"不是 {', '.join(k.value for k in BlacklistKind)} 之一",
            ) from None
        check_value_hash("value_hash", self.value_hash)
        check_datetime("added_at", self.added_at)
        if self.expires_at is not None:
            check_datetime("expires_at", self.expires_at)
            if self.expires_at <= self.added_at:
                raise InvalidValue(
                    "expires_at",
                    self.expires_at,
                    "must be after added_at",
                    "必须晚于加入时间",
                )

    def is_active(self, as_of: datetime) -> bool:
        """True when `added_at ≤ as_of < expires_at`."""
        return self.added_at <= as_of and (self.expires_at is None or as_of < self.expires_at)


@dataclass(frozen=True, slots=True)
class BlacklistHit:
    """One of the application's identifiers found on a list: `kind` says which identifier
    (CONTACT_PHONE for an emergency contact), `entries` the active entries it matched,
    oldest first."""

    kind: BlacklistKind
    value_hash: str
    entries: tuple[BlacklistEntry, ...]

    @property
    def reason_code(self) -> str:
        return BLACKLIST_REASON_CODES[self.kind]

    @property
    def reasons(self) -> tuple[str, ...]:
        """The reasons recorded on the matched entries."""
        return tuple(entry.reason for entry in self.entries)


class BlacklistIndex:
    """Blacklist entries indexed by (list, hash); a lookup is a dictionary access.

    Entries are only ever added; expiry and future entries are handled at check time.
    """

    def __init__(self, entries: Iterable[BlacklistEntry] = ()) -> None:
        self._entries: dict[tuple[BlacklistKind, str], list[BlacklistEntry]] = {}
        self._count = 0
        self.add_many(entries)

    def __len__(self) -> int:
        return self._count

    def add(self, entry: BlacklistEntry) -> None:
        """Add one entry."""
        self._entries.setdefault((entry.kind, entry.value_hash), []).append(entry)
        self._count += 1

    def add_many(self, entries: Iterable[BlacklistEntry]) -> None:
        """Add entries in any order."""
        for entry in entries:
            self.add(entry)

    def entries(self, kind: BlacklistKind, value_hash: str) -> tuple[BlacklistEntry, ...]:
        """Every entry on list `kind` for `value_hash`, active or not, oldest first."""
        found = self._entries.get((kind, value_hash), [])
        return tuple(sorted(found, key=lambda entry: entry.added_at))

    def _active(
        self, kind: BlacklistKind, value_hash: str, as_of: datetime
    ) -> list[BlacklistEntry]:
        active: list[BlacklistEntry] = []
        for listed in _LISTS_CHECKED[kind]:
            active.extend(
                e for e in self._entries.get((listed, value_hash), ()) if e.is_active(as_of)
            )
        return sorted(active, key=lambda entry: entry.added_at)

    def check(self, identifiers: HashedIdentifiers, as_of: datetime) -> list[BlacklistHit]:
        """The application's identifiers that are on an entry active at `as_of`: one hit per
        identifier (each distinct contact phone once), in the order id number, phone, device,
        card, contact phones."""
        check_datetime("as_of", as_of)
        candidates: list[tuple[BlacklistKind, str]] = []
        for kind, value in (
            (BlacklistKind.ID_NUMBER, identifiers.id_number),
            (BlacklistKind.PHONE, identifiers.phone),
            (BlacklistKind.DEVICE, identifiers.device),
            (BlacklistKind.CARD, identifiers.card),
        ):
            if value is not None:
                candidates.append((kind, value))
        candidates.extend(
            (BlacklistKind.CONTACT_PHONE, contact)
            for contact in dict.fromkeys(identifiers.contact_phones)
        )
        hits: list[BlacklistHit] = []
        for kind, value in candidates:
            active = self._active(kind, value, as_of)
            if active:
                hits.append(BlacklistHit(kind=kind, value_hash=value, entries=tuple(active)))
        return hits


def blacklist_features(hits: Sequence[BlacklistHit]) -> dict[str, bool | int]:
    """`blacklist_id_hit`, `blacklist_phone_hit`, `blacklist_device_hit`, `blacklist_card_hit`,
    `blacklist_contact_hit` (any contact phone) and `blacklist_hit_count`, the number of the
    application's identifiers on an active entry (each contact phone counts once)."""
    kinds = {hit.kind for hit in hits}
    features: dict[str, bool | int] = {
        feature: kind in kinds for kind, feature in _FEATURE_OF_KIND.items()
    }
    features["blacklist_hit_count"] = len(hits)
    return features
