"""Rich and JSON renderings of schedules and their annualised cost, and the progress bar of
long commands."""

from __future__ import annotations

import shutil
import sys
from decimal import Decimal
from pathlib import Path

from rich.console import Console, Group
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from xindai.money import format_percent, format_yuan
from xindai.products.cost import AnnualisedCost
from xindai.schedules.model import Schedule, UpfrontFeeMode


def schedule_table(schedule: Schedule, cost: AnnualisedCost, title: str | None = None) -> Group:
    """A readable table of the schedule with totals and the annualised cost."""
    terms = schedule.terms
    table = Table(
        title=title
        or f"{terms.method.label_zh} {terms.method.value} · "
        f"{format_yuan(terms.principal_fen, thousands=True)} 元 · {terms.term} {terms.unit.value}",
        show_footer=True,
    )
    table.add_column("期数 No.", "合计 Total", justify="right")
    table.add_column("到期日 Due date")
    table.add_column(
        "本金 Principal", format_yuan(schedule.total_principal_fen, thousands=True), justify="right"
    )
    table.add_column(
        "利息 Interest", format_yuan(schedule.total_interest_fen, thousands=True), justify="right"
    )
    table.add_column(
        "费用 Fee", format_yuan(schedule.total_fee_fen, thousands=True), justify="right"
    )
    table.add_column(
        "应还 Total",
        format_yuan(schedule.total_payment_fen, thousands=True),
        justify="right",
        style="bold",
    )
    for i in schedule.installments:
        table.add_row(
            str(i.number),
            i.due_date.isoformat(),
            format_yuan(i.principal_fen, thousands=True),
            format_yuan(i.interest_fen, thousands=True),
            format_yuan(i.fee_fen, thousands=True),
            format_yuan(i.total_fen, thousands=True),
        )
    lines = [
        f"到手金额 Disbursed: {format_yuan(schedule.disbursed_fen, thousands=True)} 元",
    ]
    if schedule.upfront_fee_fen:
        mode = {
            UpfrontFeeMode.DEDUCT: "从放款中扣除 deducted from payout (砍头息)",
            UpfrontFeeMode.SEPARATE: "放款前另付 paid before payout",
            UpfrontFeeMode.AMORTIZED: "分摊到各期 spread over installments",
        }
        lines.append(
            f"头息 Upfront fee: {format_yuan(schedule.upfront_fee_fen, thousands=True)}"
            f" 元 — {mode[terms.upfront_fee_mode]}"
        )
    lines.append(
        f"综合年化成本 APR (IRR): {format_percent(cost.nominal)} · "
        f"实际年化 effective: {format_percent(cost.effective)}"
    )
    summary = Text("\n".join(lines))
    if cost.nominal > Decimal("0.36"):
        summary.append("\n超过 36% 上限 Above the 36% cap", style="bold red")
    elif cost.nominal > Decimal("0.24"):
        summary.append("\n超过 24% 上限 Above the 24% cap", style="bold yellow")
    return Group(table, summary)


def progress_bar(
    console: Console | None = None,
    *,
    label: str = "[progress.description]{task.description}",
    transient: bool = True,
    disable: bool = False,
) -> Progress:
    """The progress bar every long command shows: label, bar, done / total, time elapsed."""
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=transient,
        disable=disable,
    )


def xindai_command() -> str:
    """How the person at this terminal runs `xindai`, for hints: the bare name when it is
    on their PATH, else the path of the installed script (`.venv/bin/xindai` after
    `python3 dev.py start`, relative to where they are)."""
    found = shutil.which("xindai")
    installed = Path(sys.prefix) / "bin" / "xindai"
    if found is not None and Path(found).resolve() == installed.resolve():
        return "xindai"
    if not installed.exists():
        return "xindai"
    try:
        return str(installed.relative_to(Path.cwd()))
    except ValueError:
        return str(installed)
