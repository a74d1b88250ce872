"""The risk team's strategies in the console (风控策略): the versions of a strategy and where
each stands (live, challenger, once live, candidate), a version's JDM graph for the console
to draw, a new version from an edited graph, a version tried on given inputs (the whole
decision: rules fired, score, grade, price, limit, reasons), champion/challenger split,
promotion and rollback — all through the registry's events (`risk.engine.store`), audited —
and back-test runs (`risk.backtest`) kept with their reports, run in the background.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xindai.errors import InvalidValue, XindaiError
from xindai.money import format_rate
from xindai.platform import Platform
from xindai.risk.backtest import backtest
from xindai.risk.decision import Decision, decide, decision_to_json, request_from_inputs
from xindai.risk.engine.registry import RegistryEvent, StrategyRegistry
from xindai.risk.engine.store import load_registry, record
from xindai.risk.engine.strategy import StrategyVersion
from xindai.security import audit
from xindai.store.db import transaction
from xindai.store.models_admin import BacktestRun
from xindai.store.models_origination import StrategyEvent

logger = logging.getLogger("xindai.risk")

RUN_STATUSES = ("running", "done", "failed")
ROLES = ("champion", "challenger", "previous", "candidate")
MAX_BACKTEST_DAYS = 366
FLUSH_SECONDS = 1.0


class BacktestRunning(XindaiError):
    code = "BACKTEST_RUNNING"
    http_status = 409


def _role(registry: StrategyRegistry, number: int) -> str:
    if number == registry.champion:
        return "champion"
    if number == registry.challenger:
        return "challenger"
    if number in registry.promotions:
        return "previous"
    return "candidate"


def graph_summary(version: StrategyVersion) -> dict[str, Any]:
    """The graph's nodes and edges as the console lists them (the graph itself is JDM)."""
    graph = version.graph
    return {
        "nodes": [
            {"id": n.get("id"), "type": n.get("type"), "name": n.get("name", "")}
            for n in graph.get("nodes", [])
        ],
        "edges": [
            {"id": e.get("id"), "source": e.get("sourceId"), "target": e.get("targetId")}
            for e in graph.get("edges", [])
        ],
    }


