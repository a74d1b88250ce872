"""`xindai risk strategy …` on a real database: versions, promotion, challenger, rollback,
and testing a version on features — every change recorded as an event."""

import json

import pytest
from sqlalchemy import select

from xindai import clock
from xindai.cli import main
from xindai.risk.default_strategy import SAMPLE_APPLICANT, default_strategy_graph
from xindai.store import migrate
from xindai.store.db import make_engine, session_factory
from xindai.store.models_origination import StrategyEvent

GOOD = SAMPLE_APPLICANT


@pytest.fixture
def database(tmp_path, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", "200")
    url = f"sqlite:///{tmp_path / 'risk.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_strategy_lifecycle(capsys, database, tmp_path) -> None:
    base = ("risk", "strategy")
    db = ("--database", database)
    code, out, _ = run(
        capsys,
        *base,
        "create",
        "--name",
        "origination",
        "--default",
        "--actor",
        "alice",
        "--notes",
        "initial",
        *db,
    )
    assert code == 0 and "origination@v1" in out
    code, _, err = run(
        capsys, *base, "create", "--name", "origination", "--default", "--actor", "alice", *db
    )
    assert code == 2 and "identical to v1" in err
    stricter = default_strategy_graph()
    stricter["nodes"][3]["content"]["rules"][0]["score_in_0"] = "< 660"
    graph = tmp_path / "v2.json"
    graph.write_text(json.dumps(stricter), encoding="utf-8")
    code, out, _ = run(
        capsys,
        *base,
        "create",
        "--name",
        "origination",
        "--file",
        str(graph),
        "--actor",
        "alice",
        "--notes",
        "stricter cut-off",
        *db,
    )
    assert "origination@v2" in out
    features = tmp_path / "features.json"
    features.write_text(json.dumps(GOOD), encoding="utf-8")
    code, _, err = run(
        capsys, *base, "test", "--name", "origination", "--features", str(features), *db
    )
    assert code == 2 and "no live version" in err
    run(
        capsys,
        *base,
        "promote",
        "--name",
        "origination",
        "--version",
        "1",
        "--actor",
        "bob",
        "--reason",
        "go live",
        *db,
    )
    code, out, _ = run(
        capsys, *base, "test", "--name", "origination", "--features", str(features), *db
    )
    assert code == 0 and "outcome approve" in out and "GRADE_B" in out
    code, out, _ = run(
        capsys,
        *base,
        "test",
        "--name",
        "origination",
        "--version",
        "2",
        "--features",
        str(features),
        *db,
    )
    assert "outcome reject" in out and "SC_LOW" in out
    run(
        capsys,
        *base,
        "challenger",
        "--name",
        "origination",
        "--version",
        "2",
        "--share",
        "0.2",
        "--actor",
        "bob",
        *db,
    )
    code, out, _ = run(capsys, *base, "list", "--name", "origination", *db)
    assert "live" in out and "challenger" in out and "stricter cut-off" in out
    run(
        capsys,
        *base,
        "promote",
        "--name",
        "origination",
        "--version",
        "2",
        "--actor",
        "bob",
        "--reason",
        "challenger won",
        *db,
    )
    code, out, _ = run(
        capsys,
        *base,
        "rollback",
        "--name",
        "origination",
        "--actor",
        "carol",
        "--reason",
        "approval rate collapsed",
        *db,
    )
    assert code == 0 and "back on v1" in out
    code, _, err = run(
        capsys,
        *base,
        "challenger",
        "--name",
        "origination",
        "--version",
        "2",
        "--share",
        "0.9",
        "--actor",
        "bob",
        *db,
    )
    assert code == 2 and "0.5" in err
    engine = make_engine(database)
    with session_factory(engine)() as session:
        actions = [
            (e.action, e.version, e.actor)
            for e in session.scalars(select(StrategyEvent).order_by(StrategyEvent.id))
        ]
    engine.dispose()
    assert actions == [
        ("create", 1, "alice"),
        ("create", 2, "alice"),
        ("promote", 1, "bob"),
        ("challenger", 2, "bob"),
        ("promote", 2, "bob"),
        ("rollback", 1, "carol"),
    ]


def test_explain_replay_and_backtest_from_the_command_line(capsys, tmp_path, monkeypatch) -> None:
    """Decisions made on a database, then the risk team's commands on it."""
    from datetime import datetime

    from xindai.bench.decide import build_population, stricter_graph
    from xindai.bootstrap import bootstrap
    from xindai.platform import Platform
    from xindai.settings import Settings, override_settings

    url = f"sqlite:///{tmp_path / 'decisions.db'}"
    migrate.upgrade(url)
    now = datetime(2026, 11, 28, 10)
    settings = Settings(database_url=url, data_dir=tmp_path)
    with override_settings(settings):
        sessions = session_factory(make_engine(url))
        platform = Platform.from_settings(settings, sessions=sessions, clock=lambda: now)
        bootstrap(sessions, cipher=platform.cipher, today=now.date())
        population = build_population(platform, 30, seed=9, now=now)
        monkeypatch.setenv("COLUMNS", "200")
        graph = tmp_path / "stricter.json"
        graph.write_text(json.dumps(stricter_graph()), encoding="utf-8")
        db = ("--database", url)
        code, out, _ = run(capsys, "risk", "decide-pending", "--limit", "5", "--json", *db)
        assert code == 0 and json.loads(out)["decided"] == 5
        code, out, _ = run(capsys, "risk", "decide-pending", "--group", "4", *db)
        assert code == 0 and "Decided 25" in out
        code, out, _ = run(capsys, "risk", "decide-pending", "--json", *db)
        assert code == 0 and json.loads(out)["decided"] == 0  # nothing left waiting
        code, out, _ = run(capsys, "risk", "decide-pending", *db)
        assert code == 0 and "Nothing is waiting" in out
        first = str(population.applications[0])
        code, out, _ = run(capsys, "risk", "explain", first, *db)
        assert code == 0 and "origination@v1" in out and "命中规则" in out
        code, out, _ = run(capsys, "risk", "explain", first, "--json", *db)
        assert json.loads(out)["decisions"][0]["path"] == "engine"
        code, out, _ = run(capsys, "risk", "replay", first, *db)
        assert code == 0 and "identical" in out
        code, _, err = run(capsys, "risk", "explain", "999999", *db)
        assert code == 2 and "999999" in err
        code, out, _ = run(
            capsys, "risk", "strategy", "create", "--name", "origination", "--file", str(graph),
            "--actor", "risk1", *db,
        )  # fmt: skip
        assert code == 0
        code, out, _ = run(
            capsys, "risk", "backtest", "--strategy", "2", "--from", "2026-11-28",
            "--to", clock.today().isoformat(), "--json", *db,  # decided on the lender's clock
        )  # fmt: skip
        report = json.loads(out)
        assert code == 0 and report["applications"] == 30
        assert report["candidate"]["reject_rate"] >= report["live"]["reject_rate"]
        code, out, _ = run(
            capsys, "risk", "backtest", "--strategy", "2", "--from", "2026-11-28",
            "--to", "2026-11-01", *db,
        )  # fmt: skip
        assert code == 2
