"""What the borrower app shows that is not a step of the journey: the products on offer with
their terms and comprehensive annualised cost (首页), the home screen (available limit, the
next amount due, onboarding progress, the latest messages), the borrower's messages
(消息), cards, masked personal data (我的) and the bank of a card number by its BIN.

Everything is read in one read transaction; personal data leaves only masked. The cost
figures are the products' own (`products.validation.cost_range`, the IRR of SPEC §2) on the
business date, the schedule of a chosen amount and term is `/quote`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from xindai.errors import InvalidValue
from xindai.messaging.outbox import rendered
from xindai.money import format_rate, format_yuan
from xindai.origination.agreements import REGISTRATION_AGREEMENTS, AgreementUnknown, agreement
from xindai.origination.applications import OPEN_STATES
from xindai.origination.cards import CardKind, bin_table, luhn_valid
from xindai.origination.identity import age_on
from xindai.origination.journey_base import JourneyBase
from xindai.products.model import Product
from xindai.products.validation import cost_range
from xindai.security.pii import mask_id, mask_name, mask_phone
from xindai.store import repository as repo
from xindai.store.models import Borrower, Loan, ProductRecord
from xindai.store.models_admin import SmsMessage, SmsTemplate
from xindai.store.models_origination import (
    AgreementAcceptance,
    Application,
    BankCard,
    BorrowerPhoto,
    Contact,
)

MAX_MESSAGES = 50
HOME_MESSAGES = 3
OPEN_LOAN_STATES = ("active", "overdue")


def _rate(value: Any) -> str:
    return f"{value:f}"


def product_view(product: Product, today: date, birth_date: date | None = None) -> dict[str, Any]:
    """A product as the app offers it: terms, amounts, rates, fees, repayment options, and
    the comprehensive annualised cost at each term (lowest and highest over the amount
    range, paid out on `today`, six places as the quote shows it); `eligible` False with
    the reason when the borrower's age is outside the product's range."""
    points = cost_range(product, start_date=today)
    costs = []
    for term in product.terms:
        at_term = [p.cost for p in points if p.term == term]
        costs.append(
            {
                "term": term,
                "apr_min": format_rate(min(c.nominal for c in at_term)),
                "apr_max": format_rate(max(c.nominal for c in at_term)),
                "apr_effective_max": format_rate(max(c.effective for c in at_term)),
            }
        )
    nominal = [p.cost.nominal for p in points]
    eligible, why = True, None
    if birth_date is not None:
        age = age_on(birth_date, today)
        if not product.age_min <= age <= product.age_max:
            eligible = False
            why = {
                "code": "ID_AGE_OUT_OF_RANGE",
                "zh-CN": f"该产品适用年龄 {product.age_min}–{product.age_max} 岁",
                "en": f"for borrowers aged {product.age_min}–{product.age_max}",
            }
    penalty = product.penalty
    return {
        "code": product.code,
        "version": product.version,
        "name": product.name,
        "type": product.type.value,
        "method": product.method.value,
        "period_unit": product.period_unit.value,
        "terms": list(product.terms),
        "amount_min": format_yuan(product.amount_min_fen),
        "amount_max": format_yuan(product.amount_max_fen),
        "amount_step": format_yuan(product.amount_step_fen),
        "annual_rate": _rate(product.annual_rate),
        "day_count": product.day_count.value,
        "upfront_fee_rate": _rate(product.upfront_fee_rate),
        "upfront_fee_mode": product.upfront_fee_mode.value,
        "grace_days": product.grace_days,
        "penalty_daily_rate": _rate(penalty.daily_rate),
        "overdue_fee": format_yuan(penalty.overdue_fee_fen),
        "early_settlement": product.early_settlement.allowed,
        "early_settlement_fee_rate": _rate(product.early_settlement.fee_rate),
        "extension": product.extension.allowed,
        "extension_days": product.extension.days if product.extension.allowed else None,
        "extension_fee_rate": _rate(product.extension.fee_rate),
        "extension_max": product.extension.max_count if product.extension.allowed else 0,
        "costs": costs,
        "apr_min": format_rate(min(nominal)),
        "apr_max": format_rate(max(nominal)),
        "eligible": eligible,
        "ineligible_reason": why,
    }


def active_products(session: Session) -> list[Product]:
    """The newest active version of every product, by code."""
    rows = session.execute(
        select(ProductRecord.code, ProductRecord.version)
        .where(ProductRecord.status == "active")
        .order_by(ProductRecord.code, ProductRecord.version.desc())
    ).all()
    newest: dict[str, int] = {}
    for code, version in rows:
        newest.setdefault(code, version)
    return [repo.load_product(session, code, version) for code, version in newest.items()]


def bank_of(card_number: str) -> dict[str, Any]:
    """The issuing bank of a card number as it is typed (its first 6–19 digits, spaces
    allowed): bank, debit or credit, the usual length, whether it can receive a loan, and
    the Luhn check once the number is complete. Unknown BIN: `bank_code` None."""
    digits = "".join(card_number.split())
    if not digits.isascii() or not digits.isdigit() or not 6 <= len(digits) <= 19:
        raise InvalidValue(
            "card_number", "<card>", "6–19 digits are needed", "请输入银行卡号的前 6–19 位数字"
        )
    entry = bin_table().lookup(digits)
    complete = (entry is not None and len(digits) == entry.length) or len(digits) >= 19
    if entry is None:
        return {
            "bank_code": None,
            "bank_name": None,
            "bank_short_name": None,
            "bank_name_en": None,
            "kind": None,
            "length": None,
            "supported": False,
            "complete": complete,
            "luhn_valid": luhn_valid(digits) if complete else None,
            "message": {
                "zh-CN": "暂不支持该银行卡，请绑定支持银行的借记卡",
                "en": "the issuing bank is not supported; bind a debit card of a supported bank",
            },
        }
    debit = entry.kind is CardKind.DEBIT
    return {
        "bank_code": entry.bank.code,
        "bank_name": entry.bank.name_zh,
        "bank_short_name": entry.bank.short_name_zh,
        "bank_name_en": entry.bank.name_en,
        "kind": entry.kind.value,
        "length": entry.length,
        "supported": debit,
        "complete": complete,
        "luhn_valid": luhn_valid(digits) if complete else None,
        "message": None
        if debit
        else {
            "zh-CN": f"{entry.bank.short_name_zh}信用卡不能用于收款，请绑定借记卡",
            "en": f"a {entry.bank.name_en} credit card cannot receive a loan; bind a debit card",
        },
    }


def supported_banks() -> list[dict[str, str]]:
    """The banks whose debit cards can be bound, by code."""
    banks = {
        e.bank.code: e.bank for e in bin_table().entries() if e.kind is CardKind.DEBIT
    }.values()
    return [
        {"code": b.code, "name": b.name_zh, "short_name": b.short_name_zh, "name_en": b.name_en}
        for b in sorted(banks, key=lambda b: b.code)
    ]


class BorrowerHome(JourneyBase):
    """The app's read-only screens for one borrower."""

    def products(self, borrower_id: int | None = None) -> list[dict[str, Any]]:
        with self.p.reads() as session:
            birth = None
            if borrower_id is not None:
                birth = self._borrower(session, borrower_id).birth_date
            today = self._today(session)
            return [product_view(p, today, birth) for p in active_products(session)]

    def home(self, borrower_id: int, credit_line: dict[str, Any] | None) -> dict[str, Any]:
        """首页: the available limit (the credit line's when the borrower has one, else the
        products' amount range), the products, the next amount due across open loans, what
        is left of onboarding, the application in progress and the latest messages."""
        with self.p.reads() as session:
            borrower = self._borrower(session, borrower_id)
            today = self._today(session)
            catalogue = active_products(session)
            products = [product_view(p, today, borrower.birth_date) for p in catalogue]
            eligible = [p for p, view in zip(catalogue, products, strict=True) if view["eligible"]]
            if credit_line is not None and credit_line["status"] == "active":
                limit = {
                    "kind": "credit_line",
                    "amount": credit_line["available"],
                    "min": None,
                    "max": credit_line["limit"],
                    "can_draw": credit_line["can_draw"],
                }
            else:  # the range of what the borrower may apply for (every product if none fits)
                offered = eligible or catalogue
                low = min((p.amount_min_fen for p in offered), default=0)
                high = max((p.amount_max_fen for p in offered), default=0)
                limit = {
                    "kind": "products",
                    "amount": format_yuan(high),
                    "min": format_yuan(low),
                    "max": format_yuan(high),
                    "can_draw": False,
                }
            in_progress = session.scalars(
                select(Application)
                .where(Application.borrower_id == borrower_id, Application.status.in_(OPEN_STATES))
                .order_by(Application.id.desc())
            ).first()
            return {
                "business_date": today.isoformat(),
                "limit": limit,
                "credit_line": credit_line,
                "products": products,
                "next_due": self._next_due(session, borrower_id, today),
                "steps": self._steps(session, borrower),
                "application": None
                if in_progress is None
                else {"id": in_progress.id, "status": in_progress.status},
                "messages": self._messages(session, borrower, HOME_MESSAGES, None),
            }

    @staticmethod
    def _next_due(session: Session, borrower_id: int, today: date) -> dict[str, Any] | None:
        """The earliest unsettled installment over the borrower's open loans, with what is
        due on or before the business date over all of them."""
        loan_ids = session.scalars(
            select(Loan.id)
            .where(Loan.borrower_id == borrower_id, Loan.status.in_(OPEN_LOAN_STATES))
            .order_by(Loan.id)
        ).all()
        best: tuple[date, int, int, int] | None = None
        due_now, loans = 0, 0
        for loan_id in loan_ids:
            _, state = repo.load_state(session, loan_id)
            unsettled = [i for i in state.live if not i.is_settled]
            if not unsettled:
                continue
            loans += 1
            due_now += sum(i.outstanding_total for i in unsettled if i.due_date <= today)
            first = unsettled[0]
            key = (first.due_date, loan_id, first.number, first.outstanding_total)
            if best is None or key[:2] < best[:2]:
                best = key
        if best is None:
            return None
        due_date, loan_id, number, amount = best
        return {
            "loan_id": loan_id,
            "installment": number,
            "due_date": due_date.isoformat(),
            "amount": format_yuan(amount),
            "days_left": (due_date - today).days,
            "overdue": due_date < today,
            "due_now": format_yuan(due_now),
            "open_loans": loans,
        }

    @staticmethod
    def _steps(session: Session, borrower: Borrower) -> dict[str, bool]:
        accepted = set(
            session.execute(
                select(AgreementAcceptance.code, AgreementAcceptance.version).where(
                    AgreementAcceptance.borrower_id == borrower.id
                )
            ).all()
        )
        agreements = all(
            (c.value, agreement(c).version) in accepted for c in REGISTRATION_AGREEMENTS
        )
        contacts = session.scalars(select(Contact.seq).where(Contact.borrower_id == borrower.id))
        card = session.scalars(
            select(BankCard.id).where(
                BankCard.borrower_id == borrower.id, BankCard.status == "verified"
            )
        ).first()
        return {
            "agreements": agreements,
            "kyc": borrower.kyc_status == "verified",
            "contacts": len(contacts.all()) >= 2,
            "card": card is not None,
        }

    # ---------------------------------------------------------------- messages

    def messages(
        self, borrower_id: int, limit: int = 20, before: int | None = None
    ) -> list[dict[str, Any]]:
        """The SMS the platform sent to the borrower (by borrower or by their phone), newest
        first, `limit` at most (≤ 50), those with an id below `before` when given;
        verification codes are never shown."""
        with self.p.reads() as session:
            borrower = self._borrower(session, borrower_id)
            return self._messages(session, borrower, min(max(limit, 1), MAX_MESSAGES), before)

    @staticmethod
    def _messages(
        session: Session, borrower: Borrower, limit: int, before: int | None
    ) -> list[dict[str, Any]]:
        mine = SmsMessage.borrower_id == borrower.id
        if borrower.mobile_hash:
            mine = or_(mine, SmsMessage.phone_hash == borrower.mobile_hash)
        query = (
            select(SmsMessage, SmsTemplate)
            .outerjoin(
                SmsTemplate,
                and_(
                    SmsTemplate.code == SmsMessage.template_code,
                    SmsTemplate.version == SmsMessage.template_version,
                ),
            )
            .where(mine, SmsMessage.status.in_(("sent", "delivered")))
            .order_by(SmsMessage.id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(SmsMessage.id < before)
        return [
            {
                "id": row.id,
                "sent_at": row.sent_at.isoformat(),
                "kind": row.origin,
                "template": row.template_code,
                "text": rendered(template, row.params),
                "phone": row.phone_masked,
            }
            for row, template in session.execute(query).all()
        ]

    # ---------------------------------------------------------------- 我的

    def cards(self, borrower_id: int) -> list[dict[str, Any]]:
        """The borrower's cards (verified first, then pending and failed), masked."""
        with self.p.reads() as session:
            self._borrower(session, borrower_id)
            rows = session.scalars(
                select(BankCard).where(BankCard.borrower_id == borrower_id).order_by(BankCard.id)
            ).all()
            order = {"verified": 0, "pending": 1}
            return [
                {
                    "card_id": c.id,
                    "bank": c.bank_name,
                    "bank_code": c.bank_code,
                    "last4": c.last4,
                    "status": c.status,
                    "phone": mask_phone(self.p.cipher.decrypt("phone", c.phone_enc)),
                    "created_at": c.created_at.isoformat(),
                }
                for c in sorted(rows, key=lambda c: (order.get(c.status, 2), c.id))
            ]

    def profile(self, borrower_id: int) -> dict[str, Any]:
        """我的资料: identity, contacts and accepted agreements, every personal value masked."""
        with self.p.reads() as session:
            borrower = self._borrower(session, borrower_id)
            decrypt = self.p.cipher.decrypt
            name = decrypt("name", borrower.name_enc) if borrower.name_enc else None
            id_number = (
                decrypt("id_number", borrower.id_number_enc) if borrower.id_number_enc else None
            )
            contacts = session.scalars(
                select(Contact).where(Contact.borrower_id == borrower_id).order_by(Contact.seq)
            ).all()
            photos = session.scalars(
                select(BorrowerPhoto.kind)
                .where(BorrowerPhoto.borrower_id == borrower_id)
                .order_by(BorrowerPhoto.kind)
            ).all()
            accepted = session.scalars(
                select(AgreementAcceptance)
                .where(AgreementAcceptance.borrower_id == borrower_id)
                .order_by(AgreementAcceptance.accepted_at, AgreementAcceptance.code)
            ).all()
            current = {c.value: agreement(c).version for c in REGISTRATION_AGREEMENTS}
            return {
                "id": borrower.id,
                "name": mask_name(name) if name else None,
                "phone": mask_phone(decrypt("phone", borrower.mobile_enc or "")),
                "id_number": mask_id(id_number) if id_number else None,
                "kyc_status": borrower.kyc_status,
                "liveness_passed": borrower.liveness_passed,
                "photos": list(photos),
                "registered_on": borrower.created_on.isoformat(),
                "contacts": [
                    {
                        "name": mask_name(decrypt("name", c.name_enc)),
                        "phone": mask_phone(decrypt("phone", c.phone_enc)),
                        "relation": c.relation,
                    }
                    for c in contacts
                ],
                "agreements": [
                    {
                        "code": a.code,
                        "version": a.version,
                        "title": _title(a.code, a.version),
                        "accepted_at": a.accepted_at.isoformat(),
                        "current": current.get(a.code) == a.version,
                    }
                    for a in accepted
                ],
            }


def _title(code: str, version: int) -> str:
    try:
        return agreement(code, version).title
    except AgreementUnknown:  # a version no longer in the code: its code stands for it
        return code


__all__ = [
    "BorrowerHome",
    "active_products",
    "bank_of",
    "product_view",
    "supported_banks",
]
