"""Anti-fraud (反欺诈) features: blacklist, velocity, device sharing, 多头, relation graph, anomaly.
Pure in-memory indexes, decision time passed in; imports only the core, numpy and networkx.
"""

from xindai.risk.antifraud.anomaly import AnomalyModel
from xindai.risk.antifraud.blacklist import (
    BLACKLIST_REASON_CODES,
    BlacklistEntry,
    BlacklistHit,
    BlacklistIndex,
    BlacklistKind,
    blacklist_features,
)
from xindai.risk.antifraud.bureau import (
    BureauInquiry,
    BureauLoan,
    BureauLoanStatus,
    BureauReport,
    InquiryReason,
    bureau_features,
)
from xindai.risk.antifraud.catalogue import (
    BOOLEAN_FEATURES,
    FEATURE_LABELS,
    FEATURE_NAMES,
    NUMERIC_FEATURES,
    FeatureValue,
)
from xindai.risk.antifraud.device import DEFAULT_DEVICE_WINDOW, DeviceIndex, DeviceObservation
from xindai.risk.antifraud.features import (
    RING_REASON_CODE,
    AntifraudContext,
    AntifraudReason,
    AntifraudResult,
    ApplicationSignals,
    antifraud_features,
)
from xindai.risk.antifraud.graph import ApplicantFlags, LinkKind, NodeKind, RelationGraph
from xindai.risk.antifraud.identifiers import (
    HashedIdentifiers,
    IdentifierKind,
    hash_identifier,
    normalise_identifier,
)
from xindai.risk.antifraud.thresholds import (
    DEFAULT_ANTIFRAUD_THRESHOLDS,
    DEFAULT_LIMITS,
    AntifraudThresholds,
    reason_code,
)
from xindai.risk.antifraud.velocity import (
    ApplicationEvent,
    VelocityDimension,
    VelocityIndex,
    VelocityWindow,
    velocity_feature_name,
)

__all__ = [
    "BLACKLIST_REASON_CODES",
    "BOOLEAN_FEATURES",
    "DEFAULT_ANTIFRAUD_THRESHOLDS",
    "DEFAULT_DEVICE_WINDOW",
    "DEFAULT_LIMITS",
    "FEATURE_LABELS",
    "FEATURE_NAMES",
    "NUMERIC_FEATURES",
    "RING_REASON_CODE",
    "AnomalyModel",
    "AntifraudContext",
    "AntifraudReason",
    "AntifraudResult",
    "AntifraudThresholds",
    "ApplicantFlags",
    "ApplicationEvent",
    "ApplicationSignals",
    "BlacklistEntry",
    "BlacklistHit",
    "BlacklistIndex",
    "BlacklistKind",
    "BureauInquiry",
    "BureauLoan",
    "BureauLoanStatus",
    "BureauReport",
    "DeviceIndex",
    "DeviceObservation",
    "FeatureValue",
    "HashedIdentifiers",
    "IdentifierKind",
    "InquiryReason",
    "LinkKind",
    "NodeKind",
    "RelationGraph",
    "VelocityDimension",
    "VelocityIndex",
    "VelocityWindow",
    "antifraud_features",
    "blacklist_features",
    "bureau_features",
    "hash_identifier",
    "normalise_identifier",
    "reason_code",
    "velocity_feature_name",
]
