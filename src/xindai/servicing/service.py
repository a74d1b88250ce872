"""Loan servicing as service calls: each is one database transaction that loads the loan,
calls the pure core, saves the state, appends to the log and posts the journal entry.

Money-moving calls take an idempotency key: the same key twice posts once and returns the
first result. Postings on one loan serialise on the loan row (SELECT … FOR UPDATE on
PostgreSQL, BEGIN IMMEDIATE on SQLite). A back-dated transaction or a reversal replays the
log: the system transactions (due recognition, penalty accrual) after it are recomputed and
corrected, and every later transaction whose posting changed is re-posted in the journal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from xindai import clock
from xindai.errors import InvalidValue, XindaiError
from xindai.ledger.journal import (
    ensure_chart,
    lines_from_net,
    net_lines_by_txn,
    net_of,
    post_entry,
)
from xindai.money import Fen
from xindai.products.model import Product
from xindai.schedules.model import Method, PeriodUnit, ScheduleTerms
from xindai.schedules.reference import build_schedule
from xindai.servicing.account import (
    PayoffQuote,
    apply,
    effective_log,
    extension_quote,
    payoff_quote,
    refresh_status,
    reprocess,
)
from xindai.servicing.allocation import Component
from xindai.servicing.state import COMPONENTS, LoanRules, LoanState, LoanStatus
from xindai.servicing.transactions import NewInstallment, Posting, Txn, TxnKind, TxnLine
from xindai.store import repository as repo
from xindai.store.models import (
    ApprovalRequest,
    CobStepRun,
    IdempotencyRecord,
    Loan,
    LoanTransaction,
)

APPROVABLE = frozenset(
    {
        *(kind for kind in TxnKind if kind.needs_approval),
        TxnKind.DEFERRAL,
        TxnKind.EXTENSION,
        TxnKind.REFUND,
    }
)
"""The kinds a maker may request and a second person approve (maker-checker)."""


class IdempotencyConflict(XindaiError):
    code = "IDEMPOTENCY_KEY_REUSED"


class ApprovalError(XindaiError):
    code = "APPROVAL_INVALID"


@dataclass(frozen=True, slots=True)
class PostResult:
    loan_id: int
    seq: int
    kind: str
    status: str
    applied: dict[str, Fen]
    credit_fen: Fen
    replayed: bool = False

    def to_json(self) -> str:
        return json.dumps(
            {
                "loan_id": self.loan_id,
                "seq": self.seq,
                "kind": self.kind,
                "status": self.status,
                "applied": self.applied,
                "credit_fen": self.credit_fen,
                "replayed": self.replayed,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> PostResult:
        data = json.loads(text)
        return cls(**data)


def _fingerprint(scope: str, payload: dict[str, Any]) -> str:
    text = json.dumps({"scope": scope, **payload}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def booked_state(session: Session, loan: Loan) -> LoanState:
    """The state the loan was booked in: its schedule from the product and the loan's own
    rate and start date (deterministic), nothing disbursed."""
    product = repo.load_product(session, loan.product_code, loan.product_version)
    terms = schedule_terms_for(product, loan)
    return LoanState.booked(repo.rules_for(loan, product), build_schedule(terms))


def schedule_terms_for(product: Product, loan: Loan) -> ScheduleTerms:
    terms = product.schedule_terms(loan.principal_fen, loan.term, loan.booked_on)
    return replace(
        terms, annual_rate=Decimal(loan.annual_rate), interest_free_days=loan.interest_free_days
    )


@dataclass(frozen=True, slots=True)
class PayoutAmount:
    """What a loan pays out: principal less an upfront fee taken from the payout (砍头息)."""

    amount_fen: Fen
    upfront_fee_fen: Fen
    upfront_fee_mode: str


def payout_of(session: Session, loan: Loan) -> PayoutAmount:
    """The payout of `loan` as its booked schedule says (one rule for the disbursement
    posting and the payout request to the channel)."""
    product = repo.load_product(session, loan.product_code, loan.product_version)
    schedule = build_schedule(schedule_terms_for(product, loan))
    return PayoutAmount(
        schedule.disbursed_fen, schedule.upfront_fee_fen, product.upfront_fee_mode.value
    )


class LoanService:
    """The servicing calls of SPEC §4 over one database."""

    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    # ------------------------------------------------------------ booking

    def book_loan(
        self,
        product: Product,
        *,
        borrower_id: int,
        amount_fen: Fen,
        term: int,
        start: date,
        annual_rate: Decimal | None = None,
        first_loan: bool = False,
        channel: str = "default",
        actor: str = "system",
    ) -> int:
        """Book a loan (status pending) with its schedule; returns the loan id."""
        with self.sessions.begin() as session:
            ensure_chart(session)
            terms = product.schedule_terms(amount_fen, term, start, first_loan=first_loan)
            if annual_rate is not None:
                terms = replace(terms, annual_rate=annual_rate)
            schedule = build_schedule(terms)
            rules = LoanRules.from_product(product, amount_fen, terms.annual_rate)
            rate_num, rate_den = rules.penalty_daily_rate.as_integer_ratio()
            loan = Loan(
                borrower_id=borrower_id,
                product_code=product.code,
                product_version=product.version,
                status=LoanStatus.PENDING.value,
                principal_fen=amount_fen,
                annual_rate=str(terms.annual_rate),
                term=term,
                booked_on=start,
                interest_free_days=terms.interest_free_days,
                channel=channel,
                grace_days=rules.grace_days,
                penalty_rate_num=rate_num,
                penalty_rate_den=rate_den,
                penalty_on_total=rules.penalty_on_total,
                penalty_cap_fen=rules.penalty_cap_fen,
                overdue_fee_fen=rules.overdue_fee_fen,
                last_txn_seq=0,
                last_entry_no=0,
            )
            session.add(loan)
            session.flush()
            state = LoanState.booked(rules, schedule)
            repo.save_state(session, loan, state, repo.get_business_date(session) or start)
            return loan.id

    # ------------------------------------------------------------ posting

    def _post(
        self,
        loan_id: int,
        build: Callable[[LoanState, Loan, date], Txn],
        *,
        idempotency_key: str | None,
        scope: str,
        request: dict[str, Any],
        actor: str,
        external_ref: str | None = None,
        session: Session | None = None,
    ) -> PostResult:
        if session is not None:
            return self._post_in(
                session,
                loan_id,
                build,
                idempotency_key=idempotency_key,
                scope=scope,
                request=request,
                actor=actor,
                external_ref=external_ref,
            )
        try:
            with self.sessions.begin() as own:
                return self._post_in(
                    own,
                    loan_id,
                    build,
                    idempotency_key=idempotency_key,
                    scope=scope,
                    request=request,
                    actor=actor,
                    external_ref=external_ref,
                )
        except IntegrityError:
            # a concurrent call with the same idempotency key won: return its result
            if idempotency_key is None:
                raise
            with self.sessions.begin() as again:
                record = again.get(IdempotencyRecord, idempotency_key)
                if record is None:
                    raise
                return PostResult.from_json(record.result)

    def _post_in(
        self,
        session: Session,
        loan_id: int,
        build: Callable[[LoanState, Loan, date], Txn],
        *,
        idempotency_key: str | None,
        scope: str,
        request: dict[str, Any],
        actor: str,
        external_ref: str | None,
    ) -> PostResult:
        fingerprint = _fingerprint(scope, {"loan_id": loan_id, **request})
        if idempotency_key is not None:
            record = session.get(IdempotencyRecord, idempotency_key)
            if record is not None:
                if record.fingerprint != fingerprint:
                    raise IdempotencyConflict(
                        f"idempotency key {idempotency_key!r} was used for another request",
                        f"幂等键 {idempotency_key!r} 已用于其他请求",
                    )
                return PostResult.from_json(record.result)
        loan, state = repo.load_state(session, loan_id, for_update=True)
        business_date = repo.get_business_date(session) or clock.today()
        draft = build(state, loan, business_date)
        txn = replace(draft, seq=loan.last_txn_seq + 1)
        rows = repo.load_log(session, loan_id)
        effective = effective_log(repo.log_txns(rows))
        last_value = max((t.value_date for t in effective), default=txn.value_date)
        back_dated = txn.value_date < last_value or (
            txn.value_date < business_date
            and any(t.kind.is_system and t.value_date >= txn.value_date for t in effective)
        )
        if txn.kind is TxnKind.REVERSAL or back_dated:
            return self._replay_post(
                session,
                loan,
                rows,
                txn,
                business_date,
                actor,
                idempotency_key,
                fingerprint,
                scope,
                external_ref,
            )
        new_state, posting = apply(state, txn)
        new_state = refresh_status(new_state, business_date)
        self._record(
            session, loan, txn, posting, business_date, actor, idempotency_key, external_ref
        )
        repo.save_state(session, loan, new_state, business_date)
        result = PostResult(
            loan.id,
            txn.seq,
            txn.kind.value,
            new_state.status.value,
            {c.value: posting.applied.get(c) for c in COMPONENTS},
            posting.credit_fen,
        )
        self._remember(session, idempotency_key, scope, fingerprint, result)
        return result

    def _record(
        self,
        session: Session,
        loan: Loan,
        txn: Txn,
        posting: Posting,
        business_date: date,
        actor: str,
        idempotency_key: str | None,
        external_ref: str | None,
    ) -> None:
        session.add(
            repo.txn_row(
                loan.id,
                txn,
                posted_on=business_date,
                applied=posting.applied,
                credit_fen=posting.credit_fen,
                actor=actor,
                idempotency_key=idempotency_key,
                external_ref=external_ref,
            )
        )
        loan.last_txn_seq = max(loan.last_txn_seq, txn.seq)
        post_entry(
            session,
            loan,
            posting.lines,
            kind=txn.kind.value,
            business_date=business_date,
            value_date=txn.value_date,
            txn_seq=txn.seq,
            description=f"{txn.kind.value} #{txn.seq}",
            external_ref=external_ref,
        )

    def _remember(
        self, session: Session, key: str | None, scope: str, fingerprint: str, result: PostResult
    ) -> None:
        if key is not None:
            session.add(
                IdempotencyRecord(
                    key=key,
                    scope=scope,
                    fingerprint=fingerprint,
                    result=result.to_json(),
                    created_at=clock.now(),
                )
            )
            session.flush()  # a duplicate key fails here, inside this transaction

    def _replay_post(
        self,
        session: Session,
        loan: Loan,
        rows: list[LoanTransaction],
        txn: Txn,
        business_date: date,
        actor: str,
        key: str | None,
        fingerprint: str,
        scope: str,
        external_ref: str | None,
    ) -> PostResult:
        """Post `txn` (back-dated or a reversal): the pure `reprocess` recomputes the system
        transactions after it; here the log, the cached state and the journal follow."""
        outcome = reprocess(booked_state(session, loan), repo.log_txns(rows), txn, business_date)
        postings = outcome.postings
        for item in (txn, *outcome.additions):
            posting = postings.get(item.seq, Posting())
            mine = item is txn
            session.add(
                repo.txn_row(
                    loan.id,
                    item,
                    posted_on=business_date,
                    applied=posting.applied,
                    credit_fen=posting.credit_fen,
                    actor=actor if mine else "system",
                    idempotency_key=key if mine else None,
                    external_ref=external_ref if mine else None,
                )
            )
        loan.last_txn_seq = max(t.seq for t in (txn, *outcome.additions))
        reversed_now = {
            t.reverses_seq for t in (txn, *outcome.additions) if t.kind is TxnKind.REVERSAL
        }
        booked = net_lines_by_txn(session, loan.id)
        for row in rows:
            row.reversed = row.reversed or row.seq in reversed_now
            # the journal follows the replay: book the difference of every changed posting
            booked_net = booked.get(row.seq, {})
            should = net_of(postings[row.seq].lines) if row.seq in postings else {}
            if booked_net == should:
                continue
            difference = {
                k: should.get(k, 0) - booked_net.get(k, 0) for k in set(should) | set(booked_net)
            }
            post_entry(
                session,
                loan,
                lines_from_net({k: v for k, v in difference.items() if v}),
                kind="repost",
                business_date=business_date,
                value_date=row.value_date,
                txn_seq=row.seq,
                description=f"replay after #{txn.seq}: {row.kind} #{row.seq}",
            )
            if row.seq in postings:  # the allocation columns are derived: keep them current
                applied = postings[row.seq].applied
                row.principal_fen, row.interest_fen = applied.principal, applied.interest
                row.fee_fen, row.penalty_fen = applied.fee, applied.penalty
                row.credit_fen = postings[row.seq].credit_fen
        for item in (txn, *outcome.additions):
            if item.seq in postings:
                post_entry(
                    session,
                    loan,
                    postings[item.seq].lines,
                    kind=item.kind.value,
                    business_date=business_date,
                    value_date=item.value_date,
                    txn_seq=item.seq,
                    description=f"{item.kind.value} #{item.seq}",
                    external_ref=external_ref if item is txn else None,
                )
        repo.save_state(session, loan, outcome.state, business_date)
        posting = postings.get(txn.seq, Posting())
        result = PostResult(
            loan.id,
            txn.seq,
            txn.kind.value,
            outcome.state.status.value,
            {c.value: posting.applied.get(c) for c in COMPONENTS},
            posting.credit_fen,
            replayed=True,
        )
        self._remember(session, key, scope, fingerprint, result)
        return result

    # ------------------------------------------------------------ calls

    def disburse(
        self,
        loan_id: int,
        *,
        value_date: date,
        channel: str = "default",
        idempotency_key: str | None = None,
        external_ref: str | None = None,
        actor: str = "system",
        session: Session | None = None,
    ) -> PostResult:
        def build(state: LoanState, loan: Loan, today: date) -> Txn:
            payout = payout_of(self._session_of(loan), loan)
            return Txn(
                0,
                TxnKind.DISBURSEMENT,
                value_date,
                payout.amount_fen,
                channel=channel,
                upfront_fee_fen=payout.upfront_fee_fen,
                upfront_fee_mode=payout.upfront_fee_mode,
            )

        return self._post(
            loan_id,
            build,
            idempotency_key=idempotency_key,
            scope="disburse",
            request={"value_date": value_date, "channel": channel},
            actor=actor,
            external_ref=external_ref,
            session=session,
        )

    @staticmethod
    def _session_of(loan: Loan) -> Session:
        from sqlalchemy.orm import object_session

        session = object_session(loan)
        assert session is not None
        return session

    def repay(
        self,
        loan_id: int,
        amount_fen: Fen,
        *,
        value_date: date | None = None,
        channel: str = "default",
        idempotency_key: str | None = None,
        external_ref: str | None = None,
        actor: str = "system",
        session: Session | None = None,
    ) -> PostResult:
        def build(state: LoanState, loan: Loan, today: date) -> Txn:
            return Txn(0, TxnKind.REPAYMENT, value_date or today, amount_fen, channel=channel)

        return self._post(
            loan_id,
            build,
            idempotency_key=idempotency_key,
            scope="repay",
            request={"amount": amount_fen, "value_date": value_date, "channel": channel},
            actor=actor,
            external_ref=external_ref,
            session=session,
        )

    def cancel(self, loan_id: int, *, actor: str, idempotency_key: str | None = None) -> PostResult:
        """Cancel a loan that was never paid out (e.g. its payout failed for good)."""

        def build(state: LoanState, loan: Loan, today: date) -> Txn:
            return Txn(0, TxnKind.CANCELLATION, today, 0)

        return self._post(
            loan_id,
            build,
            idempotency_key=idempotency_key,
            scope="cancel",
            request={},
            actor=actor,
        )

    def reverse(
        self, loan_id: int, seq: int, *, reason: str, actor: str, idempotency_key: str | None = None
    ) -> PostResult:
        if not reason.strip():
            raise InvalidValue("reason", reason, "a reversal needs a reason", "冲正需要原因")

        def build(state: LoanState, loan: Loan, today: date) -> Txn:
            return Txn(0, TxnKind.REVERSAL, today, 0, reverses_seq=seq)

        return self._post(
            loan_id,
            build,
            idempotency_key=idempotency_key,
            scope="reverse",
            request={"seq": seq, "reason": reason},
            actor=actor,
        )

    def quote_payoff(self, loan_id: int, as_of: date | None = None) -> PayoffQuote:
        with self.sessions() as session:
            _, state = repo.load_state(session, loan_id)
            return payoff_quote(state, as_of or repo.require_business_date(session))

    def settle_early(
        self,
        loan_id: int,
        *,
        amount_fen: Fen,
        value_date: date | None = None,
        channel: str = "default",
        idempotency_key: str | None = None,
        actor: str = "system",
    ) -> PostResult:
        def build(state: LoanState, loan: Loan, today: date) -> Txn:
            return Txn(
                0, TxnKind.EARLY_SETTLEMENT, value_date or today, amount_fen, channel=channel
            )

        return self._post(
            loan_id,
            build,
            idempotency_key=idempotency_key,
            scope="settle",
            request={"amount": amount_fen, "value_date": value_date},
            actor=actor,
        )

    def extend(
        self,
        loan_id: int,
        *,
        value_date: date | None = None,
        channel: str = "default",
        idempotency_key: str | None = None,
        actor: str = "system",
        external_ref: str | None = None,
        session: Session | None = None,
        amount_fen: Fen | None = None,
    ) -> PostResult:
        """Extend by the product's days for the current quote; with `amount_fen` (what the
        borrower actually paid) the extension is refused unless that is the quote."""

        def build(state: LoanState, loan: Loan, today: date) -> Txn:
            day = value_date or today
            quote = extension_quote(state, day)
            return Txn(
                0,
                TxnKind.EXTENSION,
                day,
                quote.total_fen if amount_fen is None else amount_fen,
                channel=channel,
                days=state.rules.extension_days,
            )

        return self._post(
            loan_id,
            build,
            idempotency_key=idempotency_key,
            scope="extend",
            request={"value_date": value_date, "amount": amount_fen},
            actor=actor,
            external_ref=external_ref,
            session=session,
        )

    def defer(
        self,
        loan_id: int,
        *,
        installment: int,
        new_due_date: date,
        idempotency_key: str | None = None,
        actor: str = "system",
    ) -> PostResult:
        def build(state: LoanState, loan: Loan, today: date) -> Txn:
            return Txn(
                0, TxnKind.DEFERRAL, today, 0, installment=installment, new_due_date=new_due_date
            )

        return self._post(
            loan_id,
            build,
            idempotency_key=idempotency_key,
            scope="defer",
            request={"installment": installment, "new_due": new_due_date},
            actor=actor,
        )

    def charge_fee(
        self,
        loan_id: int,
        *,
        installment: int,
        amount_fen: Fen,
        idempotency_key: str | None = None,
        actor: str = "system",
    ) -> PostResult:
        if amount_fen <= 0:
            raise InvalidValue("amount", amount_fen, "must be positive", "费用必须大于零")

        def build(state: LoanState, loan: Loan, today: date) -> Txn:
            state.installment(installment)
            return Txn(
                0,
                TxnKind.FEE_CHARGE,
                today,
                amount_fen,
                (TxnLine(installment, Component.FEE, amount_fen),),
            )

        return self._post(
            loan_id,
            build,
            idempotency_key=idempotency_key,
            scope="fee",
            request={"installment": installment, "amount": amount_fen},
            actor=actor,
        )

    def refund(
        self,
        loan_id: int,
        *,
        amount_fen: Fen,
        channel: str = "default",
        idempotency_key: str | None = None,
        actor: str = "system",
        external_ref: str | None = None,
        session: Session | None = None,
    ) -> PostResult:
        def build(state: LoanState, loan: Loan, today: date) -> Txn:
            return Txn(0, TxnKind.REFUND, today, amount_fen, channel=channel)

        return self._post(
            loan_id,
            build,
            idempotency_key=idempotency_key,
            scope="refund",
            request={"amount": amount_fen},
            actor=actor,
            external_ref=external_ref,
            session=session,
        )

    # ------------------------------------------------------------ maker-checker

    def request_approval(
        self,
        kind: TxnKind,
        loan_id: int,
        payload: dict[str, Any],
        *,
        reason: str,
        requested_by: str,
    ) -> int:
        """Record a request (maker): a waiver, restructure, write-off or sale, which need a
        second person's approval, or a deferral, extension or refund a lender also puts
        through maker-checker when staff book it (`APPROVABLE`)."""
        if kind not in APPROVABLE:
            raise InvalidValue("kind", kind.value, "does not need approval", "该业务无需审批")
        if not reason.strip():
            raise InvalidValue("reason", reason, "a request needs a reason", "申请需要说明原因")
        with self.sessions.begin() as session:
            repo.load_state(session, loan_id)
            request = ApprovalRequest(
                kind=kind.value,
                loan_id=loan_id,
                payload=json.dumps(payload, default=str),
                reason=reason,
                requested_by=requested_by,
                requested_at=clock.now(),
                status="pending",
            )
            session.add(request)
            session.flush()
            return request.id

    def decide(
        self, request_id: int, *, approver: str, approve: bool, note: str = ""
    ) -> PostResult | None:
        """A second person approves (the transaction posts) or rejects (checker)."""
        with self.sessions.begin() as session:
            request = session.scalars(
                select(ApprovalRequest).where(ApprovalRequest.id == request_id).with_for_update()
            ).one_or_none()
            if request is None:
                raise repo.NotFound(
                    f"approval request {request_id} does not exist", f"审批申请 {request_id} 不存在"
                )
            if request.status != "pending":
                raise ApprovalError(
                    f"request {request_id} is already {request.status}",
                    f"申请 {request_id} 已{request.status}",
                )
            if approver == request.requested_by:
                raise ApprovalError(
                    "the approver must be a different person from the requester (maker-checker)",
                    "审批人不能与申请人为同一人",
                )
            request.status = "approved" if approve else "rejected"
            request.decided_by, request.decided_at = approver, datetime.now()
            request.decision_note = note
            if not approve:
                return None
            kind = TxnKind(request.kind)
            payload = json.loads(request.payload)
            if kind is TxnKind.REFUND:
                return None  # money out: posted when the channel confirms the refund payout
            result = self._post(
                request.loan_id,
                lambda state, loan, today: self.approved_txn(kind, payload, state, today),
                idempotency_key=f"approval:{request.id}",
                scope=f"approval:{kind.value}",
                request={"request": request.id},
                actor=f"{request.requested_by}+{approver}",
                session=session,
            )
            request.txn_seq = result.seq
            return result

    @staticmethod
    def approved_txn(kind: TxnKind, payload: dict[str, Any], state: LoanState, today: date) -> Txn:
        """The transaction an approved request posts on `today` (a restructure: the new
        schedule from `today` over what is outstanding then). A refund has none: it is
        posted when the channel confirms the money went out."""
        if kind is TxnKind.REFUND or kind not in APPROVABLE:
            raise InvalidValue(
                "kind", kind.value, "posts no transaction on approval", "审批不直接记账"
            )
        if kind is TxnKind.WAIVER:
            lines = tuple(TxnLine(int(n), Component(c), int(f)) for n, c, f in payload["lines"])
            return Txn(0, kind, today, sum(ln.fen for ln in lines), lines)
        if kind is TxnKind.WRITE_OFF:
            return Txn(0, kind, today, 0)
        if kind is TxnKind.SALE:
            return Txn(0, kind, today, int(payload["price_fen"]))
        if kind is TxnKind.DEFERRAL:
            return Txn(
                0,
                kind,
                today,
                0,
                installment=int(payload["installment"]),
                new_due_date=date.fromisoformat(str(payload["new_due_date"])),
            )
        if kind is TxnKind.EXTENSION:  # the fee was paid outside the channel (e.g. transfer)
            return Txn(
                0,
                kind,
                today,
                int(payload["amount_fen"]),
                channel=str(payload.get("channel", "default")),
                days=state.rules.extension_days,
            )
        # restructure: a new schedule over the outstanding principal and booked receivables
        unsettled = [i for i in state.live if not i.is_settled]
        principal = sum(i.outstanding(Component.PRINCIPAL) for i in unsettled) + sum(
            max(0, i.receivable(c)) for i in unsettled for c in COMPONENTS[1:]
        )
        terms = ScheduleTerms(
            principal,
            Decimal(payload["annual_rate"]),
            int(payload["term"]),
            PeriodUnit(payload.get("unit", "month")),
            Method(payload.get("method", "annuity")),
            today,
        )
        schedule = build_schedule(terms)
        start = max(i.number for i in state.installments) + 1
        new = tuple(
            NewInstallment(
                start + k, i.start_date, i.due_date, i.principal_fen, i.interest_fen, i.fee_fen
            )
            for k, i in enumerate(schedule.installments)
        )
        return Txn(0, kind, today, principal, new_installments=new)

    # ------------------------------------------------------------ reading

    def state(self, loan_id: int) -> LoanState:
        with self.sessions() as session:
            return repo.load_state(session, loan_id)[1]

    def replayed_state(self, loan_id: int) -> LoanState:
        """The state by replaying the whole log from booking (the definition), its status
        as of the day it was last set: the last close of business (whose date's status it
        leaves for the open day after it), or a posting on the loan after that."""
        with self.sessions() as session:
            loan = session.get(Loan, loan_id)
            if loan is None:
                raise repo.NotFound(f"loan {loan_id} does not exist", f"贷款 {loan_id} 不存在")
            state = booked_state(session, loan)
            rows = repo.load_log(session, loan_id)
            for txn in effective_log(repo.log_txns(rows)):
                state, _ = apply(state, txn)
            closed = session.scalar(select(func.max(CobStepRun.business_date)))
            days = [d for d in (closed, *(r.posted_on for r in rows)) if d is not None]
            return refresh_status(state, max(days, default=None) or clock.today())
