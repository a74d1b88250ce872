"""Automatic withholding (自动代扣), close-of-business step 4: for every open loan with an
unpaid amount due on or before the business date, one collection request per loan and day
through the payment channel, from the card the loan was paid out to, for what is due less
what is already in flight for the loan. The loan is credited when the channel confirms (see
`journey_repayment.handle_payment_callback` and `payments.Settlement`).

How often (`WithholdingCadence`, from the settings `withhold_daily_until_dpd` and
`withhold_then_every_days`, 7 and 7 by default): every day from the due date until the loan
is that many days past due, then only every so many days (DPD 14, 21, 28 … by default), as a
lender does once the account has shown it is empty: each failed request costs the channel's
fee and lowers the merchant's success rate with the banks, and the borrower can still pay
in the app on any day. `withhold_then_every_days = 1` asks every day however late.

The requests of a partition are committed before the channel is asked (after commit), so a
callback never meets a request the database does not hold and the write lock is not held
while the channel answers; the partition is done once every request was sent. The request
reference is random (`payments.new_request_ref`); a rerun of the step finds the day's
request of the loan and asks the channel again with the same reference, which the channel
pays once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from xindai.cob.registry import StepContext, StepFn, StepRegistry
from xindai.errors import InvalidValue
from xindai.origination.payments import new_request_ref
from xindai.platform import Platform
from xindai.settings import Settings


@dataclass(frozen=True, slots=True)
class WithholdingCadence:
    """On which days past due a loan is withheld: every day up to `daily_until_dpd`, then
    every `then_every_days`-th day (counted from `daily_until_dpd`)."""

    daily_until_dpd: int = 7
    then_every_days: int = 7

    def __post_init__(self) -> None:
        if self.daily_until_dpd < 0:
            raise InvalidValue(
                "withhold_daily_until_dpd", self.daily_until_dpd, "must be ≥ 0", "不能小于 0"
            )
        if self.then_every_days < 1:
            raise InvalidValue(
                "withhold_then_every_days", self.then_every_days, "must be ≥ 1", "不能小于 1"
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> WithholdingCadence:
        return cls(settings.withhold_daily_until_dpd, settings.withhold_then_every_days)

    def withholds_at(self, dpd: int) -> bool:
        """Whether a loan `dpd` days past due is withheld today."""
        past = dpd - self.daily_until_dpd
        return past <= 0 or past % self.then_every_days == 0

    def sql(self, dpd: str) -> str:
        """`withholds_at` as a SQL condition on the column `dpd` (both dialects)."""
        n, k = int(self.daily_until_dpd), int(self.then_every_days)
        if k == 1:
            return "1 = 1"
        return f"({dpd} <= {n} OR ({dpd} - {n}) % {k} = 0)"


def withholding_step(platform: Platform) -> StepFn:
    """The step callable for `StepRegistry.register("withholding", …)`; how often a loan
    past due is asked for is the platform's `WithholdingCadence`."""
    cadence = WithholdingCadence.from_settings(platform.settings)

    def run(ctx: StepContext) -> int:
        due = ctx.execute(
            f"""
            SELECT l.id, a.card_id,
                   SUM(i.principal_due_fen + i.interest_due_fen + i.fee_due_fen
                       + i.penalty_due_fen - i.principal_paid_fen - i.interest_paid_fen
                       - i.fee_paid_fen - i.penalty_paid_fen - i.principal_waived_fen
                       - i.interest_waived_fen - i.fee_waived_fen - i.penalty_waived_fen)
            FROM loans l
            JOIN installments i ON i.loan_id = l.id
            JOIN applications a ON a.loan_id = l.id
            WHERE l.id BETWEEN :lo AND :hi AND l.status IN ('active', 'overdue')
              AND i.cancelled = :false AND i.due_date <= :d AND {cadence.sql("l.dpd")}
            GROUP BY l.id, a.card_id
            """,
            false=False,
        ).all()
        in_flight: dict[int, int] = dict(
            (int(loan), int(total or 0))
            for loan, total in (
                tuple(row)
                for row in ctx.execute(
                    """
                SELECT loan_id, SUM(amount_fen) FROM withholdings
                WHERE loan_id BETWEEN :lo AND :hi AND status = 'requested'
                  AND NOT (origin = 'auto' AND business_date = :d)
                GROUP BY loan_id
                """
                ).all()
            )
        )
        sent = 0
        for loan_id, card_id, amount_due in (tuple(row) for row in due):
            found = ctx.execute(
                "SELECT request_ref, amount_fen, status FROM withholdings"
                " WHERE loan_id = :loan AND business_date = :d AND origin = 'auto'",
                loan=int(loan_id),
            ).first()
            mine = None if found is None else tuple(found)
            if mine is not None:
                if mine[2] != "requested":
                    continue  # today's request already resolved
                ref, amount = str(mine[0]), int(mine[1])
            else:
                # never more than is due less what other requests may still collect
                amount = int(amount_due or 0) - in_flight.get(int(loan_id), 0)
                if amount <= 0:
                    continue
                ref = new_request_ref("withholding")
                ctx.execute(
                    "INSERT INTO withholdings (request_ref, loan_id, business_date,"
                    " amount_fen, purpose, status, origin, created_at)"
                    " VALUES (:ref, :loan, :d, :amount, 'repayment', 'requested', 'auto', :now)",
                    ref=ref,
                    loan=int(loan_id),
                    amount=amount,
                )
            card = ctx.scalar("SELECT card_enc FROM bank_cards WHERE id = :card", card=card_id)
            # asked once the request's row is committed: the channel's answer (or a late
            # callback) always finds it, and the write lock is not held while it answers
            ctx.after_commit.append(
                partial(
                    platform.providers.payment.withhold,
                    ref,
                    platform.cipher.decrypt("card", card),
                    amount,
                    platform.callback_url,
                )
            )
            sent += 1
        return sent

    return run


def registry_with_withholding(base: StepRegistry, platform: Platform) -> StepRegistry:
    """A copy of `base` whose withholding step collects through `platform`'s channel, after a
    `payments` step that resolves requests still waiting on it (`resolve`)."""
    from xindai.origination.resolve import register_resolve_step

    registry = base.copy()
    register_resolve_step(registry, platform)
    registry.register("withholding", withholding_step(platform))
    return registry


__all__ = ["WithholdingCadence", "registry_with_withholding", "withholding_step"]
