"""`xindai sim serve` and the simulator configuration."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from typer.testing import CliRunner

from xindai.cli.sim import app
from xindai.errors import InvalidValue
from xindai.integrations.simulators.config import SimulatorConfig
from xindai.integrations.simulators.control import wait_until
from xindai.integrations.simulators.process import free_port


def test_serve_runs_the_simulators() -> None:
    port = free_port()
    command = [sys.executable, "-c", "from xindai.cli.sim import app; app()", "serve"]
    command += ["--port", str(port), "--channel", "testpay", "--log-level", "warning"]
    command += ["--provider-latency-ms", "bureau=5", "--duplicate-rate", "0.5"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:

        def health() -> dict[str, object] | None:
            try:
                answer: dict[str, object] = httpx.get(
                    f"http://127.0.0.1:{port}/health", timeout=1
                ).json()
                return answer
            except httpx.HTTPError:
                assert process.poll() is None, "the simulator exited"
                return None

        assert wait_until(health, timeout_s=20)["channel"] == "testpay"
        control = httpx.get(f"http://127.0.0.1:{port}/_control", timeout=1).json()
        assert control["faults"]["bureau"]["latency_ms"] == 5
        behaviour = httpx.get(f"http://127.0.0.1:{port}/pay/_control", timeout=1).json()
        assert behaviour["duplicate_rate"] == 0.5
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(
    "args",
    [
        ["serve", "--port", "0"],
        ["serve", "--duplicate-rate", "1.5"],
        ["serve", "--provider-latency-ms", "fax=10"],
        ["serve", "--provider-error-rate", "bureau"],
    ],
)
def test_bad_options_are_invalid_values(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, InvalidValue)


def test_config_round_trips_through_the_environment() -> None:
    config = SimulatorConfig(
        secret="x",
        latency_ms=3,
        provider_latency_ms={"pay": 200},
        provider_error_rate={"bureau": 0.25},
        late_rate=0.1,
        channel="abc",
    )
    assert SimulatorConfig.from_env(config.to_env()) == config
    assert config.latency_for("pay") == 200 and config.latency_for("sms") == 3
    assert config.error_rate_for("bureau") == 0.25 and config.error_rate_for("esign") == 0
    with pytest.raises(InvalidValue):
        SimulatorConfig.from_env({"XINDAI_SIM_LATENCY_MS": "fast"})
