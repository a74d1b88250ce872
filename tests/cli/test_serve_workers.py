"""`xindai serve --workers N`: uvicorn worker processes, each with its own platform and engine
on the one database the parent migrated and seeded; every worker answers, logins and their
sessions work across workers, Ctrl+C stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

PASSWORD = "workers-test-phrase-41"


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(line) for line in found.stdout.split()]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_serve_with_two_workers(tmp_path: Path) -> None:
    from xindai.integrations.simulators.process import free_port

    port = free_port()
    env = {
        **os.environ,
        "XINDAI_DATABASE_URL": f"sqlite:///{tmp_path / 'xindai.db'}",
        "XINDAI_DATA_DIR": str(tmp_path),
        "XINDAI_ADMIN_PASSWORD": PASSWORD,
    }
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", "from xindai.cli import main; main()", "serve",
         "--port", str(port), "--workers", "2"],
        env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (
                tmp_path / "serve.log"
            ).read_text()
            time.sleep(0.2)
        assert f"Xindai is serving at {base}" in (tmp_path / "serve.log").read_text()
        workers = [pid for pid in _children(process.pid) if "spawn_main" in _cmdline(pid)]
        assert len(workers) == 2
        with httpx.Client(base_url=base, timeout=30) as client:
            answer = client.post(
                "/api/v1/admin/auth/login", json={"username": "admin", "password": PASSWORD}
            )
            assert answer.status_code == 200, answer.text
            auth = {"Authorization": f"Bearer {answer.json()['token']}"}
            # new connections land on either worker: the session is valid on both
            for _ in range(20):
                with httpx.Client(base_url=base, timeout=30) as fresh:
                    assert fresh.get("/api/v1/admin/me", headers=auth).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()
    for pid in workers:
        assert (
            not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
        )
