"""The console's lists as their tests meet them: the ASGI app in this process on a database
of its own — SQLite and PostgreSQL (`lists` is parametrised, one database per test module
and backend) — holding the synthetic lender of `bench.console_book` (a few hundred loans
across channels, their borrowers, applications, payouts, withholdings, journal, snapshots
and audit trail), a staff member of every role (the agent of channel agent_a) and a
Starlette test client.

Use it with `from tests.api.lists_support import lists_fixture  # noqa: F401`.
"""

from __future__ import annotations

import socket
import threading
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PASSWORD = "correct-horse-battery-9"
START = date(2026, 3, 2)
LOANS = 300
ROLE_USERS = {
    "customer_manager": "manager",
    "customer_service": "service",
    "agent": "agent",
    "risk": "risk",
    "finance": "finance",
    "operations": "ops",
    "collector": "collector",
    "admin": "admin",
}
AGENT_CHANNEL = "agent_a"


@dataclass
class Lists:
    app: FastAPI
    client: TestClient
    database_url: str
    backend: str
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def platform(self) -> Any:
        return self.app.state.platform

    def auth(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            response = self.client.post(
                "/api/v1/admin/auth/login", json={"username": username, "password": PASSWORD}
            )
            assert response.status_code == 200, response.text
            self.tokens[username] = response.json()["token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def get(self, username: str, path: str, **params: Any) -> Any:
        response = self.client.get(path, headers=self.auth(username), params=params)
        assert response.status_code == 200, response.text
        return response.json()


_HELD_PORTS: list[socket.socket] = []  # kept open for the whole run


def build_lists_platform(url: str, folder: Path, *, loans: int = LOANS) -> Any:
    """A platform on `url` (migrated, empty) with the synthetic lender and a staff member
    of every role."""
    from xindai.bench.console_book import build_console_book
    from xindai.bootstrap import bootstrap
    from xindai.platform import Platform
    from xindai.security.staff import StaffService
    from xindai.settings import Settings
    from xindai.store import migrate
    from xindai.store.db import make_engine, session_factory

    engine = make_engine(url)
    migrate.upgrade(engine)
    # a port nobody serves: bound (so no later server of the run gets it) but not listening
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    _HELD_PORTS.append(held)
    nowhere = f"http://127.0.0.1:{held.getsockname()[1]}"
    settings = Settings(data_dir=folder, database_url=url, providers_url=nowhere)
    platform = Platform.from_settings(
        settings, sessions=session_factory(engine), clock=lambda: datetime(2026, 3, 2, 12, 0)
    )
    with engine.begin() as connection:
        build_console_book(connection, platform.cipher, loans=loans, start=START, snapshot_days=5)
    staff = {user: role for role, user in ROLE_USERS.items() if role not in ("admin", "agent")}
    bootstrap(
        platform.sessions,
        cipher=platform.cipher,
        today=START,
        admin_password=PASSWORD,
        staff=staff,
    )
    with platform.sessions.begin() as session:
        StaffService(platform.sessions, platform.cipher).create(
            session,
            username="agent",
            password=PASSWORD,
            role="agent",
            channel=AGENT_CHANNEL,
            now=platform.clock(),
        )
    return platform


@pytest.fixture(
    name="lists",
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    ],
)
def lists_fixture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lists]:
    from tests.conftest import _create_pg_database, _drop_pg_database, _pg_admin_url

    from xindai.api.app import create_app
    from xindai.settings import Settings, override_settings

    folder = tmp_path_factory.mktemp(f"lists-{request.param}-{uuid.uuid4().hex[:6]}")
    admin = None
    if request.param == "sqlite":
        url = f"sqlite:///{(folder / 'lists.db').as_posix()}"
    else:
        admin = request.getfixturevalue("pg_admin")
        name = _create_pg_database(admin)
        url = make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False)
    try:
        with override_settings(Settings(data_dir=folder, database_url=url)):
            platform = build_lists_platform(url, folder)
            app = create_app(platform)
            before = set(threading.enumerate())
            with TestClient(app, raise_server_exceptions=False) as client:
                yield Lists(app, client, url, request.param)
            for thread in set(threading.enumerate()) - before:  # e.g. a close of business
                thread.join(timeout=120)  # a route started: it ends before the database does
            platform.sessions.kw["bind"].dispose()
    finally:
        if admin is not None:
            _drop_pg_database(admin, make_url(url).database or "")
