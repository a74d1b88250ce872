"""The merged anti-fraud feature set, reason codes and thresholds as data (SPEC §7)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from xindai.errors import InvalidValue
from xindai.risk.antifraud import (
    DEFAULT_ANTIFRAUD_THRESHOLDS,
    FEATURE_LABELS,
    FEATURE_NAMES,
    NUMERIC_FEATURES,
    AnomalyModel,
    AntifraudContext,
    AntifraudThresholds,
    ApplicationSignals,
    BlacklistEntry,
    BlacklistIndex,
    BlacklistKind,
    BureauInquiry,
    BureauLoan,
    BureauReport,
    HashedIdentifiers,
    antifraud_features,
    hash_identifier,
    reason_code,
)

KEY = b"test-key"
AS_OF = datetime(2026, 3, 1, 12, 0)


def signals(
    n: int, at: datetime = AS_OF, *, device: str | None = None, **changes: object
) -> ApplicationSignals:
    identifiers = HashedIdentifiers.from_raw(
        KEY,
        id_number=f"1101011990030{n:05d}",
        phone=f"1380013{n:04d}",
        device=device or f"dev-{n}",
        ip=f"10.0.0.{n % 250}",
        card=f"62220202000{n:08d}",
        contact_phones=[f"1390013{n:04d}", f"1370013{n:04d}"],
    )
    fields: dict[str, object] = dict(
        applicant_id=f"A{n}",
        applied_at=at,
        identifiers=identifiers,
        numeric_features={"age": 30.0, "income": 5_000.0},
        bureau_report=None,
    )
    fields.update(changes)
    return ApplicationSignals(**fields)  # type: ignore[arg-type]


def anomaly_model() -> AnomalyModel:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"age": rng.normal(30, 5, 500), "income": rng.normal(5_000, 800, 500)})
    return AnomalyModel.fit(frame)


def test_a_clean_first_application() -> None:
    ctx = AntifraudContext(anomaly_model=anomaly_model())
    application = signals(1)
    ctx.record(application)
    result = antifraud_features(application, ctx, AS_OF)
    assert tuple(result.features) == FEATURE_NAMES
    assert result.reason_codes == ()
    features = result.features
    assert features["velocity_id_24h"] == 1 and features["velocity_device_1h"] == 1
    assert features["device_id_count"] == 1 and features["id_device_count"] == 1
    assert features["blacklist_hit_count"] == 0
    assert features["bureau_report_available"] is False
    assert features["graph_component_applicants"] == 1
    assert features["anomaly_scored"] is True
    assert 0.0 <= features["anomaly_score"] < 0.5  # type: ignore[operator]
    for value in features.values():
        assert isinstance(value, int | float | bool | str)


def test_blacklist_and_velocity_reason_codes() -> None:
    ctx = AntifraudContext(
        blacklist=BlacklistIndex(
            [
                BlacklistEntry(
                    kind=BlacklistKind.ID_NUMBER,
                    value_hash=hash_identifier("id_number", "110101199003000001", KEY),
                    reason="stolen identity",
                    added_by="risk-ops",
                    added_at=AS_OF - timedelta(days=3),
                ),
                BlacklistEntry(
                    kind=BlacklistKind.PHONE,
                    value_hash=hash_identifier("phone", "13900130001", KEY),
                    reason="fraud ring contact",
                    added_by="risk-ops",
                    added_at=AS_OF - timedelta(days=3),
                ),
            ]
        )
    )
    # four applications on one shared device within 24 h, by four different people
    for n in range(1, 5):
        ctx.record(signals(n, AS_OF - timedelta(hours=n * 5), device="shared"))
    application = signals(1, AS_OF - timedelta(hours=5), device="shared")
    result = antifraud_features(application, ctx, AS_OF)
    assert result.features["velocity_device_24h"] == 4
    assert result.features["device_id_count"] == 4
    assert result.reason_codes == (
        "AF_BLACKLIST_ID",
        "AF_BLACKLIST_CONTACT",
        "AF_VELOCITY_DEVICE_24H",
        "AF_DEVICE_ID_COUNT",
    )
    by_code = {reason.code: reason for reason in result.reasons}
    assert "stolen identity" in by_code["AF_BLACKLIST_ID"].message_en
    velocity = by_code["AF_VELOCITY_DEVICE_24H"]
    assert (velocity.value, velocity.limit) == (4, 3)
    assert velocity.message_zh == "同一设备24 小时内申请次数为 4，超过阈值 3"
    assert velocity.message_en == "applications per device in 24 hours: 4, above the limit of 3"
    assert len(result.blacklist_hits) == 2
    # an application decided before the entries were added sees none of them
    before = AS_OF - timedelta(days=4)
    early = antifraud_features(signals(1, before, device="shared"), ctx, before)
    assert early.features["blacklist_hit_count"] == 0
    assert "AF_BLACKLIST_ID" not in early.reason_codes


def test_more_than_three_applications_per_id_in_24_hours() -> None:
    ctx = AntifraudContext()
    for hours in (0, 3, 6):
        ctx.record(signals(7, AS_OF - timedelta(hours=hours)))
    assert "AF_VELOCITY_ID_24H" not in antifraud_features(signals(7), ctx, AS_OF).reason_codes
    ctx.record(signals(7, AS_OF - timedelta(hours=23)))
    result = antifraud_features(signals(7), ctx, AS_OF)
    assert result.features["velocity_id_24h"] == 4
    assert "AF_VELOCITY_ID_24H" in result.reason_codes


def test_bureau_graph_and_anomaly_reasons() -> None:
    ctx = AntifraudContext(anomaly_model=anomaly_model())
    ctx.graph.add_applicant(
        "B1", phone=hash_identifier("phone", "13900130003", KEY), blacklisted=True
    )
    report = BureauReport(
        reported_on=date(2026, 2, 27),
        loans=tuple(
            BureauLoan(f"lender-{k}", date(2026, 1, 1), 1_000_000, 1_000_000, 0, "current")  # type: ignore[arg-type]
            for k in range(6)
        ),
        inquiries=(BureauInquiry(date(2026, 2, 20), "x"),),
    )
    application = signals(3, bureau_report=report, numeric_features={"age": 19, "income": 60_000})
    ctx.record(application)
    result = antifraud_features(application, ctx, AS_OF)
    assert result.features["graph_blacklisted_1hop"] == 1
    assert result.features["multi_lender_outstanding_fen"] == 6_000_000
    assert result.reason_codes == (
        "AF_MULTI_LENDER_OPEN_COUNT",
        "AF_MULTI_LENDER_OUTSTANDING_FEN",
        "AF_BUREAU_LOANS_OPENED_3M",
        "AF_GRAPH_BLACKLISTED_1HOP",
        "AF_ANOMALY_SCORE",
    )
    money = {r.code: r for r in result.reasons}["AF_MULTI_LENDER_OUTSTANDING_FEN"]
    assert money.message_en == (
        "balance owed to other lenders: 60,000.00 yuan, above the limit of 50,000.00 yuan"
    )


def test_ring_reason_and_its_switch() -> None:
    ctx = AntifraudContext()
    phones = [hash_identifier("phone", f"1380000000{k}", KEY) for k in range(3)]
    for k in range(3):
        ctx.graph.add_applicant(f"R{k}", phone=phones[k], contact_phones=[phones[(k + 1) % 3]])
    application = ApplicationSignals(
        applicant_id="R0", applied_at=AS_OF, identifiers=HashedIdentifiers(phone=phones[0])
    )
    assert "AF_GRAPH_RING" in antifraud_features(application, ctx, AS_OF).reason_codes
    quiet = AntifraudContext(graph=ctx.graph, thresholds=AntifraudThresholds(flag_ring=False))
    result = antifraud_features(application, quiet, AS_OF)
    assert result.features["graph_ring"] is True
    assert "AF_GRAPH_RING" not in result.reason_codes


def test_thresholds_are_data() -> None:
    thresholds = DEFAULT_ANTIFRAUD_THRESHOLDS
    assert thresholds.limits["velocity_id_24h"] == 3
    assert set(thresholds.limits) <= set(NUMERIC_FEATURES)
    again = AntifraudThresholds.from_dict(json.loads(json.dumps(thresholds.to_dict())))
    assert again == thresholds
    stricter = thresholds.with_limits({"velocity_id_24h": 0, "anomaly_score": None})
    assert stricter.limits["velocity_id_24h"] == 0 and "anomaly_score" not in stricter.limits
    ctx = AntifraudContext(thresholds=stricter)
    ctx.record(signals(5))
    assert antifraud_features(signals(5), ctx, AS_OF).reason_codes == ("AF_VELOCITY_ID_24H",)
    assert reason_code("velocity_ip_7d") == "AF_VELOCITY_IP_7D"
    with pytest.raises(InvalidValue):
        AntifraudThresholds(limits={"graph_ring": 0})  # not numeric
    with pytest.raises(InvalidValue):
        AntifraudThresholds(limits={"velocity_id_24h": -1})
    with pytest.raises(InvalidValue):
        AntifraudThresholds(limits={"no_such_feature": 1})
    with pytest.raises(InvalidValue):
        AntifraudThresholds.from_dict({"limits": {}})
    no_blacklist = AntifraudContext(
        blacklist=BlacklistIndex(
            [
                BlacklistEntry(
                    kind=BlacklistKind.DEVICE,
                    value_hash=hash_identifier("device", "dev-6", KEY),
                    reason="emulator",
                    added_by="ops",
                    added_at=AS_OF,
                )
            ]
        ),
        thresholds=AntifraudThresholds(flag_blacklist=False),
    )
    result = antifraud_features(signals(6), no_blacklist, AS_OF)
    assert result.features["blacklist_device_hit"] is True and result.reason_codes == ()


def test_without_a_model_and_time_checks() -> None:
    ctx = AntifraudContext()
    result = antifraud_features(signals(8), ctx, AS_OF)
    assert result.features["anomaly_scored"] is False and result.features["anomaly_score"] == 0.0
    assert result.features["velocity_id_24h"] == 0  # not recorded: does not count itself
    with pytest.raises(InvalidValue):
        antifraud_features(signals(8), ctx, AS_OF - timedelta(seconds=1))
    with pytest.raises(InvalidValue):
        signals(8, applicant_id="")
    with_model = AntifraudContext(anomaly_model=anomaly_model())
    with pytest.raises(InvalidValue):  # the model's features must be there
        antifraud_features(signals(8, numeric_features={"age": 30.0}), with_model, AS_OF)


def test_same_inputs_same_features() -> None:
    ctx = AntifraudContext(anomaly_model=anomaly_model())
    application = signals(9)
    ctx.record(application)
    assert antifraud_features(application, ctx, AS_OF) == antifraud_features(
        application, ctx, AS_OF
    )


def test_every_feature_has_a_label() -> None:
    assert set(FEATURE_LABELS) == set(FEATURE_NAMES)
    assert len(FEATURE_NAMES) == len(set(FEATURE_NAMES))
    assert all(name == name.lower() and " " not in name for name in FEATURE_NAMES)
