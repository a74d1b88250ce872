"""The rules of manual review (人工审核) as plain values and functions: the task states,
the checklist and what approval needs, the SLA timer, the approvable amount, and the typed
errors of the queue. No database, no clock: `xindai.risk.review` applies them."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

from xindai.errors import InvalidValue, XindaiError
from xindai.money import Fen, format_yuan
from xindai.products.model import Product
from xindai.store import repository as repo
from xindai.store.models_risk import ReviewTask

QUEUED: Final = "queued"
CLAIMED: Final = "claimed"
MORE_INFO: Final = "more_info"
DONE: Final = "done"
OPEN_STATUSES: Final = (QUEUED, CLAIMED, MORE_INFO)
STATUSES: Final = (*OPEN_STATUSES, DONE)
SLA_RUNNING: Final = (QUEUED, CLAIMED)  # the clock stops while the borrower is asked

ENGINE_PATH: Final = "engine"
MANUAL_REVIEW_PATH: Final = "manual_review"
APPROVE, REJECT = "approve", "reject"

APPLICANT_PHONE: Final = "applicant_phone_verified"
CONTACT_PHONE: Final = "contact_phone_verified"
CHECKLIST_ITEMS: Final[Mapping[str, tuple[str, str]]] = {
    APPLICANT_PHONE: ("电话核实申请人本人", "Applicant verified by phone"),
    CONTACT_PHONE: ("电话核实一位紧急联系人", "One emergency contact verified by phone"),
    "identity_consistent": ("身份信息一致", "Identity consistent (name, ID, photos)"),
    "purpose_confirmed": ("借款用途已确认", "Loan purpose confirmed"),
}
REQUIRED_TO_APPROVE: Final = (APPLICANT_PHONE, CONTACT_PHONE)  # SPEC §7: applicant + a contact
LEGACY_CHECKLIST_NAMES: Final[Mapping[str, str]] = {
    "applicant_call": APPLICANT_PHONE,  # the item names of the older one-call review route
    "contact_call": CONTACT_PHONE,
}
MAX_TEXT: Final = 1000  # an info request or reply
MAX_NOTE: Final = 500
MAX_ITEM_TEXT: Final = 200  # a checklist item's remark
MAX_QUEUE: Final = 1000


# ------------------------------------------------------------------ errors


class ReviewError(XindaiError):
    """A review step refused in the task's present state (a conflict: HTTP 409)."""

    code = "REVIEW_STATE"


class NotInReview(ReviewError):
    code = "APPLICATION_NOT_IN_REVIEW"

    def __init__(self, application_id: int, status: str):
        super().__init__(
            f"application {application_id} is {status}, not in manual review",
            f"申请 {application_id} 状态为 {status}，不在人工审核中",
        )


class AlreadyDecided(ReviewError):
    code = "REVIEW_ALREADY_DECIDED"

    def __init__(self, application_id: int):
        super().__init__(
            f"the review of application {application_id} is already decided",
            f"申请 {application_id} 的人工审核已完成",
        )


class ClaimedByOther(ReviewError):
    """Another reviewer holds a live claim on the task."""

    code = "REVIEW_CLAIMED_BY_OTHER"

    def __init__(self, claimed_by: str, until: datetime):
        self.claimed_by, self.until = claimed_by, until
        super().__init__(
            f"claimed by {claimed_by} until {until.isoformat(timespec='minutes')}",
            f"已被 {claimed_by} 领取，{until.isoformat(timespec='minutes')} 前不可领取",
        )


class NotClaimer(ReviewError):
    """Only the reviewer who claimed the task may work on it."""

    code = "REVIEW_NOT_CLAIMED"

    def __init__(self, claimed_by: str | None):
        if claimed_by is None:
            super().__init__("claim the task first", "请先领取该审核任务")
        else:
            super().__init__(
                f"the task is claimed by {claimed_by}", f"该审核任务已被 {claimed_by} 领取"
            )


class ChecklistIncomplete(ReviewError):
    code = "REVIEW_CHECKLIST_INCOMPLETE"

    def __init__(self, missing: Sequence[str]):
        self.missing = tuple(missing)
        zh = "、".join(CHECKLIST_ITEMS[m][0] for m in missing)
        super().__init__(
            f"approval needs the checklist items {', '.join(missing)}", f"批准前须完成：{zh}"
        )


class AwaitingInfo(ReviewError):
    code = "REVIEW_AWAITING_INFO"

    def __init__(self) -> None:
        super().__init__(
            "the borrower has not answered the request for more information yet",
            "借款人尚未回复补充资料请求",
        )


