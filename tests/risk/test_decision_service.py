"""The decision service on a real database (SQLite and PostgreSQL): features gathered from
the tables as at decision time, decisions stored with their inputs and explained, replayed
identically, back-tested; and the anti-fraud checks biting on planted data."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from xindai.bench.decide import build_population
from xindai.bootstrap import bootstrap
from xindai.integrations.simulators.people import make_phone
from xindai.platform import Platform
from xindai.risk.backtest import backtest
from xindai.risk.blacklist_store import add_entry
from xindai.risk.bureau_cache import cached_report
from xindai.risk.decision import APPROVE, REJECT, REVIEW
from xindai.risk.default_strategy import default_strategy_graph
from xindai.risk.engine.store import record
from xindai.risk.features import Gathered, gather, plain
from xindai.risk.pending import decide_all_pending, pending_ids
from xindai.risk.service import DecisionNotFound
from xindai.security import audit
from xindai.settings import Settings
from xindai.store import repository as repo
from xindai.store.models import Borrower
from xindai.store.models_origination import Application, DecisionRecord
from xindai.store.models_risk import ReviewTask

NOW = datetime(2026, 11, 28, 10, 0, 0)
SEED = 3


@pytest.fixture
def platform(session_factory: sessionmaker[Session], settings: Settings) -> Platform:
    built = Platform.from_settings(settings, sessions=session_factory, clock=lambda: NOW)
    bootstrap(session_factory, cipher=built.cipher, today=NOW.date())
    with session_factory.begin() as session:
        repo.set_business_date(session, NOW.date())
    return built


def _gathered_alone(
    platform: Platform, session: Session, application: Application, borrower: Borrower
) -> Gathered:
    """The application's features gathered on their own at NOW, from its cached report."""
    service = platform.decisions
    product = service.product(session, application.product_code, application.product_version)
    report = cached_report(session, platform.cipher, borrower.id_number_hash or "", NOW, 30)
    assert report is not None and report.source == "cache"
    return gather(
        session,
        application,
        borrower=borrower,
        product=product,
        as_of=NOW,
        today=NOW.date(),
        bureau_report=report.report,
        anomaly_model=service.anomaly_model,
    )


def _application(session: Session, application_id: int) -> Application:
    found = session.get(Application, application_id)
    assert found is not None
    return found


def test_every_application_is_decided_stored_explained_and_replayed(platform: Platform) -> None:
    population = build_population(platform, 40, seed=SEED, now=NOW)
    service = platform.decisions
    outcomes = Counter(service.decide_pending(a).outcome for a in population.applications)
    assert sum(outcomes.values()) == 40 and set(outcomes) <= {APPROVE, REVIEW, REJECT}
    assert len(outcomes) >= 2  # the population is mixed, not all one way
    with platform.sessions() as session:
        for application_id in population.applications:
            application = _application(session, application_id)
            rows = session.scalars(
                select(DecisionRecord).where(DecisionRecord.application_id == application_id)
            ).all()
            assert len(rows) == 1 and rows[0].path == "engine" and rows[0].inputs
            row = rows[0]
            assert row.strategy == "origination@v1" and row.model_version
            assert len(json.loads(row.customer_reasons)) <= 4
            detail = json.loads(row.detail)
            assert detail["fired"] and "features" in detail["timings_us"]
            assert detail["bureau"]["source"] == "cache"
            task = session.get(ReviewTask, application_id)
            if row.outcome == APPROVE:
                assert application.status == "approved" and task is None
                assert application.approved_amount_fen == row.approved_amount_fen > 0
                assert application.offered_rate == row.rate
                assert Decimal(application.offered_rate) <= Decimal("0.24")
            elif row.outcome == REVIEW:
                assert application.status == "review" and task is not None
                assert task.due_at == NOW + timedelta(minutes=120)
            else:
                assert application.status == "rejected" and json.loads(row.reasons)
    # replaying a stored decision gives the same decision
    for application_id in population.applications:
        stored, replayed, differences = service.replay(application_id)
        assert differences == [], (application_id, differences)
        assert replayed.outcome == stored.outcome and replayed.score == stored.score
    explained = service.explain(population.applications[0])
    assert explained["decisions"][0]["inputs"]["features"]["kyc_passed"] is True
    with pytest.raises(DecisionNotFound):
        service.decide_pending(population.applications[0])  # already decided
    with pytest.raises(DecisionNotFound):
        service.explain(999_999)


