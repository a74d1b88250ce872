"""`xindai risk strategy …`: the risk team's strategy versions — create, list, test, promote,
roll back, champion/challenger. Every change is an event on record."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from xindai import clock
from xindai.cli import precredit, risk_blacklist, risk_decisions, risk_review
from xindai.cli.context import DatabaseOption, sessions
from xindai.errors import InvalidValue
from xindai.risk.default_strategy import default_strategy_graph
from xindai.risk.engine import StrategyEngine
from xindai.risk.engine.store import load_registry, record

app = typer.Typer(help="Risk: decision strategies / 风控策略", no_args_is_help=True)
strategy = typer.Typer(help="Strategy versions / 策略版本", no_args_is_help=True)
app.add_typer(strategy, name="strategy")
app.add_typer(risk_blacklist.app, name="blacklist")
app.add_typer(precredit.app, name="precredit")
app.add_typer(risk_review.app, name="review")
risk_decisions.register(app)

NameOption = Annotated[str, typer.Option("--name", help="Strategy name / 策略名")]
ActorOption = Annotated[str, typer.Option("--actor", help="Who does it (recorded) / 操作人")]


def _now() -> str:
    return clock.now().isoformat(timespec="seconds")


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidValue(
            what, str(path), f"cannot be read as JSON ({exc})", "无法读取为 JSON"
        ) from None


@strategy.command("create")
def create(
    name: NameOption,
    actor: ActorOption,
    file: Annotated[Path | None, typer.Option(help="JDM graph (JSON)")] = None,
    default: Annotated[
        bool, typer.Option("--default", help="Use the shipped default strategy")
    ] = False,
    notes: Annotated[str, typer.Option(help="What changed / 变更说明")] = "",
    database: DatabaseOption = None,
) -> None:
    """Create the next immutable version from a JDM graph."""
    if default == (file is not None):
        raise InvalidValue(
            "--file", str(file), "give either --file or --default", "--file 与 --default 二选一"
        )
    graph = default_strategy_graph() if default else _read_json(file, "--file")  # type: ignore[arg-type]
    with sessions(database).begin() as session:
        registry = load_registry(session, name)
        _, version, event = registry.create(graph, actor=actor, at=_now(), notes=notes)
        record(session, event, version)
    typer.echo(f"created {version.label} ({version.content_hash[:12]})")


@strategy.command("list")
def list_versions(name: NameOption, database: DatabaseOption = None) -> None:
    """Versions, the live one (champion) and any challenger."""
    with sessions(database)() as session:
        registry = load_registry(session, name)
    table = Table(title=f"策略 Strategy {name}")
    for column in ("版本 Version", "内容 Hash", "创建 Created", "说明 Notes", "状态 Status"):
        table.add_column(column)
    for version in registry.versions:
        status = (
            "live 冠军"
            if version.version == registry.champion
            else f"challenger 挑战者 {registry.challenger_share:.0%}"
            if version.version == registry.challenger
            else ""
        )
        table.add_row(
            f"v{version.version}",
            version.content_hash[:12],
            f"{version.created_at} {version.created_by}",
            version.notes,
            status,
        )
    Console().print(table)


@strategy.command("promote")
def promote(
    name: NameOption,
    version: Annotated[int, typer.Option(help="Version")],
    actor: ActorOption,
    reason: Annotated[str, typer.Option(help="Why")],
    database: DatabaseOption = None,
) -> None:
    """Make a version live (champion)."""
    with sessions(database).begin() as session:
        _, event = load_registry(session, name).promote(
            version, actor=actor, at=_now(), reason=reason
        )
        record(session, event)
    typer.echo(f"{name}@v{version} is live")


@strategy.command("rollback")
def rollback(
    name: NameOption,
    actor: ActorOption,
    reason: Annotated[str, typer.Option(help="Why")],
    database: DatabaseOption = None,
) -> None:
    """Return to the previous live version."""
    with sessions(database).begin() as session:
        registry, event = load_registry(session, name).rollback(
            actor=actor, at=_now(), reason=reason
        )
        record(session, event)
    typer.echo(f"{name} is back on v{registry.champion}")


@strategy.command("challenger")
def challenger(
    name: NameOption,
    actor: ActorOption,
    version: Annotated[int | None, typer.Option(help="Challenger version")] = None,
    share: Annotated[str, typer.Option(help="Share of traffic, 0–0.5")] = "0.1",
    stop: Annotated[bool, typer.Option("--stop", help="Stop the challenger")] = False,
    database: DatabaseOption = None,
) -> None:
    """Send a share of applications (by a hash of their id) to a challenger version."""
    try:
        fraction = Decimal(share)
    except InvalidOperation:
        raise InvalidValue("--share", share, "is not a number", "不是数字") from None
    with sessions(database).begin() as session:
        registry = load_registry(session, name)
        _, event = registry.set_challenger(
            None if stop else version, fraction, actor=actor, at=_now()
        )
        record(session, event)
    typer.echo(
        f"{name}: challenger stopped"
        if stop
        else f"{name}: v{version} gets {fraction:.0%} of applications"
    )


@strategy.command("test")
def test(
    name: NameOption,
    features: Annotated[Path, typer.Option(help="Named features (JSON object)")],
    version: Annotated[int | None, typer.Option(help="Default: the live version")] = None,
    database: DatabaseOption = None,
) -> None:
    """Run a version on a set of features and show the outcome and every rule that fired."""
    context = _read_json(features, "--features")
    if not isinstance(context, dict):
        raise InvalidValue("--features", str(features), "must be a JSON object", "应为 JSON 对象")
    with sessions(database)() as session:
        registry = load_registry(session, name)
    if version is None:
        if registry.champion is None:
            raise InvalidValue(
                "--version",
                None,
                f"{name} has no live version; give one",
                "该策略没有线上版本，请指定版本",
            )
        version = registry.champion
    chosen = registry.version(version)
    result = StrategyEngine().evaluate(chosen, context)
    console = Console()
    console.print(
        f"{chosen.label}: outcome [bold]{result.outputs.get('outcome')}[/bold] · "
        f"rejects {result.outputs.get('rejects')} · reviews "
        f"{result.outputs.get('reviews')} · {result.total_micros:.0f} µs"
    )
    table = Table(title="命中规则 Rules fired")
    for column in ("节点 Node", "规则 Rule", "说明 Description", "输入 Inputs"):
        table.add_column(column)
    for fired in result.fired:
        table.add_row(
            fired.node,
            fired.rule_id,
            fired.description,
            ", ".join(f"{k}={v}" for k, v in fired.inputs),
        )
    console.print(table)
