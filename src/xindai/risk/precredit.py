"""Pre-credit (预授信, SPEC §7): the batch that grants whitelisted repeat borrowers a revolving
credit line before they apply, renews it while they stay whitelisted and freezes it when they
fall out.

A candidate is a KYC-verified borrower with at least one settled loan. A candidate is
whitelisted when the reloan ladder says eligible, no open loan of theirs is overdue (dpd > 0)
and neither their ID number nor their phone is on an active blacklist entry; the line's limit
is the ladder's limit for the next level. The batch walks borrower ids in chunks (a fixed
number of queries per chunk, one transaction each) and is idempotent: a second run for the
same date changes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, sessionmaker

from xindai.errors import InvalidValue
from xindai.money import Fen
from xindai.risk.blacklist_store import active_entries
from xindai.risk.history import BorrowerHistory, histories
from xindai.risk.reloan import DEFAULT_RELOAN_LADDER, ReloanLadder
from xindai.servicing.state import LoanStatus
from xindai.store.models import Borrower, Loan
from xindai.store.models_risk import CreditLine

ACTIVE, FROZEN, CLOSED = "active", "frozen", "closed"
"""The statuses of a credit line."""

FROZEN_BY_BATCH = "precredit"
"""`detail["frozen_by"]` of a line the batch froze (the batch reactivates only those)."""

DEFAULT_CHUNK_SIZE = 1_000

# reason codes of a candidate who is not whitelisted (the ladder's own code when it refuses)
NOT_CANDIDATE = "PRECREDIT_NOT_CANDIDATE"
OPEN_LOAN_OVERDUE = "PRECREDIT_OPEN_LOAN_OVERDUE"
BLACKLISTED = "PRECREDIT_BLACKLISTED"

_SETTLED = LoanStatus.SETTLED.value


# ------------------------------------------------------------------ blacklist


def active_blacklist_hits(
    session: Session, identifiers: Iterable[tuple[str, str | None]], at: datetime
) -> set[tuple[str, str]]:
    """Which (kind, value_hash) pairs of `identifiers` are on their own kind's list with an
    entry active at `at` (created_at ≤ at < expiry or removal); one query for all."""
    wanted = {(kind, value) for kind, value in identifiers if value}
    if not wanted:
        return set()
    entries = active_entries(session, {value for _, value in wanted}, at)
    return {(e.kind.value, e.value_hash) for e in entries} & wanted


# ------------------------------------------------------------------ the whitelist rule


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a borrower is whitelisted and, if so, at which ladder level and limit (fen);
    otherwise `reason` is a stable code and the messages say why."""

    whitelisted: bool
    level: int | None
    limit_fen: Fen
    reason: str | None
    message_zh: str
    message_en: str
    basis: dict[str, Any] = field(default_factory=dict)


def whitelist_verdict(
    history: BorrowerHistory,
    *,
    kyc_verified: bool,
    blacklisted_kinds: Iterable[str] = (),
    ladder: ReloanLadder = DEFAULT_RELOAN_LADDER,
) -> Verdict:
    """The pre-credit rule over one borrower's history (pure): a KYC-verified borrower with a
    settled loan, eligible on the reloan ladder, no open loan overdue, not blacklisted."""
    decision = history.reloan(ladder)
    basis: dict[str, Any] = {
        "settled_loans": len(history.settled_max_dpd),
        "settled_max_dpd": list(history.settled_max_dpd),
        "levels": list(decision.levels),
        "next_level": decision.next_level,
        "level_rule": decision.level_rules[-1].value if decision.level_rules else None,
        "open_loans": history.open_loans,
        "open_principal_fen": history.open_principal_fen,
        "open_dpd": history.open_dpd,
    }
    kinds = sorted(set(blacklisted_kinds))
    if not kyc_verified or not history.settled_max_dpd:
        return Verdict(
            False,
            None,
            0,
            NOT_CANDIDATE,
            "未完成实名认证或没有已结清的借款",
            "not KYC-verified or no settled loan",
            basis,
        )
    if not decision.eligible:
        return Verdict(
            False,
            None,
            0,
            decision.reason,
            decision.message_zh,
            decision.message_en,
            basis | {"refused_at_loan": decision.refused_at_loan},
        )
    if history.open_dpd > 0:
        return Verdict(
            False,
            None,
            0,
            OPEN_LOAN_OVERDUE,
            f"有逾期未还的借款（逾期 {history.open_dpd} 天）",
            f"an open loan is {history.open_dpd} days overdue",
            basis,
        )
    if kinds:
        return Verdict(
            False,
            None,
            0,
            BLACKLISTED,
            f"命中黑名单：{', '.join(kinds)}",
            f"on a blacklist: {', '.join(kinds)}",
            basis | {"blacklisted": kinds},
        )
    assert decision.next_level is not None
    return Verdict(
        True,
        decision.next_level,
        decision.limit_fen,
        None,
        decision.message_zh,
        decision.message_en,
        basis,
    )


