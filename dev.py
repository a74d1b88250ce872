#!/usr/bin/env python3
"""Bootstrap and run Xindai from a fresh clone with nothing but Python ≥ 3.11.

    python3 dev.py start     install into .venv, build the front end, then build (once) and
                             serve the demo lender: `xindai demo start` (its options follow)
    python3 dev.py test      install into .venv, build the front end, then lint, type-check
                             and run the test suite
    python3 dev.py xindai …  install, then run any `xindai` command

The virtual environment is created in .venv and refreshed when pyproject.toml changes. The
front end (frontend/, an npm workspace) is installed with `npm ci` when node_modules is
missing or older than package-lock.json, and built (`npm run build`, into
src/xindai/web/console/) when the built assets are missing or older than a source under
frontend/ or one of the Python API sources its generated types come from (the borrower app,
into src/xindai/web/app/, likewise); without Node.js
(≥ 20.19) it is skipped with a message (as root on Debian, Debian's nodejs and npm are
installed).

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
    child = subprocess.Popen([str(a) for a in args], cwd=ROOT)
    while True:
        try:
            code = child.wait()
            break
        except KeyboardInterrupt:  # Ctrl+C reached the child too: let it stop cleanly
            continue
    if code:
        sys.exit(code)


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


FRONTEND = ROOT / "frontend"
BUILT_CONSOLE = ROOT / "src" / "xindai" / "web" / "console" / "index.html"
BUILT_APP = ROOT / "src" / "xindai" / "web" / "app" / "index.html"
BUILDS = (BUILT_CONSOLE, BUILT_APP)
# what the generated API types (frontend/shared/src/api) are made from: the app's routes,
# views and OpenAPI document, and the console's menu tree with its permissions
API_SOURCES = (
    ROOT / "src" / "xindai" / "api",
    ROOT / "src" / "xindai" / "security" / "menus.py",
    ROOT / "src" / "xindai" / "security" / "rbac.py",
)
FRONTEND_OUTPUTS = {"node_modules", "dist", ".vite", "coverage", "test-results"}
GENERATED = {"openapi.json", "schema.d.ts", "menus.json", ".build-report.json"}


def _newest(*paths: Path, skip: frozenset[str] = frozenset()) -> float:
    """The newest modification time of the files under `paths` (0 when there are none),
    not looking into folders named in `skip` nor at generated files."""
    newest = 0.0
    for path in paths:
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
            continue
        if not path.is_dir():
            continue
        for folder, folders, files in os.walk(path):
            folders[:] = [f for f in folders if f not in skip and f != "__pycache__"]
            for name in files:
                if name in GENERATED or name.endswith(".pyc"):
                    continue
                newest = max(newest, (Path(folder) / name).stat().st_mtime)
    return newest


def _ensure_node() -> str | None:
    """The npm executable, installing Debian's nodejs and npm as root on Debian when there
    is none; None (with a message) when the front end cannot be built here."""
    npm = shutil.which("npm")
    if npm is not None:
        return npm
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if is_root and Path("/etc/debian_version").exists() and shutil.which("apt-get"):
        print("Installing Node.js from Debian's packages …", flush=True)
        install = ("apt-get", "install", "-y", "-qq", "nodejs", "npm")
        if _step("apt-get", "update", "-qq") and _step(*install):
            return shutil.which("npm")
    print(
        "Node.js (≥ 20.19, with npm) is not installed: the console and the borrower app are "
        "not built; the API still serves. Install Node.js and run this again.",
        flush=True,
    )
    return None


def ensure_frontend() -> bool:
    """Install the front end's npm packages and build it when missing or stale; whether the
    built console is there afterwards."""
    if not (FRONTEND / "package.json").exists():
        print("No frontend/package.json yet: skipping the front end (API only).", flush=True)
        return False
    lock = FRONTEND / "package-lock.json"
    installed = FRONTEND / "node_modules" / ".package-lock.json"
    stale_install = not installed.exists() or (
        lock.exists() and installed.stat().st_mtime < lock.stat().st_mtime
    )
    sources = _newest(FRONTEND, skip=frozenset(FRONTEND_OUTPUTS))
    sources = max(sources, _newest(*API_SOURCES))
    stale_build = any(not built.exists() or built.stat().st_mtime < sources for built in BUILDS)
    if not (stale_install or stale_build):
        return True
    npm = _ensure_node()
    if npm is None:
        return BUILT_CONSOLE.exists()
    env = {**os.environ, "XINDAI_PYTHON": str(BIN / "python")}
    if stale_install:
        print("Installing the front end's packages (npm ci) …", flush=True)
        verb = "ci" if lock.exists() else "install"
        _run_in(FRONTEND, env, npm, verb, "--no-audit", "--no-fund", "--loglevel=error")
    print("Building the console and the borrower app (npm run build) …", flush=True)
    _run_in(FRONTEND, env, npm, "run", "build")
    return True


def _run_in(folder: Path, env: dict[str, str], *args: str | Path) -> None:
    result = subprocess.run([str(a) for a in args], cwd=folder, env=env)
    if result.returncode:
        sys.exit(result.returncode)


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
        ensure_frontend()
        _run(BIN / "xindai", "demo", "start", *argv[1:])
    elif command == "test":
        ensure_frontend()  # the browser tests drive the built console
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
