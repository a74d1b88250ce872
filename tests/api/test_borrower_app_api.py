"""The borrower app's routes (api.borrower_app) against a real `xindai serve` process and the
provider simulators as their own process, on SQLite and on PostgreSQL: products and the home
screen, the BIN look-up, cards, the masked profile, messages, application progress (approved,
rejected with the customer's reasons, in manual review with its deadline, paid out), today's
repayment options against servicing's own quotes, repayment in each mode, receipts, and every
record of one borrower a 404 for another. (After every test the autouse check of conftest:
the channel's statement = the journal, the trial balance balances.)"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from tests.conftest import _create_pg_database, _drop_pg_database, _pg_admin_url
from tests.e2e.people import GOOD_PROFILE, all_to_review

from xindai.integrations.simulators.bureau import bureau_profile
from xindai.integrations.simulators.config import SimulatorConfig
from xindai.integrations.simulators.process import SimulatorProcess, free_port
from xindai.money import format_yuan, parse_yuan
from xindai.origination.cards import valid_sample_card
from xindai.origination.identity import valid_sample_ids
from xindai.origination.kyc_photos import image_type, photo_content
from xindai.origination.repayment_options import current_due_fen
from xindai.security.pii import PiiCipher
from xindai.servicing.account import extension_quote, payoff_quote
from xindai.settings import Settings
from xindai.store import repository as repo
from xindai.store.db import make_engine, session_factory, transaction
from xindai.store.models_admin import SmsMessage
from xindai.store.models_origination import BorrowerPhoto, KycPhoto, Withholding

from .conftest import SECRET, Live, start_server

pytestmark = pytest.mark.e2e
BORROWER = "/api/v1/borrower"
PHOTO = "/9j/4AAQ"  # base64 of a JPEG's first bytes


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    ],
)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """`xindai serve` and the simulators on this module's own database (named `live`, so that
    conftest's reconciliation after each test checks it)."""
    folder = tmp_path_factory.mktemp(f"app-{request.param}")
    pg_name = None
    if request.param == "sqlite":
        database = f"sqlite:///{folder / 'xindai.db'}"
    else:
        admin = request.getfixturevalue("pg_admin")
        pg_name = _create_pg_database(admin)
        database = make_url(_pg_admin_url()).set(database=pg_name).render_as_string(False)
    config = SimulatorConfig(secret=SECRET, callback_delay_ms=50, seed=17)
    try:
        with SimulatorProcess(config) as sim:
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            env = {
                **os.environ,
                "XINDAI_DATABASE_URL": database,
                "XINDAI_DATA_DIR": str(folder),
                "XINDAI_PROVIDERS_URL": sim.base_url,
                "XINDAI_PROVIDER_SECRET": SECRET,
                "XINDAI_PUBLIC_URL": base,
            }
            log = folder / "server.log"
            server = start_server(env, port, log)
            try:
                client = httpx.Client(base_url=base, timeout=30)
                for _ in range(600):
                    try:
                        if client.get("/health").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if server.poll() is not None:
                        raise RuntimeError(log.read_text())
                    time.sleep(0.1)
                else:
                    raise RuntimeError(log.read_text())
                yield Live(client, sim, base, database, log)
                client.close()
            finally:
                server.terminate()
                try:
                    server.wait(timeout=10)
                except Exception:
                    server.kill()
    finally:
        if pg_name is not None:
            _drop_pg_database(request.getfixturevalue("pg_admin"), pg_name)


# ------------------------------------------------------------------ helpers


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["message"]["zh-CN"] and body["message"]["en"], body
    return body


def wait_for(what: str, check: Any, *, tries: int = 400) -> Any:
    """`check()` once it is truthy (polled every 0.1 s; bounded, not timed)."""
    for _ in range(tries):
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what}: not reached")


def id_of(profile: str, seed: int) -> str:
    return next(n for n in valid_sample_ids(seed=seed, count=400) if bureau_profile(n) == profile)


