"""The demo lender's business days, in order: the morning (the channel's answers to
yesterday's requests, finance's failed payouts, the review queue), the people's day (see
`lender.BorrowerSide`, run here or split over worker processes), the collection teams'
day (`collections`), the afternoon's servicing requests, and close of business with
withholding (代扣) and the collection steps. The last day is today's morning: its queue and
its requests are left open for the console to show."""

from __future__ import annotations

import time as wall
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from xindai.cob.runner import run_cob
from xindai.demo.collections import DemoCollections, demo_registry
from xindai.demo.desk import StaffDesk
from xindai.demo.lender import BorrowerSide, Counts, DemoClock, DemoSize
from xindai.integrations.simulators.control import SimulatorControl
from xindai.origination.journey import OriginationService
from xindai.origination.resolve import PaymentResolver
from xindai.platform import Platform
from xindai.store.db import transaction
from xindai.store.models_origination import Payout, RefundTask, Withholding

SETTLE_TIMEOUT_S = 60.0

ProgressFn = Callable[[int, int, Counts], None]
PeopleDay = Callable[[date, list[tuple[int, int]]], Counts]
"""Runs the people's part of a day (every shard) and returns their counts, summed."""


class DemoLender:
    """Runs the demo lender's business from `start` to `end` (its business date after)."""

    def __init__(
        self,
        platform: Platform,
        clock: DemoClock,
        control: SimulatorControl,
        size: DemoSize,
        *,
        start: date,
        end: date,
        people_day: PeopleDay | None = None,
        progress: ProgressFn | None = None,
    ):
        self.p = platform
        self.clock = clock
        self.control = control
        self.start, self.end = start, end
        self.progress = progress
        self.desk = StaffDesk(
            platform, clock, control, OriginationService(platform), seed=size.seed
        )
        self.collections = DemoCollections(platform, clock, control, size, start=start, end=end)
        self.registry = demo_registry(platform)
        self.people_elsewhere = people_day is not None  # in worker processes
        if people_day is None:
            side = BorrowerSide(platform, clock, control, size, start=start, end=end)
            people_day = side.day
        self.people_day = people_day
        self.phases: dict[str, float] = {}  # wall seconds by part of the day, summed
        self._lap_at = 0.0
        # one statement: how many payouts, collections and refunds the channel still owes
        payouts, withholdings, refunds = (
            select(func.count()).where(condition).scalar_subquery()
            for condition in (
                Payout.status == "requested",
                Withholding.status == "requested",
                RefundTask.status == "refunding",
            )
        )
        self._waiting = select(payouts + withholdings + refunds)

    def _lap(self, phase: str) -> None:
        now = wall.perf_counter()
        self.phases[phase] = self.phases.get(phase, 0.0) + now - self._lap_at
        self._lap_at = now

    def run(self) -> Counts:
        days = (self.end - self.start).days + 1
        counts = Counts()
        self._lap_at = wall.perf_counter()
        for offset in range(days):
            day = self.start + timedelta(days=offset)
            last = day == self.end
            self.clock.morning(day)
            self.settle()
            self.desk.finance_payouts(last=last)
            approved = self.desk.review_queue(day, last=last)
            self._lap("morning")
            with self.collections.around_people(day, last=last, concurrent=self.people_elsewhere):
                counts = self.people_day(day, approved)
            self._lap("people")
            self.clock.morning(day)
            self.clock.now = max(self.clock.now, datetime.combine(day, time(16, 0)))
            self.desk.servicing(day, self.end)
            self.settle()
            self._lap("servicing")
            late_payers = (
                self.desk.late_payers_to_write_off() if day == self.end - timedelta(3) else []
            )
            if not last:
                self.clock.now = datetime.combine(day, time(23, 0))
                run_cob(self.p.sessions, until=day, registry=self.registry)
            self._lap("cob")
            if late_payers:
                self.desk.write_off_while_collecting(late_payers)
            if offset % 30 == 29 or last:
                self.desk.credit_lines(day)
            if self.progress is not None:
                self.progress(offset + 1, days, counts)
        self.settle()
        self.desk.refund_parked()
        self.settle()
        return counts

    def settle(self) -> None:
        """Wait until the channel has answered every payout, collection and refund asked
        for (its callbacks reach the platform's app); what never answers is asked about."""
        deadline = wall.monotonic() + SETTLE_TIMEOUT_S
        asked = False
        pause = 0.004
        while True:
            with transaction(self.p.sessions, read_only=True) as session:  # no write lock
                waiting = session.scalar(self._waiting) or 0
            if not waiting:
                return
            if wall.monotonic() > deadline:
                if asked:
                    raise RuntimeError(f"{waiting} payment requests never resolved")
                PaymentResolver(self.p).resolve(timedelta(0))
                asked, deadline = True, wall.monotonic() + 5
            # the callbacks are handled in this process: asking less often leaves them the GIL
            wall.sleep(pause)
            pause = min(pause * 1.5, 0.01)
