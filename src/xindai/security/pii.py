"""Personal data at rest and on screen: AES-256-GCM encryption per kind, keyed lookup hashes
shared with anti-fraud, masks (脱敏) for phones, ID numbers, cards and names, and redaction of
free text for logs and exports.

The master key comes from configuration (`XINDAI_PII_KEY`, base64 of at least 32 random
bytes); two independent keys are derived from it with HKDF-SHA256, one to encrypt and one to
hash, so that a leaked lookup key reveals nothing about the ciphertexts.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import secrets
from datetime import date
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from xindai.errors import InvalidValue
from xindai.risk.antifraud.identifiers import hash_identifier, normalise_identifier
from xindai.security.errors import PiiDecryptFailed, PiiKeyInvalid

KEY_BYTES: Final = 32
TOKEN_VERSION: Final = "v1"
NONCE_BYTES: Final = 12
DEV_KEY_FILENAME: Final = "pii-dev.key"

# the kinds encrypted by the platform; `encrypt` accepts any kind of this shape
PHONE, ID_NUMBER, CARD, NAME, CONTACT_PHONE, TOTP = (
    "phone",
    "id_number",
    "card",
    "name",
    "contact_phone",
    "totp",
)
_KIND = re.compile(r"[a-z][a-z0-9_]{0,31}")

_log = logging.getLogger(__name__)


def _check_kind(kind: str) -> str:
    if not isinstance(kind, str) or _KIND.fullmatch(kind) is None:
        raise InvalidValue(
            "kind", kind, "must be a lower-case name like 'phone'", "必须是形如 'phone' 的小写名称"
        )
    return kind


def _derive(master: bytes, label: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=label.encode()).derive(
        master
    )


class PiiCipher:
    """Encrypts, decrypts and hashes personal data under one master key (≥ 32 bytes).

    Tokens are `v1:<urlsafe base64 of nonce ‖ ciphertext ‖ tag>`; the kind is the associated
    data, so that a phone token pasted into an ID-number column fails to decrypt.
    """

    __slots__ = ("_aead", "_lookup_key", "_master")

    def __init__(self, key: bytes):
        if not isinstance(key, bytes) or len(key) < KEY_BYTES:
            raise PiiKeyInvalid(
                f"must be at least {KEY_BYTES} bytes", f"长度至少为 {KEY_BYTES} 字节"
            )
        self._master = key
        self._aead = AESGCM(_derive(key, "xindai/pii/v1/aes-256-gcm"))
        self._lookup_key = _derive(key, "xindai/pii/v1/lookup-hmac-sha256")

    def __repr__(self) -> str:  # never print key material
        return "PiiCipher(<secret>)"

    @classmethod
    def from_config(cls, text: str) -> PiiCipher:
        """A cipher from the configured key text: standard or URL-safe base64 of ≥ 32 bytes."""
        cleaned = "".join((text or "").split())
        if not cleaned:
            raise PiiKeyInvalid(
                "not configured (set XINDAI_PII_KEY)", "未配置（请设置 XINDAI_PII_KEY）"
            )
        padded = cleaned + "=" * (-len(cleaned) % 4)
        try:
            key = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raise PiiKeyInvalid("not base64", "不是 base64 编码") from None
        if len(key) < KEY_BYTES:
            raise PiiKeyInvalid(
                f"{len(key)} bytes, at least {KEY_BYTES} are needed",
                f"只有 {len(key)} 字节，至少需要 {KEY_BYTES} 字节",
            )
        return cls(key)

    @property
    def lookup_key(self) -> bytes:
        """The key of `lookup_hash`; pass it to `HashedIdentifiers.from_raw` so that anti-fraud
        indexes and stored `*_hash` columns agree."""
        return self._lookup_key

    def derive_key(self, purpose: str) -> bytes:
        """A 32-byte key for another use (e.g. `"otp"` for SMS-code hashes), independent of
        the encryption and lookup keys."""
        return _derive(self._master, f"xindai/derived/{_check_kind(purpose)}")

    def encrypt(self, kind: str, value: str) -> str:
        """`value` encrypted as a versioned token bound to `kind` (random nonce per call)."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, value.encode("utf-8"), _check_kind(kind).encode())
        return f"{TOKEN_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, kind: str, token: str) -> str:
        """The value of a token from `encrypt(kind, …)`; `PiiDecryptFailed` if the token was
        altered, is of another kind, or was made under another key."""
        _check_kind(kind)
        version, _, body = (token or "").partition(":")
        if version != TOKEN_VERSION:
            raise PiiDecryptFailed(kind)
        try:
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], kind.encode())
            return plain.decode("utf-8")
        except (binascii.Error, ValueError, InvalidTag, UnicodeError):
            raise PiiDecryptFailed(kind) from None

    def lookup_hash(self, kind: str, value: str) -> str:
        """HMAC-SHA256 (64 hex digits) of the normalised `value`, exactly as anti-fraud's
        `hash_identifier(kind, value, cipher.lookup_key)`: `+86 138-1234-5678` and
        `13812345678` give one hash. Kinds: phone, contact_phone (hashes as phone),
        id_number, card, device, ip."""
        return hash_identifier(kind, value, self._lookup_key)


