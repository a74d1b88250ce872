"""Scorecard tooling (SPEC §7, §10) on the real German credit data: fit, score, JSON artifact,
missing values and unseen categories, the monitoring report and the `xindai scorecard` CLI."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from typer.testing import CliRunner

import xindai.cli
from xindai.cli.scorecard import app
from xindai.errors import InvalidValue
from xindai.risk.scorecard.default_model import DEFAULT_MODEL_PATH, load_default_model
from xindai.risk.scorecard.fit import fit_scorecard
from xindai.risk.scorecard.metrics import auc_score, ks_statistic
from xindai.risk.scorecard.model import Scaling, ScorecardModel
from xindai.risk.scorecard.report import CHART_FILES, scorecard_report

TARGET = "creditability"
CREATED_AT = "2026-01-01T00:00:00+08:00"
SPLIT_SEED = 0
MORE_SPLIT_SEEDS = (1, 2, 3, 4)


def shared_dir() -> Path:
    """shared/ beside the repository (CI copies it to <clone>/../shared); env var overrides."""
    override = os.environ.get("XINDAI_SHARED_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[3] / "shared"


@pytest.fixture(scope="module")
def german() -> pd.DataFrame:
    path = shared_dir() / "data" / "germancredit.csv"
    if not path.is_file():
        pytest.fail(f"German credit data not found at {path}; set XINDAI_SHARED_DIR")
    return pd.read_csv(path)


def stratified_split(german: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The requirement's split: stratified 70/30 (sklearn), rows renumbered."""
    train, test = train_test_split(
        german, test_size=0.3, stratify=german[TARGET], random_state=seed
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


@pytest.fixture(scope="module")
def split(german: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return stratified_split(german, SPLIT_SEED)


@pytest.fixture(scope="module")
def model(split: tuple[pd.DataFrame, pd.DataFrame]) -> ScorecardModel:
    return fit_scorecard(split[0], TARGET, "bad", created_at=CREATED_AT, name="german")


def is_bad(frame: pd.DataFrame) -> np.ndarray:
    return (frame[TARGET] == "bad").to_numpy().astype(int)


# --- fit on real data ----------------------------------------------------------------------


def test_german_credit_test_auc(model: ScorecardModel, split) -> None:
    _, test = split
    scores = model.score_frame(test)
    y = is_bad(test)
    auc = auc_score(y, -scores["score"].to_numpy())
    assert auc >= 0.80  # the requirement, on this split (published pipelines: 0.79–0.81)
    assert auc == pytest.approx(roc_auc_score(y, scores["pd"]), abs=1e-12)
    assert ks_statistic(y, scores["pd"]) > 0.40
    # the training figures stored in the artifact are what the model gives on its training data
    train_scores = model.score_frame(split[0])["score"].to_numpy()
    assert model.training.auc == pytest.approx(auc_score(is_bad(split[0]), -train_scores), 1e-6)
    assert model.training.n == len(split[0]) and model.training.n_bad == is_bad(split[0]).sum()


def test_german_credit_test_auc_over_several_splits(
    german: pd.DataFrame, model: ScorecardModel, split: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    """Not just one lucky split. With 300 test rows (90 bad) a split's AUC varies by about
    ±0.023 (one s.d.): over splits 0–99 the defaults average 0.786 (0.784 with the former
    5 % bins and optbinning's direction guess), so ≥ 0.80 holds on about a third of splits
    only. Splits 0–4 average 0.800 with these defaults; 0.79 leaves room for solver noise."""
    aucs = [auc_score(is_bad(split[1]), -model.score_frame(split[1])["score"].to_numpy())]
    for seed in MORE_SPLIT_SEEDS:
        train, test = stratified_split(german, seed)
        fitted = fit_scorecard(train, TARGET, "bad", created_at=CREATED_AT)
        scores = fitted.score_frame(test)["score"].to_numpy()
        aucs.append(auc_score(is_bad(test), -scores))
    assert np.mean(aucs) >= 0.79, aucs
    assert min(aucs) >= 0.75, aucs


def test_numeric_bins_keep_the_direction_with_the_larger_iv(german: pd.DataFrame) -> None:
    # on this split optbinning's "auto_asc_desc" guesses descending for credit_amount, whose
    # bad rate rises with the amount: the default bins both ways and keeps the larger IV
    train, _ = stratified_split(german, 103)
    columns = ["credit_amount", "purpose"]
    guessed = fit_scorecard(
        train, TARGET, "bad", created_at=CREATED_AT, features=columns, numeric_trend="auto_asc_desc"
    )
    fitted = fit_scorecard(train, TARGET, "bad", created_at=CREATED_AT, features=columns)
    assert fitted.fit_params["numeric_trend"] == "ascending_or_descending"  # the default
    assert guessed.selection[0].iv < 0.01 < 0.1 < fitted.selection[0].iv
    assert "credit_amount" not in guessed.feature_names  # below min_iv: the feature was lost
    rates = [b.bad_rate for b in fitted.feature("credit_amount").bins]
    assert rates == sorted(rates) and len(rates) >= 3


def test_fit_selects_by_iv_and_keeps_the_audit_trail(model: ScorecardModel) -> None:
    chosen = {s.feature for s in model.selection if s.selected}
    assert chosen == set(model.feature_names)
    assert len(model.selection) == 20  # every candidate column is accounted for
    assert "status_of_existing_checking_account" in chosen  # the strongest characteristic
    for entry in model.selection:
        assert entry.selected or entry.reason
        if entry.selected:
            assert entry.iv >= 0.02
    # every coefficient is positive: riskier bins (larger WOE) get fewer points
    for feature in model.features:
        assert feature.coefficient > 0
        order = np.argsort([b.woe for b in feature.bins])
        points = [feature.bins[i].points for i in order]
        assert points == sorted(points, reverse=True)
    numeric = model.feature("duration_in_month")
    assert numeric.kind == "numeric" and len(numeric.splits) >= 2
    rates = [b.bad_rate for b in numeric.bins]
    assert rates == sorted(rates) or rates == sorted(rates, reverse=True)  # monotonic trend


def test_fit_is_deterministic(model: ScorecardModel, split) -> None:
    again = fit_scorecard(split[0], TARGET, "bad", created_at="another time", name="german")
    assert again.version == model.version  # created_at is not part of the content hash
    assert again.to_dict() | {"created_at": None} == model.to_dict() | {"created_at": None}


def test_scaling_and_points_reproduce_the_regression(model: ScorecardModel, split) -> None:
    scaling = Scaling(base_score=600, base_odds=50, pdo=20)
    assert scaling.pd_of_score(600) == pytest.approx(1 / 51)
    assert scaling.score_of_pd(1 / 51) == pytest.approx(600)
    odds = [(1 - scaling.pd_of_score(s)) / scaling.pd_of_score(s) for s in (600, 620)]
    assert odds[1] / odds[0] == pytest.approx(2.0)  # PDO doubles the good:bad odds
    # score = offset − factor·(intercept + Σ β·WOE), up to the rounding of each bin's points
    test = split[1]
    logit = np.full(len(test), model.intercept)
    for feature in model.features:
        woes = np.array(
            [b.woe for b in feature.bins]
            + [feature.unseen.woe if feature.unseen else 0, feature.missing.woe]
        )
        logit += feature.coefficient * woes[feature.bin_index(test[feature.name])]
    exact = model.scaling.offset - model.scaling.factor * logit
    scores = model.score_frame(test)["score"].to_numpy()
    assert np.abs(scores - exact).max() <= 0.5 * (len(model.features) + 1)
    pd_exact = 1 / (1 + np.exp(-logit))
    assert np.abs(model.score_frame(test)["pd"].to_numpy() - pd_exact).max() < 0.05


def test_grades_split_training_scores_and_rank_risk(model: ScorecardModel, split) -> None:
    train = split[0]
    scored = model.score_frame(train)
    shares = scored["grade"].value_counts(normalize=True)
    assert set(shares.index) == set("ABCDE")
    assert all(0.12 < shares[g] < 0.28 for g in "ABCDE")
    bad_rate = pd.Series(is_bad(train)).groupby(scored["grade"]).mean()
    assert bad_rate["A"] < bad_rate["C"] < bad_rate["E"]
    cut = model.grades.cutoffs
    assert model._grade(cut[0]) == "A" and model._grade(cut[0] - 0.5) == "B"
    assert model._grade(-1e9) == "E"


# --- artifact -----------------------------------------------------------------------------


def test_json_round_trip_scores_identically(model: ScorecardModel, split, tmp_path) -> None:
    path = model.save(tmp_path / "model.json")
    loaded = ScorecardModel.load(path)
    assert loaded == model and loaded.version == model.version
    assert loaded.to_json() == path.read_text(encoding="utf-8")
    pd.testing.assert_frame_equal(loaded.score_frame(split[1]), model.score_frame(split[1]))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "xindai.scorecard" and data["version"].startswith("sc-")
    assert data["created_at"] == CREATED_AT and data["target"] == TARGET
    assert data["bad_value"] == "bad" and data["training"]["n"] == len(split[0])
    assert data["scaling"]["pdo"] == 20 and len(data["training"]["score_shares"]) >= 5


def test_artifact_that_is_edited_or_not_a_scorecard_is_refused(model: ScorecardModel, tmp_path):
    data = model.to_dict()
    data["features"][0]["bins"][0]["points"] += 5  # hand-edited without a new version
    with pytest.raises(InvalidValue, match="does not match its version"):
        ScorecardModel.from_dict(data)
    with pytest.raises(InvalidValue, match="not a scorecard"):
        ScorecardModel.from_dict({"format": "something else"})
    broken = model.to_dict()
    del broken["features"][0]["missing"]
    with pytest.raises(InvalidValue, match="missing field 'missing'"):
        ScorecardModel.from_dict(broken)
    with pytest.raises(InvalidValue, match="not JSON"):
        ScorecardModel.from_json("score,pd\n1,2\n")
    with pytest.raises(InvalidValue, match="file not found"):
        ScorecardModel.load(tmp_path / "absent.json")


def test_score_record_equals_score_frame(model: ScorecardModel, split) -> None:
    test = split[1]
    frame = model.score_frame(test)
    records = test.to_dict("records")
    assert [model.score_record(r) for r in records] == list(frame.itertuples(index=False))


def test_scoring_keeps_input_order_and_index(model: ScorecardModel, split) -> None:
    test = split[1]
    shuffled = test.sample(frac=1.0, random_state=3)
    scored = model.score_frame(shuffled)
    assert list(scored.index) == list(shuffled.index)
    pd.testing.assert_frame_equal(scored.sort_index(), model.score_frame(test).sort_index())


def test_missing_values_and_unseen_categories_are_scored(model: ScorecardModel, split) -> None:
    row = split[1].iloc[0].to_dict()
    base_score, _, _ = model.score_record(row)
    categorical = next(f for f in model.features if f.kind == "categorical")
    numeric = next(f for f in model.features if f.kind == "numeric")

    def delta(feature, value) -> float:
        changed = model.score_record({**row, feature.name: value})[0]
        current = model.points_frame(pd.DataFrame([row]))[feature.name].iloc[0]
        return changed - base_score + current

    assert categorical.unseen is not None
    assert delta(categorical, "a category never seen") == categorical.unseen.points
    for missing in (None, float("nan"), ""):
        assert delta(categorical, missing) == categorical.missing.points
        assert delta(numeric, missing) == numeric.missing.points
    assert delta(numeric, "1e9") == numeric.bins[-1].points  # numbers given as text are parsed
    # no missing values in training: scored like the riskiest bin (conservative)
    assert numeric.missing_source == "conservative"
    assert numeric.missing.points == min(b.points for b in numeric.bins)

    frame = pd.DataFrame([row] * 3)
    frame[categorical.name] = ["a category never seen", None, row[categorical.name]]
    frame[numeric.name] = [np.nan, 5.0, np.nan]
    scored = model.score_frame(frame)
    assert scored["score"].notna().all()
    assert list(scored.itertuples(index=False)) == [
        model.score_record(r) for r in frame.to_dict("records")
    ]


def test_bad_application_input(model: ScorecardModel, split) -> None:
    row = split[1].iloc[0].to_dict()
    numeric = next(f for f in model.features if f.kind == "numeric")
    with pytest.raises(InvalidValue, match="must be a number"):
        model.score_record({**row, numeric.name: "twelve"})
    with pytest.raises(InvalidValue, match="must be a number"):
        model.score_frame(pd.DataFrame([{**row, numeric.name: "twelve"}]))
    incomplete = {k: v for k, v in row.items() if k != numeric.name}
    with pytest.raises(InvalidValue, match="missing from the application"):
        model.score_record(incomplete)
    with pytest.raises(InvalidValue, match="columns the scorecard needs are missing"):
        model.score_frame(pd.DataFrame([incomplete]))


def test_fit_rejects_bad_input(split) -> None:
    train = split[0]
    with pytest.raises(InvalidValue, match="is not a column"):
        fit_scorecard(train, "no_such_column", "bad", created_at=CREATED_AT)
    with pytest.raises(InvalidValue, match="does not occur"):
        fit_scorecard(train, TARGET, "awful", created_at=CREATED_AT)
    with pytest.raises(InvalidValue, match="not feature columns"):
        fit_scorecard(train, TARGET, "bad", features=["age_in_years", "nope"], created_at="x")
    with pytest.raises(InvalidValue, match="monotonic_trend"):
        fit_scorecard(train, TARGET, "bad", created_at="x", monotonic_trend={"age_in_years": "up"})
    with pytest.raises(InvalidValue, match="numeric_trend"):
        fit_scorecard(train, TARGET, "bad", created_at="x", numeric_trend="sideways")
    with_gap = train.copy()
    with_gap.loc[0, TARGET] = None
    with pytest.raises(InvalidValue, match="missing outcomes"):
        fit_scorecard(with_gap, TARGET, "bad", created_at=CREATED_AT)


def test_fit_with_missing_values_and_a_numeric_target(split) -> None:
    train = split[0].copy()
    rng = np.random.default_rng(5)
    holes = rng.random(len(train)) < 0.15
    train.loc[holes, "duration_in_month"] = np.nan
    train.loc[rng.random(len(train)) < 0.1, "purpose"] = None
    train["bad_flag"] = is_bad(train)
    fitted = fit_scorecard(
        train.drop(columns=[TARGET]),
        "bad_flag",
        "1",  # as the CLI passes it: matched against the integer outcome
        created_at=CREATED_AT,
        features=["duration_in_month", "purpose", "status_of_existing_checking_account"],
    )
    assert fitted.bad_value == 1
    duration = fitted.feature("duration_in_month")
    assert duration.missing_source == "data" and duration.missing.count == holes.sum()
    scored = fitted.score_frame(train)
    assert scored["score"].notna().all() and len(scored) == len(train)


# --- report -------------------------------------------------------------------------------


def test_report_metrics_tables_psi_and_charts(model: ScorecardModel, split, tmp_path) -> None:
    train, test = split
    report = scorecard_report(model, test, charts_dir=tmp_path / "charts")
    y = is_bad(test)
    scores = model.score_frame(test)
    assert report.auc == pytest.approx(roc_auc_score(y, scores["pd"]), abs=1e-12)
    assert report.ks == pytest.approx(ks_statistic(y, scores["pd"]))
    assert report.gini == pytest.approx(2 * report.auc - 1)
    assert report.n == len(test) and report.n_bad == y.sum()
    assert report.psi_reference == "training" and 0 <= report.psi < 0.1
    assert set(report.binning_tables) == set(model.feature_names)
    table = report.binning_tables["status_of_existing_checking_account"]
    assert {"bin", "count", "bad_rate", "woe", "iv", "points"} <= set(table.columns)
    assert table["count"].sum() == len(test)
    for key, name in CHART_FILES.items():
        path = report.charts[key]
        assert path == tmp_path / "charts" / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # against itself: PSI 0; against the training sample as a baseline: small
    on_training = scorecard_report(model, train)
    assert on_training.psi == pytest.approx(0.0, abs=1e-3)
    assert scorecard_report(model, train, baseline=train).psi == pytest.approx(0.0, abs=1e-12)
    # a population of riskier applicants shifts the score distribution
    riskier = test[test[TARGET] == "bad"]
    assert scorecard_report(model, riskier, baseline=train).psi > 0.1


def test_report_without_outcomes(model: ScorecardModel, split, tmp_path) -> None:
    sample = split[1].drop(columns=[TARGET])
    report = scorecard_report(model, sample, charts_dir=tmp_path)
    assert report.ks is None and report.auc is None and report.gini is None
    assert math.isfinite(report.psi)
    assert list(report.charts) == ["score_distribution"]


# --- command line -------------------------------------------------------------------------


runner = CliRunner()


@pytest.fixture(scope="module")
def csv_files(split, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("csv")
    train, test = split
    paths = {"train": folder / "train.csv", "test": folder / "test.csv"}
    train.to_csv(paths["train"], index=False)
    test.to_csv(paths["test"], index=False)
    return paths


def invoke(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def run_main(monkeypatch, capsys, *args: str | Path) -> tuple[int, str, str]:
    """Through `xindai.cli.main` (errors → one line, exit 2), with `scorecard` mounted."""
    root = typer.Typer(pretty_exceptions_enable=False, add_completion=False)
    root.add_typer(app, name="scorecard")
    monkeypatch.setattr(xindai.cli, "app", root)
    with pytest.raises(SystemExit) as info:
        xindai.cli.main(["scorecard", *(str(a) for a in args)])
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_cli_fit_score_report(csv_files, model: ScorecardModel, tmp_path) -> None:
    out = tmp_path / "model.json"
    code, output = invoke(
        "fit",
        "--data", csv_files["train"],
        "--target", TARGET,
        "--bad-value", "bad",
        "--out", out,
        "--created-at", CREATED_AT,
        "--name", "german",
    )  # fmt: skip
    assert code == 0, output
    fitted = ScorecardModel.load(out)
    assert fitted.version == model.version  # same data and parameters as the API fit
    assert fitted.version in output and "特征筛选 Feature selection" in output

    scores_csv = tmp_path / "scores.csv"
    code, output = invoke("score", "--model", out, "--data", csv_files["test"], "--out", scores_csv)
    assert code == 0, output
    written = pd.read_csv(scores_csv)
    test = pd.read_csv(csv_files["test"])
    assert list(written.columns) == ["score", "pd", "grade"] and len(written) == len(test)
    expected = model.score_frame(test)
    np.testing.assert_array_equal(written["score"].to_numpy(), expected["score"].to_numpy())
    np.testing.assert_allclose(written["pd"], expected["pd"], rtol=1e-12)
    assert list(written["grade"]) == list(expected["grade"])

    code, output = invoke("report", "--model", out, "--data", csv_files["test"])
    assert code == 0, output
    for text in ("KS", "AUC", "Gini", "PSI", "分箱", "WOE", "IV", "分数"):
        assert text in output
    charts = tmp_path / "model_charts"  # default: next to the model
    assert sorted(p.name for p in charts.iterdir()) == sorted(CHART_FILES.values())

    code, output = invoke(
        "report", "--model", out, "--data", csv_files["test"],
        "--baseline", csv_files["train"], "--charts", tmp_path / "elsewhere",
    )  # fmt: skip
    assert code == 0, output
    assert "基准样本 baseline" in output and (tmp_path / "elsewhere" / "roc.png").is_file()


def test_cli_score_keeps_id_columns(csv_files, model: ScorecardModel, tmp_path) -> None:
    path = model.save(tmp_path / "m.json")
    scores_csv = tmp_path / "out" / "scores.csv"
    code, output = invoke(
        "score", "--model", path, "--data", csv_files["test"], "--out", scores_csv,
        "--keep", "age_in_years",
    )  # fmt: skip
    assert code == 0, output
    written = pd.read_csv(scores_csv)
    assert list(written.columns) == ["age_in_years", "score", "pd", "grade"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fit", "--data", "{tmp}/absent.csv", "--target", TARGET, "--bad-value", "bad",
          "--out", "{tmp}/m.json"], "file not found"),
        (["fit", "--data", "{train}", "--target", "nope", "--bad-value", "bad",
          "--out", "{tmp}/m.json"], "invalid --target 'nope'"),
        (["fit", "--data", "{train}", "--target", TARGET, "--bad-value", "awful",
          "--out", "{tmp}/m.json"], "invalid --bad-value 'awful'"),
        (["fit", "--data", "{train}", "--target", TARGET, "--bad-value", "bad",
          "--out", "{tmp}/m.json", "--pdo", "-20"], "invalid --pdo"),
        (["score", "--model", "{train}", "--data", "{test}", "--out", "{tmp}/s.csv"],
         "is not JSON"),
        (["score", "--model", "{tmp}/other.json", "--data", "{test}", "--out", "{tmp}/s.csv"],
         "is not a scorecard"),
        (["score", "--model", "{tmp}/absent.json", "--data", "{test}", "--out", "{tmp}/s.csv"],
         "invalid --model"),
        (["report", "--model", "{model}", "--data", "{tmp}/absent.csv"], "invalid --data"),
        (["report", "--model", "{model}", "--data", "{test}", "--baseline", "{tmp}/no.csv"],
         "invalid --baseline"),
        (["score", "--model", "{model}", "--data", "{tmp}/wrong.csv", "--out", "{tmp}/s.csv"],
         "columns the scorecard needs are missing"),
        (["score", "--model", "{model}", "--data", "{test}", "--out", "{tmp}/s.csv",
          "--keep", "application_id"], "invalid --keep"),
    ],
)  # fmt: skip
def test_cli_bad_input_is_one_line_and_exit_2(
    args, message, csv_files, model: ScorecardModel, tmp_path, monkeypatch, capsys
) -> None:
    (tmp_path / "other.json").write_text('{"format": "not a scorecard"}\n', encoding="utf-8")
    (tmp_path / "wrong.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    model_path = model.save(tmp_path / "model.json")
    values = {
        "tmp": str(tmp_path),
        "train": str(csv_files["train"]),
        "test": str(csv_files["test"]),
        "model": str(model_path),
    }
    code, _, err = run_main(monkeypatch, capsys, *(a.format(**values) for a in args))
    assert code == 2
    assert err.startswith("Error: ") and err.count("\n") == 1, err
    assert message in err
    assert not (tmp_path / "m.json").exists() and not (tmp_path / "s.csv").exists()


def test_cli_invoked_errors_are_typed(csv_files, tmp_path) -> None:
    test_csv = str(csv_files["test"])
    args = ["score", "--model", test_csv, "--data", test_csv, "--out", str(tmp_path / "s.csv")]
    result = runner.invoke(app, args)
    assert isinstance(result.exception, InvalidValue)
    assert result.exception.code == "INVALID_VALUE" and "不是 JSON" in result.exception.message_zh


# --- the shipped default model ------------------------------------------------------------


def test_train_default_regenerates_the_shipped_model(tmp_path) -> None:
    shipped = load_default_model()
    out = tmp_path / "default.json"
    code, output = invoke("train-default", "--out", out)
    assert code == 0, output
    regenerated = ScorecardModel.load(out)
    assert regenerated.version == shipped.version
    assert out.read_text(encoding="utf-8") == DEFAULT_MODEL_PATH.read_text(encoding="utf-8")
    assert shipped.training.auc > 0.70 and shipped.training.n == 20_000
    assert {"multi_lender_count", "monthly_income"} <= set(shipped.feature_names)
