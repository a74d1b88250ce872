"""`xindai loans show`, `ledger trial-balance`, `ledger reconcile` and `cob run` on a real
SQLite database."""

from datetime import date

import pytest

from xindai.cli import main
from xindai.products.catalogue import demo_products
from xindai.servicing.service import LoanService
from xindai.store import migrate
from xindai.store import repository as repo
from xindai.store.db import make_engine, session_factory

START = date(2026, 1, 15)


@pytest.fixture
def database(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        repo.save_product(session, demo_products()[1], created_by="ops", approved_by="lead")
        repo.set_business_date(session, START)
    service = LoanService(sessions)
    loan_id = service.book_loan(
        demo_products()[1], borrower_id=1, amount_fen=1_200_000, term=3, start=START
    )
    service.disburse(loan_id, value_date=START, external_ref="PO-1", idempotency_key="po")
    service.repay(loan_id, 12_345, external_ref="RP-1", idempotency_key="rp")
    engine.dispose()
    return url


@pytest.fixture(autouse=True)
def wide_console(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps at 80 columns when not on a terminal


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_loans_show(capsys, database) -> None:
    code, out, _ = run(capsys, "loans", "show", "1", "--database", database)
    assert code == 0
    assert "INST12" in out and "repayment" in out and "123.45" in out
    code, _, err = run(capsys, "loans", "show", "42", "--database", database)
    assert code == 2 and "loan 42 does not exist" in err
    code, _, err = run(capsys, "loans", "show", "x1", "--database", database)
    assert code == 2 and "x1" in err


def test_trial_balance_and_cob(capsys, database) -> None:
    code, out, _ = run(capsys, "ledger", "trial-balance", "--database", database)
    assert code == 0 and "Balanced" in out and "12,000.00" in out
    code, out, _ = run(capsys, "cob", "run", "--until", "2026-02-20", "--database", database)
    assert code == 0
    code, out, _ = run(
        capsys, "ledger", "trial-balance", "--date", "2026-02-20", "--database", database
    )
    assert code == 0 and "4101" in out  # interest recognised when the installment fell due
    code, _, err = run(
        capsys, "ledger", "trial-balance", "--date", "20260220", "--database", database
    )
    assert code == 2 and "20260220" in err


def test_reconcile_command(capsys, database, tmp_path) -> None:
    statement = tmp_path / "s.csv"
    statement.write_text(
        "date,channel,reference,type,amount\n"
        "2026-01-15,default,PO-1,payout,12000.00\n"
        "2026-01-15,default,RP-1,collection,123.45\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "ledger", "reconcile", str(statement), "--database", database)
    assert code == 0 and "No breaks" in out
    statement.write_text(
        "date,channel,reference,type,amount\n2026-01-15,default,PO-1,payout,12000.00\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "ledger", "reconcile", str(statement), "--database", database)
    assert code == 1 and "missing_in_statement" in out
    code, _, err = run(
        capsys, "ledger", "reconcile", str(tmp_path / "none.csv"), "--database", database
    )
    assert code == 2 and "none.csv" in err
