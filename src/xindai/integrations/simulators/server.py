"""Run the simulators with uvicorn (blocking): used by `xindai sim serve` and by
`python -m xindai.integrations.simulators`."""

from __future__ import annotations

import uvicorn

from xindai.integrations.simulators.app import create_app
from xindai.integrations.simulators.config import SimulatorConfig


def serve(
    config: SimulatorConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 8700,
    log_level: str = "warning",
) -> None:
    """Serve until interrupted (SIGINT / SIGTERM end it cleanly)."""
    uvicorn.run(
        create_app(config),
        host=host,
        port=port,
        log_level=log_level,
        access_log=log_level in ("debug", "info"),
        lifespan="on",
    )
