"""The second-factor routes through the real ASGI app: `POST /api/v1/admin/me/totp`
({password, code?} → {totp_uri, secret, status: "pending"}) and `POST /me/totp/confirm`
({code} → {status: "active"}), as the holder of a stolen staff session would try them."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from xindai.security import totp

with warnings.catch_warnings():  # Starlette 1.x would rather have httpx2; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PASSWORD = "correct-horse-battery-9"
LOGIN = "/api/v1/admin/auth/login"
ENROL = "/api/v1/admin/me/totp"
CONFIRM = "/api/v1/admin/me/totp/confirm"


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 12, 1, 10, 0, 0)

    def __call__(self) -> datetime:
        return self.at

    def step(self) -> datetime:
        self.at += timedelta(seconds=30)
        return self.at


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, Clock]]:
    from xindai.api.app import create_app
    from xindai.bootstrap import bootstrap
    from xindai.platform import Platform
    from xindai.settings import Settings, override_settings
    from xindai.store import migrate

    settings = Settings(data_dir=tmp_path, provider_secret="totp-api-secret")
    clock = Clock()
    with override_settings(settings):
        migrate.upgrade(settings.database_url)
        platform = Platform.from_settings(settings, clock=clock)
        bootstrap(
            platform.sessions,
            cipher=platform.cipher,
            today=clock().date(),
            admin_password=PASSWORD,
        )
        with TestClient(create_app(platform), raise_server_exceptions=False) as client:
            yield client, clock


def login(client: TestClient, code: str | None = None) -> Any:
    return client.post(LOGIN, json={"username": "admin", "password": PASSWORD, "totp": code})


def bearer(response: Any) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_enrol_confirm_and_reenrol_over_http(api: tuple[TestClient, Clock]) -> None:
    client, clock = api
    auth = bearer(login(client))

    # the session alone is not enough: the current password is asked for
    assert client.post(ENROL, headers=auth, json={}).status_code == 422
    refused = client.post(ENROL, headers=auth, json={"password": "from-a-stolen-session"})
    assert refused.status_code in (400, 403) and refused.json()["code"] == "REAUTH_FAILED"
    assert client.post(ENROL, json={"password": PASSWORD}).status_code == 401  # no session

    enrolled = client.post(ENROL, headers=auth, json={"password": PASSWORD})
    assert enrolled.status_code == 200, enrolled.text
    body = enrolled.json()
    assert body["status"] == "pending" and body["totp_uri"].startswith("otpauth://totp/")
    first = body["secret"]
    assert login(client).status_code == 200  # pending: not a second factor yet

    wrong = f"{(int(totp.code_at(first, clock())) + 1) % 1_000_000:06d}"
    assert client.post(CONFIRM, headers=auth, json={"code": wrong}).json()["code"] == (
        "TOTP_INVALID"
    )
    confirmed = client.post(CONFIRM, headers=auth, json={"code": totp.code_at(first, clock())})
    assert confirmed.status_code == 200 and confirmed.json() == {"status": "active"}
    again = client.post(CONFIRM, headers=auth, json={"code": totp.code_at(first, clock())})
    assert again.json()["code"] == "TOTP_NOT_PENDING"

    # the administrator now needs a code
    assert login(client).json()["code"] == "TOTP_REQUIRED"
    clock.step()
    auth = bearer(login(client, totp.code_at(first, clock())))

    # re-enrolling with a session and the password only is refused: the current code is needed
    takeover = client.post(ENROL, headers=auth, json={"password": PASSWORD})
    assert takeover.json()["code"] == "TOTP_REQUIRED"
    clock.step()
    renewed = client.post(
        ENROL, headers=auth, json={"password": PASSWORD, "code": totp.code_at(first, clock())}
    )
    assert renewed.status_code == 200, renewed.text
    second = renewed.json()["secret"]
    # until confirmed the old factor holds, the new one does not log in
    clock.step()
    assert login(client, totp.code_at(second, clock())).json()["code"] == "TOTP_INVALID"
    assert login(client, totp.code_at(first, clock())).status_code == 200
    clock.step()
    assert client.post(
        CONFIRM, headers=auth, json={"code": totp.code_at(second, clock())}
    ).json() == {"status": "active"}
    clock.step()
    assert login(client, totp.code_at(first, clock())).json()["code"] == "TOTP_INVALID"
    assert login(client, totp.code_at(second, clock())).status_code == 200