def onboard(
    live: Live, phone: str, seed: int, *, profile: str = "clean", name: str = "张三"
) -> tuple[dict[str, str], int]:
    """Steps 1–5 through the API: the session and the verified card's id."""
    auth = live.borrower_auth(phone)
    items = [
        {"code": a["code"], "version": a["version"]}
        for a in ok(live.api.get(f"{BORROWER}/agreements"))
    ]
    ok(live.api.post(f"{BORROWER}/agreements/accept", headers=auth, json={"items": items}))
    kyc = {"name": name, "id_number": id_of(profile, seed), "id_front": PHOTO, "id_back": PHOTO}
    ok(live.api.post(f"{BORROWER}/kyc", headers=auth, json={**kyc, "face": PHOTO}))
    contacts = [
        {"name": "张父", "phone": f"1390{phone[-7:]}", "relation": "parent"},
        {"name": "李四", "phone": f"1391{phone[-7:]}", "relation": "friend"},
    ]
    ok(live.api.put(f"{BORROWER}/contacts", headers=auth, json={"contacts": contacts}))
    card = {"card_number": valid_sample_card("ICBC", seed), "phone": phone}
    started = ok(live.api.post(f"{BORROWER}/cards", headers=auth, json=card), 201)
    code = live.sim.control.last_sms_code(phone)
    ok(live.api.post(f"{BORROWER}/cards/{started['card_id']}/confirm", headers=auth,
                     json={"code": code}))  # fmt: skip
    return auth, started["card_id"]


def apply(
    live: Live, auth: dict[str, str], card_id: int, product: str, amount: str, term: int
) -> dict[str, Any]:
    body = {
        "product": product,
        "amount": amount,
        "term": term,
        "purpose": "consumption",
        "card_id": card_id,
        "device_fingerprint": f"dev-app-{card_id}-{product}",
        **GOOD_PROFILE,
    }
    result: dict[str, Any] = ok(
        live.api.post(f"{BORROWER}/applications", headers=auth, json=body), 201
    )
    return result


def paid_out_loan(
    live: Live, phone: str, seed: int, product: str = "CASH14", amount: str = "1000", term: int = 14
) -> tuple[dict[str, str], int, int]:
    """A borrower with a loan paid out: the session, the application and the loan."""
    auth, card_id = onboard(live, phone, seed)
    application = apply(live, auth, card_id, product, amount, term)
    assert application["status"] == "approved", application
    path = f"{BORROWER}/applications/{application['id']}"
    ok(live.api.post(f"{path}/sign", headers={**auth, "Idempotency-Key": f"sign-{phone}"}))
    view = wait_for(
        "payout",
        lambda: (v := ok(live.api.get(path, headers=auth)))["status"] == "disbursed" and v,
    )
    return auth, application["id"], view["loan_id"]


def servicing_quotes(live: Live, loan_id: int) -> dict[str, Any]:
    """What servicing itself says of the loan on the business date (read from the database)."""
    engine = make_engine(live.database_url)
    try:
        with transaction(session_factory(engine), read_only=True) as session:
            _, state = repo.load_state(session, loan_id)
            today = repo.get_business_date(session)
            assert today is not None
            quotes: dict[str, Any] = {
                "today": today,
                "payoff": payoff_quote(state, today),
                "current_due": current_due_fen(state, today),
                "outstanding": state.outstanding_total,
                "extensions": state.extension_count,
                "due_date": next(i.due_date for i in state.live if not i.is_settled),
            }
            if state.rules.extension_allowed:
                quotes["extension"] = extension_quote(state, today)
            return quotes
    finally:
        engine.dispose()


def withholdings(live: Live, loan_id: int) -> list[Withholding]:
    engine = make_engine(live.database_url)
    try:
        with transaction(session_factory(engine), read_only=True) as session:
            return list(
                session.scalars(select(Withholding).where(Withholding.loan_id == loan_id)).all()
            )
    finally:
        engine.dispose()


def repay(
    live: Live, auth: dict[str, str], loan_id: int, key: str | None = None, **body: Any
) -> httpx.Response:
    headers = {**auth, **({"Idempotency-Key": key} if key else {})}
    return live.api.post(f"{BORROWER}/loans/{loan_id}/repayments", headers=headers, json=body)


