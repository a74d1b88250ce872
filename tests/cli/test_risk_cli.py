"""`xindai risk strategy …` on a real database: versions, promotion, challenger, rollback,
and testing a version on features — every change recorded as an event."""

import json

import pytest
from sqlalchemy import select

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
