"""Every bad input the journey can receive, over HTTP, with its exact error code; duplicated,
late, forged and replayed callbacks leave exactly one posting."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest

from xindai.integrations.signing import signed_headers
from xindai.origination.cards import valid_sample_card
from xindai.origination.identity import valid_sample_ids
from xindai.store.db import make_engine, session_factory
from xindai.store.models import LoanTransaction

from .conftest import SECRET, Stack
from .people import CALLS_MADE, all_to_review, apply_body, clean_id
from .test_journey import PHOTO, login_borrower, ok, onboard, staff_token

pytestmark = pytest.mark.e2e


def error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    assert body["message"]["zh-CN"] and body["message"]["en"]
    return body


def test_login_codes(stack: Stack) -> None:
    phone = "13700000001"
    ok(stack.api.post("/api/v1/borrower/auth/code", json={"phone": phone}))
    error(
        stack.api.post("/api/v1/borrower/auth/code", json={"phone": phone}),
        429,
        "OTP_RESEND_TOO_SOON",
    )
    error(
        stack.api.post("/api/v1/borrower/auth/code", json={"phone": "12345"}), 400, "PHONE_INVALID"
    )
    code = stack.sim.control.last_sms_code(phone)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):  # five wrong tries are answered; the sixth is refused
        error(
            stack.api.post("/api/v1/borrower/auth/login", json={"phone": phone, "code": wrong}),
            400,
            "OTP_INVALID",
        )
    error(
        stack.api.post("/api/v1/borrower/auth/login", json={"phone": phone, "code": wrong}),
        429,
        "OTP_TOO_MANY_TRIES",
    )
    # the right code after too many tries is refused too
    error(
        stack.api.post("/api/v1/borrower/auth/login", json={"phone": phone, "code": code}),
        429,
        "OTP_TOO_MANY_TRIES",
    )
    error(
        stack.api.post(
            "/api/v1/borrower/auth/login", json={"phone": "13700000002", "code": "123456"}
        ),
        400,
        "OTP_NOT_FOUND",
    )
    error(stack.api.get("/api/v1/borrower/me"), 401, "AUTH_REQUIRED")
    error(
        stack.api.get("/api/v1/borrower/me", headers={"Authorization": "Bearer forged"}),
        401,
        "AUTH_REQUIRED",
    )
    error(
        stack.api.post("/api/v1/borrower/auth/login", json={"phone": phone}),
        422,
        "VALIDATION_ERROR",
    )


def test_identity_and_card_checks(stack: Stack) -> None:
    phone = "13700000011"
    auth = login_borrower(stack, phone)
    [id_number] = valid_sample_ids(seed=21, count=1)
    kyc = {
        "name": "王五",
        "id_number": id_number,
        "id_front": PHOTO,
        "id_back": PHOTO,
        "face": PHOTO,
    }
    # agreements first
    error(
        stack.api.post("/api/v1/borrower/kyc", headers=auth, json=kyc), 400, "AGREEMENTS_REQUIRED"
    )
    agreements = ok(stack.api.get("/api/v1/borrower/agreements"))
    error(
        stack.api.post(
            "/api/v1/borrower/agreements/accept",
            headers=auth,
            json={"items": [{"code": "user_agreement", "version": 99}]},
        ),
        400,
        "AGREEMENT_UNKNOWN",
    )
    ok(
        stack.api.post(
            "/api/v1/borrower/agreements/accept",
            headers=auth,
            json={"items": [{"code": a["code"], "version": a["version"]} for a in agreements]},
        )
    )
    bad_check = id_number[:17] + ("0" if id_number[17] != "0" else "1")
    error(
        stack.api.post("/api/v1/borrower/kyc", headers=auth, json={**kyc, "id_number": bad_check}),
        400,
        "ID_CHECK_DIGIT",
    )
    error(
        stack.api.post("/api/v1/borrower/kyc", headers=auth, json={**kyc, "id_number": "123"}),
        400,
        "ID_FORMAT",
    )
    error(
        stack.api.post("/api/v1/borrower/kyc", headers=auth, json={**kyc, "name": "假名字"}),
        400,
        "KYC_NAME_MISMATCH",
    )
    spoof = base64.b64encode(b"SPOOF face").decode()
    error(
        stack.api.post("/api/v1/borrower/kyc", headers=auth, json={**kyc, "face": spoof}),
        400,
        "KYC_LIVENESS_FAILED",
    )
    error(
        stack.api.post("/api/v1/borrower/kyc", headers=auth, json={**kyc, "face": "%%%"}),
        400,
        "INVALID_VALUE",
    )
    error(
        stack.api.post(
            "/api/v1/borrower/cards",
            headers=auth,
            json={"card_number": valid_sample_card("ICBC", 1), "phone": phone},
        ),
        400,
        "KYC_REQUIRED",
    )
    ok(stack.api.post("/api/v1/borrower/kyc", headers=auth, json=kyc))
    error(
        stack.api.put(
            "/api/v1/borrower/contacts",
            headers=auth,
            json={"contacts": [{"name": "张父", "phone": "13900000001", "relation": "parent"}]},
        ),
        400,
        "CONTACTS_TOO_FEW",
    )
    error(
        stack.api.put(
            "/api/v1/borrower/contacts",
            headers=auth,
            json={
                "contacts": [
                    {"name": "张父", "phone": phone, "relation": "parent"},
                    {"name": "李四", "phone": "13900000002", "relation": "friend"},
                ]
            },
        ),
        400,
        "CONTACT_IS_BORROWER",
    )
    card = valid_sample_card("ICBC", 2)
    bad_luhn = card[:-1] + str((int(card[-1]) + 1) % 10)
    error(
        stack.api.post(
            "/api/v1/borrower/cards", headers=auth, json={"card_number": bad_luhn, "phone": phone}
        ),
        400,
        "CARD_LUHN",
    )
    error(
        stack.api.post(
            "/api/v1/borrower/cards", headers=auth, json={"card_number": "12345", "phone": phone}
        ),
        400,
        "CARD_FORMAT",
    )
    started = ok(
        stack.api.post(
            "/api/v1/borrower/cards", headers=auth, json={"card_number": card, "phone": phone}
        ),
        201,
    )
    code = stack.sim.control.last_sms_code(phone)
    wrong = "000000" if code != "000000" else "111111"
    error(
        stack.api.post(
            f"/api/v1/borrower/cards/{started['card_id']}/confirm",
            headers=auth,
            json={"code": wrong},
        ),
        400,
        "CARD_VERIFICATION_FAILED",
    )
    error(
        stack.api.post("/api/v1/borrower/cards/999999/confirm", headers=auth, json={"code": code}),
        404,
        "NOT_FOUND",
    )


def test_applications_loans_and_other_borrowers(stack: Stack) -> None:
    mine, theirs = clean_id(31), clean_id(32)
    auth, card_id = onboard(stack, "13700000021", mine, valid_sample_card("CCB", 3))
    other, other_card = onboard(stack, "13700000022", theirs, valid_sample_card("BOC", 4))
    body = apply_body("INST12", "3000", 3, card_id, device="dev-bad-inputs")
    # what the scorecard reads must be declared, and be sensible
    for field, value in (("monthly_income", "-1"), ("employment_type", "astronaut")):
        error(
            stack.api.post(
                "/api/v1/borrower/applications", headers=auth, json={**body, field: value}
            ),
            400,
            "INVALID_VALUE",
        )
    missing = {k: v for k, v in body.items() if k != "monthly_income"}
    error(
        stack.api.post("/api/v1/borrower/applications", headers=auth, json=missing),
        422,
        "VALIDATION_ERROR",
    )
    error(
        stack.api.post("/api/v1/borrower/applications", headers=auth, json={**body, "term": 5}),
        400,
        "INVALID_VALUE",
    )
    error(
        stack.api.post(
            "/api/v1/borrower/applications", headers=auth, json={**body, "amount": "3000.001"}
        ),
        400,
        "INVALID_VALUE",
    )
    error(
        stack.api.post(
            "/api/v1/borrower/applications", headers=auth, json={**body, "purpose": "buy a house"}
        ),
        400,
        "PURPOSE_INVALID",
    )
    error(
        stack.api.post(
            "/api/v1/borrower/applications", headers=auth, json={**body, "card_id": other_card}
        ),
        404,
        "NOT_FOUND",
    )
    with all_to_review(stack):  # the risk team sends every applicant to manual review
        created = ok(
            stack.api.post(
                "/api/v1/borrower/applications",
                headers={**auth, "Idempotency-Key": "k1"},
                json=body,
            ),
            201,
        )
    assert created["status"] == "review"
    error(
        stack.api.post(
            "/api/v1/borrower/applications",
            headers={**auth, "Idempotency-Key": "k1"},
            json={**body, "amount": "4000"},
        ),
        409,
        "IDEMPOTENCY_KEY_REUSED",
    )
    error(
        stack.api.post("/api/v1/borrower/applications", headers=auth, json=body),
        409,
        "APPLICATION_IN_PROGRESS",
    )
    error(
        stack.api.get(f"/api/v1/borrower/applications/{created['id']}", headers=other),
        404,
        "NOT_FOUND",
    )
    error(
        stack.api.post(f"/api/v1/borrower/applications/{created['id']}/sign", headers=auth),
        409,
        "APPLICATION_NOT_APPROVED",
    )
    # a reviewer without the permission cannot see personal data; a borrower is not staff
    error(stack.api.get("/api/v1/admin/applications", headers=auth), 401, "AUTH_REQUIRED")
    reviewer = staff_token(stack)
    # approval needs the phone checks of the applicant and a contact
    error(
        stack.api.post(
            f"/api/v1/admin/applications/{created['id']}/review",
            headers=reviewer,
            json={"approve": True},
        ),
        409,
        "REVIEW_CHECKLIST_INCOMPLETE",
    )
    ok(
        stack.api.post(
            f"/api/v1/admin/applications/{created['id']}/review",
            headers=reviewer,
            json={"approve": True, "checklist": CALLS_MADE},
        )
    )
    error(
        stack.api.post(
            f"/api/v1/admin/applications/{created['id']}/review",
            headers=reviewer,
            json={"approve": True, "checklist": CALLS_MADE},
        ),
        409,
        "APPLICATION_NOT_IN_REVIEW",
    )
    ok(stack.api.post(f"/api/v1/borrower/applications/{created['id']}/sign", headers=auth))
    view = stack.wait_for(
        lambda: (lambda a: a if a["status"] == "disbursed" else None)(
            ok(stack.api.get(f"/api/v1/borrower/applications/{created['id']}", headers=auth))
        ),
        what="payout",
    )
    loan_id = view["loan_id"]
    error(stack.api.get(f"/api/v1/borrower/loans/{loan_id}", headers=other), 404, "NOT_FOUND")
    error(
        stack.api.post(
            f"/api/v1/borrower/loans/{loan_id}/repayments", headers=other, json={"mode": "payoff"}
        ),
        404,
        "NOT_FOUND",
    )
    error(
        stack.api.post(
            f"/api/v1/borrower/loans/{loan_id}/repayments", headers=auth, json={"mode": "all"}
        ),
        400,
        "INVALID_VALUE",
    )
    error(
        stack.api.post(
            f"/api/v1/borrower/loans/{loan_id}/repayments",
            headers=auth,
            json={"mode": "amount", "amount": "-5"},
        ),
        400,
        "INVALID_VALUE",
    )


def _postings(stack: Stack, loan_id: int, kind: str) -> int:
    engine = make_engine(stack.database_url)
    try:
        with session_factory(engine)() as session:
            return len(
                [
                    t
                    for t in session.query(LoanTransaction)
                    .filter_by(loan_id=loan_id, kind=kind)
                    .all()
                ]
            )
    finally:
        engine.dispose()


def test_callbacks_twice_late_forged_and_replayed(stack: Stack) -> None:
    auth, card_id = onboard(stack, "13700000031", clean_id(41), valid_sample_card("CMB", 5))
    # every callback twice, and every first delivery held back a second (late)
    stack.sim.control.payment_control(duplicate_rate=1.0, late_rate=1.0, late_delay_ms=1000)
    try:
        created = ok(
            stack.api.post(
                "/api/v1/borrower/applications",
                headers=auth,
                json=apply_body("INST12", "2000", 3, card_id, device="dev-late", purpose="travel"),
            ),
            201,
        )
        assert created["status"] == "approved"
        ok(stack.api.post(f"/api/v1/borrower/applications/{created['id']}/sign", headers=auth))
        view = stack.wait_for(
            lambda: (lambda a: a if a["status"] == "disbursed" else None)(
                ok(stack.api.get(f"/api/v1/borrower/applications/{created['id']}", headers=auth))
            ),
            what="payout",
        )
        loan_id = view["loan_id"]
        ok(
            stack.api.post(
                f"/api/v1/borrower/loans/{loan_id}/repayments",
                headers=auth,
                json={"mode": "amount", "amount": "100"},
            ),
            202,
        )
        stack.wait_for(lambda: len(stack.sim.control.callbacks()) >= 4, what="duplicates")
        time.sleep(0.5)
        # replay every event once more, and a late copy: still one posting each
        for event in stack.sim.control.events():
            stack.sim.control.replay(event["event_id"])
        time.sleep(0.5)
        assert _postings(stack, loan_id, "disbursement") == 1
        assert _postings(stack, loan_id, "repayment") == 1
    finally:
        stack.sim.control.payment_control(duplicate_rate=0.0, late_rate=0.0)
    # forged: a wrong signature, and a stale timestamp
    body = json.dumps(
        {
            "event_id": "forged-1",
            "event": "payout.succeeded",
            "request_ref": "PO00000001A1",
            "amount_fen": 1,
            "occurred_at": "2026-01-01T00:00:00Z",
        }
    ).encode()
    headers = signed_headers("not-the-secret", body, now=time.time())
    error(
        stack.api.post(
            "/api/v1/callbacks/payment",
            content=body,
            headers={**headers, "content-type": "application/json"},
        ),
        401,
        "CALLBACK_SIGNATURE_INVALID",
    )
    stale = signed_headers(SECRET, body, now=time.time() - 3600)
    error(
        stack.api.post(
            "/api/v1/callbacks/payment",
            content=body,
            headers={**stale, "content-type": "application/json"},
        ),
        401,
        "CALLBACK_EXPIRED",
    )
    error(
        stack.api.post("/api/v1/callbacks/payment", content=body), 401, "CALLBACK_SIGNATURE_INVALID"
    )


def test_admin_calls_are_authorised_and_audited(stack: Stack) -> None:
    from sqlalchemy import select

    from xindai.store.models_origination import AuditEvent

    reviewer = staff_token(stack)
    error(stack.api.get("/api/v1/admin/applications"), 401, "AUTH_REQUIRED")
    ok(stack.api.get("/api/v1/admin/applications", headers=reviewer))
    # risk reviewers may not retry payouts (an operations permission)
    error(
        stack.api.post("/api/v1/admin/applications/1/payout/retry", headers=reviewer),
        403,
        "PERMISSION_DENIED",
    )
    error(
        stack.api.post(
            "/api/v1/admin/auth/login",
            json={"username": "reviewer", "password": "wrong-password-1"},
        ),
        401,
        "LOGIN_FAILED",
    )

    def audited() -> list[AuditEvent] | None:
        engine = make_engine(stack.database_url)
        try:
            with session_factory(engine)() as session:
                found = session.scalars(
                    select(AuditEvent).where(AuditEvent.resource == "admin_api")
                ).all()
        finally:
            engine.dispose()
        reads = [e for e in found if e.action == "api.get"]
        return list(found) if reads else None  # reads are written by the access log

    events = stack.wait_for(audited, what="the access log's rows")
    paths = {(e.action, e.resource_id) for e in events}
    assert ("api.get", "/api/v1/admin/applications") in paths
    assert ("api.post", "/api/v1/admin/applications/1/payout/retry") in paths
    assert all(e.ip == "127.0.0.1" for e in events)


def test_staff_management_and_totp(stack: Stack) -> None:
    import pyotp

    admin = staff_token(stack, "admin")
    error(
        stack.api.post(
            "/api/v1/admin/staff",
            headers=staff_token(stack),
            json={"username": "x", "password": "long-enough-pass", "role": "risk"},
        ),
        403,
        "PERMISSION_DENIED",
    )
    error(
        stack.api.post(
            "/api/v1/admin/staff",
            headers=admin,
            json={"username": "weak", "password": "123", "role": "risk"},
        ),
        400,
        "PASSWORD_TOO_SHORT",
    )
    created = ok(
        stack.api.post(
            "/api/v1/admin/staff",
            headers=admin,
            json={
                "username": "collector1",
                "password": "collector-pass-2026",
                "role": "collector",
                "with_totp": True,
            },
        ),
        201,
    )
    secret = pyotp.parse_uri(created["totp_uri"]).secret
    login = {"username": "collector1", "password": "collector-pass-2026"}
    error(stack.api.post("/api/v1/admin/auth/login", json=login), 401, "TOTP_REQUIRED")
    error(
        stack.api.post(
            "/api/v1/admin/auth/login",
            json={**login, "totp": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"},
        ),
        401,
        "TOTP_INVALID",
    )
    session = ok(
        stack.api.post("/api/v1/admin/auth/login", json={**login, "totp": pyotp.TOTP(secret).now()})
    )
    assert session["role"] == "collector"
    # a collector may not see borrowers' unmasked personal data, nor review applications
    collector = {"Authorization": f"Bearer {session['token']}"}
    error(stack.api.get("/api/v1/admin/applications", headers=collector), 403, "PERMISSION_DENIED")


def test_personal_data_is_masked_unless_the_role_needs_it(stack: Stack) -> None:
    [id_number] = valid_sample_ids(seed=71, count=1)
    onboard(stack, "13700000071", id_number, valid_sample_card("ICBC", 71))
    engine = make_engine(stack.database_url)
    try:
        from sqlalchemy import select

        from xindai.store.models import Borrower

        with session_factory(engine)() as session:
            row = session.scalars(
                select(Borrower).where(Borrower.display_name == "张*").order_by(Borrower.id.desc())
            ).first()
            assert row is not None
            borrower_id = row.id
            # nothing personal is stored in clear
            assert "13700000071" not in (row.mobile_enc or "")
            assert id_number not in (row.id_number_enc or "")
    finally:
        engine.dispose()
    path = f"/api/v1/admin/borrowers/{borrower_id}"
    for user in ("reviewer", "ops"):  # masked on every screen, whoever looks
        masked = ok(stack.api.get(path, headers=staff_token(stack, user)))["borrower"]
        assert masked["phone"] == "137****0071" and masked["name"] == "张*"
        assert masked["id_number"] == id_number[:6] + "********" + id_number[-4:]
    reveal = f"{path}/reveal"  # risk checks the person: one value at a time, audited
    risk = staff_token(stack)
    assert ok(stack.api.post(reveal, headers=risk, json={"field": "phone"}))["value"] == (
        "13700000071"
    )
    assert ok(stack.api.post(reveal, headers=risk, json={"field": "id_number"}))["value"] == (
        id_number
    )
    error(
        stack.api.post(reveal, headers=staff_token(stack, "ops"), json={"field": "phone"}),
        403,
        "PERMISSION_DENIED",
    )
    error(
        stack.api.get(
            f"/api/v1/admin/borrowers/{borrower_id}", headers=staff_token(stack, "finance")
        ),
        403,
        "PERMISSION_DENIED",
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/borrower/auth/code", b"not json"),
        ("post", "/api/v1/borrower/auth/code", b'{"phone": 13800000000}'),
        ("post", "/api/v1/borrower/auth/login", b'{"phone": "1380000000", "code": null}'),
        ("post", "/api/v1/borrower/quote", b'{"product": "INST12", "amount": "1e400", "term": 3}'),
        (
            "post",
            "/api/v1/borrower/quote",
            b'{"product": "INST12", "amount": "99999999999999999999", "term": 3}',
        ),
        ("post", "/api/v1/borrower/quote", b'{"product": "NOPE", "amount": "100", "term": 3}'),
        ("post", "/api/v1/borrower/quote", b'{"product": "INST12", "amount": "100", "term": -3}'),
        ("get", "/api/v1/borrower/loans/abc", b""),
        ("get", "/api/v1/borrower/loans/99999999999999999999999", b""),
        ("post", "/api/v1/admin/auth/login", b'{"username": "", "password": ""}'),
        ("post", "/api/v1/callbacks/payment", b"\xff\xfe"),
        ("delete", "/api/v1/borrower/me", b""),
    ],
)
def test_bad_input_is_a_4xx_never_a_500(stack: Stack, method: str, path: str, body: bytes) -> None:
    response = stack.api.request(
        method.upper(), path, content=body, headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["code"]


def test_ids_beyond_bigint_are_refused_not_overflowed(stack: Stack) -> None:
    auth = login_borrower(stack, "13700000091")
    for path in (
        "/api/v1/borrower/applications/99999999999999999999",
        "/api/v1/borrower/loans/9223372036854775808",
        "/api/v1/borrower/loans/0",
    ):
        error(stack.api.get(path, headers=auth), 422, "VALIDATION_ERROR")
    error(
        stack.api.get("/api/v1/borrower/loans/9223372036854775807", headers=auth), 404, "NOT_FOUND"
    )
