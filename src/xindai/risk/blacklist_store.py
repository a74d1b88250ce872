"""Blacklists kept by the risk team (黑名单管理) in the database: add, remove (soft), list,
import a CSV, and load the entries active at a time for the anti-fraud index.

Identifiers are stored only as keyed hashes (`PiiCipher.lookup_hash`, normalised first) and
a mask for screens; a record is never deleted, its removal is recorded (who, when, why) and
counts as its expiry, so that a decision replayed at its original time sees the same list.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from xindai.errors import InvalidValue, XindaiError
from xindai.origination.cards import normalise_card_number
from xindai.origination.identity import parse_resident_id
from xindai.origination.names import normalise_phone
from xindai.risk.antifraud.blacklist import BlacklistEntry, BlacklistKind
from xindai.risk.antifraud.identifiers import normalise_identifier
from xindai.security._support import db_time, lock_key
from xindai.security.pii import PiiCipher, mask_card, mask_id, mask_phone, redact
from xindai.store.fastsql import as_datetime, fetch, in_list
from xindai.store.models_risk import BlacklistRecord
from xindai.store.repository import NotFound

__all__ = [
    "CSV_COLUMNS",
    "AlreadyListed",
    "AlreadyRemoved",
    "BlacklistValueInvalid",
    "ImportIssue",
    "ImportSummary",
    "active_entries",
    "add_entry",
    "entry_status",
    "import_csv",
    "list_entries",
    "mask_value",
    "parse_expiry",
    "remove_entry",
]

SOURCE_MANUAL: Final = "manual"
SOURCE_IMPORT: Final = "import"
MAX_VALUE_CHARS: Final = 128  # longer than any ID, phone, card or device id
MAX_REASON_CHARS: Final = 500
MAX_LIST_LIMIT: Final = 5_000
MASK_CHARS: Final = 40  # the width of `value_masked`
CSV_COLUMNS: Final = ("kind", "value", "reason", "expires_at")
_REQUIRED_COLUMNS: Final = ("kind", "value", "reason")
_IMPORT_BATCH: Final = 1_000  # rows checked against the table with one query


class AlreadyListed(XindaiError):
    """The identifier is already on an active entry of the same list."""

    code = "BLACKLIST_ALREADY_LISTED"

    def __init__(self, kind: str, value_masked: str, entry_id: int):
        self.entry_id = entry_id
        super().__init__(
            f"{value_masked} is already on the {kind} blacklist (entry {entry_id})",
            f"{value_masked} 已在 {kind} 黑名单中（记录 {entry_id}）",
        )


class AlreadyRemoved(XindaiError):
    """The entry was removed before; a removal is recorded once."""

    code = "BLACKLIST_ALREADY_REMOVED"

    def __init__(self, entry_id: int):
        self.entry_id = entry_id
        super().__init__(
            f"blacklist entry {entry_id} is already removed", f"黑名单记录 {entry_id} 已被移除"
        )


class BlacklistValueInvalid(InvalidValue):
    """The value is not a valid identifier of its kind: the validator's code (`ID_FORMAT`,
    `ID_CHECK_DIGIT`, `PHONE_INVALID`, `CARD_FORMAT`, `CARD_LUHN` …) and messages, about the
    field `value`, with the masked value the validator shows."""

    def __init__(self, invalid: InvalidValue):
        self.code = invalid.code
        XindaiError.__init__(self, invalid.message_en, invalid.message_zh)
        self.field = "value"
        self.value = invalid.value


# ------------------------------------------------------------------ checks and masks


def _kind(kind: BlacklistKind | str) -> BlacklistKind:
    try:
        return BlacklistKind(kind.strip().lower() if isinstance(kind, str) else kind)
    except ValueError:
        allowed = ", ".join(k.value for k in BlacklistKind)
        raise InvalidValue("kind", kind, f"not one of {allowed}", f"不是 {allowed} 之一") from None


def _text(field_name: str, value: object, max_chars: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(field_name, value, "must not be empty", "不能为空")
    text = value.strip()
    if len(text) > max_chars:
        raise InvalidValue(
            field_name,
            text[:20] + "…",
            f"longer than {max_chars} characters",
            f"超过 {max_chars} 个字符",
        )
    return text


def _time(field_name: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidValue(field_name, value, "must be a datetime", "必须是日期时间")
    return db_time(value)


def _fit(masked: str) -> str:
    if len(masked) <= MASK_CHARS:
        return masked
    return masked[:4] + "*" * (MASK_CHARS - 8) + masked[-4:]


def mask_value(kind: BlacklistKind | str, normalised: str) -> str:
    """The screen form of a normalised identifier: `138****5678`, `110101********4578`,
    `6222 **** **** 0123`, and a device id's first 4 characters then `****`."""
    listed = _kind(kind)
    if listed in (BlacklistKind.PHONE, BlacklistKind.CONTACT_PHONE):
        masked = mask_phone(normalised)
    elif listed is BlacklistKind.ID_NUMBER:
        masked = mask_id(normalised)
    elif listed is BlacklistKind.CARD:
        masked = mask_card(normalised)
    else:
        masked = normalised[:4] + "****"
    return _fit(masked)


