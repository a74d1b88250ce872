"""What the collection routes answer (docs/collections-api.md): the case row of the lists
and of my queue, and an action as it was recorded."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from xindai.api.views import View, one_of, shown
from xindai.collections.warning_rules import EFFECTS, SPECS
from xindai.collections.warnings import OUTCOMES


class CaseRow(View):
    id: int
    loan_id: int
    borrower_id: int
    borrower_name: str | None
    status: str
    close_reason: str | None
    opened_on: str
    closed_on: str | None
    dpd: int
    bucket: str
    overdue: str
    outstanding: str
    priority: int
    queue: str | None
    assignee_id: int | None
    assignee: str | None
    agency_id: int | None
    agency: str | None
    held_until: str | None
    quadrant: str | None
    test_cell: str
    legal: bool
    pre_due: bool = Field(description="a pre-due case (预警预催): the loan is not overdue yet")
    warning_priority: int = Field(description="what early-warning hits added to `priority`")
    promise: dict[str, Any] | None
    last_contact_at: str | None
    product_code: str | None


class NextCase(View):
    case: CaseRow | None


class Action(View):
    id: int
    case_id: int
    kind: str
    at: str
    actor: str
    agency: str | None
    contact_ref: str | None
    masked: str | None
    connection: str | None
    party: str | None
    result: str | None
    note: str | None
    recording_ref: str | None
    template_code: str | None
    sms_status: str | None
    document_id: int | None
    companions: list[str]
    details: dict[str, Any]
    promise: dict[str, Any] | None = Field(
        default=None,
        description="the promise to pay it made (a call with the result promise, or a promise "
        'recorded alone): {"amount", "promised_on", "status"}, else null',
    )


class Assignment(View):
    id: int
    case_id: int
    at: str
    business_date: str
    reason: str
    queue: str | None
    from_staff: str | None
    to_staff: str | None
    from_agency: str | None
    to_agency: str | None
    actor: str


class Placement(View):
    id: int
    agency_id: int
    agency: str | None
    case_id: int
    loan_id: int
    placed_on: str
    window_end: str
    status: str
    balance_at_placement: str
    recovered: str
    commission_rate: str
    commission: str
    recalled_on: str | None


class ReminderRow(View):
    id: int
    loan_id: int
    installment: int
    offset_days: int
    business_date: str
    template_code: str
    status: str
    message_id: str | None
    sent_at: str | None


# ------------------------------------------------------------------ early warning (预警监控)

RULE_CODES = tuple(SPECS)


class WarningHitRow(View):
    id: int
    business_date: str
    rule_code: str = one_of(RULE_CODES)
    rule_zh: str
    rule_en: str
    loan_id: int
    borrower_id: int
    borrower_name: str | None = shown("masked: 张*")
    case_id: int | None = shown("the loan's open case the effect went to")
    summary_zh: str = shown("what the rule found, in one line")
    summary_en: str
    detail: dict[str, Any] = shown("the rule's figures (see docs/collections-api.md)")
    effect: str = one_of(EFFECTS)
    effect_by: int
    outcome: str | None = one_of(OUTCOMES, "null until close of business applied it", optional=True)
    outcome_zh: str
    outcome_en: str
    created_at: str


class WarningRuleName(View):
    code: str = one_of(RULE_CODES)
    name_zh: str
    name_en: str


class WarningDay(View):
    business_date: str
    rule_code: str = one_of(RULE_CODES)
    hits: int


class WarningDaily(View):
    date_from: str
    date_to: str
    rules: list[WarningRuleName]
    items: list[WarningDay] = shown("hits per business date and rule; days without none")


class WarningParamSpec(View):
    key: str
    zh: str
    en: str
    low: int
    high: int
    default: int
    choices: list[int] = shown("the only values allowed, when not empty")


class WarningRuleDefault(View):
    name_zh: str
    name_en: str
    effect: str = one_of(EFFECTS)
    by: int
    params: dict[str, int]


class WarningRule(View):
    code: str = one_of(RULE_CODES)
    name_zh: str
    name_en: str
    enabled: bool
    params: dict[str, int]
    effect: str = one_of(EFFECTS)
    by: int = shown("priority added to the loan's open case (0–100,000)")
    param_specs: list[WarningParamSpec]
    default: WarningRuleDefault


class WarningRefreshDefault(View):
    sample_bp: int
    on_trigger: bool
    max_per_day: int


class WarningRefresh(View):
    sample_bp: int = shown("open loans refreshed each day, in basis points (5 = 0.05 %)")
    on_trigger: bool = shown("also refresh every loan not yet overdue another rule hit today")
    max_per_day: int = shown("reports a day at most, the sample first")
    default: WarningRefreshDefault


class WarningRules(View):
    bureau_refresh: WarningRefresh
    rules: list[WarningRule]


# ------------------------------------------------------------------ the workbench's pickers


class Colleague(View):
    id: int
    name: str = Field(description="the username (no personal data)")


class Colleagues(View):
    items: list[Colleague]


class CollectionTemplate(View):
    code: str
    version: int
    purpose: str = Field(json_schema_extra={"enum": ["collection", "reminder"]})
    text: str = Field(description="with {variables}, which the server fills when sending")
    variables: list[str]


class CollectionTemplates(View):
    items: list[CollectionTemplate]
