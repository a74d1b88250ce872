"""The platform overview (平台概览), GET /api/v1/admin/overview: today's registrations,
applications, approvals, payouts and repayments, the book at the last close, and 30 days of
daily points (`reports.overview`). Needs `reports.read`; an agent's overview covers its own
channel only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request

from xindai.api import views_lists as views
from xindai.api.deps import Staff, permitted, platform
from xindai.api.openapi import responses
from xindai.money import format_yuan
from xindai.reports.overview import DEFINITIONS, overview, rate
from xindai.security.rbac import visible_channel

router = APIRouter(prefix="/api/v1/admin", tags=["admin 平台概览"])


def _point(values: dict[str, int]) -> dict[str, Any]:
    return {
        "registrations": values["registrations"],
        "applications": values["applications"],
        "approvals": values["approvals"],
        "payouts": values["payouts"],
        "payouts_amount": format_yuan(values["payouts_fen"]),
        "repayments": values["repayments"],
        "repayments_amount": format_yuan(values["repayments_fen"]),
    }


@router.get(
    "/overview",
    response_model=views.Overview,
    responses=responses(403),
    summary="Today, the book and a 30-day trend / 平台概览",
)
def platform_overview(
    staff: Annotated[Staff, permitted("reports.read")], request: Request
) -> dict[str, Any]:
    figures = overview(platform(request).sessions, channel=visible_channel(staff))
    book = figures.book
    return {
        "business_date": figures.business_date.isoformat(),
        "channel": figures.channel,
        "today": _point(figures.today),
        "book": {
            "as_of": figures.book_as_of.isoformat() if figures.book_as_of else None,
            "open_loans": book["open_loans"],
            "principal_outstanding": format_yuan(book["principal_outstanding_fen"]),
            "overdue_loans": book["overdue_loans"],
            "overdue_principal": format_yuan(book["overdue_principal_fen"]),
            "overdue_rate": rate(book["overdue_principal_fen"], book["principal_outstanding_fen"]),
        },
        "trend": [
            {
                "business_date": day.isoformat(),
                **_point(values),
                "open_loans": values["open_loans"],
                "principal_outstanding": format_yuan(values["principal_outstanding_fen"]),
                "overdue_principal": format_yuan(values["overdue_principal_fen"]),
                "overdue_rate": rate(
                    values["overdue_principal_fen"], values["principal_outstanding_fen"]
                ),
            }
            for day, values in figures.trend
        ],
        "definitions": DEFINITIONS,
    }
