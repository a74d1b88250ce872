"""Local simulators of the external services, one FastAPI app per provider in one process
(`create_app`), and `SimulatorProcess` to run that process for the tests and the demo.
"""

from typing import Any

from xindai.integrations.simulators.config import SimulatorConfig

__all__ = ["SimulatorConfig", "create_app"]


def __getattr__(name: str) -> Any:
    # the FastAPI apps load on first use, so that the CLI (`xindai sim …` is registered in
    # every `xindai` command) does not import the web stack to print a schedule
    if name == "create_app":
        from xindai.integrations.simulators.app import create_app

        return create_app
    raise AttributeError(name)
