"""The admin API of the console as its tests meet it: the ASGI app in this process on a
migrated database of its own — SQLite and PostgreSQL (`console` is parametrised, one
database per test module and backend) — with a staff member of every role (two of finance,
operations and risk, for maker-checker), a Starlette test client, and helpers to book and
pay out loans through the real `LoanService` and to run close of business.

Use it from a test module with `from .console_support import console_fixture  # noqa: F401`
(the fixture is named `console`).
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.engine import make_url

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PASSWORD = "correct-horse-battery-9"
STAFF = {
    "service": "customer_service",
    "manager": "customer_manager",
    "reviewer": "risk",
    "risk2": "risk",
    "finance": "finance",
    "finance2": "finance",
    "ops": "operations",
    "ops2": "operations",
    "collector": "collector",
}
AGENT = ("agent", "agent", "partner-a")


@dataclass
class Console:
    app: FastAPI
    client: TestClient
    database_url: str
    backend: str

    @property
    def platform(self) -> Any:
        return self.app.state.platform

    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, username: str = "admin") -> dict[str, str]:
        """A staff session of `username` (one login per user and module)."""
        if username not in self.tokens:
            response = self.client.post(
                "/api/v1/admin/auth/login", json={"username": username, "password": PASSWORD}
            )
            assert response.status_code == 200, response.text
            self.tokens[username] = response.json()["token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def call(self, method: str, path: str, who: str, status: int = 200, **kwargs: Any) -> Any:
        """`method path` as staff member `who`; asserts the status; the JSON answer."""
        response = self.client.request(
            method, f"/api/v1/admin{path}", headers=self.auth(who), **kwargs
        )
        assert response.status_code == status, (path, response.status_code, response.text)
        return response.json() if response.content else None

    def refused(self, method: str, path: str, who: str, status: int, code: str, **kwargs: Any):
        body = self.call(method, path, who, status, **kwargs)
        assert body["code"] == code, body
        return body

    # ------------------------------------------------------------ the book

    def business_date(self) -> date:
        day: date = self.platform.business_date()
        return day

    def book(self, code: str = "CASH14", amount_fen: int = 100_000, term: int = 14) -> int:
        """A loan booked and paid out today through `LoanService` (a borrower of its own)."""
        from xindai.store import repository as repo
        from xindai.store.models import Borrower

        p = self.platform
        today = self.business_date()
        with p.sessions.begin() as session:
            borrower = Borrower(display_name="张*", channel="default", created_on=today)
            session.add(borrower)
            session.flush()
            borrower_id = borrower.id
            product = _active(session, code)
            product = repo.load_product(session, product[0], product[1])
        loan_id: int = p.loans.book_loan(
            product, borrower_id=borrower_id, amount_fen=amount_fen, term=term, start=today
        )
        p.loans.disburse(loan_id, value_date=today, external_ref=f"PO-{uuid.uuid4().hex[:12]}")
        return loan_id

    def close_days(self, days: int) -> None:
        """Close of business for the current business date and the `days - 1` after it."""
        from xindai.cob.runner import run_cob

        run_cob(self.platform.sessions, until=self.business_date() + timedelta(days=days - 1))

    def give_case(self, loan_id: int, username: str = "collector") -> None:
        """The overdue loan's collection case, opened by a day of close of business with the
        collection steps, assigned by hand to collector `username` (a collector sees only
        its cases' loans)."""
        from xindai.cob.runner import run_cob
        from xindai.collections.assign import assign_case
        from xindai.collections.cob import registry_for
        from xindai.store.models_collections import CollectionCase
        from xindai.store.models_origination import StaffUser

        sessions = self.platform.sessions
        run_cob(sessions, until=self.business_date(), registry=registry_for(self.platform))
        with sessions() as session:
            case_id = session.scalar(
                select(CollectionCase.id).where(
                    CollectionCase.loan_id == loan_id, CollectionCase.status == "open"
                )
            )
            staff_id = session.scalar(select(StaffUser.id).where(StaffUser.username == username))
        assert case_id is not None and staff_id is not None, (loan_id, username)
        assign_case(
            sessions, self.platform.clock, "test", case_id,
            staff_id=staff_id, agency_id=None, reason="test",
        )  # fmt: skip


def _active(session: Any, code: str) -> tuple[str, int]:
    from xindai.store.models import ProductRecord

    row = session.execute(
        select(ProductRecord.code, ProductRecord.version)
        .where(ProductRecord.code == code, ProductRecord.status == "active")
        .order_by(ProductRecord.version.desc())
    ).first()
    assert row is not None, code
    return str(row[0]), int(row[1])


def _pg_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL database of this module's own on the test server, dropped after."""
    import os

    import psycopg

    admin = request.getfixturevalue("pg_admin")  # skips (or fails) without a server
    name = f"xindai_console_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        server = os.environ.get("XINDAI_TEST_PG_URL") or (
            "postgresql://postgres@/postgres?host=/var/run/postgresql"
        )
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(
    name="console",
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite", marks=pytest.mark.db),
        pytest.param("postgresql", id="postgresql", marks=[pytest.mark.db, pytest.mark.postgresql]),
    ],
)
def console_fixture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Console]:
    from xindai.api.app import create_app
    from xindai.bootstrap import bootstrap
    from xindai.platform import Platform
    from xindai.security.staff import StaffService
    from xindai.settings import Settings, override_settings
    from xindai.store import migrate

    folder = tmp_path_factory.mktemp(f"console-{request.param}")
    databases = (
        iter([f"sqlite:///{(folder / 'xindai.db').as_posix()}"])
        if request.param == "sqlite"
        else _pg_database(request)
    )
    url = next(databases)
    try:
        settings = Settings(
            data_dir=folder,
            database_url=url,
            provider_secret="console-secret",
            providers_url="http://127.0.0.1:9",  # no provider: these tests need none
        )
        with override_settings(settings):
            migrate.upgrade(url)
            platform = Platform.from_settings(settings)
            bootstrap(
                platform.sessions,
                cipher=platform.cipher,
                today=platform.clock().date(),
                admin_password=PASSWORD,
                staff=STAFF,
            )
            username, role, channel = AGENT
            with platform.sessions.begin() as session:
                StaffService(platform.sessions, platform.cipher).create(
                    session,
                    username=username,
                    password=PASSWORD,
                    role=role,
                    channel=channel,
                    now=platform.clock(),
                )
            app = create_app(platform)
            with TestClient(app, raise_server_exceptions=False) as client:
                yield Console(app, client, url, request.param)
            platform.sessions.kw["bind"].dispose()
    finally:
        next(databases, None)
