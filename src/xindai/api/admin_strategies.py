"""Risk strategies in the admin API (风控策略), /api/v1/admin/strategies: versions and their
roles, a version's JDM graph, a new version, a version tried on given inputs, the
champion/challenger split, promotion and rollback, back-test runs and their reports.
`strategies.read` to look, `strategies.edit` to create, test and back-test,
`strategies.promote` to change what is live; changes are audited."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from xindai.api import views_strategies as views
from xindai.api.deps import PathId, Staff, client_ip, permitted, platform
from xindai.api.listing import Listing, ListParams, page_of, reading
from xindai.api.openapi import responses
from xindai.api.schemas import WholeNumber
from xindai.dates import parse_date
from xindai.money import parse_rate
from xindai.risk.decision import decision_differences
from xindai.risk.strategies import StrategyAdmin, backtest_view, decision_view
from xindai.store.models_admin import BacktestRun
from xindai.store.models_origination import StrategyVersionRecord
from xindai.store.repository import NotFound

router = APIRouter(prefix="/api/v1/admin/strategies", tags=["admin 风控策略 strategies"])

Name = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", max_length=64, description="strategy name")
]
Version = Annotated[WholeNumber, Path(ge=1, le=1_000_000, description="version number")]
VERSIONS = Listing(
    "strategy_versions",
    sortable={"version": StrategyVersionRecord.version},
    default_sort="-version",
    tiebreak=StrategyVersionRecord.version,
)
BACKTESTS = Listing(
    "backtest_runs",
    sortable={"id": BacktestRun.id, "requested_at": BacktestRun.requested_at},
    default_sort="-id",
    tiebreak=BacktestRun.id,
)
STATE_NOTES = {
    400: "INVALID_VALUE: no such version, no reason, a share outside (0, 0.5]",
    409: "STRATEGY_STATE: already live, nothing to roll back to, no live version, the "
    "challenger would be the champion",
}


class GraphIn(BaseModel):
    graph: dict[str, Any] = Field(description="a JDM decision graph (nodes, edges)")
    notes: str = Field(default="", max_length=512, description="what changed")


class TestIn(BaseModel):
    inputs: dict[str, Any] | None = Field(
        default=None,
        description="a decision's inputs as stored (`GET /applications/{id}/decisions` "
        "shows them): product [code, version], amount_fen, term, features, …",
    )
    application_id: WholeNumber | None = Field(
        default=None, ge=1, le=2**63 - 1, description="or replay this application's inputs"
    )


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=512)


class ChallengerIn(BaseModel):
    version: WholeNumber | None = Field(
        default=None, ge=1, le=1_000_000, description="none: stop the challenger"
    )
    share: str = Field(
        default="0.1", max_length=8, description='share of applications, 0–0.5 ("0.1", "10%")'
    )
    reason: str = Field(default="", max_length=512)


class BacktestIn(BaseModel):
    strategy: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", max_length=64)
    version: WholeNumber = Field(ge=1, le=1_000_000)
    first_day: str = Field(max_length=10, description="first decision date, YYYY-MM-DD")
    last_day: str = Field(max_length=10, description="last decision date, YYYY-MM-DD")


def _admin(request: Request) -> StrategyAdmin:
    return StrategyAdmin(platform(request))


@router.get(
    "",
    response_model=page_of(views.StrategyVersion),
    responses=responses(400, 403, notes={400: "INVALID_VALUE: the strategy has no versions"}),
    summary="Strategy versions and where each stands / 策略版本",
)
def versions(
    staff: Annotated[Staff, permitted("strategies.read")],
    request: Request,
    params: Annotated[ListParams, VERSIONS.params()],
    name: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,64}$", max_length=64)] = None,
) -> dict[str, Any]:
    """Of the strategy applications run (`XINDAI_STRATEGY_NAME`) unless `name` says."""
    strategy = name or platform(request).settings.strategy_name
    views_by_version = {v["version"]: v for v in _admin(request).versions(strategy)}
    stmt = select(StrategyVersionRecord.version).where(StrategyVersionRecord.name == strategy)
    with reading(request) as session:
        rows, total = VERSIONS.page(session, stmt, params)
    return params.answer([views_by_version[number] for (number,) in rows], total)


@router.get(
    "/backtests",
    response_model=page_of(views.BacktestRun),
    responses=responses(403),
    summary="Back-test runs / 回溯测试",
)
def backtests(
    staff: Annotated[Staff, permitted("strategies.read")],
    request: Request,
    params: Annotated[ListParams, BACKTESTS.params()],
) -> dict[str, Any]:
    with reading(request) as session:
        rows, total = BACKTESTS.page(session, select(BacktestRun), params)
        return params.answer([backtest_view(run) for (run,) in rows], total)


@router.post(
    "/backtests",
    status_code=202,
    response_model=views.BacktestRun,
    responses=responses(400, 403, 409, notes={409: "BACKTEST_RUNNING: another back-test is going"}),
    summary="Back-test a version on stored applications (in the background) / 发起回溯测试",
)
def start_backtest(
    body: BacktestIn,
    staff: Annotated[Staff, permitted("strategies.edit")],
    request: Request,
) -> dict[str, Any]:
    """Every engine decision stored in the period is decided again under the version and
    under the live one, from its inputs as they were; poll the run for its report."""
    run = _admin(request).start_backtest(
        body.strategy,
        body.version,
        parse_date(body.first_day, field="first_day"),
        parse_date(body.last_day, field="last_day"),
        actor=staff.username,
        ip=client_ip(request),
    )
    return backtest_view(run)


@router.get(
    "/backtests/{run_id}",
    response_model=views.BacktestDetail,
    responses=responses(403, 404),
    summary="A back-test run and its report / 回溯测试报告",
)
def backtest(
    run_id: PathId, staff: Annotated[Staff, permitted("strategies.read")], request: Request
) -> dict[str, Any]:
    """The report: for the version and the live one, the approval, review and reject rates,
    the grade mix, the amount approved and its expected loss, the realised bad rate where the
    loans' outcomes are known; the applications that swap outcome."""
    with reading(request) as session:
        run = session.get(BacktestRun, run_id)
        if run is None:
            raise NotFound(f"back-test {run_id} does not exist", f"回溯测试 {run_id} 不存在")
        return backtest_view(run, with_report=True)


