"""The people's part of each demo day split over worker processes (one shard of the market
each, `person.index % shards`), so that sign-ups, decisions, contracts and payouts use
every core while the building process handles the channel's callbacks and staff work.

Each worker builds its own engine and platform from the same settings and runs a
`BorrowerSide` one day at a time, as the parent asks over a pipe, on the build's shared
clock (`DemoClock`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
from dataclasses import dataclass
from datetime import date
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, Self

from xindai.demo.lender import BorrowerSide, Counts, DemoClock, DemoSize


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    settings: dict[str, Any]  # the fields of the building process's Settings
    size: DemoSize
    start: date
    end: date
    shard: int
    shards: int


def _serve(spec: WorkerSpec, pipe: Connection, shared_clock: Any) -> None:
    from xindai.integrations.simulators.control import SimulatorControl
    from xindai.platform import Platform
    from xindai.settings import Settings
    from xindai.store.db import make_engine, session_factory, without_sync

    settings = Settings(**spec.settings)
    engine = without_sync(make_engine(settings.database_url))  # the build's database
    clock = DemoClock(spec.start, shared_clock)
    platform = Platform.from_settings(settings, sessions=session_factory(engine), clock=clock)
    control = SimulatorControl(settings.providers_url, timeout_s=30)
    side = BorrowerSide(
        platform,
        clock,
        control,
        spec.size,
        start=spec.start,
        end=spec.end,
        shard=spec.shard,
        shards=spec.shards,
    )
    try:
        while True:
            message = pipe.recv()
            if message is None:
                break
            day, approved = message
            try:
                pipe.send(("ok", side.day(day, approved)))
            except BaseException as error:
                import traceback

                pipe.send(("error", f"{error!r}\n{traceback.format_exc()}"))
                break
    finally:
        control.close()
        platform.providers.close()
        engine.dispose()


class PeopleWorkers:
    """`shards` worker processes; calling the object runs a day on all of them at once and
    returns their counts summed."""

    def __init__(
        self,
        settings: dict[str, Any],
        size: DemoSize,
        start: date,
        end: date,
        shards: int,
        shared_clock: Any = None,
    ):
        context = multiprocessing.get_context("spawn")  # no engine or thread crosses a fork
        self._workers: list[tuple[Any, Connection]] = []
        for shard in range(shards):
            parent, child = context.Pipe()
            spec = WorkerSpec(settings, size, start, end, shard, shards)
            process = context.Process(
                target=_serve,
                args=(spec, child, shared_clock),
                name=f"xindai-demo-{shard}",
                daemon=True,
            )
            self._workers.append((process, parent))

    def __enter__(self) -> Self:
        for process, _ in self._workers:
            process.start()
        return self

    def __call__(self, day: date, approved: list[tuple[int, int]]) -> Counts:
        for _, pipe in self._workers:
            pipe.send((day, approved))
        total = Counts()
        for process, pipe in self._workers:
            status, result = pipe.recv()
            if status != "ok":
                raise RuntimeError(f"demo worker {process.name} failed: {result}")
            total.add(result)
        return total

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for process, pipe in self._workers:
            if process.is_alive():
                with contextlib.suppress(OSError):
                    pipe.send(None)
        for process, _ in self._workers:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