_DEVICE_TOKEN = re.compile(r"[A-Za-z0-9._:+/=-]{4,128}")
"""A device id as the app's SDK sends it: a UUID, hex or base64 token, no spaces."""


def _checked(kind: BlacklistKind, value: str, today: date) -> str:
    """`value` validated as an identifier of `kind`, in the spelling the application path
    uses: a real 18-character resident ID (check digit, province, birth date), a mainland
    mobile number (the phone and contact lists), a Luhn-valid card number of 16–19 digits, a
    device token. Raises the validator's own error (`ID_CHECK_DIGIT`, `PHONE_INVALID`,
    `CARD_LUHN` …), which shows only a masked value."""
    if kind is BlacklistKind.ID_NUMBER:
        return parse_resident_id(value, today).number
    if kind in (BlacklistKind.PHONE, BlacklistKind.CONTACT_PHONE):
        return normalise_phone(value)
    if kind is BlacklistKind.CARD:
        return normalise_card_number(value)
    token = value.strip()
    if not _DEVICE_TOKEN.fullmatch(token):
        raise InvalidValue(
            "device",
            mask_value(kind, token) if token else token,
            "a device id is 4–128 letters, digits or . _ : + / = - (no spaces)",
            "设备号应为 4–128 位字母、数字或 . _ : + / = -（不含空格）",
        )
    return token


def _normalised(kind: BlacklistKind, value: object, today: date) -> str:
    """The identifier's canonical spelling, once it is valid for its kind (see `_checked`);
    the error is about `value` and never repeats a raw identifier."""
    if not isinstance(value, str):
        raise InvalidValue("value", type(value).__name__, "must be text", "必须是文本")
    try:
        normalised = normalise_identifier(kind, _checked(kind, value, today))
    except InvalidValue as invalid:
        raise BlacklistValueInvalid(invalid) from None
    if len(normalised) > MAX_VALUE_CHARS:
        raise InvalidValue(
            "value",
            mask_value(kind, normalised),
            f"longer than {MAX_VALUE_CHARS} characters",
            f"超过 {MAX_VALUE_CHARS} 个字符",
        )
    return normalised


def parse_expiry(text: str | None, field_name: str = "expires_at") -> datetime | None:
    """An expiry from ISO text: a date means midnight at the start of that day (the entry is
    no longer active on it), a datetime is taken as it is; empty means never."""
    if text is None or not text.strip():
        return None
    cleaned = text.strip()
    try:
        return db_time(datetime.fromisoformat(cleaned))  # a date alone gives its midnight
    except ValueError:
        raise InvalidValue(
            field_name,
            cleaned,
            "not an ISO date (YYYY-MM-DD) or datetime",
            "不是 ISO 日期（YYYY-MM-DD）或日期时间",
        ) from None


def _active_at(at: datetime) -> ColumnElement[bool]:
    """Not removed and not expired at `at` (entries that start later included)."""
    return and_(
        or_(BlacklistRecord.removed_at.is_(None), BlacklistRecord.removed_at > at),
        or_(BlacklistRecord.expires_at.is_(None), BlacklistRecord.expires_at > at),
    )


