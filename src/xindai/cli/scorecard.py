"""`xindai scorecard …`: fit, score, report on and retrain the scorecard (评分卡) from CSV files.

pandas and the scorecard modules are imported inside the commands, so that mounting this app
does not slow down the start of every other `xindai` command.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from xindai.cli import parse
from xindai.cli.render import progress_bar
from xindai.errors import InvalidValue

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped]

    from xindai.risk.scorecard.model import ScorecardModel
    from xindai.risk.scorecard.report import ScorecardReport

app = typer.Typer(
    help="Scorecards: fit, score, monitor / 评分卡：训练、评分、监控",
    no_args_is_help=True,
)


def read_csv(path: Path, option: str) -> pd.DataFrame:
    """A CSV file as a frame; InvalidValue when it is absent, unreadable or empty."""
    import pandas as pd

    if not path.is_file():
        raise InvalidValue(option, str(path), "file not found", "文件不存在")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        reason = " ".join(str(exc).split())
        raise InvalidValue(
            option, str(path), f"is not a readable CSV: {reason}", "无法读取 CSV"
        ) from None
    if frame.empty:
        raise InvalidValue(option, str(path), "has no data rows", "没有数据行")
    return frame


def _number(text: str, option: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise InvalidValue(option, text, "must be a number", "必须是数字") from None
    if not math.isfinite(value):
        raise InvalidValue(option, text, "must be a finite number", "必须是有限数字")
    return value


def _positive(text: str, option: str) -> float:
    value = _number(text, option)
    if not value > 0:
        raise InvalidValue(option, text, "must be a positive number", "必须为正数")
    return value


def _column_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [c.strip() for c in text.split(",") if c.strip()]


def _output_path(path: Path, option: str) -> Path:
    if path.is_dir():
        raise InvalidValue(option, str(path), "is a folder, not a file", "是目录而不是文件")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidValue(
            option, str(path), f"cannot create folder: {exc}", "无法创建目录"
        ) from None
    return path


def _load_model(path: Path) -> ScorecardModel:
    from xindai.risk.scorecard.model import ScorecardModel

    if not path.is_file():
        raise InvalidValue("--model", str(path), "file not found", "文件不存在")
    return ScorecardModel.load(path)


def _fit_progress(console: Console) -> Progress:
    # no control codes in logs, pipes and tests
    return progress_bar(console, label="[bold]{task.description}", disable=not console.is_terminal)


def _fmt(value: float | None, digits: int = 4) -> str:
    return "—" if value is None or value != value else f"{value:.{digits}f}"


def _summary_table(model: ScorecardModel, title: str) -> Table:
    training = model.training
    table = Table(title=title)
    table.add_column("项目 Item")
    table.add_column("值 Value", justify="right")
    rows = [
        ("版本 Version", model.version),
        ("特征数 Features", str(len(model.features))),
        ("训练样本 Training rows", f"{training.n}"),
        ("坏样本率 Bad rate", _fmt(training.bad_rate)),
        ("KS", _fmt(training.ks)),
        ("AUC", _fmt(training.auc)),
        ("Gini", _fmt(training.gini)),
        (
            "刻度 Scaling",
            f"{model.scaling.base_score:g} @ {model.scaling.base_odds:g}:1, "
            f"PDO {model.scaling.pdo:g}",
        ),
        (
            "等级 Grades",
            " ".join(
                f"{label}≥{cut:g}"
                for label, cut in zip(model.grades.labels, model.grades.cutoffs, strict=False)
            )
            + f" {model.grades.labels[-1]}",
        ),
    ]
    for item, value in rows:
        table.add_row(item, value)
    return table


def _selection_table(model: ScorecardModel) -> Table:
    table = Table(title="特征筛选 Feature selection")
    table.add_column("特征 Feature")
    table.add_column("类型 Kind")
    table.add_column("IV", justify="right")
    table.add_column("入模 Selected")
    table.add_column("原因 Reason")
    for entry in sorted(model.selection, key=lambda s: (not s.selected, -s.iv)):
        table.add_row(
            entry.feature,
            entry.kind,
            f"{entry.iv:.4f}",
            "✓" if entry.selected else "✗",
            entry.reason,
        )
    return table


@app.command("fit")
def fit(
    data: Annotated[Path, typer.Option(help="Training CSV / 训练数据")],
    target: Annotated[str, typer.Option(help="Outcome column / 目标列")],
    bad_value: Annotated[str, typer.Option("--bad-value", help="Value meaning bad / 坏样本取值")],
    out: Annotated[Path, typer.Option(help="Model JSON to write / 输出模型文件")],
    base_score: Annotated[str, typer.Option("--base-score", help="Score at base odds")] = "600",
    base_odds: Annotated[str, typer.Option("--base-odds", help="Good:bad odds at base")] = "50",
    pdo: Annotated[str, typer.Option(help="Points to double the odds / 翻倍分")] = "20",
    features: Annotated[
        str | None, typer.Option(help="Candidate columns, comma-separated (default: all)")
    ] = None,
    categorical: Annotated[
        str | None, typer.Option(help="Numeric-looking columns to treat as categories")
    ] = None,
    min_iv: Annotated[str, typer.Option("--min-iv", help="Minimum IV to keep a feature")] = "0.02",
    name: Annotated[str, typer.Option(help="Model name / 模型名称")] = "scorecard",
    created_at: Annotated[
        str | None, typer.Option("--created-at", help="Timestamp to record (default: now, UTC)")
    ] = None,
) -> None:
    """Fit a WOE logistic-regression scorecard on a CSV and write the model JSON."""
    from xindai.risk.scorecard.fit import fit_scorecard, target_is_bad
    from xindai.risk.scorecard.model import Scaling

    frame = read_csv(data, "--data")
    if target not in frame.columns:
        raise InvalidValue("--target", target, "is not a column of the data", "数据中没有该列")
    scaling = Scaling(
        _number(base_score, "--base-score"),
        _positive(base_odds, "--base-odds"),
        _positive(pdo, "--pdo"),
    )
    target_is_bad(frame[target], bad_value, field="--target", bad_field="--bad-value")
    out_path = _output_path(out, "--out")
    stamp = created_at or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    console = Console(stderr=True)
    with _fit_progress(console) as progress:
        task = progress.add_task("读取 reading", total=None)

        def on_progress(step: str, done: int, total: int) -> None:
            progress.update(task, description=step, completed=done, total=total)

        model = fit_scorecard(
            frame,
            target,
            bad_value,
            features=_column_list(features),
            categorical=_column_list(categorical) or (),
            base_score=scaling.base_score,
            base_odds=scaling.base_odds,
            pdo=scaling.pdo,
            min_iv=_number(min_iv, "--min-iv"),
            created_at=stamp,
            name=name,
            progress=on_progress,
        )
    model.save(out_path)
    stdout = Console()
    stdout.print(_summary_table(model, f"评分卡 Scorecard · {out_path}"))
    stdout.print(_selection_table(model))


@app.command("score")
def score(
    model: Annotated[Path, typer.Option(help="Model JSON / 模型文件")],
    data: Annotated[Path, typer.Option(help="Applications CSV / 待评分数据")],
    out: Annotated[Path, typer.Option(help="Scores CSV to write / 输出评分文件")],
    keep: Annotated[
        str | None, typer.Option(help="Input columns to copy in front, e.g. application_id")
    ] = None,
) -> None:
    """Write score, pd and grade for every input row, in input order."""
    import pandas as pd

    scorecard = _load_model(model)
    frame = read_csv(data, "--data")
    kept = _column_list(keep) or []
    absent = [c for c in kept if c not in frame.columns]
    if absent:
        raise InvalidValue("--keep", ", ".join(absent), "are not columns of the data", "列不存在")
    scores = scorecard.score_frame(frame)
    if scorecard.scaling.points_decimals == 0:
        scores["score"] = scores["score"].round().astype("int64")
    output = pd.concat([frame[kept].reset_index(drop=True), scores.reset_index(drop=True)], axis=1)
    output.to_csv(_output_path(out, "--out"), index=False)
    counts = scores["grade"].value_counts()
    grades = " ".join(f"{g}:{int(counts.get(g, 0))}" for g in scorecard.grades.labels)
    Console().print(
        f"已评分 Scored {len(scores)} 行 rows · 模型 model {scorecard.version} · "
        f"平均分 mean score {scores['score'].mean():.1f} · {grades} → {out}"
    )


def _report_tables(model: ScorecardModel, result: ScorecardReport) -> list[Table]:
    summary = Table(title=f"评分卡监控 Scorecard report · {result.model_version}")
    summary.add_column("指标 Metric")
    summary.add_column("本样本 This sample", justify="right")
    summary.add_column("训练 Training", justify="right")
    training = model.training
    summary.add_row("样本数 Rows", str(result.n), str(training.n))
    summary.add_row("有结果 With outcome", str(result.n_with_outcome), str(training.n))
    summary.add_row("坏样本率 Bad rate", _fmt(result.bad_rate), _fmt(training.bad_rate))
    summary.add_row("KS", _fmt(result.ks), _fmt(training.ks))
    summary.add_row("AUC", _fmt(result.auc), _fmt(training.auc))
    summary.add_row("Gini", _fmt(result.gini), _fmt(training.gini))
    reference = "基准样本 baseline" if result.psi_reference == "baseline" else "训练 training"
    summary.add_row(f"PSI（对比 vs {reference}）", _fmt(result.psi), "—")

    psi = Table(title=f"分数稳定性 Score PSI vs {reference}")
    for header in ("分数段 Score bin", "基准占比 Expected", "实际占比 Actual", "PSI"):
        psi.add_column(header, justify="right")
    for row in result.psi_table.itertuples(index=False):
        psi.add_row(row.bin, f"{row.expected_share:.2%}", f"{row.actual_share:.2%}", _fmt(row.psi))
    psi.add_row("合计 Total", "100%", "100%", _fmt(result.psi))

    tables = [summary, psi]
    for name, frame in result.binning_tables.items():
        iv_total = frame["iv"].sum() if frame["iv"].notna().any() else None
        table = Table(
            title=f"分箱 Binning · {name} · IV {_fmt(iv_total)} · "
            f"CSI {_fmt(result.feature_csi[name])}"
        )
        table.add_column("分箱\nBin", min_width=16, overflow="fold")
        for header in (
            "样本数\nCount",
            "占比\nShare",
            "坏账率\nBad rate",
            "WOE",
            "IV",
            "分数\nPoints",
        ):
            table.add_column(header, justify="right", no_wrap=True)
        for row in frame.itertuples(index=False):
            table.add_row(
                row.bin,
                str(row.count),
                f"{row.share:.2%}",
                "—" if row.bad_rate != row.bad_rate else f"{row.bad_rate:.2%}",
                _fmt(row.woe),
                _fmt(row.iv),
                f"{row.points:g}",
            )
        tables.append(table)
    return tables


@app.command("report")
def report(
    model: Annotated[Path, typer.Option(help="Model JSON / 模型文件")],
    data: Annotated[Path, typer.Option(help="Sample CSV (outcome optional) / 监控样本")],
    baseline: Annotated[
        Path | None, typer.Option(help="Baseline CSV for PSI (default: training distribution)")
    ] = None,
    charts: Annotated[
        Path | None, typer.Option(help="Folder for PNG charts (default: next to the model)")
    ] = None,
    bins: Annotated[str, typer.Option(help="Score bins for PSI with a baseline")] = "10",
) -> None:
    """Print KS, AUC, Gini, PSI and binning tables; write score, ROC and KS charts."""
    from xindai.risk.scorecard.report import scorecard_report

    scorecard = _load_model(model)
    frame = read_csv(data, "--data")
    reference = read_csv(baseline, "--baseline") if baseline is not None else None
    folder = charts if charts is not None else model.parent / f"{model.stem}_charts"
    result = scorecard_report(
        scorecard,
        frame,
        reference,
        charts_dir=folder,
        n_bins=parse.positive_int(bins, "--bins"),
    )
    console = Console()
    for table in _report_tables(scorecard, result):
        console.print(table)
    for key, path in result.charts.items():
        console.print(f"图表 Chart {key}: {path}")


@app.command("train-default")
def train_default(
    out: Annotated[
        Path | None, typer.Option(help="Where to write (default: the shipped default_model.json)")
    ] = None,
) -> None:
    """Regenerate the default strategy's scorecard reproducibly (same data → same version)."""
    from xindai.risk.scorecard.default_model import DEFAULT_MODEL_PATH, train_default_model

    out_path = _output_path(out if out is not None else DEFAULT_MODEL_PATH, "--out")
    console = Console(stderr=True)
    with _fit_progress(console) as progress:
        task = progress.add_task("生成样本 generating history", total=None)

        def on_progress(step: str, done: int, total: int) -> None:
            progress.update(task, description=step, completed=done, total=total)

        model = train_default_model(progress=on_progress)
    model.save(out_path)
    stdout = Console()
    stdout.print(_summary_table(model, f"默认评分卡 Default scorecard · {out_path}"))
    stdout.print(_selection_table(model))