def settled(live: Live, auth: dict[str, str], loan_id: int, reference: str) -> dict[str, Any]:
    """The receipt of `reference` once the channel's result has been applied."""

    def done() -> dict[str, Any] | None:
        for receipt in ok(live.api.get(f"{BORROWER}/loans/{loan_id}/receipts", headers=auth)):
            if receipt["reference"] == reference and receipt["status"] != "requested":
                return dict(receipt)
        return None

    found: dict[str, Any] = wait_for(f"receipt {reference}", done)
    return found


# ------------------------------------------------------------------ products, home


def test_products_carry_their_terms_and_cost(live: Live) -> None:
    products = {p["code"]: p for p in ok(live.api.get(f"{BORROWER}/products"))}
    assert {"CASH14", "INST12"} <= products.keys()
    cash = products["CASH14"]
    assert cash["terms"] == [14, 21] and cash["period_unit"] == "day"
    assert (cash["amount_min"], cash["amount_max"], cash["amount_step"]) == (
        "500.00",
        "5000.00",
        "100.00",
    )
    assert cash["extension"] is True and cash["extension_days"] == 7 and cash["extension_max"] == 2
    assert products["INST12"]["extension"] is False and products["INST12"]["extension_max"] == 0
    # the cost at each term brackets the schedule's own cost for the amounts at its ends
    for code, product in products.items():
        for cost in product["costs"]:
            for amount in (product["amount_min"], product["amount_max"]):
                quote = ok(
                    live.api.post(
                        f"{BORROWER}/quote",
                        json={"product": code, "amount": amount, "term": cost["term"]},
                    )
                )
                apr = Decimal(quote["apr"])
                assert Decimal(cost["apr_min"]) <= apr <= Decimal(cost["apr_max"]), (code, cost)
        assert Decimal(product["apr_min"]) <= Decimal(product["apr_max"]) <= Decimal("0.24")
        assert product["eligible"] is True and product["ineligible_reason"] is None
    banks = {b["code"]: b for b in ok(live.api.get(f"{BORROWER}/banks"))}
    assert banks["ICBC"]["name"] == "中国工商银行" and len(banks) >= 10


def test_home_follows_onboarding(live: Live) -> None:
    phone = "13700000101"
    auth = live.borrower_auth(phone)
    home = ok(live.api.get(f"{BORROWER}/home", headers=auth))
    assert home["steps"] == {"agreements": False, "kyc": False, "contacts": False, "card": False}
    assert home["limit"]["kind"] == "products" and home["credit_line"] is None
    amounts = [parse_yuan(p["amount_max"]) for p in home["products"]]
    assert parse_yuan(home["limit"]["amount"]) == max(amounts)
    assert home["next_due"] is None and home["application"] is None
    assert home["business_date"] == ok(live.api.get("/health"))["business_date"]
    # the login code went to this phone: the message is shown, the code never
    code = live.sim.control.last_sms_code(phone)
    [message] = home["messages"]
    assert message["kind"] == "login" and message["phone"] == "137****0101"
    assert code not in (message["text"] or "") and "******" in (message["text"] or "")

    auth, card_id = onboard(live, "13700000102", seed=102)
    home = ok(live.api.get(f"{BORROWER}/home", headers=auth))
    assert home["steps"] == {"agreements": True, "kyc": True, "contacts": True, "card": True}
    application = apply(live, auth, card_id, "INST12", "3000", 3)
    home = ok(live.api.get(f"{BORROWER}/home", headers=auth))
    assert home["application"] == {"id": application["id"], "status": "approved"}
    refused(live.api.get(f"{BORROWER}/home"), 401, "AUTH_REQUIRED")


# ------------------------------------------------------------------ cards, profile, messages


