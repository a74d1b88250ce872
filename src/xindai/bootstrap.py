"""Prepare a database for serving: schema, chart of accounts, role permissions, products,
the business date, and optionally a first administrator. Idempotent."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xindai import clock
from xindai.ledger.journal import ensure_chart
from xindai.products.catalogue import demo_products
from xindai.risk.service import ensure_default_strategy
from xindai.security.pii import PiiCipher
from xindai.security.rbac import seed_permissions
from xindai.security.staff import StaffService
from xindai.store import repository as repo
from xindai.store.models import ProductRecord
from xindai.store.models_origination import StaffUser


def bootstrap(
    sessions: sessionmaker[Session],
    *,
    cipher: PiiCipher,
    today: date,
    admin_password: str | None = None,
    staff: dict[str, str] | None = None,
    strategy_name: str = "origination",
) -> None:
    """Seed what a fresh platform needs; `staff` maps username → role (password
    `admin_password`) for the demo and tests."""
    with sessions.begin() as session:
        ensure_chart(session)
        seed_permissions(session)
        if session.scalars(select(ProductRecord.code)).first() is None:
            for product in demo_products():
                repo.save_product(
                    session,
                    product,
                    created_by="bootstrap",
                    approved_by="bootstrap",
                    activated_on=today,
                )
        if repo.get_business_date(session) is None:
            repo.set_business_date(session, today)
        ensure_default_strategy(
            session,
            strategy_name,
            actor="bootstrap",
            at=datetime.combine(today, datetime.min.time()).isoformat(),
        )
        if admin_password:
            service = StaffService(sessions, cipher)
            for username, role in ({"admin": "admin"} | (staff or {})).items():
                if (
                    session.scalars(
                        select(StaffUser.id).where(StaffUser.username == username)
                    ).first()
                    is None
                ):
                    service.create(
                        session,
                        username=username,
                        password=admin_password,
                        role=role,
                        now=clock.now(),
                        actor="bootstrap",
                    )
