"""The platform's own HTTP app on a loopback port while the demo is built, so that the payment
channel's callbacks reach the real callback route while the demo runs months of business
with its own clock: on a thread of the building process (`PlatformThread`, the
deterministic build), or in processes of their own that share the build's clock
(`PlatformProcesses`, beside the worker processes: the callbacks are then handled on
another core than the one the building process sends close of business's requests from)."""

from __future__ import annotations

import contextlib
import multiprocessing
import socket
import threading
import time
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Any, Self

from xindai.integrations.simulators.process import free_port
from xindai.platform import Platform

START_TIMEOUT_S = 30.0


def _serve(app: Any, host: str, port: int, sock: socket.socket | None = None) -> Any:
    """A uvicorn server for `app` started on a thread (returned once it listens)."""
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="error", access_log=False)
    server = uvicorn.Server(config)
    sockets = None if sock is None else [sock]
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": sockets}, name="xindai-demo-api", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the platform's app did not start on {host}:{port}")
        time.sleep(0.02)
    return server, thread


class PlatformThread:
    """`create_app(platform)` served by uvicorn on a thread; `url` once entered."""

    def __init__(self, platform: Platform, *, port: int | None = None, host: str = "127.0.0.1"):
        self.platform = platform
        self.host = host
        self.port = port or free_port(host)
        self._server: object | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> Self:
        from xindai.api.app import create_app

        self._server, self._thread = _serve(create_app(self.platform), self.host, self.port)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        import uvicorn

        server, thread = self._server, self._thread
        if isinstance(server, uvicorn.Server) and thread is not None:
            server.should_exit = True
            thread.join(timeout=10)
        self._server = self._thread = None


@dataclass(frozen=True, slots=True)
class AppSpec:
    settings: dict[str, Any]  # the fields of the building process's Settings
    start: date
    host: str
    port: int


def _listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `port` that other processes may bind too (SO_REUSEPORT): the kernel
    spreads the channel's connections over them."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _serve_process(spec: AppSpec, shared_clock: Any, ready: Any, stop: Any) -> None:
    from xindai.api.app import create_app
    from xindai.demo.lender import DemoClock
    from xindai.settings import Settings
    from xindai.store.db import make_engine, session_factory, without_sync

    settings = Settings(**spec.settings)
    engine = without_sync(make_engine(settings.database_url))  # the build's database
    clock = DemoClock(spec.start, shared_clock)
    platform = Platform.from_settings(settings, sessions=session_factory(engine), clock=clock)
    sock = _listening_socket(spec.host, spec.port)
    try:
        server, thread = _serve(create_app(platform), spec.host, spec.port, sock)
        ready.set()
        stop.wait()
        server.should_exit = True
        thread.join(timeout=10)
    finally:
        sock.close()
        platform.providers.close()
        engine.dispose()


class PlatformProcesses:
    """`create_app` served on one loopback port by `count` processes of their own, each with
    its own engine and platform on `settings`, on the clock `shared_clock` (see
    `DemoClock`); `url` once entered."""

    def __init__(
        self,
        settings: dict[str, Any],
        start: date,
        shared_clock: Any,
        *,
        count: int = 2,
        port: int | None = None,
        host: str = "127.0.0.1",
    ):
        if not hasattr(socket, "SO_REUSEPORT"):
            count = 1  # one process: it alone listens
        self.host = host
        self.port = port or free_port(host)
        context = multiprocessing.get_context("spawn")  # no engine or thread crosses a fork
        self._stop = context.Event()
        spec = AppSpec(settings, start, host, self.port)
        self._children = []
        for number in range(count):
            ready = context.Event()
            process = context.Process(
                target=_serve_process,
                args=(spec, shared_clock, ready, self._stop),
                name=f"xindai-demo-api-{number}",
                daemon=True,
            )
            self._children.append((process, ready))

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> Self:
        for process, _ in self._children:
            process.start()
        deadline = time.monotonic() + START_TIMEOUT_S * 2
        for process, ready in self._children:
            while not ready.wait(0.1):
                if not process.is_alive() or time.monotonic() > deadline:
                    self.__exit__(None, None, None)
                    raise RuntimeError(f"{process.name} did not start on {self.url}")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        for process, _ in self._children:
            process.join(timeout=15)
            if process.is_alive():
                with contextlib.suppress(OSError):
                    process.terminate()
                process.join(timeout=5)
