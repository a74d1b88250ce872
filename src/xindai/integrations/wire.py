"""JSON forms of port values that cross the wire between adapters and providers."""

from __future__ import annotations

from datetime import date
from typing import Any

from xindai.errors import InvalidValue
from xindai.risk.antifraud.bureau import BureauInquiry, BureauLoan, BureauReport


def bureau_report_to_json(report: BureauReport) -> dict[str, Any]:
    return {
        "reported_on": report.reported_on.isoformat(),
        "loans": [
            {
                "lender": loan.lender,
                "opened_on": loan.opened_on.isoformat(),
                "amount_fen": loan.amount_fen,
                "outstanding_fen": loan.outstanding_fen,
                "max_overdue_days": loan.max_overdue_days,
                "status": loan.status.value,
            }
            for loan in report.loans
        ],
        "inquiries": [
            {
                "inquired_on": inquiry.inquired_on.isoformat(),
                "lender": inquiry.lender,
                "reason": inquiry.reason.value,
            }
            for inquiry in report.inquiries
        ],
    }


def bureau_report_from_json(
    data: dict[str, Any], *, drop_lenders: frozenset[str] = frozenset()
) -> BureauReport:
    """Parse a report; loans of `drop_lenders` (the platform itself) are left out."""
    try:
        return BureauReport(
            reported_on=date.fromisoformat(data["reported_on"]),
            loans=tuple(
                BureauLoan(
                    lender=str(loan["lender"]),
                    opened_on=date.fromisoformat(loan["opened_on"]),
                    amount_fen=loan["amount_fen"],
                    outstanding_fen=loan["outstanding_fen"],
                    max_overdue_days=loan["max_overdue_days"],
                    status=loan["status"],
                )
                for loan in data["loans"]
                if str(loan["lender"]) not in drop_lenders
            ),
            inquiries=tuple(
                BureauInquiry(
                    inquired_on=date.fromisoformat(inquiry["inquired_on"]),
                    lender=str(inquiry["lender"]),
                    reason=inquiry["reason"],
                )
                for inquiry in data["inquiries"]
            ),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidValue(
            "bureau report", "<json>", f"malformed ({exc})", "征信报告格式错误"
        ) from None
