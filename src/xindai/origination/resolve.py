"""Requests whose result never arrived (主动查询): payouts, collections, refunds and card
checks still waiting on the payment channel longer than a set time are asked about with
the channel's order query and resolved — applied through the same `payments.Settlement` as
a confirmed callback, or failed when the channel has no record of them (it never took the
request: a payout becomes `payout_failed`, which finance may retry or cancel).

Run by `xindai payments resolve` and by close of business (the `payments` step, before
withholding); each request is resolved in its own transaction (or in the caller's).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from xindai.cob.registry import StepContext, StepFn, StepRegistry
from xindai.integrations.errors import ProviderRejected, ProviderUnavailable
from xindai.integrations.ports import CardStatus, Transfer, TransferKind, TransferStatus
from xindai.origination.payments import Settlement
from xindai.platform import Platform
from xindai.store import repository as repo
from xindai.store.models_origination import (
    Application,
    BankCard,
    Payout,
    RefundTask,
    Withholding,
)

Begin = Callable[[], AbstractContextManager[Session]]


@dataclass
class ResolveReport:
    """How many requests of each kind were looked at and what became of them."""

    outcomes: Counter[str] = field(default_factory=Counter)
    unreachable: int = 0  # the channel could not be asked: they stay for the next run

    @property
    def resolved(self) -> int:
        return sum(n for what, n in self.outcomes.items() if not what.endswith(":pending"))

    def as_dict(self) -> dict[str, int]:
        return {**dict(sorted(self.outcomes.items())), "unreachable": self.unreachable}


class PaymentResolver:
    """Ask the channel about everything pending longer than `older_than` and apply it."""

    def __init__(self, platform: Platform, begin: Begin | None = None):
        self.p = platform
        self.begin: Begin = begin or platform.sessions.begin

    def resolve(self, older_than: timedelta) -> ResolveReport:
        report = ResolveReport()
        cutoff = self.p.clock() - older_than
        with self.begin() as session:
            payouts = session.scalars(
                select(Payout.request_ref).where(
                    Payout.status == "requested", Payout.created_at <= cutoff
                )
            ).all()
            collections = session.scalars(
                select(Withholding.request_ref).where(
                    Withholding.status == "requested", Withholding.created_at <= cutoff
                )
            ).all()
            refunds = session.scalars(
                select(RefundTask.refund_ref).where(
                    RefundTask.status == "refunding", RefundTask.done_at <= cutoff
                )
            ).all()
            cards = session.scalars(
                select(BankCard.id).where(
                    BankCard.status == "pending",
                    BankCard.verify_ref.is_not(None),
                    BankCard.created_at <= cutoff,
                )
            ).all()
        for kind, refs in (("payout", payouts), ("withholding", collections), ("refund", refunds)):
            for ref in refs:
                if ref is not None:
                    self._transfer(kind, ref, report)
        for card_id in cards:
            self._card(card_id, report)
        return report

    def resolve_one(self, kind: str, request_ref: str) -> ResolveReport:
        """Ask the channel about one request (`kind` payout, withholding or refund) now,
        however recent, and apply its answer as `resolve` does."""
        report = ResolveReport()
        self._transfer(kind, request_ref, report)
        return report

    def _transfer(self, kind: str, request_ref: str, report: ResolveReport) -> None:
        try:
            transfer = self.p.providers.payment.query(request_ref)
        except ProviderUnavailable:
            report.unreachable += 1
            return
        except ProviderRejected as exc:
            if exc.status_code != 404:
                report.unreachable += 1
                return
            transfer = Transfer(  # the channel never took it: nothing moved
                request_ref,
                TransferKind.PAYOUT if kind != "withholding" else TransferKind.WITHHOLD,
                TransferStatus.FAILED,
                0,
                reason="never_accepted",
            )
        if transfer.status not in (TransferStatus.SUCCEEDED, TransferStatus.FAILED):
            report.outcomes[f"{kind}:pending"] += 1
            return
        with self.begin() as session:
            today = repo.get_business_date(session) or self.p.clock().date()
            outcome = Settlement(self.p.loans, self.p.clock(), today).apply(
                session, request_ref, transfer
            )
        report.outcomes[f"{kind}:{outcome}"] += 1

    def _card(self, card_id: int, report: ResolveReport) -> None:
        with self.begin() as session:
            card = session.get(BankCard, card_id)
            if card is None or card.status != "pending" or not card.verify_ref:
                return
            verify_ref = card.verify_ref
        try:
            found = self.p.providers.payment.card_verification(verify_ref)
            status = found.status
        except ProviderUnavailable:
            report.unreachable += 1
            return
        except ProviderRejected as exc:
            if exc.status_code != 404:
                report.unreachable += 1
                return
            status = CardStatus.FAILED
        if status is CardStatus.SMS_SENT:
            report.outcomes["card:pending"] += 1
            return
        with self.begin() as session:
            card = session.get(BankCard, card_id, with_for_update=True)
            if card is None or card.status != "pending":
                return
            card.status = "verified" if status is CardStatus.VERIFIED else "failed"
        report.outcomes[f"card:{card.status}"] += 1


def pending_payouts(session: Session) -> list[dict[str, object]]:
    """Payouts still waiting for the channel, oldest first (for finance's 放款管理)."""
    rows = session.execute(
        select(Payout, Application.status)
        .join(Application, Application.id == Payout.application_id)
        .where(Payout.status == "requested")
        .order_by(Payout.created_at)
    ).all()
    return [
        {
            "application_id": payout.application_id,
            "loan_id": payout.loan_id,
            "request_ref": payout.request_ref,
            "amount_fen": payout.amount_fen,
            "attempt": payout.attempt,
            "created_at": payout.created_at.isoformat(),
            "application_status": status,
        }
        for payout, status in rows
    ]


def resolve_step(platform: Platform) -> StepFn:
    """Close of business: resolve what has waited longer than the configured time, inside the
    step's transaction (a session on the step's connection)."""

    def run(ctx: StepContext) -> int:
        @contextmanager
        def begin() -> Iterator[Session]:
            session = Session(bind=ctx.connection, join_transaction_mode="create_savepoint")
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

        after = timedelta(minutes=platform.settings.payments_resolve_after_minutes)
        return PaymentResolver(platform, begin).resolve(after).resolved

    return run


def register_resolve_step(registry: StepRegistry, platform: Platform) -> None:
    """Add the `payments` step (resolve pending requests) right before withholding."""
    registry.register("payments", resolve_step(platform), after="penalty", partitioned=False)


__all__ = [
    "PaymentResolver",
    "ResolveReport",
    "pending_payouts",
    "register_resolve_step",
    "resolve_step",
]
