"""Finance's payment desk (/api/v1/admin): requests still waiting on the channel, resolving
them with its order query (主动查询), and refunds of parked credit balances (溢缴款退款).
Every call needs `payouts.manage`; every change is audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from xindai.api import views_admin as views
from xindai.api.deps import PathId, Staff, client_ip, permitted, platform
from xindai.api.openapi import responses
from xindai.money import format_yuan
from xindai.origination.refunds import RefundService
from xindai.origination.resolve import PaymentResolver
from xindai.security import audit
from xindai.store.models_origination import Payout, Withholding

router = APIRouter(prefix="/api/v1/admin", tags=["admin 管理后台"])


@router.get(
    "/payments/pending",
    response_model=list[views.PendingPayment],
    responses=responses(403),
    summary="Payouts and collections still waiting on the channel / 处理中的放款与扣款",
)
def pending(
    staff: Annotated[Staff, permitted("payouts.manage")], request: Request
) -> list[dict[str, object]]:
    with platform(request).sessions() as session:
        payouts = session.scalars(
            select(Payout).where(Payout.status == "requested").order_by(Payout.created_at)
        ).all()
        collections = session.scalars(
            select(Withholding)
            .where(Withholding.status == "requested")
            .order_by(Withholding.created_at)
            .limit(500)
        ).all()
        return [
            {
                "kind": "payout",
                "request_ref": p.request_ref,
                "loan_id": p.loan_id,
                "amount": format_yuan(p.amount_fen),
                "purpose": "payout",
                "created_at": p.created_at.isoformat(),
            }
            for p in payouts[:500]
        ] + [
            {
                "kind": "withholding",
                "request_ref": w.request_ref,
                "loan_id": w.loan_id,
                "amount": format_yuan(w.amount_fen),
                "purpose": w.purpose,
                "created_at": w.created_at.isoformat(),
            }
            for w in collections
        ]


@router.post(
    "/payments/resolve",
    response_model=views.ResolveResult,
    responses=responses(403),
    summary="Ask the channel about requests without a result / 主动查询",
)
def resolve(
    staff: Annotated[Staff, permitted("payouts.manage")],
    request: Request,
    older_than_minutes: Annotated[int, Query(ge=0, le=100_000)] = 10,
) -> dict[str, object]:
    p = platform(request)
    report = PaymentResolver(p).resolve(timedelta(minutes=older_than_minutes))
    result = {"outcomes": dict(report.outcomes), "unreachable": report.unreachable}
    with p.sessions.begin() as session:
        audit.record(
            session,
            actor=staff.username,
            action="payments.resolve",
            resource="payments",
            resource_id=0,
            ip=client_ip(request),
            after=result,
            at=p.clock(),
        )
    return result


@router.get(
    "/refunds",
    response_model=list[views.RefundTaskView],
    responses=responses(403),
    summary="Refund tasks of parked credit balances / 溢缴款退款任务",
)
def refunds(
    staff: Annotated[Staff, permitted("payouts.manage")],
    request: Request,
    status: Annotated[str | None, Query(pattern="^(open|refunding|refunded)$")] = None,
) -> list[dict[str, object]]:
    return RefundService(platform(request)).list(status)


@router.post(
    "/refunds/{task_id}/send",
    response_model=views.RefundTaskView,
    responses=responses(403, 404, 409, 502),
    summary="Send a refund to the borrower's card / 发起退款",
)
def send_refund(
    task_id: PathId, staff: Annotated[Staff, permitted("payouts.manage")], request: Request
) -> dict[str, object]:
    p = platform(request)
    result = RefundService(p).send(task_id, actor=staff.username)
    with p.sessions.begin() as session:
        audit.record(
            session,
            actor=staff.username,
            action="refund.send",
            resource="refund_task",
            resource_id=task_id,
            ip=client_ip(request),
            after={"refund_ref": result["refund_ref"], "amount": result["amount"]},
            at=p.clock(),
        )
    return result
