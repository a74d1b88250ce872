"""Collection reports (催收绩效), /api/v1/admin/collections: the KPIs per collector, team,
agency or queue with their xlsx export, and the champion / challenger outcomes of the
strategies by cell (cure, roll and recovery rates: `collections.cells`); each needs
`collections.read` and `reports.read` (docs/collections-api.md)."""

from __future__ import annotations

import os
import tempfile
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from xindai.api.deps import Staff, permitted, platform
from xindai.api.listing import EXPORT_RESPONSES, XLSX, Column, reading, write_xlsx
from xindai.api.openapi import responses
from xindai.collections.cells import cell_outcomes
from xindai.collections.kpis import LEVELS, kpis
from xindai.security import audit
from xindai.store import repository as repo

router = APIRouter(prefix="/api/v1/admin/collections", tags=["admin 催收管理"])
READ = "collections.read"


# ------------------------------------------------------------------ KPIs

KPI_COLUMNS = (
    Column("name", "名称"),
    Column("calls", "通话量", "int"),
    Column("connected", "接通量", "int"),
    Column("contact_rate", "联络率"),
    Column("right_party", "本人接通", "int"),
    Column("rpc_rate", "本人接通率"),
    Column("promises", "承诺次数", "int"),
    Column("promise_rate", "承诺还款率"),
    Column("kept", "履约次数", "int"),
    Column("kept_rate", "履约率"),
    Column("recovered", "回收金额", "yuan"),
    Column("cases", "在催案件", "int"),
)


def _period(request: Request, date_from: date | None, date_to: date | None) -> tuple[date, date]:
    with reading(request) as session:
        today = repo.get_business_date(session) or platform(request).clock().date()
    end = date_to or today
    return date_from or end - timedelta(days=29), end


Level = Annotated[str, Query(max_length=16, json_schema_extra={"enum": list(LEVELS)})]


@router.get("/kpis", responses=responses(400, 403), summary="Collection KPIs / 催收绩效")
def collection_kpis(
    staff: Annotated[Staff, permitted(READ, "reports.read")],
    request: Request,
    level: Level = "collector",
    date_from: Annotated[date | None, Query()] = None,
    date_to: Annotated[date | None, Query()] = None,
) -> dict[str, Any]:
    start, end = _period(request, date_from, date_to)
    with reading(request) as session:
        return kpis(session, level, start, end)


@router.get(
    "/kpis/export",
    response_class=FileResponse,
    responses=EXPORT_RESPONSES,
    summary="Collection KPIs as an Excel file / 导出催收绩效",
)
def export_kpis(
    staff: Annotated[Staff, permitted(READ, "reports.read", "reports.export")],
    request: Request,
    level: Level = "collector",
    date_from: Annotated[date | None, Query()] = None,
    date_to: Annotated[date | None, Query()] = None,
) -> FileResponse:
    start, end = _period(request, date_from, date_to)
    with reading(request) as session:
        report = kpis(session, level, start, end)
    handle, path = tempfile.mkstemp(prefix="xindai-collection-kpis-", suffix=".xlsx")
    os.close(handle)
    write_xlsx(path, f"催收绩效 {level}", KPI_COLUMNS, iter([report["items"]]))
    with platform(request).sessions.begin() as session:
        audit.record(
            session,
            actor=staff.username,
            action="collection.kpis.export",
            resource="collection_kpis",
            resource_id=level,
            after={
                "level": level,
                "date_from": start.isoformat(),
                "date_to": end.isoformat(),
                "rows": len(report["items"]),
            },
        )
    return FileResponse(
        path,
        media_type=XLSX,
        filename=f"collection-kpis-{level}-{end.isoformat()}.xlsx",
        background=BackgroundTask(os.unlink, path),
    )


@router.get(
    "/strategies/outcomes",
    responses=responses(400, 403),
    summary="Champion / challenger outcomes by strategy × cell / 策略冠军挑战者效果",
)
def strategy_outcomes(
    staff: Annotated[Staff, permitted(READ, "reports.read")],
    request: Request,
    date_from: Annotated[date | None, Query(description="cases that entered on or after")] = None,
    date_to: Annotated[date | None, Query(description="… on or before (default today)")] = None,
) -> dict[str, Any]:
    """Cure, roll and recovery rates of the cases that entered a queue in the period (default
    the 30 business days up to today), by strategy (quadrant I–IV, or `stage`) × test cell,
    and each cell's totals."""
    start, end = _period(request, date_from, date_to)
    with reading(request) as session:
        return cell_outcomes(session, start, end)
