"""`xindai products …`: list the catalogue, show one product's cost, check a product file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from xindai.errors import InvalidValue
from xindai.money import format_percent, format_yuan
from xindai.products import Product, check_rate_cap, cost_range
from xindai.products.catalogue import demo_products

app = typer.Typer(help="Loan products / 产品", no_args_is_help=True)


@app.command("list")
def list_products() -> None:
    """The demo catalogue with each product's highest comprehensive annualised cost."""
    table = Table(title="产品 Products")
    for column in (
        "代码 Code",
        "名称 Name",
        "方式 Method",
        "期限 Terms",
        "金额 Amount",
        "年利率 Rate",
        "最高综合年化 Max APR",
        "上限 Cap",
    ):
        table.add_column(column)
    for product in demo_products():
        worst = max(cost_range(product), key=lambda p: p.cost.nominal)
        table.add_row(
            product.code,
            product.name,
            product.method.label_zh,
            f"{', '.join(map(str, product.terms))} {product.period_unit.value}",
            f"{format_yuan(product.amount_min_fen)}–{format_yuan(product.amount_max_fen)}",
            format_percent(product.annual_rate),
            format_percent(worst.cost.nominal),
            format_percent(product.rate_cap.annual_rate),
        )
    Console().print(table)


@app.command("check")
def check(path: Annotated[Path, typer.Argument(help="Product JSON file / 产品定义文件")]) -> None:
    """Validate a product definition and check its annualised cost against its cap."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidValue(
            "product file", str(path), f"cannot be read as JSON ({exc})", "无法读取为 JSON"
        ) from None
    product = Product.from_dict(data)
    worst = check_rate_cap(product)
    typer.echo(
        f"OK {product.code}: highest comprehensive annualised cost "
        f"{format_percent(worst.cost.nominal)} (term {worst.term}) within cap "
        f"{format_percent(product.rate_cap.annual_rate)}"
    )
