"""The credit-bureau simulator through the adapter: deterministic reports by profile, read by
the risk engine's feature builder."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from xindai.integrations.errors import ProviderRejected
from xindai.integrations.http import HttpCreditBureau, HttpProviders
from xindai.integrations.ports import CreditBureau
from xindai.integrations.simulators.bureau import bureau_profile
from xindai.integrations.simulators.core import CST
from xindai.integrations.simulators.people import make_id_number
from xindai.integrations.simulators.process import SimulatorProcess
from xindai.risk.antifraud.bureau import BureauReport, bureau_features

AS_OF = date(2025, 6, 30)


def person_with(profile: str) -> str:
    return next(
        number
        for number in (make_id_number(f"bureau-{seed}") for seed in range(500))
        if bureau_profile(number) == profile
    )


def features(report: BureauReport) -> dict[str, int | bool]:
    return bureau_features(report, datetime.combine(AS_OF, time(12)))


def test_the_report_is_deterministic_per_person(providers: HttpProviders) -> None:
    assert isinstance(providers.bureau, CreditBureau)
    person = person_with("multi_lender")
    first = providers.bureau.report(person, "张三", as_of=AS_OF)
    assert providers.bureau.report(person, "张三", as_of=AS_OF) == first
    assert first.reported_on == AS_OF
    assert all(loan.opened_on <= AS_OF for loan in first.loans)
    assert all(inquiry.inquired_on <= AS_OF for inquiry in first.inquiries)
    before = datetime.now(CST).date()
    today = providers.bureau.report(person, "张三").reported_on  # default: the bureau's today
    assert before <= today <= datetime.now(CST).date()


def test_profiles_shape_the_features(sim: SimulatorProcess, providers: HttpProviders) -> None:
    seen = {}
    for profile in ("clean", "thin", "multi_lender", "overdue", "serious_overdue"):
        person = person_with(profile)
        assert sim.control.bureau_profile(person) == profile
        seen[profile] = features(providers.bureau.report(person, "张三", as_of=AS_OF))
    assert seen["clean"]["bureau_max_overdue_days"] == 0
    assert seen["clean"]["bureau_current_overdue_count"] == 0
    assert seen["thin"]["multi_lender_open_loans"] == 0
    assert seen["thin"]["bureau_inquiries_6m"] == 0
    assert seen["multi_lender"]["multi_lender_open_count"] >= 5
    assert seen["multi_lender"]["bureau_inquiries_3m"] >= 4
    assert 5 <= seen["overdue"]["bureau_max_overdue_days"] <= 45
    assert seen["overdue"]["bureau_current_overdue_count"] == 1
    assert seen["serious_overdue"]["bureau_max_overdue_days"] >= 90
    assert seen["serious_overdue"]["bureau_current_overdue_count"] >= 2


def test_profiles_cover_the_population() -> None:
    counts: dict[str, int] = {}
    for seed in range(2000):
        profile = bureau_profile(make_id_number(seed))
        counts[profile] = counts.get(profile, 0) + 1
    assert 800 <= counts["clean"] <= 1000
    assert 100 <= counts["serious_overdue"] <= 300


def test_the_platforms_own_loans_are_dropped(sim: SimulatorProcess) -> None:
    person = person_with("multi_lender")
    with HttpCreditBureau(sim.endpoint("bureau")) as bureau:
        full = bureau.report(person, "张三", as_of=AS_OF)
    ours = full.loans[0].lender
    with HttpCreditBureau(sim.endpoint("bureau"), own_lenders=[ours]) as bureau:
        filtered = bureau.report(person, "张三", as_of=AS_OF)
    assert [loan for loan in full.loans if loan.lender != ours] == list(filtered.loans)
    assert filtered.inquiries == full.inquiries


def test_an_invalid_id_number_is_refused(providers: HttpProviders) -> None:
    with pytest.raises(ProviderRejected) as info:
        providers.bureau.report("110105194912310021", "张三")
    assert info.value.detail == "id_number_invalid"
