"""What a loan contract says, built from the core objects, and its wording as rows of text
that the HTML and the PDF renderings share (so that both always say the same thing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from xindai.errors import InvalidValue
from xindai.money import DayCount, Fen, format_percent, format_yuan
from xindai.origination.agreements import Agreement, AgreementCode, agreement
from xindai.origination.cards import BankCard
from xindai.origination.masking import mask_id_number, mask_name, mask_phone
from xindai.origination.purposes import LoanPurpose
from xindai.products.cost import AnnualisedCost
from xindai.products.model import (
    EarlySettlement,
    EarlySettlementInterest,
    PenaltyBase,
    PenaltyTerms,
    Product,
)
from xindai.schedules.model import Installment, Method, PeriodUnit, Schedule, UpfrontFeeMode
from xindai.servicing.allocation import Component


@dataclass(frozen=True, slots=True)
class ContractData:
    """Everything printed on a loan contract. Amounts in fen, rates as Decimal fractions;
    the borrower's name, ID and phone are already masked."""

    contract_no: str
    agreement_version: int
    signing_date: date
    lender_name: str
    borrower_name_masked: str
    borrower_id_masked: str
    product_code: str
    product_name: str
    product_version: int
    method: Method
    term: int
    period_unit: PeriodUnit
    start_date: date
    maturity_date: date
    principal_fen: Fen
    disbursed_fen: Fen
    upfront_fee_fen: Fen
    upfront_fee_mode: UpfrontFeeMode
    annual_rate: Decimal
    day_count: DayCount
    apr_nominal: Decimal
    apr_effective: Decimal
    total_interest_fen: Fen
    total_fees_fen: Fen  # every fee: periodic, amortised and the upfront fee
    total_repayment_fen: Fen  # the sum of the installments
    installments: tuple[Installment, ...]
    grace_days: int
    penalty: PenaltyTerms
    early_settlement: EarlySettlement
    allocation_order: tuple[Component, ...]
    purpose: LoanPurpose | None = None
    payout_account: str | None = None  # bank and masked card number
    borrower_phone_masked: str | None = None

    @property
    def total_cost_fen(self) -> Fen:
        """Interest and every fee: what the borrower pays beyond the money received."""
        return self.total_interest_fen + self.total_fees_fen

    @property
    def terms(self) -> Agreement:
        """The general terms (借款合同 at this contract's agreement version)."""
        return agreement(AgreementCode.LOAN_CONTRACT, self.agreement_version)


def contract_data_from(
    schedule: Schedule,
    product: Product,
    cost: AnnualisedCost,
    *,
    contract_no: str,
    lender_name: str,
    borrower_name: str,
    borrower_id_number: str,
    signing_date: date,
    agreement_version: int = 1,
    purpose: LoanPurpose | None = None,
    payout_card: BankCard | None = None,
    borrower_phone: str | None = None,
) -> ContractData:
    """The contract of `schedule` under `product` with its annualised cost `cost`
    (from `annualised_cost(schedule)`). Name, ID number and phone are masked here."""
    terms = schedule.terms
    if terms.method is not product.method or terms.unit is not product.period_unit:
        raise InvalidValue(
            "schedule",
            f"{terms.method.value}/{terms.unit.value}",
            f"does not follow product {product.code} ({product.method.value}/"
            f"{product.period_unit.value})",
            f"还款计划与产品 {product.code} 的还款方式或期限单位不一致",
        )
    if not contract_no.strip() or not lender_name.strip():
        raise InvalidValue(
            "contract", contract_no, "needs a contract number and a lender", "缺少合同编号或出借人"
        )
    agreement(AgreementCode.LOAN_CONTRACT, agreement_version)  # the version must exist
    upfront_outside_installments = (
        schedule.upfront_fee_fen if terms.upfront_fee_mode is not UpfrontFeeMode.AMORTIZED else 0
    )
    return ContractData(
        contract_no=contract_no.strip(),
        agreement_version=agreement_version,
        signing_date=signing_date,
        lender_name=lender_name.strip(),
        borrower_name_masked=mask_name(borrower_name),
        borrower_id_masked=mask_id_number(borrower_id_number.strip().upper()),
        product_code=product.code,
        product_name=product.name,
        product_version=product.version,
        method=terms.method,
        term=terms.term,
        period_unit=terms.unit,
        start_date=terms.start_date,
        maturity_date=schedule.installments[-1].due_date,
        principal_fen=terms.principal_fen,
        disbursed_fen=schedule.disbursed_fen,
        upfront_fee_fen=schedule.upfront_fee_fen,
        upfront_fee_mode=terms.upfront_fee_mode,
        annual_rate=terms.annual_rate,
        day_count=terms.day_count,
        apr_nominal=cost.nominal,
        apr_effective=cost.effective,
        total_interest_fen=schedule.total_interest_fen,
        total_fees_fen=schedule.total_fee_fen + upfront_outside_installments,
        total_repayment_fen=schedule.total_payment_fen,
        installments=schedule.installments,
        grace_days=product.grace_days,
        penalty=product.penalty,
        early_settlement=product.early_settlement,
        allocation_order=tuple(product.allocation_order),
        purpose=purpose,
        payout_account=(
            f"{payout_card.bank.short_name_zh} {payout_card.masked}" if payout_card else None
        ),
        borrower_phone_masked=mask_phone(borrower_phone) if borrower_phone else None,
    )


