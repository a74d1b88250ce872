"""Actions on a case (催收作业): calls in three dimensions, messages from approved
templates, promises to pay, letters, field visits, escalation to legal, the quadrant tag,
holds, offers (maker-checker requests through `servicing.approvals`) and a manager's
assignment. The guardrails are checked before anything is logged or sent, inside the write
transaction with the debtor's row locked, so that two collectors (or an agency and the
lender) cannot both pass the same day's cap. Every action is recorded and audited."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xindai.collections.calls import (
    CONNECTIONS,
    PARTIES,
    RESULTS,
    CallIn,
    refuse_promise,
)
from xindai.collections.config import QUADRANTS, load_guardrails
from xindai.collections.desk import SMS_PURPOSES, companions_of
from xindai.collections.guardrails import GuardrailRefused, check_contact, debtor_clock
from xindai.collections.letters import LETTERS, render_case_letter
from xindai.collections.scope import CaseScope, visible_case
from xindai.collections.service import quadrant_of, strategy_for
from xindai.collections.skiptrace import RankedContact, contacts_of
from xindai.collections.views import action_views, case_rows, promise_view
from xindai.errors import InvalidValue
from xindai.integrations.errors import ProviderError
from xindai.messaging.outbox import send_sms
from xindai.messaging.templates import approved
from xindai.money import format_yuan
from xindai.security import audit
from xindai.security.pii import PiiCipher
from xindai.store import repository as repo
from xindai.store.models import Borrower, Loan
from xindai.store.models_collections import (
    CollectionCase,
    ContactAction,
    Letter,
    Promise,
)

PROMISE_MAX_DAYS = 30


class CaseClosed(GuardrailRefused):
    def __init__(self) -> None:
        super().__init__("COLLECTION_CASE_CLOSED", "the case is closed", "案件已结案")


@dataclass
class CaseActions:
    sessions: sessionmaker[Session]
    cipher: PiiCipher
    clock: Callable[[], datetime]
    providers: Any
    loans: Any  # servicing.service.LoanService (offers)

    # ------------------------------------------------------------ helpers

    def _open_case(self, session: Session, scope: CaseScope, case_id: int) -> CollectionCase:
        case = visible_case(session, scope, case_id)
        if case.status != "open":
            raise CaseClosed()
        return case

    def _lock_debtor(self, session: Session, borrower_id: int) -> None:
        session.get(Borrower, borrower_id, with_for_update=True)

    def _contact(
        self, session: Session, case: CollectionCase, ref: str, day: date
    ) -> tuple[RankedContact, RankedContact | None]:
        ranked = contacts_of(session, self.cipher, case.borrower_id, day)
        own = next((c for c in ranked if c.ref == "borrower"), None)
        found = next((c for c in ranked if c.ref == ref), None)
        if found is None:
            raise InvalidValue(
                "contact", ref, "not one of the case's contacts", "不是该案件的联系人"
            )
        return found, own

    def _record(
        self,
        session: Session,
        scope: CaseScope,
        case: CollectionCase,
        kind: str,
        *,
        day: date | None = None,
        contact: RankedContact | None = None,
        details: dict[str, Any] | None = None,
        **fields: Any,
    ) -> ContactAction:
        now = self.clock()
        action = ContactAction(
            case_id=case.id,
            loan_id=case.loan_id,
            borrower_id=case.borrower_id,
            at=now,
            business_date=repo.get_business_date(session) or now.date(),
            local_day=day or now.date(),
            actor_id=scope.actor_id,
            actor=scope.actor,
            agency_id=scope.agency_id if scope.agency_id is not None else case.agency_id,
            kind=kind,
            contact_ref=contact.ref if contact else None,
            phone_hash=contact.phone_hash if contact else None,
            phone_masked=contact.masked if contact else None,
            details=json.dumps(details, ensure_ascii=False) if details else None,
            **fields,
        )
        session.add(action)
        session.flush()
        audit.record(
            session,
            actor=scope.actor,
            action=f"collection.{kind}",
            resource="collection_case",
            resource_id=case.id,
            after={
                "action_id": action.id,
                "loan_id": case.loan_id,
                **{
                    k: v
                    for k, v in fields.items()
                    if k in ("connection", "party", "result", "template_code", "note")
                },
            },
            at=now,
        )
        return action

    def _view(self, session: Session, action: ContactAction) -> dict[str, Any]:
        return action_views(session, [action])[0]

    # ------------------------------------------------------------ guardrails alone

    def check(
        self, scope: CaseScope, case_id: int, kind: str, ref: str, consented: bool = False
    ) -> dict[str, Any]:
        """Whether a call or SMS to `ref` would be allowed now (nothing logged)."""
        with self.sessions() as session:
            case = self._open_case(session, scope, case_id)
            guardrails = load_guardrails(session)
            clock = debtor_clock(session, case.loan_id, self.clock(), guardrails)
            contact, own = self._contact(session, case, ref, clock.day)
            try:
                check_contact(
                    session,
                    kind=kind,
                    guardrails=guardrails,
                    clock=clock,
                    borrower_id=case.borrower_id,
                    contact=contact,
                    own_number=own,
                    consented=consented,
                )
            except GuardrailRefused as refused:
                return {
                    "allowed": False,
                    "code": refused.code,
                    "message": {"zh-CN": refused.message_zh, "en": refused.message_en},
                }
            return {"allowed": True}

    # ------------------------------------------------------------ calls, messages

    def log_call(self, scope: CaseScope, case_id: int, call: CallIn) -> dict[str, Any]:
        call.check()
        with self.sessions.begin() as session:
            case = self._open_case(session, scope, case_id)
            self._lock_debtor(session, case.borrower_id)
            guardrails = load_guardrails(session)
            clock = debtor_clock(session, case.loan_id, self.clock(), guardrails)
            contact, own = self._contact(session, case, call.contact, clock.day)
            check_contact(
                session,
                kind="call",
                guardrails=guardrails,
                clock=clock,
                borrower_id=case.borrower_id,
                contact=contact,
                own_number=own,
                consented=call.consented,
            )
            action = self._record(
                session,
                scope,
                case,
                "call",
                day=clock.day,
                contact=contact,
                connection=call.connection,
                party=call.party,
                result=call.result,
                note=call.note.strip()[:1000] or None,
                recording_ref=call.recording_ref,
                details={"debtor_consented": True} if call.consented else None,
            )
            case.last_contact_at = action.at
            view = self._view(session, action)
            if call.result == "promise":
                assert call.promise_amount_fen is not None and call.promise_date is not None
                view["promise"] = self._promise(
                    session, scope, case, call.promise_amount_fen, call.promise_date, action.id
                )
            return view

    def send_sms(
        self, scope: CaseScope, case_id: int, template_code: str, ref: str = "borrower"
    ) -> dict[str, Any]:
        with self.sessions.begin() as session:
            case = self._open_case(session, scope, case_id)
            self._lock_debtor(session, case.borrower_id)
            template = approved(session, template_code)
            if template is None or template.purpose not in SMS_PURPOSES:
                raise GuardrailRefused(
                    "COLLECTION_TEMPLATE_ONLY",
                    f"SMS only from an approved collection or reminder template ({template_code})",
                    f"只能使用已审批的催收或提醒短信模板（{template_code}）",
                )
            guardrails = load_guardrails(session)
            clock = debtor_clock(session, case.loan_id, self.clock(), guardrails)
            contact, own = self._contact(session, case, ref, clock.day)
            check_contact(
                session,
                kind="sms",
                guardrails=guardrails,
                clock=clock,
                borrower_id=case.borrower_id,
                contact=contact,
                own_number=own,
            )
            loan = session.get(Loan, case.loan_id)
            assert loan is not None
            values = {
                "amount": format_yuan(loan.overdue_fen),
                "days": str(loan.dpd),
                "due_date": loan.oldest_unpaid_due.isoformat() if loan.oldest_unpaid_due else "",
                "loan_no": str(loan.id),
                "name": "客户",
                "hotline": "400-800-8888",
                "app_name": "信贷",
                "installment": "1",
                "term": str(loan.term),
            }
            params = {name: values.get(name, "") for name in json.loads(template.variables)}
            action = self._record(
                session,
                scope,
                case,
                "sms",
                day=clock.day,
                contact=contact,
                template_code=template_code,
                sms_status="sending",
            )
            case.last_contact_at = action.at
            action_id, phone = action.id, self.cipher.decrypt("phone", contact.phone_enc)
        error: ProviderError | None = None
        try:
            receipt = send_sms(
                self,
                phone,
                template_code,
                params,
                origin="collection",
                borrower_id=case.borrower_id,
            )
            status, message_id = receipt.status.value, receipt.message_id
        except ProviderError as exc:
            status, message_id, error = "failed", None, exc
        with self.sessions.begin() as session:
            sent = session.get(ContactAction, action_id)
            assert sent is not None
            sent.sms_status, sent.message_id = status, message_id
            view = self._view(session, sent)
        if error is not None:
            view["error"] = {"code": error.code, "message": str(error)}
        return view

    # ------------------------------------------------------------ promises

    def _promise(
        self,
        session: Session,
        scope: CaseScope,
        case: CollectionCase,
        amount_fen: int,
        on: date,
        action_id: int | None,
    ) -> dict[str, Any]:
        today = repo.get_business_date(session) or self.clock().date()
        if not today <= on <= today + timedelta(days=PROMISE_MAX_DAYS):
            raise refuse_promise(
                f"a promise is for today to {PROMISE_MAX_DAYS} days ahead",
                f"承诺还款日期应在今日至 {PROMISE_MAX_DAYS} 天内",
            )
        loan = session.get(Loan, case.loan_id)
        assert loan is not None
        owed = (
            loan.principal_outstanding_fen
            + loan.interest_outstanding_fen
            + loan.fee_outstanding_fen
            + loan.penalty_outstanding_fen
        )
        if not 0 < amount_fen <= owed:
            raise refuse_promise(
                f"a promise is for 0.01 to {format_yuan(owed)} yuan (what is outstanding)",
                f"承诺金额应在 0.01 至 {format_yuan(owed)} 元之间",
            )
        for previous in session.scalars(
            select(Promise).where(Promise.case_id == case.id, Promise.status == "pending")
        ):
            previous.status, previous.judged_on = "superseded", today
        promise = Promise(
            case_id=case.id,
            loan_id=case.loan_id,
            action_id=action_id,
            actor_id=scope.actor_id,
            agency_id=scope.agency_id,
            amount_fen=amount_fen,
            made_on=today,
            promised_on=on,
            status="pending",
            paid_fen=0,
        )
        session.add(promise)
        case.last_promise_on = today
        session.flush()
        return promise_view(promise, {scope.actor_id: scope.actor})

    def promise(
        self, scope: CaseScope, case_id: int, amount_fen: int, on: date, note: str = ""
    ) -> dict[str, Any]:
        with self.sessions.begin() as session:
            case = self._open_case(session, scope, case_id)
            action = self._record(
                session,
                scope,
                case,
                "promise",
                note=note.strip() or None,
                details={"amount": format_yuan(amount_fen), "promised_on": on.isoformat()},
            )
            return self._promise(session, scope, case, amount_fen, on, action.id)

    # ------------------------------------------------------------ letters, visits, legal

    def letter(self, scope: CaseScope, case_id: int, kind: str) -> dict[str, Any]:
        """A demand or lawyer's letter for the case, rendered to PDF and kept."""
        with self.sessions.begin() as session:
            case = self._open_case(session, scope, case_id)
            today = repo.get_business_date(session) or self.clock().date()
            letter = render_case_letter(session, case, kind, today, by=scope.actor, at=self.clock())
            action = self._record(
                session,
                scope,
                case,
                "letter",
                document_id=letter.id,
                details={"letter": kind, "sha256": letter.sha256},
            )
            return self._view(session, action)

    def letter_pdf(self, scope: CaseScope, letter_id: int) -> bytes:
        with self.sessions() as session:
            letter = session.get(Letter, letter_id)
            if letter is None:
                raise repo.NotFound(f"letter {letter_id} not found", f"函件 {letter_id} 不存在")
            visible_case(session, scope, letter.case_id)
            return bytes(letter.pdf)

    def visit(
        self,
        scope: CaseScope,
        case_id: int,
        companions: list[int],
        planned_on: date,
        note: str = "",
    ) -> dict[str, Any]:
        with self.sessions.begin() as session:
            case = self._open_case(session, scope, case_id)
            minimum = load_guardrails(session).visit_min_collectors
            names = companions_of(session, scope, companions, minimum)
            action = self._record(
                session,
                scope,
                case,
                "visit",
                note=note.strip() or None,
                details={"companions": names, "planned_on": planned_on.isoformat()},
            )
            return self._view(session, action)

    def legal(self, scope: CaseScope, case_id: int, reason: str) -> dict[str, Any]:
        if not reason.strip():
            raise InvalidValue("reason", reason, "say why", "请说明原因")
        with self.sessions.begin() as session:
            case = self._open_case(session, scope, case_id)
            case.legal, case.requeue, case.requeue_reason = True, True, "legal"
            action = self._record(session, scope, case, "legal", note=reason.strip())
            return self._view(session, action)

    def set_quadrant(
        self, scope: CaseScope, case_id: int, willing: bool, able: bool
    ) -> dict[str, Any]:
        with self.sessions.begin() as session:
            case = self._open_case(session, scope, case_id)
            case.quadrant = quadrant_of(willing, able)
            self._record(
                session,
                scope,
                case,
                "quadrant",
                details={"quadrant": case.quadrant, "willing": willing, "able": able},
            )
            zh, en, _ = QUADRANTS[case.quadrant]
            return {**strategy_for(session, case), "zh": zh, "en": en}

    def hold(
        self, scope: CaseScope, case_id: int, days: int | None, reason: str = ""
    ) -> dict[str, Any]:
        """留案 for `days` (None: release); only the case's own collector holds it."""
        with self.sessions.begin() as session:
            case = self._open_case(session, scope, case_id)
            if case.assignee_id != scope.actor_id:
                raise GuardrailRefused(
                    "COLLECTION_HOLD_NOT_YOURS",
                    "only the case's collector may hold it",
                    "只有案件的催收员可以留案",
                )
            guardrails = load_guardrails(session)
            today = repo.get_business_date(session) or self.clock().date()
            if days is not None and not 1 <= days <= guardrails.hold_max_days:
                raise InvalidValue(
                    "days",
                    days,
                    f"1–{guardrails.hold_max_days}",
                    f"应为 1–{guardrails.hold_max_days} 天",
                )
            case.held_until = None if days is None else today + timedelta(days=days)
            self._record(
                session,
                scope,
                case,
                "hold",
                note=reason.strip() or None,
                details={"held_until": case.held_until.isoformat() if case.held_until else None},
            )
            return case_rows(session, [case])[0]

    # ------------------------------------------------------------ offers

    def offer(
        self, scope: CaseScope, case_id: int, submit: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        """Submit an offer (`submit` calls `ApprovalService.submit`) on a visible open case,
        and record it on the case."""
        with self.sessions() as session:
            self._open_case(session, scope, case_id)
        view = submit()
        with self.sessions.begin() as session:
            case = self._open_case(session, scope, case_id)
            self._record(
                session,
                scope,
                case,
                "offer",
                details={"approval_id": view["id"], "kind": view["kind"]},
            )
        return view


__all__ = ["CONNECTIONS", "LETTERS", "PARTIES", "RESULTS", "CallIn", "CaseActions", "CaseClosed"]
