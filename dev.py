#!/usr/bin/env python3
"""Bootstrap and run Xindai from a fresh clone with nothing but Python ≥ 3.11.

    python3 dev.py start     install into .venv, then run the platform's demo
    python3 dev.py test      install into .venv, then lint, type-check and run the test suite
    python3 dev.py xindai …  install, then run any `xindai` command

The virtual environment is created in .venv and refreshed when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".xindai-installed"


def _run(*args: str | Path) -> None:
    result = subprocess.run([str(a) for a in args], cwd=ROOT)
    if result.returncode:
        sys.exit(result.returncode)


def ensure_installed() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs under any Python
        sys.exit(f"Xindai needs Python ≥ 3.11; this is {sys.version.split()[0]}")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    if not (BIN / "python").exists():
        print("Creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing Xindai and its dependencies into .venv …", flush=True)
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    STAMP.write_text(digest)


def main(argv: list[str]) -> None:
    command = argv[0] if argv else "start"
    ensure_installed()
    if command == "start":
        _run(BIN / "xindai", "demo", *argv[1:])
    elif command == "test":
        _run(BIN / "ruff", "check", "src", "tests")
        _run(BIN / "mypy")
        pytest_args = argv[1:] or ["-q"]
        _run(BIN / "python", "-m", "pytest", *pytest_args)
    elif command == "xindai":
        _run(BIN / "xindai", *argv[1:])
    else:
        sys.exit(f"unknown command {command!r}; use start, test or xindai")


if __name__ == "__main__":
    main(sys.argv[1:])
