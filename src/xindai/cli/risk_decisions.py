"""`xindai risk decide-pending | explain | replay | backtest`: the applications waiting for a
decision decided, why an application was decided as it was, the same decision re-run, and a
strategy version tried on stored applications."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from xindai.cli.context import DatabaseOption
from xindai.cli.render import progress_bar
from xindai.dates import parse_date
from xindai.money import format_yuan
from xindai.risk.pending import DEFAULT_GROUP

if TYPE_CHECKING:
    from xindai.platform import Platform

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON / 输出 JSON")]


def _platform(database: str | None) -> Platform:
    from xindai.platform import Platform
    from xindai.settings import get_settings
    from xindai.store.db import make_engine, session_factory

    settings = get_settings()
    sessions = session_factory(make_engine(database or settings.database_url))
    return Platform.from_settings(settings, sessions=sessions)


def _yuan(fen: Any) -> str:
    return "—" if fen is None else f"{format_yuan(int(fen), thousands=True)}"


def _print_engine_decision(console: Console, item: dict[str, Any]) -> None:
    detail = item["detail"]
    console.print(
        f"  策略 Strategy [bold]{item['strategy']}[/bold] · 模型 Model {item['model_version']}"
        f" · 评分 Score [bold]{item['score']:.0f}[/bold] · PD {item['pd']}"
        f" · 等级 Grade [bold]{item['grade']}[/bold]"
    )
    console.print(
        f"  额度 Approved {_yuan(item['approved_amount_fen'])} · 利率 Rate {item['rate'] or '—'}"
        f" · 征信 Bureau {detail.get('bureau', {}).get('source', '—')}"
    )
    console.print(f"  原因码 Reason codes: {', '.join(item['reason_codes']) or '—'}")
    console.print(f"  客户可见原因 Customer reasons: {'; '.join(item['customer_reasons']) or '—'}")
    fired = Table(title="命中规则 Rules fired", show_lines=False)
    for column in ("节点 Node", "规则 Rule", "说明 Description", "输入 Inputs"):
        fired.add_column(column)
    for rule in detail.get("fired", []):
        fired.add_row(
            rule["node"],
            rule["rule_id"],
            rule["description"],
            ", ".join(f"{k}={v}" for k, v in rule.get("inputs", [])),
        )
    console.print(fired)
    pricing = detail.get("pricing")
    if pricing:
        table = Table(title="定价 Pricing (annual)")
        for column in ("资金成本 Funding", "运营 Operating", "预期损失 EL", "利润 Margin",
                       "保本 Break-even", "目标 Target", "上限 Cap", "报价 Offered"):  # fmt: skip
            table.add_column(column)
        table.add_row(
            *(
                str(pricing[k])
                for k in (
                    "funding_cost",
                    "operating_cost",
                    "expected_loss",
                    "margin",
                    "break_even",
                    "target_rate",
                    "cap_rate",
                    "rate",
                )
            )
        )
        console.print(table)
    limit = detail.get("limit")
    if limit:
        console.print(
            f"  额度构成 Limit: grade cap {_yuan(limit['grade_cap_fen'])} · affordability "
            f"{_yuan(limit['affordability_fen'])} · product max {_yuan(limit['product_max_fen'])}"
            f" · reloan {_yuan(limit['reloan_limit_fen'])} → [bold]{_yuan(limit['limit_fen'])}"
            "[/bold]"
        )
    for reason in detail.get("antifraud_reasons", []):
        console.print(f"  反欺诈 Anti-fraud {reason['code']}: {reason['message']['zh-CN']}")
    timings = detail.get("timings_us", {})
    console.print("  耗时 Timings µs: " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))


def explain(
    application: Annotated[int, typer.Argument(help="Application id / 申请编号")],
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every decision on an application: inputs, rules fired, score, price, limit, reasons."""
    data = _platform(database).decisions.explain(application)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console = Console()
    app = data["application"]
    console.print(
        f"[bold]申请 Application {app['id']}[/bold] · {app['status']} · {app['product']} · "
        f"{_yuan(app['amount_fen'])} 元 × {app['term']} · approved "
        f"{_yuan(app['approved_amount_fen'])} at {app['offered_rate'] or '—'}"
    )
    for item in data["decisions"]:
        who = f" by {item['reviewer']}" if item["reviewer"] else ""
        console.print(
            f"\n[bold]{item['created_at']} {item['path']} → {item['outcome']}[/bold]{who}"
        )
        if item["path"] == "engine":
            _print_engine_decision(console, item)
        else:
            console.print(f"  {json.dumps(item['detail'], ensure_ascii=False)}")


def replay(
    application: Annotated[int, typer.Argument(help="Application id / 申请编号")],
    database: DatabaseOption = None,
) -> None:
    """Re-run the stored decision (same inputs, same strategy version); exit 1 if it differs."""
    stored, replayed, differences = _platform(database).decisions.replay(application)
    console = Console()
    if not differences:
        console.print(
            f"申请 {application}: replay under {stored.strategy} is identical — "
            f"{replayed.outcome}, score {replayed.score:.0f}, grade {replayed.grade} / 重放一致"
        )
        return
    table = Table(title=f"申请 {application} 重放差异 Replay differences")
    for column in ("字段 Field", "存储 Stored", "重放 Replayed"):
        table.add_column(column)
    for name, before, after in differences:
        table.add_row(name, str(before), str(after))
    console.print(table)
    raise typer.Exit(1)


