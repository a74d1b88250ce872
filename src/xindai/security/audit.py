"""The audit log (审计日志): who did what to which record, when, from where, with the state
before and after as JSON in which personal data is masked.

Entries are append-only: importing this module makes the ORM refuse to update or delete an
`AuditEvent` (`AuditImmutable`); bulk SQL must not touch `audit_log` either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Mapper, Session

from xindai import clock
from xindai.security._support import db_time
from xindai.security.errors import AuditImmutable
from xindai.security.pii import mask_card, mask_id, mask_name, mask_phone, redact
from xindai.store.fastsql import executemany, param_markers
from xindai.store.models_origination import AuditEvent

ENCRYPTED: Final = "<encrypted>"
SECRET: Final = "<secret>"

# field names (lower case) holding personal data, by mask
_PHONE_FIELDS = re.compile(r"(.*_)?(phone|mobile|tel|telephone)(_.*)?")
_ID_FIELDS = re.compile(r"(.*_)?(id_number|id_no|id_card|idcard|identity_number|id_card_number)")
_CARD_FIELDS = re.compile(r"(.*_)?(card|card_no|card_number|bank_card|account_number)")
_NAME_FIELDS = frozenset(
    {
        "name",
        "real_name",
        "full_name",
        "legal_name",
        "borrower_name",
        "contact_name",
        "customer_name",
        "holder_name",
    }
)
_SECRET_FIELDS = re.compile(
    r"(.*_)?(password|password_hash|secret|totp_secret|token|otp|sms_code|otp_code|api_key)"
)


def _field_mask(field: str, value: str) -> str:
    key = field.lower()
    if key.endswith("_enc"):
        return ENCRYPTED
    if _SECRET_FIELDS.fullmatch(key):
        return SECRET
    if key.endswith("_hash"):
        return value  # keyed hashes: linkable, not readable
    if _ID_FIELDS.fullmatch(key):
        return mask_id(value)
    if _CARD_FIELDS.fullmatch(key):
        return mask_card(value)
    if _PHONE_FIELDS.fullmatch(key):
        return mask_phone(value)
    if key in _NAME_FIELDS:
        return mask_name(value)
    return redact(value)


def _plain(value: Any) -> Any:
    """A JSON-ready copy of a value (dates ISO, decimals as strings, enums by value)."""
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def redact_state(state: Mapping[str, Any], *, unmasked: Iterable[str] = ()) -> dict[str, Any]:
    """A JSON-ready copy of `state` with personal data masked by field name (phones, ID and
    card numbers, people's names — `name` included), secrets and `*_enc` columns replaced,
    and every other string passed through `redact`; nested mappings and lists are walked.
    Fields in `unmasked` (e.g. a product's `name`) only go through `redact`."""
    plain_fields = {f.lower() for f in unmasked}

    def walk(value: Any, name: str) -> Any:
        if isinstance(value, Mapping):
            return {str(k): walk(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v, name) for v in value]
        plain = _plain(value)
        if isinstance(plain, bool) or not isinstance(plain, str | int):
            return plain
        text = str(plain)
        masked = redact(text) if name.lower() in plain_fields else _field_mask(name, text)
        return plain if masked == text else masked

    result = walk(state, "")
    assert isinstance(result, dict)
    return result


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, Any]:
    """The fields that differ: `{field: {"before": old, "after": new}}`, a side left out
    when the field is absent there. Compare `snapshot`s or plain dicts."""
    old, new = dict(before or {}), dict(after or {})
    changes: dict[str, Any] = {}
    for field in sorted(old.keys() | new.keys()):
        if field in old and field in new and _plain(old[field]) == _plain(new[field]):
            continue
        change: dict[str, Any] = {}
        if field in old:
            change["before"] = old[field]
        if field in new:
            change["after"] = new[field]
        changes[field] = change
    return changes


def snapshot(record: object, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The column values of an ORM object (for `before`/`after`), without `exclude`."""
    skipped = set(exclude)
    mapper = inspect(record).mapper
    return {
        attribute.key: getattr(record, attribute.key)
        for attribute in mapper.column_attrs
        if attribute.key not in skipped
    }


def _to_json(state: Mapping[str, Any] | None, unmasked: Iterable[str]) -> str | None:
    if state is None:
        return None
    return json.dumps(redact_state(state, unmasked=unmasked), ensure_ascii=False, sort_keys=True)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    resource: str,
    resource_id: str | int | None = None,
    ip: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    at: datetime | None = None,
    unmasked: Iterable[str] = (),
) -> AuditEvent:
    """Append an audit entry in the caller's unit of work (it commits with the action it
    records). `before`/`after` are stored as JSON with personal data masked (`redact_state`,
    `unmasked` the fields that are not personal data despite their name); `at` defaults to
    now."""
    entry = new_entry(
        actor=actor,
        action=action,
        resource=resource,
        resource_id=resource_id,
        ip=ip,
        before=before,
        after=after,
        at=at,
        unmasked=unmasked,
    )
    session.add(entry)
    session.flush()
    return entry


_COLUMNS = ("at", "actor", "action", "resource", "resource_id", "ip", "before", "after")
_INSERT = f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) VALUES {param_markers(len(_COLUMNS))}"


def append_many(session: Session, entries: Sequence[AuditEvent]) -> None:
    """Append entries made by `new_entry` with one statement, in the caller's transaction
    (a batch of decisions writes its audit trail this way)."""
    executemany(session, _INSERT, [[getattr(e, c) for c in _COLUMNS] for e in entries])


def new_entry(
    *,
    actor: str,
    action: str,
    resource: str,
    resource_id: str | int | None = None,
    ip: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    at: datetime | None = None,
    unmasked: Iterable[str] = (),
) -> AuditEvent:
    """The entry `record` appends, not yet added: for a batch that adds many and flushes
    once."""
    unmasked = tuple(unmasked)
    return AuditEvent(
        at=db_time(at if at is not None else clock.now()),
        actor=actor[:64],
        action=action[:64],
        resource=resource[:64],
        resource_id=None if resource_id is None else str(resource_id)[:64],
        ip=ip[:64] if ip else None,
        before=_to_json(before, unmasked),
        after=_to_json(after, unmasked),
    )


def events_for(
    session: Session, resource: str, resource_id: str | int | None = None
) -> list[AuditEvent]:
    """The audit entries of a resource (of one record when `resource_id` is given), oldest
    first."""
    query = select(AuditEvent).where(AuditEvent.resource == resource)
    if resource_id is not None:
        query = query.where(AuditEvent.resource_id == str(resource_id))
    return list(session.scalars(query.order_by(AuditEvent.at, AuditEvent.id)))


def _refuse_change(_mapper: Mapper[Any], _connection: Any, _target: AuditEvent) -> None:
    raise AuditImmutable()


event.listen(AuditEvent, "before_update", _refuse_change)
event.listen(AuditEvent, "before_delete", _refuse_change)
