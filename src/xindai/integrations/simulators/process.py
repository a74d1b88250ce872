"""`SimulatorProcess`: the simulators as a real child process on a free loopback port, for
the tests and the demo.

    with SimulatorProcess(SimulatorConfig(secret="s")) as sim:
        providers = sim.adapters()            # HTTP adapters pointed at it
        sim.control.last_sms_code("13800138000")
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import httpx

from xindai.integrations.http import HttpProviders, ProviderEndpoint
from xindai.integrations.simulators.config import PROVIDERS, SimulatorConfig
from xindai.integrations.simulators.control import SimulatorControl


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class SimulatorProcess:
    """Start with `with` (or `start()`/`stop()`); `start` returns once /health answers, or
    raises `RuntimeError` (with the process's log) after `startup_timeout_s` seconds."""

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        startup_timeout_s: float = 20.0,
        log_level: str = "warning",
    ):
        self.config = config or SimulatorConfig()
        self.host = host
        self.port = port or free_port(host)
        self.startup_timeout_s = startup_timeout_s
        self.log_level = log_level
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._control: SimulatorControl | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, provider: str) -> str:
        if provider not in PROVIDERS:
            raise ValueError(f"provider must be one of {PROVIDERS}")
        return f"{self.base_url}/{provider}"

    def endpoint(self, provider: str, **options: Any) -> ProviderEndpoint:
        """An endpoint of `provider` with the process's secret; `options` as ProviderEndpoint."""
        return ProviderEndpoint(self.url(provider), self.config.secret, **options)

    def adapters(self, **options: Any) -> HttpProviders:
        """The five HTTP adapters pointed at this process (close them when done)."""
        return HttpProviders.at(self.base_url, self.config.secret, **options)

    @property
    def control(self) -> SimulatorControl:
        if self._control is None:
            self._control = SimulatorControl(self.base_url)
        return self._control

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def log_text(self) -> str:
        if self._log is None:
            return ""
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace")

    def start(self) -> Self:
        # the log file lives as long as the child process, closed in stop()
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="xindai-sim-", suffix=".log", delete=False
        )
        command = [sys.executable, "-m", "xindai.integrations.simulators"]
        command += ["--host", self.host, "--port", str(self.port), "--log-level", self.log_level]
        self._process = subprocess.Popen(
            command,
            env={**os.environ, **self.config.to_env()},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + self.startup_timeout_s
        while True:
            if self._process.poll() is not None:
                log = self.log_text()
                self.stop()
                raise RuntimeError(f"simulator exited at start-up:\n{log[-2000:]}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() >= deadline:
                log = self.log_text()
                self.stop()
                raise RuntimeError(
                    f"simulator not healthy within {self.startup_timeout_s} s:\n{log[-2000:]}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            Path(self._log.name).unlink(missing_ok=True)
            self._log = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