def test_bin_lookup_cards_and_masked_profile(live: Live) -> None:
    phone = "13700000201"
    auth, card_id = onboard(live, phone, seed=201, name="欧阳娜娜")
    lookup = f"{BORROWER}/cards/bin"
    typed = ok(live.api.post(lookup, headers=auth, json={"card_number": "622202"}))
    assert (typed["bank_code"], typed["kind"], typed["supported"]) == ("ICBC", "debit", True)
    assert typed["complete"] is False and typed["luhn_valid"] is None
    card = valid_sample_card("CCB", 7)
    whole = ok(live.api.post(lookup, headers=auth, json={"card_number": card}))
    assert whole["bank_code"] == "CCB" and whole["complete"] and whole["luhn_valid"] is True
    wrong = card[:-1] + str((int(card[-1]) + 1) % 10)
    assert (
        ok(live.api.post(lookup, headers=auth, json={"card_number": wrong}))["luhn_valid"] is False
    )
    credit = ok(live.api.post(lookup, headers=auth, json={"card_number": "622210"}))
    assert credit["kind"] == "credit" and credit["supported"] is False
    assert "信用卡" in credit["message"]["zh-CN"] and credit["message"]["en"]
    unknown = ok(live.api.post(lookup, headers=auth, json={"card_number": "100000"}))
    assert unknown["bank_code"] is None and unknown["supported"] is False
    refused(live.api.post(lookup, headers=auth, json={"card_number": "62a2"}), 400, "INVALID_VALUE")
    refused(live.api.post(lookup, json={"card_number": "622202"}), 401, "AUTH_REQUIRED")

    [shown] = ok(live.api.get(f"{BORROWER}/cards", headers=auth))
    assert shown["card_id"] == card_id and shown["status"] == "verified"
    assert shown["bank_code"] == "ICBC" and shown["phone"] == "137****0201"

    profile = live.api.get(f"{BORROWER}/profile", headers=auth)
    body = ok(profile)
    assert body["name"] == "欧***" and body["phone"] == "137****0201"
    assert body["id_number"][:6] + "********" == body["id_number"][:14]
    assert body["kyc_status"] == "verified" and body["liveness_passed"] is True
    assert body["photos"] == ["face", "id_back", "id_front"]
    assert [c["relation"] for c in body["contacts"]] == ["parent", "friend"]
    assert body["contacts"][0] == {"name": "张*", "phone": "139****0201", "relation": "parent"}
    assert {a["code"] for a in body["agreements"]} == {"user_agreement", "data_authorisation"}
    assert all(a["current"] for a in body["agreements"])
    for secret in (phone, "欧阳娜娜", "13900000201", valid_sample_card("ICBC", 201)):
        assert secret not in profile.text  # nothing personal in clear


def test_id_photos_must_be_images_and_are_stored_encrypted(live: Live) -> None:
    phone = "13700000251"
    auth = live.borrower_auth(phone)
    items = [
        {"code": a["code"], "version": a["version"]}
        for a in ok(live.api.get(f"{BORROWER}/agreements"))
    ]
    ok(live.api.post(f"{BORROWER}/agreements/accept", headers=auth, json={"items": items}))
    front = b"\xff\xd8\xff\xe0 front of the card 251"
    back = b"\x89PNG\r\n\x1a\n back of the card 251"
    face = b"\xff\xd8\xff\xe0 a face 251"
    kyc = {
        "name": "张三",
        "id_number": id_of("clean", 251),
        "id_front": base64.b64encode(front).decode(),
        "id_back": base64.b64encode(back).decode(),
        "face": base64.b64encode(face).decode(),
    }
    text = base64.b64encode(b"%PDF-1.7 not a photo").decode()
    body = refused(
        live.api.post(f"{BORROWER}/kyc", headers=auth, json={**kyc, "id_back": text}),
        400,
        "KYC_PHOTO_INVALID",
    )
    assert body["field"] == "id_back" and "JPG" in body["message"]["zh-CN"]
    big = base64.b64encode(b"\xff\xd8\xff" + b"0" * 3_000_001).decode()  # over 3 MB
    too_large = live.api.post(f"{BORROWER}/kyc", headers=auth, json={**kyc, "id_front": big})
    assert refused(too_large, 422, "VALIDATION_ERROR")["problems"][0]["field"] == "id_front"
    assert ok(live.api.get(f"{BORROWER}/profile", headers=auth))["kyc_status"] == "none"
    ok(live.api.post(f"{BORROWER}/kyc", headers=auth, json=kyc))

    cipher = PiiCipher(Settings(database_url=live.database_url).key_bytes("pii"))
    engine = make_engine(live.database_url)
    try:
        with transaction(session_factory(engine), read_only=True) as session:
            borrower_id = ok(live.api.get(f"{BORROWER}/me", headers=auth))["id"]
            pointers = session.scalars(
                select(BorrowerPhoto).where(BorrowerPhoto.borrower_id == borrower_id)
            ).all()
            stored = {p.kind: session.get(KycPhoto, p.sha256) for p in pointers}
    finally:
        engine.dispose()
    assert sorted(stored) == ["face", "id_back", "id_front"]
    for kind, original in (("id_front", front), ("id_back", back), ("face", face)):
        row = stored[kind]
        assert row is not None and row.content.startswith(b"v1:")
        assert original not in row.content and b"front of the card" not in row.content
        assert row.sha256 != hashlib.sha256(original).hexdigest()  # a keyed hash
        assert photo_content(cipher, row) == (original, image_type(original))
    assert stored["id_back"].content_type == "enc:image/png"


