"""Many-platform borrowing (多头借贷) from a credit-bureau (征信) report: loans at other lenders,
their balances and arrears, and recent credit inquiries.

Windows are whole days ending on the decision date: "1m / 3m / 6m" are the last 30 / 90 / 180
days, the decision date included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from xindai.errors import InvalidValue
from xindai.money import Fen
from xindai.risk.antifraud.identifiers import check_datetime

INQUIRY_WINDOW_DAYS: dict[str, int] = {"1m": 30, "3m": 90, "6m": 180}
"""Days in each inquiry window, by feature suffix."""

LOANS_OPENED_WINDOW_DAYS = 90
"""Days in the `bureau_loans_opened_3m` window."""

BUREAU_FEATURES: tuple[str, ...] = (
    "bureau_report_available",
    "bureau_report_age_days",
    "multi_lender_open_count",
    "multi_lender_open_loans",
    "multi_lender_outstanding_fen",
    "bureau_inquiries_1m",
    "bureau_inquiries_3m",
    "bureau_inquiries_6m",
    "bureau_inquiry_lenders_3m",
    "bureau_max_overdue_days",
    "bureau_current_overdue_count",
    "bureau_loans_opened_3m",
)
"""Feature names written by `bureau_features`, in order."""


class BureauLoanStatus(StrEnum):
    """A loan's status on the report."""

    CURRENT = "current"  # 正常: open, not overdue
    OVERDUE = "overdue"  # 逾期: open and overdue now
    BAD_DEBT = "bad_debt"  # 呆账: written off by the lender, still owed
    SETTLED = "settled"  # 结清: closed

    @property
    def is_open(self) -> bool:
        return self is not BureauLoanStatus.SETTLED

    @property
    def is_in_arrears(self) -> bool:
        return self in (BureauLoanStatus.OVERDUE, BureauLoanStatus.BAD_DEBT)


class InquiryReason(StrEnum):
    """Why a lender queried the report; only credit applications count as inquiries."""

    LOAN_APPROVAL = "loan_approval"  # 贷款审批
    CREDIT_CARD_APPROVAL = "credit_card_approval"  # 信用卡审批
    GUARANTEE = "guarantee"  # 担保资格审查
    POST_LOAN = "post_loan"  # 贷后管理
    SELF = "self"  # 本人查询

    @property
    def is_credit_application(self) -> bool:
        return self in (InquiryReason.LOAN_APPROVAL, InquiryReason.CREDIT_CARD_APPROVAL)


