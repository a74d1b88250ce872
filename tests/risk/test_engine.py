"""The decision engine: immutable versions, compile-once, traces, registry and routing."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xindai.errors import InvalidValue
from xindai.risk.default_strategy import (
    REQUIRED_FEATURES,
    SAMPLE_APPLICANT,
    default_strategy_graph,
)
from xindai.risk.engine import (
    StrategyEngine,
    StrategyRegistry,
    StrategyVersion,
    challenger_bucket,
    route_version,
)
from xindai.risk.engine.registry import StrategyStateError
from xindai.risk.engine.zen import StrategyEvaluationError

AT = "2026-11-28T09:00:00"


def good_applicant(**changes):
    features = dict(SAMPLE_APPLICANT)
    features.update(changes)
    assert set(REQUIRED_FEATURES) <= set(features)
    return features


@pytest.fixture(scope="module")
def engine() -> StrategyEngine:
    return StrategyEngine()


@pytest.fixture(scope="module")
def default_version() -> StrategyVersion:
    return StrategyVersion.create(
        "origination", 1, default_strategy_graph(), created_by="risk", created_at=AT
    )


def run(engine, version, **changes):
    return engine.evaluate(version, good_applicant(**changes))


def test_good_applicant_is_approved_with_grade_terms(engine, default_version) -> None:
    result = run(engine, default_version)
    assert result.outputs["outcome"] == "approve"
    assert result.outputs["rejects"] == [] and result.outputs["reviews"] == []
    assert result.outputs["grade_terms"] == {
        "margin": "0.04",
        "lgd": "0.75",
        "limit_cap_fen": 1_000_000,
    }
    assert [f.rule_id for f in result.fired] == ["GRADE_B"]


@pytest.mark.parametrize(
    ("changes", "code", "outcome"),
    [
        ({"age": 17}, "AD_AGE_BELOW_MIN", "reject"),
        ({"age": 61}, "AD_AGE_ABOVE_MAX", "reject"),
        ({"id_valid": False}, "AD_ID_INVALID", "reject"),
        ({"kyc_passed": False}, "AD_KYC_INCOMPLETE", "reject"),
        ({"liveness_passed": False}, "AD_LIVENESS_FAILED", "reject"),
        ({"velocity_device_24h": 4}, "AF_VELOCITY_DEVICE", "reject"),
        ({"bureau_inquiries_1m": 11}, "BU_INQUIRIES", "review"),
        ({"graph_blacklisted_1hop": 1}, "AF_GRAPH_BLACKLIST", "review"),
        ({"graph_overdue_1hop": 3}, "AF_GRAPH_OVERDUE", "review"),
        ({"card_verified": False}, "AD_CARD_UNVERIFIED", "reject"),
        ({"contacts_count": 1}, "AD_CONTACTS_MISSING", "reject"),
        ({"region_blocked": True}, "AD_REGION", "reject"),
        ({"blacklist_hit_count": 1}, "AF_BLACKLIST", "reject"),
        ({"velocity_id_24h": 4}, "AF_VELOCITY_ID", "reject"),
        ({"velocity_ip_24h": 11}, "AF_VELOCITY_IP", "review"),
        ({"device_id_count": 4}, "AF_DEVICE_SHARED", "reject"),
        ({"multi_lender_open_count": 6}, "AF_MULTI_LENDER", "reject"),
        ({"multi_lender_open_count": 4}, "AF_MULTI_LENDER_HIGH", "review"),
        ({"bureau_max_overdue_days": 31}, "BU_OVERDUE", "reject"),
        ({"graph_ring": True}, "AF_RING", "review"),
        ({"anomaly_score": 0.9}, "AF_ANOMALY", "review"),
        ({"score": 519}, "SC_LOW", "reject"),
        ({"score": 520}, "SC_GREY", "review"),
        ({"score": 559}, "SC_GREY", "review"),
        ({"is_repeat": True, "reloan_eligible": False}, "RL_REFUSED", "reject"),
        (
            {"is_repeat": True, "amount_fen": 300_000, "reloan_limit_fen": 250_000},
            "RL_ABOVE_LIMIT",
            "review",
        ),
    ],
)
def test_each_rule_fires_with_its_code(engine, default_version, changes, code, outcome) -> None:
    result = run(engine, default_version, **changes)
    assert result.outputs["outcome"] == outcome
    assert code in {f.rule_id for f in result.fired}
    fired = next(f for f in result.fired if f.rule_id == code)
    assert fired.description  # the customer-facing reason travels with the rule


def test_every_default_rule_is_exercised_and_its_outputs_compile() -> None:
    import zen

    from xindai.risk import default_strategy as ds

    params = test_each_rule_fires_with_its_code.pytestmark[0].args[1]
    tested = {code for _, code, _ in params}
    codes = {
        rule[1] for table in (ds.ADMISSION, ds.ANTIFRAUD, ds.SCORE, ds.RELOAN) for rule in table
    }
    assert codes <= tested
    for node in default_strategy_graph()["nodes"]:
        if node["type"] != "decisionTableNode":
            continue
        output_ids = [o["id"] for o in node["content"]["outputs"]]
        for row in node["content"]["rules"]:
            for output_id in output_ids:  # a bad literal would make a row silently never fire
                zen.evaluate_expression(row[output_id], {})


def test_boundaries_do_not_fire(engine, default_version) -> None:
    result = run(
        engine,
        default_version,
        age=18,
        velocity_id_24h=3,
        score=560,
        multi_lender_open_count=3,
        bureau_max_overdue_days=30,
        anomaly_score=0.8,
    )
    assert result.outputs["outcome"] == "approve"


def test_reject_outranks_review_and_whitelist_skips_the_grey_zone(engine, default_version) -> None:
    result = run(engine, default_version, score=540, blacklist_hit_count=1)
    assert result.outputs["outcome"] == "reject"
    assert result.outputs["reviews"] == ["SC_GREY"]
    # a repeat borrower within the ladder's limit skips the score grey zone review
    whitelisted = run(engine, default_version, score=540, is_repeat=True, reloan_limit_fen=450_000)
    assert whitelisted.outputs["whitelisted"] is True
    assert whitelisted.outputs["outcome"] == "approve"
    # … but not an anti-fraud review
    flagged = run(
        engine,
        default_version,
        score=540,
        is_repeat=True,
        reloan_limit_fen=450_000,
        graph_ring=True,
    )
    assert flagged.outputs["outcome"] == "review"


def test_compiled_once_per_content(engine, default_version) -> None:
    before = engine.compiled_count
    same = StrategyVersion.create(
        "origination", 1, default_strategy_graph(), created_by="x", created_at=AT
    )
    engine.evaluate(same, good_applicant())
    engine.evaluate(default_version, good_applicant())
    assert engine.compiled_count == max(before, 1)
    assert engine.compiled(same) is engine.compiled(default_version)


def test_evaluation_error_is_typed() -> None:
    graph = default_strategy_graph()
    for node in graph["nodes"]:
        if node["id"] == "outcome":
            node["content"]["expressions"].append({"id": "bad", "key": "x", "value": "1 +"})
    version = StrategyVersion.create("broken", 1, graph, created_by="risk", created_at=AT)
    with pytest.raises(StrategyEvaluationError) as info:
        StrategyEngine().evaluate(version, good_applicant())
    assert info.value.code == "STRATEGY_EVALUATION"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda g: g["nodes"].pop(0),  # no input node
        lambda g: g["nodes"].append(dict(g["nodes"][1])),  # duplicate id
        lambda g: g["edges"].append({"id": "x", "sourceId": "request", "targetId": "nowhere"}),
        lambda g: g["nodes"][1].update(type="scriptNode"),
        lambda g: g["edges"].pop(0),  # admission unreachable
    ],
)
def test_invalid_graphs_are_refused(mutate) -> None:
    graph = default_strategy_graph()
    mutate(graph)
    with pytest.raises(InvalidValue):
        StrategyVersion.create("origination", 1, graph, created_by="risk", created_at=AT)


def test_version_identity_is_its_content() -> None:
    a = StrategyVersion.create("s", 1, default_strategy_graph(), created_by="a", created_at=AT)
    graph = default_strategy_graph()
    graph["nodes"][3]["content"]["rules"][0]["score_in_0"] = "< 500"
    b = StrategyVersion.create("s", 2, graph, created_by="a", created_at=AT)
    assert a.content_hash != b.content_hash
    assert a.graph == default_strategy_graph()


def test_registry_lifecycle() -> None:
    registry = StrategyRegistry("origination")
    registry, v1, event = registry.create(default_strategy_graph(), actor="alice", at=AT)
    assert (v1.version, event.action) == (1, "create")
    with pytest.raises(StrategyStateError):
        registry.create(default_strategy_graph(), actor="alice", at=AT)  # identical content
    with pytest.raises(StrategyStateError):
        registry.version_for("app-1")  # nothing live yet
    registry, event = registry.promote(1, actor="bob", at=AT, reason="initial")
    assert registry.champion == 1 and event.reason == "initial"
    graph = default_strategy_graph()
    graph["nodes"][3]["content"]["rules"][0]["score_in_0"] = "< 540"
    registry, v2, _ = registry.create(graph, actor="alice", at=AT, notes="stricter")
    with pytest.raises(InvalidValue):
        registry.promote(2, actor="bob", at=AT, reason=" ")
    registry, _ = registry.set_challenger(2, Decimal("0.2"), actor="bob", at=AT)
    routed = [registry.version_for(f"app-{i}").version for i in range(5000)]
    assert 0.17 < routed.count(2) / len(routed) < 0.23
    assert [registry.version_for(f"app-{i}").version for i in range(50)] == routed[:50]
    with pytest.raises(InvalidValue):
        registry.set_challenger(2, Decimal("0.6"), actor="bob", at=AT)
    with pytest.raises(StrategyStateError):
        registry.set_challenger(1, Decimal("0.1"), actor="bob", at=AT)
    registry, _ = registry.promote(2, actor="bob", at=AT, reason="challenger won")
    assert registry.champion == 2 and registry.challenger is None
    registry, event = registry.rollback(actor="carol", at=AT, reason="bad approvals")
    assert registry.champion == 1 and event.detail == (("from", "2"),)
    with pytest.raises(StrategyStateError):
        registry.rollback(actor="carol", at=AT, reason="again")
    assert registry.version(2) == v2  # versions are never removed


@settings(max_examples=200)
@given(st.text(min_size=1, max_size=30), st.decimals("0", "0.5", places=2))
def test_routing_is_deterministic_and_respects_the_share(app_id, share) -> None:
    bucket = challenger_bucket(app_id, "s")
    assert 0 <= bucket < 10_000 and bucket == challenger_bucket(app_id, "s")
    chosen = route_version(app_id, 1, 2, share, salt="s")
    assert chosen == (2 if bucket < int(share * 10_000) else 1)
    assert route_version(app_id, 1, None, share) == 1
