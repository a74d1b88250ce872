"""Errors are JSON with a stable code: an unexpected one is a logged 500 `INTERNAL_ERROR`
with the request id, every response carries `X-Request-ID`, a 405 says what is allowed, and
an amount beyond what the platform takes is a 4xx, never an overflow."""

from __future__ import annotations

import logging
import re

import pytest

from .conftest import Live, Local

HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def failing_route(local: Local) -> str:
    """A route that fails as a bug would (added to the app under test only)."""
    path = "/api/v1/borrower/__test_failure"

    @local.app.get(path, include_in_schema=False)
    def broken() -> dict[str, str]:
        raise RuntimeError("a bug: a secret detail the client must not see")

    local.app.middleware_stack = None  # rebuilt with the new route on the next call
    return path


def test_an_unexpected_error_is_a_json_500_logged_with_its_traceback(
    local: Local, failing_route: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="xindai.api"):
        response = local.client.get(failing_route, headers={"X-Request-ID": "support-42"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == "INTERNAL_ERROR"
    assert body["message"]["zh-CN"] and body["message"]["en"]
    assert body["request_id"] == "support-42" == response.headers["x-request-id"]
    assert "secret detail" not in response.text
    [record] = [r for r in caplog.records if r.name == "xindai.api"]
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    assert "support-42" in record.getMessage() and failing_route in record.getMessage()


def test_every_response_has_a_request_id(local: Local) -> None:
    ok = local.client.get("/health")
    assert ok.status_code == 200 and HEX_ID.fullmatch(ok.headers["x-request-id"])
    assert local.client.get("/health").headers["x-request-id"] != ok.headers["x-request-id"]
    given = "3f2b8c1e-7d4a-4c3b-9e8f-0a1b2c3d4e5f"
    echoed = local.client.get("/health", headers={"X-Request-ID": given})
    assert echoed.headers["x-request-id"] == given
    for insane in ("a" * 129, "two words", "<script>", "id;drop"):
        replaced = local.client.get("/health", headers={"X-Request-ID": insane})
        assert HEX_ID.fullmatch(replaced.headers["x-request-id"]), insane
    refused = local.client.get("/api/v1/borrower/me")  # errors carry it in the body too
    assert refused.status_code == 401
    assert refused.json()["request_id"] == refused.headers["x-request-id"]
    missing = local.client.get("/api/v1/nowhere")
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    assert missing.json()["request_id"] == missing.headers["x-request-id"]


def test_405_says_which_methods_are_allowed(local: Local) -> None:
    response = local.client.delete("/api/v1/borrower/me")
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
    assert response.headers["allow"] == "GET"
    both = local.client.patch("/api/v1/borrower/applications/1/more-info")
    assert both.status_code == 405
    assert set(both.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


@pytest.mark.parametrize(
    "amount",
    ["99999999999999999999", "10000000000.01", "-10000000000.01", "9" * 19 + ".99"],
)
def test_an_amount_beyond_the_platform_maximum_is_a_400(local: Local, amount: str) -> None:
    staff = local.staff_auth("reviewer")
    response = local.client.post(
        "/api/v1/admin/reviews/1/decide",
        headers=staff,
        json={"approve": True, "amount": amount},
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "AMOUNT_TOO_LARGE"
    assert response.json()["field"] == "amount"


def test_the_platform_maximum_itself_is_accepted(local: Local) -> None:
    staff = local.staff_auth("reviewer")
    response = local.client.post(
        "/api/v1/admin/reviews/999/decide",
        headers=staff,
        json={"approve": True, "amount": "10000000000.00"},
    )
    assert response.status_code == 404, response.text  # parsed; no such application


@pytest.mark.e2e
def test_a_huge_repayment_or_quote_is_a_400_over_http(live: Live) -> None:
    auth = live.borrower_auth()
    for path, body in (
        (
            "/api/v1/borrower/loans/1/repayments",
            {"mode": "amount", "amount": "99999999999999999999"},
        ),
        ("/api/v1/borrower/quote", {"product": "INST12", "amount": "1" + "0" * 18, "term": 3}),
    ):
        response = live.api.post(path, headers=auth, json=body)
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "AMOUNT_TOO_LARGE"
        assert response.headers["x-request-id"] == response.json()["request_id"]
