"""The anti-fraud feature set of one application: every check run against an in-memory
context, merged into named features for the decision strategy, with reason codes for the
thresholds crossed.

Nothing here reads a clock or a database: the caller loads the context (blacklist, recorded
applications, device observations, relation graph, anomaly model) and passes the decision
time `as_of`; the same inputs always give the same features.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from xindai.errors import InvalidValue
from xindai.money import format_yuan
from xindai.risk.antifraud.anomaly import AnomalyModel
from xindai.risk.antifraud.blacklist import (
    BLACKLIST_REASON_CODES,
    BlacklistHit,
    BlacklistIndex,
    BlacklistKind,
    blacklist_features,
)
from xindai.risk.antifraud.bureau import BureauReport, bureau_features
from xindai.risk.antifraud.catalogue import FEATURE_LABELS, FeatureValue
from xindai.risk.antifraud.device import DEFAULT_DEVICE_WINDOW, DeviceIndex, DeviceObservation
from xindai.risk.antifraud.graph import DEFAULT_MIN_RING_SIZE, RelationGraph
from xindai.risk.antifraud.identifiers import HashedIdentifiers, check_datetime
from xindai.risk.antifraud.thresholds import (
    DEFAULT_ANTIFRAUD_THRESHOLDS,
    AntifraudThresholds,
    reason_code,
)
from xindai.risk.antifraud.velocity import ApplicationEvent, VelocityIndex

RING_REASON_CODE = "AF_GRAPH_RING"
"""Reason code: the applicant is in a ring of linked applicants (see `graph`)."""

_BLACKLIST_FEATURE_OF_KIND = {
    BlacklistKind.ID_NUMBER: "blacklist_id_hit",
    BlacklistKind.PHONE: "blacklist_phone_hit",
    BlacklistKind.DEVICE: "blacklist_device_hit",
    BlacklistKind.CARD: "blacklist_card_hit",
    BlacklistKind.CONTACT_PHONE: "blacklist_contact_hit",
}


@dataclass(frozen=True)
class ApplicationSignals:
    """What the anti-fraud checks know about one application.

    `identifiers` are keyed hashes (see `HashedIdentifiers.from_raw`); `numeric_features`
    feed the anomaly model (every feature it was fitted on must be present); `bureau_report`
    is the person's (possibly cached) credit report, None when there is none; `applied_at`
    is when the application was made, the time `AntifraudContext.record` files it under.
    """

    applicant_id: str
    applied_at: datetime
    identifiers: HashedIdentifiers
    numeric_features: Mapping[str, float] = field(default_factory=dict)
    bureau_report: BureauReport | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.applicant_id, str) or not self.applicant_id:
            raise InvalidValue(
                "applicant_id", self.applicant_id, "must be a non-empty string", "必须是非空字符串"
            )
        check_datetime("applied_at", self.applied_at)
        if not isinstance(self.identifiers, HashedIdentifiers):
            raise InvalidValue(
                "identifiers", self.identifiers, "must be HashedIdentifiers", "必须是哈希标识"
            )


@dataclass(frozen=True)
class AntifraudContext:
    """The indexes the checks read, the anomaly model (None: not scored) and the thresholds.

    The indexes are mutable and shared; `record` files an application into all of them.
    `device_window` is the look-back of the device-sharing features; `min_ring_size` the
    fewest applicants that make a ring.
    """

    blacklist: BlacklistIndex = field(default_factory=BlacklistIndex)
    velocity: VelocityIndex = field(default_factory=VelocityIndex)
    devices: DeviceIndex = field(default_factory=DeviceIndex)
    graph: RelationGraph = field(default_factory=RelationGraph)
    anomaly_model: AnomalyModel | None = None
    thresholds: AntifraudThresholds = DEFAULT_ANTIFRAUD_THRESHOLDS
    device_window: timedelta = DEFAULT_DEVICE_WINDOW
    min_ring_size: int = DEFAULT_MIN_RING_SIZE

    def record(self, application: ApplicationSignals) -> None:
        """File `application` at `applied_at`: a velocity event, a device observation (when
        it has both a device and an ID number) and its links in the relation graph."""
        identifiers = application.identifiers
        self.velocity.add(ApplicationEvent(at=application.applied_at, identifiers=identifiers))
        if identifiers.device is not None and identifiers.id_number is not None:
            self.devices.add(
                DeviceObservation(
                    at=application.applied_at,
                    device=identifiers.device,
                    id_number=identifiers.id_number,
                )
            )
        self.graph.add_applicant(
            application.applicant_id,
            phone=identifiers.phone,
            devices=() if identifiers.device is None else (identifiers.device,),
            contact_phones=identifiers.contact_phones,
        )


@dataclass(frozen=True)
class AntifraudReason:
    """A threshold crossed: `code`, the feature and its value, the limit (None for a
    blacklist hit or a ring) and a message for people."""

    code: str
    feature: str
    value: FeatureValue
    limit: int | float | None
    message_zh: str
    message_en: str


@dataclass(frozen=True)
class AntifraudResult:
    """`features` (every name in `FEATURE_NAMES`, in that order), the reasons raised, and
    the blacklist hits behind the blacklist features (for the review screen)."""

    features: Mapping[str, FeatureValue]
    reasons: tuple[AntifraudReason, ...]
    blacklist_hits: tuple[BlacklistHit, ...]

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.reasons)


def _display(feature: str, value: FeatureValue) -> tuple[str, str]:
    # (zh, en) rendering of a value: money in yuan, scores to four places
    if feature.endswith("_fen") and isinstance(value, int) and not isinstance(value, bool):
        return (
            f"{format_yuan(value, thousands=True)} 元",
            f"{format_yuan(value, thousands=True)} yuan",
        )
    if isinstance(value, float):
        return f"{value:.4g}", f"{value:.4g}"
    return str(value), str(value)


def _blacklist_reasons(hits: list[BlacklistHit]) -> list[AntifraudReason]:
    reasons: list[AntifraudReason] = []
    for kind in BlacklistKind:
        of_kind = [hit for hit in hits if hit.kind is kind]
        if not of_kind:
            continue
        feature = _BLACKLIST_FEATURE_OF_KIND[kind]
        label_zh, label_en = FEATURE_LABELS[feature]
        notes = "; ".join(dict.fromkeys(r for hit in of_kind for r in hit.reasons))
        reasons.append(
            AntifraudReason(
                code=BLACKLIST_REASON_CODES[kind],
                feature=feature,
                value=True,
                limit=None,
                message_zh=f"{label_zh}（{notes}）",
                message_en=f"{label_en} ({notes})",
            )
        )
    return reasons


def _limit_reasons(
    features: Mapping[str, FeatureValue], thresholds: AntifraudThresholds
) -> list[AntifraudReason]:
    reasons: list[AntifraudReason] = []
    for feature, limit in thresholds.limits.items():
        value = features[feature]
        if isinstance(value, bool | str) or not value > limit:
            continue
        label_zh, label_en = FEATURE_LABELS[feature]
        value_zh, value_en = _display(feature, value)
        limit_zh, limit_en = _display(feature, limit)
        reasons.append(
            AntifraudReason(
                code=reason_code(feature),
                feature=feature,
                value=value,
                limit=limit,
                message_zh=f"{label_zh}为 {value_zh}，超过阈值 {limit_zh}",
                message_en=f"{label_en}: {value_en}, above the limit of {limit_en}",
            )
        )
    return reasons


def antifraud_features(
    application: ApplicationSignals, ctx: AntifraudContext, as_of: datetime
) -> AntifraudResult:
    """Run every anti-fraud check on `application` at decision time `as_of`.

    - blacklist: entries active at `as_of`;
    - velocity: recorded applications in (as_of − window, as_of] — `ctx.record` the
      application first so that it counts itself, as the default thresholds assume;
    - device sharing over `ctx.device_window`, the application's own pair included;
    - bureau: `application.bureau_report` on the date of `as_of`;
    - graph: the relation graph as loaded, plus the application's own links;
    - anomaly: `ctx.anomaly_model` on `application.numeric_features` (`anomaly_scored` is
      False and `anomaly_score` 0.0 without a model).

    Raises `InvalidValue` when `as_of` is before the application was made.
    """
    check_datetime("as_of", as_of)
    if as_of < application.applied_at:
        raise InvalidValue(
            "as_of",
            as_of.isoformat(),
            "is before the application was made",
            "早于申请时间",
        )
    identifiers = application.identifiers
    hits = ctx.blacklist.check(identifiers, as_of)
    features: dict[str, FeatureValue] = {}
    features.update(blacklist_features(hits))
    features.update(ctx.velocity.features(identifiers, as_of))
    features.update(ctx.devices.features(identifiers, as_of, ctx.device_window))
    features.update(bureau_features(application.bureau_report, as_of))
    features.update(
        ctx.graph.features(
            application.applicant_id,
            phone=identifiers.phone,
            devices=() if identifiers.device is None else (identifiers.device,),
            contact_phones=identifiers.contact_phones,
            min_ring_size=ctx.min_ring_size,
        )
    )
    model = ctx.anomaly_model
    features["anomaly_scored"] = model is not None
    features["anomaly_score"] = 0.0 if model is None else model.score(application.numeric_features)

    thresholds = ctx.thresholds
    reasons = _blacklist_reasons(hits) if thresholds.flag_blacklist else []
    reasons.extend(_limit_reasons(features, thresholds))
    if thresholds.flag_ring and features["graph_ring"] is True:
        label_zh, label_en = FEATURE_LABELS["graph_ring"]
        reasons.append(
            AntifraudReason(
                code=RING_REASON_CODE,
                feature="graph_ring",
                value=True,
                limit=None,
                message_zh=f"申请人{label_zh}（至少 {ctx.min_ring_size} 人）",
                message_en=f"Applicant {label_en} (at least {ctx.min_ring_size} applicants)",
            )
        )
    return AntifraudResult(features=features, reasons=tuple(reasons), blacklist_hits=tuple(hits))