def test_messages_are_the_borrowers_own_and_page(live: Live) -> None:
    phone = "13700000301"
    auth = live.borrower_auth(phone)
    # the login screen's limits: a second code within a minute is refused, in both languages
    again = live.api.post(f"{BORROWER}/auth/code", json={"phone": phone})
    assert "60" in refused(again, 429, "OTP_RESEND_TOO_SOON")["message"]["zh-CN"]
    other = live.borrower_auth("13700000302")
    borrower_id = ok(live.api.get(f"{BORROWER}/me", headers=auth))["id"]
    engine = make_engine(live.database_url)  # a notice as the platform records one it sent
    try:
        with transaction(session_factory(engine)) as session:
            session.add(
                SmsMessage(
                    sent_at=datetime(2026, 1, 2, 9, 0),
                    phone_hash="-",
                    phone_masked="137****0301",
                    template_code="PAYOUT_NOTICE",
                    template_version=1,
                    params=json.dumps({"amount": "1000.00", "card_tail": "1234"}),
                    origin="notice",
                    status="delivered",
                    borrower_id=borrower_id,
                )
            )
    finally:
        engine.dispose()
    mine = ok(live.api.get(f"{BORROWER}/messages", headers=auth))
    assert [m["kind"] for m in mine] == ["notice", "login"]
    assert "1000.00元已发放至尾号1234" in mine[0]["text"]
    assert all(m["phone"] == "137****0301" for m in mine)
    page = ok(live.api.get(f"{BORROWER}/messages", headers=auth, params={"limit": 1}))
    rest = ok(live.api.get(f"{BORROWER}/messages", headers=auth, params={"before": page[0]["id"]}))
    assert [m["id"] for m in page + rest] == [m["id"] for m in mine]
    theirs = ok(live.api.get(f"{BORROWER}/messages", headers=other))
    assert [m["phone"] for m in theirs] == ["137****0302"]
    refused(
        live.api.get(f"{BORROWER}/messages", headers=auth, params={"limit": 0}),
        422,
        "VALIDATION_ERROR",
    )


# ------------------------------------------------------------------ applications


def test_application_progress_from_offer_to_payout(live: Live) -> None:
    auth, card_id = onboard(live, "13700000401", seed=401)
    application = apply(live, auth, card_id, "CASH14", "1000", 14)
    path = f"{BORROWER}/applications/{application['id']}"
    progress = ok(live.api.get(f"{path}/progress", headers=auth))
    assert progress["status"] == "approved" and progress["next_action"] == "sign"
    assert progress["stage"]["zh-CN"].startswith("已批准") and progress["reasons"] == []
    assert progress["review"] is None and progress["payout"] is None
    assert progress["contract"] is None
    live.api.get(f"{path}/contract", headers=auth)
    issued = ok(live.api.get(f"{path}/progress", headers=auth))["contract"]
    assert issued["status"] == "issued" and len(issued["sha256"]) == 64

    ok(live.api.post(f"{path}/sign", headers=auth))
    done = wait_for(
        "paid out",
        lambda: (
            (p := ok(live.api.get(f"{path}/progress", headers=auth)))["status"] == "disbursed" and p
        ),
    )
    assert done["next_action"] == "done" and done["contract"]["status"] == "signed"
    payout = done["payout"]
    assert payout["status"] == "succeeded" and payout["bank"] == "中国工商银行"
    assert payout["amount"] == "1000.00" and payout["attempt"] == 1 and payout["reason"] is None
    [listed] = ok(live.api.get(f"{BORROWER}/applications", headers=auth))
    assert (listed["id"], listed["status"], listed["loan_id"]) == (
        application["id"],
        "disbursed",
        done["loan_id"],
    )
    assert listed["approved_amount"] == "1000.00" and listed["credit_line_draw"] is False