def test_a_group_is_decided_exactly_as_each_application_alone(platform: Platform) -> None:
    """Deciding pending applications as a group (one transaction, the features of all read
    together) stores for each the features it gets when gathered on its own, writes the
    outcomes, queues and audits the referrals — and leaves out what is not pending."""
    population = build_population(platform, 48, seed=SEED + 7, now=NOW)
    service = platform.decisions
    decided: dict[int, Any] = {}
    ids = population.applications
    for first in range(0, len(ids), 16):
        decided.update(service.decide_pending_many([*ids[first : first + 16], 999_999]))
    assert sorted(decided) == sorted(ids)  # the unknown id is simply not decided
    assert service.decide_pending_many(ids[:5]) == {}  # nothing left pending
    with platform.sessions() as session:
        for application_id in ids:
            application = _application(session, application_id)
            borrower = session.get(Borrower, application.borrower_id)
            assert borrower is not None
            row = session.scalars(
                select(DecisionRecord).where(DecisionRecord.application_id == application_id)
            ).one()
            alone = _gathered_alone(platform, session, application, borrower)
            stored = json.loads(row.inputs)
            assert stored["features"] == json.loads(json.dumps(plain(alone.features)))
            assert stored["scorecard_inputs"] == json.loads(
                json.dumps(plain(alone.scorecard_inputs))
            )
            assert row.outcome == decided[application_id].outcome
            expected_status = {APPROVE: "approved", REJECT: "rejected", REVIEW: "review"}
            assert application.status == expected_status[row.outcome]
            task = session.get(ReviewTask, application_id)
            assert (task is not None) == (row.outcome == REVIEW)
            if task is not None:
                assert json.loads(task.reasons) == list(decided[application_id].reason_codes)
                assert audit.events_for(session, "application", application_id)[0].action == (
                    "review.enqueue"
                )
    for application_id in ids[:6]:
        assert service.replay(application_id)[2] == []


def test_one_bad_application_holds_up_no_one_in_a_run_of_pending_decisions(
    platform: Platform,
) -> None:
    population = build_population(platform, 12, seed=SEED + 8, now=NOW)
    broken = population.applications[5]
    with platform.sessions.begin() as session:
        _application(session, broken).product_version = 99  # a version that does not exist
    progress: list[tuple[int, int]] = []
    run = decide_all_pending(
        platform.decisions, group=8, progress=lambda done, total: progress.append((done, total))
    )
    assert run.decided == 11 and list(run.failed) == [broken]
    assert "NOT_FOUND" in run.failed[broken] and "v99" in run.failed[broken]
    assert progress == [(8, 12), (12, 12)]
    assert pending_ids(platform.decisions) == [broken]  # still waiting, nothing half-done
    with platform.sessions() as session:
        assert (
            session.scalars(
                select(DecisionRecord).where(DecisionRecord.application_id == broken)
            ).all()
            == []
        )


