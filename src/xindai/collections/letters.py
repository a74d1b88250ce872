"""Letters (催收函 `demand`, 律师函 `lawyer`): the loan's facts and the wording of each,
rendered to PDF with the contract's renderer and kept with their SHA-256."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from sqlalchemy.orm import Session

from xindai.errors import InvalidValue
from xindai.money import format_yuan
from xindai.origination.contract_pdf import render_letter_pdf
from xindai.store.models import Borrower, Loan
from xindai.store.models_collections import CollectionCase, Letter

LETTERS = {"demand": "催收函", "lawyer": "律师函"}
LENDER = "信贷（示例）消费金融有限公司"


def render_case_letter(
    session: Session, case: CollectionCase, kind: str, today: date, *, by: str, at: datetime
) -> Letter:
    """The letter `kind` for `case` as of `today`, rendered and added to `session`."""
    if kind not in LETTERS:
        raise InvalidValue(
            "kind", kind, "demand or lawyer", "应为 demand（催收函）或 lawyer（律师函）"
        )
    loan = session.get(Loan, case.loan_id)
    borrower = session.get(Borrower, case.borrower_id)
    assert loan is not None
    owed = (
        loan.principal_outstanding_fen
        + loan.interest_outstanding_fen
        + loan.fee_outstanding_fen
        + loan.penalty_outstanding_fen
    )
    reference = f"{kind.upper()}-{case.id}-{today:%Y%m%d}"
    pdf = render_letter_pdf(
        title=LETTERS[kind],
        subtitle=f"{reference} · {today.isoformat()}",
        facts=(
            ("借款人", borrower.display_name if borrower else "—"),
            ("借据号", str(loan.id)),
            ("逾期天数", str(loan.dpd)),
            ("逾期金额（元）", format_yuan(loan.overdue_fen)),
            ("剩余应还（元）", format_yuan(owed)),
        ),
        paragraphs=_letter_text(kind, loan, today),
        signature=LENDER if kind == "demand" else f"受{LENDER}委托的律师事务所",
        reference=reference,
    )
    letter = Letter(
        case_id=case.id,
        kind=kind,
        created_at=at,
        created_by=by,
        sha256=hashlib.sha256(pdf).hexdigest(),
        pdf=pdf,
    )
    session.add(letter)
    session.flush()
    return letter


def _letter_text(kind: str, loan: Loan, today: date) -> tuple[str, ...]:
    due = loan.oldest_unpaid_due.isoformat() if loan.oldest_unpaid_due else "—"
    if kind == "demand":
        return (
            f"您于本公司申请的借款（借据号 {loan.id}）自 {due} 起未按约定还款，"
            f"截至 {today.isoformat()} 已逾期 {loan.dpd} 天。",
            "请您在收到本函之日起七日内通过 App 或客服热线还清逾期款项。如有困难，"
            "可联系我们协商展期、延期还款等方案。",
            "逾期将按合同约定计收罚息，并按规定报送征信。本函不收取任何额外费用。",
        )
    return (
        f"受{LENDER}委托，就您借款（借据号 {loan.id}）逾期 {loan.dpd} 天一事致函。",
        "依据您签署的借款合同，请您于本函送达之日起十日内清偿逾期款项；"
        "逾期不履行的，委托人保留依法通过诉讼等途径主张权利的权利。",
        "如对债务有异议，请于上述期限内书面提出并附相关证明。",
    )


__all__ = ["LETTERS", "render_case_letter"]
