"""Sending an SMS, and the outbox (短信发送记录): every message the platform sends goes out
only from the approved version of its template, through the SMS gateway, and is recorded
with the gateway's answer — the number masked and hashed (searchable by the number, never
readable), secret variables (a verification code) replaced — whether it was sent or not.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from xindai.errors import InvalidValue, XindaiError
from xindai.integrations.errors import ProviderError
from xindai.integrations.ports import SmsReceipt, SmsStatus
from xindai.messaging.templates import SECRET_VARIABLES, approved
from xindai.security.pii import PiiCipher, mask_phone
from xindai.store.models_admin import SmsMessage, SmsTemplate

logger = logging.getLogger("xindai.messaging")
HIDDEN = "******"
ORIGINS = ("login", "review", "reminder", "collection", "notice", "marketing")
STATUSES = ("sent", "delivered", "failed", "refused")


class TemplateNotApproved(XindaiError):
    code = "SMS_TEMPLATE_NOT_APPROVED"
    http_status = 409


class Sender(Protocol):
    """What sending needs of the platform (a `Platform` is one)."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def cipher(self) -> PiiCipher: ...

    @property
    def providers(self) -> Any: ...

    def clock(self) -> Any: ...


def _kept(params: Mapping[str, str]) -> dict[str, str]:
    return {k: (HIDDEN if k in SECRET_VARIABLES else str(v)) for k, v in params.items()}


def send_sms(
    platform: Sender,
    phone: str,
    template_code: str,
    params: Mapping[str, str],
    *,
    origin: str,
    borrower_id: int | None = None,
) -> SmsReceipt:
    """Send template `template_code` (its approved version) to `phone` with `params` (every
    declared variable) and record it in the outbox, sent or not; the gateway's errors are
    raised after the record. `SMS_TEMPLATE_NOT_APPROVED` when the code has no approved
    version (nothing is sent)."""
    with platform.sessions() as session:
        template = approved(session, template_code)
        version = template.version if template is not None else None
        declared = json.loads(template.variables) if template is not None else []
    if template is None:
        _record(platform, phone, template_code, None, params, origin, borrower_id, "refused",
                None, "template not approved")  # fmt: skip
        raise TemplateNotApproved(
            f"SMS template {template_code} has no approved version",
            f"短信模板 {template_code} 没有已审批的版本",
        )
    missing = [name for name in declared if name not in params]
    if missing:
        raise InvalidValue(
            "params", missing[0], f"template {template_code} needs it", "模板需要该变量"
        )
    try:
        receipt: SmsReceipt = platform.providers.sms.send(phone, template_code, dict(params))
    except ProviderError as exc:
        _record(platform, phone, template_code, version, params, origin, borrower_id, "failed",
                None, f"{exc.code}: {exc}")  # fmt: skip
        raise
    status = "failed" if receipt.status is SmsStatus.FAILED else receipt.status.value
    _record(platform, phone, template_code, version, params, origin, borrower_id, status,
            receipt.message_id, None)  # fmt: skip
    return receipt


def _record(
    platform: Sender,
    phone: str,
    code: str,
    version: int | None,
    params: Mapping[str, str],
    origin: str,
    borrower_id: int | None,
    status: str,
    message_id: str | None,
    error: str | None,
) -> None:
    try:
        phone_hash = platform.cipher.lookup_hash("phone", phone)
    except InvalidValue:
        phone_hash = "-"
    try:
        with platform.sessions.begin() as session:
            session.add(
                SmsMessage(
                    sent_at=platform.clock(),
                    phone_hash=phone_hash,
                    phone_masked=mask_phone(phone)[:20],
                    template_code=code[:32],
                    template_version=version,
                    params=json.dumps(_kept(params), ensure_ascii=False),
                    origin=origin[:32],
                    status=status,
                    message_id=message_id,
                    error=None if error is None else error[:256],
                    borrower_id=borrower_id,
                )
            )
    except Exception:  # the message is out (or refused) either way: never fail the caller
        logger.warning("the outbox could not record an SMS to %s", mask_phone(phone), exc_info=True)


def rendered(template: SmsTemplate | None, kept_params: str) -> str | None:
    """The text as sent, secrets hidden (from the template version and the kept params)."""
    if template is None:
        return None
    params = json.loads(kept_params)
    try:
        return template.text.format(**params)
    except (KeyError, IndexError, ValueError):
        return template.text


def message_view(row: SmsMessage, template: SmsTemplate | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "sent_at": row.sent_at.isoformat(),
        "phone_masked": row.phone_masked,
        "template_code": row.template_code,
        "template_version": row.template_version,
        "origin": row.origin,
        "params": json.loads(row.params),
        "text": rendered(template, row.params),
        "status": row.status,
        "message_id": row.message_id,
        "error": row.error,
        "borrower_id": row.borrower_id,
    }


__all__ = ["HIDDEN", "ORIGINS", "STATUSES", "TemplateNotApproved", "message_view", "send_sms"]
