"""Creating an application and recording its offer: the one place an `Application` row is
made (by the journey's `apply` and by a draw on a credit line), with the applicant's hashed
identifiers for the velocity checks and the schedule shown before confirmation.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xindai.errors import InvalidValue, XindaiError
from xindai.money import Fen
from xindai.origination.agreements import REGISTRATION_AGREEMENTS, agreement
from xindai.origination.declared import Declared
from xindai.origination.identity import check_age
from xindai.origination.purposes import LoanPurpose
from xindai.products.cost import annualised_cost
from xindai.products.disclosure import schedule_json
from xindai.products.model import Product
from xindai.risk import links
from xindai.schedules.reference import build_schedule
from xindai.security.pii import PiiCipher
from xindai.store import repository as repo
from xindai.store.models import Borrower, ProductRecord
from xindai.store.models_origination import AgreementAcceptance, Application, BankCard, Contact

OPEN_STATES = ("deciding", "review", "approved", "signed", "disbursing")
"""An application in one of these is in progress: a borrower has at most one."""


def quote_of(product: Product, amount_fen: Fen, term: int, start: date) -> dict[str, Any]:
    """The schedule and annualised cost the borrower sees (stable JSON)."""
    quote: dict[str, Any] = json.loads(_quote_text(product, amount_fen, term, start)[0])
    return quote


@lru_cache(maxsize=4096)
def _quote_text(product: Product, amount_fen: Fen, term: int, start: date) -> tuple[str, str]:
    """The quote as stable JSON text, and its APR (what an offer stores, without parsing
    the text again)."""
    # a pure function of immutable inputs: offers repeat (amounts on the product's steps,
    # rates to a basis point, one start date a day), and the exact IRR is the costly part
    schedule = build_schedule(product.schedule_terms(amount_fen, term, start))
    quote = schedule_json(schedule, annualised_cost(schedule))
    return json.dumps(quote, ensure_ascii=False), str(quote["apr"])


def _ip_hash(cipher: PiiCipher, ip: str | None) -> str | None:
    """The client address's keyed hash; None when there is none or it is not an IP address
    (behind a proxy or a Unix socket): velocity by IP then simply does not count it."""
    if not ip:
        return None
    try:
        return cipher.lookup_hash("ip", ip)
    except InvalidValue:
        return None


def active_product(session: Session, code: str) -> Product:
    """The newest active version of product `code` (what a new application is made under)."""
    record = session.scalars(
        select(ProductRecord)
        .where(ProductRecord.code == code, ProductRecord.status == "active")
        .order_by(ProductRecord.version.desc())
    ).first()
    if record is None:
        raise InvalidValue("product", code, "is not an active product", "不是在售产品")
    return repo.load_product(session, record.code, record.version)


class NotReady(XindaiError):
    """The borrower cannot apply yet: a step of the journey is missing or out of order."""

    def __init__(self, code: str, en: str, zh: str):
        super().__init__(en, zh, code=code)


def require_agreements(session: Session, borrower_id: int) -> None:
    """The current versions of the registration agreements are accepted."""
    accepted = set(
        session.execute(
            select(AgreementAcceptance.code, AgreementAcceptance.version).where(
                AgreementAcceptance.borrower_id == borrower_id
            )
        ).all()
    )
    missing = [
        c.value for c in REGISTRATION_AGREEMENTS if (c.value, agreement(c).version) not in accepted
    ]
    if missing:
        raise NotReady(
            "AGREEMENTS_REQUIRED",
            f"accept the current {', '.join(missing)} first",
            "请先同意最新版本的用户协议和个人信息授权书",
        )


def require_kyc(borrower: Borrower) -> None:
    if borrower.kyc_status != "verified":
        raise NotReady("KYC_REQUIRED", "verify your identity first", "请先完成实名认证")


def ready_to_apply(
    session: Session, borrower: Borrower, product: Product, card_id: int, today: date
) -> BankCard:
    """Everything a new application (or a draw on a credit line) needs of the borrower:
    agreements, real name, age within the product's range, two emergency contacts, the card
    their own and verified, no other application in progress. Returns the card."""
    require_agreements(session, borrower.id)
    require_kyc(borrower)
    assert borrower.birth_date is not None
    check_age(borrower.birth_date, today, product.age_min, product.age_max)
    contacts = session.scalars(select(Contact.seq).where(Contact.borrower_id == borrower.id)).all()
    if len(contacts) < 2:
        raise NotReady(
            "CONTACTS_REQUIRED", "add at least two emergency contacts", "请至少添加两位紧急联系人"
        )
    card = session.get(BankCard, card_id)
    if card is None or card.borrower_id != borrower.id:
        raise repo.NotFound("card not found", "银行卡不存在")
    if card.status != "verified":
        raise NotReady("CARD_NOT_VERIFIED", "the card is not verified", "银行卡未验证")
    if in_progress(session, borrower.id) is not None:
        raise NotReady(
            "APPLICATION_IN_PROGRESS", "an application is already in progress", "已有进行中的申请"
        )
    return card


def in_progress(session: Session, borrower_id: int) -> int | None:
    """The id of the borrower's application in progress, if any."""
    return session.scalars(
        select(Application.id).where(
            Application.borrower_id == borrower_id, Application.status.in_(OPEN_STATES)
        )
    ).first()


