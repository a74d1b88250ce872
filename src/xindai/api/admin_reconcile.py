"""Reconciliation in the admin API (对账), /api/v1/admin/reconciliation: upload a channel's
statement (CSV `date,channel,reference,type,amount`), the runs, the breaks with the loan
behind each, resolving a break with a note. Permission `ledger.reconcile`; audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from xindai.api import views_reconcile as views
from xindai.api.deps import PathId, Staff, client_ip, permitted, platform
from xindai.api.listing import (
    EXPORT_RESPONSES,
    Column,
    Listing,
    ListParams,
    export_xlsx,
    page_of,
    reading,
)
from xindai.api.openapi import responses
from xindai.api.schemas import WholeNumber
from xindai.dates import parse_date
from xindai.ledger.reconcile_runs import (
    BREAK_KINDS,
    BREAK_STATUSES,
    MODES,
    ReconciliationRuns,
    break_view,
    loans_of,
    run_view,
)
from xindai.store.models_admin import ReconciliationBreak, ReconciliationRun
from xindai.store.repository import NotFound

router = APIRouter(prefix="/api/v1/admin/reconciliation", tags=["admin 对账 reconciliation"])
PERMISSION = "ledger.reconcile"
STATEMENT_LIMIT = 12 * 1024 * 1024  # api.middleware's upload limit for this path

RUNS = Listing(
    "reconciliation_runs",
    sortable={"id": ReconciliationRun.id, "last_day": ReconciliationRun.last_day},
    default_sort="-id",
    tiebreak=ReconciliationRun.id,
)
BREAKS = Listing(
    "reconciliation_breaks",
    sortable={"id": ReconciliationBreak.id, "day": ReconciliationBreak.day},
    default_sort="-id",
    tiebreak=ReconciliationBreak.id,
    search="reference",
)


class ResolveIn(BaseModel):
    note: str = Field(min_length=1, max_length=2000, description="what was found and done")


def _service(request: Request) -> ReconciliationRuns:
    p = platform(request)
    return ReconciliationRuns(p.sessions, p.clock)


def _open_counts(session: Any, run_ids: list[int]) -> dict[int, int]:
    if not run_ids:
        return {}
    rows = session.execute(
        select(ReconciliationBreak.run_id, func.count())
        .where(ReconciliationBreak.run_id.in_(run_ids), ReconciliationBreak.status == "open")
        .group_by(ReconciliationBreak.run_id)
    )
    return {int(run): int(n) for run, n in rows}


@router.post(
    "/runs",
    status_code=201,
    response_model=views.ReconciliationRun,
    responses=responses(
        400,
        403,
        notes={
            400: "INVALID_VALUE: the statement's header, a line (named in `field`), more "
            "than one channel, no rows, not UTF-8"
        },
    ),
    summary="Upload a channel statement and reconcile it / 上传对账单",
)
async def upload(
    staff: Annotated[Staff, permitted(PERMISSION)],
    request: Request,
    statement: Annotated[
        UploadFile, File(description="CSV: date,channel,reference,type,amount (UTF-8)")
    ],
    mode: Annotated[
        str,
        Form(
            pattern="^(day|reference)$",
            description="day: each statement day against that business date's journal "
            "(the daily reconciliation); reference: every reference against the journal "
            "of any date (a statement of the whole history)",
            json_schema_extra={"enum": list(MODES)},
        ),
    ] = "day",
) -> dict[str, Any]:
    """The run and how many breaks it found (open until resolved)."""
    from starlette.concurrency import run_in_threadpool

    data = await statement.read(STATEMENT_LIMIT + 1)
    run = await run_in_threadpool(
        _service(request).upload,
        data,
        file_name=statement.filename or "statement.csv",
        actor=staff.username,
        mode=mode,
        ip=client_ip(request),
    )
    return run_view(run)


@router.get(
    "/runs",
    response_model=page_of(views.ReconciliationRun),
    responses=responses(403),
    summary="Reconciliation runs / 对账记录",
)
def runs(
    staff: Annotated[Staff, permitted(PERMISSION)],
    request: Request,
    params: Annotated[ListParams, RUNS.params()],
    channel: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, Any]:
    stmt = select(ReconciliationRun)
    if channel:
        stmt = stmt.where(ReconciliationRun.channel == channel)
    with reading(request) as session:
        rows, total = RUNS.page(session, stmt, params)
        found = [row for (row,) in rows]
        counts = _open_counts(session, [r.id for r in found])
        return params.answer([run_view(r, counts.get(r.id, 0)) for r in found], total)


@router.get(
    "/runs/{run_id}",
    response_model=views.ReconciliationRun,
    responses=responses(403, 404),
    summary="One reconciliation run / 对账详情",
)
def run(
    run_id: PathId, staff: Annotated[Staff, permitted(PERMISSION)], request: Request
) -> dict[str, Any]:
    with reading(request) as session:
        row = session.get(ReconciliationRun, run_id)
        if row is None:
            raise NotFound(f"run {run_id} does not exist", f"对账记录 {run_id} 不存在")
        return run_view(row, _open_counts(session, [row.id]).get(row.id, 0))


@dataclass(frozen=True, slots=True)
class BreakFilters:
    status: str | None
    kind: str | None
    run_id: int | None
    channel: str | None
    date_from: date | None
    date_to: date | None

    def as_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__slots__}


def break_filters(
    status: Annotated[
        str | None, Query(max_length=16, json_schema_extra={"enum": list(BREAK_STATUSES)})
    ] = None,
    kind: Annotated[
        str | None, Query(max_length=24, json_schema_extra={"enum": list(BREAK_KINDS)})
    ] = None,
    run_id: Annotated[WholeNumber | None, Query(ge=1, le=2**63 - 1)] = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    date_from: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")] = None,
) -> BreakFilters:
    return BreakFilters(
        status,
        kind,
        run_id,
        channel,
        parse_date(date_from, field="date_from") if date_from else None,
        parse_date(date_to, field="date_to") if date_to else None,
    )


def _breaks(filters: BreakFilters, reference: str | None) -> Any:
    stmt = select(ReconciliationBreak)
    for column, value in (
        (ReconciliationBreak.status, filters.status),
        (ReconciliationBreak.kind, filters.kind),
        (ReconciliationBreak.run_id, filters.run_id),
        (ReconciliationBreak.channel, filters.channel),
        (ReconciliationBreak.reference, reference),
    ):
        if value is not None and value != "":
            stmt = stmt.where(column == value)
    if filters.date_from:
        stmt = stmt.where(ReconciliationBreak.day >= filters.date_from)
    if filters.date_to:
        stmt = stmt.where(ReconciliationBreak.day <= filters.date_to)
    return stmt


def _render_breaks(session: Any, rows: Any) -> list[dict[str, Any]]:
    found = [row for (row,) in rows]
    loans = loans_of(session, [b.reference for b in found])
    return [break_view(b, loans.get(b.reference)) for b in found]


BREAK_COLUMNS = (
    Column("id", "差异编号", "int"),
    Column("run_id", "对账批次", "int"),
    Column("day", "日期", "date"),
    Column("channel", "渠道"),
    Column("reference", "流水号"),
    Column("kind", "差异类型"),
    Column("statement_amount", "渠道金额", "yuan"),
    Column("journal_amount", "账务金额", "yuan"),
    Column("difference", "差额", "yuan"),
    Column("loan_id", "借据号", "int"),
    Column("status", "状态"),
    Column("resolved_by", "处理人"),
    Column("resolution_note", "处理说明"),
)


@router.get(
    "/breaks",
    response_model=page_of(views.ReconciliationBreak),
    responses=responses(400, 403),
    summary="Reconciliation breaks / 对账差异",
)
def breaks(
    staff: Annotated[Staff, permitted(PERMISSION)],
    request: Request,
    params: Annotated[ListParams, BREAKS.params()],
    filters: Annotated[BreakFilters, Depends(break_filters)],
) -> dict[str, Any]:
    with reading(request) as session:
        rows, total = BREAKS.page(session, _breaks(filters, params.query), params)
        return params.answer(_render_breaks(session, rows), total)


@router.get(
    "/breaks/export",
    response_class=FileResponse,
    responses=EXPORT_RESPONSES,
    summary="Reconciliation breaks as an Excel file / 导出对账差异",
)
def export_breaks(
    staff: Annotated[Staff, permitted(PERMISSION, "reports.export")],
    request: Request,
    params: Annotated[ListParams, BREAKS.params(paged=False)],
    filters: Annotated[BreakFilters, Depends(break_filters)],
) -> FileResponse:
    return export_xlsx(
        request,
        staff,
        listing=BREAKS,
        stmt=_breaks(filters, params.query),
        params=params,
        render=_render_breaks,
        columns=BREAK_COLUMNS,
        filters=filters.as_dict(),
        title="对账差异",
    )


@router.post(
    "/breaks/{break_id}/resolve",
    response_model=views.ReconciliationBreak,
    responses=responses(
        400, 403, 404, 409, notes={409: "RECONCILIATION_BREAK_RESOLVED: already resolved"}
    ),
    summary="Resolve a break with a note / 处理对账差异",
)
def resolve(
    break_id: PathId,
    body: ResolveIn,
    staff: Annotated[Staff, permitted(PERMISSION)],
    request: Request,
) -> dict[str, Any]:
    return _service(request).resolve(
        break_id, actor=staff.username, note=body.note, ip=client_ip(request)
    )
