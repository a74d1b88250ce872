"""`xindai bench decide`: the full credit decision of the default strategy, measured.

A synthetic population is loaded into a fresh database first — borrowers with encrypted
identities, phones, devices (some shared), emergency contacts that link borrowers into a
graph (with a few rings), settled and overdue loans for the reloan ladder, blacklist entries,
earlier applications for the velocity counters, and a cached credit report per person. Then
each application is decided as the journey decides it: one transaction that gathers the
features from the database, reads the cached bureau report, runs anti-fraud, the scorecard,
the strategy graph, pricing and limit, and stores the decision. Finally the stored decisions
are back-tested.
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from xindai.bootstrap import bootstrap
from xindai.integrations.simulators.bureau import simulated_report
from xindai.integrations.simulators.people import make_id_number, make_phone
from xindai.integrations.wire import bureau_report_to_json
from xindai.platform import Platform
from xindai.risk.pending import DEFAULT_GROUP
from xindai.security.pii import mask_phone
from xindai.settings import Settings
from xindai.store import repository as repo
from xindai.store.db import background_checkpoints, make_engine, session_factory
from xindai.store.migrate import upgrade
from xindai.store.models import Borrower, Loan
from xindai.store.models_origination import Application, BankCard, Contact
from xindai.store.models_risk import BlacklistRecord, BureauReportCache, IdentityLink

PRODUCTS = (("CASH14", 14, (50_000, 300_000)), ("INST12", 12, (100_000, 2_000_000)))
EMPLOYMENT = ("salaried", "salaried", "salaried", "self_employed", "freelance", "student")
EDUCATION = ("high_school", "college", "bachelor", "bachelor", "master", None)
CITIES = ("北京", "成都", "洛阳", "上海", "南宁", "绵阳", "安宁县", None)


@dataclass
class Population:
    borrowers: int
    applications: list[int]  # ids waiting for a decision, in order
    seconds: float


@dataclass
class DecideBenchResult:
    decisions: int
    seconds: float
    latencies_ms: list[float]  # each decision's, to its group's commit
    outcomes: Counter[str]
    stage_us: dict[str, float]
    population: Population
    backtest: dict[str, Any] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.decisions / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def build_population(
    platform: Platform, applications: int, *, seed: int = 7, now: datetime
) -> Population:
    """Load borrowers and everything the features read, plus `applications` applications in
    `deciding` (one per borrower), with bulk inserts."""
    started = time.perf_counter()
    rng = random.Random(seed)
    cipher = platform.cipher
    n = applications
    today = now.date()
    phones = _unique(make_phone, seed, n)
    ids = _unique(make_id_number, seed, n)
    # one phone per person; 2 % share a device with someone (a family, or a fraud farm)
    devices = [
        f"dev-{seed}-{rng.randrange(n // 50 + 1)}-shared"
        if rng.random() < 0.02
        else f"dev-{seed}-{i}"
        for i in range(n)
    ]
    borrowers, links, contacts, cards, loans, cache, earlier = [], [], [], [], [], [], []
    phone_hash = [cipher.lookup_hash("phone", p) for p in phones]
    seen = now - timedelta(days=400)
    report_text: dict[str, str] = {}
    for i in range(n):
        bid = i + 1
        id_hash = cipher.lookup_hash("id_number", ids[i])
        born = date(int(ids[i][6:10]), int(ids[i][10:12]), int(ids[i][12:14]))
        borrowers.append(
            {
                "id": bid,
                "display_name": mask_phone(phones[i]),
                "created_on": today - timedelta(days=rng.randrange(400)),
                "mobile_hash": phone_hash[i],
                "mobile_enc": cipher.encrypt("phone", phones[i]),
                "name_enc": cipher.encrypt("name", f"测试{i}"),
                "id_number_hash": id_hash,
                "id_number_enc": cipher.encrypt("id_number", ids[i]),
                "birth_date": born,
                "kyc_status": "verified",
                "liveness_passed": True,
            }
        )
        first = seen + timedelta(days=rng.randrange(399))
        links.append(
            {
                "value_hash": phone_hash[i],
                "borrower_id": bid,
                "link": "own_phone",
                "first_seen_at": first,
            }
        )
        # two contacts: mostly people who never borrowed; one in five is another borrower
        friends = {rng.randrange(n) for _ in range(2) if rng.random() < 0.2} - {i}
        if i % 100 == 0 and i + 2 < n:  # now and then a ring of three listing each other
            friends = {i + 1, i + 2}
        for seq, friend in enumerate(sorted(friends), start=1):
            contact_hash = phone_hash[friend]
            contacts.append(
                {
                    "borrower_id": bid,
                    "seq": seq,
                    "name_enc": cipher.encrypt("name", "联系人"),
                    "phone_enc": cipher.encrypt("phone", phones[friend]),
                    "phone_hash": contact_hash,
                    "relation": "friend",
                }
            )
            links.append(
                {
                    "value_hash": contact_hash,
                    "borrower_id": bid,
                    "link": "contact_phone",
                    "first_seen_at": first,
                }
            )
        for seq in range(len(friends) + 1, 3):  # the rest: people who never borrowed
            extra = make_phone(f"stranger-{seed}-{i}-{seq}")
            contacts.append(
                {
                    "borrower_id": bid,
                    "seq": seq,
                    "name_enc": cipher.encrypt("name", "联系人"),
                    "phone_enc": cipher.encrypt("phone", extra),
                    "phone_hash": cipher.lookup_hash("phone", extra),
                    "relation": "friend",
                }
            )
            links.append(
                {
                    "value_hash": contacts[-1]["phone_hash"],
                    "borrower_id": bid,
                    "link": "contact_phone",
                    "first_seen_at": first,
                }
            )
        cards.append(
            {
                "id": bid,
                "borrower_id": bid,
                "card_hash": cipher.lookup_hash("card", f"62{i:017d}"),
                "card_enc": cipher.encrypt("card", f"62{i:017d}"),
                "last4": f"{i % 10000:04d}",
                "bank_code": "ICBC",
                "bank_name": "工商银行",
                "phone_enc": borrowers[-1]["mobile_enc"],
                "status": "verified",
                "created_at": first,
            }
        )
        # history with us: 30 % have settled loans, 4 % an overdue loan now
        if rng.random() < 0.30:
            for k in range(rng.randrange(1, 4)):
                days = rng.choice((0, 0, 0, 0, 0, 1, 2, 3, 5, 8, 12, 25))
                loans.append(_loan(bid, "settled", days, today, k))
        if rng.random() < 0.04:
            loans.append(_loan(bid, "overdue", rng.randrange(1, 60), today, 9))
        report = simulated_report(ids[i], today - timedelta(days=rng.randrange(20)))
        text = json.dumps(bureau_report_to_json(report), ensure_ascii=False)
        report_text[id_hash] = text
        cache.append(
            {
                "id_number_hash": id_hash,
                "fetched_at": now - timedelta(days=rng.randrange(20)),
                "report_enc": cipher.encrypt("bureau", text),
            }
        )
    apps = []
    for i in range(n):
        code, term, (low, high) = PRODUCTS[i % 2]
        amount = rng.randrange(low // 50_000, high // 50_000 + 1) * 50_000
        device_hash = cipher.lookup_hash("device", devices[i])
        links.append(
            {
                "value_hash": device_hash,
                "borrower_id": i + 1,
                "link": "device",
                "first_seen_at": now - timedelta(days=rng.randrange(1, 400)),
            }
        )
        ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
        row: dict[str, Any] = {
            "borrower_id": i + 1,
            "product_code": code,
            "product_version": 1,
            "amount_fen": amount,
            "term": term,
            "purpose": "consumption",
            "card_id": i + 1,
            "device_fingerprint": devices[i],
            "ip": ip,
            "status": "deciding",
            "annual_rate": "0.24",
            "apr": "0.24",
            "quote": "{}",
            "monthly_income_fen": None if rng.random() < 0.06 else rng.randrange(30, 300) * 10_000,
            "employment_type": rng.choice(EMPLOYMENT),
            "education": rng.choice(EDUCATION),
            "city": rng.choice(CITIES),
            "phonebook_count": None if rng.random() < 0.08 else rng.randrange(5, 600),
            "id_number_hash": borrowers[i]["id_number_hash"],
            "phone_hash": phone_hash[i],
            "device_hash": device_hash,
            "card_hash": cards[i]["card_hash"],
        }
        row["ip_hash"] = cipher.lookup_hash("ip", ip)
        if rng.random() < 0.2:  # an earlier application this week (velocity)
            earlier.append(
                {
                    **row,
                    "status": "rejected",
                    "created_at": now - timedelta(hours=rng.randrange(1, 160)),
                }
            )
        apps.append({**row, "created_at": now - timedelta(seconds=n - i)})
    blacklist = [
        {
            "kind": "phone",
            "value_hash": phone_hash[i],
            "value_masked": mask_phone(phones[i]),
            "reason": "bench: fraud report",
            "source": "manual",
            "created_by": "bench",
            "created_at": now - timedelta(days=30),
        }
        for i in rng.sample(range(n), max(1, n // 100))
    ]
    with platform.sessions.begin() as session:
        for model, rows in (
            (Borrower, borrowers),
            (IdentityLink, _unique_links(links)),
            (Contact, contacts),
            (BankCard, cards),
            (Loan, loans),
            (BureauReportCache, cache),
            (BlacklistRecord, blacklist),
            (Application, earlier),
        ):
            for start in range(0, len(rows), 5_000):
                session.execute(insert(model), rows[start : start + 5_000])
        ids_out: list[int] = []
        for start in range(0, len(apps), 5_000):
            result = session.execute(
                insert(Application).returning(Application.id), apps[start : start + 5_000]
            )
            ids_out.extend(result.scalars().all())
    return Population(n, sorted(ids_out), time.perf_counter() - started)


def _unique(make: Callable[[str], str], seed: int, n: int) -> list[str]:
    """`n` distinct made-up identifiers (a collision draws again with another salt)."""
    seen: set[str] = set()
    out: list[str] = []
    for i in range(n):
        salt = 0
        value = make(f"bench-{seed}-{i}")
        while value in seen:
            salt += 1
            value = make(f"bench-{seed}-{i}-{salt}")
        seen.add(value)
        out.append(value)
    return out


def _unique_links(links: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[tuple[str, int, str], dict[str, Any]] = {}
    for link in links:
        key = (link["value_hash"], link["borrower_id"], link["link"])
        if key not in seen or link["first_seen_at"] < seen[key]["first_seen_at"]:
            seen[key] = link
    return list(seen.values())


def _loan(borrower_id: int, status: str, max_dpd: int, today: date, k: int) -> dict[str, Any]:
    booked = today - timedelta(days=400 - 60 * k)
    return {
        "borrower_id": borrower_id,
        "product_code": "CASH14",
        "product_version": 1,
        "status": status,
        "principal_fen": 100_000,
        "annual_rate": "0.24",
        "term": 14,
        "booked_on": booked,
        "disbursed_on": booked,
        "closed_on": booked + timedelta(days=14 + max_dpd) if status == "settled" else None,
        "principal_outstanding_fen": 100_000 if status == "overdue" else 0,
        "dpd": max_dpd if status == "overdue" else 0,
        "max_dpd": max_dpd,
    }


def run_decide_bench(
    applications: int,
    *,
    database: str | None = None,
    seed: int = 7,
    workers: int = 2,
    group: int = DEFAULT_GROUP,
    progress: Callable[[str, int, int], None] | None = None,
) -> DecideBenchResult:
    """Load the population into `database` (default: a fresh SQLite file), decide every
    application — `group` at a time, one transaction per group (1: one transaction per
    application, as the borrower's request decides it) — then back-test the stored
    decisions."""
    with tempfile.TemporaryDirectory(prefix="xindai-bench-decide-") as folder:
        url = database or f"sqlite:///{Path(folder) / 'decide.db'}"
        upgrade(url)
        settings = Settings(database_url=url, data_dir=Path(folder))
        now = datetime(2026, 11, 28, 10, 0, 0)
        sessions = session_factory(make_engine(url))
        platform = Platform.from_settings(settings, sessions=sessions, clock=lambda: now)
        bootstrap(sessions, cipher=platform.cipher, today=now.date())
        with sessions.begin() as session:
            repo.set_business_date(session, now.date())
        population = build_population(platform, applications, seed=seed, now=now)
        service = platform.decisions
        service.decide_pending(population.applications[0])  # compile and warm the caches
        gc.collect()
        gc.freeze()  # what is loaded stays: the collector then walks only new objects
        latencies: list[float] = []
        outcomes: Counter[str] = Counter()
        stages: dict[str, float] = {}
        waiting = population.applications[1:]
        with background_checkpoints(sessions.kw["bind"]):
            started = time.perf_counter()
            for first in range(0, len(waiting), group):
                ids = waiting[first : first + group]
                began = time.perf_counter()
                decided = service.decide_pending_many(ids)
                # a decision is done when its group commits: each counts the group's whole time
                latencies.extend([(time.perf_counter() - began) * 1000] * len(decided))
                for decision in decided.values():
                    outcomes[decision.outcome] += 1
                    for stage, micros in decision.timings_us.items():
                        stages[stage] = stages.get(stage, 0.0) + micros
                if progress is not None:
                    progress("decide", first + len(ids), len(waiting))
            seconds = time.perf_counter() - started
        count = len(latencies)
        result = DecideBenchResult(
            decisions=count,
            seconds=seconds,
            latencies_ms=latencies,
            outcomes=outcomes,
            stage_us={k: v / count for k, v in stages.items()} if count else {},
            population=population,
        )
        from xindai.risk.backtest import backtest
        from xindai.risk.engine.store import record

        with sessions.begin() as session:  # a candidate version: the score cut-off raised
            registry = service.registry(session)
            _, candidate, event = registry.create(
                stricter_graph(), actor="bench", at=now.isoformat(), notes="bench candidate"
            )
            record(session, event, candidate)
        with sessions() as session:
            registry = service.registry(session)
            live = registry.version(registry.champion or 1)
            report = backtest(
                session,
                candidate=candidate,
                live=live,
                start=now.date(),
                end=now.date(),
                workers=workers,
            )
        result.backtest = report.to_json()
        sessions.kw["bind"].dispose()
        return result


def stricter_graph() -> dict[str, Any]:
    """The default strategy with its reject cut-off raised from 520 to 545 points."""
    from xindai.risk.default_strategy import default_strategy_graph

    graph = default_strategy_graph()
    for node in graph["nodes"]:
        for rule in node.get("content", {}).get("rules", []):
            for key, cell in list(rule.items()):
                if cell == "< 520":
                    rule[key] = "< 545"
                elif cell == "[520..560)":
                    rule[key] = "[545..560)"
    return graph


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0
