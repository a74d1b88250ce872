"""Early warning (预警监控), /api/v1/admin/collections/warnings: the watch list's hits (list,
export, hits per rule per day) within the caller's case scope, and the watch list itself
— read by whoever reads collections, replaced by the role that manages them
(docs/collections-api.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from xindai.api import views_collections as views
from xindai.api.admin_collections import case_scope
from xindai.api.deps import Staff, permitted, platform
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
from xindai.collections.warning_rules import EFFECTS, MAX_RAISE, SPECS, load_rules
from xindai.collections.warnings import (
    OUTCOMES,
    WarningDesk,
    daily_counts,
    hit_rows,
    select_hits,
)
from xindai.store import repository as repo
from xindai.store.models_collections import WarningHit

router = APIRouter(prefix="/api/v1/admin/collections/warnings", tags=["admin 预警监控"])
READ, MANAGE, EXPORT = "collections.read", "collections.manage", "reports.export"
MAX_DAYS = 366
HITS = Listing(
    "early_warning_hits",
    sortable={
        "id": WarningHit.id,
        "business_date": WarningHit.business_date,
        "rule_code": WarningHit.rule_code,
    },
    default_sort="-id",
    tiebreak=WarningHit.id,
    search="a loan id",
)
COLUMNS = (
    Column("id", "编号", "int"),
    Column("business_date", "营业日"),
    Column("rule_zh", "预警规则"),
    Column("loan_id", "借据号", "int"),
    Column("borrower_name", "借款人"),
    Column("case_id", "案件号", "int"),
    Column("summary_zh", "命中详情"),
    Column("effect", "效果"),
    Column("effect_by", "提升优先级", "int"),
    Column("outcome_zh", "处理结果"),
    Column("created_at", "记录时间"),
)


@dataclass(frozen=True, slots=True)
class HitFilters:
    rule_code: str | None
    outcome: str | None
    loan_id: int | None
    case_id: int | None
    date_from: date | None
    date_to: date | None

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


def hit_filters(
    rule_code: Annotated[
        str | None, Query(max_length=32, json_schema_extra={"enum": list(SPECS)})
    ] = None,
    outcome: Annotated[
        str | None, Query(max_length=16, json_schema_extra={"enum": list(OUTCOMES)})
    ] = None,
    loan_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    case_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    date_from: Annotated[date | None, Query(description="business date, from")] = None,
    date_to: Annotated[date | None, Query(description="business date, to")] = None,
) -> HitFilters:
    return HitFilters(rule_code, outcome, loan_id, case_id, date_from, date_to)


Filters = Annotated[HitFilters, Depends(hit_filters)]


def _select(request: Request, staff: Staff, f: HitFilters, q: str | None) -> Any:
    stmt = select_hits(case_scope(request, staff), **f.as_dict())
    if q:
        number = q.strip()
        stmt = stmt.where(
            WarningHit.loan_id == int(number)
            if number.isdigit() and len(number) < 19
            else WarningHit.id == -1
        )
    return stmt


def _render(session: Any, rows: Any) -> list[dict[str, Any]]:
    return hit_rows(session, [row[0] for row in rows], load_rules(session))


@router.get(
    "",
    response_model=page_of(views.WarningHitRow),
    responses=responses(403),
    summary="Early-warning hits in my scope / 预警命中列表",
)
def hits(
    staff: Annotated[Staff, permitted(READ)],
    request: Request,
    params: Annotated[ListParams, HITS.params()],
    filters: Filters,
) -> dict[str, Any]:
    stmt = _select(request, staff, filters, params.query)
    with reading(request) as session:
        rows, total = HITS.page(session, stmt, params)
        return params.answer(_render(session, rows), total)


@router.get(
    "/export",
    response_class=FileResponse,
    responses=EXPORT_RESPONSES,
    summary="Early-warning hits as an Excel file / 导出预警命中",
)
def export_hits(
    staff: Annotated[Staff, permitted(READ, EXPORT)],
    request: Request,
    params: Annotated[ListParams, HITS.params(paged=False)],
    filters: Filters,
) -> FileResponse:
    return export_xlsx(
        request,
        staff,
        listing=HITS,
        stmt=_select(request, staff, filters, params.query),
        params=params,
        render=_render,
        columns=COLUMNS,
        filters=filters.as_dict(),
        title="预警命中",
    )


@router.get(
    "/daily",
    response_model=views.WarningDaily,
    responses=responses(400, 403),
    summary="Hits per rule per day / 每日预警命中",
)
def daily(
    staff: Annotated[Staff, permitted(READ)],
    request: Request,
    date_from: Annotated[date | None, Query(description="default: 29 days before date_to")] = None,
    date_to: Annotated[date | None, Query(description="default: the business date")] = None,
) -> dict[str, Any]:
    from xindai.errors import InvalidValue

    scope = case_scope(request, staff)
    with reading(request) as session:
        end = date_to or repo.get_business_date(session) or platform(request).clock().date()
        start = date_from or end - timedelta(days=29)
        if start > end or (end - start).days >= MAX_DAYS:
            raise InvalidValue(
                "date_from", start.isoformat(), f"a period of 1–{MAX_DAYS} days", "日期区间无效"
            )
        rules = load_rules(session)
        return {
            "date_from": start.isoformat(),
            "date_to": end.isoformat(),
            "rules": [
                {"code": r.code, "name_zh": r.name_zh, "name_en": r.name_en}
                for r in rules.rules.values()
            ],
            "items": daily_counts(session, scope, start, end),
        }


# ------------------------------------------------------------------ the watch list


class RefreshIn(BaseModel):
    sample_bp: int = Field(ge=0, le=10_000, description="basis points of open loans a day")
    on_trigger: bool = True
    max_per_day: int = Field(default=1_000, ge=0, le=1_000_000, description="reports a day")


class RuleIn(BaseModel):
    code: str = Field(max_length=32, json_schema_extra={"enum": list(SPECS)})
    name_zh: str | None = Field(default=None, min_length=1, max_length=64)
    name_en: str | None = Field(default=None, min_length=1, max_length=64)
    enabled: bool
    params: dict[str, int] = Field(default_factory=dict, max_length=10)
    effect: str = Field(max_length=16, json_schema_extra={"enum": list(EFFECTS)})
    by: int = Field(ge=0, le=MAX_RAISE)


class RulesIn(BaseModel):
    bureau_refresh: RefreshIn
    rules: list[RuleIn] = Field(max_length=len(SPECS))


@router.get(
    "/rules",
    response_model=views.WarningRules,
    responses=responses(403),
    summary="The watch list / 预警规则",
)
def rules(staff: Annotated[Staff, permitted(READ)], request: Request) -> dict[str, Any]:
    with reading(request) as session:
        return load_rules(session).view()


@router.put(
    "/rules",
    response_model=views.WarningRules,
    responses=responses(400, 403),
    summary="Replace the watch list / 设置预警规则",
)
def put_rules(
    body: RulesIn, staff: Annotated[Staff, permitted(MANAGE)], request: Request
) -> dict[str, Any]:
    document = body.model_dump(exclude_none=True)
    p = platform(request)
    return WarningDesk(p.sessions, p.clock).put_rules(document, actor=staff.username)
