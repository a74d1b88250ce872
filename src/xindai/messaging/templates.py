"""SMS templates (短信模板, SPEC §8): operations draft a version — its text, its purpose and
the variables it declares — and a second person holding `templates.approve` approves it
(maker-checker) before any message uses it; approving a version supersedes the code's
approved one. A message is sent only from the approved version of its code (`outbox`).

What a draft must be: signed with the lender's 【…】 sign; at most 500 characters;
placeholders `{name}` only of the declared variables, each from `VARIABLES` (an unknown one
is `SMS_TEMPLATE_VARIABLE_UNKNOWN`); nothing that threatens or impersonates a court or the
authorities (`SMS_TEMPLATE_CONTENT_REFUSED`). Every step is audited.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from xindai.errors import InvalidValue, XindaiError
from xindai.security import audit
from xindai.store.models_admin import SmsTemplate
from xindai.store.repository import NotFound

PURPOSES = ("verification", "notice", "reminder", "collection", "marketing")
STATUSES = ("draft", "approved", "rejected", "retired")
MAX_TEXT = 500
_CODE = re.compile(r"[A-Z][A-Z0-9_]{2,31}")
_SIGN = re.compile(r"^【[^】]{2,12}】")

VARIABLES: Mapping[str, tuple[str, str]] = {
    "code": ("验证码（不入发送记录）", "a verification code (never kept in the outbox)"),
    "name": ("客户称呼（姓氏）", "how the borrower is addressed (family name)"),
    "amount": ("金额（元）", "an amount in yuan"),
    "due_date": ("到期日", "a due date"),
    "days": ("天数", "a number of days (overdue, left)"),
    "card_tail": ("银行卡尾号", "the last four digits of the card"),
    "loan_no": ("借据号", "the loan number"),
    "installment": ("期数", "an installment number"),
    "term": ("期限", "a term"),
    "app_name": ("App 名称", "the app's name"),
    "hotline": ("客服电话", "the lender's customer-service number"),
}
"""The variables a template may use, with what they stand for."""
SECRET_VARIABLES = frozenset({"code"})

# threats and impersonation of courts or authorities (SPEC §8 guardrails; CBA 2026)
FORBIDDEN = (
    "法院",
    "公安",
    "检察院",
    "警察",
    "拘留",
    "坐牢",
    "通缉",
    "逮捕",
    "判刑",
    "黑名单曝光",
    "上门讨债",
    "家破人亡",
)


class TemplateError(XindaiError):
    """A template's state does not allow the action, or the maker would approve it."""

    code = "SMS_TEMPLATE_STATE"
    http_status = 409


class VariableUnknown(InvalidValue):
    code = "SMS_TEMPLATE_VARIABLE_UNKNOWN"


class ContentRefused(InvalidValue):
    code = "SMS_TEMPLATE_CONTENT_REFUSED"


