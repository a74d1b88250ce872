"""Bank cards for payout and withholding: number format, Luhn check, issuing bank by BIN.

Only personal debit cards (借记卡) of a supported bank are accepted: a payout to a credit card
would be cash advance on borrowed money. The BIN table is data (`bank_bins`), matched by the
longest prefix.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from xindai.digits import foreign_digit
from xindai.errors import InvalidValue
from xindai.origination import bank_bins
from xindai.origination.masking import mask_card, redact

CARD_MIN_DIGITS = 16
CARD_MAX_DIGITS = 19

_DIGITS_RE = re.compile(r"[0-9]+")

__all__ = [
    "Bank",
    "BankCard",
    "BinEntry",
    "BinTable",
    "CardBankUnsupported",
    "CardCreditRefused",
    "CardError",
    "CardFormatError",
    "CardKind",
    "CardLuhnError",
    "bin_table",
    "card_bank",
    "card_bin",
    "luhn_check_digit",
    "luhn_valid",
    "mask_card",
    "normalise_card_number",
    "parse_card",
    "valid_sample_card",
]


class CardError(InvalidValue):
    code = "CARD_INVALID"

    def __init__(self, number: str, reason_en: str, reason_zh: str):
        # a card number is personal data: messages only show the BIN and last four digits
        shown = mask_card(number) if len(number) >= 12 else redact(number)
        super().__init__("card_number", shown, reason_en, reason_zh)


class CardFormatError(CardError):
    code = "CARD_FORMAT"


class CardLuhnError(CardError):
    code = "CARD_LUHN"


class CardBankUnsupported(CardError):
    code = "CARD_BANK_UNSUPPORTED"


class CardCreditRefused(CardError):
    code = "CARD_CREDIT_REFUSED"


class CardKind(StrEnum):
    DEBIT = "debit"  # 借记卡
    CREDIT = "credit"  # 贷记卡 or 准贷记卡


@dataclass(frozen=True, slots=True)
class Bank:
    code: str  # e.g. ICBC
    name_zh: str  # 中国工商银行
    short_name_zh: str  # 工商银行
    name_en: str  # Industrial and Commercial Bank of China


@dataclass(frozen=True, slots=True)
class BinEntry:
    prefix: str
    bank: Bank
    kind: CardKind
    length: int  # the usual number of digits of cards with this prefix


@dataclass(frozen=True, slots=True)
class BankCard:
    """A validated debit card: the digits, its bank and its BIN entry."""

    number: str
    bank: Bank
    entry: BinEntry

    @property
    def masked(self) -> str:
        return mask_card(self.number)

    @property
    def last4(self) -> str:
        return self.number[-4:]


class BinTable:
    """BIN prefixes → entries, matched by the longest prefix of a card number."""

    def __init__(self, entries: Iterable[BinEntry]):
        self._entries: dict[str, BinEntry] = {}
        for entry in entries:
            if not _DIGITS_RE.fullmatch(entry.prefix):
                raise ValueError(f"BIN prefix {entry.prefix!r} is not digits")
            if entry.prefix in self._entries:
                raise ValueError(f"BIN prefix {entry.prefix} is listed twice")
            self._entries[entry.prefix] = entry
        self._lengths = sorted({len(p) for p in self._entries}, reverse=True)
        self.banks: dict[str, Bank] = {e.bank.code: e.bank for e in self._entries.values()}

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> tuple[BinEntry, ...]:
        return tuple(self._entries.values())

    def lookup(self, number: str) -> BinEntry | None:
        """The entry of the longest listed prefix of `number`, or None."""
        for length in self._lengths:
            entry = self._entries.get(number[:length])
            if entry is not None and length <= len(number):
                return entry
        return None


@cache
def bin_table() -> BinTable:
    """The table of `bank_bins` (built once)."""
    banks = {
        code: Bank(code, name_zh, short_zh, name_en)
        for code, (name_zh, short_zh, name_en) in bank_bins.BANKS.items()
    }
    return BinTable(
        BinEntry(prefix, banks[code], CardKind(kind), length)
        for code, kind, length, prefixes in bank_bins.BIN_GROUPS
        for prefix in prefixes.split()
    )


def luhn_valid(number: str) -> bool:
    """Whether a string of digits passes the Luhn (mod 10) check."""
    if not _DIGITS_RE.fullmatch(number):
        return False
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def luhn_check_digit(partial: str) -> str:
    """The digit that makes `partial + digit` pass the Luhn check."""
    for digit in "0123456789":
        if luhn_valid(partial + digit):
            return digit
    raise InvalidValue("card_number", redact(partial), "must be digits", "应为数字")


def normalise_card_number(text: str) -> str:
    """The card number's digits: full-width digits become ASCII and spaces go. Checks the
    format (digits only, 16–19 of them) and the Luhn digit → `CARD_FORMAT` / `CARD_LUHN`."""
    if not isinstance(text, str):
        raise CardFormatError(str(text), "must be a string", "必须是字符串")
    if foreign_digit(text) is not None:  # NFKC would turn ① or ² into a digit (xindai.digits)
        raise CardFormatError(
            text, "digits must be 0-9 (or full-width ０-９)", "卡号只能使用数字 0-9"
        )
    number = "".join(unicodedata.normalize("NFKC", text).split())
    if not _DIGITS_RE.fullmatch(number) or not number.isascii():
        raise CardFormatError(number, "must contain digits only", "卡号只能包含数字")
    if not CARD_MIN_DIGITS <= len(number) <= CARD_MAX_DIGITS:
        raise CardFormatError(
            number,
            f"must have {CARD_MIN_DIGITS}–{CARD_MAX_DIGITS} digits, not {len(number)}",
            f"卡号应为 {CARD_MIN_DIGITS}–{CARD_MAX_DIGITS} 位数字，实际 {len(number)} 位",
        )
    if not luhn_valid(number):
        raise CardLuhnError(
            number, "the check digit is wrong; please check the number", "卡号校验失败，请核对卡号"
        )
    return number


def card_bin(number: str, table: BinTable | None = None) -> BinEntry | None:
    """The BIN entry of a card number (digits), by longest prefix, or None."""
    return (table or bin_table()).lookup(number)


def card_bank(number: str, table: BinTable | None = None) -> Bank | None:
    """The issuing bank of a card number (digits), or None for an unknown BIN."""
    entry = card_bin(number, table)
    return entry.bank if entry else None


def parse_card(text: str, table: BinTable | None = None) -> BankCard:
    """A debit card a payout can go to: format and Luhn (`CARD_FORMAT`, `CARD_LUHN`), a known
    bank (`CARD_BANK_UNSUPPORTED`) and a debit card (`CARD_CREDIT_REFUSED`)."""
    number = normalise_card_number(text)
    entry = card_bin(number, table)
    if entry is None:
        raise CardBankUnsupported(
            number,
            "the issuing bank is not supported; please bind a debit card of a supported bank",
            "暂不支持该银行卡，请绑定支持银行的借记卡",
        )
    if entry.kind is not CardKind.DEBIT:
        raise CardCreditRefused(
            number,
            f"a {entry.bank.name_en} credit card cannot receive a loan; bind a debit card",
            f"{entry.bank.short_name_zh}信用卡不能用于收款，请绑定借记卡",
        )
    return BankCard(number, entry.bank, entry)


def valid_sample_card(bank_code: str, seed: int, *, kind: CardKind = CardKind.DEBIT) -> str:
    """A made-up, Luhn-valid card number of `bank_code` (a debit card unless `kind` says
    otherwise) with the usual length for its BIN; the same seed gives the same number."""
    choices = sorted(
        (e for e in bin_table().entries() if e.bank.code == bank_code and e.kind is kind),
        key=lambda e: e.prefix,
    )
    if not choices:
        raise InvalidValue(
            "bank_code", bank_code, f"no {kind.value} BIN listed", f"没有该银行的{kind.value}卡 BIN"
        )
    rng = random.Random(f"{bank_code}:{kind.value}:{seed}")
    while True:
        entry = rng.choice(choices)
        body = entry.prefix + "".join(
            rng.choice("0123456789") for _ in range(entry.length - len(entry.prefix) - 1)
        )
        number = body + luhn_check_digit(body)
        # a short prefix may run into a longer one of another bank: draw again
        if card_bin(number) == entry:
            return number
