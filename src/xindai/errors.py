"""Typed domain errors with a stable code and a zh-CN and English message.

Every error the core raises for bad input derives from `XindaiError`; the CLI turns it into a
one-line message and exit status 2, the API into a 4xx with the same code.
"""

from __future__ import annotations


class XindaiError(Exception):
    """A domain error: `code` is stable and machine-readable; messages are for people."""

    code: str = "XINDAI_ERROR"

    def __init__(self, message_en: str, message_zh: str | None = None, *, code: str | None = None):
        super().__init__(message_en)
        if code is not None:
            self.code = code
        self.message_en = message_en
        self.message_zh = message_zh or message_en

    def __str__(self) -> str:
        return self.message_en


class InvalidValue(XindaiError):
    """A value given by a caller is malformed or out of range."""

    code = "INVALID_VALUE"

    def __init__(self, field: str, value: object, reason_en: str, reason_zh: str | None = None):
        self.field = field
        self.value = value
        super().__init__(
            f"invalid {field} {value!r}: {reason_en}",
            f"{field} 的值 {value!r} 无效：{reason_zh or reason_en}",
        )


class ProductError(InvalidValue):
    """A product definition is invalid or contradictory."""

    code = "PRODUCT_INVALID"


class RateCapExceeded(XindaiError):
    """A product's comprehensive annualised cost is above its compliance cap."""

    code = "RATE_CAP_EXCEEDED"
