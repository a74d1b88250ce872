"""The borrower journey (SPEC §7 steps 1–7) as service calls over the database and the
external providers: login by SMS code, agreements, real-name verification, contacts, card
binding, application with its cost shown first, decision by the live strategy (see
`risk.service`; grey-zone applications go to the manual-review queue), contract and
e-signature, asynchronous payout, repayment.

Every call is one database transaction; provider calls that move money are idempotent on a
request reference, so a retried payout never pays twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xindai.errors import InvalidValue
from xindai.integrations.errors import ProviderRejected, ProviderUnavailable
from xindai.messaging.outbox import send_sms
from xindai.money import format_yuan
from xindai.origination.agreements import agreement
from xindai.origination.applications import (
    active_product,
    new_application,
    offered_amount,
    offered_product,
    ready_to_apply,
    require_agreements,
    require_kyc,
)
from xindai.origination.cards import parse_card
from xindai.origination.contacts import validate_contacts
from xindai.origination.contract_data import contract_data_from
from xindai.origination.contract_html import render_contract_html
from xindai.origination.contract_pdf import render_contract_pdf
from xindai.origination.declared import Declared
from xindai.origination.identity import check_age, parse_resident_id
from xindai.origination.journey_base import JourneyError
from xindai.origination.journey_base import not_found as _not_found
from xindai.origination.journey_repayment import RepaymentSteps
from xindai.origination.kyc_photos import check_photo, store_photos
from xindai.origination.names import normalise_name, normalise_phone
from xindai.origination.payments import new_request_ref
from xindai.origination.purposes import parse_purpose
from xindai.products.cost import annualised_cost
from xindai.products.disclosure import schedule_json
from xindai.risk import links
from xindai.schedules.reference import build_schedule
from xindai.security import tokens
from xindai.security.pii import mask_name, mask_phone
from xindai.servicing.service import payout_of
from xindai.store import repository as repo
from xindai.store.models import Borrower, Loan
from xindai.store.models_origination import (
    AgreementAcceptance,
    Application,
    BankCard,
    Contact,
    ContractRecord,
    DecisionRecord,
    Payout,
)

KYC_AGE_RANGE = (18, 70)


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: str
    borrower_id: int
    new_borrower: bool
    expires_at: datetime


def _require_approved(application: Application) -> None:
    if application.status not in ("approved", "signed", "disbursing", "disbursed"):
        raise JourneyError(
            "APPLICATION_NOT_APPROVED", "the application is not approved", "申请尚未批准"
        )


class OriginationService(RepaymentSteps):
    """The borrower journey (SPEC §7 steps 1–7); repayment steps in `journey_repayment`."""

    # ------------------------------------------------------------ 1. login

    def send_login_code(self, phone: str, ip: str | None) -> datetime:
        number = normalise_phone(phone)
        issued = self.p.otp.issue("login", number, ip)
        send_sms(self.p, number, "OTP", {"code": issued.code}, origin="login")
        return issued.expires_at

    def login(
        self, phone: str, code: str, ip: str | None, channel: str | None = None
    ) -> LoginResult:
        number = normalise_phone(phone)
        self.p.otp.verify("login", number, code)
        with self.p.sessions.begin() as session:
            phone_hash = self.p.cipher.lookup_hash("phone", number)
            borrower = session.scalars(
                select(Borrower).where(Borrower.mobile_hash == phone_hash)
            ).one_or_none()
            new = borrower is None
            if borrower is None:
                borrower = Borrower(
                    display_name=mask_phone(number),
                    channel=channel,
                    created_on=self._today(session),
                    mobile_hash=phone_hash,
                    mobile_enc=self.p.cipher.encrypt("phone", number),
                    registered_ip=ip,
                    kyc_status="none",
                )
                session.add(borrower)
                session.flush()
                links.record_link(session, borrower.id, links.OWN_PHONE, phone_hash, self.p.clock())
            token = tokens.issue_token(session, "borrower", borrower.id, now=self.p.clock())
            return LoginResult(token.token, borrower.id, new, token.expires_at)

    # ------------------------------------------------------------ 2. agreements

    def accept_agreements(
        self, borrower_id: int, accepted: list[tuple[str, int]], ip: str | None
    ) -> list[dict[str, Any]]:
        with self.p.sessions.begin() as session:
            self._borrower(session, borrower_id)
            for code, version in accepted:
                agreement(code, version)  # AGREEMENT_UNKNOWN for a bad code or version
                if session.get(AgreementAcceptance, (borrower_id, code, version)) is None:
                    session.add(
                        AgreementAcceptance(
                            borrower_id=borrower_id,
                            code=code,
                            version=version,
                            accepted_at=self.p.clock(),
                            ip=ip,
                        )
                    )
            return self._accepted(session, borrower_id)

    @staticmethod
    def _accepted(session: Session, borrower_id: int) -> list[dict[str, Any]]:
        rows = session.scalars(
            select(AgreementAcceptance).where(AgreementAcceptance.borrower_id == borrower_id)
        ).all()
        return [
            {"code": r.code, "version": r.version, "accepted_at": r.accepted_at.isoformat()}
            for r in rows
        ]

    def _require_agreements(self, session: Session, borrower_id: int) -> None:
        require_agreements(session, borrower_id)

    # ------------------------------------------------------------ 3. real name

    def verify_identity(
        self, borrower_id: int, name: str, id_number: str, photos: dict[str, bytes]
    ) -> dict[str, Any]:
        today = self.p.business_date()
        clean_name = normalise_name(name)
        resident = parse_resident_id(id_number, today)
        check_age(resident.birth_date, today, *KYC_AGE_RANGE)
        for kind in ("id_front", "id_back", "face"):
            if not photos.get(kind):
                raise InvalidValue(kind, "", "the photo is missing", "缺少照片")
            check_photo(kind, photos[kind])  # KYC_PHOTO_INVALID: not an image, too large
        with self.p.sessions.begin() as session:
            borrower = self._borrower(session, borrower_id)
            self._require_agreements(session, borrower_id)
            if borrower.kyc_status == "verified":
                raise JourneyError(
                    "KYC_ALREADY_VERIFIED", "identity is already verified", "已完成实名认证"
                )
            id_hash = self.p.cipher.lookup_hash("id_number", resident.number)
            taken = session.scalars(
                select(Borrower.id).where(
                    Borrower.id_number_hash == id_hash, Borrower.id != borrower_id
                )
            ).first()
            if taken is not None:
                raise JourneyError(
                    "KYC_ID_IN_USE",
                    "this ID number belongs to another account",
                    "该身份证号已被其他账户使用",
                )
        match = self.p.providers.identity.verify_id_name(resident.number, clean_name)
        if not match.match:
            raise JourneyError(
                "KYC_NAME_MISMATCH", "the name does not match the ID number", "姓名与身份证号不一致"
            )
        liveness = self.p.providers.identity.liveness(photos["face"])
        if not liveness.passed:
            raise JourneyError(
                "KYC_LIVENESS_FAILED", "the face check did not pass", "人脸识别未通过"
            )
        with self.p.sessions.begin() as session:
            borrower = self._borrower(session, borrower_id)
            store_photos(session, self.p.cipher, borrower_id, photos, self.p.clock())
            borrower.name_enc = self.p.cipher.encrypt("name", clean_name)
            borrower.id_number_enc = self.p.cipher.encrypt("id_number", resident.number)
            borrower.id_number_hash = self.p.cipher.lookup_hash("id_number", resident.number)
            borrower.birth_date = resident.birth_date
            borrower.display_name = mask_name(clean_name)
            borrower.kyc_status, borrower.liveness_passed = "verified", True
            return {
                "kyc_status": "verified",
                "name": mask_name(clean_name),
                "birth_date": resident.birth_date.isoformat(),
            }

    def _require_kyc(self, borrower: Borrower) -> None:
        require_kyc(borrower)

    # ------------------------------------------------------------ 4. contacts

    def set_contacts(self, borrower_id: int, contacts: list[dict[str, str]]) -> int:
        with self.p.sessions.begin() as session:
            borrower = self._borrower(session, borrower_id)
            self._require_kyc(borrower)
            own = self.p.cipher.decrypt("phone", borrower.mobile_enc or "")
            valid = validate_contacts(contacts, own)
            for row in session.scalars(
                select(Contact).where(Contact.borrower_id == borrower_id)
            ).all():
                session.delete(row)
            session.flush()
            for seq, contact in enumerate(valid, start=1):
                links.record_link(
                    session,
                    borrower_id,
                    links.CONTACT_PHONE,
                    self.p.cipher.lookup_hash("phone", contact.phone),
                    self.p.clock(),
                )
                session.add(
                    Contact(
                        borrower_id=borrower_id,
                        seq=seq,
                        name_enc=self.p.cipher.encrypt("name", contact.name),
                        phone_enc=self.p.cipher.encrypt("phone", contact.phone),
                        phone_hash=self.p.cipher.lookup_hash("phone", contact.phone),
                        relation=contact.relation.value,
                    )
                )
            return len(valid)

    # ------------------------------------------------------------ 5. bank card

    def start_card(self, borrower_id: int, card_number: str, phone: str) -> dict[str, Any]:
        card = parse_card(card_number)
        number = normalise_phone(phone, field="card phone")
        with self.p.reads() as session:
            borrower = self._borrower(session, borrower_id)
            self._require_kyc(borrower)
            name = self.p.cipher.decrypt("name", borrower.name_enc or "")
            id_number = self.p.cipher.decrypt("id_number", borrower.id_number_enc or "")
        started = self.p.providers.payment.verify_card(name, id_number, card.number, number)
        with self.p.sessions.begin() as session:
            card_hash = self.p.cipher.lookup_hash("card", card.number)
            row = session.scalars(
                select(BankCard).where(
                    BankCard.borrower_id == borrower_id, BankCard.card_hash == card_hash
                )
            ).one_or_none()
            if row is None:
                row = BankCard(
                    borrower_id=borrower_id,
                    card_hash=card_hash,
                    card_enc=self.p.cipher.encrypt("card", card.number),
                    last4=card.last4,
                    bank_code=card.bank.code,
                    bank_name=card.bank.name_zh,
                    phone_enc=self.p.cipher.encrypt("phone", number),
                    status="pending",
                    verify_ref=started.verify_ref,
                    created_at=self.p.clock(),
                )
                session.add(row)
            elif row.status == "verified":
                raise JourneyError(
                    "CARD_ALREADY_BOUND", "this card is already bound", "该银行卡已绑定"
                )
            else:
                row.status, row.verify_ref = "pending", started.verify_ref
            session.flush()
            return {
                "card_id": row.id,
                "bank": row.bank_name,
                "last4": row.last4,
                "status": "sms_sent",
            }

    def confirm_card(self, borrower_id: int, card_id: int, code: str) -> dict[str, Any]:
        with self.p.reads() as session:
            row = session.get(BankCard, card_id)
            if row is None or row.borrower_id != borrower_id:
                raise _not_found("card", "银行卡")
            if row.status != "pending" or not row.verify_ref:
                raise JourneyError(
                    "CARD_NOT_PENDING",
                    "no verification is waiting for a code",
                    "该卡没有待确认的验证",
                )
            verify_ref = row.verify_ref
        result = self.p.providers.payment.confirm_card(verify_ref, code)
        with self.p.sessions.begin() as session:
            row = session.get(BankCard, card_id)
            assert row is not None
            row.status = "verified" if result.status.value == "verified" else "failed"
            if row.status != "verified":
                raise JourneyError(
                    "CARD_VERIFICATION_FAILED",
                    f"the card could not be verified: {result.reason}",
                    f"银行卡验证失败：{result.reason}",
                )
            return {
                "card_id": row.id,
                "status": row.status,
                "bank": row.bank_name,
                "last4": row.last4,
            }

    # ------------------------------------------------------------ 6. quote and apply

    def quote(self, product_code: str, amount_fen: int, term: int) -> dict[str, Any]:
        with self.p.reads() as session:
            product = active_product(session, product_code)
        schedule = build_schedule(product.schedule_terms(amount_fen, term, self.p.business_date()))
        return {
            "product": product.code,
            "term": term,
            **schedule_json(schedule, annualised_cost(schedule)),
        }

    def apply(
        self,
        borrower_id: int,
        *,
        product_code: str,
        amount_fen: int,
        term: int,
        purpose: str,
        card_id: int,
        device_fingerprint: str | None,
        ip: str | None,
        declared: Declared | None = None,
    ) -> dict[str, Any]:
        """Create the application and decide it with the live strategy (approve with an
        offer, manual review, or reject) in one transaction; the credit report is fetched
        (or read from the cache) before, outside the transaction."""
        loan_purpose = parse_purpose(purpose)
        with self.p.reads() as session:  # refuse early: no paid bureau query for nothing
            borrower = self._borrower(session, borrower_id)
            ready_to_apply(
                session,
                borrower,
                active_product(session, product_code),
                card_id,
                self._today(session),
            )
            session.expunge(borrower)
        decisions = self.p.decisions
        bureau = decisions.lookup_bureau(borrower, self.p.clock())
        with self.p.sessions.begin() as session:
            borrower = self._borrower(session, borrower_id)
            product = active_product(session, product_code)
            today = self._today(session)
            card = ready_to_apply(session, borrower, product, card_id, today)
            now = self.p.clock()
            application = new_application(
                session,
                self.p.cipher,
                borrower=borrower,
                product=product,
                amount_fen=amount_fen,
                term=term,
                purpose=loan_purpose,
                card=card,
                device_fingerprint=device_fingerprint,
                ip=ip,
                declared=declared or Declared(),
                today=today,
                now=now,
            )
            decision = decisions.decide_application(
                session,
                application,
                borrower=borrower,
                product=product,
                bureau=bureau,
                now=now,
                today=today,
            )
            decisions.apply_outcome(
                session, application, decision, product=product, now=now, today=today
            )
            return self.application_view(application, decision.customer_reasons)

    @staticmethod
    def application_view(
        application: Application, customer_reasons: tuple[str, ...] | list[str] = ()
    ) -> dict[str, Any]:
        """What the borrower (and staff) see of an application: when approved, the offer
        (amount, rate, schedule); when rejected, at most four reasons for the customer."""
        approved = application.approved_amount_fen
        return {
            "id": application.id,
            "status": application.status,
            "product": application.product_code,
            "amount": format_yuan(application.amount_fen),
            "term": application.term,
            "purpose": application.purpose,
            "approved_amount": None if approved is None else format_yuan(approved),
            "annual_rate": application.annual_rate,
            "apr": application.apr,
            "loan_id": application.loan_id,
            "reasons": list(customer_reasons) if application.status == "rejected" else [],
            "quote": json.loads(application.quote),
        }

    def get_application(self, borrower_id: int | None, application_id: int) -> dict[str, Any]:
        with self.p.reads() as session:
            application = self._application(session, borrower_id, application_id)
            reasons: list[str] = []
            if application.status == "rejected":
                stored = session.scalars(
                    select(DecisionRecord.customer_reasons)
                    .where(DecisionRecord.application_id == application_id)
                    .order_by(DecisionRecord.id.desc())
                ).first()
                reasons = json.loads(stored or "[]")
            return self.application_view(application, reasons)

    # ------------------------------------------------------------ 7. contract, sign, payout

    def _contract(self, session: Session, application: Application) -> ContractRecord:
        existing = self._existing_contract(session, application.id)
        if existing is not None:
            return existing
        record = self._render_contract(session, application)
        session.add(record)
        session.flush()
        return record

    def _existing_contract(self, session: Session, application_id: int) -> ContractRecord | None:
        return session.scalars(
            select(ContractRecord).where(ContractRecord.application_id == application_id)
        ).one_or_none()

    def _render_contract(self, session: Session, application: Application) -> ContractRecord:
        """The application's contract (HTML, PDF and its hash) as of the business date, not
        yet stored."""
        borrower = self._borrower(session, application.borrower_id)
        product = offered_product(
            repo.load_product(session, application.product_code, application.product_version),
            application,
        )
        schedule = build_schedule(
            product.schedule_terms(
                offered_amount(application), application.term, self._today(session)
            )
        )
        data = contract_data_from(
            schedule,
            product,
            annualised_cost(schedule),
            contract_no=f"XD{application.id:010d}",
            lender_name=self.p.settings.lender_name,
            borrower_name=self.p.cipher.decrypt("name", borrower.name_enc or ""),
            borrower_id_number=self.p.cipher.decrypt("id_number", borrower.id_number_enc or ""),
            signing_date=self._today(session),
            purpose=parse_purpose(application.purpose),
        )
        pdf = render_contract_pdf(data)
        return ContractRecord(
            application_id=application.id,
            html=render_contract_html(data),
            pdf=pdf,
            pdf_sha256=hashlib.sha256(pdf).hexdigest(),
            status="issued",
        )

    def contract(self, borrower_id: int, application_id: int) -> ContractRecord:
        """The application's contract, issued on first reading. It is rendered in a read
        transaction (a PDF takes some milliseconds: other writers do not wait for it) and
        stored in a write transaction, unless the business date moved on meanwhile (then
        rendered again there) or another reading stored it first (that one is the contract)."""
        with self.p.reads() as session:
            application = self._application(session, borrower_id, application_id)
            _require_approved(application)
            found = self._existing_contract(session, application.id)
            if found is not None:
                session.expunge(found)
                return found
            rendered, as_of = self._render_contract(session, application), self._today(session)
        with self.p.sessions.begin() as session:
            application = self._application(session, borrower_id, application_id)
            _require_approved(application)
            record = self._existing_contract(session, application.id)
            if record is None and self._today(session) != as_of:
                record = self._contract(session, application)
            elif record is None:
                session.add(rendered)
                session.flush()
                record = rendered
            session.expunge(record)
            return record

    def sign(self, borrower_id: int, application_id: int) -> dict[str, Any]:
        """Sign the contract through the e-signature provider, book the loan and request the
        payout; the loan becomes active when the payout callback confirms."""
        with self.p.sessions.begin() as session:
            application = self._application(session, borrower_id, application_id, lock=True)
            if application.status != "approved":
                raise JourneyError(
                    "APPLICATION_NOT_APPROVED",
                    f"the application is {application.status}",
                    f"申请状态为 {application.status}，不能签约",
                )
            record = self._contract(session, application)
            borrower = self._borrower(session, borrower_id)
            name = self.p.cipher.decrypt("name", borrower.name_enc or "")
            id_number = self.p.cipher.decrypt("id_number", borrower.id_number_enc or "")
            pdf_sha = record.pdf_sha256
        signature = self.p.providers.esign.sign(pdf_sha, name, id_number)
        with self.p.sessions.begin() as session:
            application = self._application(session, borrower_id, application_id, lock=True)
            if application.status != "approved":  # a concurrent sign got here first
                return self.application_view(application)
            record = self._contract(session, application)
            record.status, record.esign_ref = "signed", signature.signature_ref
            record.signed_at = self.p.clock()
            product = offered_product(
                repo.load_product(session, application.product_code, application.product_version),
                application,
            )
            application.status = "signed"
            amount, term, borrower_ref = (
                offered_amount(application),
                application.term,
                application.borrower_id,
            )
        loan_id = self.p.loans.book_loan(
            product,
            borrower_id=borrower_ref,
            amount_fen=amount,
            term=term,
            start=self.p.business_date(),
            channel="simpay",
            actor=f"borrower:{borrower_id}",
        )
        with self.p.sessions.begin() as session:
            application = self._application(session, borrower_id, application_id, lock=True)
            application.loan_id = loan_id
            application.status = "disbursing"
        self._request_payout(application_id, attempt=1)
        return self.get_application(borrower_id, application_id)

    def _request_payout(self, application_id: int, *, attempt: int) -> Payout:
        with self.p.sessions.begin() as session:
            application = self._application(session, None, application_id, lock=True)
            assert application.loan_id is not None
            loan = session.get(Loan, application.loan_id)
            assert loan is not None
            amount = payout_of(session, loan).amount_fen
            card = session.get(BankCard, application.card_id)
            borrower = self._borrower(session, application.borrower_id)
            assert card is not None
            payout = Payout(
                application_id=application_id,
                loan_id=application.loan_id,
                request_ref=new_request_ref("payout"),
                amount_fen=amount,
                status="requested",
                attempt=attempt,
                created_at=self.p.clock(),
            )
            session.add(payout)
            session.flush()
            card_number = self.p.cipher.decrypt("card", card.card_enc)
            name = self.p.cipher.decrypt("name", borrower.name_enc or "")
            request_ref = payout.request_ref
        try:
            self.p.providers.payment.payout(
                request_ref, name, card_number, amount, self.p.callback_url
            )
        except ProviderRejected as exc:  # the channel refused it: finance may retry or cancel
            self._payout_never_taken(request_ref, exc.detail or "rejected")
        except ProviderUnavailable:
            # it may or may not have reached the channel: it stays requested and the resolver
            # (`xindai payments resolve`, close of business) asks the channel until it resolves
            pass
        with self.p.reads() as session:
            found = session.scalars(select(Payout).where(Payout.request_ref == request_ref)).one()
            session.expunge(found)
            return found

    def _payout_never_taken(self, request_ref: str, reason: str) -> None:
        with self.p.sessions.begin() as session:
            payout = session.scalars(
                select(Payout).where(Payout.request_ref == request_ref).with_for_update()
            ).one()
            if payout.status != "requested":
                return
            payout.status, payout.reason, payout.settled_at = "failed", reason[:64], self.p.clock()
            self._application(
                session, None, payout.application_id, lock=True
            ).status = "payout_failed"

    def retry_payout(self, application_id: int) -> Payout:
        with self.p.reads() as session:
            application = self._application(session, None, application_id)
            payouts = session.scalars(
                select(Payout)
                .where(Payout.application_id == application_id)
                .order_by(Payout.attempt)
            ).all()
            if application.status != "payout_failed" or not payouts:
                raise JourneyError(
                    "PAYOUT_NOT_FAILED",
                    "only a failed payout can be retried",
                    "只有放款失败的申请可以重试",
                )
            attempt = payouts[-1].attempt + 1
        with self.p.sessions.begin() as session:
            self._application(session, None, application_id, lock=True).status = "disbursing"
        return self._request_payout(application_id, attempt=attempt)

    def cancel_payout(self, application_id: int, *, actor: str) -> dict[str, Any]:
        with self.p.sessions.begin() as session:
            application = self._application(session, None, application_id, lock=True)
            if application.status != "payout_failed":
                raise JourneyError(
                    "PAYOUT_NOT_FAILED",
                    "only a failed payout can be cancelled",
                    "只有放款失败的申请可以取消",
                )
            application.status = "cancelled"
            loan_id = application.loan_id
        if loan_id is not None:
            self.p.loans.cancel(loan_id, actor=actor)
        return self.get_application(None, application_id)


__all__ = ["JourneyError", "LoginResult", "OriginationService"]
