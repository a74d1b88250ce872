"""Close of business in the admin API (日终批处理), /api/v1/admin/cob: the business date and
the run in progress, runs with their steps and timings, starting the next day (answered at
once with 202: the run goes on in the background and the console polls it), resuming a
failed run. Permission `cob.run`; starting and resuming are audited."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from xindai.api import views_cob as views
from xindai.api.deps import PathId, Staff, client_ip, permitted, platform
from xindai.api.listing import Listing, ListParams, page_of, reading
from xindai.api.openapi import responses
from xindai.cob.jobs import CobJobs, run_view, step_views
from xindai.cob.registry import StepRegistry
from xindai.dates import parse_date
from xindai.store import repository as repo
from xindai.store.models_admin import CobRun

router = APIRouter(prefix="/api/v1/admin/cob", tags=["admin 日终 close of business"])
PERMISSION = "cob.run"
RUNS = Listing(
    "cob_runs",
    sortable={"id": CobRun.id, "started_at": CobRun.started_at},
    default_sort="-id",
    tiebreak=CobRun.id,
)
START_NOTES = {
    400: "INVALID_VALUE: `until` before the business date or more than a year ahead",
    409: "COB_RUNNING: a run is still going",
}


class StartIn(BaseModel):
    until: str | None = Field(
        default=None,
        max_length=10,
        description="close every date from the business date up to this one (YYYY-MM-DD); "
        "default: the business date only",
    )
    withholding: bool = Field(
        default=True,
        description="step 4 collects what is due through the payment channel (自动代扣)",
    )


def _jobs(request: Request) -> CobJobs:
    p = platform(request)

    def registry(withholding: bool) -> StepRegistry | None:
        from xindai.collections.cob import registry_for

        return registry_for(p, withholding=withholding)

    return CobJobs(p.sessions, p.clock, registry)


def _detail(session: Any, run: CobRun) -> dict[str, Any]:
    last = run.working_date or run.first_date
    days = [date.fromordinal(n) for n in range(run.first_date.toordinal(), last.toordinal() + 1)]
    return {
        **run_view(run),
        "days": [{"business_date": d.isoformat(), "steps": step_views(session, d)} for d in days],
    }


@router.get(
    "/status",
    response_model=views.CobStatus,
    responses=responses(403),
    summary="Business date and the run in progress / 日终状态",
)
def status(staff: Annotated[Staff, permitted(PERMISSION)], request: Request) -> dict[str, Any]:
    with reading(request) as session:
        latest = session.scalars(select(CobRun).order_by(CobRun.id.desc()).limit(1)).first()
        business_date = repo.require_business_date(session)
        return {
            "business_date": business_date.isoformat(),
            "running": latest is not None and latest.status == "running",
            "latest": None if latest is None else run_view(latest),
            "today": step_views(session, business_date),
        }


@router.post(
    "/runs",
    status_code=202,
    response_model=views.CobRun,
    responses=responses(400, 403, 409, notes=START_NOTES),
    summary="Close the business date (in the background) / 执行日终",
)
def start(
    staff: Annotated[Staff, permitted(PERMISSION)],
    request: Request,
    body: StartIn | None = None,
) -> dict[str, Any]:
    """Answers at once with the run (status `running`); poll `GET /cob/runs/{id}` for its
    progress and its end."""
    given = body or StartIn()
    until = parse_date(given.until, field="until") if given.until else None
    run = _jobs(request).start(
        actor=staff.username, until=until, withholding=given.withholding, ip=client_ip(request)
    )
    return run_view(run)


@router.get(
    "/runs",
    response_model=page_of(views.CobRun),
    responses=responses(403),
    summary="Close-of-business runs / 日终批处理记录",
)
def runs(
    staff: Annotated[Staff, permitted(PERMISSION)],
    request: Request,
    params: Annotated[ListParams, RUNS.params()],
) -> dict[str, Any]:
    with reading(request) as session:
        rows, total = RUNS.page(session, select(CobRun), params)
        return params.answer([run_view(row) for (row,) in rows], total)


@router.get(
    "/runs/{run_id}",
    response_model=views.CobRunDetail,
    responses=responses(403, 404),
    summary="A run with the steps of its dates and their timings / 日终批处理详情",
)
def run(
    run_id: PathId, staff: Annotated[Staff, permitted(PERMISSION)], request: Request
) -> dict[str, Any]:
    with reading(request) as session:
        row = session.get(CobRun, run_id)
        if row is None:
            raise repo.NotFound(f"run {run_id} does not exist", f"日终批处理 {run_id} 不存在")
        return _detail(session, row)


@router.post(
    "/runs/{run_id}/resume",
    status_code=202,
    response_model=views.CobRun,
    responses=responses(
        403,
        404,
        409,
        notes={409: "COB_RUN_STATE: the run has not failed; COB_RUNNING: another is going"},
    ),
    summary="Resume a failed run from the step that failed / 续跑日终",
)
def resume(
    run_id: PathId, staff: Annotated[Staff, permitted(PERMISSION)], request: Request
) -> dict[str, Any]:
    """A new run (pointing at the failed one) for the dates still to close; the steps and
    partitions done before are skipped."""
    return run_view(_jobs(request).resume(run_id, actor=staff.username, ip=client_ip(request)))
