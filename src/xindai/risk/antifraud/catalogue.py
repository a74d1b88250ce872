"""The anti-fraud feature catalogue: every feature name in output order, its type, and a zh-CN
and English label for reason messages, the strategy editor and the review screen."""

from __future__ import annotations

from xindai.risk.antifraud.blacklist import BLACKLIST_FEATURES
from xindai.risk.antifraud.bureau import BUREAU_FEATURES
from xindai.risk.antifraud.device import DEVICE_FEATURES
from xindai.risk.antifraud.graph import GRAPH_FEATURES
from xindai.risk.antifraud.velocity import (
    VELOCITY_FEATURES,
    VelocityDimension,
    VelocityWindow,
    velocity_feature_name,
)

FeatureValue = int | float | bool | str
"""The type of a feature value read by decision strategies."""

ANOMALY_FEATURES: tuple[str, ...] = ("anomaly_scored", "anomaly_score")

FEATURE_NAMES: tuple[str, ...] = (
    *BLACKLIST_FEATURES,
    *VELOCITY_FEATURES,
    *DEVICE_FEATURES,
    *BUREAU_FEATURES,
    *GRAPH_FEATURES,
    *ANOMALY_FEATURES,
)
"""Every feature `antifraud_features` writes, in the order it writes them."""

BOOLEAN_FEATURES: frozenset[str] = frozenset(
    {
        "blacklist_id_hit",
        "blacklist_phone_hit",
        "blacklist_device_hit",
        "blacklist_card_hit",
        "blacklist_contact_hit",
        "bureau_report_available",
        "graph_ring",
        "anomaly_scored",
    }
)
"""Features that are True / False; every other feature is a number."""

NUMERIC_FEATURES: tuple[str, ...] = tuple(n for n in FEATURE_NAMES if n not in BOOLEAN_FEATURES)
"""Features that a numeric threshold can be set on."""

_DIMENSION_LABELS = {
    VelocityDimension.ID: ("同一身份证号", "per ID number"),
    VelocityDimension.PHONE: ("同一手机号", "per phone"),
    VelocityDimension.DEVICE: ("同一设备", "per device"),
    VelocityDimension.IP: ("同一 IP", "per IP address"),
    VelocityDimension.CARD: ("同一银行卡", "per bank card"),
}
_WINDOW_LABELS = {
    VelocityWindow.HOUR: ("1 小时", "1 hour"),
    VelocityWindow.DAY: ("24 小时", "24 hours"),
    VelocityWindow.WEEK: ("7 天", "7 days"),
}

FEATURE_LABELS: dict[str, tuple[str, str]] = {
    "blacklist_id_hit": ("身份证号命中黑名单", "ID number on the blacklist"),
    "blacklist_phone_hit": ("手机号命中黑名单", "phone on the blacklist"),
    "blacklist_device_hit": ("设备命中黑名单", "device on the blacklist"),
    "blacklist_card_hit": ("银行卡命中黑名单", "bank card on the blacklist"),
    "blacklist_contact_hit": (
        "紧急联系人手机号命中黑名单",
        "an emergency contact on the blacklist",
    ),
    "blacklist_hit_count": ("命中黑名单的标识数", "identifiers on the blacklist"),
    **{
        velocity_feature_name(dimension, window): (
            f"{_DIMENSION_LABELS[dimension][0]}{_WINDOW_LABELS[window][0]}内申请次数",
            f"applications {_DIMENSION_LABELS[dimension][1]} in {_WINDOW_LABELS[window][1]}",
        )
        for dimension in VelocityDimension
        for window in VelocityWindow
    },
    "device_id_count": ("同一设备关联的身份证号数", "ID numbers on the device"),
    "id_device_count": ("同一身份证号使用的设备数", "devices used by the ID number"),
    "bureau_report_available": ("有征信报告", "credit report available"),
    "bureau_report_age_days": ("征信报告距今天数", "days since the credit report"),
    "multi_lender_open_count": ("未结清借款机构数", "lenders with open loans"),
    "multi_lender_open_loans": ("他行未结清借款笔数", "open loans at other lenders"),
    "multi_lender_outstanding_fen": ("他行未结清余额", "balance owed to other lenders"),
    "bureau_inquiries_1m": ("近 30 天信贷审批查询次数", "credit inquiries in 30 days"),
    "bureau_inquiries_3m": ("近 90 天信贷审批查询次数", "credit inquiries in 90 days"),
    "bureau_inquiries_6m": ("近 180 天信贷审批查询次数", "credit inquiries in 180 days"),
    "bureau_inquiry_lenders_3m": ("近 90 天查询机构数", "lenders inquiring in 90 days"),
    "bureau_max_overdue_days": ("征信最长逾期天数", "most days overdue on any loan"),
    "bureau_current_overdue_count": ("当前逾期借款笔数", "loans overdue now"),
    "bureau_loans_opened_3m": ("近 90 天新开借款笔数", "loans opened in 90 days"),
    "graph_applicants_1hop": ("一度关联申请人数", "applicants linked in one hop"),
    "graph_applicants_2hop": ("二度内关联申请人数", "applicants linked within two hops"),
    "graph_blacklisted_1hop": ("一度关联黑名单人数", "blacklisted applicants in one hop"),
    "graph_blacklisted_2hop": ("二度内关联黑名单人数", "blacklisted applicants within two hops"),
    "graph_overdue_1hop": ("一度关联逾期人数", "overdue applicants in one hop"),
    "graph_overdue_2hop": ("二度内关联逾期人数", "overdue applicants within two hops"),
    "graph_component_applicants": ("关联网络规模（人）", "applicants in the linked cluster"),
    "graph_ring": ("处于关联团伙环中", "in a ring of linked applicants"),
    "anomaly_scored": ("已计算异常分", "anomaly model applied"),
    "anomaly_score": ("异常分", "anomaly score"),
}
"""(zh-CN, English) label of every feature."""
