#!/usr/bin/env python3
"""Bootstrap and run Xindai from a fresh clone with nothing but Python ≥ 3.11.

    python3 dev.py start     install into .venv, then run the platform's demo
    python3 dev.py test      install into .venv, then lint, type-check and run the test suite
    python3 dev.py xindai …  install, then run any `xindai` command

The virtual environment is created in .venv and refreshed when pyproject.toml changes.

`test` also needs a PostgreSQL server for the database tests (they run on SQLite and on
PostgreSQL). It uses XINDAI_TEST_PG_URL, else the local server's socket as user postgres; run
as root on Debian it installs and starts PostgreSQL when needed, elsewhere the PostgreSQL
tests are skipped with a message (CI sets XINDAI_REQUIRE_PG=1, so there they fail instead).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".xindai-installed"
DEFAULT_TEST_PG_URL = "postgresql://postgres@/postgres?host=/var/run/postgresql"


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


def _pg_reachable(url: str) -> bool:
    conninfo = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url)
    probe = "import sys, psycopg; psycopg.connect(sys.argv[1], connect_timeout=3).close()"
    try:
        result = subprocess.run([str(BIN / "python"), "-c", probe, conninfo], capture_output=True)
    except OSError:
        return False
    return result.returncode == 0


def _step(*args: str) -> bool:
    print("  $", " ".join(args), flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(args, env=env, stdout=subprocess.DEVNULL).returncode == 0


def _first_cluster() -> list[str]:
    listing = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True)
    lines = listing.stdout.split("\n")
    return lines[0].split() if lines[0].strip() else []


def _start_debian_postgresql() -> str | None:
    """Install PostgreSQL from Debian's packages if missing, start its first cluster, let root
    log in as the postgres user over the local socket; the server's port, None on failure."""
    if shutil.which("pg_lsclusters") is None:
        print("Installing PostgreSQL from Debian's packages …", flush=True)
        if not (
            _step("apt-get", "update", "-qq")
            and _step("apt-get", "install", "-y", "-qq", "postgresql")
        ):
            return None
    cluster = _first_cluster()
    if not cluster:
        version = max(os.listdir("/usr/lib/postgresql"), key=int)
        print(f"Creating the PostgreSQL cluster {version}/main …", flush=True)
        if not _step("pg_createcluster", version, "main"):
            return None
        cluster = _first_cluster()
    version, name, port, status = cluster[:4]
    conf = Path("/etc/postgresql") / version / name
    ident = conf / "pg_ident.conf"
    if "xindai_root" not in ident.read_text():
        # peer authentication maps OS users to database users: root may log in as postgres
        print(f"Letting root connect as the postgres user over the local socket ({conf}) …")
        with ident.open("a") as file:
            file.write("xindai_root root postgres\nxindai_root postgres postgres\n")
        hba = conf / "pg_hba.conf"
        rule = "local   all   postgres   peer map=xindai_root\n"
        lines = hba.read_text().splitlines(keepends=True)
        first_local = next((i for i, ln in enumerate(lines) if ln.startswith("local")), len(lines))
        hba.write_text("".join([*lines[:first_local], rule, *lines[first_local:]]))
        if status == "online":
            _step("pg_ctlcluster", version, name, "reload")
    if status != "online":
        print(f"Starting PostgreSQL {version}/{name} on port {port} …", flush=True)
        if not _step("pg_ctlcluster", version, name, "start"):
            return None
    ready = ["pg_isready", "-q", "-h", "/var/run/postgresql", "-p", port]
    for _ in range(60):
        if subprocess.run(ready).returncode == 0:
            return port
        time.sleep(0.5)
    return None


def ensure_postgresql() -> None:
    """Make a PostgreSQL test server available if this machine allows (root on Debian), and
    point XINDAI_TEST_PG_URL at it; otherwise say that the PostgreSQL tests will be skipped."""
    chosen = os.environ.get("XINDAI_TEST_PG_URL")
    if _pg_reachable(chosen or DEFAULT_TEST_PG_URL):
        return
    skipped = "the PostgreSQL database tests will be skipped"
    if os.environ.get("XINDAI_REQUIRE_PG") == "1":
        skipped = "the PostgreSQL database tests will FAIL (XINDAI_REQUIRE_PG=1)"
    if chosen:
        print(f"PostgreSQL at XINDAI_TEST_PG_URL is not reachable: {skipped}.", flush=True)
        return
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if not (is_root and Path("/etc/debian_version").exists() and shutil.which("apt-get")):
        print(
            f"Cannot connect to PostgreSQL at {DEFAULT_TEST_PG_URL}: {skipped}. To run them, set\n"
            "XINDAI_TEST_PG_URL=postgresql://USER:PASSWORD@HOST/postgres (a user that may create"
            " databases),\nor run `python3 dev.py test` as root on Debian to install PostgreSQL.",
            flush=True,
        )
        return
    port = _start_debian_postgresql()
    url = f"{DEFAULT_TEST_PG_URL}&port={port}"
    if port is None or not _pg_reachable(url):
        print(f"Could not set up PostgreSQL: {skipped}.", flush=True)
        return
    os.environ["XINDAI_TEST_PG_URL"] = url
    print(f"PostgreSQL test server: {url}", flush=True)


def main(argv: list[str]) -> None:
    command = argv[0] if argv else "start"
    ensure_installed()
    if command == "start":
        _run(BIN / "xindai", "demo", *argv[1:])
    elif command == "test":
        _run(BIN / "ruff", "check", "src", "tests")
        _run(BIN / "mypy")
        ensure_postgresql()
        pytest_args = argv[1:] or ["-q"]
        _run(BIN / "python", "-m", "pytest", *pytest_args)
    elif command == "xindai":
        _run(BIN / "xindai", *argv[1:])
    else:
        sys.exit(f"unknown command {command!r}; use start, test or xindai")


if __name__ == "__main__":
    main(sys.argv[1:])
