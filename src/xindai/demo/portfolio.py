"""The demo portfolio: a small lender's first weeks, driven through the real services.

Books loans of every demo product over the first days, lets most borrowers pay on time,
some late and some not at all, and runs close of business every night. Deterministic for a
seed, so that the demo and its tests see the same portfolio.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from xindai.cob.runner import run_cob
from xindai.ledger.journal import ensure_chart
from xindai.money import Fen
from xindai.products.catalogue import demo_products
from xindai.servicing.service import LoanService
from xindai.store import repository as repo
from xindai.store.models import Borrower, Loan

DEMO_START = date(2026, 9, 1)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    start: date
    end: date
    loans: int
    repayments: int
    late_payers: int
    defaulters: int


def _installments_due(service: LoanService, loan_id: int, day: date) -> Fen:
    state = service.state(loan_id)
    return sum(i.outstanding_total for i in state.live if i.due_date <= day and not i.is_settled)


def build_demo_portfolio(
    sessions: sessionmaker[Session],
    *,
    loans: int = 120,
    weeks: int = 8,
    seed: int = 7,
    start: date = DEMO_START,
    progress: Callable[[str, int, int], None] | None = None,
) -> DemoSummary:
    """Book `loans` loans over the first two weeks and run `weeks` weeks of business."""
    rng = random.Random(seed)
    products = demo_products()
    with sessions.begin() as session:
        ensure_chart(session)
        for product in products:
            repo.save_product(
                session, product, created_by="ops.demo", approved_by="lead.demo", activated_on=start
            )
        repo.set_business_date(session, start)
    service = LoanService(sessions)
    end = start + timedelta(weeks=weeks)
    behaviour: dict[int, str] = {}
    booking_days = [start + timedelta(days=rng.randrange(14)) for _ in range(loans)]
    repayments = 0
    day = start
    total_days = (end - start).days
    while day < end:
        for number, booked_on in enumerate(booking_days):
            if booked_on != day:
                continue
            product = products[number % len(products)]
            with sessions.begin() as session:
                borrower = Borrower(
                    display_name=f"借款人{number + 1:04d}", channel="demo", created_on=day
                )
                session.add(borrower)
                session.flush()
                borrower_id = borrower.id
            steps = range(
                product.amount_min_fen, product.amount_max_fen + 1, product.amount_step_fen
            )
            amount = rng.choice(list(steps)[: max(1, len(steps) // 3)])
            loan_id = service.book_loan(
                product,
                borrower_id=borrower_id,
                amount_fen=amount,
                term=rng.choice(product.terms),
                start=day,
            )
            service.disburse(
                loan_id,
                value_date=day,
                idempotency_key=f"demo-payout-{loan_id}",
                external_ref=f"PO{loan_id:08d}",
            )
            behaviour[loan_id] = rng.choices(["on_time", "late", "never"], [78, 14, 8])[0]
        for loan_id, kind in behaviour.items():
            if kind == "never":
                continue
            lag = 0 if kind == "on_time" else 9
            owed = _installments_due(service, loan_id, day - timedelta(days=lag))
            if owed > 0 and service.state(loan_id).status.is_open:
                service.repay(
                    loan_id,
                    _installments_due(service, loan_id, day),
                    value_date=day,
                    idempotency_key=f"demo-{loan_id}-{day}",
                    external_ref=f"RP{loan_id:06d}{day:%m%d}",
                )
                repayments += 1
        run_cob(sessions, until=day)
        day += timedelta(days=1)
        if progress:
            progress("days", (day - start).days, total_days)
    return DemoSummary(
        start,
        end,
        loans,
        repayments,
        sum(1 for k in behaviour.values() if k == "late"),
        sum(1 for k in behaviour.values() if k == "never"),
    )


@dataclass(frozen=True, slots=True)
class BucketRow:
    bucket: str
    loans: int
    principal_fen: Fen
    overdue_fen: Fen


def portfolio_by_bucket(session: Session) -> list[BucketRow]:
    """Open loans by bucket: count, outstanding principal and overdue amount."""
    rows = session.execute(
        select(
            Loan.bucket,
            func.count(),
            func.sum(Loan.principal_outstanding_fen),
            func.sum(Loan.overdue_fen),
        )
        .where(Loan.status.in_(["active", "overdue"]))
        .group_by(Loan.bucket)
    ).all()
    order = {name: i for i, name in enumerate(("M0", "M1", "M2", "M3", "M4", "M5", "M6", "M6+"))}
    return sorted(
        (BucketRow(b, int(n), int(p or 0), int(o or 0)) for b, n, p, o in rows),
        key=lambda r: order.get(r.bucket, 99),
    )


@dataclass(frozen=True)
class DecisionDemo:
    """A day of applications decided by the default strategy (see `build_demo_decisions`)."""

    database: str
    decisions: int
    outcomes: dict[str, int]
    grades: dict[str, int]
    reasons: list[tuple[str, int]]  # the most frequent reason codes
    example_rejected: int | None  # an application id worth `xindai risk explain`
    example_approved: int | None


def build_demo_decisions(database: str, applications: int = 300, seed: int = 11) -> DecisionDemo:
    """Load a synthetic applicant population into `database` (a fresh one) and decide every
    application with the shipped strategy, as the borrower journey does."""
    import tempfile
    from collections import Counter
    from datetime import datetime
    from pathlib import Path

    from xindai.bench.decide import build_population
    from xindai.bootstrap import bootstrap
    from xindai.platform import Platform
    from xindai.settings import get_settings
    from xindai.store.db import make_engine, session_factory
    from xindai.store.migrate import upgrade

    upgrade(database)
    now = datetime(2026, 11, 28, 10, 0, 0)
    settings = get_settings().model_copy(
        update={"database_url": database, "data_dir": Path(tempfile.gettempdir())}
    )
    engine = make_engine(database)
    sessions = session_factory(engine)
    platform = Platform.from_settings(settings, sessions=sessions, clock=lambda: now)
    bootstrap(sessions, cipher=platform.cipher, today=now.date())
    with sessions.begin() as session:
        repo.set_business_date(session, now.date())
    population = build_population(platform, applications, seed=seed, now=now)
    outcomes: Counter[str] = Counter()
    grades: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    rejected = approved = None
    for application_id in population.applications:
        decision = platform.decisions.decide_pending(application_id)
        outcomes[decision.outcome] += 1
        grades[decision.grade] += 1
        reasons.update(decision.reason_codes)
        if decision.outcome == "reject" and rejected is None and len(decision.reason_codes) > 1:
            rejected = application_id
        if decision.outcome == "approve" and approved is None:
            approved = application_id
    engine.dispose()
    return DecisionDemo(
        database=database,
        decisions=sum(outcomes.values()),
        outcomes=dict(outcomes),
        grades=dict(sorted(grades.items())),
        reasons=reasons.most_common(6),
        example_rejected=rejected,
        example_approved=approved,
    )