def new_key_text() -> str:
    """A fresh random master key as base64, for `XINDAI_PII_KEY`."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def development_cipher(data_dir: Path) -> PiiCipher:
    """DEVELOPMENT ONLY: a cipher whose key lives in `<data_dir>/pii-dev.key`, created with
    mode 0600 on first use. Production must set XINDAI_PII_KEY (kept in a secrets manager,
    never next to the database it protects)."""
    path = Path(data_dir) / DEV_KEY_FILENAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(new_key_text() + "\n")
        _log.warning("created a development personal-data key at %s; set XINDAI_PII_KEY", path)
    return PiiCipher.from_config(path.read_text())


def cipher_from_settings(key_text: str, data_dir: Path) -> PiiCipher:
    """The configured cipher (`key_text` = XINDAI_PII_KEY), or the development key file in
    `data_dir` when it is empty (see `development_cipher`)."""
    if key_text and key_text.strip():
        return PiiCipher.from_config(key_text)
    return development_cipher(data_dir)


# ------------------------------------------------------------------ masks (脱敏)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _keep_ends(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[len(text) - tail :]


def mask_phone(value: str) -> str:
    """`13812345678` → `138****5678` (first 3, last 4; `+86` and separators dropped)."""
    if not value.strip():
        return ""
    digits = _digits(value)
    if digits:
        digits = normalise_identifier(PHONE, digits)
    return _keep_ends(digits, 3, 4)


def mask_id(value: str) -> str:
    """`110101199003074578` → `110101********4578`: the region code (first 6) and the last 4
    stay, the birth date is hidden, as most Chinese lenders' screens show it. A 15-digit
    first-generation number keeps 6 and 3; other documents keep the first and last character.
    """
    text = re.sub(r"\s+", "", value).upper()
    if len(text) == 18:
        return _keep_ends(text, 6, 4)
    if len(text) == 15:
        return _keep_ends(text, 6, 3)
    return _keep_ends(text, 1, 1)


def mask_card(value: str) -> str:
    """`6222021234567890123` → `6222 **** **** 0123`: first and last 4 digits in the usual
    grouping, whatever the length (the length is not revealed)."""
    digits = _digits(value)
    if len(digits) < 12:
        return _keep_ends(digits, 0, 4) if len(digits) > 8 else "*" * len(digits)
    return f"{digits[:4]} **** **** {digits[-4:]}"


def mask_name(value: str) -> str:
    """`张三` → `张*`, `欧阳娜娜` → `欧***`: the first character, a star for each other one."""
    text = value.strip()
    if len(text) <= 1:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 1)


def mask(kind: str, value: str) -> str:
    """The mask of `value` for its kind (phone, contact_phone, id_number, card, name)."""
    maskers = {
        PHONE: mask_phone,
        CONTACT_PHONE: mask_phone,
        ID_NUMBER: mask_id,
        CARD: mask_card,
        NAME: mask_name,
    }
    if kind not in maskers:
        raise InvalidValue(
            "kind", kind, f"no mask for it; one of {', '.join(maskers)}", "该类型没有脱敏规则"
        )
    return maskers[kind](value)


# ------------------------------------------------------------------ redaction of free text

# a run of digits with single spaces or dashes inside, an optional + before and a check
# letter X after; runs glued to letters are matched too (`tel13812345678` is still a phone)
_DIGIT_RUN = re.compile(r"\+?(?<![0-9])[0-9](?:[ -]?[0-9])*(?:[Xx](?![0-9A-Za-z]))?(?![0-9])")
_SEPARATED = re.compile(r"([ -])")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")


def _looks_like_id_number(text: str) -> bool:
    """18 characters, 17 digits and a digit or X, with a real birth date in 1900–2099 at
    positions 7–14 (the check digit is not required: a mistyped one is still personal)."""
    if len(text) != 18 or not text[:17].isdigit() or text[17] not in "0123456789Xx":
        return False
    try:
        birth = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return False
    return 1900 <= birth.year <= 2099


def _masked_identifier(token: str) -> str | None:
    """The mask of one identifier-looking token (digits, maybe a leading + or a final X), or
    None when it does not look like a phone, ID number or card number."""
    text = token.lstrip("+")
    if text[-1:] in ("X", "x"):
        return mask_id(text) if len(text) == 18 and text[:17].isdigit() else None
    for prefix in ("0086", "86", ""):
        national = text[len(prefix) :]
        if text.startswith(prefix) and _MOBILE.fullmatch(national):
            return mask_phone(national)
    if _looks_like_id_number(text):
        return mask_id(text)
    if len(text) == 15:
        return mask_id(text)  # a first-generation ID number (or a 15-digit card)
    if 16 <= len(text) <= 19:
        return mask_card(text)
    return None


def _redact_run(match: re.Match[str]) -> str:
    run = match.group(0)
    parts = _SEPARATED.split(run)  # pieces at even indexes, separators at odd ones
    pieces = parts[0::2]
    if len(pieces) > 1:
        masked = [_masked_identifier(piece) for piece in pieces]
        if any(m is not None for m in masked):
            # a complete identifier among the pieces: mask piece by piece
            return "".join(
                (masked[i // 2] or part) if i % 2 == 0 else part for i, part in enumerate(parts)
            )
        # a grouped identifier (138 1234 5678, 6222 0212 …), but not a date like 2024-03-07
        if any(len(piece) < 3 for piece in pieces[1:]):
            return run
    return _masked_identifier("".join(pieces)) or run


def redact(text: str) -> str:
    """`text` with every phone-, ID- or card-number-looking digit run masked, for logs and
    exports: mainland mobiles (also `+86 138 1234 5678`), 18-character ID numbers (a birth
    date inside, or the check letter X), 15-digit numbers, and 16–19-digit runs (cards).
    Shorter runs (amounts, dates, 14-digit timestamps) are left alone; names cannot be found
    in free text and must be masked where they are known."""
    if not text:
        return text
    return _DIGIT_RUN.sub(_redact_run, text)


class PiiRedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message, the exception text and the stack
    of every record (`redact`); add it to a handler (or a logger) to keep personal data out
    of the logs. The record's args are merged into the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # bad args: never let logging raise into the caller
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