# ------------------------------------------------------------------ the batch


@dataclass(frozen=True, slots=True)
class PrecreditProgress:
    """Reported after each chunk: `borrowers` examined so far of about `total`."""

    chunk: int
    borrowers: int
    total: int


@dataclass(slots=True)
class PrecreditSummary:
    """What a run did. Every borrower examined counts once in granted (a new line), updated
    (limit, level, expiry or status changed), frozen (an active line frozen), unchanged (a
    line left as it was) or refused (not whitelisted and no line to freeze)."""

    as_of: date
    batch_id: str
    candidates: int = 0
    whitelisted: int = 0
    granted: int = 0
    updated: int = 0
    frozen: int = 0
    unchanged: int = 0
    refused: int = 0
    chunks: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "batch_id": self.batch_id,
            "candidates": self.candidates,
            "whitelisted": self.whitelisted,
            "granted": self.granted,
            "updated": self.updated,
            "frozen": self.frozen,
            "unchanged": self.unchanged,
            "refused": self.refused,
            "chunks": self.chunks,
        }


def batch_id_for(as_of: date) -> str:
    """The batch id of a run for `as_of`: the same for every run of that date (idempotence)."""
    return f"precredit-{as_of.isoformat()}"


def _candidates(after: int) -> Select[int]:
    settled = select(Loan.borrower_id).where(Loan.status == _SETTLED)
    return select(Borrower.id).where(
        Borrower.kyc_status == "verified", Borrower.id.in_(settled), Borrower.id > after
    )


def count_candidates(session: Session) -> int:
    """KYC-verified borrowers with at least one settled loan."""
    return int(session.scalar(select(func.count()).select_from(_candidates(0).subquery())) or 0)