def new_application(
    session: Session,
    cipher: PiiCipher,
    *,
    borrower: Borrower,
    product: Product,
    amount_fen: Fen,
    term: int,
    purpose: LoanPurpose,
    card: BankCard,
    device_fingerprint: str | None,
    ip: str | None,
    declared: Declared,
    today: date,
    now: datetime,
    status: str = "deciding",
    credit_line_id: int | None = None,
) -> Application:
    """Add (and flush) an application with its quote, declared inputs and hashed
    identifiers, and link the device to the borrower in the relation graph."""
    quote = quote_of(product, amount_fen, term, today)
    device_hash = cipher.lookup_hash("device", device_fingerprint) if device_fingerprint else None
    application = Application(
        borrower_id=borrower.id,
        product_code=product.code,
        product_version=product.version,
        amount_fen=amount_fen,
        term=term,
        purpose=purpose.value,
        card_id=card.id,
        device_fingerprint=device_fingerprint,
        ip=ip,
        status=status,
        annual_rate=str(product.annual_rate),
        apr=quote["apr"],
        quote=json.dumps(quote, ensure_ascii=False),
        created_at=now,
        monthly_income_fen=declared.monthly_income_fen,
        employment_type=declared.employment_type,
        education=declared.education,
        city=declared.city,
        phonebook_count=declared.phonebook_count,
        id_number_hash=borrower.id_number_hash,
        phone_hash=borrower.mobile_hash,
        device_hash=device_hash,
        ip_hash=_ip_hash(cipher, ip),
        card_hash=card.card_hash,
        credit_line_id=credit_line_id,
    )
    session.add(application)
    session.flush()
    links.record_link(session, borrower.id, links.OWN_PHONE, borrower.mobile_hash, now)
    links.record_link(session, borrower.id, links.DEVICE, device_hash, now)
    return application


def offered_product(product: Product, application: Application) -> Product:
    """The product at the rate offered to this applicant (the product's own rate if none)."""
    if application.offered_rate is None:
        return product
    return replace(product, annual_rate=Decimal(application.offered_rate))


def offered_amount(application: Application) -> Fen:
    return (
        application.approved_amount_fen
        if application.approved_amount_fen is not None
        else application.amount_fen
    )


def record_offer(
    application: Application, product: Product, amount_fen: Fen, rate: Decimal, today: date
) -> None:
    """Approve `application` for `amount_fen` at `rate`: its quote becomes the offer's
    schedule and cost, which the contract repeats and the borrower signs."""
    application.status = "approved"
    application.approved_amount_fen = amount_fen
    application.offered_rate = str(rate)
    offer = replace(product, annual_rate=rate)
    application.quote, application.apr = _quote_text(offer, amount_fen, application.term, today)
    application.annual_rate = str(rate)
