"""What early warning reads, added to the synthetic book of `bench cob` for `xindai bench
collections` (set-based SQL from the loans, seconds at a million): a borrower per loan
(keyed mobile hash, an encrypted resident ID — 1,000 distinct real-format numbers shared
round the book, each borrower its own ID hash — and name), two emergency contacts each (30 %
of the first ones are another borrower's mobile), the loan's application (device and phone
hashes) and its decision with the bureau features of one typical report, a later
application from another device for 0.1 % of the borrowers, and the failed withholdings of
the last seven days of the overdue loans at the real cadence (daily to DPD 7, then weekly).

The bureau refresh asks the simulator as a process (`BenchBureau`), as close of business
asks the real bureau; the refreshed reports differ from the typical one, so a share of the
refreshed loans hit. `warning_figures` counts each day's hits by rule and the reports asked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from rich.table import Table
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from xindai.integrations.http import HttpProviders
from xindai.integrations.simulators.config import SimulatorConfig
from xindai.integrations.simulators.process import SimulatorProcess
from xindai.origination.identity import valid_sample_ids
from xindai.security.pii import PiiCipher
from xindai.store.db import session_factory

DISTINCT_IDS = 1_000
SECRET = "bench-warnings-secret"
# the decision's bureau features: a borrower with two lenders and a few recent applications
TYPICAL = {
    "bureau_report_available": True,
    "bureau_inquiries_1m": 2,
    "bureau_inquiries_3m": 5,
    "bureau_inquiries_6m": 8,
    "bureau_current_overdue_count": 0,
    "bureau_max_overdue_days": 0,
    "multi_lender_open_count": 2,
}


@dataclass(frozen=True, slots=True)
class WarningBook:
    borrowers: int
    contacts: int
    applications: int
    withholdings: int
    seconds: float


@dataclass(frozen=True, slots=True)
class WarningDay:
    """One business day's early warning: hits by rule, reports asked of the bureau."""

    business_date: date
    hits: dict[str, int]
    reports: int


@dataclass
class BenchBureau:
    """What the early-warning step needs of the platform (`collections.reminders.Sender`):
    sessions, the cipher, the providers (the simulator's bureau) and a clock."""

    sessions: sessionmaker[Session]
    cipher: PiiCipher
    providers: Any
    clock: Callable[[], datetime]


@contextmanager
def bench_bureau(engine: Engine, cipher: PiiCipher) -> Iterator[BenchBureau]:
    """The bureau simulator as its own process, and a sender that asks it."""
    with SimulatorProcess(SimulatorConfig(secret=SECRET, seed=5)) as sim:
        providers = HttpProviders.at(sim.base_url, SECRET)
        try:
            yield BenchBureau(session_factory(engine), cipher, providers, datetime.now)
        finally:
            providers.close()


