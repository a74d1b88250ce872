"""Building the demo lender's database, and telling whether one is complete.

`build_demo_lender` migrates a fresh database, seeds it as `xindai serve` would (chart of
accounts, permissions, products, the live strategy), creates one staff login per role, runs
`DemoLender` against the simulators, and records what it built in `system_state` under
`demo_lender` — last, so that a build interrupted half-way is not taken for a complete one.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import time
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from xindai.bootstrap import bootstrap
from xindai.dates import add_months
from xindai.demo.business import DemoLender, ProgressFn
from xindai.demo.desk import DEMO_CALLBACK_DELAY_MS
from xindai.demo.lender import Counts, DemoClock, DemoSize
from xindai.demo.receiver import PlatformProcesses, PlatformThread
from xindai.demo.staff import create_demo_staff
from xindai.demo.workers import PeopleWorkers
from xindai.integrations.simulators.control import SimulatorControl
from xindai.integrations.simulators.process import free_port
from xindai.platform import Platform
from xindai.security.staff import StaffService
from xindai.settings import get_settings
from xindai.store import migrate
from xindai.store.db import (
    background_checkpoints,
    make_engine,
    session_factory,
    without_sync,
)
from xindai.store.models import SystemState

DEMO_KEY = "demo_lender"
CALLBACK_PROCESSES = 2  # beside worker processes: the processes the channel calls back


@dataclass(frozen=True, slots=True)
class DemoBuilt:
    """What a complete demo database holds (stored as JSON under `demo_lender`)."""

    months: int
    loans_target: int
    seed: int
    start: str
    end: str
    seconds: float
    counts: dict[str, Any]

    def matches(self, size: DemoSize) -> bool:
        return (self.months, self.loans_target, self.seed) == (size.months, size.loans, size.seed)


def demo_built(database_url: str) -> DemoBuilt | None:
    """The record of a complete demo in `database_url`, None when there is none (no file,
    no schema, or a build that did not finish)."""
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        if not path.exists():
            return None
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            value = session.scalar(select(SystemState.value).where(SystemState.key == DEMO_KEY))
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    if value is None:
        return None
    data = json.loads(value)
    return DemoBuilt(**data)


def remove_sqlite(database_url: str) -> None:
    """Delete a SQLite database file with its write-ahead log (to build afresh)."""
    if not database_url.startswith("sqlite:///"):
        return
    path = Path(database_url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def build_demo_lender(
    database_url: str,
    *,
    sim_url: str,
    sim_secret: str,
    size: DemoSize,
    end: date,
    data_dir: Path,
    workers: int = 0,
    progress: ProgressFn | None = None,
) -> DemoBuilt:
    """Run `size.months` months of the demo lender's business up to `end` (its business
    date afterwards) into the fresh database `database_url`, against the simulators at
    `sim_url` (signed with `sim_secret`); the people's part of each day in `workers`
    processes (0: in this one, which is deterministic to the record; the channel's callbacks
    then reach a thread of this process, else `CALLBACK_PROCESSES` processes of their own)."""
    started = time.perf_counter()
    start = add_months(end, -size.months)
    engine = without_sync(make_engine(database_url))  # see _record_built
    migrate.upgrade(engine)
    sessions = session_factory(engine)
    port = free_port()
    settings = get_settings().model_copy(
        update={
            "database_url": database_url,
            "data_dir": data_dir,
            "providers_url": sim_url,
            "provider_secret": sim_secret,
            "public_url": f"http://127.0.0.1:{port}",
        }
    )
    # with worker processes, one clock for all of them and for the callback processes
    shared_clock = multiprocessing.get_context("spawn").Value("d", 0.0) if workers > 0 else None
    clock = DemoClock(start, shared_clock)
    platform = Platform.from_settings(settings, sessions=sessions, clock=clock)
    control = SimulatorControl(sim_url, timeout_s=30)
    try:
        control.payment_control(callback_delay_ms=DEMO_CALLBACK_DELAY_MS, failure_rate=0.0)
        bootstrap(
            sessions, cipher=platform.cipher, today=start, strategy_name=settings.strategy_name
        )
        with sessions.begin() as session:
            create_demo_staff(session, StaffService(sessions, platform.cipher), clock())
        with contextlib.ExitStack() as stack:
            stack.enter_context(background_checkpoints(engine))
            people_day = None
            if workers > 0:
                # the channel's callbacks in processes of their own: this one sends close of
                # business's requests meanwhile
                stack.enter_context(
                    PlatformProcesses(
                        settings.model_dump(), start, shared_clock, count=CALLBACK_PROCESSES,
                        port=port,
                    )
                )  # fmt: skip
                people_day = stack.enter_context(
                    PeopleWorkers(settings.model_dump(), size, start, end, workers, shared_clock)
                )
            else:
                stack.enter_context(PlatformThread(platform, port=port))
            lender = DemoLender(
                platform,
                clock,
                control,
                size,
                start=start,
                end=end,
                people_day=people_day,
                progress=progress,
            )
            counts = lender.run()
        built = DemoBuilt(
            months=size.months,
            loans_target=size.loans,
            seed=size.seed,
            start=start.isoformat(),
            end=end.isoformat(),
            seconds=round(time.perf_counter() - started, 1),
            counts=_counts_json(counts, lender.phases),
        )
        engine.dispose()
        _record_built(database_url, built)
        return built
    finally:
        control.close()
        platform.providers.close()
        engine.dispose()


def _record_built(database_url: str, built: DemoBuilt) -> None:
    """Record `built` as the demo: the build wrote without fsync (a build that does not
    finish is built again), so first everything it wrote is made durable (a FULL checkpoint
    at `synchronous = NORMAL`), and only then the record that says the demo is complete."""
    engine = make_engine(database_url)
    try:
        if engine.dialect.name == "sqlite":
            connection = engine.raw_connection()  # outside a transaction, as a checkpoint must be
            try:
                connection.cursor().execute("PRAGMA wal_checkpoint(FULL)").close()
            finally:
                connection.close()
        with session_factory(engine).begin() as session:
            session.merge(SystemState(key=DEMO_KEY, value=json.dumps(asdict(built))))
    finally:
        engine.dispose()


def _counts_json(counts: Counts, phases: dict[str, float]) -> dict[str, Any]:
    """The headline counts and the wall seconds of each part of the days."""
    return {
        "phases": {name: round(seconds) for name, seconds in phases.items()},
        "borrowers": counts.registrations,
        "applications": counts.applications,
        "loans": counts.loans,
        "built_at": datetime.now().isoformat(timespec="seconds"),
    }
