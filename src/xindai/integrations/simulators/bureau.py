"""The credit-bureau simulator: a deterministic report per person, seeded by a hash of the
ID number, with dates counted back from the report date.

`bureau_profile(id_number)` says which kind of person an ID number is (by SHA-256 bucket):
45 % `clean` (a few loans, never overdue), 15 % `thin` (no credit history), 20 %
`multi_lender` (5–9 open loans at different lenders, many recent inquiries), 10 % `overdue`
(one loan 5–45 days overdue now), 10 % `serious_overdue` (bad debt, 90+ days overdue).
Lender names are fictitious ("仿真…").

    POST /reports {id_number, name, as_of?: YYYY-MM-DD (default the simulated today)}
                        → the report (see `xindai.integrations.wire`)
    GET  /_profile?id_number=   {profile}
    POST /_events {id_number, on: YYYY-MM-DD, applications?: n, overdue_loans?: n}
                        what happens to the person on that date, in every report dated
                        from then on: n more credit applications (loan-approval inquiries
                        at other lenders, dated `on`), n more loans overdue at other lenders
                        (opened 60 days before `on`, overdue since `on`); for the tests and
                        the demo (a borrower whose situation turns after the loan)
    DELETE /_events     forget them
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from xindai.integrations.simulators.core import SimError, SimState, provider_app
from xindai.integrations.simulators.people import id_number_valid, stable_int
from xindai.integrations.wire import bureau_report_to_json
from xindai.risk.antifraud.bureau import (
    BureauInquiry,
    BureauLoan,
    BureauLoanStatus,
    BureauReport,
    InquiryReason,
)

PROFILES = (
    ("clean", 45),
    ("thin", 15),
    ("multi_lender", 20),
    ("overdue", 10),
    ("serious_overdue", 10),
)
LENDERS = tuple(
    f"仿真{kind}{number:02d}" for kind in ("消费金融", "网络小贷", "银行") for number in range(1, 9)
)


def bureau_profile(id_number: str) -> str:
    """The kind of credit history the simulated bureau gives this ID number."""
    bucket = stable_int(id_number.strip().upper(), "bureau-profile") % 100
    for profile, share in PROFILES:
        if bucket < share:
            return profile
        bucket -= share
    raise AssertionError("profile shares sum to 100")


def _loan(
    rng: random.Random,
    as_of: date,
    lender: str,
    *,
    age_days: tuple[int, int],
    status: BureauLoanStatus,
    max_overdue_days: int = 0,
) -> BureauLoan:
    amount = rng.randrange(1_000, 50_001) * 100
    outstanding = (
        0 if status is BureauLoanStatus.SETTLED else amount * rng.randrange(10, 101) // 100
    )
    return BureauLoan(
        lender=lender,
        opened_on=as_of - timedelta(days=rng.randrange(*age_days)),
        amount_fen=amount,
        outstanding_fen=outstanding,
        max_overdue_days=max_overdue_days,
        status=status,
    )


def _inquiries(
    rng: random.Random, as_of: date, lenders: list[str], count: int, within_days: int
) -> list[BureauInquiry]:
    reasons = (
        InquiryReason.LOAN_APPROVAL,
        InquiryReason.LOAN_APPROVAL,
        InquiryReason.CREDIT_CARD_APPROVAL,
        InquiryReason.POST_LOAN,
    )
    return [
        BureauInquiry(
            as_of - timedelta(days=rng.randrange(within_days)),
            rng.choice(lenders),
            rng.choice(reasons),
        )
        for _ in range(count)
    ]


@dataclass(frozen=True, slots=True)
class PersonEvent:
    """Something that happened to a person at other lenders on `on` (see `POST /_events`)."""

    on: date
    applications: int = 0
    overdue_loans: int = 0


def _with_events(report: BureauReport, events: list[PersonEvent]) -> BureauReport:
    as_of = report.reported_on
    loans, inquiries = list(report.loans), list(report.inquiries)
    for n, event in enumerate(e for e in events if e.on <= as_of):
        inquiries += [
            BureauInquiry(event.on, LENDERS[(n + k) % len(LENDERS)], InquiryReason.LOAN_APPROVAL)
            for k in range(event.applications)
        ]
        loans += [
            BureauLoan(
                lender=LENDERS[(n + k + 7) % len(LENDERS)],
                opened_on=event.on - timedelta(days=60),
                amount_fen=300_000,
                outstanding_fen=250_000,
                max_overdue_days=max(1, (as_of - event.on).days),
                status=BureauLoanStatus.OVERDUE,
            )
            for k in range(event.overdue_loans)
        ]
    loans.sort(key=lambda loan: (loan.opened_on, loan.lender))
    inquiries.sort(key=lambda inquiry: (inquiry.inquired_on, inquiry.lender))
    return BureauReport(reported_on=as_of, loans=tuple(loans), inquiries=tuple(inquiries))


def simulated_report(
    id_number: str, as_of: date, events: list[PersonEvent] | None = None
) -> BureauReport:
    """The report of `id_number` dated `as_of`: the same inputs give the same report; the
    person's `events` dated on or before `as_of` are in it."""
    report = _base_report(id_number, as_of)
    return _with_events(report, events) if events else report


