"""The platform's synthetic application history: what a Chinese cash lender knows at decision
time, and whether the loan went bad, from a latent logistic model with noise.

Deterministic: the same (n, seed) gives the same frame on every machine. Money is in yuan,
durations in days or months as named. About 10 % of applications go bad. Missing values arise
as they do in practice: no bureau file (thin file), undeclared income, contacts permission
refused, no previous loan with us, education not filled in.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]

from xindai.errors import InvalidValue

EDUCATION = ("junior_high", "high_school", "college", "bachelor", "master")
"""初中及以下, 高中/中专, 大专, 本科, 硕士及以上."""
EMPLOYMENT = ("salaried", "self_employed", "freelance", "student", "unemployed")
"""工薪, 个体经营, 自由职业, 学生, 待业."""
CITY_TIERS = ("tier1", "tier2", "tier3", "tier4")
"""一线, 二线, 三线, 四线及以下."""
AMOUNTS_YUAN = (1000, 2000, 3000, 5000, 8000, 10000, 20000)
TERMS_MONTHS = (3, 6, 9, 12)

TARGET = "bad"
BAD_VALUE = 1
FEATURES = (
    "age",
    "monthly_income",
    "employment_type",
    "education",
    "city_tier",
    "inquiries_1m",
    "inquiries_3m",
    "inquiries_6m",
    "multi_lender_count",
    "other_max_overdue_days",
    "device_age_days",
    "contacts_count",
    "prev_loans",
    "prev_max_dpd",
    "requested_amount",
    "requested_term",
)
"""Decision-time features (everything but `application_id` and the outcome `bad`)."""

_INTERCEPT = -3.4  # puts the bad rate near 10 %


def _pick(
    rng: np.random.Generator, options: tuple[str, ...], shares: list[float], n: int
) -> npt.NDArray[np.object_]:
    return np.asarray(rng.choice(np.asarray(options, dtype=object), size=n, p=shares))


def _lookup(values: npt.NDArray[np.object_], effects: dict[str, float]) -> npt.NDArray[np.float64]:
    return np.asarray([effects.get(v, 0.0) for v in values], dtype=np.float64)


def generate_history(n: int, seed: int = 7) -> pd.DataFrame:
    """`n` past applications with their decision-time features and outcome `bad` (1 = bad)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise InvalidValue("n", n, "must be a positive whole number", "必须是正整数")
    rng = np.random.default_rng(seed)
    character = rng.normal(size=n)  # unobserved: drives hunger for credit and repayment
    hunger = np.exp(0.6 * character + rng.normal(0.0, 0.4, n))

    age = np.clip(np.round(rng.normal(31.0, 7.5, n)), 18, 60).astype(np.int64)
    education = _pick(rng, EDUCATION, [0.15, 0.30, 0.30, 0.22, 0.03], n)
    employment = _pick(rng, EMPLOYMENT, [0.55, 0.18, 0.17, 0.05, 0.05], n)
    employment = np.where((employment == "student") & (age > 26), "salaried", employment)
    city = _pick(rng, CITY_TIERS, [0.15, 0.30, 0.30, 0.25], n)
    log_income = (
        8.45
        + _lookup(education, {"junior_high": -0.3, "high_school": -0.1, "bachelor": 0.25})
        + _lookup(education, {"master": 0.5})
        + _lookup(city, {"tier1": 0.35, "tier2": 0.15, "tier4": -0.15})
        + _lookup(employment, {"student": -0.9, "unemployed": -0.7, "freelance": -0.1})
        + 0.01 * np.minimum(age - 18, 20)
        + rng.normal(0.0, 0.35, n)
    )
    income = np.round(np.exp(log_income) / 100.0) * 100.0

    has_bureau = rng.random(n) > 0.10
    inquiries_1m = rng.poisson(0.4 * hunger)
    inquiries_3m = inquiries_1m + rng.poisson(0.8 * hunger)
    inquiries_6m = inquiries_3m + rng.poisson(1.1 * hunger)
    multi_lender = rng.poisson(0.3 + 1.2 * hunger)
    overdue_chance = 1.0 / (1.0 + np.exp(-(-2.4 + 0.8 * character)))
    other_overdue = np.where(rng.random(n) < overdue_chance, np.ceil(rng.exponential(18.0, n)), 0.0)

    device_age = np.floor(rng.exponential(320.0, n))
    contacts = np.round(np.exp(rng.normal(4.6, 0.9, n)))
    contacts_refused = rng.random(n) < 0.08
    prev_loans = np.where(rng.random(n) < 0.45, rng.poisson(1.6, n) + 1, 0)
    prev_dpd = np.where(
        rng.random(n) < 1.0 / (1.0 + np.exp(-(-1.8 + 0.7 * character))),
        np.ceil(rng.exponential(8.0, n)),
        0.0,
    )
    amount = rng.choice(np.asarray(AMOUNTS_YUAN), size=n, p=[0.1, 0.2, 0.2, 0.2, 0.12, 0.12, 0.06])
    term = rng.choice(np.asarray(TERMS_MONTHS), size=n, p=[0.2, 0.35, 0.15, 0.3])

    logit = (
        _INTERCEPT
        + 0.35 * character
        + np.select([age < 22, age < 25, age > 50], [0.55, 0.25, 0.2], 0.0)
        - 0.45 * (np.log(income) - 8.5)
        + _lookup(employment, {"unemployed": 0.7, "student": 0.5, "freelance": 0.3})
        + _lookup(employment, {"self_employed": 0.1})
        + _lookup(education, {"junior_high": 0.3, "high_school": 0.15, "bachelor": -0.2})
        + _lookup(education, {"master": -0.4})
        + _lookup(city, {"tier1": -0.1, "tier3": 0.05, "tier4": 0.15})
        + np.where(
            has_bureau,
            0.16 * np.minimum(inquiries_1m, 6)
            + 0.04 * np.minimum(inquiries_6m, 20)
            + 0.17 * np.minimum(multi_lender, 8)
            + np.select([other_overdue > 30, other_overdue > 0], [1.0, 0.6], 0.0),
            0.45,
        )
        + np.select([device_age < 7, device_age < 30], [0.8, 0.3], 0.0)
        + np.where(contacts_refused, 0.3, np.where(contacts < 30, 0.5, 0.0))
        - 0.22 * np.minimum(prev_loans, 3)
        + np.where(prev_loans > 0, np.select([prev_dpd > 15, prev_dpd > 3], [1.0, 0.5], 0.0), 0)
        + 0.25 * np.clip(amount / income - 1.0, -1.0, 3.0)
        + np.where(term == 12, 0.1, 0.0)
        + rng.normal(0.0, 0.5, n)
    )
    bad = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)

    def missing_where(values: npt.NDArray[Any], mask: npt.NDArray[np.bool_]) -> pd.Series:
        return pd.Series(np.where(mask, np.nan, values.astype(np.float64)))

    def text_missing_where(values: npt.NDArray[np.object_], share: float) -> pd.Series:
        series = pd.Series(values, dtype="object")
        series[rng.random(n) < share] = None
        return series

    no_bureau = ~has_bureau
    return pd.DataFrame(
        {
            "application_id": [f"AP{seed:03d}{i:07d}" for i in range(n)],
            "age": age,
            "monthly_income": missing_where(income, rng.random(n) < 0.06),
            "employment_type": pd.Series(employment, dtype="object"),
            "education": text_missing_where(education, 0.03),
            "city_tier": pd.Series(city, dtype="object"),
            "inquiries_1m": missing_where(inquiries_1m, no_bureau),
            "inquiries_3m": missing_where(inquiries_3m, no_bureau),
            "inquiries_6m": missing_where(inquiries_6m, no_bureau),
            "multi_lender_count": missing_where(multi_lender, no_bureau),
            "other_max_overdue_days": missing_where(other_overdue, no_bureau),
            "device_age_days": device_age.astype(np.int64),
            "contacts_count": missing_where(contacts, contacts_refused),
            "prev_loans": prev_loans.astype(np.int64),
            "prev_max_dpd": missing_where(prev_dpd, prev_loans == 0),
            "requested_amount": amount.astype(np.int64),
            "requested_term": term.astype(np.int64),
            TARGET: bad,
        }
    )
