"""The platform's own HTTP app on a loopback port inside the process that builds the demo,
so that the payment channel's callbacks reach the real callback route while the demo runs
months of business with its own clock."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Self

from xindai.integrations.simulators.process import free_port
from xindai.platform import Platform


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
        import uvicorn

        from xindai.api.app import create_app

        config = uvicorn.Config(
            create_app(self.platform),
            host=self.host,
            port=self.port,
            log_level="error",
            access_log=False,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name="xindai-demo-api", daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the platform's app did not start on {self.url}")
            time.sleep(0.02)
        self._server, self._thread = server, thread
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
