"""Automatic withholding (自动代扣), close-of-business step 4: for every open loan with an
unpaid amount due on or before the business date, one collection request per loan and day
through the payment channel, from the card the loan was paid out to. The loan is credited
when the channel's signed callback confirms (see `journey.handle_payment_callback`).

The request reference is deterministic (loan and date), so a rerun of the step asks the
channel again with the same reference and the channel pays it once.
"""

from __future__ import annotations

from xindai.cob.registry import StepContext, StepFn, StepRegistry
from xindai.platform import Platform


def withholding_ref(loan_id: int, day: str) -> str:
    return f"WH{loan_id:08d}D{day.replace('-', '')}"


def withholding_step(platform: Platform) -> StepFn:
    """The step callable for `StepRegistry.register("withholding", …)`."""

    def run(ctx: StepContext) -> int:
        due = ctx.execute(
            """
            SELECT l.id, a.card_id,
                   SUM(i.principal_due_fen + i.interest_due_fen + i.fee_due_fen
                       + i.penalty_due_fen - i.principal_paid_fen - i.interest_paid_fen
                       - i.fee_paid_fen - i.penalty_paid_fen - i.principal_waived_fen
                       - i.interest_waived_fen - i.fee_waived_fen - i.penalty_waived_fen)
            FROM loans l
            JOIN installments i ON i.loan_id = l.id
            JOIN applications a ON a.loan_id = l.id
            WHERE l.id BETWEEN :lo AND :hi AND l.status IN ('active', 'overdue')
              AND i.cancelled = :false AND i.due_date <= :d
            GROUP BY l.id, a.card_id
            """,
            false=False,
        ).all()
        day = ctx.business_date.isoformat()
        sent = 0
        for loan_id, card_id, amount in (tuple(row) for row in due):
            if not amount or amount <= 0:
                continue
            ref = withholding_ref(int(loan_id), day)
            exists = ctx.scalar(
                "SELECT COUNT(*) FROM withholdings WHERE request_ref = :ref", ref=ref
            )
            if not exists:
                ctx.execute(
                    "INSERT INTO withholdings (request_ref, loan_id, business_date,"
                    " amount_fen, purpose, status, created_at)"
                    " VALUES (:ref, :loan, :d, :amount, 'repayment', 'requested', :now)",
                    ref=ref,
                    loan=int(loan_id),
                    amount=int(amount),
                )
            card = ctx.scalar("SELECT card_enc FROM bank_cards WHERE id = :card", card=card_id)
            number = platform.cipher.decrypt("card", card)
            platform.providers.payment.withhold(ref, number, int(amount), platform.callback_url)
            sent += 1
        return sent

    return run


def registry_with_withholding(base: StepRegistry, platform: Platform) -> StepRegistry:
    """A copy of `base` whose withholding step collects through `platform`'s channel."""
    registry = base.copy()
    registry.register("withholding", withholding_step(platform))
    return registry


__all__ = ["registry_with_withholding", "withholding_ref", "withholding_step"]
