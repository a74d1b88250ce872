"""The default agreement texts as versioned data: 用户协议, 个人信息授权书 and the general terms of
the 借款合同, in zh-CN (the binding text) with an English summary.

An agreement is identified by (code, version); a borrower's acceptance stores both, and a
contract names the version of its terms. A new wording is a new version, never an edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from xindai.errors import InvalidValue


class AgreementCode(StrEnum):
    USER_AGREEMENT = "user_agreement"  # 用户协议
    DATA_AUTHORISATION = "data_authorisation"  # 个人信息授权书
    LOAN_CONTRACT = "loan_contract"  # 借款合同 (general terms)


#: What a borrower accepts at registration (journey step 2).
REGISTRATION_AGREEMENTS: tuple[AgreementCode, ...] = (
    AgreementCode.USER_AGREEMENT,
    AgreementCode.DATA_AUTHORISATION,
)


class AgreementUnknown(InvalidValue):
    code = "AGREEMENT_UNKNOWN"


@dataclass(frozen=True, slots=True)
class Clause:
    heading_zh: str
    paragraphs_zh: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Agreement:
    code: AgreementCode
    version: int
    title_zh: str
    title_en: str
    effective_from: date
    preamble_zh: str
    clauses: tuple[Clause, ...]
    summary_en: str

    @property
    def title(self) -> str:
        return f"{self.title_zh} {self.title_en}"

    def numbered_clauses(self) -> tuple[tuple[str, Clause], ...]:
        """("第一条", clause), ("第二条", clause) …"""
        return tuple((f"第{_zh_numeral(i)}条", c) for i, c in enumerate(self.clauses, 1))

    @property
    def body_zh(self) -> str:
        """The whole Chinese text as plain text (what the store keeps and the app shows)."""
        lines = [self.title_zh, f"版本 v{self.version}，自 {self.effective_from} 起生效", ""]
        lines += [self.preamble_zh, ""]
        for number, clause in self.numbered_clauses():
            lines.append(f"{number} {clause.heading_zh}")
            lines += list(clause.paragraphs_zh)
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    @property
    def body(self) -> str:
        """The Chinese text followed by the English summary."""
        return f"{self.body_zh}\nEnglish summary (for reference; the Chinese text governs):\n" + (
            self.summary_en
        )


def _zh_numeral(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


_EFFECTIVE = date(2026, 1, 1)

USER_AGREEMENT_V1 = Agreement(
    code=AgreementCode.USER_AGREEMENT,
    version=1,
    title_zh="用户协议",
    title_en="User Agreement",
    effective_from=_EFFECTIVE,
    preamble_zh=(
        "欢迎使用本平台。本协议由您与本平台运营方（以下简称“我们”）订立。您在注册页面勾选同意并"
        "完成短信验证，即表示您已阅读、理解并同意本协议全部条款。请您特别注意其中限制或免除责任的条款。"
    ),
    clauses=(
        Clause(
            "服务内容",
            (
                "我们为您提供借款申请、实名认证、银行卡绑定、借款合同签署、放款、还款及相关信息查询服务。",
                "借款由借款合同载明的出借人提供；是否批准借款、借款额度和利率以审核结果及借款合同为准。",
            ),
        ),
        Clause(
            "账户注册与安全",
            (
                "您应使用本人实名登记的中国大陆手机号注册，一人仅可注册一个账户。",
                "账户通过手机号和短信验证码登录。请妥善保管手机和验证码，切勿告知他人；"
                "任何以我们名义索要验证码的均为诈骗。",
                "发现账户被盗用或手机号变更的，请立即联系客服冻结或更新账户。",
            ),
        ),
        Clause(
            "您的承诺",
            (
                "您提供的身份、联系人、银行卡等信息真实、准确、完整，并在变化时及时更新。",
                "您不冒用他人身份，不出借、出租或转让账户，不以欺诈、套现等方式使用本平台服务。",
            ),
        ),
        Clause(
            "费用",
            (
                "注册和使用本平台不收取费用。借款的利息和费用仅以借款合同载明、并在您确认借款前"
                "向您展示的为准，包括综合年化成本。",
                "我们不会以任何名义收取合同以外的费用，也不会要求您向任何个人账户转账。",
            ),
        ),
        Clause(
            "个人信息保护",
            (
                "我们依照《中华人民共和国个人信息保护法》及您签署的《个人信息授权书》处理您的个人信息，"
                "仅在实现服务目的所必需的范围内收集和使用，并采取加密等安全措施。",
            ),
        ),
        Clause(
            "服务的变更、中止与终止",
            (
                "您可随时申请注销账户；存在未结清借款的，注销前应结清全部借款。",
                "您违反本协议或法律法规的，我们可暂停或终止向您提供服务，已签署的借款合同仍按其约定履行。",
            ),
        ),
        Clause(
            "责任限制",
            (
                "因不可抗力、通信线路或第三方系统故障等非我们过错的原因导致服务中断的，我们不承担责任，"
                "但会及时通知并尽力恢复服务。",
            ),
        ),
        Clause(
            "协议的修改",
            (
                "本协议修改时，我们将在平台公示新版本，并在您下次登录时请您确认。您不同意的，可停止使用"
                "服务并注销账户；已签署的借款合同不受影响。",
            ),
        ),
        Clause(
            "法律适用与争议解决",
            (
                "本协议适用中华人民共和国法律（不含港澳台地区法律）。",
                "因本协议发生的争议，双方应协商解决；协商不成的，任何一方可向本平台运营方住所地有管辖权的"
                "人民法院提起诉讼。",
            ),
        ),
        Clause(
            "联系我们",
            ("您可通过平台内的在线客服或客服电话咨询、投诉，我们将在十五个工作日内答复。",),
        ),
    ),
    summary_en=(
        "By registering you accept these terms. The platform lets you apply for a loan, verify "
        "your identity, bind a bank card, sign the loan contract, receive the payout and repay;"
        " the lender named in the contract decides and lends. Register with your own mainland "
        "mobile number, one account per person; never share SMS codes. Your information must be"
        " true and kept up to date. Using the platform is free: the only interest and fees are "
        "those in the loan contract, shown with the comprehensive annualised cost before you "
        "confirm; no other fee is ever charged and you will never be asked to pay into a "
        "personal account. Personal information is handled under the PIPL and the data "
        "authorisation. You may close your account once your loans are settled. Changes to "
        "these terms are published and confirmed at your next login. PRC law applies; disputes "
        "go to the court where the operator is domiciled. Complaints are answered within 15 "
        "working days."
    ),
)

DATA_AUTHORISATION_V1 = Agreement(
    code=AgreementCode.DATA_AUTHORISATION,
    version=1,
    title_zh="个人信息授权书",
    title_en="Personal Information Authorisation",
    effective_from=_EFFECTIVE,
    preamble_zh=(
        "致：本平台运营方及借款合同载明的出借人（以下合称“被授权人”）。本人在勾选同意前已仔细阅读"
        "本授权书全部内容，特别是关于敏感个人信息和征信的条款，并作出如下授权。"
    ),
    clauses=(
        Clause(
            "授权收集的信息",
            (
                "身份信息：姓名、身份证号码、身份证件照片、人脸图像；联系信息：手机号码、紧急联系人的姓名、"
                "手机号码及与本人的关系；银行卡信息：卡号、开户银行、预留手机号；设备信息：设备标识、"
                "IP 地址、操作系统版本；以及本人的借款申请、借款和还款信息。",
                "其中身份证号码、人脸图像、银行卡信息属于敏感个人信息，本人勾选同意即为对处理敏感个人信息的单独同意。",
            ),
        ),
        Clause(
            "使用目的",
            (
                "被授权人仅为以下目的使用上述信息：身份核验与实名认证；反欺诈；信用评估、审批与定价；"
                "放款、代扣还款与对账；贷后管理与依法合规的催收；履行反洗钱等法定义务。",
            ),
        ),
        Clause(
            "征信查询与报送",
            (
                "本人同意被授权人在审批借款和贷后管理时，向中国人民银行征信中心金融信用信息基础数据库"
                "及依法设立的个人征信机构查询本人的信用信息。",
                "本人同意被授权人依法向上述机构报送本人的借款、还款信息，包括逾期等不良信息；"
                "报送不良信息前，被授权人将依照《征信业管理条例》事先告知本人。",
            ),
        ),
        Clause(
            "向合作方提供",
            (
                "为实现上述目的，被授权人将必要的信息提供给：身份核验服务商（身份信息核查、人脸比对）、"
                "支付机构及银行（银行卡验证、放款、代扣）、电子签名服务商。合作方仅能在本授权范围内使用，"
                "并负有保密义务。被授权人不出售本人的个人信息。",
            ),
        ),
        Clause(
            "紧急联系人",
            (
                "本人确认已告知紧急联系人并取得其同意后提供其信息。被授权人仅在无法联系本人时联系紧急"
                "联系人，且不向其披露本人的借款和债务信息。",
            ),
        ),
        Clause(
            "存储与安全",
            (
                "上述信息存储于中华人民共和国境内，以加密方式保存，仅授权人员可以访问。",
                "保存期限为实现目的所必需的最短时间；法律法规（如反洗钱规定）要求更长保存期限的，从其规定。",
            ),
        ),
        Clause(
            "本人的权利",
            (
                "本人有权查阅、复制、更正、补充、删除本人的个人信息，并可撤回本授权。",
                "撤回不影响撤回前基于本授权已进行的处理；撤回必要信息的授权后被授权人将无法继续提供借款服务，"
                "但对已发生借款的贷后管理和依法报送征信不受影响。",
            ),
        ),
        Clause(
            "授权期限",
            (
                "本授权自本人勾选同意之日起生效，至本人在被授权人处的全部借款结清且法定保存期限届满之日止。",
            ),
        ),
    ),
    summary_en=(
        "You authorise the platform operator and the lender to collect your identity data "
        "(name, ID number, ID photos, face image), contact data (your phone and your emergency "
        "contacts), bank card and device data and your loan records. ID number, face image and "
        "card data are sensitive personal information and this is your separate consent to "
        "their processing. They are used only for identity verification, anti-fraud, credit "
        "assessment and pricing, payout and withholding, servicing and lawful collection, and "
        "legal duties such as anti-money-laundering. You consent to credit-bureau queries (PBOC"
        " Credit Reference Center and licensed personal credit agencies) and to reporting of "
        "your loan and repayment records, including overdue records, of which you are told "
        "beforehand. Data is shared only as needed with the identity-verification, payment and "
        "e-signature providers, never sold, stored encrypted in mainland China and kept no "
        "longer than needed or required by law. Contacts are only called when you cannot be "
        "reached and are never told about your debt. You may access, correct and delete your "
        "data and withdraw consent (servicing and bureau reporting of existing loans continue)."
        " Valid until all loans are settled and the legal retention period ends."
    ),
)

LOAN_CONTRACT_V1 = Agreement(
    code=AgreementCode.LOAN_CONTRACT,
    version=1,
    title_zh="借款合同",
    title_en="Loan Contract",
    effective_from=_EFFECTIVE,
    preamble_zh=(
        "出借人与借款人在平等自愿的基础上，就借款事宜订立本合同。本合同由借款要素、还款计划表和"
        "以下通用条款组成，借款要素和还款计划表中的金额、利率、费用和日期均为本合同的组成部分。"
    ),
    clauses=(
        Clause(
            "借款用途",
            (
                "借款人承诺借款仅用于借款要素载明的个人消费用途，不用于购房或偿还住房按揭贷款，"
                "不用于股票、债券、期货、金融衍生产品和资产管理产品等投资，不用于任何违法用途。",
            ),
        ),
        Clause(
            "放款",
            (
                "出借人审批通过且借款人签署本合同后，出借人将借款发放至借款人本人名下的收款银行卡。"
                "放款失败的，本合同自动解除，双方互不承担责任。",
                "除借款要素列明的情形外，出借人不从借款本金中预先扣除任何利息或费用。",
            ),
        ),
        Clause(
            "利息、费用与综合年化成本",
            (
                "利息按借款要素载明的年利率和计息规则计算。借款人应付的费用仅限借款要素列明的项目，"
                "出借人不收取本合同约定以外的任何费用。",
                "综合年化成本按内部收益率（IRR）法计算，包含借款人应支付的全部利息和费用，"
                "已依照中国人民银行公告〔2021〕第3号在借款人确认借款前明示。",
            ),
        ),
        Clause(
            "还款",
            (
                "借款人应按还款计划表在每期还款日（含当日）足额还款。借款人授权出借人及其委托的支付机构"
                "在还款日从借款人绑定的银行卡中扣收当期应还款项。",
                "借款人的还款按借款要素载明的顺序清偿，先清偿到期最早的一期。",
            ),
        ),
        Clause(
            "逾期",
            (
                "借款人在还款日未足额还款的，宽限期内还清的不计罚息、不视为逾期；宽限期届满仍未还清的，"
                "自宽限期届满次日起按借款要素载明的罚息利率计收罚息，并收取载明的逾期费，罚息总额不超过载明的上限。",
                "逾期信息可能依法报送征信机构。出借人依法合规催收，不采用暴力、恐吓、侮辱、骚扰等方式，"
                "不向借款人以外的第三人（包括紧急联系人）披露借款人的债务信息。",
            ),
        ),
        Clause(
            "提前还款",
            (
                "借款要素载明允许提前结清的，借款人可随时申请一次性结清全部剩余借款，利息和手续费按借款要素"
                "载明的方式计算；结清后不再收取以后各期的利息和费用。",
            ),
        ),
        Clause(
            "借款人的声明与承诺",
            (
                "借款人具有完全民事行为能力，提供的身份、联系人、银行卡等信息真实有效，并具备按期还款的能力。",
                "借款人的手机号码、银行卡、住址等信息变更的，应及时在平台更新。",
            ),
        ),
        Clause(
            "违约与提前到期",
            (
                "借款人提供虚假信息、改变借款用途、逾期超过九十日或明确表示不履行还款义务的，出借人有权"
                "宣布全部借款提前到期，借款人应立即偿还全部剩余本金、已产生的利息、费用和罚息。",
            ),
        ),
        Clause(
            "个人信息与征信",
            (
                "双方按照借款人签署的《个人信息授权书》处理借款人的个人信息，出借人有权依法向征信机构"
                "报送本合同项下的借款和还款信息。",
            ),
        ),
        Clause(
            "通知与送达",
            (
                "借款人在平台登记的手机号码及平台站内消息为有效的通知送达方式，短信或站内消息发出即视为送达。",
            ),
        ),
        Clause(
            "争议解决",
            (
                "本合同适用中华人民共和国法律（不含港澳台地区法律）。因本合同发生的争议，双方应协商解决；"
                "协商不成的，任何一方可向出借人住所地有管辖权的人民法院提起诉讼。",
            ),
        ),
        Clause(
            "电子签名与合同生效",
            (
                "双方以电子签名方式签署本合同，依照《中华人民共和国电子签名法》与手写签名或盖章具有同等法律效力。",
                "本合同自双方签署且借款发放之日起生效，至借款人全部债务清偿之日终止。借款人可随时在平台查看和下载本合同。",
            ),
        ),
    ),
    summary_en=(
        "The contract consists of the key terms, the repayment schedule and these general "
        "terms. Use of funds: personal consumption only; never buying a home or repaying a "
        "mortgage, investing in securities, futures, derivatives or asset-management products, "
        "or anything unlawful. Payout: to the borrower's own bank card after approval and "
        "signing; if it fails the contract ends at no cost; nothing is deducted from the "
        "principal unless the key terms say so. Cost: interest at the stated rate and day "
        "count, only the listed fees, and the comprehensive annualised cost (IRR, all interest "
        "and fees) disclosed before confirmation as PBOC Announcement [2021] No. 3 requires. "
        "Repayment: by the schedule, withheld from the bound card on each due date, allocated "
        "in the stated order, oldest installment first. Overdue: no penalty within the grace "
        "period; afterwards daily penalty interest, the overdue fee and the penalty cap as "
        "stated; overdue records may be reported to credit bureaus; collection is lawful and "
        "never discloses the debt to third parties. Early settlement: as stated, with no later "
        "interest or fees. Acceleration on false information, misuse of funds, more than 90 "
        "days overdue or refusal to pay. Personal data under the data authorisation. PRC law; "
        "disputes to the court of the lender's domicile. Signed electronically under the "
        "Electronic Signature Law; effective on signing and payout, ending when everything is "
        "repaid."
    ),
)

DEFAULT_AGREEMENTS: tuple[Agreement, ...] = (
    USER_AGREEMENT_V1,
    DATA_AUTHORISATION_V1,
    LOAN_CONTRACT_V1,
)


def agreement(
    code: AgreementCode | str,
    version: int | None = None,
    agreements: tuple[Agreement, ...] = DEFAULT_AGREEMENTS,
) -> Agreement:
    """The agreement `code` at `version` (default: the newest) → `AGREEMENT_UNKNOWN`."""
    matching = [a for a in agreements if a.code.value == str(code)]
    if version is not None:
        matching = [a for a in matching if a.version == version]
    if not matching:
        shown = f"{code} v{version}" if version is not None else str(code)
        raise AgreementUnknown(
            "agreement", shown, "no such agreement version", "没有该协议或该版本"
        )
    return max(matching, key=lambda a: a.version)
