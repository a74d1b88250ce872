"""Request bodies of the API (Pydantic), separate from the ORM models.

Digits follow one rule (`xindai.digits`): ASCII, full-width read as ASCII, any other digit
refused. Whole numbers (`WholeNumber`) are JSON numbers, or strings of such digits (not
"1_000", "12.0", "١٢"); codes typed by the borrower (`DigitCode`) get full-width folded;
amounts, phones, cards and ID numbers are checked by the services with their own codes.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

from xindai.digits import ascii_digits
from xindai.origination.agreements import AgreementCode
from xindai.origination.contacts import Relation
from xindai.origination.declared import EDUCATION_ZH, EMPLOYMENT_ZH
from xindai.origination.journey_repayment import REPAYMENT_MODES
from xindai.origination.purposes import LoanPurpose
from xindai.security.rbac import ROLES

_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def _whole_number(value: object) -> object:
    if isinstance(value, str):
        folded = ascii_digits(value.strip())
        if folded is None or not _WHOLE_NUMBER.fullmatch(folded):
            raise ValueError("must be a whole number written with the digits 0-9")
        return folded
    return value


def _digit_code(value: object) -> object:
    if isinstance(value, str):
        folded = ascii_digits(value)
        if folded is None:
            raise ValueError("digits must be 0-9 (or full-width ０-９)")
        return folded
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
"""An integer: a JSON number, or a string of ASCII (or full-width) digits."""
DigitCode = Annotated[str, BeforeValidator(_digit_code)]
"""A code of digits the borrower types (SMS code): full-width digits read as ASCII."""


AMOUNT_IN_PATTERN = r"^[0-9]+(\.[0-9]{1,2})?$"
"""A yuan amount as clients should send it; the service also reads "1,234.50", "¥88" and
full-width digits, and answers 400 (INVALID_VALUE, AMOUNT_TOO_LARGE) for anything else."""
PHONE_PATTERN = r"^1[3-9][0-9]{9}$"
"""A mainland mobile as clients should send it; spaces, dashes, +86 and full-width digits
are also read, anything else is a 400 PHONE_INVALID."""


def documented(
    description: str | None = None,
    *,
    max_length: int,
    default: Any = ...,
    examples: list[Any] | None = None,
    **schema: Any,
) -> Any:
    """A string field documented with `schema` (pattern, enum …) that is not enforced here:
    the service checks the value and answers 400 with its own code."""
    return Field(
        default,
        description=description,
        max_length=max_length,
        examples=examples,
        json_schema_extra=schema or None,
    )


class PhoneIn(BaseModel):
    phone: str = documented(
        "mainland mobile / 手机号", pattern=PHONE_PATTERN, max_length=32, examples=["13812345678"]
    )


class LoginIn(PhoneIn):
    code: DigitCode = documented("the SMS code / 短信验证码", pattern=r"^[0-9]{6}$", max_length=12)
    channel: str | None = Field(
        default=None, max_length=32, description="the marketing channel the borrower came from"
    )


class AcceptedAgreement(BaseModel):
    code: str = documented(enum=[c.value for c in AgreementCode], max_length=32)
    version: WholeNumber = Field(ge=1)


class AgreementsIn(BaseModel):
    items: list[AcceptedAgreement] = Field(min_length=1, max_length=10)


PHOTO_MAX_CHARS = 4_000_000
"""A photo as base64: 4,000,000 characters, about 3 MB of JPEG (a phone's ID photo is well
under); three of them fit the real-name route's 12 MiB body limit (`api.middleware`)."""


class KycIn(BaseModel):
    name: str = Field(max_length=64, description="as on the ID card / 姓名")
    id_number: str = documented(
        "18-character resident ID / 身份证号", pattern=r"^[0-9]{17}[0-9Xx]$", max_length=32
    )
    id_front: str = Field(description="base64 image", max_length=PHOTO_MAX_CHARS)
    id_back: str = Field(description="base64 image", max_length=PHOTO_MAX_CHARS)
    face: str = Field(
        description="base64 image from the liveness check", max_length=PHOTO_MAX_CHARS
    )


class ContactIn(BaseModel):
    name: str = Field(max_length=64)
    phone: str = documented(pattern=PHONE_PATTERN, max_length=32)
    relation: str = documented(enum=[r.value for r in Relation], max_length=16)


class ContactsIn(BaseModel):
    contacts: list[ContactIn] = Field(max_length=10)


class CardIn(BaseModel):
    card_number: str = documented(
        "debit card, 16-19 digits, Luhn-valid / 卡号", pattern=r"^[0-9]{16,19}$", max_length=40
    )
    phone: str = documented("the card's phone / 预留手机号", pattern=PHONE_PATTERN, max_length=32)


class CardConfirmIn(BaseModel):
    code: DigitCode = documented("the SMS code", pattern=r"^[0-9]{6}$", max_length=12)


class QuoteIn(BaseModel):
    product: str = Field(max_length=32)
    amount: str = documented(
        "yuan, e.g. 3000 or 3000.00", pattern=AMOUNT_IN_PATTERN, max_length=20, examples=["3000.00"]
    )
    term: WholeNumber = Field(ge=1, le=400, description="installments (or days)")


class ApplicationIn(QuoteIn):
    purpose: str = documented(
        "or its zh-CN label", enum=[p.value for p in LoanPurpose], max_length=32
    )
    card_id: WholeNumber = Field(ge=1, le=2**63 - 1)
    device_fingerprint: str | None = Field(default=None, max_length=128)
    # what the applicant declares (the scorecard reads it); the phone-book size only when the
    # app was given the permission
    monthly_income: str = documented("yuan / 月收入", pattern=AMOUNT_IN_PATTERN, max_length=20)
    employment_type: str = documented("职业", enum=list(EMPLOYMENT_ZH), max_length=16)
    education: str = documented("学历", enum=list(EDUCATION_ZH), max_length=16)
    city: str = Field(max_length=32, description="city of residence / 居住城市")
    phonebook_count: WholeNumber | None = Field(
        default=None, ge=0, le=100_000, description="phone-book entries, if permitted / 通讯录条数"
    )


class RepaymentIn(BaseModel):
    mode: str = documented(
        "what to collect: what is due, an amount, the payoff, or the extension fee",
        enum=list(REPAYMENT_MODES),
        max_length=16,
    )
    amount: str | None = documented(
        "yuan, for mode amount", pattern=AMOUNT_IN_PATTERN, default=None, max_length=20
    )


class StaffLoginIn(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    totp: str | None = Field(default=None, max_length=12)


class ReviewIn(BaseModel):
    approve: bool
    note: str = Field(default="", max_length=500)
    checklist: dict[str, bool] = Field(default_factory=dict)


class StaffIn(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    role: str = documented(enum=list(ROLES), max_length=32)
    channel: str | None = Field(default=None, max_length=32)
    with_totp: bool = False