def test_a_refusal_shows_the_customers_reasons(live: Live) -> None:
    auth, card_id = onboard(live, "13700000501", seed=501, profile="serious_overdue")
    application = apply(live, auth, card_id, "INST12", "3000", 3)
    assert application["status"] == "rejected", application
    progress = ok(live.api.get(f"{BORROWER}/applications/{application['id']}/progress",
                               headers=auth))  # fmt: skip
    assert progress["next_action"] == "none" and progress["stage"]["zh-CN"] == "未通过"
    assert progress["reasons"] == application["reasons"] and 1 <= len(progress["reasons"]) <= 4
    assert all("rule" not in r.lower() and "_" not in r for r in progress["reasons"])


def test_manual_review_shows_its_deadline_and_the_request(live: Live) -> None:
    auth, card_id = onboard(live, "13700000601", seed=601)
    with all_to_review(live):
        application = apply(live, auth, card_id, "INST12", "3000", 3)
    if application["status"] != "review":
        pytest.skip(f"the applicant scored outside the widened grey zone: {application['status']}")
    path = f"{BORROWER}/applications/{application['id']}"
    progress = ok(live.api.get(f"{path}/progress", headers=auth))
    review = progress["review"]
    assert progress["next_action"] == "wait_review" and review["status"] == "queued"
    assert review["sla_minutes"] == 120 and review["expected_by"] > review["queued_at"]
    assert 0 <= review["minutes_left"] <= 120 and review["awaiting_reply"] is False
    staff = live.staff_auth("reviewer")
    admin = f"/api/v1/admin/reviews/{application['id']}"
    ok(live.api.post(f"{admin}/claim", headers=staff))
    ok(
        live.api.post(
            f"{admin}/ask-more", headers=staff, json={"request": "请上传近三个月工资流水"}
        )
    )
    waiting = ok(live.api.get(f"{path}/progress", headers=auth))
    assert waiting["next_action"] == "reply_more_info"
    assert waiting["review"]["awaiting_reply"] is True
    assert waiting["review"]["request"] == "请上传近三个月工资流水"
    assert waiting["review"]["expected_by"] is None  # the clock is stopped for the answer
    ok(live.api.post(f"{path}/more-info", headers=auth, json={"reply": "已补充"}))
    back = ok(live.api.get(f"{path}/progress", headers=auth))
    assert back["next_action"] == "wait_review" and back["review"]["expected_by"]


# ------------------------------------------------------------------ repayment