class NoInfoRequested(ReviewError):
    code = "REVIEW_NO_INFO_REQUEST"

    def __init__(self) -> None:
        super().__init__("no information was requested", "没有待回复的补充资料请求")


class ChecklistItemUnknown(InvalidValue):
    code = "CHECKLIST_ITEM_UNKNOWN"

    def __init__(self, item: str):
        known = ", ".join(CHECKLIST_ITEMS)
        super().__init__("checklist", item, f"not one of {known}", f"不是 {known} 之一")


def not_found(application_id: int) -> repo.NotFound:
    return repo.NotFound(f"application {application_id} not found", f"申请 {application_id} 不存在")


# ------------------------------------------------------------------ rules


def sla_state(task: ReviewTask, now: datetime) -> tuple[int | None, bool]:
    """Whole minutes left before the deadline (negative when late) and whether it is
    overdue; `(None, False)` while the clock is stopped (more info asked, or decided)."""
    if task.status not in SLA_RUNNING:
        return None, False
    left = (task.due_at - now).total_seconds() / 60
    return math.floor(left), now > task.due_at


def checklist_of(task: ReviewTask) -> dict[str, bool | str | None]:
    """Every checklist item with its result (None: not done yet)."""
    done: dict[str, bool | str] = json.loads(task.checklist or "{}")
    return {item: done.get(item) for item in CHECKLIST_ITEMS}


def checked_items(items: Mapping[str, object]) -> dict[str, bool | str]:
    """Checklist results as given (true / false or a short remark), each item known."""
    checked: dict[str, bool | str] = {}
    for item, value in items.items():
        if item not in CHECKLIST_ITEMS:
            raise ChecklistItemUnknown(item)
        if isinstance(value, str):
            if len(value) > MAX_ITEM_TEXT:
                raise InvalidValue(
                    f"checklist.{item}",
                    value[:20] + "…",
                    f"at most {MAX_ITEM_TEXT} characters",
                    f"最多 {MAX_ITEM_TEXT} 个字符",
                )
            checked[item] = value.strip()
        elif isinstance(value, bool):
            checked[item] = value
        else:
            raise InvalidValue(
                f"checklist.{item}", value, "must be true, false or a remark", "应为是、否或备注"
            )
    return checked


def clean_text(field: str, text: str, limit: int, *, required: bool = True) -> str:
    """`text` stripped, at most `limit` characters, not empty when `required`."""
    clean = (text or "").strip()
    if required and not clean:
        raise InvalidValue(field, text, "must not be empty", "不能为空")
    if len(clean) > limit:
        raise InvalidValue(
            field, clean[:20] + "…", f"at most {limit} characters", f"最多 {limit} 个字符"
        )
    return clean


def offer_amount(product: Product, ceiling_fen: Fen, wanted_fen: Fen | None) -> Fen:
    """The amount a reviewer approves: `wanted_fen` (never above `ceiling_fen`, on the
    product's amount steps), or the largest step at or below the ceiling."""
    top = min(ceiling_fen, product.amount_max_fen)
    if wanted_fen is None:
        steps = (top - product.amount_min_fen) // product.amount_step_fen
        wanted_fen = product.amount_min_fen + steps * product.amount_step_fen
        if wanted_fen < product.amount_min_fen:
            raise InvalidValue(
                "amount",
                format_yuan(ceiling_fen),
                f"the approvable amount is below the product's minimum "
                f"{format_yuan(product.amount_min_fen)}",
                f"可批金额低于产品最低金额 {format_yuan(product.amount_min_fen)}",
            )
        return wanted_fen
    if wanted_fen > ceiling_fen:
        raise InvalidValue(
            "amount",
            format_yuan(wanted_fen),
            f"above the approvable {format_yuan(ceiling_fen)}",
            f"超过可批金额 {format_yuan(ceiling_fen)}",
        )
    if (
        not product.amount_min_fen <= wanted_fen <= product.amount_max_fen
        or (wanted_fen - product.amount_min_fen) % product.amount_step_fen
    ):
        raise InvalidValue(
            "amount",
            format_yuan(wanted_fen),
            f"must be at least {format_yuan(product.amount_min_fen)} in steps of "
            f"{format_yuan(product.amount_step_fen)}",
            f"金额应不低于 {format_yuan(product.amount_min_fen)}，步长 "
            f"{format_yuan(product.amount_step_fen)}",
        )
    return wanted_fen


def missing_to_approve(checklist: Mapping[str, bool | str | None]) -> list[str]:
    """The checklist items an approval still needs (each must be exactly true)."""
    return [item for item in REQUIRED_TO_APPROVE if checklist.get(item) is not True]