def _changes(line: CreditLine, wanted: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    changes: dict[str, dict[str, Any]] = {}
    for name, value in wanted.items():
        old = getattr(line, name)
        if old != value:
            plain = [v.isoformat() if isinstance(v, date) else v for v in (old, value)]
            changes[name] = {"before": plain[0], "after": plain[1]}
    return changes


class _Chunk:
    """One chunk of borrower ids, worked in the caller's transaction."""

    def __init__(
        self,
        session: Session,
        summary: PrecreditSummary,
        *,
        expires_on: date,
        now: datetime,
        ladder: ReloanLadder,
    ) -> None:
        self.session = session
        self.summary = summary
        self.expires_on = expires_on
        self.now = now
        self.ladder = ladder

    def run(self, candidate_ids: list[int], low: int, high: int | None) -> int:
        """Work the candidates, and every line held by a borrower with an id in (low, high]
        who is no longer a candidate; returns how many borrowers were examined."""
        session = self.session
        line_query = select(CreditLine).where(CreditLine.borrower_id > low)
        if high is not None:
            line_query = line_query.where(CreditLine.borrower_id <= high)
        lines = {
            line.borrower_id: line
            for line in session.scalars(
                line_query.order_by(CreditLine.borrower_id).with_for_update()
            )
        }
        ids = sorted(set(candidate_ids) | {b for b, line in lines.items() if line.status != CLOSED})
        if not ids:
            return 0
        borrowers = {b.id: b for b in session.scalars(select(Borrower).where(Borrower.id.in_(ids)))}
        history_of = histories(session, ids)
        hits = active_blacklist_hits(
            session,
            [
                pair
                for b in borrowers.values()
                for pair in (("id_number", b.id_number_hash), ("phone", b.mobile_hash))
            ],
            self.now,
        )
        candidates = set(candidate_ids)
        new_lines: list[CreditLine] = []
        for borrower_id in ids:
            borrower = borrowers.get(borrower_id)
            kinds: list[str] = []
            if borrower is not None:
                kinds = [
                    kind
                    for kind, value in (
                        ("id_number", borrower.id_number_hash),
                        ("phone", borrower.mobile_hash),
                    )
                    if (kind, value) in hits
                ]
            verdict = whitelist_verdict(
                history_of.get(borrower_id, BorrowerHistory()),
                kyc_verified=borrower_id in candidates,
                blacklisted_kinds=kinds,
                ladder=self.ladder,
            )
            if borrower_id in candidates:
                self.summary.candidates += 1
            if verdict.whitelisted:
                self.summary.whitelisted += 1
            line = lines.get(borrower_id)
            if line is None:
                if verdict.whitelisted:
                    new_lines.append(self._new_line(borrower_id, verdict))
                else:
                    self.summary.refused += 1
            elif verdict.whitelisted:
                self._renew(line, verdict)
            else:
                self._freeze(line, verdict)
        session.add_all(new_lines)
        session.flush()
        return len(ids)

    def _detail(self, verdict: Verdict) -> dict[str, Any]:
        return {
            "batch_id": self.summary.batch_id,
            "as_of": self.summary.as_of.isoformat(),
            "basis": verdict.basis,
            "message_zh": verdict.message_zh,
            "message_en": verdict.message_en,
        }

    def _new_line(self, borrower_id: int, verdict: Verdict) -> CreditLine:
        assert verdict.level is not None
        self.summary.granted += 1
        return CreditLine(
            borrower_id=borrower_id,
            limit_fen=verdict.limit_fen,
            level=verdict.level,
            status=ACTIVE,
            granted_at=self.now,
            expires_on=self.expires_on,
            batch_id=self.summary.batch_id,
            detail=json.dumps(
                self._detail(verdict) | {"reason": "granted"}, ensure_ascii=False, sort_keys=True
            ),
            updated_at=self.now,
        )

    def _renew(self, line: CreditLine, verdict: Verdict) -> None:
        if line.status == CLOSED:  # a closed line stays closed
            self.summary.unchanged += 1
            return
        previous = json.loads(line.detail or "{}")
        wanted: dict[str, Any] = {
            "limit_fen": verdict.limit_fen,
            "level": verdict.level,
            "expires_on": self.expires_on,
        }
        reactivate = line.status == FROZEN and previous.get("frozen_by") == FROZEN_BY_BATCH
        if reactivate:  # staff freezes hold until staff lifts them
            wanted["status"] = ACTIVE
        changes = _changes(line, wanted)
        if not changes:
            self.summary.unchanged += 1
            return
        for name, value in wanted.items():
            setattr(line, name, value)
        detail = self._detail(verdict) | {"reason": "renewed", "changes": changes}
        if line.status == FROZEN:  # still frozen by staff: keep why
            detail |= {k: v for k, v in previous.items() if k.startswith(("frozen", "freeze"))}
        line.detail = json.dumps(detail, ensure_ascii=False, sort_keys=True)
        line.batch_id = self.summary.batch_id
        line.updated_at = self.now
        self.summary.updated += 1

    def _freeze(self, line: CreditLine, verdict: Verdict) -> None:
        if line.status != ACTIVE:
            self.summary.unchanged += 1
            return
        line.status = FROZEN
        line.detail = json.dumps(
            self._detail(verdict)
            | {
                "reason": "frozen",
                "changes": {"status": {"before": ACTIVE, "after": FROZEN}},
                "frozen_by": FROZEN_BY_BATCH,
                "frozen_at": self.now.isoformat(),
                "freeze_reason": verdict.reason,
                "freeze_message_zh": verdict.message_zh,
                "freeze_message_en": verdict.message_en,
            },
            ensure_ascii=False,
            sort_keys=True,
        )
        line.batch_id = self.summary.batch_id
        line.updated_at = self.now
        self.summary.frozen += 1


def run_precredit(
    sessions: sessionmaker[Session],
    *,
    as_of: date,
    now: datetime,
    line_days: int,
    ladder: ReloanLadder = DEFAULT_RELOAN_LADDER,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[PrecreditProgress], None] | None = None,
) -> PrecreditSummary:
    """Grant, renew or freeze the credit lines of every candidate as of `as_of` (lines expire
    `line_days` after it; blacklist entries are those active at `now`, which also stamps the
    rows changed). Chunks of `chunk_size` borrower ids, one transaction each; a chunk that
    fails rolls back alone and a re-run completes the work."""
    if chunk_size < 1:
        raise InvalidValue("chunk_size", chunk_size, "must be at least 1", "必须至少为 1")
    if line_days < 1:
        raise InvalidValue("line_days", line_days, "must be at least 1", "必须至少为 1")
    started = time.perf_counter()
    summary = PrecreditSummary(as_of=as_of, batch_id=batch_id_for(as_of))
    expires_on = as_of + timedelta(days=line_days)
    with sessions() as session:
        total = count_candidates(session)
    done, low = 0, 0
    while True:
        with sessions.begin() as session:
            ids = list(session.scalars(_candidates(low).order_by(Borrower.id).limit(chunk_size)))
            last = len(ids) < chunk_size  # the final chunk also takes every line above `low`
            high = None if last else ids[-1]
            worker = _Chunk(session, summary, expires_on=expires_on, now=now, ladder=ladder)
            done += worker.run(ids, low, high)
        summary.chunks += 1
        if progress is not None:
            progress(PrecreditProgress(summary.chunks, done, max(total, done)))
        if high is None:
            break
        low = high
    summary.seconds = time.perf_counter() - started
    return summary
