"""`xindai loans …`: one loan's schedule, transactions and balances."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from xindai.cli.context import DatabaseOption, sessions
from xindai.cli.parse import positive_int
from xindai.money import format_yuan
from xindai.servicing.allocation import Component
from xindai.store import repository as repo

app = typer.Typer(help="Loan accounts / 贷款账户", no_args_is_help=True)


def y(fen: int) -> str:
    return format_yuan(fen, thousands=True)


@app.command("show")
def show(
    loan_id: Annotated[str, typer.Argument(help="Loan id / 贷款编号")],
    database: DatabaseOption = None,
) -> None:
    """Schedule, transactions and balances of one loan."""
    number = positive_int(loan_id, "loan id")
    with sessions(database)() as session:
        loan, state = repo.load_state(session, number)
        business_date = repo.get_business_date(session)
        log = repo.load_log(session, number)
        cache = repo.loan_cache(state, business_date) if business_date else {}
    header = Table.grid(padding=(0, 2))
    header.add_row("贷款 Loan", f"#{loan.id}", "借款人 Borrower", str(loan.borrower_id))
    header.add_row(
        "产品 Product",
        f"{loan.product_code} v{loan.product_version}",
        "状态 Status",
        state.status.value,
    )
    header.add_row("本金 Principal", y(loan.principal_fen), "年利率 Rate", loan.annual_rate)
    header.add_row(
        "逾期天数 DPD", str(cache.get("dpd", 0)), "账龄 Bucket", str(cache.get("bucket", "M0"))
    )
    header.add_row(
        "营业日 Business date", str(business_date), "溢缴款 Credit", y(state.credit_balance_fen)
    )
    schedule = Table(title="还款计划 Schedule")
    for column in (
        "期 No.",
        "到期日 Due",
        "本金 Principal",
        "利息 Interest",
        "费用 Fee",
        "罚息 Penalty",
        "已还 Paid",
        "减免 Waived",
        "未还 Outstanding",
        "状态 Status",
    ):
        schedule.add_column(column, justify="right" if column[0] != "到" else "left")
    for item in state.installments:
        status = (
            "cancelled"
            if item.cancelled
            else item.status(business_date, state.rules.grace_days).value
            if business_date
            else ""
        )
        schedule.add_row(
            str(item.number),
            item.due_date.isoformat(),
            y(item.due.principal),
            y(item.due.interest),
            y(item.due.fee),
            y(item.due.penalty),
            y(item.paid.total),
            y(item.waived.total),
            y(item.outstanding_total),
            status,
        )
    balances = Table(title="余额 Balances")
    for column in ("本金 Principal", "利息 Interest", "费用 Fee", "罚息 Penalty", "合计 Total"):
        balances.add_column(column, justify="right")
    balances.add_row(
        *(
            y(state.outstanding(c))
            for c in (Component.PRINCIPAL, Component.INTEREST, Component.FEE, Component.PENALTY)
        ),
        y(state.outstanding_total),
    )
    transactions = Table(title="交易 Transactions")
    for column in (
        "# ",
        "类型 Kind",
        "起息日 Value date",
        "记账日 Posted",
        "金额 Amount",
        "本金",
        "利息",
        "费用",
        "罚息",
        "溢缴",
        "备注 Note",
    ):
        transactions.add_column(column)
    for row in log:
        note = (
            f"冲正 reverses #{row.reverses_seq}"
            if row.reverses_seq
            else "已冲正 reversed"
            if row.reversed
            else ""
        )
        transactions.add_row(
            str(row.seq),
            row.kind,
            row.value_date.isoformat(),
            row.posted_on.isoformat(),
            y(row.amount_fen),
            y(row.principal_fen),
            y(row.interest_fen),
            y(row.fee_fen),
            y(row.penalty_fen),
            y(row.credit_fen),
            note,
        )
    Console().print(
        Group(Panel(header, title="贷款账户 Loan account"), schedule, balances, transactions)
    )
