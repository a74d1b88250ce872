"""Fixtures for the external-service tests: one simulator process for the session (a real
child process on a free loopback port), the HTTP adapters pointed at it, and a callback
receiver (`CallbackReceiver`, a threading HTTP server on loopback) standing in for the
platform's callback endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from xindai.integrations.http import HttpProviders
from xindai.integrations.simulators.config import SimulatorConfig
from xindai.integrations.simulators.process import SimulatorProcess
from xindai.integrations.simulators.receiver import CallbackReceiver

SECRET = "test-secret"


@pytest.fixture(scope="session")
def simulator() -> Iterator[SimulatorProcess]:
    config = SimulatorConfig(
        secret=SECRET,
        callback_delay_ms=50,
        callback_retry_ms=100,
        late_delay_ms=1500,
        seed=7,
    )
    with SimulatorProcess(config, startup_timeout_s=20) as process:
        yield process


@pytest.fixture
def sim(simulator: SimulatorProcess) -> Iterator[SimulatorProcess]:
    """The session's simulator, its clock, faults and payment behaviour reset afterwards."""
    yield simulator
    simulator.control.reset()


@pytest.fixture(scope="session")
def session_providers(simulator: SimulatorProcess) -> Iterator[HttpProviders]:
    adapters = simulator.adapters(max_attempts=3, backoff_s=0.05, timeout_s=5.0)
    yield adapters
    adapters.close()


@pytest.fixture
def providers(sim: SimulatorProcess, session_providers: HttpProviders) -> HttpProviders:
    """The HTTP adapters pointed at the simulator (3 attempts, 50 ms first backoff)."""
    return session_providers


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    server = CallbackReceiver()
    yield server
    server.close()