def backtest(
    strategy: Annotated[int, typer.Option("--strategy", help="Candidate version number")],
    start: Annotated[str, typer.Option("--from", help="First decision date YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="Last decision date YYYY-MM-DD")],
    workers: Annotated[
        int,
        typer.Option(
            help="Processes deciding, this one included (1: this one only) / 参与计算的进程数",
            min=1,
            max=32,
        ),
    ] = 2,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run a strategy version over stored applications and compare it with the live one."""
    from xindai.errors import InvalidValue
    from xindai.risk.backtest import backtest as run_backtest
    from xindai.store.db import transaction

    first, last = parse_date(start, field="--from"), parse_date(end, field="--to")
    if last < first:
        raise InvalidValue("--to", end, "is before --from", "早于开始日期")
    platform = _platform(database)
    service = platform.decisions
    with transaction(platform.sessions, read_only=True) as session:  # never a write lock
        registry = service.registry(session)
        candidate = registry.version(strategy)
        if registry.champion is None:
            raise InvalidValue(
                "--strategy", strategy, "no live version to compare with", "没有线上版本"
            )
        live = registry.version(registry.champion)
        with progress_bar(disable=as_json, transient=False) as progress:
            task = progress.add_task("回溯 Back-testing", total=None)
            report = run_backtest(
                session,
                candidate=candidate,
                live=live,
                start=first,
                end=last,
                workers=workers,
                progress=lambda n: progress.advance(task, n),
            )
    data = report.to_json()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console = Console()
    table = Table(title=f"回溯 Back-test {first} … {last}: {report.applications} applications")
    table.add_column("指标 Metric")
    table.add_column(f"候选 {candidate.label}")
    table.add_column(f"线上 {live.label}")
    cand, now = data["candidate"], data["live"]
    for label, key, fmt in (
        ("通过率 Approve rate", "approve_rate", "{:.2%}"),
        ("人工审核率 Review rate", "review_rate", "{:.2%}"),
        ("拒绝率 Reject rate", "reject_rate", "{:.2%}"),
        ("预期损失率 Expected loss rate", "expected_loss_rate", "{:.2%}"),
    ):
        table.add_row(label, fmt.format(cand[key]), fmt.format(now[key]))
    table.add_row(
        "批准金额 Approved (yuan)", _yuan(cand["approved_fen"]), _yuan(now["approved_fen"])
    )
    table.add_row(
        "实际坏账率 Realised bad rate",
        *(
            "—"
            if side["bad_rate"] is None
            else f"{side['bad_rate']:.2%} of {side['outcome_known']}"
            for side in (cand, now)
        ),
    )
    for grade in sorted(set(cand["grades"]) | set(now["grades"])):
        table.add_row(
            f"等级 Grade {grade}",
            str(cand["grades"].get(grade, 0)),
            str(now["grades"].get(grade, 0)),
        )
    console.print(table)
    for swap in data["swaps"]:
        console.print(f"  {swap['live']} → {swap['candidate']}: {swap['count']}")
    console.print(
        f"{report.applications} applications in {report.seconds:.2f} s "
        f"({report.per_second:,.0f}/s, {report.workers} process(es);"
        f" {report.steady_per_second:,.0f}/s once the workers were up)"
    )


def decide_pending(
    group: Annotated[
        int, typer.Option(help="Applications per transaction / 每个事务的申请数", min=1, max=200)
    ] = DEFAULT_GROUP,
    limit: Annotated[
        int | None, typer.Option(help="Decide at most this many / 最多决策数", min=1)
    ] = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Decide every application waiting for a decision (待决策), a group per transaction;
    one that fails is reported and the rest are decided."""
    from xindai.risk.pending import decide_all_pending

    platform = _platform(database)
    with progress_bar(disable=as_json, transient=False) as progress:
        task = progress.add_task("决策 Deciding", total=None)
        run = decide_all_pending(
            platform.decisions,
            group=group,
            limit=limit,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    data = {
        "decided": run.decided,
        "outcomes": dict(sorted(run.outcomes.items())),
        "failed": {str(k): v for k, v in sorted(run.failed.items())},
        "seconds": round(run.seconds, 3),
        "per_second": round(run.per_second),
    }
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        console = Console()
        if not run.decided and not run.failed:
            console.print("没有待决策的申请 Nothing is waiting for a decision")
            return
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(run.outcomes.items())) or "—"
        console.print(
            f"已决策 Decided {run.decided} ({outcomes}) in {run.seconds:.2f} s"
            f" ({run.per_second:,.0f}/s)"
        )
        for application_id, reason in sorted(run.failed.items()):
            console.print(f"[red]失败 Failed[/red] {application_id}: {reason}")
    if run.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("decide-pending")(decide_pending)
    app.command("explain")(explain)
    app.command("replay")(replay)
    app.command("backtest")(backtest)


__all__ = ["backtest", "decide_pending", "explain", "register", "replay"]