def entry_status(record: BlacklistRecord, now: datetime) -> str:
    """`removed`, `expired`, `pending` (starts later) or `active` at `now`."""
    at = db_time(now)
    if record.removed_at is not None and record.removed_at <= at:
        return "removed"
    if record.expires_at is not None and record.expires_at <= at:
        return "expired"
    if record.created_at > at:
        return "pending"
    return "active"


# ------------------------------------------------------------------ add, remove, list


@dataclass(frozen=True, slots=True)
class _Candidate:
    """One identifier checked and hashed, ready to be listed."""

    kind: BlacklistKind
    value_hash: str
    value_masked: str
    reason: str
    expires_at: datetime | None


def _candidate(
    cipher: PiiCipher,
    *,
    kind: BlacklistKind | str,
    value: object,
    reason: object,
    now: datetime,
    expires_at: datetime | None,
) -> _Candidate:
    listed = _kind(kind)
    normalised = _normalised(listed, value, now.date())
    # a reason is shown to every risk user: an identifier typed into it is masked
    why = redact(_text("reason", reason, MAX_REASON_CHARS))
    expiry = None if expires_at is None else _time("expires_at", expires_at)
    if expiry is not None and expiry <= now:
        raise InvalidValue(
            "expires_at", expiry.isoformat(), "must be after now", "必须晚于当前时间"
        )
    return _Candidate(
        kind=listed,
        value_hash=cipher.lookup_hash(listed, normalised),
        value_masked=mask_value(listed, normalised),
        reason=why,
        expires_at=expiry,
    )


def _listed_now(
    session: Session, keys: Iterable[tuple[str, str]], now: datetime
) -> dict[tuple[str, str], int]:
    """(kind, hash) → id of an entry active at or after `now`, for the given keys."""
    wanted = set(keys)
    if not wanted:
        return {}
    rows = session.execute(
        select(BlacklistRecord.kind, BlacklistRecord.value_hash, BlacklistRecord.id).where(
            BlacklistRecord.value_hash.in_({value_hash for _, value_hash in wanted}),
            _active_at(now),
        )
    )
    return {
        (kind, value_hash): entry_id
        for kind, value_hash, entry_id in rows
        if (kind, value_hash) in wanted
    }


def _record(candidate: _Candidate, *, actor: str, now: datetime, source: str) -> BlacklistRecord:
    return BlacklistRecord(
        kind=candidate.kind.value,
        value_hash=candidate.value_hash,
        value_masked=candidate.value_masked,
        reason=candidate.reason,
        source=source,
        created_by=actor,
        created_at=now,
        expires_at=candidate.expires_at,
    )


def add_entry(
    session: Session,
    cipher: PiiCipher,
    *,
    kind: BlacklistKind | str,
    value: str,
    reason: str,
    actor: str,
    now: datetime,
    expires_at: datetime | None = None,
    source: str = SOURCE_MANUAL,
) -> BlacklistRecord:
    """List the identifier `value` of `kind` from `now` until `expires_at` (None = never),
    storing only its keyed hash and mask. `InvalidValue` for a bad kind, value, empty reason
    or an expiry not after `now`; `AlreadyListed` when it is on an active entry of `kind`."""
    at = _time("now", now)
    who = _text("actor", actor, 64)
    origin = _text("source", source, 32)
    candidate = _candidate(
        cipher, kind=kind, value=value, reason=reason, now=at, expires_at=expires_at
    )
    lock_key(session, "blacklist", "writers")  # two adds of one value: one wins
    key = (candidate.kind.value, candidate.value_hash)
    existing = _listed_now(session, [key], at).get(key)
    if existing is not None:
        raise AlreadyListed(candidate.kind.value, candidate.value_masked, existing)
    record = _record(candidate, actor=who, now=at, source=origin)
    session.add(record)
    session.flush()
    return record