def _non_negative(field: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidValue(field, value, "must be a whole number ≥ 0", "必须是不小于 0 的整数")
    return value


def _date(field: str, value: object) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidValue(field, value, "must be a date", "必须是日期")
    return value


@dataclass(frozen=True, slots=True)
class BureauLoan:
    """A loan at another lender; amounts in fen, `max_overdue_days` over the loan's life."""

    lender: str
    opened_on: date
    amount_fen: Fen
    outstanding_fen: Fen
    max_overdue_days: int
    status: BureauLoanStatus

    def __post_init__(self) -> None:
        _date("opened_on", self.opened_on)
        _non_negative("amount_fen", self.amount_fen)
        _non_negative("outstanding_fen", self.outstanding_fen)
        _non_negative("max_overdue_days", self.max_overdue_days)
        try:
            object.__setattr__(self, "status", BureauLoanStatus(self.status))
        except ValueError:
            raise InvalidValue(
                "status", self.status, "not a bureau loan status", "不是征信贷款状态"
            ) from None


@dataclass(frozen=True, slots=True)
class BureauInquiry:
    """A query of the report by `lender` on `inquired_on`."""

    inquired_on: date
    lender: str
    reason: InquiryReason = InquiryReason.LOAN_APPROVAL

    def __post_init__(self) -> None:
        _date("inquired_on", self.inquired_on)
        try:
            object.__setattr__(self, "reason", InquiryReason(self.reason))
        except ValueError:
            raise InvalidValue(
                "reason", self.reason, "not an inquiry reason", "不是查询原因"
            ) from None


@dataclass(frozen=True, slots=True)
class BureauReport:
    """A person's credit-bureau report as of `reported_on`: other lenders' loans (the bureau
    adapter drops this platform's own) and the inquiries on record."""

    reported_on: date
    loans: tuple[BureauLoan, ...] = ()
    inquiries: tuple[BureauInquiry, ...] = ()

    def __post_init__(self) -> None:
        _date("reported_on", self.reported_on)
        object.__setattr__(self, "loans", tuple(self.loans))
        object.__setattr__(self, "inquiries", tuple(self.inquiries))


def _within(day: date, end: date, days: int) -> bool:
    # the `days` whole days ending on `end`, `end` included
    return end - timedelta(days=days) < day <= end


def bureau_features(report: BureauReport | None, as_of: datetime) -> dict[str, int | bool]:
    """Features of `report` on the decision date `as_of.date()` (see `BUREAU_FEATURES`):

    - `bureau_report_available`; `bureau_report_age_days` (days since `reported_on`, −1 when
      there is no report, in which case every other feature is 0);
    - `multi_lender_open_count`: distinct lenders with an open loan (not settled);
      `multi_lender_open_loans`: open loans; `multi_lender_outstanding_fen`: their balance;
    - `bureau_inquiries_1m/3m/6m`: credit-application inquiries (loan or card approval) in
      the last 30 / 90 / 180 days; `bureau_inquiry_lenders_3m`: distinct lenders among them;
    - `bureau_max_overdue_days`: the worst arrears of any loan, ever;
    - `bureau_current_overdue_count`: loans overdue or in bad debt now;
    - `bureau_loans_opened_3m`: loans opened in the last 90 days.

    Loans and inquiries dated after the decision date are ignored by the windowed counts; a
    report dated after it raises `InvalidValue`.
    """
    check_datetime("as_of", as_of)
    if report is None:
        features: dict[str, int | bool] = dict.fromkeys(BUREAU_FEATURES, 0)
        features["bureau_report_available"] = False
        features["bureau_report_age_days"] = -1
        return features
    today = as_of.date()
    if report.reported_on > today:
        raise InvalidValue(
            "reported_on",
            report.reported_on,
            f"is after the decision date {today.isoformat()}",
            f"晚于决策日期 {today.isoformat()}",
        )
    open_loans = [loan for loan in report.loans if loan.status.is_open]
    applications = [inquiry for inquiry in report.inquiries if inquiry.reason.is_credit_application]
    features = {
        "bureau_report_available": True,
        "bureau_report_age_days": (today - report.reported_on).days,
        "multi_lender_open_count": len({loan.lender for loan in open_loans}),
        "multi_lender_open_loans": len(open_loans),
        "multi_lender_outstanding_fen": sum(loan.outstanding_fen for loan in open_loans),
    }
    for suffix, days in INQUIRY_WINDOW_DAYS.items():
        features[f"bureau_inquiries_{suffix}"] = sum(
            1 for inquiry in applications if _within(inquiry.inquired_on, today, days)
        )
    features["bureau_inquiry_lenders_3m"] = len(
        {
            inquiry.lender
            for inquiry in applications
            if _within(inquiry.inquired_on, today, INQUIRY_WINDOW_DAYS["3m"])
        }
    )
    features["bureau_max_overdue_days"] = max(
        (loan.max_overdue_days for loan in report.loans), default=0
    )
    features["bureau_current_overdue_count"] = sum(
        1 for loan in report.loans if loan.status.is_in_arrears
    )
    features["bureau_loans_opened_3m"] = sum(
        1 for loan in report.loans if _within(loan.opened_on, today, LOANS_OPENED_WINDOW_DAYS)
    )
    return features
