"""Anti-fraud benchmark: a synthetic population (applicants, recorded applications, blacklist,
relation graph, anomaly model) and the wall-clock time of `antifraud_features` per
application. Run `python -m xindai.risk.antifraud.bench`; tests never assert time.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from xindai.risk.antifraud.anomaly import AnomalyModel
from xindai.risk.antifraud.blacklist import BlacklistEntry, BlacklistIndex, BlacklistKind
from xindai.risk.antifraud.bureau import (
    BureauInquiry,
    BureauLoan,
    BureauLoanStatus,
    BureauReport,
    InquiryReason,
    bureau_features,
)
from xindai.risk.antifraud.device import DeviceIndex, DeviceObservation
from xindai.risk.antifraud.features import (
    AntifraudContext,
    ApplicationSignals,
    antifraud_features,
)
from xindai.risk.antifraud.graph import RelationGraph
from xindai.risk.antifraud.identifiers import HashedIdentifiers, hash_identifier
from xindai.risk.antifraud.velocity import ApplicationEvent, VelocityIndex

BENCH_KEY = b"xindai-antifraud-bench"
BENCH_START = datetime(2026, 1, 1)
BENCH_DAYS = 90
NUMERIC_FEATURE_NAMES = (
    "age",
    "monthly_income_yuan",
    "amount_yuan",
    "term_months",
    "account_age_days",
    "contacts_count",
)


@dataclass(frozen=True, slots=True)
class SyntheticPopulation:
    """A context loaded with a synthetic history, and new applications to decide at `as_of`."""

    ctx: AntifraudContext
    applications: tuple[ApplicationSignals, ...]
    as_of: datetime
    applicants: int
    events: int
    build_seconds: float


@dataclass(frozen=True, slots=True)
class AntifraudBenchResult:
    """Per-application wall-clock times in microseconds over `sample` applications."""

    applicants: int
    events: int
    sample: int
    build_seconds: float
    record_mean_us: float
    features_mean_us: float
    features_p50_us: float
    features_p95_us: float
    features_p99_us: float
    component_mean_us: dict[str, float]
    flagged_share: float  # applications with at least one reason code


def _numeric_features(rng: np.random.Generator) -> dict[str, float]:
    return {
        "age": float(rng.normal(32, 8)),
        "monthly_income_yuan": float(rng.lognormal(8.8, 0.5)),
        "amount_yuan": float(rng.choice([1000, 2000, 3000, 5000, 8000])),
        "term_months": float(rng.choice([3, 6, 12])),
        "account_age_days": float(rng.exponential(200)),
        "contacts_count": float(rng.choice([2, 3, 4], p=[0.8, 0.15, 0.05])),
    }


def _bureau_report(rng: np.random.Generator, today: date) -> BureauReport:
    loans = tuple(
        BureauLoan(
            lender=f"L{int(rng.integers(0, 60))}",
            opened_on=today - timedelta(days=int(rng.integers(0, 720))),
            amount_fen=int(rng.integers(10, 200)) * 10_000,
            outstanding_fen=int(rng.integers(0, 100)) * 10_000,
            max_overdue_days=int(rng.choice([0, 0, 0, 3, 15, 45])),
            status=BureauLoanStatus(
                rng.choice(["current", "settled", "overdue"], p=[0.5, 0.45, 0.05])
            ),
        )
        for _ in range(int(rng.poisson(3)))
    )
    inquiries = tuple(
        BureauInquiry(
            inquired_on=today - timedelta(days=int(rng.integers(0, 365))),
            lender=f"L{int(rng.integers(0, 60))}",
            reason=InquiryReason.LOAN_APPROVAL,
        )
        for _ in range(int(rng.poisson(4)))
    )
    return BureauReport(reported_on=today, loans=loans, inquiries=inquiries)


def synthetic_population(
    applicants: int = 20_000, events: int = 100_000, sample: int = 1_000, seed: int = 20260101
) -> SyntheticPopulation:
    """A reproducible synthetic history: `applicants` applicants with their own phone, card
    and one or two devices (3 % on a pool of shared devices), IPs from a shared pool, two
    or three contacts (half of them other applicants' phones), `events` applications spread
    over 90 days with a heavy tail per applicant, 1 % blacklisted and 5 % overdue applicants,
    and `sample` new applications by existing applicants at the end of the period."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)

    def hashed(kind: str, value: str) -> str:
        return hash_identifier(kind, value, BENCH_KEY)

    ids = [hashed("id_number", f"11010119900101{i:04d}") for i in range(applicants)]
    phones = [hashed("phone", f"1{30_000_000_00 + i}") for i in range(applicants)]
    cards = [hashed("card", f"62220200{i:011d}") for i in range(applicants)]
    shared_devices = [hashed("device", f"shared-{i}") for i in range(max(1, applicants // 200))]
    ips = [hashed("ip", f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}") for i in range(8_000)]
    devices: list[list[str]] = []
    contacts: list[list[str]] = []
    for i in range(applicants):
        own = [
            shared_devices[int(rng.integers(len(shared_devices)))]
            if rng.random() < 0.03
            else hashed("device", f"dev-{i}")
        ]
        if rng.random() < 0.1:
            own.append(hashed("device", f"dev-{i}-b"))
        devices.append(own)
        listed = []
        for c in range(int(rng.choice([2, 3], p=[0.8, 0.2]))):
            if rng.random() < 0.5:
                listed.append(phones[int(rng.integers(applicants))])
            else:
                listed.append(hashed("contact_phone", f"1{50_000_000_00 + i * 3 + c}"))
        contacts.append(listed)
    applicant_ips = [ips[int(rng.integers(len(ips)))] for _ in range(applicants)]

    def identifiers(i: int, device: str) -> HashedIdentifiers:
        return HashedIdentifiers(
            id_number=ids[i],
            phone=phones[i],
            device=device,
            ip=applicant_ips[i],
            card=cards[i],
            contact_phones=tuple(contacts[i]),
        )

    # every applicant applies once, the rest of the events go to a heavy-tailed few
    weights = 1.0 / np.arange(1, applicants + 1) ** 0.8
    extra = rng.choice(applicants, size=max(0, events - applicants), p=weights / weights.sum())
    who = np.concatenate([np.arange(applicants), extra])
    seconds = rng.integers(0, BENCH_DAYS * 86_400, size=who.size)
    history = [
        ApplicationEvent(
            at=BENCH_START + timedelta(seconds=int(s)),
            identifiers=identifiers(
                int(i), devices[int(i)][int(rng.integers(len(devices[int(i)])))]
            ),
        )
        for i, s in zip(who, seconds, strict=True)
    ]
    velocity = VelocityIndex(history)
    device_index = DeviceIndex(
        DeviceObservation(at=e.at, device=e.identifiers.device, id_number=e.identifiers.id_number)
        for e in history
        if e.identifiers.device is not None and e.identifiers.id_number is not None
    )

    graph = RelationGraph()
    blacklisted = rng.random(applicants) < 0.01
    overdue = rng.random(applicants) < 0.05
    for i in range(applicants):
        graph.add_applicant(
            f"A{i}",
            phone=phones[i],
            devices=devices[i],
            contact_phones=contacts[i],
            blacklisted=bool(blacklisted[i]),
            overdue=bool(overdue[i]),
        )

    entries = [
        BlacklistEntry(
            kind=BlacklistKind.ID_NUMBER,
            value_hash=ids[i],
            reason="confirmed fraud",
            added_by="bench",
            added_at=BENCH_START,
        )
        for i in np.flatnonzero(blacklisted)
    ]
    entries.extend(
        BlacklistEntry(
            kind=BlacklistKind.DEVICE,
            value_hash=device,
            reason="emulator",
            added_by="bench",
            added_at=BENCH_START,
            expires_at=BENCH_START + timedelta(days=60),
        )
        for device in shared_devices[: len(shared_devices) // 4]
    )
    blacklist = BlacklistIndex(entries)

    frame = pd.DataFrame([_numeric_features(rng) for _ in range(applicants)])
    model = AnomalyModel.fit(frame, NUMERIC_FEATURE_NAMES)
    ctx = AntifraudContext(
        blacklist=blacklist,
        velocity=velocity,
        devices=device_index,
        graph=graph,
        anomaly_model=model,
    )

    as_of = BENCH_START + timedelta(days=BENCH_DAYS)
    applications = []
    for _ in range(sample):
        i = int(rng.integers(applicants))
        applied_at = as_of - timedelta(seconds=int(rng.integers(0, 600)))
        applications.append(
            ApplicationSignals(
                applicant_id=f"A{i}",
                applied_at=applied_at,
                identifiers=identifiers(i, devices[i][0]),
                numeric_features=_numeric_features(rng),
                bureau_report=_bureau_report(rng, as_of.date()),
            )
        )
    return SyntheticPopulation(
        ctx=ctx,
        applications=tuple(applications),
        as_of=as_of,
        applicants=applicants,
        events=len(history),
        build_seconds=time.perf_counter() - started,
    )


def _mean_us(
    applications: Sequence[ApplicationSignals], call: Callable[[ApplicationSignals], object]
) -> float:
    started = time.perf_counter()
    for application in applications:
        call(application)
    return (time.perf_counter() - started) / max(1, len(applications)) * 1e6


def run_antifraud_bench(
    applicants: int = 20_000, events: int = 100_000, sample: int = 1_000, seed: int = 20260101
) -> AntifraudBenchResult:
    """Build the population, record each sample application, then time `antifraud_features`
    on each (and each check on its own)."""
    population = synthetic_population(applicants, events, sample, seed)
    ctx, as_of, applications = population.ctx, population.as_of, population.applications
    record_us = _mean_us(applications, ctx.record)
    times: list[float] = []
    flagged = 0
    for application in applications:
        started = time.perf_counter()
        result = antifraud_features(application, ctx, as_of)
        times.append((time.perf_counter() - started) * 1e6)
        flagged += bool(result.reasons)
    model = ctx.anomaly_model
    components = {
        "blacklist": _mean_us(applications, lambda a: ctx.blacklist.check(a.identifiers, as_of)),
        "velocity": _mean_us(applications, lambda a: ctx.velocity.features(a.identifiers, as_of)),
        "device": _mean_us(applications, lambda a: ctx.devices.features(a.identifiers, as_of)),
        "bureau": _mean_us(applications, lambda a: bureau_features(a.bureau_report, as_of)),
        "graph": _mean_us(
            applications,
            lambda a: ctx.graph.features(
                a.applicant_id,
                phone=a.identifiers.phone,
                devices=(a.identifiers.device,) if a.identifiers.device else (),
                contact_phones=a.identifiers.contact_phones,
            ),
        ),
        "anomaly": _mean_us(
            applications, lambda a: model.score(a.numeric_features) if model else 0.0
        ),
    }
    quantiles = statistics.quantiles(times, n=100) if len(times) > 1 else times * 99
    return AntifraudBenchResult(
        applicants=population.applicants,
        events=population.events,
        sample=len(applications),
        build_seconds=population.build_seconds,
        record_mean_us=record_us,
        features_mean_us=statistics.fmean(times) if times else 0.0,
        features_p50_us=quantiles[49],
        features_p95_us=quantiles[94],
        features_p99_us=quantiles[98],
        component_mean_us=components,
        flagged_share=flagged / max(1, len(applications)),
    )


def format_result(result: AntifraudBenchResult) -> str:
    """The figures as lines of text."""
    lines = [
        f"population: {result.applicants:,} applicants, {result.events:,} recorded applications "
        f"(built in {result.build_seconds:.1f} s)",
        f"record one application: {result.record_mean_us:,.0f} µs mean",
        f"antifraud_features over {result.sample:,} applications: "
        f"mean {result.features_mean_us:,.0f} µs, p50 {result.features_p50_us:,.0f} µs, "
        f"p95 {result.features_p95_us:,.0f} µs, p99 {result.features_p99_us:,.0f} µs",
        "by check (mean µs): "
        + ", ".join(f"{name} {us:,.1f}" for name, us in result.component_mean_us.items()),
        f"applications with a reason code: {result.flagged_share:.1%}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applicants", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=20260101)
    args = parser.parse_args(argv)
    print(format_result(run_antifraud_bench(args.applicants, args.events, args.sample, args.seed)))


if __name__ == "__main__":
    main()
