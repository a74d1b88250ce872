"""The SMS gateway simulator: approved templates, an outbox the console and the tests read,
and delivery status.

Rules: a number that is not a mainland mobile is refused (400 phone_invalid); an unknown
template (400 template_not_approved) or a missing variable (400 template_params_missing) is
refused; messages to numbers ending in "0000" are accepted but never delivered (status
failed), all others are delivered.

    POST /messages            {phone, template_code, params} → {message_id, status: sent}
    GET  /messages/{id}       {message_id, status: delivered | failed}
    GET  /outbox?phone=&limit= {messages: [...]}, oldest first (unsigned)
    POST /templates           {code, text} → {code, status: approved}: the platform
                              registers a template its operations approved (signed)
    GET  /_templates, POST /_templates {code, text}   list / approve a template
"""

from __future__ import annotations

import string
from dataclasses import asdict, dataclass
from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel

from xindai.integrations.simulators.core import SimError, SimState, provider_app
from xindai.integrations.simulators.people import phone_valid

PLATFORM_SIGN = "【信贷】"
TEMPLATES: dict[str, str] = {
    "OTP": PLATFORM_SIGN + "您的验证码为{code}，5分钟内有效，请勿告诉他人。",
    "PAYOUT_NOTICE": PLATFORM_SIGN + "您的借款{amount}元已发放至尾号{card_tail}的银行卡。",
    "REPAYMENT_REMINDER": PLATFORM_SIGN
    + "您的借款将于{due_date}到期，应还{amount}元，请保持银行卡余额充足。",
    "REPAYMENT_RECEIVED": PLATFORM_SIGN + "已收到您的还款{amount}元，感谢您的支持。",
    "OVERDUE_NOTICE": PLATFORM_SIGN + "您的借款已逾期{days}天，应还{amount}元，请尽快还款。",
    "REVIEW_MORE_INFO": PLATFORM_SIGN + "您的借款申请需要补充资料，请打开App查看并提交。",
    "PAY_CARD_VERIFY": "【{channel}】您正在绑定尾号{card_tail}的银行卡，验证码{code}，"
    "5分钟内有效。",
}
"""Templates approved at start; operations add more with POST /sms/_templates."""


@dataclass
class SmsMessage:
    message_id: str
    phone: str
    template_code: str
    params: dict[str, str]
    text: str
    sender: str
    created_at: str
    status: str = "sent"


def template_fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class SmsSimulator:
    def __init__(self, state: SimState):
        self.state = state
        self.templates = dict(TEMPLATES)
        self.messages: list[SmsMessage] = []
        self.by_id: dict[str, SmsMessage] = {}
        self.by_phone: dict[str, list[SmsMessage]] = {}  # the outbox of one number at once

    def send(
        self, phone: str, template_code: str, params: dict[str, str], *, sender: str = "platform"
    ) -> SmsMessage:
        """Render and queue a message; raises `SimError` (400) for a bad number or template."""
        if not phone_valid(phone):
            raise SimError(400, "phone_invalid", f"{phone!r} is not a mainland mobile number")
        template = self.templates.get(template_code)
        if template is None:
            raise SimError(
                400, "template_not_approved", f"template {template_code!r} is not approved"
            )
        missing = template_fields(template) - set(params)
        if missing:
            raise SimError(
                400,
                "template_params_missing",
                f"template {template_code!r} needs {', '.join(sorted(missing))}",
            )
        message = SmsMessage(
            message_id=self.state.new_id("sms"),
            phone=phone,
            template_code=template_code,
            params=dict(params),
            text=template.format(**params),
            sender=sender,
            created_at=self.state.clock.now().isoformat(),
            status="failed" if phone.endswith("0000") else "delivered",
        )
        self.messages.append(message)
        self.by_id[message.message_id] = message
        self.by_phone.setdefault(phone, []).append(message)
        return message


class SendIn(BaseModel):
    phone: str
    template_code: str
    params: dict[str, str] = {}


class TemplateIn(BaseModel):
    code: str
    text: str


def create_sms_app(state: SimState, sms: SmsSimulator) -> FastAPI:
    app = provider_app("sms", "SMS gateway simulator / 短信网关模拟器", state)

    @app.post("/messages")
    async def send(body: SendIn, request: Request) -> Any:
        if (answer := state.replayed("sms", request)) is not None:
            return answer
        message = sms.send(body.phone, body.template_code, body.params)
        return state.remember("sms", request, {"message_id": message.message_id, "status": "sent"})

    @app.get("/messages/{message_id}")
    async def status(message_id: str) -> dict[str, str]:
        message = sms.by_id.get(message_id)
        if message is None:
            raise SimError(404, "message_unknown", f"no message {message_id!r}")
        return {"message_id": message.message_id, "status": message.status}

    @app.get("/outbox")
    async def outbox(phone: str | None = None, limit: int = 100) -> dict[str, Any]:
        found = sms.messages if phone is None else sms.by_phone.get(phone, [])
        return {"messages": [asdict(m) for m in found[-max(1, limit) :]]}

    @app.post("/templates")
    async def register(body: TemplateIn) -> dict[str, str]:
        if not body.code or not body.text.strip():
            raise SimError(400, "template_invalid", "a template needs a code and a text")
        sms.templates[body.code] = body.text
        return {"code": body.code, "status": "approved"}

    @app.get("/_templates")
    async def templates() -> dict[str, str]:
        return sms.templates

    @app.post("/_templates")
    async def approve(body: TemplateIn) -> dict[str, str]:
        sms.templates[body.code] = body.text
        return {"code": body.code, "text": body.text}

    return app