def test_options_are_servicings_quotes_and_what_repay_asks(live: Live) -> None:
    auth, _, loan_id = paid_out_loan(live, "13700000701", seed=701)
    options_path = f"{BORROWER}/loans/{loan_id}/repayment-options"
    options = ok(live.api.get(options_path, headers=auth))
    quotes = servicing_quotes(live, loan_id)
    payoff = quotes["payoff"]
    assert options["as_of"] == quotes["today"].isoformat()
    assert options["payoff"]["total"] == format_yuan(payoff.total_fen)
    assert options["payoff"]["amount"] == format_yuan(payoff.total_fen)  # nothing in flight
    assert options["payoff"]["principal"] == "1000.00"
    assert options["payoff"]["interest"] == format_yuan(payoff.amounts.interest)
    assert options["max_amount"] == options["payoff"]["amount"] and options["in_flight"] == "0.00"
    # what is due, never more than settles the loan today (a bullet loan on its first day)
    due = min(quotes["current_due"], payoff.total_fen)
    assert options["current_due"]["amount"] == format_yuan(due)
    extension = options["extension"]
    assert extension["allowed"] and extension["available"] and extension["refusal"] is None
    assert extension["amount"] == format_yuan(quotes["extension"].total_fen)
    assert extension["fee"] == "5.00" and extension["days"] == 7
    assert (
        extension["new_due_date"]
        == date.fromordinal(quotes["due_date"].toordinal() + 7).isoformat()
    )
    assert (extension["used"], extension["max"]) == (0, 2)

    # more than may be asked is refused, nothing is sent to the channel
    too_much = format_yuan(parse_yuan(options["max_amount"]) + 1)
    refused(
        repay(live, auth, loan_id, mode="amount", amount=too_much), 400, "REPAYMENT_EXCEEDS_OWED"
    )
    assert withholdings(live, loan_id) == []

    # the extension: asked for what the options showed, once per idempotency key
    first = repay(live, auth, loan_id, "ext-1", mode="extension")
    again = repay(live, auth, loan_id, "ext-1", mode="extension")
    asked = ok(first, 202)
    assert ok(again, 202) == asked and again.headers.get("Idempotent-Replay") == "true"
    assert asked["amount"] == extension["amount"] and asked["purpose"] == "extension"
    assert len(withholdings(live, loan_id)) == 1
    receipt = settled(live, auth, loan_id, asked["request_ref"])
    assert receipt["status"] == "succeeded" and receipt["origin"] == "borrower"
    assert receipt["purpose"] == "extension" and receipt["amount"] == extension["amount"]
    assert receipt["asked"] == extension["amount"] and receipt["applied"] is not None
    loan = ok(live.api.get(f"{BORROWER}/loans/{loan_id}", headers=auth))
    assert loan["next_due_date"] == extension["new_due_date"]
    after = ok(live.api.get(options_path, headers=auth))
    assert after["extension"]["used"] == 1 and after["extension"]["available"]

    # a payoff for what the options show settles the loan when the channel confirms
    payoff_amount = after["payoff"]["amount"]
    assert after["payoff"]["total"] == format_yuan(
        servicing_quotes(live, loan_id)["payoff"].total_fen
    )
    paid = ok(repay(live, auth, loan_id, "payoff-1", mode="payoff"), 202)
    assert paid["amount"] == payoff_amount
    receipt = settled(live, auth, loan_id, paid["request_ref"])
    assert receipt["status"] == "succeeded" and receipt["amount"] == payoff_amount
    assert receipt["credit"] == "0.00"
    loan = wait_for(
        "settled",
        lambda: (
            (v := ok(live.api.get(f"{BORROWER}/loans/{loan_id}", headers=auth)))["status"]
            == "settled"
            and v
        ),
    )
    assert loan["outstanding"] == "0.00"
    refused(live.api.get(options_path, headers=auth), 409, "LOAN_NOT_OPEN")
    refused(repay(live, auth, loan_id, mode="payoff"), 409, "LOAN_NOT_OPEN")
    receipts = ok(live.api.get(f"{BORROWER}/loans/{loan_id}/receipts", headers=auth))
    assert [r["reference"] for r in receipts] == [paid["request_ref"], asked["request_ref"]]