def build_warning_book(engine: Engine, start: date, cipher: PiiCipher, seed: int) -> WarningBook:
    """Add what early warning reads to the book at `engine` (module docstring)."""
    import time as clock

    began = clock.perf_counter()
    ids = valid_sample_ids(seed=seed, count=DISTINCT_IDS)
    name = cipher.encrypt("name", "张三")
    phone = cipher.encrypt("phone", "13900000000")  # shown masked; the hashes are what match
    booked = datetime.combine(start - timedelta(days=10), time(10))
    with engine.begin() as c:
        postgres = c.dialect.name == "postgresql"
        c.execute(text("CREATE TEMP TABLE bench_ids (k INTEGER PRIMARY KEY, enc TEXT)"))
        c.execute(
            text("INSERT INTO bench_ids (k, enc) VALUES (:k, :enc)"),
            [{"k": k, "enc": cipher.encrypt("id_number", n)} for k, n in enumerate(ids)],
        )
        loans = int(c.scalar(text("SELECT COUNT(*) FROM loans")) or 0)
        c.execute(
            text(
                "INSERT INTO borrowers (id, display_name, channel, created_on, mobile_hash,"
                " mobile_enc, name_enc, id_number_hash, id_number_enc, kyc_status,"
                " liveness_passed) SELECT l.borrower_id, '张*', 'default', l.booked_on,"
                " 'm' || l.borrower_id, :phone, :name, 'i' || l.borrower_id, b.enc,"
                " 'verified', :true FROM loans l"
                f" JOIN bench_ids b ON b.k = l.borrower_id % {DISTINCT_IDS}"
            ),
            {"name": name, "phone": phone, "true": True},
        )
        for seq, relation, hashed in (
            (1, "parent", f"CASE WHEN borrower_id % 10 < 3 THEN 'm' || ((borrower_id * 48271)"
                          f" % {loans} + 1) ELSE 'c1-' || borrower_id END"),
            (2, "friend", "'c2-' || borrower_id"),
        ):  # fmt: skip
            c.execute(
                text(
                    "INSERT INTO contacts (borrower_id, seq, name_enc, phone_enc, phone_hash,"
                    f" relation) SELECT borrower_id, {seq}, :name, :phone, {hashed}, '{relation}'"
                    " FROM loans"
                ),
                {"name": name, "phone": phone},
            )
        columns = (
            "id, borrower_id, product_code, product_version, amount_fen, term, purpose,"
            " card_id, status, annual_rate, apr, quote, loan_id, created_at, device_hash,"
            " phone_hash, id_number_hash"
        )
        c.execute(
            text(
                f"INSERT INTO applications ({columns}) SELECT id, borrower_id, product_code,"
                " product_version, principal_fen, term, 'consumption', 0, 'disbursed',"
                " annual_rate, annual_rate, '{}', id, :booked, 'd' || borrower_id,"
                " 'm' || borrower_id, 'i' || borrower_id FROM loans"
            ),
            {"booked": booked},
        )
        recent = c.execute(
            text(
                f"INSERT INTO applications ({columns}) SELECT {loans} + id, borrower_id,"
                " product_code, product_version, principal_fen, term, 'consumption', 0,"
                " 'rejected', annual_rate, annual_rate, '{}', NULL, :now,"
                " 'd2-' || borrower_id, 'm' || borrower_id, 'i' || borrower_id FROM loans"
                " WHERE id % 1000 = 7"
            ),
            {"now": datetime.combine(start, time(9))},
        ).rowcount
        c.execute(
            text(
                "INSERT INTO decisions (application_id, path, outcome, reasons, detail, inputs,"
                " created_at, customer_reasons) SELECT id, 'engine', 'approve', '[]', '{}',"
                " :inputs, :booked, '[]' FROM applications WHERE loan_id IS NOT NULL"
            ),
            {"inputs": json.dumps({"features": TYPICAL}), "booked": booked},
        )
        withholdings = 0
        for back in range(1, 8):
            then = "(dpd - :back)"
            withholdings += c.execute(
                text(
                    "INSERT INTO withholdings (request_ref, loan_id, business_date, amount_fen,"
                    " purpose, status, created_at, origin, reason) SELECT 'bench-' || id ||"
                    " '-' || :back, id, :day, overdue_fen + 1, 'repayment', 'failed', :at,"
                    f" 'auto', 'insufficient_funds' FROM loans WHERE status = 'overdue'"
                    f" AND {then} >= 0 AND ({then} <= 7 OR ({then} - 7) % 7 = 0)"
                ),
                {
                    "back": back,
                    "day": start - timedelta(days=back),
                    "at": datetime.combine(start - timedelta(days=back), time(9)),
                },
            ).rowcount
        c.execute(text("DROP TABLE bench_ids"))
        if postgres:
            for table in ("borrowers", "applications"):
                c.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT MAX(id) FROM {table}))"
                    )
                )
    return WarningBook(
        loans, 2 * loans, loans + int(recent), withholdings, clock.perf_counter() - began
    )


def render_warnings(
    days: Sequence[WarningDay], cob_days: Sequence[Any], book: WarningBook | None
) -> list[Table]:
    """A table of each day's early warning: the step's seconds (the bureau's calls included)
    and share of the day, the reports asked, the hits by rule (empty without a run)."""
    if not days:
        return []
    from xindai.collections.warning_rules import SPECS

    table = Table(title="Early warning (early_warning step, bureau simulator as a process)")
    for name in ("day", "step s", "of the day", "bureau reports", *SPECS):
        table.add_column(name, justify="left" if name == "day" else "right")
    for day, cob in zip(days, cob_days, strict=False):
        seconds = {s.step: s.seconds for s in cob.steps}
        total = sum(seconds.values())
        mine = seconds.get("early_warning", 0.0)
        table.add_row(
            day.business_date.isoformat(),
            f"{mine:.2f}",
            f"{100 * mine / total:.1f} %" if total else "—",
            f"{day.reports:,}",
            *(f"{day.hits.get(code, 0):,}" for code in SPECS),
        )
    if book is not None:
        table.caption = (
            f"{book.borrowers:,} borrowers, {book.contacts:,} contacts, "
            f"{book.applications:,} applications, {book.withholdings:,} failed withholdings "
            f"added in {book.seconds:.1f} s"
        )
    return [table]


def warning_figures(engine: Engine, day: date, reports_before: int) -> tuple[WarningDay, int]:
    """`day`'s hits by rule and the reports the bureau was asked (the cache's new rows: it
    starts empty and one person is one row), and the cache's rows now."""
    with engine.connect() as c:
        hits = {
            str(code): int(n)
            for code, n in c.execute(
                text(
                    "SELECT rule_code, COUNT(*) FROM early_warning_hits WHERE business_date = :d"
                    " GROUP BY rule_code"
                ),
                {"d": day},
            ).all()
        }
        cached = int(c.scalar(text("SELECT COUNT(*) FROM bureau_reports")) or 0)
    return WarningDay(day, hits, cached - reports_before), cached


__all__ = [
    "BenchBureau",
    "WarningBook",
    "WarningDay",
    "bench_bureau",
    "build_warning_book",
    "render_warnings",
    "warning_figures",
]
