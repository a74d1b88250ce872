"""The running platform's collaborators in one place: database sessions, the personal-data
cipher, SMS codes, the external providers and the services. Built from the settings once per
process (the API server, the CLI, tests)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from xindai.clock import now as clock_now
from xindai.integrations.http import HttpProviders
from xindai.security.otp import OtpService
from xindai.security.pii import PiiCipher
from xindai.servicing.service import LoanService
from xindai.settings import Settings, get_settings
from xindai.store import repository as repo
from xindai.store.db import make_engine, session_factory, transaction

if TYPE_CHECKING:
    from xindai.risk.service import DecisionService


@dataclass
class Platform:
    settings: Settings
    sessions: sessionmaker[Session]
    cipher: PiiCipher
    providers: HttpProviders
    clock: Callable[[], datetime] = clock_now
    otp: OtpService = field(init=False)
    loans: LoanService = field(init=False)

    def __post_init__(self) -> None:
        self.otp = OtpService(self.sessions, self.cipher.lookup_key, clock=self.clock)
        self.loans = LoanService(self.sessions)

    @classmethod
    def from_settings(
        cls,
        settings: Settings | None = None,
        *,
        sessions: sessionmaker[Session] | None = None,
        clock: Callable[[], datetime] = clock_now,
    ) -> Platform:
        settings = settings or get_settings()
        return cls(
            settings=settings,
            sessions=sessions or session_factory(make_engine(settings.database_url)),
            cipher=PiiCipher(settings.key_bytes("pii")),
            providers=HttpProviders.at(settings.providers_url, settings.provider_secret),
            clock=clock,
        )

    def reads(self) -> AbstractContextManager[Session]:
        """A read transaction: it must not write, and takes no write lock (SQLite: a deferred
        BEGIN, which in WAL mode never waits for a writer; PostgreSQL: READ ONLY), so that
        token checks, quotes and views do not queue behind payments and close of business."""
        return transaction(self.sessions, read_only=True)

    def business_date(self) -> date:
        with self.reads() as session:
            return repo.get_business_date(session) or self.clock().date()

    @cached_property
    def decisions(self) -> DecisionService:
        """The decision service (built on first use: it compiles strategies, loads models)."""
        from xindai.risk.service import DecisionService

        return DecisionService(self)

    @property
    def callback_url(self) -> str:
        return f"{self.settings.public_url.rstrip('/')}/api/v1/callbacks/payment"
