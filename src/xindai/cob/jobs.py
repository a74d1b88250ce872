"""Close of business started from the console (日终批处理): a run is a row of `cob_runs`
and a background thread of this process running `cob.runner.run_cob`; the request that
starts it answers at once, and the console polls the row for its progress (the date being
closed, the step, the partition, the days done) and its end (done, or failed with the
error). A failed run is resumed by a new run for the same dates: `run_cob` skips what
`cob_step_runs` records as done and picks up at the step that failed.

Progress events only update memory (the runner's thread must never wait on a write of its
own: on SQLite it would wait for the write lock its own transaction holds); a flusher
thread writes them to the row twice a second, and that write is also the run's heartbeat.
A row left `running` without a heartbeat for `STALE_AFTER` (its process ended) is marked
failed the next time someone starts or resumes a run.

One run at a time per database: starting while another is running is `COB_RUNNING`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from xindai.cob.registry import StepRegistry
from xindai.cob.runner import CobProgress, run_cob
from xindai.errors import InvalidValue, XindaiError
from xindai.security import audit
from xindai.store import repository as repo
from xindai.store.models import CobStepRun
from xindai.store.models_admin import CobRun

logger = logging.getLogger("xindai.cob")

FLUSH_SECONDS = 0.5
STALE_AFTER = timedelta(minutes=2)
MAX_DAYS = 366
RUN_STATUSES = ("running", "done", "failed")


class CobRunning(XindaiError):
    code = "COB_RUNNING"
    http_status = 409


class CobRunState(XindaiError):
    code = "COB_RUN_STATE"
    http_status = 409


@dataclass
class _Progress:
    """What the runner's thread reports, read by the flusher."""

    working_date: date | None = None
    step: str | None = None
    partition: int = 0
    partitions: int = 0
    days_done: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: CobProgress) -> None:
        with self.lock:
            self.working_date, self.step = event.business_date, event.step
            self.partition, self.partitions = event.partition, event.partitions
            if event.done and event.step == "advance":
                self.days_done += 1

    def values(self) -> dict[str, Any]:
        with self.lock:
            return {
                "working_date": self.working_date,
                "current_step": self.step,
                "partition": self.partition,
                "partitions": self.partitions,
                "days_done": self.days_done,
            }


def run_view(run: CobRun) -> dict[str, Any]:
    def day(value: date | None) -> str | None:
        return value.isoformat() if value else None

    def at(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": run.id,
        "first_date": run.first_date.isoformat(),
        "until_date": run.until_date.isoformat(),
        "status": run.status,
        "withholding": run.withholding,
        "started_by": run.started_by,
        "started_at": run.started_at.isoformat(),
        "finished_at": at(run.finished_at),
        "heartbeat_at": at(run.heartbeat_at),
        "working_date": day(run.working_date),
        "current_step": run.current_step,
        "partition": run.partition,
        "partitions": run.partitions,
        "days_done": run.days_done,
        "days_total": run.days_total,
        "error": run.error,
        "resumes": run.resumes,
    }


def step_views(session: Session, day: date) -> list[dict[str, Any]]:
    """The steps of business date `day` as `cob_step_runs` has them, in the order they ran,
    each with its seconds and how many partitions are done (partition rows folded in)."""
    rows = session.scalars(
        select(CobStepRun)
        .where(CobStepRun.business_date == day)
        .order_by(CobStepRun.started_at, CobStepRun.step)
    ).all()
    partitions: dict[str, int] = {}
    for row in rows:
        name, _, part = row.step.partition("/")
        if part and row.status == "done":
            partitions[name] = partitions.get(name, 0) + 1
    views = []
    for row in rows:
        if "/" in row.step or row.step == "plan":
            continue
        seconds = (row.finished_at - row.started_at).total_seconds() if row.finished_at else None
        views.append(
            {
                "step": row.step,
                "status": row.status,
                "rows": row.rows,
                "partitions_done": partitions.get(row.step, 0),
                "started_at": row.started_at.isoformat(),
                "finished_at": row.finished_at.isoformat() if row.finished_at else None,
                "seconds": None if seconds is None else round(seconds, 3),
            }
        )
    return views


