"""Blacklists kept by the risk team (黑名单管理) on SQLite and PostgreSQL: adding (normalised,
hashed, masked, duplicates refused), soft removal, listing, the entries active at a time for
the anti-fraud index (one query; a removal counts as expiry), CSV import with bad rows, the
admin API through the real ASGI app, and the `xindai risk blacklist` commands."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from xindai.api.app import create_app
from xindai.bootstrap import bootstrap
from xindai.cli import main
from xindai.errors import InvalidValue
from xindai.platform import Platform
from xindai.risk.antifraud.blacklist import BlacklistIndex, BlacklistKind
from xindai.risk.antifraud.identifiers import HashedIdentifiers
from xindai.risk.blacklist_store import (
    AlreadyListed,
    AlreadyRemoved,
    active_entries,
    add_entry,
    entry_status,
    import_csv,
    list_entries,
    parse_expiry,
    remove_entry,
)
from xindai.security import audit
from xindai.security.pii import PiiCipher
from xindai.settings import Settings
from xindai.store import migrate
from xindai.store.db import make_engine
from xindai.store.db import session_factory as make_session_factory
from xindai.store.models_risk import BlacklistRecord
from xindai.store.repository import NotFound

CIPHER = PiiCipher(b"blacklist-test-key-0123456789abcdef")
T0 = datetime(2025, 3, 1, 9, 0)
PHONE = "13800138000"
ID_NUMBER = "11010119900318457x"  # a valid check letter, lower case
CARD = "6222021234000060123"  # Luhn-valid
DEVICE = "ABCD-1234-EF56"
PASSWORD = "correct-horse-battery-9"


def add(session: Session, kind: str, value: str, **options: Any) -> BlacklistRecord:
    options.setdefault("reason", "fraud ring")
    options.setdefault("actor", "risk1")
    options.setdefault("now", T0)
    return add_entry(session, CIPHER, kind=kind, value=value, **options)


@contextmanager
def selects(engine: Engine) -> Iterator[list[str]]:
    """The SELECT statements sent to the database inside the block."""
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


# ------------------------------------------------------------------ add, remove, list


def test_add_stores_only_the_hash_and_mask(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        rows = [
            add(session, "phone", "+86 138-0013-8000"),
            add(session, "id_number", ID_NUMBER, expires_at=T0 + timedelta(days=30)),
            add(session, "card", CARD),
            add(session, "device", DEVICE),
            add(session, "contact_phone", PHONE),
        ]
        assert [r.value_masked for r in rows] == [
            "138****8000",
            "110101********457X",
            "6222 **** **** 0123",
            "abcd****",
            "138****8000",
        ]
        assert rows[0].value_hash == CIPHER.lookup_hash("phone", PHONE)
        assert rows[1].value_hash == CIPHER.lookup_hash("id_number", ID_NUMBER.upper())
        assert rows[3].value_hash == CIPHER.lookup_hash("device", DEVICE.lower())
        assert rows[0].source == "manual" and rows[0].created_by == "risk1"
        assert rows[1].expires_at == T0 + timedelta(days=30)
    with session_factory() as session:
        for record in session.scalars(select(BlacklistRecord)):
            columns = " ".join(str(getattr(record, c.key)) for c in BlacklistRecord.__table__.c)
            for raw in (PHONE, ID_NUMBER.upper(), CARD, DEVICE.lower()):
                assert raw not in columns


def test_an_identifier_is_listed_once_per_kind(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        first = add(session, "phone", PHONE)
    with session_factory.begin() as session, pytest.raises(AlreadyListed) as info:
        add(session, "phone", "+86 138 0013 8000", now=T0 + timedelta(hours=1))
    assert info.value.code == "BLACKLIST_ALREADY_LISTED"
    assert info.value.entry_id == first.id
    assert PHONE not in info.value.message_en and "138****8000" in info.value.message_zh
    with session_factory.begin() as session:
        add(session, "contact_phone", PHONE)  # another list: allowed
        # expired and removed entries do not block listing it again
        add(session, "card", CARD, expires_at=T0 + timedelta(days=1))
        add(session, "card", CARD, now=T0 + timedelta(days=1))
        removed = add(session, "device", DEVICE)
        remove_entry(session, removed.id, actor="risk2", reason="cleared", now=T0)
        add(session, "device", DEVICE.lower(), now=T0 + timedelta(minutes=1))
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(BlacklistRecord)) == 6


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"kind": "email", "value": "a@b.c"}, "kind"),
        ({"kind": "phone", "value": "--", "reason": "x"}, "value"),
        ({"kind": "phone", "value": PHONE, "reason": "   "}, "reason"),
        ({"kind": "phone", "value": PHONE, "expires_at": T0}, "expires_at"),
        ({"kind": "phone", "value": PHONE, "actor": ""}, "actor"),
    ],
)
def test_bad_input_is_refused(
    session_factory: sessionmaker[Session], options: dict[str, Any], field: str
) -> None:
    given = dict(options)  # the parameters are shared by both databases
    with session_factory.begin() as session, pytest.raises(InvalidValue) as info:
        add(session, given.pop("kind"), given.pop("value"), **given)
    assert info.value.field == field and info.value.message_zh


def test_a_reason_never_carries_an_identifier(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        record = add(session, "phone", PHONE, reason=f"called from {PHONE}, fraud")
    assert record.reason == "called from 138****8000, fraud"


def test_remove_is_soft_and_recorded(session_factory: sessionmaker[Session]) -> None:
    later = T0 + timedelta(days=2)
    with session_factory.begin() as session:
        kept = add(session, "phone", PHONE)
        gone = add(session, "card", CARD)
        remove_entry(session, gone.id, actor="risk2", reason="paid in full", now=later)
        kept_id, gone_id = kept.id, gone.id
    with session_factory.begin() as session:
        record = session.get(BlacklistRecord, gone_id)
        assert record is not None
        assert (record.removed_at, record.removed_by, record.removed_reason) == (
            later,
            "risk2",
            "paid in full",
        )
        assert entry_status(record, later) == "removed"
        assert entry_status(record, later - timedelta(seconds=1)) == "active"
        with pytest.raises(AlreadyRemoved):
            remove_entry(session, gone_id, actor="risk2", reason="again", now=later)
        with pytest.raises(NotFound):
            remove_entry(session, 999_999, actor="risk2", reason="none", now=later)
        with pytest.raises(InvalidValue):
            remove_entry(session, kept_id, actor="risk2", reason="", now=later)
        with pytest.raises(InvalidValue):
            remove_entry(session, kept_id, actor="risk2", reason="early", now=T0 - timedelta(1))
        assert [r.id for r in list_entries(session, now=later)] == [kept_id]
        assert {r.id for r in list_entries(session, now=later, include_inactive=True)} == {
            kept_id,
            gone_id,
        }
        assert list_entries(session, now=later, kind="card") == []
        assert [r.id for r in list_entries(session, now=T0, kind="card")] == [gone_id]
        with pytest.raises(InvalidValue):
            list_entries(session, now=later, kind="email")
        with pytest.raises(InvalidValue):
            list_entries(session, now=later, limit=0)
        assert session.scalar(select(func.count()).select_from(BlacklistRecord)) == 2


def test_list_is_newest_first_and_limited(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        for i in range(5):
            add(session, "device", f"device-{i}", now=T0 + timedelta(minutes=i))
        listed = list_entries(session, now=T0 + timedelta(hours=1), limit=3)
    assert [r.value_masked for r in listed] == ["devi****"] * 3
    assert [r.created_at for r in listed] == [T0 + timedelta(minutes=m) for m in (4, 3, 2)]


# ------------------------------------------------------------------ active entries


def test_active_entries_replay_the_list_as_it_was(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    import xindai.risk.blacklist_store as store

    statements: list[str] = []
    real_fetch = store.fetch

    def counted(session: Session, sql: str, params: Any = ()) -> list[Any]:
        statements.append(sql)
        return real_fetch(session, sql, params)

    monkeypatch.setattr(store, "fetch", counted)
    phone, card, device = (
        CIPHER.lookup_hash("phone", PHONE),
        CIPHER.lookup_hash("card", CARD),
        CIPHER.lookup_hash("device", DEVICE),
    )
    t1, t2, t3 = (T0 + timedelta(days=d) for d in (1, 2, 3))
    with session_factory.begin() as session:
        add(session, "phone", PHONE)  # forever
        add(session, "card", CARD, expires_at=t2)  # expires
        removed = add(session, "device", DEVICE, now=t1, expires_at=T0 + timedelta(days=30))
        remove_entry(session, removed.id, actor="risk2", reason="cleared", now=t3)
        add(session, "contact_phone", PHONE, now=t3)  # same hash as the phone, later
        add(session, "id_number", ID_NUMBER)  # not asked for
    everything = [phone, card, device, phone, CIPHER.lookup_hash("card", "6222")]

    def active(at: datetime) -> list[tuple[str, str, datetime | None]]:
        statements.clear()
        with session_factory() as session:
            entries = active_entries(session, iter(everything), at)
        assert len(statements) == 1  # one query for all the hashes
        return [(e.kind.value, e.value_hash, e.expires_at) for e in entries]

    assert active(T0 - timedelta(seconds=1)) == []
    assert active(T0) == [("phone", phone, None), ("card", card, t2)]
    # the removed device entry is seen before its removal, expiring at its removal time
    assert active(t3 - timedelta(seconds=1)) == [("phone", phone, None), ("device", device, t3)]
    assert active(t3) == [("phone", phone, None), ("contact_phone", phone, None)]
    with session_factory() as session:
        assert active_entries(session, [], t3) == []

    with session_factory() as session:
        entries = active_entries(session, everything, t1)
    index = BlacklistIndex(entries)
    applicant = HashedIdentifiers.from_raw(
        CIPHER.lookup_key, phone="+86 138 0013 8000", device=DEVICE, card="6222 0000"
    )
    hits = index.check(applicant, t1)
    assert [hit.kind for hit in hits] == [BlacklistKind.PHONE, BlacklistKind.DEVICE]
    assert hits[0].reasons == ("fraud ring",)
    assert hits[1].entries[0].added_by == "risk1" and hits[1].entries[0].expires_at == t3


def test_parse_expiry() -> None:
    assert parse_expiry("2026-01-31") == datetime(2026, 1, 31)
    assert parse_expiry("2026-01-31T18:30") == datetime(2026, 1, 31, 18, 30)
    assert parse_expiry(" ") is None and parse_expiry(None) is None
    with pytest.raises(InvalidValue):
        parse_expiry("31/01/2026")


# ------------------------------------------------------------------ CSV import


def csv_lines(rows: list[list[str]], header: str = "kind,value,reason,expires_at") -> list[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    return [header + "\n", *out.getvalue().splitlines(keepends=True)]


def test_import_reports_every_bad_row(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        add(session, "card", CARD)
    rows = csv_lines(
        [
            ["phone", "+86 138-0013-8000", "ring A", ""],  # line 2
            ["email", "a@b.c", "?", ""],  # 3: bad kind
            ["device", DEVICE, "", ""],  # 4: no reason
            ["card", CARD, "again", ""],  # 5: already listed in the table
            ["phone", PHONE, "twice", ""],  # 6: earlier in this file
            ["id_number", ID_NUMBER, "stolen id", "2030-01-01"],  # 7
            ["device", DEVICE, "expired", "2020-01-01"],  # 8: expiry in the past
            ["device", "dev-2", "bad date", "01/01/2030"],  # 9: bad date
            [PHONE, "phone", "shifted"],  # 10: columns shifted, three fields
            [],  # a blank line is skipped (line 11)
            ["contact_phone", PHONE, "contact of ring A", "2030-06-01T12:00"],  # 12
        ]
    )
    seen: list[int] = []
    with session_factory.begin() as session:
        summary = import_csv(session, CIPHER, rows, actor="risk1", now=T0, progress=seen.append)
    assert (summary.rows, summary.added) == (10, 3)
    assert seen == list(range(1, 11))
    assert [(i.line, i.kind, i.value_masked) for i in summary.already_listed] == [
        (5, "card", "6222 **** **** 0123"),
        (6, "phone", "138****8000"),
    ]
    assert "entry" in summary.already_listed[0].message_en
    assert "line 2" in summary.already_listed[1].message_en
    assert [(i.line, i.code) for i in summary.bad_rows] == [
        (3, "INVALID_VALUE"),
        (4, "INVALID_VALUE"),
        (8, "INVALID_VALUE"),
        (9, "INVALID_VALUE"),
        (10, "INVALID_VALUE"),
    ]
    report = repr(summary)
    assert PHONE not in report and CARD not in report and ID_NUMBER not in report
    with session_factory() as session:
        added = list_entries(session, now=T0, include_inactive=True)
        assert sorted((r.kind, r.source) for r in added) == [
            ("card", "manual"),
            ("contact_phone", "import"),
            ("id_number", "import"),
            ("phone", "import"),
        ]
        by_kind = {r.kind: r for r in added}
        assert by_kind["id_number"].expires_at == datetime(2030, 1, 1)
        assert by_kind["contact_phone"].expires_at == datetime(2030, 6, 1, 12)
        assert by_kind["phone"].created_by == "risk1"


def test_import_refuses_a_wrong_header(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        for header in ("kind,value", "kind,value,reason,note", ""):
            with pytest.raises(InvalidValue) as info:
                import_csv(session, CIPHER, csv_lines([], header), actor="risk1", now=T0)
            assert info.value.field == "CSV header"
        # the expiry column may be left out, and a BOM and capitals are tolerated
        summary = import_csv(
            session,
            CIPHER,
            ["\ufeffKind,Value,Reason\n", f"phone,{PHONE},ring\n"],
            actor="risk1",
            now=T0,
        )
    assert (summary.rows, summary.added, summary.bad_rows) == (1, 1, ())


def test_import_many_rows_in_batches(session_factory: sessionmaker[Session]) -> None:
    rows = csv_lines([["device", f"device-{i:05d}", "farm", ""] for i in range(2_500)])
    rows.append("device,device-00007,farm again,\n")
    with session_factory.begin() as session:
        summary = import_csv(session, CIPHER, rows, actor="risk1", now=T0)
    assert (summary.rows, summary.added, len(summary.already_listed)) == (2_501, 2_500, 1)
    assert summary.already_listed[0].line == 2_502


# ------------------------------------------------------------------ admin API


@pytest.fixture
def api(
    session_factory: sessionmaker[Session], settings: Settings
) -> Iterator[tuple[TestClient, Platform]]:
    platform = Platform.from_settings(settings, sessions=session_factory)
    bootstrap(
        session_factory,
        cipher=platform.cipher,
        today=datetime.now().date(),
        admin_password=PASSWORD,
        staff={"risk1": "risk", "cs1": "customer_service"},
    )
    with TestClient(create_app(platform)) as client:
        yield client, platform


def login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/admin/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_admin_api(api: tuple[TestClient, Platform]) -> None:
    client, platform = api
    risk = login(client, "risk1")
    url = "/api/v1/admin/blacklist"
    bodies: list[str] = []

    def call(method: str, path: str, status: int, **options: Any) -> Any:
        response = client.request(method, path, headers=risk, **options)
        assert response.status_code == status, response.text
        bodies.append(response.text)
        return response.json()

    phone = call(
        "POST", url, 201, json={"kind": "phone", "value": "+86 138 0013 8000", "reason": "ring"}
    )
    assert phone["value_masked"] == "138****8000" and phone["status"] == "active"
    assert phone["created_by"] == "risk1" and phone["expires_at"] is None
    card = call(
        "POST",
        url,
        201,
        json={"kind": "card", "value": CARD, "reason": "stolen", "expires_at": "2099-01-01"},
    )
    assert card["expires_at"] == "2099-01-01T00:00:00"
    duplicate = call("POST", url, 409, json={"kind": "phone", "value": PHONE, "reason": "again"})
    assert duplicate["code"] == "BLACKLIST_ALREADY_LISTED" and duplicate["message"]["zh-CN"]
    bad = call(
        "POST",
        url,
        400,
        json={"kind": "phone", "value": PHONE, "reason": "x", "expires_at": "2020-01-01"},
    )
    assert bad["code"] == "INVALID_VALUE" and bad["field"] == "expires_at"
    assert (
        call("POST", url, 422, json={"kind": "email", "value": PHONE, "reason": "x"})["code"]
        == "VALIDATION_ERROR"
    )

    listed = call("GET", url, 200)
    assert [e["id"] for e in listed] == [card["id"], phone["id"]]
    assert [e["id"] for e in call("GET", url, 200, params={"kind": "card"})] == [card["id"]]

    removed = call("DELETE", f"{url}/{phone['id']}", 200, json={"reason": "cleared"})
    assert removed["status"] == "removed" and removed["removed_by"] == "risk1"
    assert removed["removed_reason"] == "cleared"
    call("DELETE", f"{url}/{card['id']}", 200, params={"reason": "paid"})
    assert (
        call("DELETE", f"{url}/{card['id']}", 409, params={"reason": "again"})["code"]
        == "BLACKLIST_ALREADY_REMOVED"
    )
    assert call("DELETE", f"{url}/999999", 404, params={"reason": "none"})["code"] == "NOT_FOUND"
    assert call("DELETE", f"{url}/{card['id']}", 400)["field"] == "reason"
    assert call("GET", url, 200) == []
    everything = call("GET", url, 200, params={"include_inactive": "true"})
    assert {e["status"] for e in everything} == {"removed"}

    for text in bodies:
        for secret in (PHONE, CARD, CIPHER.lookup_hash("phone", PHONE)):
            assert secret not in text
        assert platform.cipher.lookup_hash("phone", PHONE) not in text
        assert "value_hash" not in text

    with platform.sessions() as session:
        events = audit.events_for(session, "blacklist")
        assert [e.action for e in events] == [
            "blacklist.add",
            "blacklist.add",
            "blacklist.remove",
            "blacklist.remove",
        ]
        removal = events[2]
        assert removal.before is not None and '"removed_at": null' in removal.before
        assert removal.after is not None and '"removed_reason": "cleared"' in removal.after
        for entry in events:
            assert PHONE not in (entry.after or "") and CARD not in (entry.after or "")


def test_admin_api_needs_the_permission(api: tuple[TestClient, Platform]) -> None:
    client, _ = api
    service = login(client, "cs1")
    url = "/api/v1/admin/blacklist"
    for method, path, options in (
        ("GET", url, {}),
        ("POST", url, {"json": {"kind": "phone", "value": PHONE, "reason": "x"}}),
        ("DELETE", f"{url}/1", {"params": {"reason": "x"}}),
    ):
        response = client.request(method, path, headers=service, **options)
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "PERMISSION_DENIED"
        assert PHONE not in response.text
    assert client.get(url).status_code == 401


# ------------------------------------------------------------------ command line


@pytest.fixture
def cli_database(tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", "200")
    url = f"sqlite:///{tmp_path / 'blacklist.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(["risk", "blacklist", *args])
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_cli(
    capsys: pytest.CaptureFixture[str], cli_database: str, settings: Settings, tmp_path: Path
) -> None:
    db = ("--database", cli_database)
    actor = ("--actor", "risk1")
    code, out, _ = run(
        capsys,
        "add",
        "--kind",
        "phone",
        "--value",
        "+86 138-0013-8000",
        "--reason",
        "ring",
        *actor,
        *db,
    )
    assert code == 0 and "added entry 1: phone 138****8000" in out
    code, _, err = run(
        capsys, "add", "--kind", "phone", "--value", PHONE, "--reason", "again", *actor, *db
    )
    assert code == 2 and "already on the phone blacklist" in err and PHONE not in err
    code, _, err = run(
        capsys,
        "add",
        "--kind",
        "card",
        "--value",
        CARD,
        "--reason",
        "x",
        "--expires",
        "2020-01-01",
        *actor,
        *db,
    )
    assert code == 2 and "expires_at" in err
    code, out, _ = run(
        capsys,
        "add",
        "--kind",
        "card",
        "--value",
        CARD,
        "--reason",
        "stolen",
        "--expires",
        "2099-12-31",
        *actor,
        *db,
    )
    assert code == 0 and "6222 **** **** 0123 until 2099-12-31 00:00" in out

    sessions = make_session_factory(make_engine(cli_database))
    with sessions() as session:
        hashes = set(session.scalars(select(BlacklistRecord.value_hash)))
    cipher = PiiCipher(settings.key_bytes("pii"))  # the platform's key: the API sees them
    assert hashes == {cipher.lookup_hash("phone", PHONE), cipher.lookup_hash("card", CARD)}

    code, out, _ = run(capsys, "list", *db)
    assert code == 0 and "138****8000" in out and "6222 **** **** 0123" in out
    assert PHONE not in out and "2 entries" in out
    code, out, _ = run(capsys, "remove", "1", "--reason", "cleared", "--actor", "risk2", *db)
    assert code == 0 and "removed entry 1" in out
    code, _, err = run(capsys, "remove", "1", "--reason", "again", *actor, *db)
    assert code == 2 and "already removed" in err
    code, out, _ = run(capsys, "list", "--kind", "phone", *db)
    assert "0 entries" in out
    code, out, _ = run(capsys, "list", "--all", *db)
    assert "removed" in out and "2 entries" in out

    file = tmp_path / "list.csv"
    file.write_text(
        "\ufeffkind,value,reason,expires_at\n"
        f"device,{DEVICE},farm,\n"
        f"card,{CARD},dup,\n"
        "email,x@y.z,bad,\n"
        f"id_number,{ID_NUMBER},stolen,2030-01-01\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "import", str(file), *actor, *db)
    assert code == 1
    assert "rows 4" in out and "added 2" in out and "already listed 1" in out and "bad 1" in out
    assert "email" in out and CARD not in out and ID_NUMBER not in out.lower()
    code, _, err = run(capsys, "import", str(tmp_path / "missing.csv"), *actor, *db)
    assert code == 2
    code, _, err = run(capsys, "list", "--kind", "email", *db)
    assert code == 2 and "kind" in err
