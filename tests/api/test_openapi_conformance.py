"""A bounded schemathesis run against the real server: every operation of /openapi.json,
generated from the document (valid and invalid inputs), with a borrower's session on the
borrower routes and a staff session of the role each admin route needs, must answer no 5xx,
only documented statuses, with bodies, content types and headers as documented."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import Live

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = int(os.environ.get("XINDAI_SCHEMATHESIS_EXAMPLES", "20"))
"""Examples per operation (and per generation mode); more with XINDAI_SCHEMATHESIS_EXAMPLES."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]


@pytest.fixture(scope="module")
def sessions(live: Live) -> dict[str, dict[str, str]]:
    """Authorization headers by who calls: a borrower, and staff of the roles the admin
    routes need (risk for most, finance for payouts, the administrator for staff)."""
    return {
        "risk": live.staff_auth("reviewer"),
        "finance": live.staff_auth("finance"),
        "admin": live.staff_auth("admin"),
    }


@pytest.fixture(scope="module")
def known(live: Live, sessions: dict[str, dict[str, str]]) -> dict[str, int]:
    """Records that exist, so that the run reaches past 404s: the borrower's card, an
    application approved, signed and paid out, its loan, and its borrower (path parameter
    name → id). The borrower's session goes into `sessions`."""
    auth, card_id = live.onboard("13712349999", seed=41)
    sessions["borrower"] = auth
    application = live.ok(
        live.api.post(
            "/api/v1/borrower/applications",
            headers=auth,
            json={
                "product": "INST12",
                "amount": "3000",
                "term": 3,
                "purpose": "consumption",
                "card_id": card_id,
                "device_fingerprint": "dev-schemathesis",
                "monthly_income": "15000",
                "employment_type": "salaried",
                "education": "bachelor",
                "city": "上海",
                "phonebook_count": 320,
            },
        ),
        201,
    )
    assert application["status"] == "approved", application
    path = f"/api/v1/borrower/applications/{application['id']}"
    live.ok(live.api.post(f"{path}/sign", headers=auth))
    deadline = time.monotonic() + 20
    while (view := live.ok(live.api.get(path, headers=auth)))["status"] != "disbursed":
        assert time.monotonic() < deadline, view
        time.sleep(0.1)
    borrower_id = live.ok(live.api.get("/api/v1/borrower/me", headers=auth))["id"]
    return {
        "card_id": card_id,
        "application_id": application["id"],
        "loan_id": view["loan_id"],
        "borrower_id": borrower_id,
    }


def caller(path: str) -> str | None:
    if path.startswith("/api/v1/borrower/") and "/auth/" not in path:
        return "borrower"
    if path.startswith(("/api/v1/admin/staff", "/api/v1/admin/me")):
        return "admin"
    if "/payout/" in path:
        return "finance"
    if path.startswith("/api/v1/admin/") and "/auth/" not in path:
        return "risk"
    return None


def _document() -> dict[str, Any]:
    """The OpenAPI document the server serves, built as `xindai serve` builds it (the
    operations are collected from it before the server starts; `served_document` checks
    that the running server serves exactly this)."""
    from xindai.api.app import create_app
    from xindai.platform import Platform
    from xindai.settings import Settings

    return create_app(Platform.from_settings(Settings(database_url="sqlite://"))).openapi()


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


ANSWERS: Counter[tuple[str, int]] = Counter()
"""(operation, status) → how many times it was answered, for the summary."""


@pytest.fixture(scope="module", autouse=True)
def served_document(live: Live) -> Iterator[None]:
    served = live.api.get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == DOCUMENT, "the server's /openapi.json is not the one tested"
    yield
    if os.environ.get("XINDAI_SCHEMATHESIS_SUMMARY"):
        by_operation: dict[str, list[str]] = {}
        for (operation, status), count in sorted(ANSWERS.items()):
            by_operation.setdefault(operation, []).append(f"{status}×{count}")
        print(f"\n{sum(ANSWERS.values())} requests over {len(by_operation)} operations")
        for operation, statuses in by_operation.items():
            print(f"  {operation:<70} {' '.join(statuses)}")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same inputs every run: a failure is reproducible
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_the_server_answers_as_documented(
    case: schemathesis.Case,
    live: Live,
    sessions: dict[str, dict[str, str]],
    known: dict[str, int],
) -> None:
    operation = f"{case.method.upper()} {case.path}"
    # every other example of an operation on a record is about one that exists
    if case.path_parameters and sum(n for (o, _), n in ANSWERS.items() if o == operation) % 2:
        for name in case.path_parameters.keys() & known.keys():
            case.path_parameters[name] = known[name]
    who = caller(case.path)
    headers = dict(sessions[who]) if who is not None else {}
    if case.headers and "Authorization" in case.headers:
        headers.pop("Authorization", None)  # the generated one is tried as it is
    response = case.call_and_validate(base_url=live.base_url, headers=headers, checks=CHECKS)
    ANSWERS[(operation, response.status_code)] += 1
