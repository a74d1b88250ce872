"""`xindai serve` as an operator and an attacker meet it: it refuses to be reachable from
elsewhere with development secrets (and names them), takes the administrator's password from
the environment or a hidden prompt but never from argv, believes X-Forwarded-For only from
XINDAI_TRUSTED_PROXIES, and prints the URLs it serves once it listens. The server tests start
real `xindai serve` processes on loopback."""

from __future__ import annotations

import base64
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from xindai.cli import main
from xindai.cli import serve as serve_cli
from xindai.errors import InvalidValue
from xindai.settings import Settings, dev_key, override_settings

PASSWORD = "correct-horse-battery-9"
KEY = base64.b64encode(b"k" * 32).decode()
DEFAULTS = ("XINDAI_PII_KEY", "XINDAI_SECRET_KEY", "XINDAI_PROVIDER_SECRET")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


# ------------------------------------------------------------------ development secrets


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "example.com"])
def test_serve_refuses_to_listen_beyond_loopback_with_development_secrets(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, host: str
) -> None:
    with override_settings(data_dir=tmp_path):
        code, out, err = run(capsys, "serve", "--host", host)
    assert code == 2 and out == ""
    message = " ".join(err.split())
    assert "refusing to serve beyond loopback with development secrets" in message
    for name in DEFAULTS:  # every missing one is named
        assert name in message
    assert "base64.b64encode(os.urandom(32))" in message  # and how to make one
    assert not (tmp_path / "xindai.db").exists()  # refused before touching the database


def test_the_message_names_only_what_is_missing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with override_settings(data_dir=tmp_path, pii_key=KEY, secret_key=KEY):
        code, _, err = run(capsys, "serve", "--host", "0.0.0.0")
    assert code == 2
    assert "set XINDAI_PROVIDER_SECRET " in err and "XINDAI_PII_KEY" not in err


@pytest.mark.parametrize(
    ("values", "missing"),
    [
        ({}, list(DEFAULTS)),
        ({"pii_key": KEY, "secret_key": KEY}, ["XINDAI_PROVIDER_SECRET"]),
        # the published simulator secret, or blank, is no secret
        (
            {"pii_key": KEY, "secret_key": KEY, "provider_secret": "xindai-simulator-secret"},
            ["XINDAI_PROVIDER_SECRET"],
        ),
        ({"pii_key": KEY, "secret_key": KEY, "provider_secret": "  "}, ["XINDAI_PROVIDER_SECRET"]),
        # the development keys spelt out are development keys
        (
            {
                "pii_key": base64.b64encode(dev_key("pii")).decode(),
                "secret_key": base64.b64encode(dev_key("secret")).decode(),
                "provider_secret": "agreed-with-the-channel",
            },
            ["XINDAI_PII_KEY", "XINDAI_SECRET_KEY"],
        ),
        ({"pii_key": KEY, "secret_key": KEY, "provider_secret": "agreed-with-the-channel"}, []),
    ],
)
def test_development_defaults(values: dict[str, str], missing: list[str], tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, **values)
    assert settings.development_defaults() == missing
    if missing:
        with pytest.raises(InvalidValue):
            serve_cli.check_secrets(settings, "0.0.0.0")
    else:
        serve_cli.check_secrets(settings, "0.0.0.0")
    serve_cli.check_secrets(settings, "127.0.0.1")  # loopback: development is fine


def test_behind_a_proxy_loopback_is_no_excuse(tmp_path: Path) -> None:
    # nginx on the same machine forwards the internet to 127.0.0.1: secrets are needed there too
    settings = Settings(data_dir=tmp_path, trusted_proxies="127.0.0.1")
    with pytest.raises(InvalidValue, match="behind XINDAI_TRUSTED_PROXIES"):
        serve_cli.check_secrets(settings, "127.0.0.1", behind_proxy=True)