def remove_entry(
    session: Session, entry_id: int, *, actor: str, reason: str, now: datetime
) -> BlacklistRecord:
    """Remove an entry from `now` on: records who, when and why; the row stays, and counts
    as expiring at its removal time. `NotFound`, or `AlreadyRemoved` the second time."""
    at = _time("now", now)
    who = _text("actor", actor, 64)
    why = redact(_text("reason", reason, MAX_REASON_CHARS))
    record = session.get(BlacklistRecord, entry_id, with_for_update=True)
    if record is None:
        raise NotFound(f"blacklist entry {entry_id} not found", f"黑名单记录 {entry_id} 不存在")
    if record.removed_at is not None:
        raise AlreadyRemoved(entry_id)
    if at < record.created_at:
        raise InvalidValue(
            "now", at.isoformat(), "is before the entry was added", "早于该记录的加入时间"
        )
    record.removed_at = at
    record.removed_by = who
    record.removed_reason = why
    session.flush()
    return record


def list_entries(
    session: Session,
    *,
    now: datetime,
    kind: BlacklistKind | str | None = None,
    include_inactive: bool = False,
    limit: int = 500,
) -> list[BlacklistRecord]:
    """Entries newest first, at most `limit` (1–5000): of one `kind` if given, and only those
    active at `now` (or starting later) unless `include_inactive`."""
    at = _time("now", now)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidValue(
            "limit",
            limit,
            f"must be between 1 and {MAX_LIST_LIMIT}",
            f"应在 1 到 {MAX_LIST_LIMIT} 之间",
        )
    query = select(BlacklistRecord)
    if kind is not None:
        query = query.where(BlacklistRecord.kind == _kind(kind).value)
    if not include_inactive:
        query = query.where(_active_at(at))
    query = query.order_by(BlacklistRecord.created_at.desc(), BlacklistRecord.id.desc())
    return list(session.scalars(query.limit(limit)))


def active_entries(
    session: Session, value_hashes: Iterable[str], as_of: datetime
) -> list[BlacklistEntry]:
    """The entries, on any list, of the given keyed hashes that are active at `as_of`
    (`created_at ≤ as_of < min(expires_at, removed_at)`), oldest first, with a removal as
    the entry's expiry: one indexed query (`ix_blacklist_value`) for all hashes. Feed them to
    `BlacklistIndex`, which picks the lists each identifier is checked against."""
    at = _time("as_of", as_of)
    wanted = sorted(set(value_hashes))
    if not wanted:
        return []
    # a driver statement: this runs in every credit decision (see `store.fastsql`)
    test, params = in_list(session, wanted)
    records = fetch(
        session,
        "SELECT kind, value_hash, reason, created_by, created_at, expires_at, removed_at"
        f" FROM blacklist WHERE value_hash {test} AND created_at <= ?"
        " AND (removed_at IS NULL OR removed_at > ?) AND (expires_at IS NULL OR expires_at > ?)"
        " ORDER BY created_at, id",
        (*params, at, at, at),
    )
    entries: list[BlacklistEntry] = []
    for kind, value_hash, reason, created_by, added, expires, removed in records:
        created_at = as_datetime(added)
        ends = [as_datetime(t) for t in (expires, removed) if t is not None]
        entries.append(
            BlacklistEntry(
                kind=BlacklistKind(kind),
                value_hash=value_hash,
                reason=reason,
                added_by=created_by,
                added_at=created_at,
                expires_at=min(ends) if ends else None,
            )
        )
    return entries