def placeholders(text: str) -> list[str]:
    """The `{name}` placeholders of `text`, in order; a malformed one is refused."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise InvalidValue(
            "text", text[:40], f"a placeholder is malformed ({exc})", "占位符格式错误"
        ) from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise InvalidValue(
                "text", f"{{{name}}}", "placeholders are plain {name}", "占位符应为 {变量名}"
            )
        if name not in names:
            names.append(name)
    return names


def check_template(
    code: str, purpose: str, text: str, variables: Iterable[str] | None
) -> list[str]:
    """Validate a draft; its declared variables (the placeholders when none are given)."""
    if not _CODE.fullmatch(code or ""):
        raise InvalidValue(
            "code",
            code,
            "3–32 of A-Z 0-9 _ starting with a letter",
            "应为 3–32 位大写字母、数字或 _",
        )
    if purpose not in PURPOSES:
        raise InvalidValue("purpose", purpose, f"one of {', '.join(PURPOSES)}", "用途不在可选范围")
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidValue(
            "text", len(text), f"1–{MAX_TEXT} characters", f"应为 1–{MAX_TEXT} 个字符"
        )
    if not _SIGN.match(text):
        raise InvalidValue(
            "text",
            text[:12],
            "must begin with the lender's sign, e.g. 【信贷】",
            "须以【签名】开头",
        )
    for word in FORBIDDEN:
        if word in text:
            raise ContentRefused(
                "text",
                word,
                "threatens or impersonates a court or the authorities",
                "含威胁或冒充司法、公安机关的内容",
            )
    used = placeholders(text)
    declared = list(dict.fromkeys(variables)) if variables is not None else used
    for name in [*declared, *used]:
        if name not in VARIABLES:
            raise VariableUnknown(
                "variables",
                name,
                f"not a template variable ({', '.join(VARIABLES)})",
                "不是可用的模板变量",
            )
    undeclared = [n for n in used if n not in declared]
    if undeclared:
        raise VariableUnknown(
            "text", undeclared[0], "is used but not declared", "使用了未声明的变量"
        )
    unused = [n for n in declared if n not in used]
    if unused:
        raise InvalidValue("variables", unused[0], "is declared but not used", "声明了未使用的变量")
    return declared


def template_view(row: SmsTemplate) -> dict[str, Any]:
    return {
        "id": row.id,
        "code": row.code,
        "version": row.version,
        "purpose": row.purpose,
        "text": row.text,
        "variables": json.loads(row.variables),
        "status": row.status,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
        "decided_by": row.decided_by,
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        "note": row.note,
    }


def approved(session: Session, code: str) -> SmsTemplate | None:
    """The approved version of template `code`, if any."""
    return session.scalars(
        select(SmsTemplate)
        .where(SmsTemplate.code == code, SmsTemplate.status == "approved")
        .order_by(SmsTemplate.version.desc())
    ).first()


class SmsTemplates:
    """Draft, approve and reject template versions in `sessions`' database."""

    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], datetime]):
        self.sessions = sessions
        self.clock = clock

    def draft(
        self,
        *,
        code: str,
        purpose: str,
        text: str,
        variables: Iterable[str] | None,
        note: str,
        actor: str,
        ip: str | None = None,
    ) -> dict[str, Any]:
        declared = check_template(code, purpose, text, variables)
        with self.sessions.begin() as session:
            latest = session.scalar(
                select(func.max(SmsTemplate.version)).where(SmsTemplate.code == code)
            )
            row = SmsTemplate(
                code=code,
                version=int(latest or 0) + 1,
                purpose=purpose,
                text=text.strip(),
                variables=json.dumps(declared),
                status="draft",
                created_by=actor,
                created_at=self.clock(),
                note=note.strip() or None,
            )
            session.add(row)
            session.flush()
            self._audit(session, "sms_template.draft", row, actor, ip, {"text": row.text})
            return template_view(row)

    def decide(
        self, template_id: int, *, approve: bool, actor: str, note: str = "", ip: str | None = None
    ) -> dict[str, Any]:
        """Approve (it supersedes the code's approved version) or reject a draft; never the
        maker's own. The approved text, for registering with the gateway."""
        if not approve and not note.strip():
            raise InvalidValue("note", note, "a rejection needs a reason", "驳回需要说明原因")
        with self.sessions.begin() as session:
            row = session.get(SmsTemplate, template_id, with_for_update=True)
            if row is None:
                raise NotFound(
                    f"template {template_id} does not exist", f"短信模板 {template_id} 不存在"
                )
            if row.status != "draft":
                raise TemplateError(
                    f"template {row.code} v{row.version} is {row.status}; only a draft is decided",
                    f"模板 {row.code} v{row.version} 状态为 {row.status}，只有草稿可以审批",
                )
            if row.created_by == actor:
                raise TemplateError(
                    "a template is approved by another person than its maker (maker-checker)",
                    "模板须由起草人以外的人员审批",
                )
            if approve:
                previous = approved(session, row.code)
                if previous is not None:
                    previous.status = "retired"
            row.status = "approved" if approve else "rejected"
            row.decided_by, row.decided_at = actor, self.clock()
            row.note = note.strip() or row.note
            self._audit(
                session,
                f"sms_template.{'approve' if approve else 'reject'}",
                row,
                actor,
                ip,
                {"note": note},
            )
            return template_view(row)

    def _audit(
        self,
        session: Session,
        action: str,
        row: SmsTemplate,
        actor: str,
        ip: str | None,
        extra: dict[str, Any],
    ) -> None:
        audit.record(
            session,
            actor=actor,
            action=action,
            resource="sms_template",
            resource_id=f"{row.code}@v{row.version}",
            ip=ip,
            after={"status": row.status, "purpose": row.purpose, **extra},
            at=self.clock(),
        )


__all__ = [
    "PURPOSES",
    "SECRET_VARIABLES",
    "STATUSES",
    "VARIABLES",
    "ContentRefused",
    "SmsTemplates",
    "TemplateError",
    "VariableUnknown",
    "approved",
    "check_template",
    "placeholders",
    "template_view",
]
