"""What every service of the borrower journey shares: the error of a step taken out of order,
the platform, and look-ups of the borrower, the application and the business date."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from xindai.errors import XindaiError
from xindai.platform import Platform
from xindai.store import repository as repo
from xindai.store.models import Borrower
from xindai.store.models_origination import Application


class JourneyError(XindaiError):
    """A step taken out of order or on something that is not the borrower's."""

    def __init__(self, code: str, en: str, zh: str):
        super().__init__(en, zh, code=code)


def not_found(what: str, zh: str) -> repo.NotFound:
    return repo.NotFound(f"{what} not found", f"{zh}不存在")


class JourneyBase:
    """What every step of the journey needs: the platform and the look-ups by id."""

    def __init__(self, platform: Platform):
        self.p = platform

    def _borrower(self, session: Session, borrower_id: int) -> Borrower:
        borrower = session.get(Borrower, borrower_id)
        if borrower is None:
            raise not_found("borrower", "借款人")
        return borrower

    def _application(
        self, session: Session, borrower_id: int | None, application_id: int, *, lock: bool = False
    ) -> Application:
        query = select(Application).where(Application.id == application_id)
        if lock:
            query = query.with_for_update()
        application = session.scalars(query).one_or_none()
        if application is None or (
            borrower_id is not None and application.borrower_id != borrower_id
        ):
            raise not_found("application", "申请")  # never reveal another borrower's
        return application

    def _today(self, session: Session) -> date:
        """The business date read in the caller's transaction (never a second connection:
        on SQLite a second writer would wait for the first)."""
        return repo.get_business_date(session) or self.p.clock().date()