class CobJobs:
    """Start, follow and resume close-of-business runs of `sessions`' database in background
    threads of this process. `registry` builds the steps for a run (with the withholding
    step when asked; None: the built-in steps)."""

    _threads: dict[int, threading.Thread] = {}  # noqa: RUF012 - the process's running jobs
    _start_lock = threading.Lock()

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime],
        registry: Callable[[bool], StepRegistry | None] = lambda _withholding: None,
    ):
        self.sessions = sessions
        self.clock = clock
        self.registry = registry

    # ------------------------------------------------------------ starting

    def start(
        self,
        *,
        actor: str,
        until: date | None = None,
        withholding: bool = True,
        ip: str | None = None,
    ) -> CobRun:
        """Close the current business date (or every date up to `until`) in the background;
        the new run at once (recorded and audited before the run starts, so that the caller
        never waits for the run's transactions)."""
        with self._start_lock, self.sessions.begin() as session:
            self._refuse_running(session)
            current = repo.require_business_date(session)
            last = until or current
            if last < current:
                raise InvalidValue(
                    "until",
                    last.isoformat(),
                    f"is before the business date {current}",
                    f"早于当前营业日 {current}",
                )
            days = (last - current).days + 1
            if days > MAX_DAYS:
                raise InvalidValue(
                    "until", last.isoformat(), f"at most {MAX_DAYS} days a run", "单次最多一年"
                )
            run = self._new(session, current, last, days, actor, withholding, None, ip)
        self._launch(run)
        return run

    def resume(self, run_id: int, *, actor: str, ip: str | None = None) -> CobRun:
        """A failed run started again: a new run for its remaining dates, which picks up at
        the step that failed."""
        with self._start_lock, self.sessions.begin() as session:
            self._refuse_running(session)
            failed = session.get(CobRun, run_id, with_for_update=True)
            if failed is None:
                raise repo.NotFound(f"run {run_id} does not exist", f"日终批处理 {run_id} 不存在")
            if failed.status != "failed":
                raise CobRunState(
                    f"run {run_id} is {failed.status}; only a failed run is resumed",
                    f"批处理 {run_id} 状态为 {failed.status}，只有失败的批处理可以续跑",
                )
            current = repo.require_business_date(session)
            if failed.until_date < current:
                raise CobRunState(
                    f"run {run_id}'s dates are closed already (business date {current})",
                    f"批处理 {run_id} 的营业日已完成（当前营业日 {current}）",
                )
            days = (failed.until_date - current).days + 1
            run = self._new(
                session, current, failed.until_date, days, actor, failed.withholding, failed.id, ip
            )
        self._launch(run)
        return run

    def _new(
        self,
        session: Session,
        first: date,
        last: date,
        days: int,
        actor: str,
        withholding: bool,
        resumes: int | None,
        ip: str | None,
    ) -> CobRun:
        now = self.clock()
        run = CobRun(
            first_date=first,
            until_date=last,
            status="running",
            withholding=withholding,
            started_by=actor,
            started_at=now,
            heartbeat_at=now,
            working_date=first,
            partition=0,
            partitions=0,
            days_done=0,
            days_total=days,
            resumes=resumes,
        )
        session.add(run)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="cob.resume" if resumes else "cob.start",
            resource="cob_run",
            resource_id=run.id,
            ip=ip,
            after={
                "first_date": first,
                "until_date": last,
                "withholding": withholding,
                "resumes": resumes,
            },
            at=now,
        )
        session.expunge(run)
        return run

    def _refuse_running(self, session: Session) -> None:
        running = session.scalars(select(CobRun).where(CobRun.status == "running")).all()
        for run in running:
            thread = self._threads.get(run.id)
            alive = thread is not None and thread.is_alive()
            stale = run.heartbeat_at is None or run.heartbeat_at < self.clock() - STALE_AFTER
            if not alive and stale:  # its process is gone
                run.status, run.finished_at = "failed", self.clock()
                run.error = "interrupted: the process running it stopped"
                continue
            raise CobRunning(
                f"close of business run {run.id} is still running", f"日终批处理 {run.id} 正在运行"
            )

    # ------------------------------------------------------------ running

    def _launch(self, run: CobRun) -> None:
        thread = threading.Thread(
            target=self._run,
            args=(run.id, run.until_date, run.withholding),
            daemon=True,
            name=f"xindai-cob-{run.id}",
        )
        self._threads[run.id] = thread
        thread.start()

    def _run(self, run_id: int, until: date, withholding: bool) -> None:
        progress = _Progress()
        stop = threading.Event()
        flusher = threading.Thread(
            target=self._flush_until, args=(run_id, progress, stop), daemon=True
        )
        flusher.start()
        status, error = "done", None
        try:
            run_cob(
                self.sessions, until=until, progress=progress, registry=self.registry(withholding)
            )
        except Exception as exc:  # the run failed: recorded for the console, resumable
            logger.exception("close of business run %s failed", run_id)
            status, error = "failed", f"{type(exc).__name__}: {exc}"[:4000]
        finally:
            stop.set()
            flusher.join()
        self._write(run_id, progress, status=status, error=error)
        self._threads.pop(run_id, None)

    def _flush_until(self, run_id: int, progress: _Progress, stop: threading.Event) -> None:
        while not stop.wait(FLUSH_SECONDS):
            try:
                self._write(run_id, progress)
            except Exception:  # a busy database delays the console's view, nothing else
                logger.warning("could not write the progress of run %s", run_id, exc_info=True)

    def _write(
        self,
        run_id: int,
        progress: _Progress,
        *,
        status: str | None = None,
        error: str | None = None,
    ) -> None:
        values: dict[str, Any] = {**progress.values(), "heartbeat_at": self.clock()}
        if values["working_date"] is None:
            del values["working_date"]
        if status is not None:
            values |= {"status": status, "error": error, "finished_at": self.clock()}
        with self.sessions.begin() as session:
            session.execute(update(CobRun).where(CobRun.id == run_id).values(**values))

    # ------------------------------------------------------------ reading

    def wait(self, run_id: int, timeout: float | None = None) -> bool:
        """Wait for this process's run `run_id` to end (for the CLI and tests); whether it
        has."""
        thread = self._threads.get(run_id)
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True


__all__ = [
    "RUN_STATUSES",
    "CobJobs",
    "CobRunState",
    "CobRunning",
    "run_view",
    "step_views",
]
