"""Collections as their tests meet them: the ASGI app in this process on a migrated database
of its own — SQLite and PostgreSQL (`desk` is parametrised, one database per module and
backend) — with the provider simulators as their own process (the SMS gateway), a clock the
test sets (quiet hours are the debtor's wall clock), collectors, an agency's users,
operations and finance, and helpers to book loans of borrowers with a mobile and emergency
contacts and to run close of business with the collection steps.

Use it with `from tests.collections.support import desk_fixture  # noqa: F401`.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from tests.api.console_support import _active, _pg_database

from xindai.integrations.simulators.config import SimulatorConfig
from xindai.integrations.simulators.process import SimulatorProcess

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PASSWORD = "correct-horse-battery-9"
SECRET = "collections-secret"
START = datetime(2026, 3, 2, 10, 0)
STAFF = {
    "col1": "collector",
    "col2": "collector",
    "col3": "collector",
    "agency1": "collector",  # linked to agency A by the tests
    "agency2": "collector",  # linked to agency B
    "ops": "operations",
    "ops2": "operations",
    "finance": "finance",
    "reviewer": "risk",
}


@dataclass
class Clock:
    """The platform's wall clock (naive CST), moved by the tests."""

    at: datetime = START

    def __call__(self) -> datetime:
        return self.at


@dataclass
class Desk:
    app: FastAPI
    client: TestClient
    sim: SimulatorProcess
    clock: Clock
    backend: str
    database_url: str
    tokens: dict[str, str] = field(default_factory=dict)
    phones: int = 0

    @property
    def platform(self) -> Any:
        return self.app.state.platform

    def auth(self, username: str) -> dict[str, str]:
        """A session of `username`, signed in again once the clock moved (sessions
        expire on the platform's clock)."""
        username_day = f"{username}@{self.clock.at.isoformat()}"
        if username_day not in self.tokens:
            response = self.client.post(
                "/api/v1/admin/auth/login", json={"username": username, "password": PASSWORD}
            )
            assert response.status_code == 200, response.text
            self.tokens[username_day] = response.json()["token"]
        return {"Authorization": f"Bearer {self.tokens[username_day]}"}

    def call(self, method: str, path: str, who: str, status: int = 200, **kwargs: Any) -> Any:
        response = self.client.request(
            method, f"/api/v1/admin/collections{path}", headers=self.auth(who), **kwargs
        )
        assert response.status_code == status, (path, response.status_code, response.text)
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.content

    def refused(self, method: str, path: str, who: str, status: int, code: str, **kw: Any) -> Any:
        body = self.call(method, path, who, status, **kw)
        assert body["code"] == code, body
        return body

    def staff_id(self, username: str) -> int:
        from sqlalchemy import select

        from xindai.store.models_origination import StaffUser

        with self.platform.reads() as session:
            return int(session.scalar(select(StaffUser.id).where(StaffUser.username == username)))

    def early_queue(self, *collectors: str, **extra: Any) -> Any:
        """M1 (DPD 1-30, in-house, round robin) worked by `collectors`, as ops sets it;
        `extra` adds to the queue's fields. Returns the queue as the API answers."""
        return self.call(
            "PUT",
            "/queues/M1",
            "ops",
            json={
                "name_zh": "M1 早期催收",
                "name_en": "M1 early",
                "dpd_min": 1,
                "dpd_max": 30,
                "owner": "inhouse",
                "allocation": "round_robin",
                **extra,
                "members": [{"staff_id": self.staff_id(name)} for name in collectors],
            },
        )

    # ------------------------------------------------------------ the book

    def business_date(self) -> date:
        day: date = self.platform.business_date()
        return day

    def new_phone(self) -> str:
        self.phones += 1
        return f"139{uuid.uuid4().int % 10_000:04d}{self.phones:04d}"

    def borrower(self) -> int:
        """A borrower with a mobile and two emergency contacts (a parent, a friend)."""
        from xindai.store.models import Borrower
        from xindai.store.models_origination import Contact

        cipher = self.platform.cipher
        mobile = self.new_phone()
        with self.platform.sessions.begin() as session:
            borrower = Borrower(
                display_name="张*",
                channel="default",
                created_on=self.business_date(),
                mobile_hash=cipher.lookup_hash("phone", mobile),
                mobile_enc=cipher.encrypt("phone", mobile),
            )
            session.add(borrower)
            session.flush()
            for seq, relation in ((1, "parent"), (2, "friend")):
                phone = self.new_phone()
                session.add(
                    Contact(
                        borrower_id=borrower.id,
                        seq=seq,
                        name_enc=cipher.encrypt("name", "联系人"),
                        phone_enc=cipher.encrypt("phone", phone),
                        phone_hash=cipher.lookup_hash("phone", phone),
                        relation=relation,
                    )
                )
            return int(borrower.id)

    def book(
        self,
        code: str = "CASH14",
        amount_fen: int = 100_000,
        term: int = 14,
        city: str = "深圳",
        borrower_id: int | None = None,
    ) -> int:
        """A loan booked and paid out today through `LoanService` (of a new `borrower()`
        unless one is given), with an application naming `city` (the debtor's region)."""
        from xindai.store import repository as repo
        from xindai.store.models_origination import Application

        p = self.platform
        today = self.business_date()
        if borrower_id is None:
            borrower_id = self.borrower()
        with p.sessions.begin() as session:
            product = repo.load_product(session, *_active(session, code))
        loan_id: int = p.loans.book_loan(
            product, borrower_id=borrower_id, amount_fen=amount_fen, term=term, start=today
        )
        p.loans.disburse(loan_id, value_date=today, external_ref=f"PO-{uuid.uuid4().hex[:12]}")
        with p.sessions.begin() as session:
            session.add(
                Application(
                    borrower_id=borrower_id,
                    product_code=code,
                    product_version=1,
                    amount_fen=amount_fen,
                    term=term,
                    purpose="consumption",
                    card_id=0,
                    status="disbursed",
                    annual_rate="0.18",
                    apr="0.18",
                    quote="{}",
                    loan_id=loan_id,
                    created_at=self.clock(),
                    city=city,
                )
            )
        return loan_id

    def close_days(self, days: int) -> Any:
        """Close of business with the collection steps (no withholding: no cards here) for
        the business date and the `days - 1` after it; the clock follows the dates."""
        from xindai.cob.runner import run_cob
        from xindai.collections.cob import registry_for

        until = self.business_date() + timedelta(days=days - 1)
        summary = run_cob(
            self.platform.sessions,
            until=until,
            registry=registry_for(self.platform, withholding=False),
        )
        self.clock.at = datetime.combine(self.business_date(), self.clock.at.time())
        return summary