# --- the wording, shared by the HTML and PDF renderings -------------------------------------

_UNIT_ZH = {PeriodUnit.DAY: "天", PeriodUnit.WEEK: "周", PeriodUnit.MONTH: "个月"}
_CADENCE_ZH = {
    PeriodUnit.DAY: "按日还款",
    PeriodUnit.WEEK: "按周还款",
    PeriodUnit.MONTH: "按月还款",
}
_UPFRONT_MODE_ZH = {
    UpfrontFeeMode.DEDUCT: "从放款金额中扣除（砍头息）",
    UpfrontFeeMode.SEPARATE: "放款前另行支付",
    UpfrontFeeMode.AMORTIZED: "分摊至各期服务费",
}
_COMPONENT_ZH = {
    Component.PENALTY: "罚息",
    Component.FEE: "费用",
    Component.INTEREST: "利息",
    Component.PRINCIPAL: "本金",
}

SCHEDULE_HEADER: tuple[str, ...] = (
    "期数 No.",
    "还款日 Due date",
    "本金 Principal",
    "利息 Interest",
    "费用 Fee",
    "应还 Total",
)


def yuan(fen: Fen) -> str:
    """1234567 → "12,345.67 元"."""
    return f"{format_yuan(fen, thousands=True)} 元"


def term_label(data: ContractData) -> str:
    if data.method is Method.BULLET:
        return f"{data.term} {_UNIT_ZH[data.period_unit]}（到期一次性还本付息）"
    return f"{data.term} 期（{_CADENCE_ZH[data.period_unit]}）"


def parties(data: ContractData) -> tuple[tuple[str, str], ...]:
    rows = [
        ("出借人 Lender", data.lender_name),
        ("借款人 Borrower", data.borrower_name_masked),
        ("身份证号 ID number", data.borrower_id_masked),
    ]
    if data.borrower_phone_masked:
        rows.append(("手机号 Mobile", data.borrower_phone_masked))
    return tuple(rows)


def key_terms(data: ContractData) -> tuple[tuple[str, str], ...]:
    """借款要素: (label, value) rows in contract order."""
    basis = data.day_count.days_in_year
    rows = [
        ("合同编号 Contract No.", data.contract_no),
        ("产品 Product", f"{data.product_name}（{data.product_code} v{data.product_version}）"),
        ("借款本金 Principal", yuan(data.principal_fen)),
        ("实际到账金额 Amount disbursed", yuan(data.disbursed_fen)),
        ("借款期限 Term", term_label(data)),
        ("起息日 Start date", data.start_date.isoformat()),
        ("到期日 Maturity", data.maturity_date.isoformat()),
        ("还款方式 Method", f"{data.method.label_zh}（{data.method.value}）"),
        (
            "年利率 Nominal annual rate",
            f"{format_percent(data.annual_rate)}（单利；日利率 = 年利率 ÷ {basis}）",
        ),
    ]
    if data.upfront_fee_fen:
        rows.append(
            (
                "头息 Upfront fee",
                f"{yuan(data.upfront_fee_fen)}，{_UPFRONT_MODE_ZH[data.upfront_fee_mode]}",
            )
        )
    rows += [
        ("利息总额 Total interest", yuan(data.total_interest_fen)),
        ("费用总额 Total fees", yuan(data.total_fees_fen)),
        ("应还总额 Total repayment", yuan(data.total_repayment_fen)),
        ("综合年化成本 APR (IRR)", apr_label(data)),
    ]
    if data.purpose is not None:
        rows.append(("借款用途 Purpose", f"{data.purpose.label_zh}（{data.purpose.value}）"))
    if data.payout_account:
        rows.append(("收款及还款账户 Account", data.payout_account))
    rows += [
        ("逾期与罚息 Overdue terms", penalty_text(data)),
        ("提前结清 Early settlement", early_settlement_text(data)),
        (
            "还款清偿顺序 Allocation order",
            " → ".join(_COMPONENT_ZH[c] for c in data.allocation_order) + "，先到期的期次优先",
        ),
    ]
    return tuple(rows)