def test_a_malformed_key_is_refused_by_name(tmp_path: Path) -> None:
    for value in ("not base64!", base64.b64encode(b"short").decode()):
        with pytest.raises(InvalidValue, match="XINDAI_PII_KEY"):
            serve_cli.check_secrets(Settings(data_dir=tmp_path, pii_key=value), "127.0.0.1")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.1", False),
        ("localhost.example.com", False),
        ("127.0.0.1.nip.io", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert serve_cli.is_loopback(host) is loopback


def test_trusted_proxies_are_checked() -> None:
    assert serve_cli.trusted_proxies("") == []
    assert serve_cli.trusted_proxies(" 10.0.0.5, 10.1.0.0/16 ,2001:db8::/32") == [
        "10.0.0.5",
        "10.1.0.0/16",
        "2001:db8::/32",
    ]
    for bad in ("*", "proxy.internal", "10.0.0.0/33"):
        with pytest.raises(InvalidValue, match="XINDAI_TRUSTED_PROXIES"):
            serve_cli.trusted_proxies(bad)


# ------------------------------------------------------------------ the admin password


def test_the_admin_password_is_refused_on_the_command_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with override_settings(data_dir=tmp_path):
        code, out, err = run(capsys, "serve", "--admin-password", PASSWORD)
    assert code == 2 and out == ""
    assert "--admin-password" in err and "XINDAI_ADMIN_PASSWORD" in err
    assert PASSWORD not in err
    assert not (tmp_path / "xindai.db").exists()


def test_the_prompt_asks_again_for_a_weak_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["Password123", PASSWORD])
    asked: list[dict[str, object]] = []

    def prompt(text: str, **options: object) -> str:
        asked.append(options)
        return next(answers)

    monkeypatch.setattr(serve_cli.sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(serve_cli.typer, "prompt", prompt)
    assert serve_cli._ask_admin_password() == PASSWORD
    assert all(o == {"hide_input": True, "confirmation_prompt": True} for o in asked)
    assert len(asked) == 2 and "too common" in capsys.readouterr().err


def test_without_a_terminal_nothing_is_asked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(serve_cli.sys.stdin, "isatty", lambda: False)
    monkeypatch.setattr(serve_cli.typer, "prompt", lambda *a, **k: pytest.fail("prompted"))
    assert serve_cli._ask_admin_password() is None
    assert "XINDAI_ADMIN_PASSWORD" in capsys.readouterr().err


# ------------------------------------------------------------------ real server processes


class Server:
    def __init__(self, process: subprocess.Popen[str], lines: list[str], database: Path):
        self.process = process
        self.lines = lines
        self.database = database
        self.base_url = lines[0].split(" at ")[1].split()[0]

    def audit_ips(self, action: str) -> list[str | None]:
        with sqlite3.connect(self.database) as db:
            rows = db.execute("SELECT ip FROM audit_log WHERE action = ? ORDER BY id", (action,))
            return [row[0] for row in rows]


@contextmanager
def server(tmp_path: Path, **env: str) -> Iterator[Server]:
    """`xindai serve --port 0` on a fresh SQLite database, the admin password in the
    environment; yields once it has printed that it is serving (read from its stdout)."""
    database = tmp_path / "xindai.db"
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("XINDAI_TRUSTED_PROXIES", "XINDAI_ADMIN_PASSWORD", "FORWARDED_ALLOW_IPS")
    }
    environment |= {
        "XINDAI_DATABASE_URL": f"sqlite:///{database}",
        "XINDAI_DATA_DIR": str(tmp_path),
        "XINDAI_PROVIDERS_URL": "http://127.0.0.1:9",
        "XINDAI_PROVIDER_SECRET": "serve-test-secret",
        "XINDAI_ADMIN_PASSWORD": PASSWORD,
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-c", "from xindai.cli import main; main()", "serve", "--port", "0"],
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        output = process.stdout
        reader = threading.Thread(
            target=lambda: lines.extend(line.rstrip("\n") for line in output), daemon=True
        )
        reader.start()
        deadline = time.monotonic() + 60
        while not any(line.startswith("  Health") for line in lines):
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError(f"serve did not announce itself: {lines}")
            time.sleep(0.05)
        start = next(i for i, line in enumerate(lines) if line.startswith("Xindai is serving"))
        yield Server(process, lines[start:], database)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def login(base_url: str, password: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{base_url}/api/v1/admin/auth/login",
        json={"username": "admin", "password": password},
        headers=headers,
        timeout=30,
    )


def test_serve_prints_its_urls_and_takes_the_admin_password_from_the_environment(
    tmp_path: Path,
) -> None:
    with server(tmp_path) as running:
        base = running.base_url
        assert base.startswith("http://127.0.0.1:") and not base.endswith(":0")
        urls = [line.split()[-1] for line in running.lines[1:]]
        # the console (and app) first when they are built, then the API; nothing else
        assert urls[-3:] == [f"{base}/api/v1/", f"{base}/docs", f"{base}/health"]
        assert set(urls[:-3]) <= {f"{base}/admin/", f"{base}/app/"}
        for front in urls[:-3]:
            assert httpx.get(front, timeout=10).status_code == 200
        assert httpx.get(urls[-1], timeout=10).json()["status"] == "ok"
        assert httpx.get(urls[-2], timeout=10).status_code == 200
        # the administrator exists, and its password is nowhere on the command line
        assert login(base, PASSWORD).status_code == 200
        cmdline = Path(f"/proc/{running.process.pid}/cmdline")
        if cmdline.exists():
            assert PASSWORD.encode() not in cmdline.read_bytes()


def test_forwarded_headers_are_not_believed_without_trusted_proxies(tmp_path: Path) -> None:
    # even with uvicorn's own FORWARDED_ALLOW_IPS opened wide in the environment
    with server(tmp_path, FORWARDED_ALLOW_IPS="*") as running:
        # an attacker on loopback rotates X-Forwarded-For to dodge the per-client lockout
        for n in range(5):
            spoofed = login(
                running.base_url, "wrong-guess", **{"X-Forwarded-For": f"203.0.113.{n}"}
            )
            assert spoofed.json()["code"] == "LOGIN_FAILED"
        locked = login(running.base_url, "wrong-guess", **{"X-Forwarded-For": "203.0.113.99"})
        assert locked.status_code == 429 and locked.json()["code"] == "LOGIN_LOCKED"
        assert running.audit_ips("staff.login_failed") == ["127.0.0.1"] * 5


def test_forwarded_headers_are_believed_from_a_trusted_proxy(tmp_path: Path) -> None:
    # behind a proxy the secrets must be real even on loopback
    secrets = {"XINDAI_PII_KEY": KEY, "XINDAI_SECRET_KEY": KEY}
    with server(tmp_path, XINDAI_TRUSTED_PROXIES="127.0.0.1", **secrets) as running:
        failed = login(running.base_url, "wrong-guess", **{"X-Forwarded-For": "203.0.113.7"})
        assert failed.json()["code"] == "LOGIN_FAILED"
        assert running.audit_ips("staff.login_failed") == ["203.0.113.7"]
