"""Local simulators of the external services, one FastAPI app per provider in one process
(`create_app`), and `SimulatorProcess` to run that process for the tests and the demo.
"""

from xindai.integrations.simulators.app import create_app
from xindai.integrations.simulators.config import SimulatorConfig

__all__ = ["SimulatorConfig", "create_app"]
