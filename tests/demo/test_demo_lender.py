"""The demo lender: a small one (three months, a few hundred loans) built through the
real services and a real simulator process; its collection teams work their cases; its
ledger balances and the channel's statements agree with the journal; `xindai demo start`
reuses it, serves it, and every role's demo login works against the server it started;
Ctrl+C stops the children."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from xindai.collections.allocation import commission_fen
from xindai.demo.build import DemoBuilt, build_demo_lender, demo_built
from xindai.demo.lender import DemoSize
from xindai.demo.people import AGENT_CHANNEL, market
from xindai.demo.stack import DemoStart, needs_build, refuse_beyond_loopback
from xindai.demo.staff import DEMO_LOGINS
from xindai.errors import InvalidValue
from xindai.integrations.simulators.config import DEFAULT_SECRET, SimulatorConfig
from xindai.integrations.simulators.control import statement_rows
from xindai.integrations.simulators.process import SimulatorProcess
from xindai.ledger.reconcile import reference_breaks
from xindai.ledger.reports import trial_balance
from xindai.origination.payments import CHANNEL
from xindai.settings import sqlite_url
from xindai.store import repository as repo
from xindai.store.db import make_engine, session_factory
from xindai.store.models import Borrower, Loan, LoanSnapshot

pytestmark = pytest.mark.e2e
SIZE = DemoSize(months=3, loans=400, seed=5)  # long enough for cases to age, break and recover
END = date(2026, 11, 30)
NIGHTS = 92  # close of business from 2026-08-30 to 2026-11-29


@dataclass
class Demo:
    data_dir: Path
    database_url: str
    sim: SimulatorProcess
    built: DemoBuilt


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    data_dir = tmp_path_factory.mktemp("demo-data")
    options = DemoStart(data_dir=data_dir, size=SIZE, end=END)
    options.folder.mkdir(parents=True)
    with SimulatorProcess(SimulatorConfig(secret=DEFAULT_SECRET, callback_delay_ms=20)) as sim:
        built = build_demo_lender(
            options.database_url,
            sim_url=sim.base_url,
            sim_secret=DEFAULT_SECRET,
            size=SIZE,
            end=END,
            data_dir=options.folder,
        )
        yield Demo(data_dir, options.database_url, sim, built)


def scalar(demo: Demo, sql: str) -> int:
    engine = make_engine(demo.database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(sql)).scalar() or 0)
    finally:
        engine.dispose()


def test_the_market_is_the_same_for_the_same_seed() -> None:
    first, again, other = market(50, 30, seed=5), market(50, 30, seed=5), market(50, 30, seed=6)
    assert first == again and first != other
    assert len({p.phone for p in first}) == len({p.id_number for p in first}) == 50
    assert {p.channel for p in market(400, 30, seed=5)} >= {AGENT_CHANNEL, "app_store"}


def test_a_month_of_business_leaves_every_kind_of_record(demo: Demo) -> None:
    built = demo.built
    assert (built.start, built.end) == ("2026-08-30", "2026-11-30")
    assert built.counts["loans"] >= 150 and built.counts["borrowers"] > built.counts["loans"] / 2
    engine = make_engine(demo.database_url)
    try:
        with session_factory(engine)() as session:
            assert repo.get_business_date(session) == END
            statuses = dict(
                session.execute(select(Loan.status, func.count()).group_by(Loan.status)).all()
            )
            channels = set(session.scalars(select(Borrower.channel).distinct()))
            snapshot_days = session.scalar(
                select(func.count(func.distinct(LoanSnapshot.business_date)))
            )
    finally:
        engine.dispose()
    assert statuses.get("active", 0) > 0 and statuses.get("settled", 0) > 0
    assert AGENT_CHANNEL in channels and len(channels) >= 4
    assert (
        snapshot_days >= NIGHTS - 1
    )  # every night's close of business took its snapshot (once there were loans)
    assert scalar(demo, "SELECT COUNT(*) FROM cob_step_runs WHERE step = 'snapshot'") == NIGHTS
    # the live strategy approved, rejected and referred; the reviewers decided
    assert scalar(demo, "SELECT COUNT(*) FROM decisions WHERE outcome = 'reject'") > 0
    assert scalar(demo, "SELECT COUNT(*) FROM decisions WHERE path = 'manual_review'") > 0
    # money through the channel: payouts, collections by the borrower and by 代扣, failures
    assert scalar(demo, "SELECT COUNT(*) FROM payouts WHERE status = 'succeeded'") >= 60
    assert scalar(demo, "SELECT COUNT(*) FROM payouts WHERE status = 'failed'") > 0
    assert (
        scalar(
            demo, "SELECT COUNT(*) FROM withholdings WHERE origin = 'auto' AND status = 'succeeded'"
        )
        > 0
    )
    assert scalar(demo, "SELECT COUNT(*) FROM withholdings WHERE origin = 'borrower'") > 0
    assert scalar(demo, "SELECT COUNT(*) FROM withholdings WHERE status = 'failed'") > 0
    assert scalar(demo, "SELECT COUNT(*) FROM withholdings WHERE status = 'requested'") == 0
    assert scalar(demo, "SELECT COUNT(*) FROM cob_step_runs WHERE step = 'withholding'") == NIGHTS
    assert scalar(demo, "SELECT COUNT(*) FROM approval_requests") > 0  # servicing requests
    assert scalar(demo, "SELECT COUNT(*) FROM credit_lines") > 0
    assert scalar(demo, "SELECT COUNT(*) FROM staff_users") == len(DEMO_LOGINS)


def test_the_collection_teams_work_their_cases(demo: Demo) -> None:
    """Close of business ran the collection steps every night; the reminders it queued
    went out after the quiet hours; cases opened and closed; the collectors called in three
    dimensions within their hours and the guardrails' caps, promised, kept and broke, sent
    SMS from templates approved by a second person, offered a waiver that finance approved;
    a case was placed with an agency and what it recovered earned its commission."""
    for step in ("reminders", "cases", "allocate"):
        runs = f"SELECT COUNT(*) FROM cob_step_runs WHERE step = '{step}'"
        assert scalar(demo, runs) == NIGHTS, step
    assert scalar(demo, "SELECT COUNT(*) FROM collection_reminders WHERE status = 'delivered'") > 0
    assert scalar(demo, "SELECT COUNT(*) FROM collection_reminders WHERE status = 'queued'") == 0
    quiet = (
        "SELECT COUNT(*) FROM collection_reminders WHERE sent_at IS NOT NULL"
        " AND (time(sent_at) < '08:00' OR time(sent_at) >= '22:00')"
    )
    assert scalar(demo, quiet) == 0  # sent in the morning, not by the night's close of business
    assert scalar(demo, "SELECT COUNT(*) FROM collection_cases WHERE status = 'closed'") > 0
    assert scalar(demo, "SELECT COUNT(*) FROM collection_cases WHERE quadrant IS NOT NULL") > 0
    calls = "SELECT COUNT(*) FROM collection_actions WHERE kind = 'call'"
    assert scalar(demo, calls + " AND connection = 'connected' AND party = 'self'") > 0
    assert scalar(demo, calls + " AND connection <> 'connected'") > 0
    assert scalar(demo, calls + " AND (time(at) < '09:00' OR time(at) >= '18:00')") == 0
    assert scalar(demo, "SELECT COUNT(DISTINCT actor) FROM collection_actions") >= 3
    over_cap = (
        "SELECT COUNT(*) FROM (SELECT borrower_id FROM collection_actions WHERE kind = 'call'"
        " AND connection = 'connected' GROUP BY borrower_id, local_day HAVING COUNT(*) > 3)"
    )
    assert scalar(demo, over_cap) == 0
    for status in ("kept", "broken"):
        promises = f"SELECT COUNT(*) FROM collection_promises WHERE status = '{status}'"
        assert scalar(demo, promises) > 0, status
    requeued = "SELECT COUNT(*) FROM collection_assignments WHERE reason = 'broken_promise'"
    assert scalar(demo, requeued) > 0
    approved_by_another = (
        "SELECT COUNT(*) FROM sms_templates WHERE purpose = 'collection' AND status = 'approved'"
        " AND created_by = 'ops' AND decided_by = 'collect_lead'"
    )
    assert scalar(demo, approved_by_another) == 2
    sent = "SELECT COUNT(*) FROM collection_actions WHERE kind = 'sms' AND sms_status = 'sent'"
    assert scalar(demo, sent) > 0
    offers = (
        "SELECT COUNT(*) FROM approval_requests r JOIN collection_actions a"
        " ON a.kind = 'offer' AND a.loan_id = r.loan_id AND a.actor = r.requested_by"
        " WHERE r.status = 'approved' AND r.decided_by = 'finance'"
    )
    assert scalar(demo, offers) > 0
    placed = "SELECT COUNT(*) FROM collection_placements p JOIN collection_agencies g"
    assert scalar(demo, placed + " ON g.id = p.agency_id") > 0
    engine = make_engine(demo.database_url)
    try:
        with engine.connect() as connection:
            recovered = connection.execute(
                text(
                    "SELECT recovered_fen, commission_rate, commission_fen FROM"
                    " collection_placements WHERE recovered_fen > 0 AND status <> 'active'"
                )
            ).all()
    finally:
        engine.dispose()
    assert recovered
    for fen, rate, commission in recovered:
        assert commission == commission_fen(int(fen), str(rate)) > 0


def test_the_ledger_balances_and_the_channel_agrees_with_the_journal(demo: Demo) -> None:
    rows = statement_rows(demo.sim.base_url, DEFAULT_SECRET)
    engine = make_engine(demo.database_url)
    try:
        with session_factory(engine)() as session:
            assert trial_balance(session, END).balanced
            assert reference_breaks(session, rows, CHANNEL) == []
    finally:
        engine.dispose()
    assert len(rows) >= scalar(demo, "SELECT COUNT(*) FROM payouts WHERE status = 'succeeded'")


def test_worker_processes_build_the_same_kind_of_lender(tmp_path: Path, database_url: str) -> None:
    """The people's side of each day split over two processes (what `demo start` does on
    a machine with two cores), the channel's callbacks taken by processes of their own: the
    books still balance and agree with the channel, and the records keep one clock."""
    url = database_url  # SQLite and PostgreSQL (contracts are rendered in read transactions)
    size = DemoSize(months=1, loans=40, seed=9)
    with SimulatorProcess(SimulatorConfig(secret=DEFAULT_SECRET, callback_delay_ms=20)) as sim:
        built = build_demo_lender(
            url,
            sim_url=sim.base_url,
            sim_secret=DEFAULT_SECRET,
            size=size,
            end=END,
            data_dir=tmp_path,
            workers=2,
        )
        rows = statement_rows(sim.base_url, DEFAULT_SECRET)
    assert built.counts["loans"] >= 20
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            assert trial_balance(session, END).balanced
            assert reference_breaks(session, rows, CHANNEL) == []
            borrowers = session.scalar(select(func.count()).select_from(Borrower))
            # one clock for the workers and the processes the channel calls back: no payout
            # is paid before the worker that asked for it asked
            early = session.scalar(
                text("SELECT COUNT(*) FROM payouts WHERE settled_at < created_at")
            )
            payouts = session.scalar(text("SELECT COUNT(*) FROM payouts"))
    finally:
        engine.dispose()
    assert borrowers == built.counts["borrowers"]  # both shards' newcomers, each once
    assert payouts and early == 0


def test_a_complete_demo_is_reused_and_an_incomplete_one_rebuilt(
    demo: Demo, tmp_path: Path
) -> None:
    found = demo_built(demo.database_url)
    assert found == demo.built and found.matches(SIZE)
    options = DemoStart(data_dir=demo.data_dir, size=SIZE)
    assert needs_build(options)[0] is False
    assert needs_build(DemoStart(data_dir=demo.data_dir, size=SIZE, rebuild=True))[0] is True
    other = DemoStart(data_dir=demo.data_dir, size=DemoSize(6, 2000, 5), size_given=True)
    assert needs_build(other)[0] is True
    assert needs_build(DemoStart(data_dir=tmp_path))[2] == "no complete demo database yet"
    assert demo_built(sqlite_url(tmp_path / "missing.db")) is None


def test_the_demo_listens_on_loopback_only() -> None:
    refuse_beyond_loopback("127.0.0.1")
    with pytest.raises(InvalidValue, match="loopback"):
        refuse_beyond_loopback("0.0.0.0")


def test_demo_start_reuses_the_database_serves_it_and_every_role_signs_in(demo: Demo) -> None:
    env = {**os.environ, "XINDAI_DATA_DIR": str(demo.data_dir), "COLUMNS": "200"}
    for name in ("XINDAI_DATABASE_URL", "XINDAI_ADMIN_PASSWORD", "XINDAI_PROVIDERS_URL"):
        env.pop(name, None)
    log = demo.data_dir / "start.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from xindai.cli import main; main()", "demo", "start",
             "--port", "0", "--sim-port", "0"],
            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            base = _wait_for_console_url(process, log)
            printed = log.read_text()
            assert "reusing the demo database" in printed and "Building" not in printed
            for login in DEMO_LOGINS:
                assert login.username in printed and login.password in printed
            with httpx.Client(base_url=base, timeout=30) as client:
                for login in DEMO_LOGINS:
                    answer = client.post(
                        "/api/v1/admin/auth/login",
                        json={"username": login.username, "password": login.password},
                    )
                    assert answer.status_code == 200, (login.username, answer.text)
                    token = answer.json()["token"]
                    me = client.get(
                        "/api/v1/admin/me", headers={"Authorization": f"Bearer {token}"}
                    )
                    assert me.status_code == 200 and me.json()["role"] == login.role
                assert client.get("/health").json()["business_date"] == END.isoformat()
        finally:
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=30)
    assert code == 0, log.read_text()[-2000:]
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base}/health", timeout=2)


def _wait_for_console_url(process: subprocess.Popen[bytes], log: Path) -> str:
    import re

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = re.search(r"(http://127\.0\.0\.1:\d+)/admin/", log.read_text(errors="replace"))
        if found and "Demo logins" in log.read_text(errors="replace"):
            return found.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"demo start did not serve:\n{log.read_text()[-3000:]}")
