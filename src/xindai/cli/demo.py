"""`xindai demo`: the platform's main job at this stage, a tour of the loan-math core."""

from __future__ import annotations

from datetime import date

from rich.console import Console
from rich.rule import Rule

from xindai.cli.calc import reloan_json
from xindai.cli.render import schedule_table
from xindai.money import format_yuan
from xindai.products import annualised_cost, check_rate_cap
from xindai.products.catalogue import demo_products
from xindai.risk.reloan import evaluate_reloan
from xindai.schedules import build_schedule


def demo() -> None:
    """Show each demo product's schedule, its comprehensive annualised cost and the reloan
    ladder on a sample borrower (演示：产品还款计划、综合年化成本与复贷阶梯)."""
    console = Console()
    start = date(2026, 1, 31)
    console.print(Rule("Xindai 信贷 · 演示 demo"))
    for product in demo_products():
        amount = min(product.amount_max_fen, max(product.amount_min_fen, 1_000_000))
        term = product.terms[-1]
        schedule = build_schedule(product.schedule_terms(amount, term, start))
        cost = annualised_cost(schedule)
        worst = check_rate_cap(product)
        console.print(
            schedule_table(
                schedule,
                cost,
                title=f"{product.code} {product.name} · {format_yuan(amount, thousands=True)} 元 · "
                f"{term} {product.period_unit.value} · 放款 {start.isoformat()}",
            )
        )
        console.print(
            f"[dim]产品最高综合年化 product max APR {worst.cost.nominal:.4%} ≤ 上限 cap "
            f"{product.rate_cap.annual_rate:.0%}[/dim]\n"
        )
    history = [0, 0, 5, 17]
    decision = evaluate_reloan(history)
    console.print(Rule("复贷阶梯 Reloan ladder"))
    console.print(f"历史最大逾期天数 history {history} → {reloan_json(decision)}")