def _base_report(id_number: str, as_of: date) -> BureauReport:
    key = id_number.strip().upper()
    rng = random.Random(stable_int(key, "bureau-report"))
    profile = bureau_profile(key)
    lenders = list(LENDERS)
    rng.shuffle(lenders)
    loans: list[BureauLoan] = []
    inquiries: list[BureauInquiry] = []
    current, settled = BureauLoanStatus.CURRENT, BureauLoanStatus.SETTLED
    if profile == "thin":
        if rng.random() < 0.5:
            inquiries.append(
                BureauInquiry(
                    as_of - timedelta(days=rng.randrange(365)), "本人", InquiryReason.SELF
                )
            )
    elif profile == "clean":
        for lender in lenders[: rng.randrange(1, 4)]:
            status = rng.choice((current, settled))
            loans.append(_loan(rng, as_of, lender, age_days=(120, 1500), status=status))
        inquiries += _inquiries(rng, as_of, lenders[:3], rng.randrange(0, 3), 180)
    elif profile == "multi_lender":
        for lender in lenders[: rng.randrange(5, 10)]:
            loans.append(
                _loan(
                    rng,
                    as_of,
                    lender,
                    age_days=(5, 200),
                    status=current,
                    max_overdue_days=rng.randrange(0, 8),
                )
            )
        inquiries += _inquiries(rng, as_of, lenders[:12], rng.randrange(8, 21), 90)
    elif profile == "overdue":
        for lender in lenders[: rng.randrange(1, 3)]:
            loans.append(_loan(rng, as_of, lender, age_days=(120, 900), status=current))
        loans.append(
            _loan(
                rng,
                as_of,
                lenders[3],
                age_days=(90, 400),
                status=BureauLoanStatus.OVERDUE,
                max_overdue_days=rng.randrange(5, 46),
            )
        )
        inquiries += _inquiries(rng, as_of, lenders[:6], rng.randrange(2, 7), 180)
    else:  # serious_overdue
        for lender in lenders[: rng.randrange(1, 3)]:
            loans.append(
                _loan(
                    rng,
                    as_of,
                    lender,
                    age_days=(400, 1500),
                    status=BureauLoanStatus.BAD_DEBT,
                    max_overdue_days=rng.randrange(90, 401),
                )
            )
        loans.append(
            _loan(
                rng,
                as_of,
                lenders[4],
                age_days=(150, 500),
                status=BureauLoanStatus.OVERDUE,
                max_overdue_days=rng.randrange(60, 121),
            )
        )
        inquiries += _inquiries(rng, as_of, lenders[:8], rng.randrange(3, 11), 180)
    loans.sort(key=lambda loan: (loan.opened_on, loan.lender))
    inquiries.sort(key=lambda inquiry: (inquiry.inquired_on, inquiry.lender))
    return BureauReport(reported_on=as_of, loans=tuple(loans), inquiries=tuple(inquiries))


class ReportIn(BaseModel):
    id_number: str
    name: str
    as_of: date | None = None


class EventIn(BaseModel):
    id_number: str
    on: date
    applications: int = Field(default=0, ge=0, le=100)
    overdue_loans: int = Field(default=0, ge=0, le=20)


def create_bureau_app(state: SimState) -> FastAPI:
    app = provider_app("bureau", "Credit bureau simulator / 征信模拟器", state)
    events: dict[str, list[PersonEvent]] = {}

    @app.post("/reports")
    async def report(body: ReportIn) -> dict[str, Any]:
        if not id_number_valid(body.id_number):
            raise SimError(400, "id_number_invalid", "not a valid resident ID number")
        if not body.name.strip():
            raise SimError(400, "name_required", "the name is empty")
        # any as_of is allowed: a demo may run its business dates ahead of the wall clock
        as_of = body.as_of or state.clock.now().date()
        key = body.id_number.strip().upper()
        return bureau_report_to_json(simulated_report(key, as_of, events.get(key)))

    @app.get("/_profile")
    async def profile(id_number: str) -> dict[str, str]:
        return {"id_number": id_number, "profile": bureau_profile(id_number)}

    @app.post("/_events")
    async def add_event(body: EventIn) -> dict[str, Any]:
        if not id_number_valid(body.id_number):
            raise SimError(400, "id_number_invalid", "not a valid resident ID number")
        key = body.id_number.strip().upper()
        events.setdefault(key, []).append(
            PersonEvent(body.on, body.applications, body.overdue_loans)
        )
        return {"id_number": key, "events": len(events[key])}

    @app.delete("/_events")
    async def clear_events() -> dict[str, int]:
        cleared = sum(len(v) for v in events.values())
        events.clear()
        return {"cleared": cleared}

    return app