@router.get(
    "/{name}/versions/{version}",
    response_model=views.StrategyDetail,
    responses=responses(400, 403),
    summary="A version with its JDM graph / 策略版本详情",
)
def version(
    name: Name,
    version: Version,
    staff: Annotated[Staff, permitted("strategies.read")],
    request: Request,
) -> dict[str, Any]:
    return _admin(request).detail(name, version)


@router.post(
    "/{name}/versions",
    status_code=201,
    response_model=views.StrategyDetail,
    responses=responses(
        400,
        403,
        409,
        notes={
            400: "INVALID_VALUE: not a JDM graph (unknown node type, no input node, an edge "
            "to nowhere, a node not reachable)",
            409: "STRATEGY_STATE: the graph is identical to an existing version",
        },
    ),
    summary="A new version from an edited graph / 新建策略版本",
)
def create(
    name: Name,
    body: GraphIn,
    staff: Annotated[Staff, permitted("strategies.edit")],
    request: Request,
) -> dict[str, Any]:
    admin = _admin(request)
    number = admin.create(
        name, body.graph, actor=staff.username, notes=body.notes, ip=client_ip(request)
    )
    return admin.detail(name, number)


@router.post(
    "/{name}/versions/{version}/test",
    response_model=views.StrategyTest,
    responses=responses(
        400, 403, 404, notes={404: "DECISION_NOT_FOUND: the application has no engine decision"}
    ),
    summary="Try a version on given inputs / 策略测试",
)
def test(
    name: Name,
    version: Version,
    body: TestIn,
    staff: Annotated[Staff, permitted("strategies.edit")],
    request: Request,
) -> dict[str, Any]:
    """The whole decision — rules fired, score, PD, grade, price, limit, outcome, reasons —
    nothing stored; with an application, also what was decided then and what differs."""
    decision, stored = _admin(request).test(
        name, version, inputs=body.inputs, application_id=body.application_id
    )
    result: dict[str, Any] = {"decision": decision_view(decision)}
    if stored is not None:
        result["stored"] = decision_view(stored)
        result["differences"] = [
            {"field": f, "stored": str(a), "now": str(b)}
            for f, a, b in decision_differences(stored, decision)
        ]
    return result


@router.post(
    "/{name}/versions/{version}/promote",
    response_model=views.StrategyDetail,
    responses=responses(400, 403, 409, notes=STATE_NOTES),
    summary="Make a version live / 策略上线",
)
def promote(
    name: Name,
    version: Version,
    body: ReasonIn,
    staff: Annotated[Staff, permitted("strategies.promote")],
    request: Request,
) -> dict[str, Any]:
    admin = _admin(request)
    admin.promote(name, version, actor=staff.username, reason=body.reason, ip=client_ip(request))
    return admin.detail(name, version)


@router.post(
    "/{name}/rollback",
    response_model=views.StrategyDetail,
    responses=responses(400, 403, 409, notes=STATE_NOTES),
    summary="Back to the previous live version / 策略回滚",
)
def rollback(
    name: Name,
    body: ReasonIn,
    staff: Annotated[Staff, permitted("strategies.promote")],
    request: Request,
) -> dict[str, Any]:
    admin = _admin(request)
    number = admin.rollback(name, actor=staff.username, reason=body.reason, ip=client_ip(request))
    return admin.detail(name, number)


@router.post(
    "/{name}/challenger",
    response_model=list[views.StrategyVersion],
    responses=responses(400, 403, 409, notes=STATE_NOTES),
    summary="Champion/challenger split / 冠军挑战者分流",
)
def challenger(
    name: Name,
    body: ChallengerIn,
    staff: Annotated[Staff, permitted("strategies.promote")],
    request: Request,
) -> list[dict[str, Any]]:
    """A share of applications (by a hash of their id) goes to the challenger; the versions
    with their new shares."""
    share = parse_rate(body.share, field="share") if body.version is not None else Decimal(0)
    admin = _admin(request)
    admin.challenger(
        name, body.version, share, actor=staff.username, reason=body.reason, ip=client_ip(request)
    )
    return admin.versions(name)