def apr_label(data: ContractData) -> str:
    effective = format_percent(data.apr_effective)
    return f"{format_percent(data.apr_nominal)}（按复利计算的实际年化 {effective}）"


def cost_disclosure(data: ContractData) -> tuple[str, str]:
    """The prominent annualised-cost statement, in Chinese and in English."""
    zh = (
        f"本笔借款的综合年化成本为 {format_percent(data.apr_nominal)}（按内部收益率 IRR 法计算，"
        f"已包含全部利息和费用；按复利计算的实际年化为 {format_percent(data.apr_effective)}）。"
        f"借款本金 {yuan(data.principal_fen)}，实际到账 {yuan(data.disbursed_fen)}，"
        f"利息 {yuan(data.total_interest_fen)}，费用 {yuan(data.total_fees_fen)}，"
        f"借款总成本 {yuan(data.total_cost_fen)}。"
    )
    en = (
        f"Comprehensive annualised cost (APR, IRR method, all interest and fees included): "
        f"{format_percent(data.apr_nominal)}; effective annual rate "
        f"{format_percent(data.apr_effective)}. Total cost of the loan: "
        f"{format_yuan(data.total_cost_fen, thousands=True)} yuan."
    )
    return zh, en


def penalty_text(data: ContractData) -> str:
    penalty = data.penalty
    base = "逾期本金" if penalty.base is PenaltyBase.OVERDUE_PRINCIPAL else "逾期应还总额"
    parts = [
        f"宽限期 {data.grace_days} 天" if data.grace_days else "无宽限期",
        f"宽限期届满次日起按{base} × 日利率 {format_percent(penalty.daily_rate, 4)} 计收罚息",
    ]
    if penalty.overdue_fee_fen:
        parts.append(f"逾期费 {yuan(penalty.overdue_fee_fen)}（每期一次性）")
    if penalty.cap_rate_of_principal is not None:
        parts.append(f"罚息总额不超过借款本金的 {format_percent(penalty.cap_rate_of_principal)}")
    return "；".join(parts)


def early_settlement_text(data: ContractData) -> str:
    early = data.early_settlement
    if not early.allowed:
        return "不支持提前结清"
    interest = (
        "利息计至结清日"
        if early.interest is EarlySettlementInterest.TO_DATE
        else "收取结清当期全部利息"
    )
    fee = (
        f"手续费为剩余本金的 {format_percent(early.fee_rate)}" if early.fee_rate else "不收取手续费"
    )
    return f"可随时申请提前结清；{interest}；{fee}；结清后不再收取以后各期的利息和费用"


def schedule_rows(data: ContractData) -> tuple[tuple[str, ...], ...]:
    """One row per installment, in the order of `SCHEDULE_HEADER`."""
    return tuple(
        (
            str(i.number),
            i.due_date.isoformat(),
            format_yuan(i.principal_fen, thousands=True),
            format_yuan(i.interest_fen, thousands=True),
            format_yuan(i.fee_fen, thousands=True),
            format_yuan(i.total_fen, thousands=True),
        )
        for i in data.installments
    )


def schedule_totals(data: ContractData) -> tuple[str, ...]:
    installments = data.installments
    return (
        "合计 Total",
        "",
        format_yuan(sum(i.principal_fen for i in installments), thousands=True),
        format_yuan(sum(i.interest_fen for i in installments), thousands=True),
        format_yuan(sum(i.fee_fen for i in installments), thousands=True),
        format_yuan(sum(i.total_fen for i in installments), thousands=True),
    )


def signatures(data: ContractData) -> tuple[tuple[str, str], ...]:
    return (
        ("出借人（电子签章）Lender", data.lender_name),
        ("借款人（电子签名）Borrower", data.borrower_name_masked),
        ("签署日期 Signed on", data.signing_date.isoformat()),
        ("合同条款版本 Terms version", f"借款合同 v{data.agreement_version}"),
    )