def test_installments_no_extension_and_a_failed_collection_posts_nothing(live: Live) -> None:
    auth, _, loan_id = paid_out_loan(live, "13700000801", seed=801, product="INST12",
                                     amount="3000", term=3)  # fmt: skip
    options_path = f"{BORROWER}/loans/{loan_id}/repayment-options"
    options = ok(live.api.get(options_path, headers=auth))
    loan = ok(live.api.get(f"{BORROWER}/loans/{loan_id}", headers=auth))
    first = loan["installments"][0]
    assert options["current_due"]["amount"] == first["total"]
    assert options["current_due"]["installments"] == [1]
    assert options["current_due"]["due_date"] == first["due_date"]
    assert options["payoff"]["total"] == loan["payoff"]
    extension = options["extension"]
    assert extension["allowed"] is False and extension["available"] is False
    assert extension["refusal"]["code"] == "EXTENSION_NOT_ALLOWED" and extension["amount"] is None
    refused(repay(live, auth, loan_id, mode="extension"), 409, "EXTENSION_NOT_ALLOWED")

    live.sim.control.fail_next("withhold")
    asked = ok(repay(live, auth, loan_id, "due-1", mode="current_due"), 202)
    assert asked["amount"] == options["current_due"]["amount"]
    receipt = settled(live, auth, loan_id, asked["request_ref"])
    assert receipt["status"] == "failed" and receipt["amount"] == "0.00"
    assert receipt["applied"] is None and receipt["reason"]["code"] == "forced_failure"
    assert receipt["reason"]["zh-CN"] and receipt["reason"]["en"]
    unchanged = ok(live.api.get(f"{BORROWER}/loans/{loan_id}", headers=auth))
    assert unchanged["outstanding"] == loan["outstanding"]  # nothing posted for a failure

    # while a collection is in flight it is counted against what may be asked
    live.sim.control.payment_control(callback_delay_ms=8000)
    try:
        part = ok(repay(live, auth, loan_id, "part-1", mode="amount", amount="100"), 202)
        during = ok(live.api.get(options_path, headers=auth))
        receipts = ok(live.api.get(f"{BORROWER}/loans/{loan_id}/receipts", headers=auth))
    finally:
        live.sim.control.payment_control(callback_delay_ms=50)
    if receipts[0]["status"] == "requested":  # the channel has not answered yet
        assert during["in_flight"] == "100.00"
        assert parse_yuan(during["max_amount"]) == parse_yuan(options["max_amount"]) - 10_000
        assert during["payoff"]["amount"] == during["max_amount"]
        assert receipts[0]["amount"] == "0.00" and receipts[0]["applied"] is None
    receipt = settled(live, auth, loan_id, part["request_ref"])
    assert receipt["status"] == "succeeded" and receipt["amount"] == "100.00"
    assert sum(parse_yuan(v) for v in receipt["applied"].values()) == 10_000
    paid = ok(live.api.get(f"{BORROWER}/loans/{loan_id}", headers=auth))
    assert parse_yuan(paid["outstanding"]) == parse_yuan(loan["outstanding"]) - 10_000
    home = ok(live.api.get(f"{BORROWER}/home", headers=auth))
    due = home["next_due"]
    assert due["loan_id"] == loan_id and due["due_date"] == first["due_date"]
    assert parse_yuan(due["amount"]) == parse_yuan(first["total"]) - 10_000
    assert due["open_loans"] == 1 and due["overdue"] is False and due["days_left"] > 0


# ------------------------------------------------------------------ scoping


def test_another_borrowers_records_are_not_found(live: Live) -> None:
    auth, application_id, loan_id = paid_out_loan(live, "13700000901", seed=901)
    other = live.borrower_auth("13700000902")
    for path in (
        f"/applications/{application_id}/progress",
        f"/applications/{application_id}",
        f"/loans/{loan_id}",
        f"/loans/{loan_id}/repayment-options",
        f"/loans/{loan_id}/receipts",
    ):
        refused(live.api.get(f"{BORROWER}{path}", headers=other), 404, "NOT_FOUND")
        refused(live.api.get(f"{BORROWER}{path}"), 401, "AUTH_REQUIRED")
        ok(live.api.get(f"{BORROWER}{path}", headers=auth))
    refused(repay(live, other, loan_id, mode="payoff"), 404, "NOT_FOUND")
    assert ok(live.api.get(f"{BORROWER}/applications", headers=other)) == []
    assert ok(live.api.get(f"{BORROWER}/cards", headers=other)) == []
    assert ok(live.api.get(f"{BORROWER}/home", headers=other))["next_due"] is None
    missing = 2**62
    refused(live.api.get(f"{BORROWER}/loans/{missing}/receipts", headers=auth), 404, "NOT_FOUND")
