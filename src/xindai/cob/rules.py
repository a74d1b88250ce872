"""The loan columns that carry a loan's servicing rules into set-based close of business.

Close of business never loads a product: grace days, the daily penalty rate (as an exact
integer fraction), the penalty base, the cap and the one-off overdue fee live on the loan row.
Whoever books a loan writes them with `loan_rule_columns`, so that the SQL computes exactly
what `servicing.account.close_day` computes from `LoanRules`.
"""

from __future__ import annotations

from typing import Any

from xindai.servicing.state import LoanRules


def loan_rule_columns(rules: LoanRules) -> dict[str, Any]:
    """`loans` column values for `rules` (rates as numerator / denominator, caps in fen)."""
    numerator, denominator = rules.penalty_daily_rate.as_integer_ratio()
    return {
        "grace_days": rules.grace_days,
        "penalty_rate_num": numerator,
        "penalty_rate_den": denominator,
        "penalty_on_total": rules.penalty_on_total,
        "penalty_cap_fen": rules.penalty_cap_fen,
        "overdue_fee_fen": rules.overdue_fee_fen,
    }
