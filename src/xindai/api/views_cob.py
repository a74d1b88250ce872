"""What the close-of-business routes answer: runs with their progress, and the steps of a
business date with their timings. Conventions as in `api.views`."""

from __future__ import annotations

from xindai.api.views import View, one_of, shown
from xindai.cob.jobs import RUN_STATUSES


class CobStep(View):
    step: str = shown("due, dpd, penalty, payments, withholding, reminders, snapshot, advance …")
    status: str = one_of(("running", "done"))
    rows: int = shown("rows the step touched")
    partitions_done: int = shown("of a partitioned step: partitions finished")
    started_at: str
    finished_at: str | None
    seconds: float | None


class CobRun(View):
    id: int
    first_date: str
    until_date: str
    status: str = one_of(RUN_STATUSES)
    withholding: bool
    started_by: str
    started_at: str
    finished_at: str | None
    heartbeat_at: str | None = shown("the last time the run wrote its progress")
    working_date: str | None = shown("the business date being closed")
    current_step: str | None
    partition: int = shown("partitions of the current step finished")
    partitions: int = shown("partitions of the current step")
    days_done: int
    days_total: int
    error: str | None = shown("why it failed (resume it once the cause is fixed)")
    resumes: int | None = shown("the failed run this one resumes")


class CobDay(View):
    business_date: str
    steps: list[CobStep]


class CobRunDetail(CobRun):
    days: list[CobDay] = shown("each date the run has reached, with its steps")


class CobStatus(View):
    business_date: str
    running: bool
    latest: CobRun | None
    today: list[CobStep] = shown("the steps recorded for the business date so far")
