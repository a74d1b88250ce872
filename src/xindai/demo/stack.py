"""`xindai demo start`: the demo lender served — the simulators (`xindai sim serve`) and the
platform (`xindai serve`) as child processes on loopback, on the demo database (built first
when there is none, or it is incomplete, or asked to), until Ctrl+C stops them both.

The demo's passwords and the development keys are public, so it only ever listens on
loopback; `xindai serve` with real secrets is the way to serve beyond it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO

import httpx

from xindai.demo.build import DemoBuilt, build_demo_lender, demo_built, remove_sqlite
from xindai.demo.business import ProgressFn
from xindai.demo.lender import DemoSize
from xindai.errors import InvalidValue
from xindai.integrations.simulators.config import DEFAULT_SECRET, SimulatorConfig
from xindai.integrations.simulators.process import SimulatorProcess
from xindai.settings import sqlite_url

DEMO_FOLDER = "demo"
SERVER_START_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class DemoStart:
    """What `xindai demo start` was asked for."""

    data_dir: Path
    size: DemoSize = field(default_factory=DemoSize)
    end: date | None = None  # default: today
    rebuild: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    sim_port: int = 8700
    build_workers: int = 0
    serve_workers: int = 1
    size_given: bool = False  # sizes named on the command line: a different demo rebuilds

    @property
    def folder(self) -> Path:
        return self.data_dir / DEMO_FOLDER

    @property
    def database_url(self) -> str:
        return sqlite_url(self.folder / "xindai.db")


def is_loopback(host: str) -> bool:
    from xindai.cli.serve import is_loopback as loopback

    return loopback(host)


def refuse_beyond_loopback(host: str) -> None:
    if not is_loopback(host):
        raise InvalidValue(
            "--host",
            host,
            "the demo has public passwords and development keys: it listens on loopback only "
            "(127.0.0.1); to serve beyond it run `xindai serve` with your own secrets",
            "演示环境使用公开的密码与开发密钥，只监听本机回环地址（127.0.0.1）；"
            "对外服务请用 `xindai serve` 并设置自己的密钥",
        )


def refuse_ports_in_use(options: DemoStart) -> None:
    """A port already taken is named before anything starts (0 picks a free one)."""
    import socket

    for option, port in (("--port", options.port), ("--sim-port", options.sim_port)):
        if not port:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((options.host, port))
            except OSError:
                raise InvalidValue(
                    option,
                    port,
                    "is in use (another server?): choose another port, or 0 for any free one",
                    "端口已被占用：请换一个端口，或用 0 自动选择",
                ) from None


def needs_build(options: DemoStart) -> tuple[bool, DemoBuilt | None, str]:
    """Whether to build, the complete demo found (if any), and why."""
    found = demo_built(options.database_url)
    if options.rebuild:
        return True, found, "rebuild asked for"
    if found is None:
        return True, None, "no complete demo database yet"
    if options.size_given and not found.matches(options.size):
        return True, found, "a demo of another size was asked for"
    return False, found, "reusing the demo database"


class DemoStack:
    """The simulators and the platform server as children; `start` returns once both
    answer, `stop` ends them (also on Ctrl+C)."""

    def __init__(self, options: DemoStart, log: Callable[[str], None] = print):
        self.options = options
        self.log = log
        self.sim = SimulatorProcess(
            SimulatorConfig(secret=DEFAULT_SECRET, callback_delay_ms=20, seed=options.size.seed),
            port=options.sim_port or None,
        )
        self.server: subprocess.Popen[bytes] | None = None
        self.server_log: IO[bytes] | None = None
        self.port = options.port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_simulators(self) -> None:
        self.sim.start()

    def build(self, progress: ProgressFn | None = None) -> DemoBuilt:
        options = self.options
        options.folder.mkdir(parents=True, exist_ok=True)
        remove_sqlite(options.database_url)
        return build_demo_lender(
            options.database_url,
            sim_url=self.sim.base_url,
            sim_secret=DEFAULT_SECRET,
            size=options.size,
            end=options.end or _today(),
            data_dir=options.folder,
            workers=options.build_workers,
            progress=progress,
        )

    def start_server(self) -> None:
        from xindai.integrations.simulators.process import free_port

        options = self.options
        if not self.port:
            self.port = free_port()
        env = {
            **os.environ,
            "XINDAI_DATABASE_URL": options.database_url,
            "XINDAI_DATA_DIR": str(options.folder),
            "XINDAI_PROVIDERS_URL": self.sim.base_url,
            "XINDAI_PROVIDER_SECRET": DEFAULT_SECRET,
            "XINDAI_PUBLIC_URL": self.base_url,
        }
        env.pop("XINDAI_ADMIN_PASSWORD", None)  # the demo's administrator exists already
        command = [sys.executable, "-c", "from xindai.cli import main; main()", "serve"]
        command += ["--host", options.host, "--port", str(self.port)]
        if options.serve_workers > 1:
            command += ["--workers", str(options.serve_workers)]
        self.server_log = (options.folder / "server.log").open("wb")
        self.server = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=self.server_log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if self.server.poll() is not None:
                raise RuntimeError(f"xindai serve exited:\n{self.server_log_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"xindai serve not up in time:\n{self.server_log_text()[-3000:]}"
                )
            time.sleep(0.2)

    def server_log_text(self) -> str:
        path = self.options.folder / "server.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def wait(self) -> int:
        """Until Ctrl+C or SIGTERM (0), or a child dies (1)."""

        def stop_waiting(_signal: int, _frame: object) -> None:
            raise KeyboardInterrupt

        # started in the background by a shell, SIGINT is ignored: take it (and SIGTERM) back
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, stop_waiting)
        try:
            while True:
                if self.server is not None and self.server.poll() is not None:
                    self.log(f"xindai serve stopped:\n{self.server_log_text()[-2000:]}")
                    return 1
                process = getattr(self.sim, "_process", None)
                if process is None or process.poll() is not None:
                    self.log("the simulators stopped")
                    return 1
                time.sleep(0.5)
        except KeyboardInterrupt:
            return 0

    def stop(self) -> None:
        server, self.server = self.server, None
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=5)
        if self.server_log is not None:
            self.server_log.close()
            self.server_log = None
        self.sim.stop()


def _today() -> date:
    from xindai import clock

    return clock.today()
