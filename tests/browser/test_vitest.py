"""The front end's own tests (vitest: formatting, the API client, the list query, i18n key
parity, status colours, the menu store, every list checked against the OpenAPI document,
components) run in the pytest run too, so that CI runs them: `npm test` in frontend/
(which first regenerates the API types from this checkout's app)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"


def test_the_front_end_unit_tests_pass() -> None:
    npm = shutil.which("npm")
    installed = (FRONTEND / "node_modules" / ".package-lock.json").is_file()
    if npm is None or not installed:
        reason = "npm is not installed" if npm is None else "run `cd frontend && npm ci` first"
        if os.environ.get("XINDAI_REQUIRE_BROWSER", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(f"XINDAI_REQUIRE_BROWSER=1 but the front end cannot be tested: {reason}")
        pytest.skip(f"front-end unit tests need the npm packages: {reason}")
    result = subprocess.run(
        [npm, "test", "--silent"],
        cwd=FRONTEND,
        env={**os.environ, "XINDAI_PYTHON": sys.executable, "CI": "true", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert " passed" in output and " failed" not in output.split("Tests")[-1], output[-2000:]
