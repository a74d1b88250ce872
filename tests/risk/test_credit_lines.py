"""Credit lines (预授信额度): available = limit − outstanding principal, draws that become
approved applications with a `credit_line` decision, every refusal typed, staff freezing —
through the service and through the real ASGI app, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from xindai.api.app import create_app
from xindai.bootstrap import bootstrap
from xindai.errors import InvalidValue, XindaiError
from xindai.origination.agreements import REGISTRATION_AGREEMENTS, agreement
from xindai.platform import Platform
from xindai.risk.credit_lines import (
    CREDIT_LINE_PATH,
    CreditLineError,
    CreditLineNotFound,
    CreditLineService,
)
from xindai.risk.precredit import run_precredit
from xindai.security import audit, tokens
from xindai.settings import Settings
from xindai.store.models import Borrower, Loan
from xindai.store.models_origination import (
    AgreementAcceptance,
    Application,
    BankCard,
    Contact,
    DecisionRecord,
)
from xindai.store.models_risk import BlacklistRecord, CreditLine

TODAY = date(2025, 3, 1)
NOW = datetime(2025, 3, 1, 10, 0)
PASSWORD = "correct-horse-battery-9"


@dataclass
class World:
    platform: Platform
    service: CreditLineService
    borrower_id: int
    card_id: int
    line_id: int


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def add_loan(
    session: Session,
    borrower_id: int,
    *,
    status: str,
    max_dpd: int = 0,
    dpd: int = 0,
    outstanding_fen: int = 0,
    closed_on: date | None = None,
) -> None:
    session.add(
        Loan(
            borrower_id=borrower_id,
            product_code="INST12",
            product_version=1,
            status=status,
            principal_fen=200_000,
            annual_rate="0.24",
            term=3,
            booked_on=date(2024, 6, 1),
            closed_on=closed_on,
            principal_outstanding_fen=outstanding_fen,
            dpd=dpd,
            max_dpd=max(max_dpd, dpd),
        )
    )


def add_borrower(session: Session, platform: Platform, name: str) -> tuple[int, int]:
    """A KYC-verified borrower with a verified card and two settled loans (ladder level 2)."""
    phone = f"1381234{len(name):02d}{ord(name[0]) % 100:02d}"
    borrower = Borrower(
        display_name=name,
        created_on=date(2024, 1, 1),
        mobile_hash=platform.cipher.lookup_hash("phone", phone),
        id_number_hash=digest(f"id:{name}"),
        birth_date=date(1990, 5, 1),
        kyc_status="verified",
    )
    session.add(borrower)
    session.flush()
    card = BankCard(
        borrower_id=borrower.id,
        card_hash=digest(f"card:{name}"),
        card_enc=platform.cipher.encrypt("card", "6222020200112233445"),
        last4="3445",
        bank_code="ICBC",
        bank_name="工商银行",
        phone_enc=platform.cipher.encrypt("phone", phone),
        status="verified",
        created_at=NOW,
    )
    session.add(card)
    for code in REGISTRATION_AGREEMENTS:  # the journey's earlier steps: agreements, contacts
        session.add(
            AgreementAcceptance(
                borrower_id=borrower.id,
                code=code.value,
                version=agreement(code).version,
                accepted_at=NOW,
            )
        )
    for seq in (1, 2):
        contact = f"1390000{seq:04d}"
        session.add(
            Contact(
                borrower_id=borrower.id,
                seq=seq,
                name_enc=platform.cipher.encrypt("name", "联系人"),
                phone_enc=platform.cipher.encrypt("phone", contact),
                phone_hash=platform.cipher.lookup_hash("phone", contact),
                relation="friend",
            )
        )
    for k in range(2):
        add_loan(session, borrower.id, status="settled", closed_on=date(2024, 7, 1 + k))
    session.flush()
    return borrower.id, card.id


@pytest.fixture
def world(session_factory: sessionmaker[Session], settings: Settings) -> World:
    platform = Platform.from_settings(settings, sessions=session_factory, clock=lambda: NOW)
    bootstrap(
        session_factory,
        cipher=platform.cipher,
        today=TODAY,
        admin_password=PASSWORD,
        staff={"rita": "risk", "carl": "customer_service"},
    )
    with session_factory.begin() as session:
        borrower_id, card_id = add_borrower(session, platform, "Wang")
        # an open, current loan: 1,000 yuan of principal outstanding
        add_loan(session, borrower_id, status="active", outstanding_fen=100_000)
    summary = run_precredit(session_factory, as_of=TODAY, now=NOW, line_days=180)
    assert summary.granted == 1
    with session_factory() as session:
        line_id = session.scalars(
            select(CreditLine.id).where(CreditLine.borrower_id == borrower_id)
        ).one()
    return World(platform, CreditLineService(platform), borrower_id, card_id, line_id)


def draw(world: World, amount_fen: int = 300_000, **changes: object) -> Application:
    arguments: dict[str, object] = {
        "product_code": "INST12",
        "amount_fen": amount_fen,
        "term": 3,
        "purpose": "consumption",
        "card_id": world.card_id,
        "device_fingerprint": "dev-1",
        "ip": "10.0.0.8",
    } | changes
    return world.service.draw(world.borrower_id, **arguments)  # type: ignore[arg-type]


def refused(world: World, **changes: object) -> XindaiError:
    with pytest.raises(XindaiError) as info:
        draw(world, **changes)  # type: ignore[arg-type]
    return info.value


# ------------------------------------------------------------------ view


def test_available_is_limit_minus_outstanding(world: World) -> None:
    view = world.service.view(world.borrower_id)
    assert (view.limit_fen, view.level, view.status) == (450_000, 2, "active")
    assert (view.outstanding_fen, view.available_fen) == (100_000, 350_000)
    assert view.expires_on == TODAY + timedelta(days=180) and not view.expired and view.can_draw
    assert view.as_json()["available"] == "3500.00"
    # more outstanding than the limit: nothing available, never negative
    with world.platform.sessions.begin() as session:
        add_loan(session, world.borrower_id, status="active", outstanding_fen=400_000)
    view = world.service.view(world.borrower_id)
    assert (view.outstanding_fen, view.available_fen, view.can_draw) == (500_000, 0, False)
    with pytest.raises(CreditLineNotFound) as info:
        world.service.view(world.borrower_id + 1000)
    assert info.value.code == "CREDIT_LINE_NOT_FOUND"


# ------------------------------------------------------------------ draws


def test_a_draw_is_an_approved_application_with_a_credit_line_decision(world: World) -> None:
    application = draw(world, 300_000)
    assert application.status == "approved" and application.credit_line_id == world.line_id
    assert application.approved_amount_fen == 300_000 and application.amount_fen == 300_000
    assert application.offered_rate == application.annual_rate and application.decided_at == NOW
    quote = json.loads(application.quote)
    assert len(quote["installments"]) == 3
    with world.platform.sessions() as session:
        decision = session.scalars(
            select(DecisionRecord).where(DecisionRecord.application_id == application.id)
        ).one()
        stored = session.get(Application, application.id)
        assert stored is not None and stored.device_hash is not None
    assert (decision.path, decision.outcome) == (CREDIT_LINE_PATH, "approve")
    assert json.loads(decision.reasons) == [] and decision.approved_amount_fen == 300_000
    assert decision.rate == application.offered_rate
    detail = json.loads(decision.detail)
    assert detail["line_limit_fen"] == 450_000 and detail["outstanding_fen"] == 100_000
    assert detail["available_before_fen"] == 350_000 and detail["available_after_fen"] == 50_000
    assert "within_available" in detail["checks_passed"]

    # one application at a time: the approved draw is in progress until it is paid out
    again = refused(world, amount_fen=100_000)
    assert again.code == "APPLICATION_IN_PROGRESS"


def test_a_draw_of_exactly_what_is_available(world: World) -> None:
    assert draw(world, 350_000).approved_amount_fen == 350_000


def test_draws_refused(world: World, session_factory: sessionmaker[Session]) -> None:
    error = refused(world, amount_fen=360_000)
    assert error.code == "CREDIT_LINE_INSUFFICIENT" and "3500.00" in error.message_en
    assert "可用额度" in error.message_zh
    assert isinstance(refused(world, amount_fen=10_000), InvalidValue)  # under the product's min
    assert isinstance(refused(world, term=5), InvalidValue)
    assert isinstance(refused(world, product_code="NOPE"), InvalidValue)
    assert refused(world, purpose="gambling").code == "PURPOSE_INVALID"
    assert refused(world, card_id=world.card_id + 99).code == "NOT_FOUND"

    with session_factory.begin() as session:
        session.add(
            BlacklistRecord(
                kind="device",
                value_hash=world.platform.cipher.lookup_hash("device", "dev-blocked"),
                value_masked="dev***",
                reason="emulator farm",
                source="manual",
                created_by="rita",
                created_at=datetime(2025, 1, 1),
            )
        )
    blocked = refused(world, device_fingerprint="dev-blocked")
    assert blocked.code == "CREDIT_LINE_REFUSED" and "blacklist" not in blocked.message_en

    with session_factory.begin() as session:
        session.execute(update(BankCard).values(status="pending"))
    assert refused(world).code == "CARD_NOT_VERIFIED"
    with session_factory.begin() as session:
        session.execute(update(BankCard).values(status="verified"))
        session.execute(update(Loan).where(Loan.status == "active").values(dpd=1, status="overdue"))
    assert refused(world).code == "CREDIT_LINE_LOAN_OVERDUE"
    with session_factory.begin() as session:
        session.execute(update(Loan).where(Loan.status == "overdue").values(dpd=0, status="active"))
        session.execute(update(CreditLine).values(expires_on=TODAY - timedelta(days=1)))
    assert refused(world).code == "CREDIT_LINE_EXPIRED"
    with session_factory.begin() as session:
        session.execute(update(CreditLine).values(expires_on=TODAY))  # the last day: drawable
    assert draw(world).status == "approved"

    with session_factory.begin() as session:  # nothing was created by the refusals
        count = len(session.scalars(select(Application.id)).all())
    assert count == 1


def test_kyc_and_missing_line(world: World, session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        session.execute(update(Borrower).values(kyc_status="none"))
    assert refused(world).code == "KYC_REQUIRED"
    with session_factory.begin() as session:
        session.execute(update(Borrower).values(kyc_status="verified"))
        session.execute(delete(Contact).where(Contact.seq == 2))
    assert refused(world).code == "CONTACTS_REQUIRED"  # a draw is an application too
    with session_factory.begin() as session:
        session.execute(delete(AgreementAcceptance))
    assert refused(world).code == "AGREEMENTS_REQUIRED"
    with pytest.raises(CreditLineNotFound):
        world.service.draw(
            world.borrower_id + 1000,
            product_code="INST12",
            amount_fen=100_000,
            term=3,
            purpose="consumption",
            card_id=world.card_id,
            device_fingerprint=None,
            ip=None,
        )


# ------------------------------------------------------------------ staff


def test_freeze_and_unfreeze_are_audited_and_hold_against_the_batch(
    world: World, session_factory: sessionmaker[Session]
) -> None:
    frozen = world.service.freeze(world.line_id, "rita", "customer reported a lost phone")
    assert frozen.status == "frozen" and frozen.freeze_reason == "STAFF_FROZEN"
    assert refused(world).code == "CREDIT_LINE_FROZEN"
    with pytest.raises(CreditLineError) as info:
        world.service.freeze(world.line_id, "rita", "again")
    assert info.value.code == "CREDIT_LINE_FROZEN"
    with pytest.raises(InvalidValue):
        world.service.unfreeze(world.line_id, "rita", "   ")

    # the next batch renews the line but leaves a staff freeze in place
    run_precredit(
        session_factory, as_of=TODAY + timedelta(days=1), now=NOW + timedelta(days=1), line_days=180
    )
    assert world.service.view(world.borrower_id).status == "frozen"

    active = world.service.unfreeze(world.line_id, "rita", "phone recovered")
    assert active.status == "active" and active.freeze_reason is None
    with pytest.raises(CreditLineError) as info:
        world.service.unfreeze(world.line_id, "rita", "again")
    assert info.value.code == "CREDIT_LINE_NOT_FROZEN"
    with session_factory() as session:
        events = audit.events_for(session, "credit_line", world.line_id)
    assert [e.action for e in events] == ["credit_line.freeze", "credit_line.unfreeze"]
    assert json.loads(events[0].before or "{}")["status"] == "active"
    assert json.loads(events[1].after or "{}")["status"] == "active"
    assert all(e.actor == "rita" for e in events)
    with pytest.raises(CreditLineNotFound):
        world.service.freeze(world.line_id + 1000, "rita", "no such line")


# ------------------------------------------------------------------ HTTP


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.platform), client=("10.0.0.8", 50000)) as http:
        yield http


def borrower_auth(world: World, borrower_id: int | None = None) -> dict[str, str]:
    with world.platform.sessions.begin() as session:
        token = tokens.issue_token(
            session, "borrower", borrower_id or world.borrower_id, now=NOW
        ).token
    return {"Authorization": f"Bearer {token}"}


def staff_auth(client: TestClient, username: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/admin/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_http_line_and_draw(world: World, client: TestClient) -> None:
    auth = borrower_auth(world)
    line = client.get("/api/v1/borrower/credit-line", headers=auth)
    assert line.status_code == 200, line.text
    body = line.json()
    assert (body["limit"], body["outstanding"], body["available"]) == (
        "4500.00",
        "1000.00",
        "3500.00",
    )
    assert body["status"] == "active" and body["level"] == 2 and body["can_draw"] is True

    request = {
        "product": "INST12",
        "amount": "4000",
        "term": 3,
        "purpose": "consumption",
        "card_id": world.card_id,
        "device_fingerprint": "dev-1",
    }
    too_much = client.post("/api/v1/borrower/credit-line/draws", headers=auth, json=request)
    assert too_much.status_code == 409, too_much.text
    error = too_much.json()
    assert error["code"] == "CREDIT_LINE_INSUFFICIENT"
    assert "3500.00" in error["message"]["en"] and "可用额度" in error["message"]["zh-CN"]

    keyed = {**auth, "Idempotency-Key": "draw-1"}
    ok = client.post(
        "/api/v1/borrower/credit-line/draws", headers=keyed, json={**request, "amount": "3000"}
    )
    assert ok.status_code == 201, ok.text
    application = ok.json()
    assert application["status"] == "approved" and application["amount"] == "3000.00"
    assert len(application["quote"]["installments"]) == 3
    replay = client.post(
        "/api/v1/borrower/credit-line/draws", headers=keyed, json={**request, "amount": "3000"}
    )
    assert replay.status_code == 201 and replay.json()["id"] == application["id"]
    assert replay.headers.get("Idempotent-Replay") == "true"
    fetched = client.get(f"/api/v1/borrower/applications/{application['id']}", headers=auth)
    assert fetched.status_code == 200 and fetched.json()["status"] == "approved"

    bad = client.post(
        "/api/v1/borrower/credit-line/draws", headers=auth, json={**request, "amount": "abc"}
    )
    assert bad.status_code == 400 and bad.json()["code"] == "INVALID_VALUE"
    assert bad.json()["field"] == "amount"
    missing = client.post("/api/v1/borrower/credit-line/draws", headers=auth, json={})
    assert missing.status_code == 422 and missing.json()["code"] == "VALIDATION_ERROR"
    anonymous = client.get("/api/v1/borrower/credit-line")
    assert anonymous.status_code == 401


def test_http_no_line_is_404(world: World, client: TestClient) -> None:
    with world.platform.sessions.begin() as session:
        other, _ = add_borrower(session, world.platform, "Li")
    response = client.get("/api/v1/borrower/credit-line", headers=borrower_auth(world, other))
    assert response.status_code == 404
    assert response.json()["code"] == "CREDIT_LINE_NOT_FOUND"
    assert response.json()["message"]["zh-CN"]


def test_http_admin_lines_freeze_unfreeze(world: World, client: TestClient) -> None:
    risk = staff_auth(client, "rita")
    listed = client.get("/api/v1/admin/credit-lines", params={"status": "active"}, headers=risk)
    assert listed.status_code == 200, listed.text
    assert [row["id"] for row in listed.json()] == [world.line_id]
    assert listed.json()[0]["available"] == "3500.00"
    none_frozen = client.get("/api/v1/admin/credit-lines?status=frozen", headers=risk)
    assert none_frozen.json() == []
    bad_status = client.get("/api/v1/admin/credit-lines?status=open", headers=risk)
    assert bad_status.status_code == 400

    frozen = client.post(
        f"/api/v1/admin/credit-lines/{world.line_id}/freeze",
        headers=risk,
        json={"reason": "suspected account takeover"},
    )
    assert frozen.status_code == 200, frozen.text
    assert frozen.json()["status"] == "frozen"
    again = client.post(
        f"/api/v1/admin/credit-lines/{world.line_id}/freeze", headers=risk, json={"reason": "x"}
    )
    assert again.status_code == 409 and again.json()["code"] == "CREDIT_LINE_FROZEN"
    unfrozen = client.post(
        f"/api/v1/admin/credit-lines/{world.line_id}/unfreeze",
        headers=risk,
        json={"reason": "verified by phone"},
    )
    assert unfrozen.status_code == 200 and unfrozen.json()["status"] == "active"
    missing = client.post(
        "/api/v1/admin/credit-lines/999999/freeze", headers=risk, json={"reason": "x"}
    )
    assert missing.status_code == 404

    service = staff_auth(client, "carl")  # customer service may not manage lines
    denied = client.get("/api/v1/admin/credit-lines", headers=service)
    assert denied.status_code == 403 and denied.json()["code"] == "PERMISSION_DENIED"
