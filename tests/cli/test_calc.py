"""The calculator CLI: its stable JSON interface and one-line errors with exit status 2."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from xindai.cli import main

XINDAI = [sys.executable, "-c", "from xindai.cli import main; main()"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def schedule_json(capsys, *args: str) -> dict:
    code, out, err = run(capsys, "calc", "schedule", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_annuity_json_shape(capsys) -> None:
    data = schedule_json(
        capsys,
        "--principal",
        "10000",
        "--rate",
        "0.18",
        "--term",
        "12",
        "--unit",
        "month",
        "--method",
        "annuity",
        "--start",
        "2026-01-31",
    )
    assert data["method"] == "annuity"
    assert data["principal"] == "10000.00" and data["disbursed"] == "10000.00"
    first, last = data["installments"][0], data["installments"][-1]
    assert first == {
        "number": 1,
        "due_date": "2026-02-28",
        "principal": "766.80",
        "interest": "150.00",
        "fee": "0.00",
        "total": "916.80",
    }
    assert last["number"] == 12 and last["due_date"] == "2027-01-31"
    assert last["total"] == "916.81"
    assert data["total_interest"] == "1001.61"
    assert data["total_fee"] == "0.00"
    assert data["total_payment"] == "11001.61"
    assert data["apr"] == "0.180002"  # IRR of the fen-rounded flows
    assert data["apr_effective"] == "0.195620"
    assert sum(float(i["principal"]) for i in data["installments"]) == pytest.approx(10000)


def test_bullet_term_counts_units_to_maturity(capsys) -> None:
    data = schedule_json(
        capsys,
        "--principal",
        "1000",
        "--rate",
        "0.18",
        "--term",
        "14",
        "--unit",
        "day",
        "--method",
        "bullet",
        "--start",
        "2026-01-31",
    )
    assert [(i["due_date"], i["interest"]) for i in data["installments"]] == [
        ("2026-02-14", "7.00")
    ]
    assert data["apr"] == "0.180000"


@pytest.mark.parametrize(
    ("mode", "disbursed", "first_fee"),
    [
        ("deduct", "9500.00", "0.00"),
        ("separate", "10000.00", "0.00"),
        ("amortized", "10000.00", "41.67"),
    ],
)
def test_upfront_fee_modes(capsys, mode: str, disbursed: str, first_fee: str) -> None:
    data = schedule_json(
        capsys,
        "--principal",
        "10000",
        "--rate",
        "0.18",
        "--term",
        "12",
        "--method",
        "annuity",
        "--start",
        "2026-01-31",
        "--upfront-fee",
        "0.05",
        "--upfront-fee-mode",
        mode,
    )
    assert data["disbursed"] == disbursed
    assert data["upfront_fee"] == "500.00"
    assert data["installments"][0]["fee"] == first_fee
    assert float(data["apr"]) > 0.18


def test_periodic_fee_and_act365(capsys) -> None:
    data = schedule_json(
        capsys,
        "--principal",
        "700",
        "--rate",
        "0.365",
        "--term",
        "2",
        "--unit",
        "week",
        "--method",
        "equal_principal",
        "--start",
        "2026-01-31",
        "--day-count",
        "act365",
        "--periodic-fee",
        "0.001",
    )
    assert [(i["interest"], i["fee"]) for i in data["installments"]] == [
        ("4.90", "0.70"),
        ("2.45", "0.70"),
    ]
    assert data["total_fee"] == "1.40"


def test_readable_table_without_json(capsys) -> None:
    code, out, _ = run(
        capsys,
        "calc",
        "schedule",
        "--principal",
        "10000",
        "--rate",
        "0.18",
        "--term",
        "3",
        "--method",
        "flat",
        "--start",
        "2026-01-31",
    )
    assert code == 0
    assert "等本等息" in out and "3,333.33" in out and "APR" in out


def test_reloan_json(capsys) -> None:
    code, out, _ = run(capsys, "calc", "reloan", "--history", "0,0,5,17", "--json")
    assert code == 0
    assert json.loads(out) == {
        "eligible": True,
        "levels": [1, 1, 2, 2],
        "next_level": 1,
        "limit": "2500.00",
        "reason": None,
    }
    code, out, _ = run(capsys, "calc", "reloan", "--history", "0,14", "--json")
    refused = json.loads(out)
    assert refused["eligible"] is False and refused["next_level"] is None
    assert refused["limit"] == "0.00" and refused["reason"] == "RELOAN_OVERDUE_EXCEEDED"


def test_reloan_table(capsys) -> None:
    code, out, _ = run(capsys, "calc", "reloan", "--history", "0,0,1")
    assert code == 0 and "4500.00" in out


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (
            [
                "calc",
                "schedule",
                "--principal",
                "-5",
                "--rate",
                "0.18",
                "--term",
                "12",
                "--start",
                "2026-01-31",
            ],
            "-5",
        ),
        (
            [
                "calc",
                "schedule",
                "--principal",
                "0",
                "--rate",
                "0.18",
                "--term",
                "12",
                "--start",
                "2026-01-31",
            ],
            "--principal",
        ),
        (
            [
                "calc",
                "schedule",
                "--principal",
                "abc",
                "--rate",
                "0.18",
                "--term",
                "12",
                "--start",
                "2026-01-31",
            ],
            "abc",
        ),
        (
            [
                "calc",
                "schedule",
                "--principal",
                "100",
                "--rate",
                "0.18",
                "--term",
                "12",
                "--method",
                "balloon",
                "--start",
                "2026-01-31",
            ],
            "balloon",
        ),
        (
            [
                "calc",
                "schedule",
                "--principal",
                "100",
                "--rate",
                "0.18",
                "--term",
                "12",
                "--start",
                "2026-13-01",
            ],
            "2026-13-01",
        ),
        (
            [
                "calc",
                "schedule",
                "--principal",
                "100",
                "--rate",
                "1.8",
                "--term",
                "12",
                "--start",
                "2026-01-31",
            ],
            "1.8",
        ),
        (
            [
                "calc",
                "schedule",
                "--principal",
                "100",
                "--rate",
                "0.18",
                "--term",
                "twelve",
                "--start",
                "2026-01-31",
            ],
            "twelve",
        ),
        (
            [
                "calc",
                "schedule",
                "--principal",
                "100",
                "--rate",
                "0.18",
                "--term",
                "12",
                "--unit",
                "year",
                "--start",
                "2026-01-31",
            ],
            "year",
        ),
        (
            [
                "calc",
                "schedule",
                "--principal",
                "100",
                "--rate",
                "0.18",
                "--term",
                "12",
                "--start",
                "2026-01-31",
                "--upfront-fee-mode",
                "later",
            ],
            "later",
        ),
        (["calc", "reloan", "--history", "0,,5"], "0,,5"),
        (["calc", "reloan", "--history", "0,-3"], "-3"),
        (["calc", "reloan", "--history", "1,x"], "x"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_value(capsys, args, named) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and named in lines[0]


def test_real_process_bad_input_has_no_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            *XINDAI,
            "calc",
            "schedule",
            "--principal",
            "-5",
            "--rate",
            "0.18",
            "--term",
            "12",
            "--start",
            "2026-01-31",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "-5" in result.stderr
    result = subprocess.run(
        [*XINDAI, "calc", "reloan", "--history", "0,0,5,17", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout)["limit"] == "2500.00"


def test_products_commands(capsys, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "products", "list")
    assert code == 0 and "CASH14" in out
    from xindai.products.catalogue import demo_products

    good = tmp_path / "good.json"
    good.write_text(json.dumps(demo_products()[1].to_dict()))
    code, out, _ = run(capsys, "products", "check", str(good))
    assert code == 0 and out.startswith("OK INST12")
    over = demo_products()[1].to_dict() | {"annual_rate": "0.23", "upfront_fee_rate": "0.05"}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(over))
    code, _, err = run(capsys, "products", "check", str(bad))
    assert code == 2 and "exceeds its cap 24.00%" in err


def test_demo_runs(capsys, tmp_path) -> None:
    code, out, _ = run(
        capsys,
        "demo",
        "portfolio",
        "--loans",
        "12",
        "--weeks",
        "5",
        "--database",
        f"sqlite:///{tmp_path / 'demo.db'}",
        "--decisions",
        "40",
    )
    assert code == 0
    assert "综合年化成本" in out and "Portfolio by bucket" in out and "Balanced" in out
    assert "2500.00" in out  # the reloan ladder example
    assert "40 笔申请的决策" in out and "approve" in out and "risk explain" in out


def test_hints_name_xindai_as_this_terminal_runs_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from xindai.cli.render import xindai_command

    installed = Path(sys.prefix) / "bin" / "xindai"
    monkeypatch.setenv("PATH", str(tmp_path))  # not on PATH: the script's own path
    monkeypatch.chdir(Path(sys.prefix).parent)
    assert xindai_command() == str(Path(Path(sys.prefix).name) / "bin" / "xindai")
    monkeypatch.setenv("PATH", str(installed.parent))  # on PATH: the bare name
    assert xindai_command() == "xindai"
