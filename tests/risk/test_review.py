"""The manual-review queue (人工审核) on SQLite and PostgreSQL: enqueueing, claims, the
checklist, asking for more, approving at the engine's offer, rejecting, the SLA timer — at
the service boundary, over HTTP through the real ASGI app, and in the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xindai.api.app import create_app
from xindai.bootstrap import bootstrap
from xindai.cli import main
from xindai.errors import InvalidValue
from xindai.origination.applications import quote_of
from xindai.origination.identity import valid_sample_ids
from xindai.platform import Platform
from xindai.risk.review import (
    AlreadyDecided,
    AwaitingInfo,
    ChecklistIncomplete,
    ChecklistItemUnknown,
    ClaimedByOther,
    NoInfoRequested,
    NotClaimer,
    NotInReview,
    ReviewService,
    enqueue,
)
from xindai.security import audit, tokens
from xindai.settings import Settings
from xindai.store import repository as repo
from xindai.store.models import Borrower
from xindai.store.models_origination import Application, Contact, DecisionRecord
from xindai.store.models_risk import ReviewTask

TODAY = date(2025, 3, 3)
START = datetime(2025, 3, 3, 9, 0)
SLA = timedelta(minutes=120)
PASSWORD = "correct-horse-battery-9"
BOTH_PHONES = {"applicant_phone_verified": True, "contact_phone_verified": True}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    platform: Platform
    clock: Clock
    service: ReviewService
    serial: int = 0

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.platform.sessions

    def application(
        self,
        *,
        amount_fen: int = 300_000,
        engine_amount_fen: int | None = 250_000,
        engine_rate: str | None = "0.2000",
        with_engine: bool = True,
        queue: bool = True,
        channel: str | None = None,
    ) -> tuple[int, int]:
        """A KYC'd borrower with two contacts and an application in review; returns
        (application id, borrower id)."""
        self.serial += 1
        cipher, now = self.platform.cipher, self.clock()
        phone = f"1381234{self.serial:04d}"
        [id_number] = valid_sample_ids(seed=self.serial, count=1)
        with self.sessions.begin() as session:
            borrower = Borrower(
                display_name="张*",
                channel=channel,
                created_on=TODAY,
                mobile_hash=cipher.lookup_hash("phone", phone),
                mobile_enc=cipher.encrypt("phone", phone),
                name_enc=cipher.encrypt("name", "张三"),
                id_number_enc=cipher.encrypt("id_number", id_number),
                id_number_hash=cipher.lookup_hash("id_number", id_number),
                kyc_status="verified",
            )
            session.add(borrower)
            session.flush()
            for seq, (name, contact_phone, relation) in enumerate(
                (("张父", "13900000001", "parent"), ("李四", "13900000002", "friend")), start=1
            ):
                session.add(
                    Contact(
                        borrower_id=borrower.id,
                        seq=seq,
                        name_enc=cipher.encrypt("name", name),
                        phone_enc=cipher.encrypt("phone", contact_phone),
                        phone_hash=cipher.lookup_hash("phone", contact_phone),
                        relation=relation,
                    )
                )
            product = repo.load_product(session, "INST12", 1)
            quote = quote_of(product, amount_fen, 3, TODAY)
            application = Application(
                borrower_id=borrower.id,
                product_code="INST12",
                product_version=1,
                amount_fen=amount_fen,
                term=3,
                purpose="consumption",
                card_id=1,
                status="deciding" if queue else "review",
                annual_rate=str(product.annual_rate),
                apr=quote["apr"],
                quote=json.dumps(quote),
                created_at=now,
            )
            session.add(application)
            session.flush()
            if with_engine:
                session.add(
                    DecisionRecord(
                        application_id=application.id,
                        path="engine",
                        outcome="review",
                        reasons=json.dumps(["SC_GREY"]),
                        customer_reasons=json.dumps(["需人工复核 Needs a manual review"]),
                        detail=json.dumps(
                            {
                                "fired": [
                                    {
                                        "node": "评分 Score",
                                        "rule_id": "sc-grey",
                                        "description": "score in the grey zone",
                                        "index": 0,
                                        "inputs": [["score", 540]],
                                    }
                                ],
                                "hits": [{"code": "SC_GREY", "action": "review"}],
                            }
                        ),
                        score=540.0,
                        grade="C",
                        pd="0.08",
                        approved_amount_fen=engine_amount_fen,
                        rate=engine_rate,
                        created_at=now,
                    )
                )
            if queue:
                enqueue(session, application.id, ["SC_GREY"], now, SLA)
            return application.id, borrower.id

    def application_row(self, application_id: int) -> Application:
        with self.sessions() as session:
            found = session.get(Application, application_id)
            assert found is not None
            return found

    def task(self, application_id: int) -> ReviewTask:
        with self.sessions() as session:
            found = session.get(ReviewTask, application_id)
            assert found is not None
            return found


@pytest.fixture
def world(settings: Settings, session_factory: sessionmaker[Session]) -> World:
    clock = Clock(START)
    platform = Platform.from_settings(settings, sessions=session_factory, clock=clock)
    bootstrap(
        session_factory,
        cipher=platform.cipher,
        today=TODAY,
        admin_password=PASSWORD,
        staff={"reviewer": "risk", "reviewer2": "risk", "desk": "customer_service"},
    )
    return World(platform, clock, ReviewService(platform))


# ------------------------------------------------------------------ service


def test_enqueue_is_idempotent_and_refuses_a_decided_task(world: World) -> None:
    application_id, _ = world.application()
    first = world.task(application_id)
    assert first.status == "queued" and first.due_at == START + SLA
    assert world.application_row(application_id).status == "review"
    world.clock.advance(minutes=30)
    with world.sessions.begin() as session:
        again = enqueue(session, application_id, ["OTHER"], world.clock(), SLA)
        assert (again.status, json.loads(again.reasons), again.due_at) == (
            "queued",
            ["SC_GREY"],
            START + SLA,
        )
    world.service.claim(application_id, "reviewer")
    world.service.decide(application_id, "reviewer", False, "fraud suspected")
    with pytest.raises(AlreadyDecided) as refused, world.sessions.begin() as session:
        enqueue(session, application_id, ["SC_GREY"], world.clock(), SLA)
    assert refused.value.code == "REVIEW_ALREADY_DECIDED"


def test_claim_conflicts_and_an_expired_claim_is_taken_over(world: World) -> None:
    application_id, _ = world.application()
    claimed = world.service.claim(application_id, "reviewer")
    assert claimed["status"] == "claimed" and claimed["claimed_by"] == "reviewer"
    assert world.service.claim(application_id, "reviewer")["claimed_at"] == claimed["claimed_at"]
    with pytest.raises(ClaimedByOther) as conflict:
        world.service.claim(application_id, "reviewer2")
    assert conflict.value.code == "REVIEW_CLAIMED_BY_OTHER"
    assert conflict.value.claimed_by == "reviewer" and conflict.value.until == START + SLA
    with pytest.raises(NotClaimer):
        world.service.release(application_id, "reviewer2")
    # a claim older than the SLA window may be taken over
    world.clock.advance(minutes=120)
    taken = world.service.claim(application_id, "reviewer2")
    assert taken["claimed_by"] == "reviewer2"
    with pytest.raises(NotClaimer):
        world.service.update_checklist(application_id, "reviewer", BOTH_PHONES)
    released = world.service.release(application_id, "reviewer2")
    assert released["status"] == "queued" and released["claimed_by"] is None


def test_checklist_items_are_known_and_both_phone_checks_precede_approval(world: World) -> None:
    application_id, _ = world.application()
    with pytest.raises(NotClaimer):
        world.service.update_checklist(application_id, "reviewer", BOTH_PHONES)
    world.service.claim(application_id, "reviewer")
    with pytest.raises(ChecklistItemUnknown) as unknown:
        world.service.update_checklist(application_id, "reviewer", {"applicant_call": True})
    assert unknown.value.code == "CHECKLIST_ITEM_UNKNOWN"
    with pytest.raises(ChecklistIncomplete) as incomplete:
        world.service.decide(application_id, "reviewer", True, "")
    assert incomplete.value.missing == ("applicant_phone_verified", "contact_phone_verified")
    view = world.service.update_checklist(
        application_id,
        "reviewer",
        {"applicant_phone_verified": True, "purpose_confirmed": "buying a phone"},
    )
    assert view["checklist"] == {
        "applicant_phone_verified": True,
        "contact_phone_verified": None,
        "identity_consistent": None,
        "purpose_confirmed": "buying a phone",
    }
    world.service.update_checklist(application_id, "reviewer", {"contact_phone_verified": False})
    with pytest.raises(ChecklistIncomplete) as still:
        world.service.decide(application_id, "reviewer", True, "")
    assert still.value.missing == ("contact_phone_verified",)
    assert world.application_row(application_id).status == "review"
    world.service.update_checklist(application_id, "reviewer", {"contact_phone_verified": True})
    assert world.service.decide(application_id, "reviewer", True, "ok")["outcome"] == "approve"


def test_ask_for_more_stops_the_clock_and_the_reply_requeues_with_a_fresh_deadline(
    world: World,
) -> None:
    application_id, borrower_id = world.application()
    _, other_borrower = world.application()
    assert world.service.info_request_for(borrower_id, application_id)["status"] == "none"
    with pytest.raises(NotClaimer):
        world.service.ask_for_more(application_id, "reviewer", "please send a payslip")
    world.service.claim(application_id, "reviewer")
    with pytest.raises(InvalidValue):
        world.service.ask_for_more(application_id, "reviewer", "   ")
    asked = world.service.ask_for_more(application_id, "reviewer", "please send a payslip")
    assert asked["status"] == "more_info" and asked["info_request"] == "please send a payslip"
    with pytest.raises(AwaitingInfo):
        world.service.ask_for_more(application_id, "reviewer", "and your contract")
    # the SLA clock is stopped while the borrower is asked
    world.clock.advance(minutes=300)
    [item] = [i for i in world.service.queue() if i["application_id"] == application_id]
    assert (item["status"], item["minutes_left"], item["overdue"]) == ("more_info", None, False)
    assert application_id not in [i["application_id"] for i in world.service.queue(None, True)]
    assert world.service.info_request_for(borrower_id, application_id) == {
        "application_id": application_id,
        "status": "awaiting_reply",
        "request": "please send a payslip",
        "reply": None,
    }
    with pytest.raises(repo.NotFound):
        world.service.info_request_for(other_borrower, application_id)
    with pytest.raises(repo.NotFound):
        world.service.reply(other_borrower, application_id, "not mine")
    replied = world.service.reply(borrower_id, application_id, "payslip uploaded")
    assert replied["status"] == "answered" and replied["reply"] == "payslip uploaded"
    task = world.task(application_id)
    assert task.status == "queued" and task.claimed_by is None
    assert task.due_at == START + timedelta(minutes=300) + SLA
    with pytest.raises(NoInfoRequested) as again:
        world.service.reply(borrower_id, application_id, "more")
    assert again.value.code == "REVIEW_NO_INFO_REQUEST"
    view = world.service.detail(application_id, can_read_pii=False)
    assert view["info_request"] == "please send a payslip"
    assert view["info_reply"] == "payslip uploaded"
    assert view["minutes_left"] == 120 and view["overdue"] is False


def test_approval_offers_the_engine_amount_and_rate_and_records_the_decision(
    world: World,
) -> None:
    application_id, _ = world.application(amount_fen=300_000, engine_amount_fen=250_000)
    world.service.claim(application_id, "reviewer")
    world.service.update_checklist(application_id, "reviewer", BOTH_PHONES)
    with pytest.raises(InvalidValue, match=r"above the approvable 2500\.00"):
        world.service.decide(application_id, "reviewer", True, "", amount_fen=300_000)
    with pytest.raises(InvalidValue, match="in steps of"):
        world.service.decide(application_id, "reviewer", True, "", amount_fen=205_050)
    world.clock.advance(minutes=10)
    done = world.service.decide(application_id, "reviewer", True, "applicant and father called")
    assert (done["status"], done["outcome"], done["decided_by"]) == ("done", "approve", "reviewer")
    application = world.application_row(application_id)
    assert application.status == "approved" and application.decided_at == world.clock()
    assert application.approved_amount_fen == 250_000
    assert application.offered_rate == "0.2000" and application.annual_rate == "0.2000"
    assert json.loads(application.quote)["installments"]  # the offer's schedule
    with world.sessions() as session:
        record = session.scalars(
            select(DecisionRecord).where(
                DecisionRecord.application_id == application_id,
                DecisionRecord.path == "manual_review",
            )
        ).one()
        actions = [e.action for e in audit.events_for(session, "application", application_id)]
    assert (record.outcome, record.reviewer) == ("approve", "reviewer")
    assert json.loads(record.reasons) == ["SC_GREY", "MR_APPROVED"]
    assert record.approved_amount_fen == 250_000 and record.rate == "0.2000"
    detail = json.loads(record.detail)
    assert detail["note"] == "applicant and father called"
    assert detail["checklist"]["applicant_phone_verified"] is True
    assert actions == ["review.enqueue", "review.claim", "review.checklist", "review.decide"]
    with pytest.raises(NotInReview) as closed:
        world.service.decide(application_id, "reviewer", True, "")
    assert closed.value.code == "APPLICATION_NOT_IN_REVIEW"


def test_a_reviewer_may_lower_the_amount_and_without_an_engine_decision_the_applied_terms_hold(
    world: World,
) -> None:
    lowered, _ = world.application(engine_amount_fen=250_000)
    world.service.claim(lowered, "reviewer")
    world.service.update_checklist(lowered, "reviewer", BOTH_PHONES)
    world.service.decide(lowered, "reviewer", True, "lower", amount_fen=200_000)
    assert world.application_row(lowered).approved_amount_fen == 200_000
    plain, _ = world.application(amount_fen=300_000, with_engine=False)
    world.service.claim(plain, "reviewer")
    world.service.update_checklist(plain, "reviewer", BOTH_PHONES)
    world.service.decide(plain, "reviewer", True, "")
    application = world.application_row(plain)
    assert application.approved_amount_fen == 300_000 and application.offered_rate == "0.18"


def test_reject_needs_no_checklist_and_keeps_the_customer_reasons(world: World) -> None:
    application_id, _ = world.application()
    world.service.claim(application_id, "reviewer")
    with pytest.raises(InvalidValue):
        world.service.decide(application_id, "reviewer", False, "", amount_fen=200_000)
    done = world.service.decide(application_id, "reviewer", False, "contact denies knowing")
    assert done["outcome"] == "reject" and done["note"] == "contact denies knowing"
    application = world.application_row(application_id)
    assert application.status == "rejected" and application.approved_amount_fen is None
    with world.sessions() as session:
        record = session.scalars(
            select(DecisionRecord).where(DecisionRecord.path == "manual_review")
        ).one()
    assert record.outcome == "reject" and json.loads(record.reasons)[-1] == "MR_REJECTED"
    # the engine's reason was only that it needed a review: the customer gets a plain one
    assert json.loads(record.customer_reasons) == [
        "综合评估未通过 Not approved after an overall assessment"
    ]
    assert world.service.queue() == []
    assert [i["application_id"] for i in world.service.queue("done")] == [application_id]


def test_only_the_claimer_decides(world: World) -> None:
    application_id, _ = world.application()
    with pytest.raises(NotClaimer) as unclaimed:
        world.service.decide(application_id, "reviewer", False, "")
    assert unclaimed.value.code == "REVIEW_NOT_CLAIMED"
    world.service.claim(application_id, "reviewer")
    world.service.update_checklist(application_id, "reviewer", BOTH_PHONES)
    for approve in (True, False):
        with pytest.raises(NotClaimer):
            world.service.decide(application_id, "reviewer2", approve, "")
    assert world.task(application_id).status == "claimed"


def test_the_queue_is_ordered_by_deadline_and_flags_overdue_tasks(world: World) -> None:
    first, _ = world.application()
    world.clock.advance(minutes=60)
    second, _ = world.application()
    world.clock.advance(minutes=50)  # first due in 10 min, second in 70
    items = world.service.queue()
    assert [i["application_id"] for i in items] == [first, second]
    assert [(i["minutes_left"], i["overdue"]) for i in items] == [(10, False), (70, False)]
    head = items[0]
    assert head["application"]["applicant_name"] == "张*"
    assert head["application"]["applicant_phone"].startswith("138****")
    assert head["application"]["amount"] == "3000.00" and head["application"]["term"] == 3
    assert head["decision"]["score"] == 540.0 and head["decision"]["grade"] == "C"
    assert head["decision"]["approved_amount"] == "2500.00" and head["decision"]["rate"] == "0.2000"
    assert head["decision"]["customer_reasons"] == ["需人工复核 Needs a manual review"]
    assert head["reasons"] == ["SC_GREY"]
    world.clock.advance(minutes=15)
    items = world.service.queue()
    assert [(i["minutes_left"], i["overdue"]) for i in items] == [(-5, True), (55, False)]
    assert [i["application_id"] for i in world.service.queue(overdue_only=True)] == [first]
    world.service.claim(first, "reviewer")
    assert [i["application_id"] for i in world.service.queue("claimed", True)] == [first]
    assert [i["application_id"] for i in world.service.queue("queued")] == [second]
    assert len(world.service.queue(limit=1)) == 1
    with pytest.raises(InvalidValue):
        world.service.queue("lost")


def test_detail_shows_the_decision_and_contacts_masked_unless_permitted(world: World) -> None:
    application_id, _ = world.application()
    masked = world.service.detail(application_id, can_read_pii=False)
    assert masked["application"]["applicant_phone"] == "138****0001"
    assert masked["application"]["applicant_id_number"].count("*") == 8
    assert [c["phone"] for c in masked["contacts"]] == ["139****0001", "139****0002"]
    assert [c["name"] for c in masked["contacts"]] == ["张*", "李*"]
    full = world.service.detail(application_id, can_read_pii=True)
    assert full["application"]["applicant_phone"] == "13812340001"
    assert full["application"]["applicant_name"] == "张三"
    assert [c["phone"] for c in full["contacts"]] == ["13900000001", "13900000002"]
    decision = full["decision"]
    assert decision["reason_codes"] == ["SC_GREY"]
    assert [r["rule_id"] for r in decision["fired_rules"]] == ["sc-grey"]
    assert full["offer"] == {"max_amount": "2500.00", "max_amount_fen": 250_000, "rate": "0.2000"}
    assert [i["item"] for i in full["checklist_items"] if i["required_to_approve"]] == [
        "applicant_phone_verified",
        "contact_phone_verified",
    ]
    assert [h["path"] for h in full["history"]] == ["engine"]
    with pytest.raises(repo.NotFound):
        world.service.detail(999_999, can_read_pii=False)


def test_an_application_in_review_without_a_task_is_queued_when_first_worked(
    world: World,
) -> None:
    application_id, _ = world.application(queue=False)
    assert world.service.detail(application_id, False)["status"] == "queued"
    done = world.service.claim_and_decide(
        application_id,
        "reviewer",
        approve=True,
        note="",
        checklist={"applicant_call": True, "contact_call": True},  # the older item names
    )
    assert done["outcome"] == "approve" and done["checklist"]["contact_phone_verified"] is True
    assert world.application_row(application_id).status == "approved"


# ------------------------------------------------------------------ HTTP


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.platform)) as test_client:
        yield test_client


def staff_auth(client: TestClient, username: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/admin/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def borrower_auth(world: World, borrower_id: int) -> dict[str, str]:
    with world.sessions.begin() as session:
        token = tokens.issue_token(session, "borrower", borrower_id, now=world.clock())
    return {"Authorization": f"Bearer {token.token}"}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    body = ok(response, status)
    assert body["code"] == code, body
    assert body["message"]["zh-CN"] and body["message"]["en"]
    return body


def test_http_review_happy_path(world: World, client: TestClient) -> None:
    application_id, borrower_id = world.application()
    reviewer = staff_auth(client, "reviewer")
    base = f"/api/v1/admin/reviews/{application_id}"
    queue = ok(client.get("/api/v1/admin/reviews", headers=reviewer))
    assert [i["application_id"] for i in queue] == [application_id]
    assert queue[0]["application"]["applicant_phone"] == "138****0001"
    view = ok(client.get(base, headers=reviewer))  # risk may read personal data
    assert view["contacts"][0]["phone"] == "13900000001" and view["unmasked"] is True
    ok(client.post(f"{base}/claim", headers=reviewer))
    ok(client.post(f"{base}/ask-more", headers=reviewer, json={"request": "your payslip?"}))
    borrower = borrower_auth(world, borrower_id)
    more = f"/api/v1/borrower/applications/{application_id}/more-info"
    assert ok(client.get(more, headers=borrower))["request"] == "your payslip?"
    assert ok(client.post(more, headers=borrower, json={"reply": "sent"}))["status"] == "answered"
    ok(client.post(f"{base}/claim", headers=reviewer))
    checked = ok(client.put(f"{base}/checklist", headers=reviewer, json={"items": BOTH_PHONES}))
    assert checked["checklist"]["contact_phone_verified"] is True
    done = ok(
        client.post(
            f"{base}/decide",
            headers=reviewer,
            json={"approve": True, "note": "called both", "amount": "2000"},
        )
    )
    assert done["outcome"] == "approve"
    application = world.application_row(application_id)
    assert application.status == "approved" and application.approved_amount_fen == 200_000
    error(client.post(f"{base}/claim", headers=reviewer), 409, "APPLICATION_NOT_IN_REVIEW")
    assert ok(client.get("/api/v1/admin/reviews", headers=reviewer)) == []


def test_http_permissions_and_masking(world: World, client: TestClient) -> None:
    application_id, borrower_id = world.application()
    service_desk = staff_auth(client, "desk")  # customer service: reads, does not review
    base = f"/api/v1/admin/reviews/{application_id}"
    view = ok(client.get(base, headers=service_desk))
    assert view["unmasked"] is False and view["contacts"][0]["phone"] == "139****0001"
    for method, path, body in (
        ("POST", f"{base}/claim", None),
        ("PUT", f"{base}/checklist", {"items": BOTH_PHONES}),
        ("POST", f"{base}/decide", {"approve": False}),
    ):
        error(
            client.request(method, path, headers=service_desk, json=body), 403, "PERMISSION_DENIED"
        )
    error(client.get("/api/v1/admin/reviews"), 401, "AUTH_REQUIRED")
    borrower = borrower_auth(world, borrower_id)
    error(client.get("/api/v1/admin/reviews", headers=borrower), 401, "AUTH_REQUIRED")
    assert world.task(application_id).status == "queued"


def test_http_bad_inputs_and_conflicts(world: World, client: TestClient) -> None:
    application_id, borrower_id = world.application()
    reviewer, other = staff_auth(client, "reviewer"), staff_auth(client, "reviewer2")
    base = f"/api/v1/admin/reviews/{application_id}"
    error(client.get("/api/v1/admin/reviews/999999", headers=reviewer), 404, "NOT_FOUND")
    error(client.get("/api/v1/admin/reviews?status=lost", headers=reviewer), 400, "INVALID_VALUE")
    error(client.post(f"{base}/decide", headers=reviewer, json={}), 422, "VALIDATION_ERROR")
    ok(client.post(f"{base}/claim", headers=reviewer))
    error(client.post(f"{base}/claim", headers=other), 409, "REVIEW_CLAIMED_BY_OTHER")
    error(
        client.put(f"{base}/checklist", headers=reviewer, json={"items": {"vibes": True}}),
        400,
        "CHECKLIST_ITEM_UNKNOWN",
    )
    error(
        client.post(f"{base}/decide", headers=reviewer, json={"approve": True}),
        409,
        "REVIEW_CHECKLIST_INCOMPLETE",
    )
    ok(client.put(f"{base}/checklist", headers=reviewer, json={"items": BOTH_PHONES}))
    body = error(
        client.post(f"{base}/decide", headers=reviewer, json={"approve": True, "amount": "2x"}),
        400,
        "INVALID_VALUE",
    )
    assert body["field"] == "amount"
    error(
        client.post(f"{base}/decide", headers=other, json={"approve": False}),
        409,
        "REVIEW_NOT_CLAIMED",
    )
    borrower = borrower_auth(world, borrower_id)
    error(
        client.post(
            f"/api/v1/borrower/applications/{application_id}/more-info",
            headers=borrower,
            json={"reply": "nobody asked"},
        ),
        409,
        "REVIEW_NO_INFO_REQUEST",
    )
    assert world.application_row(application_id).status == "review"


def test_http_the_older_one_call_review_route_goes_through_the_queue(
    world: World, client: TestClient
) -> None:
    application_id, _ = world.application()
    reviewer = staff_auth(client, "reviewer")
    path = f"/api/v1/admin/applications/{application_id}/review"
    error(
        client.post(path, headers=reviewer, json={"approve": True}),
        409,
        "REVIEW_CHECKLIST_INCOMPLETE",
    )
    approved = ok(
        client.post(
            path,
            headers=reviewer,
            json={"approve": True, "checklist": {"applicant_call": True, "contact_call": True}},
        )
    )
    assert approved["status"] == "approved" and approved["id"] == application_id
    error(
        client.post(path, headers=reviewer, json={"approve": True}),
        409,
        "APPLICATION_NOT_IN_REVIEW",
    )


# ------------------------------------------------------------------ CLI


def test_cli_queue_shows_the_time_left_and_overdue_tasks(
    world: World,
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    application_id, _ = world.application()  # queued in 2025: long overdue by the wall clock
    with pytest.raises(SystemExit) as done:
        main(["risk", "review", "queue", "--database", database_url])
    out = capsys.readouterr().out
    assert done.value.code in (0, None)
    assert str(application_id) in out and "SC_GREY" in out and "overdue" in out
    assert "138****0001" in out and "13812340001" not in out
