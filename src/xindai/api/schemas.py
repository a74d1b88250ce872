"""Request bodies of the API (Pydantic), separate from the ORM models.

Digits follow one rule (`xindai.digits`): ASCII, full-width read as ASCII, any other digit
refused. Whole numbers (`WholeNumber`) are JSON numbers, or strings of such digits (not
"1_000", "12.0", "١٢"); codes typed by the borrower (`DigitCode`) get full-width folded;
amounts, phones, cards and ID numbers are checked by the services with their own codes.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field

from xindai.digits import ascii_digits

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


class PhoneIn(BaseModel):
    phone: str = Field(max_length=32, examples=["13812345678"])


class LoginIn(PhoneIn):
    code: DigitCode = Field(max_length=12)
    channel: str | None = Field(default=None, max_length=32)


class AcceptedAgreement(BaseModel):
    code: str = Field(max_length=32)
    version: WholeNumber = Field(ge=1)


class AgreementsIn(BaseModel):
    items: list[AcceptedAgreement] = Field(min_length=1, max_length=10)


PHOTO_MAX_CHARS = 4_000_000
"""A photo as base64: 4,000,000 characters, about 3 MB of JPEG (a phone's ID photo is well
under); three of them fit the real-name route's 12 MiB body limit (`api.middleware`)."""


class KycIn(BaseModel):
    name: str = Field(max_length=64)
    id_number: str = Field(max_length=32)
    id_front: str = Field(description="base64 image", max_length=PHOTO_MAX_CHARS)
    id_back: str = Field(description="base64 image", max_length=PHOTO_MAX_CHARS)
    face: str = Field(
        description="base64 image from the liveness check", max_length=PHOTO_MAX_CHARS
    )


class ContactIn(BaseModel):
    name: str = Field(max_length=64)
    phone: str = Field(max_length=32)
    relation: str = Field(max_length=16)


class ContactsIn(BaseModel):
    contacts: list[ContactIn] = Field(max_length=10)


class CardIn(BaseModel):
    card_number: str = Field(max_length=40)
    phone: str = Field(max_length=32)


class CardConfirmIn(BaseModel):
    code: DigitCode = Field(max_length=12)


class QuoteIn(BaseModel):
    product: str = Field(max_length=32)
    amount: str = Field(max_length=20, description="yuan, e.g. 3000 or 3000.00")
    term: WholeNumber = Field(ge=1, le=400)


class ApplicationIn(QuoteIn):
    purpose: str = Field(max_length=32)
    card_id: WholeNumber = Field(ge=1, le=2**63 - 1)
    device_fingerprint: str | None = Field(default=None, max_length=128)
    # what the applicant declares (the scorecard reads it); the phone-book size only when the
    # app was given the permission
    monthly_income: str = Field(max_length=20, description="yuan / 月收入")
    employment_type: str = Field(
        max_length=16,
        description="salaried | self_employed | freelance | student | unemployed / 职业",
    )
    education: str = Field(
        max_length=16,
        description="junior_high | high_school | college | bachelor | master / 学历",
    )
    city: str = Field(max_length=32, description="city of residence / 居住城市")
    phonebook_count: WholeNumber | None = Field(
        default=None, ge=0, le=100_000, description="phone-book entries, if permitted / 通讯录条数"
    )


class RepaymentIn(BaseModel):
    mode: str = Field(max_length=16, description="current_due | amount | payoff")
    amount: str | None = Field(default=None, max_length=20)


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
    role: str = Field(max_length=32)
    channel: str | None = Field(default=None, max_length=32)
    with_totp: bool = False
