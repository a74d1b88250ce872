"""Request bodies are limited, over HTTP against the real server: 64 KiB for JSON, 12 MiB for
the real-name photos; a declared length above the limit and a chunked body that grows past
it are both refused with 413 `BODY_TOO_LARGE`."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest

from xindai.api.middleware import JSON_BODY_LIMIT, UPLOAD_BODY_LIMIT
from xindai.api.schemas import PHOTO_MAX_CHARS

from .conftest import Live

pytestmark = pytest.mark.e2e
JSON = {"content-type": "application/json"}


def padded(body: dict, size: int) -> bytes:
    """`body` as JSON of exactly `size` bytes (trailing spaces are valid JSON)."""
    text = json.dumps(body).encode()
    assert len(text) <= size
    return text + b" " * (size - len(text))


def chunks(content: bytes, size: int = 16 * 1024) -> Iterator[bytes]:
    """The body streamed without a Content-Length (chunked transfer encoding)."""
    for start in range(0, len(content), size):
        yield content[start : start + size]


def too_large(response) -> None:
    assert response.status_code == 413, response.text[:300]
    body = response.json()
    assert body["code"] == "BODY_TOO_LARGE"
    assert body["message"]["zh-CN"] and body["message"]["en"]
    assert body["request_id"] == response.headers["x-request-id"]


def test_json_bodies_up_to_the_limit_are_read(live: Live) -> None:
    body = padded({"phone": "12345"}, JSON_BODY_LIMIT)
    response = live.api.post("/api/v1/borrower/auth/code", content=body, headers=JSON)
    assert response.status_code == 400 and response.json()["code"] == "PHONE_INVALID"
    streamed = live.api.post("/api/v1/borrower/auth/code", content=chunks(body), headers=JSON)
    assert streamed.status_code == 400 and streamed.json()["code"] == "PHONE_INVALID"


def test_a_json_body_over_the_limit_is_413(live: Live) -> None:
    body = padded({"phone": "12345"}, JSON_BODY_LIMIT + 1)
    too_large(live.api.post("/api/v1/borrower/auth/code", content=body, headers=JSON))
    ten_mb = padded({"username": "admin", "password": "x"}, 10 * 1024 * 1024)
    too_large(live.api.post("/api/v1/admin/auth/login", content=ten_mb, headers=JSON))


def test_a_chunked_body_growing_past_the_limit_is_413(live: Live) -> None:
    body = padded({"phone": "12345"}, 4 * JSON_BODY_LIMIT)
    response = live.api.post("/api/v1/borrower/auth/code", content=chunks(body), headers=JSON)
    assert "content-length" not in response.request.headers
    too_large(response)


def test_the_real_name_route_takes_photos_up_to_its_own_limit(live: Live) -> None:
    auth = live.borrower_auth("13912340101")
    photo = base64.b64encode(b"\xff\xd8\xff\xe0" * (PHOTO_MAX_CHARS // 8)).decode()
    assert JSON_BODY_LIMIT < 3 * len(photo) < UPLOAD_BODY_LIMIT
    kyc = {"name": "张三", "id_number": "123", "id_front": photo, "id_back": photo, "face": photo}
    response = live.api.post("/api/v1/borrower/kyc", headers=auth, json=kyc)
    assert response.status_code == 400, response.text[:300]  # read; refused on its merits
    assert response.json()["code"] == "ID_FORMAT"
    streamed = live.api.post(
        "/api/v1/borrower/kyc",
        headers={**auth, **JSON},
        content=chunks(json.dumps(kyc).encode(), 256 * 1024),
    )
    assert streamed.status_code == 400 and streamed.json()["code"] == "ID_FORMAT"


def test_the_real_name_route_refuses_more_than_its_limit(live: Live) -> None:
    auth = live.borrower_auth("13912340102")
    body = padded({"name": "张三"}, UPLOAD_BODY_LIMIT + 1)
    too_large(live.api.post("/api/v1/borrower/kyc", headers={**auth, **JSON}, content=body))
    too_large(
        live.api.post(
            "/api/v1/borrower/kyc",
            headers={**auth, **JSON},
            content=chunks(body, 256 * 1024),
        )
    )
