"""`xindai calc …`: the loan calculator (stable interface; other tooling depends on it)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from xindai.cli import parse
from xindai.cli.render import schedule_table
from xindai.dates import parse_date
from xindai.errors import InvalidValue
from xindai.money import DayCount, format_yuan, parse_yuan
from xindai.products.cost import annualised_cost
from xindai.products.disclosure import schedule_json
from xindai.risk.reloan import ReloanDecision, evaluate_reloan
from xindai.schedules import (
    Method,
    PeriodUnit,
    ScheduleTerms,
    UpfrontFeeMode,
    build_schedule,
)
from xindai.schedules.model import PeriodicFeeKind

app = typer.Typer(
    help="Loan calculator: schedules, annualised cost, reloan ladder / 贷款计算器",
    no_args_is_help=True,
)


@app.command("schedule")
def schedule(
    principal: Annotated[str, typer.Option(help="Loan amount in yuan / 借款本金（元）")],
    rate: Annotated[str, typer.Option(help="Nominal annual rate, 0.18 or 18% / 名义年利率")],
    term: Annotated[str, typer.Option(help="Installments; for bullet, units to maturity / 期数")],
    start: Annotated[str, typer.Option(help="Disbursement date YYYY-MM-DD / 放款日")],
    unit: Annotated[str, typer.Option(help="day | week | month")] = "month",
    method: Annotated[
        str,
        typer.Option(
            help="bullet | annuity | equal_principal | flat | interest_first | principal_first"
        ),
    ] = "annuity",
    day_count: Annotated[str, typer.Option("--day-count", help="act360 | act365")] = "act360",
    upfront_fee: Annotated[
        str, typer.Option("--upfront-fee", help="Upfront fee share of principal / 头息")
    ] = "0",
    upfront_fee_mode: Annotated[
        str, typer.Option("--upfront-fee-mode", help="deduct | separate | amortized")
    ] = "separate",
    periodic_fee: Annotated[
        str,
        typer.Option("--periodic-fee", help="Fee per installment, share of principal / 每期费率"),
    ] = "0",
    periodic_fee_fixed: Annotated[
        str | None,
        typer.Option(
            "--periodic-fee-fixed", help="Fixed fee per installment in yuan / 每期固定费用（元）"
        ),
    ] = None,
    interest_start_days: Annotated[
        str,
        typer.Option("--interest-start-days", help="Days before interest starts / 利率起算天数"),
    ] = "0",
    repayment_day: Annotated[
        str | None, typer.Option("--repayment-day", help="Fixed day of month 1–28 / 固定还款日")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Print a repayment schedule and its comprehensive annualised cost (IRR)."""
    principal_fen = parse_yuan(principal, field="--principal")
    if principal_fen <= 0:
        raise InvalidValue("--principal", principal, "must be a positive amount", "本金必须大于零")
    fixed_fee = (
        parse_yuan(periodic_fee_fixed, field="--periodic-fee-fixed")
        if periodic_fee_fixed is not None
        else None
    )
    if fixed_fee is not None and fixed_fee < 0:
        raise InvalidValue(
            "--periodic-fee-fixed", periodic_fee_fixed, "must not be negative", "不能为负"
        )
    if fixed_fee is not None and parse.rate(periodic_fee, "--periodic-fee") != 0:
        raise InvalidValue(
            "--periodic-fee-fixed",
            periodic_fee_fixed,
            "give either --periodic-fee or --periodic-fee-fixed, not both",
            "每期费率与固定费用只能二选一",
        )
    start_date = parse_date(start, field="--start")
    start_days = int(interest_start_days) if interest_start_days.strip().isdigit() else None
    if start_days is None:
        raise InvalidValue(
            "--interest-start-days",
            interest_start_days,
            "must be a whole number of days",
            "应为整数天数",
        )
    terms = ScheduleTerms(
        principal_fen=principal_fen,
        annual_rate=parse.rate(rate, "--rate"),
        term=parse.positive_int(term, "--term"),
        unit=parse.choice(PeriodUnit, unit, "--unit"),
        method=parse.choice(Method, method, "--method"),
        start_date=start_date,
        day_count=parse.choice(DayCount, day_count, "--day-count"),
        interest_start_days=start_days,
        repayment_day=(
            parse.positive_int(repayment_day, "--repayment-day")
            if repayment_day is not None
            else None
        ),
        upfront_fee_rate=parse.rate(upfront_fee, "--upfront-fee", high=Decimal("0.99")),
        upfront_fee_mode=parse.choice(UpfrontFeeMode, upfront_fee_mode, "--upfront-fee-mode"),
        periodic_fee_kind=PeriodicFeeKind.FIXED if fixed_fee is not None else PeriodicFeeKind.RATE,
        periodic_fee_value=(
            Decimal(fixed_fee)
            if fixed_fee is not None
            else parse.rate(periodic_fee, "--periodic-fee", high=Decimal("0.99"))
        ),
    )
    result = build_schedule(terms)
    cost = annualised_cost(result)
    if as_json:
        typer.echo(json.dumps(schedule_json(result, cost), ensure_ascii=False))
    else:
        Console().print(schedule_table(result, cost))


def _parse_history(text: str) -> list[int]:
    if not text.strip():
        return []
    history: list[int] = []
    for position, entry in enumerate(text.split(","), start=1):
        cleaned = entry.strip()
        if not cleaned:
            raise InvalidValue(
                "--history", text, f"entry {position} is empty", f"第 {position} 项为空"
            )
        if not cleaned.isdigit():
            raise InvalidValue(
                "--history",
                entry,
                f"entry {position} must be a whole number of days ≥ 0",
                f"第 {position} 项应为不小于 0 的整数天数",
            )
        history.append(int(cleaned))
    return history


def reloan_json(decision: ReloanDecision) -> dict[str, object]:
    return {
        "eligible": decision.eligible,
        "levels": list(decision.levels),
        "next_level": decision.next_level,
        "limit": format_yuan(decision.limit_fen),
        "reason": decision.reason,
    }


@app.command("reloan")
def reloan(
    history: Annotated[
        str,
        typer.Option(
            help="Max days overdue of each settled loan, oldest first: 0,0,5,17 / 历史最大逾期天数"
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Evaluate the reloan ladder (复贷策略) for a borrower's settled-loan history."""
    decision = evaluate_reloan(_parse_history(history))
    if as_json:
        typer.echo(json.dumps(reloan_json(decision), ensure_ascii=False))
        return
    table = Table(title="复贷阶梯 Reloan ladder")
    table.add_column("笔 Loan", justify="right")
    table.add_column("最大逾期天数 Max DPD", justify="right")
    table.add_column("等级 Level", justify="right")
    for number, (days, level) in enumerate(
        zip(_parse_history(history), decision.levels, strict=True), start=1
    ):
        table.add_row(str(number), str(days), str(level))
    console = Console()
    console.print(table)
    if decision.eligible:
        console.print(
            f"[green]可复贷 Eligible[/green] · 下一笔等级 next level "
            f"{decision.next_level} · 额度 limit {format_yuan(decision.limit_fen)} 元"
        )
    else:
        console.print(
            f"[red]拒绝 Refused[/red] · {decision.reason} · {decision.message_zh} / "
            f"{decision.message_en}"
        )
