"""The synthetic application history and the shipped default scorecard scored from JSON alone."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from xindai.errors import InvalidValue
from xindai.risk.scorecard.default_model import load_default_model
from xindai.risk.scorecard.metrics import auc_score
from xindai.risk.scorecard.synthetic import FEATURES, TARGET, generate_history


def test_history_is_deterministic_and_plausible() -> None:
    history = generate_history(5000, seed=3)
    pd.testing.assert_frame_equal(history, generate_history(5000, seed=3))
    assert not history.equals(generate_history(5000, seed=4))
    assert list(history.columns) == ["application_id", *FEATURES, TARGET]
    assert history["application_id"].is_unique
    assert 0.07 < history[TARGET].mean() < 0.13
    assert history["age"].between(18, 60).all()
    known = history["inquiries_6m"].notna()
    assert (history.loc[known, "inquiries_1m"] <= history.loc[known, "inquiries_3m"]).all()
    assert (history.loc[known, "inquiries_3m"] <= history.loc[known, "inquiries_6m"]).all()
    # thin file: every bureau field is missing together
    bureau = ["inquiries_1m", "inquiries_3m", "multi_lender_count", "other_max_overdue_days"]
    assert (history[bureau].isna().eq(~known, axis=0)).all().all()
    assert 0.05 < (~known).mean() < 0.15
    # no previous loan with us: no previous max DPD
    assert (history["prev_max_dpd"].isna() == (history["prev_loans"] == 0)).all()
    assert history["monthly_income"].isna().any() and history["education"].isna().any()
    # the outcome follows the features the way a lender expects
    bad_rate = history.groupby(history["multi_lender_count"].fillna(-1).clip(upper=5))[TARGET]
    assert bad_rate.mean()[5] > 2 * bad_rate.mean()[0]


def test_history_rejects_bad_size() -> None:
    for n in (0, -3, 2.5, True):
        with pytest.raises(InvalidValue):
            generate_history(n)  # type: ignore[arg-type]


def test_default_model_scores_new_applications() -> None:
    model = load_default_model()
    assert model is load_default_model()  # cached
    assert model.target == TARGET and model.bad_value == 1
    assert model.scaling.base_score == 600 and model.scaling.pdo == 20
    fresh = generate_history(5000, seed=8)  # applications the model has not seen
    scored = model.score_frame(fresh)
    assert auc_score(fresh[TARGET], scored["pd"]) > 0.72
    rates = fresh[TARGET].groupby(scored["grade"]).mean()
    assert list(rates.index) == list("ABCDE")
    assert rates.is_monotonic_increasing
    records = fresh.head(300).to_dict("records")
    assert [model.score_record(r) for r in records] == list(
        scored.head(300).itertuples(index=False)
    )


def test_a_typical_application_and_an_empty_one() -> None:
    model = load_default_model()
    application = {
        "age": 29,
        "monthly_income": 6500,
        "employment_type": "salaried",
        "education": "bachelor",
        "city_tier": "tier2",
        "inquiries_1m": 0,
        "inquiries_3m": 1,
        "inquiries_6m": 2,
        "multi_lender_count": 1,
        "other_max_overdue_days": 0,
        "device_age_days": 400,
        "contacts_count": 180,
        "prev_loans": 2,
        "prev_max_dpd": 0,
        "requested_amount": 3000,
        "requested_term": 6,
    }
    score, pd_bad, grade = model.score_record(application)
    assert pd_bad == pytest.approx(model.scaling.pd_of_score(score))
    worse = {**application, "multi_lender_count": 9, "inquiries_1m": 5, "inquiries_6m": 15}
    assert model.score_record(worse)[0] < score
    empty = dict.fromkeys(application)  # nothing known: every feature scored as missing
    empty_score, _, _ = model.score_record(empty)
    expected = model.base_points + sum(f.missing.points for f in model.features)
    assert empty_score == expected
    assert grade in model.grades.labels and np.isfinite(score)


def test_scoring_from_json_needs_neither_optbinning_nor_sklearn() -> None:
    code = (
        "import sys\n"
        "from xindai.risk.scorecard.default_model import load_default_model\n"
        "from xindai.risk.scorecard.synthetic import generate_history\n"
        "m = load_default_model()\n"
        "m.score_frame(generate_history(50, 1))\n"
        "m.score_record(generate_history(1, 2).iloc[0].to_dict())\n"
        "loaded = [n for n in ('optbinning', 'sklearn', 'ortools') if n in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
