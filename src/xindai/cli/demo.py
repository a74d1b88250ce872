"""`xindai demo …`: the demo lender served with one command (`start`: months of business
built through the real services and the simulators, then the simulators and the server
until Ctrl+C), building it alone (`build`), and the first-look portfolio (`portfolio`: a
small lender's first weeks, then the portfolio by bucket and the trial balance)."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.rule import Rule
from rich.table import Table

from xindai.cli.calc import reloan_json
from xindai.cli.ledger import trial_balance_table
from xindai.cli.render import progress_bar, schedule_table, xindai_command
from xindai.dates import parse_date
from xindai.demo import build_demo_portfolio, portfolio_by_bucket
from xindai.demo.build import DemoBuilt
from xindai.demo.lender import Counts, DemoSize
from xindai.ledger.reports import trial_balance
from xindai.money import format_yuan
from xindai.products import annualised_cost
from xindai.products.catalogue import demo_products
from xindai.risk.reloan import evaluate_reloan
from xindai.schedules import build_schedule
from xindai.settings import get_settings, sqlite_url
from xindai.store import migrate
from xindai.store import repository as repo
from xindai.store.db import make_engine, session_factory

if TYPE_CHECKING:
    from xindai.demo.stack import DemoStack as DemoStackType


app = typer.Typer(help="The demo lender / 演示", no_args_is_help=True)

Months = Annotated[int, typer.Option(min=1, max=36, help="Months of business / 运营月数")]
Loans = Annotated[
    int, typer.Option(min=10, help="About how many loans (the strategy decides) / 约放款笔数")
]
Seed = Annotated[int, typer.Option(help="Seed of the synthetic market / 随机种子")]
End = Annotated[
    str | None,
    typer.Option(help="Business date at the end, YYYY-MM-DD (default: today) / 截止营业日"),
]
BuildWorkers = Annotated[
    int,
    typer.Option(
        "--build-workers",
        min=-1,
        help="Processes for the borrowers' side of each day (0: none, deterministic to the "
        "record; -1: one per CPU, at most 2) / 构建进程数",
    ),
]


def _size_given(context: typer.Context, *names: str) -> bool:
    """Whether any of the options `names` was given on the command line."""
    sources = (context.get_parameter_source(name) for name in names)
    return any(source is not None and source.name == "COMMANDLINE" for source in sources)


@app.command("start")
def start(
    context: typer.Context,
    months: Months = 6,
    loans: Loans = 2000,
    seed: Seed = 7,
    end: End = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Build the demo afresh / 重新构建")
    ] = False,
    host: Annotated[str, typer.Option(help="Loopback address only / 仅本机")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The platform's port (0: any free one)")] = 8000,
    sim_port: Annotated[int, typer.Option(help="The simulators' port (0: any free one)")] = 8700,
    build_workers: BuildWorkers = -1,
    workers: Annotated[int, typer.Option(min=1, help="Server worker processes / 服务进程数")] = 1,
) -> None:
    """Start the demo lender: build it if there is no complete one (months of business
    through the real services and the simulators), then serve the console, the borrower app
    and the API on loopback with one login per role, until Ctrl+C (一键启动演示平台)."""
    from xindai.demo.stack import (
        DemoStack,
        DemoStart,
        needs_build,
        refuse_beyond_loopback,
        refuse_ports_in_use,
    )

    refuse_beyond_loopback(host)
    options = DemoStart(
        data_dir=Path(get_settings().data_dir),
        size=DemoSize(months, loans, seed),
        end=parse_date(end, field="--end") if end else None,
        rebuild=rebuild,
        host=host,
        port=port,
        sim_port=sim_port,
        build_workers=_default_workers() if build_workers < 0 else build_workers,
        serve_workers=workers,
        size_given=_size_given(context, "months", "loans", "seed", "end"),
    )
    refuse_ports_in_use(options)
    console = Console()
    stack = DemoStack(options, log=console.print)
    started = time.monotonic()
    try:
        stack.start_simulators()
        build, found, why = needs_build(options)
        if build:
            console.print(f"[bold]演示数据 Building the demo lender[/bold] ({why}): "
                          f"{months} months, a market sized for {loans} loans …")  # fmt: skip
            found = _build_with_progress(console, stack, months)
        else:
            console.print(f"演示数据 {why}: {options.database_url.removeprefix('sqlite:///')}")
        stack.start_server()
        _print_serving(console, stack, found, time.monotonic() - started)
        code = stack.wait()
    finally:
        console.print("Stopping 停止 …")
        stack.stop()
    raise typer.Exit(code)


@app.command("build")
def build(
    months: Months = 6,
    loans: Loans = 2000,
    seed: Seed = 7,
    end: End = None,
    build_workers: BuildWorkers = -1,
) -> None:
    """Build the demo lender's database afresh (in the data directory's demo/ folder)
    against a simulator process of its own, and say what it holds (构建演示数据)."""
    from xindai.demo.stack import DemoStack, DemoStart

    options = DemoStart(
        data_dir=Path(get_settings().data_dir),
        size=DemoSize(months, loans, seed),
        end=parse_date(end, field="--end") if end else None,
        build_workers=_default_workers() if build_workers < 0 else build_workers,
    )
    console = Console()
    stack = DemoStack(options, log=console.print)
    try:
        stack.start_simulators()
        built = _build_with_progress(console, stack, months)
    finally:
        stack.sim.stop()
    console.print(f"演示数据 {options.database_url.removeprefix('sqlite:///')}: {built.counts}")


def _default_workers() -> int:
    import os

    return min(2, os.cpu_count() or 1) if (os.cpu_count() or 1) > 1 else 0


def _build_with_progress(console: Console, stack: DemoStackType, months: int) -> DemoBuilt:
    with progress_bar(console, label="[bold]营业日 business days", transient=False) as bar:
        task = bar.add_task("days", total=months * 31)

        def show(done: int, total: int, counts: Counts) -> None:
            bar.update(
                task,
                completed=done,
                total=total,
                description=f"{counts.loans} loans",
            )

        built = stack.build(show)
    counts = built.counts
    console.print(
        f"  {counts['borrowers']} borrowers 借款人, {counts['applications']} applications "
        f"申请, {counts['loans']} loans 借据, {built.start} → {built.end}, {built.seconds:.0f} s"
    )
    phases = counts.get("phases")
    if phases:
        console.print("  " + ", ".join(f"{name} {seconds} s" for name, seconds in phases.items()))
    return built


def _print_serving(
    console: Console, stack: DemoStackType, built: DemoBuilt | None, seconds: float
) -> None:
    from xindai.demo.staff import DEMO_LOGINS

    base = stack.base_url
    console.print(Rule(f"Xindai 信贷 demo lender · serving in {seconds:.0f} s · Ctrl+C to stop"))
    table = Table(show_header=False, box=None)
    table.add_row("Console 管理后台", f"{base}/admin/")
    table.add_row("Borrower app 借款人端", f"{base}/app/")
    table.add_row("API docs 接口文档", f"{base}/docs")
    table.add_row("SMS outbox 短信", f"{stack.sim.base_url}/sms/outbox")
    console.print(table)
    logins = Table(title="演示账号 Demo logins (loopback only / 仅限本机)")
    logins.add_column("角色 Role")
    logins.add_column("用户名 Username")
    logins.add_column("密码 Password")
    logins.add_column("说明 Note")
    for login in DEMO_LOGINS:
        logins.add_row(f"{login.role_zh} {login.role}", login.username, login.password, login.note)
    console.print(logins)
    phone = _a_borrower_phone(stack.options.database_url)
    if phone:
        console.print(
            f"Borrower app 借款人端: sign in as {phone} (a borrower with an open loan); the "
            f"SMS code is in the outbox above / 短信验证码见模拟短信发件箱"
        )
    if built is not None:
        console.print(
            f"[dim]{built.counts.get('loans')} loans from {built.start} to {built.end}; "
            f"business date {built.end}. Server log: "
            f"{stack.options.folder / 'server.log'}[/dim]"
        )


def _a_borrower_phone(database_url: str) -> str | None:
    """The phone of a demo borrower with an open loan (the demo's keys are the development
    ones), for signing in to the borrower app."""
    from sqlalchemy import select

    from xindai.security.pii import PiiCipher
    from xindai.store.models import Borrower, Loan

    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            mobile = session.scalar(
                select(Borrower.mobile_enc)
                .join(Loan, Loan.borrower_id == Borrower.id)
                .where(Loan.status == "active")
                .order_by(Loan.id.desc())
                .limit(1)
            )
    finally:
        engine.dispose()
    if not mobile:
        return None
    return PiiCipher(get_settings().key_bytes("pii")).decrypt("phone", mobile)


@app.command("portfolio")
def portfolio(
    loans: Annotated[int, typer.Option(help="Loans to book / 放款笔数")] = 120,
    weeks: Annotated[int, typer.Option(help="Weeks of business to run / 运行周数")] = 8,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            "-d",
            help="Database URL (default: a fresh demo.db in the data directory) / 数据库 URL",
        ),
    ] = None,
    decisions: Annotated[
        int, typer.Option(help="Applications to decide (0: none) / 演示决策笔数", min=0)
    ] = 300,
) -> None:
    """A first look: book a small portfolio, run weeks of close of business with on-time,
    late and missing payers, and show the portfolio by bucket and the trial balance
    (演示组合)."""
    console = Console()
    if database is None:
        path = Path(get_settings().data_dir) / "demo.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        database = sqlite_url(path)
    console.print(Rule("Xindai 信贷 · 演示 demo"))
    product = demo_products()[1]
    schedule = build_schedule(product.schedule_terms(1_000_000, 12, date(2026, 9, 1)))
    console.print(
        schedule_table(
            schedule,
            annualised_cost(schedule),
            title=f"{product.code} {product.name} · 10,000.00 元 · 12 月",
        )
    )
    engine = make_engine(database)
    migrate.upgrade(engine)
    sessions = session_factory(engine)
    with progress_bar(console, label="[bold]营业日 business days", transient=False) as bar:
        task = bar.add_task("days", total=weeks * 7)
        summary = build_demo_portfolio(
            sessions,
            loans=loans,
            weeks=weeks,
            progress=lambda _name, done, total: bar.update(task, completed=done, total=total),
        )
    console.print(
        f"放款 {summary.loans} 笔 loans booked {summary.start} → {summary.end}; "
        f"还款 {summary.repayments} repayments; 晚还 {summary.late_payers} late "
        f"payers; 未还 {summary.defaulters} never paid"
    )
    with sessions() as session:
        rows = portfolio_by_bucket(session)
        as_of = repo.require_business_date(session)
        balance = trial_balance(session, as_of)
    table = Table(title=f"资产质量 Portfolio by bucket · {as_of}", show_footer=True)
    table.add_column("账龄 Bucket", "合计 Total")
    table.add_column("笔数 Loans", str(sum(r.loans for r in rows)), justify="right")
    table.add_column(
        "在贷本金 Principal",
        format_yuan(sum(r.principal_fen for r in rows), thousands=True),
        justify="right",
    )
    table.add_column(
        "逾期金额 Overdue",
        format_yuan(sum(r.overdue_fen for r in rows), thousands=True),
        justify="right",
    )
    for row in rows:
        table.add_row(
            row.bucket,
            str(row.loans),
            format_yuan(row.principal_fen, thousands=True),
            format_yuan(row.overdue_fen, thousands=True),
        )
    console.print(table)
    console.print(trial_balance_table(balance))
    history = [0, 0, 5, 17]
    console.print(
        f"复贷阶梯 Reloan ladder: history {history} → {reloan_json(evaluate_reloan(history))}"
    )
    console.print(f"[dim]More: {xindai_command()} loans show 1 --database {database}[/dim]")
    if decisions:
        _show_decisions(console, database, decisions)


def _show_decisions(console: Console, portfolio_database: str, applications: int) -> None:
    """A day of applications decided by the shipped strategy, on a database of its own."""
    from xindai.demo import build_demo_decisions

    url = portfolio_database.replace("demo.db", "demo-decisions.db")
    if url == portfolio_database or not url.startswith("sqlite:///"):
        return  # only beside the default demo database
    path = Path(url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    console.print(Rule("决策引擎 Decision engine"))
    with console.status(f"决策 deciding {applications} applications …"):
        result = build_demo_decisions(url, applications)
    table = Table(title=f"{result.decisions} 笔申请的决策 Decisions (strategy origination@v1)")
    table.add_column("结论 Outcome")
    table.add_column("笔数 Applications", justify="right")
    table.add_column("占比 Share", justify="right")
    for outcome in ("approve", "review", "reject"):
        count = result.outcomes.get(outcome, 0)
        table.add_row(outcome, str(count), f"{count / max(1, result.decisions):.0%}")
    console.print(table)
    console.print(
        "等级 Grades: " + ", ".join(f"{g} {n}" for g, n in result.grades.items())
        + " · 常见原因 Top reasons: " + ", ".join(f"{c} {n}" for c, n in result.reasons)
    )  # fmt: skip
    for label, example in (("拒绝 rejected", result.example_rejected),
                           ("通过 approved", result.example_approved)):  # fmt: skip
        if example is not None:
            console.print(
                f"[dim]Why {label}: {xindai_command()} risk explain {example}"
                f" --database {url}[/dim]"
            )