class StrategyAdmin:
    """The console's calls on strategy `name` of `platform`'s database; the decisions are
    made with the platform's decision service's engine, scorecard and pricing."""

    def __init__(self, platform: Platform):
        self.p = platform

    # ------------------------------------------------------------ versions

    def registry(self, session: Session, name: str) -> StrategyRegistry:
        registry = load_registry(session, name)
        if not registry.versions:
            raise InvalidValue("strategy", name, "has no versions", "该策略没有版本")
        return registry

    def versions(self, name: str) -> list[dict[str, Any]]:
        """Every version of `name`, newest first, with its role and share of traffic."""
        with transaction(self.p.sessions, read_only=True) as session:
            registry = self.registry(session, name)
            promoted = dict(
                session.execute(
                    select(StrategyEvent.version, StrategyEvent.at)
                    .where(StrategyEvent.name == name, StrategyEvent.action == "promote")
                    .order_by(StrategyEvent.id)
                ).all()
            )
        return [
            self._view(registry, v, promoted.get(v.version)) for v in reversed(registry.versions)
        ]

    def _view(
        self, registry: StrategyRegistry, version: StrategyVersion, promoted_at: str | None
    ) -> dict[str, Any]:
        role = _role(registry, version.version)
        share = (
            Decimal(1) - registry.challenger_share
            if role == "champion"
            else registry.challenger_share
            if role == "challenger"
            else Decimal(0)
        )
        return {
            "name": version.name,
            "version": version.version,
            "label": version.label,
            "role": role,
            "share": format_rate(share, 4),
            "content_hash": version.content_hash,
            "note": version.notes,
            "created_by": version.created_by,
            "created_at": version.created_at,
            "promoted_at": promoted_at,
        }

    def detail(self, name: str, number: int) -> dict[str, Any]:
        """One version with its JDM graph and the list of its nodes and edges."""
        with transaction(self.p.sessions, read_only=True) as session:
            registry = self.registry(session, name)
            version = registry.version(number)
            promoted_at = session.scalar(
                select(StrategyEvent.at)
                .where(
                    StrategyEvent.name == name,
                    StrategyEvent.action == "promote",
                    StrategyEvent.version == number,
                )
                .order_by(StrategyEvent.id.desc())
            )
        return {
            **self._view(registry, version, promoted_at),
            "graph": version.graph,
            **graph_summary(version),
        }

    def _change(
        self,
        name: str,
        change: Callable[[StrategyRegistry], tuple[RegistryEvent, StrategyVersion | None]],
        *,
        actor: str,
        ip: str | None,
    ) -> RegistryEvent:
        with self.p.sessions.begin() as session:
            event, version = change(load_registry(session, name))
            record(session, event, version)
            audit.record(
                session,
                actor=actor,
                action=f"strategy.{event.action}",
                resource="strategy",
                resource_id=f"{name}@v{event.version}" if event.version else name,
                ip=ip,
                after={"reason": event.reason, **dict(event.detail)},
                at=self.p.clock(),
            )
            return event

    def _now(self) -> str:
        return self.p.clock().isoformat(timespec="seconds")

    def create(
        self, name: str, graph: Any, *, actor: str, notes: str = "", ip: str | None = None
    ) -> int:
        """A new immutable version from `graph` (validated: JDM structure; not a copy of
        an existing version); its number."""

        def change(registry: StrategyRegistry) -> tuple[RegistryEvent, StrategyVersion | None]:
            _, version, event = registry.create(graph, actor=actor, at=self._now(), notes=notes)
            return event, version

        event = self._change(name, change, actor=actor, ip=ip)
        assert event.version is not None
        return event.version

    def promote(self, name: str, number: int, *, actor: str, reason: str, ip: str | None) -> None:
        self._change(
            name,
            lambda r: (r.promote(number, actor=actor, at=self._now(), reason=reason)[1], None),
            actor=actor,
            ip=ip,
        )

    def rollback(self, name: str, *, actor: str, reason: str, ip: str | None) -> int:
        """Back to the previous live version; its number."""
        event = self._change(
            name,
            lambda r: (r.rollback(actor=actor, at=self._now(), reason=reason)[1], None),
            actor=actor,
            ip=ip,
        )
        assert event.version is not None
        return event.version

    def challenger(
        self,
        name: str,
        number: int | None,
        share: Decimal,
        *,
        actor: str,
        reason: str,
        ip: str | None,
    ) -> None:
        """Send `share` (0–0.5) of applications to version `number`; None stops it."""
        self._change(
            name,
            lambda r: (
                r.set_challenger(number, share, actor=actor, at=self._now(), reason=reason)[1],
                None,
            ),
            actor=actor,
            ip=ip,
        )

    # ------------------------------------------------------------ trying a version

    def test(
        self,
        name: str,
        number: int,
        *,
        inputs: Mapping[str, Any] | None = None,
        application_id: int | None = None,
    ) -> tuple[Decision, Decision | None]:
        """The decision version `number` makes on `inputs` (a stored decision's inputs:
        product, amount_fen, term, features, scorecard_inputs …) or on the stored inputs of
        application `application_id`; with an application, also what was decided then."""
        service = self.p.decisions
        with transaction(self.p.sessions, read_only=True) as session:
            version = self.registry(session, name).version(number)
            stored = None
            if application_id is not None:
                stored = service.stored(session, application_id)
                given: Mapping[str, Any] = stored.inputs
            elif inputs is not None:
                given = inputs
            else:
                raise InvalidValue(
                    "inputs", None, "give inputs or an application", "请提供输入或申请编号"
                )
            request = self._request(session, application_id, given)
        decision = decide(
            request,
            registry=StrategyRegistry(version.name, (version,)),
            engine=service.engine,
            scorer=service.scorer,
            params=service.params,
            version=version,
        )
        return decision, None if stored is None else stored.decision

    def _request(
        self, session: Session, application_id: int | None, inputs: Mapping[str, Any]
    ) -> Any:
        try:
            code, version = inputs["product"]
            product = self.p.decisions.product(session, str(code), int(version))
            features = inputs["features"]
            if not isinstance(features, Mapping):
                raise TypeError("features")
            return request_from_inputs(str(application_id or "test"), inputs, product)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidValue(
                "inputs",
                str(exc)[:80],
                "needs product [code, version], amount_fen, term and features (as a stored "
                "decision's inputs)",
                "需包含 product [代码, 版本]、amount_fen、term 和 features（与决策记录的输入相同）",
            ) from None

    # ------------------------------------------------------------ back-tests

    def start_backtest(
        self,
        name: str,
        number: int,
        first_day: date,
        last_day: date,
        *,
        actor: str,
        ip: str | None,
    ) -> BacktestRun:
        """Replay version `number` and the live version over the decisions stored in
        [first_day, last_day], in the background; the run at once."""
        if last_day < first_day:
            raise InvalidValue(
                "last_day", last_day.isoformat(), "is before first_day", "早于开始日期"
            )
        if (last_day - first_day).days >= MAX_BACKTEST_DAYS:
            raise InvalidValue("last_day", last_day.isoformat(), "at most a year", "最多一年")
        with self.p.sessions.begin() as session:
            registry = self.registry(session, name)
            registry.version(number)
            if registry.champion is None:
                raise InvalidValue("strategy", name, "has no live version", "该策略没有线上版本")
            for running in session.scalars(
                select(BacktestRun).where(BacktestRun.status == "running")
            ):
                if running.id in _THREADS:
                    raise BacktestRunning(
                        f"back-test {running.id} is still running",
                        f"回溯测试 {running.id} 正在运行",
                    )
                running.status, running.finished_at = "failed", self.p.clock()
                running.error = "interrupted: the process running it stopped"
            run = BacktestRun(
                strategy=name,
                version=number,
                live_version=registry.champion,
                first_day=first_day,
                last_day=last_day,
                status="running",
                applications=0,
                requested_by=actor,
                requested_at=self.p.clock(),
            )
            session.add(run)
            session.flush()
            audit.record(
                session,
                actor=actor,
                action="strategy.backtest",
                resource="backtest_run",
                resource_id=run.id,
                ip=ip,
                after={
                    "strategy": f"{name}@v{number}",
                    "live": f"{name}@v{registry.champion}",
                    "first_day": first_day,
                    "last_day": last_day,
                },
                at=self.p.clock(),
            )
            session.expunge(run)
        thread = threading.Thread(
            target=self._backtest, args=(run.id,), daemon=True, name=f"xindai-backtest-{run.id}"
        )
        _THREADS[run.id] = thread
        thread.start()
        return run

    def _backtest(self, run_id: int) -> None:
        decided = [0]
        stop = threading.Event()

        def flush() -> None:
            while not stop.wait(FLUSH_SECONDS):
                self._write(run_id, applications=decided[0])

        flusher = threading.Thread(target=flush, daemon=True)
        flusher.start()
        values: dict[str, Any]
        try:
            with transaction(self.p.sessions, read_only=True) as session:
                run = session.get(BacktestRun, run_id)
                assert run is not None
                registry = load_registry(session, run.strategy)
                report = backtest(
                    session,
                    candidate=registry.version(run.version),
                    live=registry.version(run.live_version),
                    start=run.first_day,
                    end=run.last_day,
                    workers=1,  # in the server: no worker processes
                    progress=lambda n: decided.__setitem__(0, decided[0] + n),
                )
            values = {
                "status": "done",
                "applications": report.applications,
                "report": json.dumps(report.to_json(), ensure_ascii=False),
            }
        except Exception as exc:  # recorded for the console
            logger.exception("back-test %s failed", run_id)
            values = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"[:4000]}
        finally:
            stop.set()
            flusher.join()
        self._write(run_id, **values, finished_at=self.p.clock())
        _THREADS.pop(run_id, None)

    def _write(self, run_id: int, **values: Any) -> None:
        try:
            with self.p.sessions.begin() as session:
                session.execute(
                    update(BacktestRun).where(BacktestRun.id == run_id).values(**values)
                )
        except Exception:
            if "status" in values:
                raise
            logger.warning("could not write the progress of back-test %s", run_id, exc_info=True)

    @staticmethod
    def wait(run_id: int, timeout: float | None = None) -> bool:
        """Wait for this process's back-test `run_id` to end; whether it has."""
        thread = _THREADS.get(run_id)
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True


_THREADS: dict[int, threading.Thread] = {}


def backtest_view(run: BacktestRun, *, with_report: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": run.id,
        "strategy": run.strategy,
        "version": run.version,
        "live_version": run.live_version,
        "first_day": run.first_day.isoformat(),
        "last_day": run.last_day.isoformat(),
        "status": run.status,
        "applications": run.applications,
        "error": run.error,
        "requested_by": run.requested_by,
        "requested_at": run.requested_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }
    if with_report:
        view["report"] = json.loads(run.report) if run.report else None
    return view


def decision_view(decision: Decision) -> dict[str, Any]:
    """A decision as the console shows a test: everything `decision_to_json` keeps."""
    data = decision_to_json(decision)
    data["expected_loss_fen"] = decision.expected_loss_fen
    return data


__all__ = [
    "ROLES",
    "RUN_STATUSES",
    "BacktestRunning",
    "StrategyAdmin",
    "backtest_view",
    "decision_view",
    "graph_summary",
]
