"""What the SMS routes answer: templates, their variables and the outbox. Conventions as in
`api.views`."""

from __future__ import annotations

from xindai.api.views import PHONE_SHOWN_PATTERN, View, one_of, shown
from xindai.messaging.outbox import ORIGINS
from xindai.messaging.outbox import STATUSES as MESSAGE_STATUSES
from xindai.messaging.templates import PURPOSES, STATUSES, VARIABLES


class TemplateVariable(View):
    name: str = one_of(VARIABLES)
    zh: str
    en: str


class SmsTemplate(View):
    id: int
    code: str
    version: int
    purpose: str = one_of(PURPOSES)
    text: str = shown("with {variable} placeholders")
    variables: list[str] = shown("declared", items={"enum": list(VARIABLES)})
    status: str = one_of(STATUSES)
    created_by: str
    created_at: str
    decided_by: str | None = shown("who approved or rejected it (a second person)")
    decided_at: str | None
    note: str | None


class ApprovedTemplate(SmsTemplate):
    registered: bool = shown("the SMS gateway took it (false: register it again)")


class SmsOutboxMessage(View):
    id: int
    sent_at: str
    phone_masked: str = shown(pattern=PHONE_SHOWN_PATTERN)
    template_code: str
    template_version: int | None
    origin: str = one_of(ORIGINS)
    params: dict[str, str] = shown("secret variables (a code) shown as ******")
    text: str | None = shown("as sent, secrets hidden")
    status: str = one_of(MESSAGE_STATUSES)
    message_id: str | None = shown("the gateway's id")
    error: str | None
    borrower_id: int | None