# ------------------------------------------------------------------ CSV import


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """A row not added: its line in the file, the kind and masked value when they could be
    read, and why (`code`, English and zh-CN)."""

    line: int
    kind: str
    value_masked: str
    code: str
    message_en: str
    message_zh: str


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import did: `rows` data rows read, `added` entries created, and the rows
    `already_listed` (on an active entry, or earlier in the same file) and `bad_rows`."""

    rows: int = 0
    added: int = 0
    already_listed: tuple[ImportIssue, ...] = field(default=())
    bad_rows: tuple[ImportIssue, ...] = field(default=())


def _header(fieldnames: Iterable[str] | None) -> list[str]:
    names = [name.strip().lower().lstrip("\ufeff") for name in (fieldnames or [])]
    missing = [c for c in _REQUIRED_COLUMNS if c not in names]
    unknown = [n for n in names if n not in CSV_COLUMNS]
    if missing or unknown or len(set(names)) != len(names):
        raise InvalidValue(
            "CSV header",
            ",".join(names),
            f"must be {','.join(CSV_COLUMNS)} (expires_at optional)",
            f"表头应为 {','.join(CSV_COLUMNS)}（expires_at 可省略）",
        )
    return names


def import_csv(
    session: Session,
    cipher: PiiCipher,
    rows: Iterable[str],
    *,
    actor: str,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Add the entries of a CSV (`rows`: its lines, e.g. an open text file) with the header
    `kind,value,reason,expires_at` (expires_at optional: an ISO date or datetime, see
    `parse_expiry`). Every row is tried: bad rows and rows already listed are reported with
    their line numbers, never stopping the import. `progress` is called with the number of
    data rows handled so far. A wrong header raises `InvalidValue` before anything is added.
    """
    at = _time("now", now)
    who = _text("actor", actor, 64)
    reader = csv.reader(rows)
    try:
        names = _header(next(reader, None))
    except csv.Error as exc:
        raise InvalidValue("CSV header", "", f"not CSV ({exc})", "不是 CSV 格式") from None
    lock_key(session, "blacklist", "writers")  # as add_entry: no value listed twice
    counts = {"rows": 0, "added": 0}
    already: list[ImportIssue] = []
    bad: list[ImportIssue] = []
    seen: dict[tuple[str, str], int] = {}  # (kind, hash) → line added earlier in this file
    batch: list[tuple[int, _Candidate]] = []

    def flush() -> None:
        listed_now = _listed_now(session, ((c.kind.value, c.value_hash) for _, c in batch), at)
        for line, candidate in batch:
            key = (candidate.kind.value, candidate.value_hash)
            if key in listed_now or key in seen:
                where_en = f"entry {listed_now[key]}" if key in listed_now else f"line {seen[key]}"
                where_zh = f"记录 {listed_now[key]}" if key in listed_now else f"第 {seen[key]} 行"
                already.append(
                    ImportIssue(
                        line,
                        candidate.kind.value,
                        candidate.value_masked,
                        AlreadyListed.code,
                        f"already listed ({where_en})",
                        f"已在黑名单中（{where_zh}）",
                    )
                )
                continue
            seen[key] = line
            session.add(_record(candidate, actor=who, now=at, source=SOURCE_IMPORT))
            counts["added"] += 1
        session.flush()
        batch.clear()

    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            counts["rows"] += 1
            bad.append(
                ImportIssue(reader.line_num, "", "", "CSV_ROW_INVALID", str(exc), "无法解析该行")
            )
            continue
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        counts["rows"] += 1
        line = reader.line_num
        row = dict(zip(names, (cell.strip() for cell in cells), strict=False))
        kind_text = row.get("kind", "")
        try:
            if len(cells) != len(names):
                raise InvalidValue(
                    "row",
                    f"{len(cells)} fields",
                    f"needs {len(names)} fields ({','.join(names)})",
                    f"应有 {len(names)} 列（{','.join(names)}）",
                )
            batch.append(
                (
                    line,
                    _candidate(
                        cipher,
                        kind=kind_text,
                        value=row.get("value", ""),
                        reason=row.get("reason", ""),
                        now=at,
                        expires_at=parse_expiry(row.get("expires_at")),
                    ),
                )
            )
        except XindaiError as exc:
            # a shifted column may put an identifier anywhere: the report masks them all
            bad.append(
                ImportIssue(
                    line,
                    redact(kind_text),
                    "",
                    exc.code,
                    redact(exc.message_en),
                    redact(exc.message_zh),
                )
            )
        if len(batch) >= _IMPORT_BATCH:
            flush()
        if progress is not None:
            progress(counts["rows"])
    flush()
    return ImportSummary(
        rows=counts["rows"],
        added=counts["added"],
        already_listed=tuple(already),
        bad_rows=tuple(bad),
    )
