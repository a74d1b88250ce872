"""Identity photos (实名认证: ID card front and back, the liveness capture): what an ID photo
must be, and their storage encrypted at rest.

An ID photo is a JPEG, PNG or WebP image of at most `MAX_PHOTO_BYTES` (the app takes it
with the camera or from the gallery); the face capture is the identity provider's to judge
(its liveness check), so only its size is limited here. Each photo is stored once, under a
keyed hash of its content (nobody holding a photo can confirm it is on file without the
key), as a PII token of kind `kyc_photo` (AES-GCM, `security.pii`). Rows written before
photos were encrypted keep their plain content and SHA-256 key; `photo_content` reads both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from sqlalchemy.orm import Session

from xindai.errors import InvalidValue
from xindai.security.pii import PiiCipher
from xindai.store.models_origination import BorrowerPhoto, KycPhoto

MAX_PHOTO_BYTES = 3_000_000
"""The most an identity photo may be (the base64 in the request is at most 4,000,000
characters, `schemas.KycIn`)."""
ID_PHOTOS = ("id_front", "id_back")
KIND = "kyc_photo"
ENCRYPTED = "enc:"
"""`kyc_photos.content_type` of an encrypted photo starts with this."""

_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


class PhotoRefused(InvalidValue):
    code = "KYC_PHOTO_INVALID"


def image_type(content: bytes) -> str | None:
    """The media type of a JPEG, PNG or WebP image by its first bytes, else None."""
    for signature, media_type in _SIGNATURES:
        if content.startswith(signature):
            return media_type
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_photo(kind: str, content: bytes) -> str:
    """The media type of photo `kind`: an ID photo must be a JPEG, PNG or WebP image; every
    photo at most `MAX_PHOTO_BYTES` → `KYC_PHOTO_INVALID`."""
    if len(content) > MAX_PHOTO_BYTES:
        raise PhotoRefused(
            kind,
            f"<{len(content)} bytes>",
            f"is larger than {MAX_PHOTO_BYTES // 1_000_000} MB",
            f"照片不能超过 {MAX_PHOTO_BYTES // 1_000_000} MB",
        )
    found = image_type(content)
    if kind in ID_PHOTOS and found is None:
        raise PhotoRefused(
            kind,
            "<image>",
            "must be a JPEG, PNG or WebP photo",
            "请上传 JPG、PNG 或 WebP 格式的照片",
        )
    return found or "application/octet-stream"


def photo_key(cipher: PiiCipher, content: bytes) -> str:
    """The key a photo is stored under: HMAC-SHA256 of its content (64 hex digits)."""
    return hmac.new(cipher.derive_key(KIND), content, hashlib.sha256).hexdigest()


def store_photos(
    session: Session,
    cipher: PiiCipher,
    borrower_id: int,
    photos: dict[str, bytes],
    now: datetime,
) -> None:
    """Store the borrower's identity photos encrypted (once per content) and point the
    borrower's photo of each kind at them."""
    for kind, content in photos.items():
        key = photo_key(cipher, content)
        if session.get(KycPhoto, key) is None:
            token = cipher.encrypt(KIND, base64.b64encode(content).decode("ascii"))
            session.add(
                KycPhoto(
                    sha256=key,
                    content=token.encode("ascii"),
                    content_type=f"{ENCRYPTED}{check_photo(kind, content)}"[:32],
                    created_at=now,
                )
            )
        current = session.get(BorrowerPhoto, (borrower_id, kind))
        if current is None:
            session.add(BorrowerPhoto(borrower_id=borrower_id, kind=kind, sha256=key))
        else:
            current.sha256 = key


def photo_content(cipher: PiiCipher, row: KycPhoto) -> tuple[bytes, str]:
    """A stored photo's bytes and media type (decrypted; a plain legacy row as it is)."""
    if not row.content_type.startswith(ENCRYPTED):
        return bytes(row.content), row.content_type
    plain = cipher.decrypt(KIND, bytes(row.content).decode("ascii"))
    return base64.b64decode(plain), row.content_type[len(ENCRYPTED) :]


__all__ = [
    "MAX_PHOTO_BYTES",
    "PhotoRefused",
    "check_photo",
    "image_type",
    "photo_content",
    "photo_key",
    "store_photos",
]
