"""An applicant's identifiers as keyed hashes: normalisation, HMAC-SHA256, and the bundle of
hashed identifiers that every anti-fraud index is keyed by.

Raw ID numbers, phones, cards … are hashed at the edge with a secret key and never stored by
the anti-fraud indexes; two spellings of one identifier (`+86 138-0013-8000`, `13800138000`)
hash to the same value because they are normalised first.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from xindai.errors import InvalidValue

_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_NON_DIGITS = re.compile(r"\D")
_WHITESPACE = re.compile(r"\s+")


class IdentifierKind(StrEnum):
    """What an identifier is; the value selects its normalisation and hash domain."""

    ID_NUMBER = "id_number"  # 居民身份证号 (or another ID document number)
    PHONE = "phone"  # the applicant's own mobile number
    DEVICE = "device"  # device fingerprint / device id from the app SDK
    IP = "ip"  # the client IP address of the application
    CARD = "card"  # bank card number
    CONTACT_PHONE = "contact_phone"  # an emergency contact's mobile number


def _hash_domain(kind: IdentifierKind) -> str:
    # a contact's phone is a phone: it must hash like one to be matched against phone lists
    return IdentifierKind.PHONE.value if kind is IdentifierKind.CONTACT_PHONE else kind.value


def _identifier_kind(kind: str) -> IdentifierKind:
    try:
        return IdentifierKind(kind)
    except ValueError:
        raise InvalidValue(
            "kind",
            kind,
            f"not one of {', '.join(k.value for k in IdentifierKind)}",
            f"不是 {', '.join(k.value for k in IdentifierKind)} 之一",
        ) from None


def normalise_identifier(kind: str, value: str) -> str:
    """The canonical spelling of `value` as an identifier of `kind` (an `IdentifierKind` or
    `BlacklistKind`, or its value).

    ID numbers lose all whitespace and are upper-cased (check letter x → X); phones and cards
    keep digits only, and a mainland mobile written with the country code (86 / 0086) loses
    it; device ids are stripped and lower-cased; IP addresses take their compressed form (an
    IPv4-mapped IPv6 address becomes the IPv4 address). Raises `InvalidValue` when nothing
    identifying is left.
    """
    identifier_kind = _identifier_kind(kind)
    if not isinstance(value, str):
        raise InvalidValue(identifier_kind.value, value, "must be a string", "必须是字符串")
    if identifier_kind is IdentifierKind.ID_NUMBER:
        normalised = _WHITESPACE.sub("", value).upper()
    elif identifier_kind in (IdentifierKind.PHONE, IdentifierKind.CONTACT_PHONE):
        normalised = _NON_DIGITS.sub("", value)
        for prefix in ("0086", "86"):
            rest = normalised[len(prefix) :]
            if normalised.startswith(prefix) and len(rest) == 11 and rest.startswith("1"):
                normalised = rest
                break
    elif identifier_kind is IdentifierKind.CARD:
        normalised = _NON_DIGITS.sub("", value)
    elif identifier_kind is IdentifierKind.DEVICE:
        normalised = value.strip().lower()
    else:
        try:
            address = ipaddress.ip_address(value.strip())
        except ValueError:
            raise InvalidValue(
                identifier_kind.value, value, "not an IP address", "不是 IP 地址"
            ) from None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        normalised = address.compressed
    if not normalised:
        raise InvalidValue(
            identifier_kind.value, value, "nothing identifying is left", "规范化后为空"
        )
    return normalised


def hash_identifier(kind: str, value: str, key: bytes) -> str:
    """The keyed hash of identifier `value` of `kind`: HMAC-SHA256 under `key` of the hash
    domain and the normalised value, as 64 lower-case hex digits.

    `kind` is an `IdentifierKind` or `BlacklistKind` (or its value). A contact phone hashes
    exactly like a phone; other kinds hash in their own domain, so that a card number and a
    phone with the same digits never collide.
    """
    if not isinstance(key, bytes) or not key:
        raise InvalidValue("key", "<secret>", "must be non-empty bytes", "必须是非空字节串")
    identifier_kind = _identifier_kind(kind)
    message = f"{_hash_domain(identifier_kind)}:{normalise_identifier(identifier_kind, value)}"
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def check_value_hash(field: str, value: object) -> str:
    """`value` if it is a keyed hash as `hash_identifier` writes it, else `InvalidValue` (so
    that a raw identifier is never stored by mistake)."""
    if not isinstance(value, str) or _HEX_DIGEST.fullmatch(value) is None:
        raise InvalidValue(
            field,
            value,
            "must be a keyed hash (64 lower-case hex digits) from hash_identifier",
            "必须是 hash_identifier 生成的密钥哈希（64 位小写十六进制）",
        )
    return value


def check_datetime(field: str, value: object) -> datetime:
    """`value` if it is a `datetime`, else `InvalidValue`."""
    if not isinstance(value, datetime):
        raise InvalidValue(field, value, "must be a datetime", "必须是日期时间")
    return value


@dataclass(frozen=True, slots=True)
class HashedIdentifiers:
    """The identifiers of one application, each a keyed hash from `hash_identifier` or None
    when not known. `contact_phones` are the emergency contacts' phones (order kept)."""

    id_number: str | None = None
    phone: str | None = None
    device: str | None = None
    ip: str | None = None
    card: str | None = None
    contact_phones: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("id_number", "phone", "device", "ip", "card"):
            value = getattr(self, name)
            if value is not None:
                check_value_hash(name, value)
        if not isinstance(self.contact_phones, tuple):
            object.__setattr__(self, "contact_phones", tuple(self.contact_phones))
        for i, contact in enumerate(self.contact_phones):
            check_value_hash(f"contact_phones[{i}]", contact)

    @classmethod
    def from_raw(
        cls,
        key: bytes,
        *,
        id_number: str | None = None,
        phone: str | None = None,
        device: str | None = None,
        ip: str | None = None,
        card: str | None = None,
        contact_phones: Iterable[str] = (),
    ) -> HashedIdentifiers:
        """Hash raw identifiers under `key` (see `hash_identifier`); None stays None."""

        def hashed(kind: IdentifierKind, value: str | None) -> str | None:
            return None if value is None else hash_identifier(kind, value, key)

        return cls(
            id_number=hashed(IdentifierKind.ID_NUMBER, id_number),
            phone=hashed(IdentifierKind.PHONE, phone),
            device=hashed(IdentifierKind.DEVICE, device),
            ip=hashed(IdentifierKind.IP, ip),
            card=hashed(IdentifierKind.CARD, card),
            contact_phones=tuple(
                hash_identifier(IdentifierKind.CONTACT_PHONE, contact, key)
                for contact in contact_phones
            ),
        )