def test_backtest_compares_a_stricter_candidate_with_the_live_version(
    platform: Platform,
) -> None:
    population = build_population(platform, 60, seed=SEED + 1, now=NOW)
    service = platform.decisions
    for application_id in population.applications:
        service.decide_pending(application_id)
    stricter = default_strategy_graph()
    for node in stricter["nodes"]:
        for rule in node.get("content", {}).get("rules", []):
            for key, cell in list(rule.items()):
                if cell == "< 520":
                    rule[key] = "< 580"  # reject far more by score
    with platform.sessions.begin() as session:
        registry = service.registry(session)
        _, candidate, event = registry.create(stricter, actor="risk", at="2026-11-28T11:00")
        record(session, event, candidate)
    with platform.sessions() as session:
        live = service.registry(session).version(1)
        report = backtest(
            session, candidate=candidate, live=live, start=NOW.date(), end=NOW.date(), workers=1
        )
        same = backtest(session, candidate=live, live=live, start=NOW.date(), end=NOW.date())
        none = backtest(
            session,
            candidate=live,
            live=live,
            start=NOW.date() - timedelta(days=9),
            end=NOW.date() - timedelta(days=8),
        )
    assert report.applications == 60 and none.applications == 0
    assert report.candidate.rate(REJECT) > report.live.rate(REJECT)
    assert report.candidate.rate(APPROVE) <= report.live.rate(APPROVE)
    assert all(
        live_out != REJECT for (live_out, cand), n in report.swaps.items() if live_out != cand
    )
    # the live version over its own decisions reproduces them: no swaps
    assert all(a == b for (a, b) in same.swaps)
    assert same.live.to_json() == same.candidate.to_json() | {"label": same.live.label}
    stored = Counter()
    with platform.sessions() as session:
        for row in session.scalars(select(DecisionRecord.outcome)):
            stored[row] += 1
    assert dict(same.live.outcomes) == dict(stored)


def _pending_of(platform: Platform, application_id: int) -> tuple[Application, Borrower]:
    with platform.sessions() as session:
        application = _application(session, application_id)
        borrower = session.get(Borrower, application.borrower_id)
        assert borrower is not None
        session.expunge_all()
        return application, borrower


def test_planted_fraud_signals_are_features_and_reasons(platform: Platform) -> None:
    population = build_population(platform, 12, seed=SEED + 2, now=NOW)
    service = platform.decisions
    first, second, third = population.applications[:3]
    # 1. the first applicant's phone goes on the blacklist (before the decision)
    with platform.sessions.begin() as session:
        application = _application(session, first)
        phone = make_phone(f"bench-{SEED + 2}-{application.borrower_id - 1}")
        add_entry(
            session,
            platform.cipher,
            kind="phone",
            value=phone,
            reason="fraud report",
            actor="risk",
            now=NOW - timedelta(days=1),
        )
    decision = service.decide_pending(first)
    assert decision.outcome == REJECT and "AF_BLACKLIST" in decision.reason_codes
    assert decision.inputs["blacklist_phone_hit"] is True
    # 2. the second applicant applied four more times in the last day; one more application
    #    made after the decision time is not seen
    with platform.sessions.begin() as session:
        application = _application(session, second)
        copy = {
            c.name: getattr(application, c.name)
            for c in Application.__table__.columns
            if c.name != "id"
        }
        rows = [
            {**copy, "status": "rejected", "created_at": NOW - timedelta(hours=h)}
            for h in (1, 2, 3, 4)
        ]
        rows.append({**copy, "status": "rejected", "created_at": NOW + timedelta(hours=1)})
        session.execute(insert(Application), rows)
    decision = service.decide_pending(second)
    assert decision.inputs["velocity_id_24h"] == 5  # four earlier and itself
    assert decision.outcome == REJECT and "AF_VELOCITY_ID" in decision.reason_codes
    # 3. features are read as at the decision time, from the database
    application, borrower = _pending_of(platform, third)
    with platform.sessions() as session:
        gathered = _gathered_alone(platform, session, application, borrower)
        too_old = cached_report(
            session, platform.cipher, borrower.id_number_hash or "", NOW + timedelta(days=60), 30
        )
    features = gathered.features
    assert features["kyc_passed"] and features["card_verified"] and features["contacts_count"] == 2
    assert features["bureau_report_available"] is True and features["anomaly_scored"] is True
    assert 0.0 <= features["anomaly_score"] <= 1.0
    assert features["graph_applicants_1hop"] >= 1  # contacts are other borrowers' phones
    assert gathered.scorecard_inputs["requested_amount"] == application.amount_fen / 100
    assert too_old is None  # the cache keeps a report for 30 days


