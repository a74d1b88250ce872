"""Many-platform borrowing features from a credit-bureau report (SPEC §7)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from xindai.errors import InvalidValue
from xindai.risk.antifraud import (
    BureauInquiry,
    BureauLoan,
    BureauLoanStatus,
    BureauReport,
    InquiryReason,
    bureau_features,
)
from xindai.risk.antifraud.bureau import BUREAU_FEATURES

AS_OF = datetime(2026, 3, 31, 15, 30)
TODAY = AS_OF.date()


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def loan(
    lender: str, opened: int, status: str, outstanding: int = 0, overdue: int = 0
) -> BureauLoan:
    return BureauLoan(
        lender=lender,
        opened_on=days_ago(opened),
        amount_fen=500_000,
        outstanding_fen=outstanding,
        max_overdue_days=overdue,
        status=status,  # type: ignore[arg-type]  # coerced by the dataclass
    )


REPORT = BureauReport(
    reported_on=days_ago(2),
    loans=(
        loan("bank-a", 10, "current", outstanding=300_000),
        loan("bank-a", 40, "current", outstanding=100_000),
        loan("fin-b", 89, "overdue", outstanding=200_000, overdue=12),
        loan("fin-c", 90, "settled", overdue=45),  # exactly 90 days ago: outside 3m
        loan("fin-d", 400, "bad_debt", outstanding=50_000, overdue=200),
    ),
    inquiries=(
        BureauInquiry(days_ago(0), "bank-a"),
        BureauInquiry(days_ago(29), "fin-b", InquiryReason.CREDIT_CARD_APPROVAL),
        BureauInquiry(days_ago(30), "fin-c"),  # exactly 30 days: outside 1m
        BureauInquiry(days_ago(89), "fin-c"),
        BureauInquiry(days_ago(90), "fin-e"),  # outside 3m
        BureauInquiry(days_ago(179), "fin-f"),
        BureauInquiry(days_ago(180), "fin-g"),  # outside 6m
        BureauInquiry(days_ago(5), "fin-h", InquiryReason.POST_LOAN),  # not an application
        BureauInquiry(days_ago(5), "me", InquiryReason.SELF),
        BureauInquiry(TODAY + timedelta(days=1), "fin-i"),  # after the decision date
    ),
)


def test_hand_worked_report() -> None:
    assert bureau_features(REPORT, AS_OF) == {
        "bureau_report_available": True,
        "bureau_report_age_days": 2,
        "multi_lender_open_count": 3,  # bank-a, fin-b, fin-d
        "multi_lender_open_loans": 4,
        "multi_lender_outstanding_fen": 650_000,
        "bureau_inquiries_1m": 2,
        "bureau_inquiries_3m": 4,
        "bureau_inquiries_6m": 6,
        "bureau_inquiry_lenders_3m": 3,
        "bureau_max_overdue_days": 200,
        "bureau_current_overdue_count": 2,
        "bureau_loans_opened_3m": 3,
    }
    assert list(bureau_features(REPORT, AS_OF)) == list(BUREAU_FEATURES)


def test_no_report() -> None:
    features = bureau_features(None, AS_OF)
    assert list(features) == list(BUREAU_FEATURES)
    assert features["bureau_report_available"] is False
    assert features["bureau_report_age_days"] == -1
    assert features["multi_lender_open_count"] == 0


def test_empty_report_and_a_report_from_the_future() -> None:
    features = bureau_features(BureauReport(reported_on=TODAY), AS_OF)
    assert features["bureau_max_overdue_days"] == 0 and features["bureau_inquiries_6m"] == 0
    with pytest.raises(InvalidValue):
        bureau_features(BureauReport(reported_on=TODAY + timedelta(days=1)), AS_OF)


def test_bad_values_are_rejected() -> None:
    assert loan("x", 1, "bad_debt").status is BureauLoanStatus.BAD_DEBT
    with pytest.raises(InvalidValue):
        loan("x", 1, "current", outstanding=-1)
    with pytest.raises(InvalidValue):
        loan("x", 1, "closed")
    with pytest.raises(InvalidValue):
        BureauInquiry(inquired_on=AS_OF, lender="x")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        BureauInquiry(days_ago(1), "x", "curiosity")  # type: ignore[arg-type]
