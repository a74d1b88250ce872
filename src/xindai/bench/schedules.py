"""Schedule benchmark: the vectorised engine over a random realistic mix, checked against the
exact reference on a random sample (`xindai bench schedules`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from rich.console import Console
from rich.table import Table

from xindai.money import DayCount
from xindai.schedules.columns import FEE_KIND_CODES, METHOD_CODES, UNIT_CODES
from xindai.schedules.model import (
    Method,
    PeriodicFeeKind,
    PeriodUnit,
    ScheduleTerms,
    UpfrontFeeMode,
)
from xindai.schedules.reference import build_schedule
from xindai.schedules.vectorised import (
    ScheduleBatch,
    build_schedules,
    build_schedules_columns,
)

T = TypeVar("T")

_ANNUAL_RATES = ("0.0365", "0.12", "0.18", "0.2", "0.24", "0.2399", "0.3333", "0.36", "0.365", "0")
_RATE_WEIGHTS = (0.05, 0.1, 0.15, 0.1, 0.25, 0.05, 0.05, 0.15, 0.07, 0.03)
_UPFRONT_RATES = ("0", "0.01", "0.02", "0.05")
_FEE_RATES = ("0", "0.001", "0.003")
_FIXED_FEES = (0, 500, 1000, 1999)
_UNITS = (PeriodUnit.MONTH, PeriodUnit.DAY, PeriodUnit.WEEK)
_EPOCH = date(1970, 1, 1)
_FIRST_START = date(2024, 1, 1)
_REPEATS = 3


@dataclass(frozen=True, slots=True)
class ScheduleBenchResult:
    """Figures of one benchmark run; times are wall-clock seconds, best of a few runs."""

    count: int
    seed: int
    installments: int
    columns_seconds: float  # build_schedules_columns (validation included)
    terms_seconds: float  # build_schedules from ScheduleTerms (conversion included)
    sample: int
    mismatches: int
    mismatch_examples: tuple[int, ...]
    reference_seconds: float  # reference.build_schedule over the sample

    @property
    def schedules_per_second(self) -> float:
        return self.count / self.columns_seconds if self.columns_seconds else 0.0

    @property
    def installments_per_second(self) -> float:
        return self.installments / self.columns_seconds if self.columns_seconds else 0.0

    @property
    def terms_installments_per_second(self) -> float:
        return self.installments / self.terms_seconds if self.terms_seconds else 0.0

    @property
    def reference_schedules_per_second(self) -> float:
        return self.sample / self.reference_seconds if self.reference_seconds else 0.0


@dataclass(frozen=True, slots=True)
class _Mix:
    """Random terms as columns, with the indices needed to build the same ScheduleTerms."""

    principal_fen: npt.NDArray[np.int64]
    rate: npt.NDArray[np.int64]  # index into _ANNUAL_RATES
    term: npt.NDArray[np.int64]
    unit: npt.NDArray[np.int64]  # index into _UNITS
    method: npt.NDArray[np.int64]  # index into list(Method)
    start_offset: npt.NDArray[np.int64]  # days after _FIRST_START
    act365: npt.NDArray[np.bool_]
    interest_start_days: npt.NDArray[np.int64]
    interest_free_days: npt.NDArray[np.int64]
    repayment_day: npt.NDArray[np.int64]  # 0 = the start date's day
    upfront_rate: npt.NDArray[np.int64]  # index into _UPFRONT_RATES
    upfront_mode: npt.NDArray[np.int64]  # index into list(UpfrontFeeMode)
    fixed_fee: npt.NDArray[np.bool_]
    fee: npt.NDArray[np.int64]  # index into _FIXED_FEES or _FEE_RATES


def _random_mix(count: int, seed: int) -> _Mix:
    rng = np.random.default_rng(seed)
    method = rng.integers(0, len(Method), count)
    unit = rng.choice(3, count, p=(0.6, 0.2, 0.2))
    monthly_installments = (unit == 0) & (method != METHOD_CODES[Method.BULLET])
    odd_fen = rng.random(count) < 0.05
    return _Mix(
        principal_fen=rng.integers(500, 50_001, count) * 100
        + np.where(odd_fen, rng.integers(0, 100, count), 0),
        rate=rng.choice(len(_ANNUAL_RATES), count, p=_RATE_WEIGHTS),
        term=rng.integers(1, 37, count),
        unit=unit,
        method=method,
        start_offset=rng.integers(0, 731, count),
        act365=rng.random(count) < 0.2,
        interest_start_days=rng.choice((0, 1, 3), count, p=(0.8, 0.1, 0.1)),
        interest_free_days=rng.choice((0, 7, 30), count, p=(0.9, 0.05, 0.05)),
        repayment_day=np.where(
            monthly_installments & (rng.random(count) < 0.25), rng.integers(1, 29, count), 0
        ),
        upfront_rate=rng.integers(0, len(_UPFRONT_RATES), count),
        upfront_mode=rng.integers(0, len(UpfrontFeeMode), count),
        fixed_fee=rng.random(count) < 0.5,
        fee=rng.integers(0, 3, count),
    )


def _ratio_table(texts: tuple[str, ...]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    pairs = [Decimal(t).as_integer_ratio() for t in texts]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def _build_columns(mix: _Mix) -> ScheduleBatch:
    rate_num, rate_den = _ratio_table(_ANNUAL_RATES)
    upfront_num, upfront_den = _ratio_table(_UPFRONT_RATES)
    fee_num, fee_den = _ratio_table(_FEE_RATES)
    unit_codes = np.array([UNIT_CODES[u] for u in _UNITS])
    method_codes = np.array([METHOD_CODES[m] for m in Method])
    fixed = mix.fixed_fee
    return build_schedules_columns(
        principal_fen=mix.principal_fen,
        rate_numerator=rate_num[mix.rate],
        rate_denominator=rate_den[mix.rate],
        term=mix.term,
        unit=unit_codes[mix.unit],
        method=method_codes[mix.method],
        start_date=np.datetime64(_FIRST_START, "D") + mix.start_offset,
        days_in_year=np.where(mix.act365, 365, 360),
        interest_start_days=mix.interest_start_days,
        interest_free_days=mix.interest_free_days,
        repayment_day=mix.repayment_day,
        upfront_fee_numerator=upfront_num[mix.upfront_rate],
        upfront_fee_denominator=upfront_den[mix.upfront_rate],
        upfront_fee_mode=mix.upfront_mode,
        periodic_fee_kind=np.where(
            fixed, FEE_KIND_CODES[PeriodicFeeKind.FIXED], FEE_KIND_CODES[PeriodicFeeKind.RATE]
        ),
        periodic_fee_numerator=np.where(fixed, np.array(_FIXED_FEES)[mix.fee], fee_num[mix.fee]),
        periodic_fee_denominator=np.where(fixed, 1, fee_den[mix.fee]),
    )


def _terms(mix: _Mix) -> list[ScheduleTerms]:
    """The same mix as ScheduleTerms (not timed)."""
    rates = [Decimal(t) for t in _ANNUAL_RATES]
    upfront = [Decimal(t) for t in _UPFRONT_RATES]
    fee_rates = [Decimal(t) for t in _FEE_RATES]
    fixed_fees = [Decimal(f) for f in _FIXED_FEES]
    methods, modes = list(Method), list(UpfrontFeeMode)
    starts = [_FIRST_START + timedelta(days=d) for d in range(731)]
    columns = zip(
        mix.principal_fen.tolist(),
        mix.rate.tolist(),
        mix.term.tolist(),
        mix.unit.tolist(),
        mix.method.tolist(),
        mix.start_offset.tolist(),
        mix.act365.tolist(),
        mix.interest_start_days.tolist(),
        mix.interest_free_days.tolist(),
        mix.repayment_day.tolist(),
        mix.upfront_rate.tolist(),
        mix.upfront_mode.tolist(),
        mix.fixed_fee.tolist(),
        mix.fee.tolist(),
        strict=True,
    )
    return [
        ScheduleTerms(
            principal_fen=principal,
            annual_rate=rates[rate],
            term=term,
            unit=_UNITS[unit],
            method=methods[method],
            start_date=starts[start],
            day_count=DayCount.ACT365 if act365 else DayCount.ACT360,
            interest_start_days=start_days,
            interest_free_days=free_days,
            repayment_day=repayment_day or None,
            upfront_fee_rate=upfront[upfront_rate],
            upfront_fee_mode=modes[mode],
            periodic_fee_kind=PeriodicFeeKind.FIXED if fixed else PeriodicFeeKind.RATE,
            periodic_fee_value=fixed_fees[fee] if fixed else fee_rates[fee],
        )
        for (
            principal,
            rate,
            term,
            unit,
            method,
            start,
            act365,
            start_days,
            free_days,
            repayment_day,
            upfront_rate,
            mode,
            fixed,
            fee,
        ) in columns
    ]


def _best_time(run: Callable[[], T], repeats: int) -> tuple[T, float]:
    """Warm up once, then the best wall time of `repeats` runs."""
    result = run()
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - began)
    return result, best


def run_schedule_bench(count: int, sample: int, seed: int, progress: bool) -> ScheduleBenchResult:
    """Time the vectorised engine on `count` random schedules (deterministic from `seed`) and
    compare `sample` of them, every field to the fen, with reference.build_schedule."""
    console = Console(stderr=True, quiet=not progress)
    console.log(f"generating {count:,} schedule terms (seed {seed})")
    mix = _random_mix(count, seed)
    console.log("timing build_schedules_columns")
    by_columns, columns_seconds = _best_time(lambda: _build_columns(mix), _REPEATS)
    terms = _terms(mix)
    console.log("timing build_schedules (ScheduleTerms in)")
    by_terms, terms_seconds = _best_time(lambda: build_schedules(terms), _REPEATS)
    picked = np.random.default_rng(seed + 1).choice(count, min(sample, count), replace=False)
    console.log(f"checking {len(picked):,} schedules against the reference")
    mismatched: list[int] = []
    reference_seconds = 0.0
    for i in sorted(picked.tolist()):
        began = time.perf_counter()
        expected = build_schedule(terms[i])
        reference_seconds += time.perf_counter() - began
        if by_columns.schedule(i) != expected or by_terms.schedule(i) != expected:
            mismatched.append(i)
    return ScheduleBenchResult(
        count=count,
        seed=seed,
        installments=by_columns.installment_count,
        columns_seconds=columns_seconds,
        terms_seconds=terms_seconds,
        sample=len(picked),
        mismatches=len(mismatched),
        mismatch_examples=tuple(mismatched[:10]),
        reference_seconds=reference_seconds,
    )


def render_schedule_bench(result: ScheduleBenchResult) -> Table:
    """The result as a two-column table (zh-CN first, English second)."""
    table = Table(title=f"还款计划基准 / schedule benchmark (seed {result.seed})")
    table.add_column("指标 / metric")
    table.add_column("值 / value", justify="right")
    rows = [
        ("计划数 / schedules", f"{result.count:,}"),
        ("期数 / installments", f"{result.installments:,}"),
        ("列式耗时 / columns wall time", f"{result.columns_seconds:.3f} s"),
        ("计划/秒 / schedules/s (columns)", f"{result.schedules_per_second:,.0f}"),
        ("期/秒 / installments/s (columns)", f"{result.installments_per_second:,.0f}"),
        ("对象耗时 / ScheduleTerms wall time", f"{result.terms_seconds:.3f} s"),
        ("期/秒 / installments/s (ScheduleTerms)", f"{result.terms_installments_per_second:,.0f}"),
        ("参照实现 / reference schedules/s", f"{result.reference_schedules_per_second:,.0f}"),
        ("抽样核对 / sample checked", f"{result.sample:,}"),
        ("不一致 / mismatches", f"{result.mismatches}"),
    ]
    if result.mismatch_examples:
        rows.append(
            ("不一致示例 / mismatching rows", ", ".join(map(str, result.mismatch_examples)))
        )
    for name, value in rows:
        table.add_row(name, value)
    return table