def test_without_the_bureau_nobody_is_approved_automatically(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    """The bureau cannot be reached and nothing is cached: decisions still come, none of
    them an automatic approval (review with BU_UNAVAILABLE instead)."""
    from sqlalchemy import delete

    from xindai.store.models_risk import BureauReportCache

    offline = settings.model_copy(update={"providers_url": "http://127.0.0.1:9"})
    platform = Platform.from_settings(offline, sessions=session_factory, clock=lambda: NOW)
    bootstrap(session_factory, cipher=platform.cipher, today=NOW.date())
    population = build_population(platform, 10, seed=SEED + 3, now=NOW)
    with session_factory.begin() as session:
        session.execute(delete(BureauReportCache))
    decisions = [platform.decisions.decide_pending(a) for a in population.applications]
    assert not any(d.outcome == APPROVE for d in decisions)
    assert all(d.outcome == REJECT or "BU_UNAVAILABLE" in d.reason_codes for d in decisions)
    with session_factory() as session:
        details = [json.loads(d) for d in session.scalars(select(DecisionRecord.detail))]
    assert {d["bureau"]["source"] for d in details} == {"unavailable"}


def test_the_scorecard_is_a_configured_artifact(
    session_factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    from xindai.errors import InvalidValue
    from xindai.risk.scorecard.default_model import DEFAULT_MODEL_PATH, load_default_model
    from xindai.risk.service import DecisionService

    copy = tmp_path / "model.json"
    copy.write_text(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    configured = settings.model_copy(update={"scorecard_model": str(copy)})
    platform = Platform.from_settings(configured, sessions=session_factory, clock=lambda: NOW)
    assert DecisionService(platform).scorer.version == load_default_model().version
    missing = settings.model_copy(update={"scorecard_model": str(tmp_path / "nope.json")})
    with pytest.raises(InvalidValue, match="scorecard_model"):
        DecisionService(Platform.from_settings(missing, sessions=session_factory))


def test_backtest_workers_read_their_own_rows_and_agree_with_one_process(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker processes (spawned, each reading its id ranges) give the same report as one
    process; a period of a few hundred applications is split into several chunks."""
    import xindai.risk.backtest as bt
    from xindai.store.db import transaction

    population = build_population(platform, 90, seed=SEED + 4, now=NOW)
    for application_id in population.applications:
        platform.decisions.decide_pending(application_id)
    with platform.sessions.begin() as session:
        registry = platform.decisions.registry(session)
        _, candidate, event = registry.create(
            default_strategy_graph() | {"notes": "v2"}, actor="risk", at="2026-11-28T12:00"
        )
        record(session, event, candidate)
    monkeypatch.setattr(bt, "IN_PROCESS_BELOW", 0)
    monkeypatch.setattr(bt, "CHUNK", 25)
    with transaction(platform.sessions, read_only=True) as session:
        live = platform.decisions.registry(session).version(1)
        ranges, count = bt.id_ranges(session, NOW.date(), NOW.date(), 25)
        one = bt.backtest(
            session, candidate=candidate, live=live, start=NOW.date(), end=NOW.date(), workers=1
        )
        two = bt.backtest(
            session, candidate=candidate, live=live, start=NOW.date(), end=NOW.date(), workers=2
        )
    assert count == 90 and len(ranges) == 4 and ranges[0][0] <= ranges[-1][1]
    assert one.workers == 1 and two.workers == 2
    assert two.to_json()["candidate"] == one.to_json()["candidate"]
    assert two.to_json()["live"] == one.to_json()["live"]
    assert dict(two.swaps) == dict(one.swaps) and two.applications == 90
