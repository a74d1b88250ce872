"""A borrower's history with us as the reloan ladder reads it: the most days overdue d_k of
each settled loan in the order settled, and what is still open (one query per call)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from xindai.money import Fen
from xindai.risk.reloan import DEFAULT_RELOAN_LADDER, ReloanDecision, ReloanLadder, evaluate_reloan
from xindai.servicing.state import LoanStatus
from xindai.store.fastsql import fetch, in_list

_SETTLED = LoanStatus.SETTLED.value
_OPEN = (LoanStatus.ACTIVE.value, LoanStatus.OVERDUE.value)


@dataclass(frozen=True, slots=True)
class BorrowerHistory:
    """`settled_max_dpd`: d_k of each settled loan, oldest settlement first; `open_loans`,
    `open_principal_fen` and `open_max_dpd` over the loans still open (active or overdue);
    `worst_dpd` the most days overdue on any loan ever."""

    settled_max_dpd: tuple[int, ...] = ()
    open_loans: int = 0
    open_principal_fen: Fen = 0
    open_dpd: int = 0
    worst_dpd: int = 0

    @property
    def loans(self) -> int:
        return len(self.settled_max_dpd) + self.open_loans

    def reloan(self, ladder: ReloanLadder = DEFAULT_RELOAN_LADDER) -> ReloanDecision:
        return evaluate_reloan(self.settled_max_dpd, ladder)


def histories(session: Session, borrower_ids: Iterable[int]) -> dict[int, BorrowerHistory]:
    """The history of each borrower in `borrower_ids` (an empty history when none)."""
    wanted = list(dict.fromkeys(borrower_ids))
    if not wanted:
        return {}
    test, params = in_list(session, wanted)
    # the statuses are picked here, not in SQL: with a status test SQLite's planner takes
    # the status index and reads every settled loan (measured 12x slower for 16 borrowers)
    rows = fetch(
        session,
        "SELECT borrower_id, status, max_dpd, dpd, principal_outstanding_fen FROM loans"
        f" WHERE borrower_id {test} ORDER BY borrower_id, closed_on, id",
        params,
    )
    settled: dict[int, list[int]] = defaultdict(list)
    open_count: dict[int, int] = defaultdict(int)
    open_principal: dict[int, int] = defaultdict(int)
    open_dpd: dict[int, int] = defaultdict(int)
    worst: dict[int, int] = defaultdict(int)
    for borrower_id, status, max_dpd, dpd, principal in rows:
        if status != _SETTLED and status not in _OPEN:
            continue
        worst[borrower_id] = max(worst[borrower_id], max_dpd or 0, dpd or 0)
        if status == _SETTLED:
            settled[borrower_id].append(max_dpd or 0)
        else:
            open_count[borrower_id] += 1
            open_principal[borrower_id] += principal
            open_dpd[borrower_id] = max(open_dpd[borrower_id], dpd or 0)
    return {
        b: BorrowerHistory(
            tuple(settled.get(b, ())),
            open_count.get(b, 0),
            open_principal.get(b, 0),
            open_dpd.get(b, 0),
            worst.get(b, 0),
        )
        for b in wanted
    }


def history(session: Session, borrower_id: int) -> BorrowerHistory:
    return histories(session, [borrower_id])[borrower_id]