@pytest.fixture(
    name="desk",
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite", marks=pytest.mark.db),
        pytest.param("postgresql", id="postgresql", marks=[pytest.mark.db, pytest.mark.postgresql]),
    ],
)
def desk_fixture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Desk]:
    from xindai.api.app import create_app
    from xindai.bootstrap import bootstrap
    from xindai.platform import Platform
    from xindai.settings import Settings, override_settings
    from xindai.store import migrate
    from xindai.store.db import make_engine, session_factory

    folder = tmp_path_factory.mktemp(f"collections-{request.param}")
    databases = (
        iter([f"sqlite:///{(folder / 'xindai.db').as_posix()}"])
        if request.param == "sqlite"
        else _pg_database(request)
    )
    url = next(databases)
    try:
        with SimulatorProcess(SimulatorConfig(secret=SECRET, seed=7)) as sim:
            settings = Settings(
                data_dir=folder,
                database_url=url,
                provider_secret=SECRET,
                providers_url=sim.base_url,
            )
            clock = Clock()
            with override_settings(settings):
                migrate.upgrade(url)
                platform = Platform.from_settings(
                    settings, sessions=session_factory(make_engine(url)), clock=clock
                )
                bootstrap(
                    platform.sessions,
                    cipher=platform.cipher,
                    today=START.date(),
                    admin_password=PASSWORD,
                    staff=STAFF,
                )
                app = create_app(platform)
                with TestClient(app, raise_server_exceptions=False) as client:
                    yield Desk(app, client, sim, clock, request.param, url)
                platform.sessions.kw["bind"].dispose()
    finally:
        next(databases, None)
