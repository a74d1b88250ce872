"""The demo lender's market: synthetic people who come through the acquisition channels, each
with an identity the simulated providers accept, a bank card, contacts, what they declare
when they apply, and how they repay. Deterministic in the seed.

Who repays how follows the person's credit history as the simulated bureau reports it (by ID
number): a clean file rarely defaults, a thin or crowded one more often. Most people with
bad files are rejected by the live strategy before they can show it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from xindai.integrations.simulators.bureau import bureau_profile
from xindai.integrations.simulators.people import make_card_number, make_phone, stable_int
from xindai.origination.cards import CardKind, valid_sample_card
from xindai.origination.declared import Declared
from xindai.origination.identity import valid_sample_ids


@dataclass(frozen=True, slots=True)
class Channel:
    code: str
    zh: str
    weight: int


AGENT_CHANNEL = "agent_hz01"
"""The channel of the demo agent (代理商): the agent login sees only its customers."""

CHANNELS: tuple[Channel, ...] = (
    Channel("app_store", "应用商店", 30),
    Channel("douyin_ads", "抖音信息流", 24),
    Channel("wechat_ads", "微信广告", 16),
    Channel("referral", "老带新", 12),
    Channel(AGENT_CHANNEL, "杭州代理商", 18),
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐"
    "许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉"
    "兰萍红鹏辉晨雪琳浩宇欣怡佳雨婷子涵博文思晓东海波"
)
BANKS = ("ICBC", "CCB", "ABC", "BOC", "CMB", "BOCOM")
CITIES = (
    "上海",
    "北京",
    "深圳",
    "杭州",
    "成都",
    "武汉",
    "南京",
    "西安",
    "洛阳",
    "绵阳",
    "南宁",
    "安宁县",
)
RELATIONS = ("parent", "spouse", "sibling", "friend", "colleague")

# share of a person's loans repaid late / never, by the bureau's profile of them
_RISK = {
    "clean": (0.09, 0.025),
    "thin": (0.14, 0.05),
    "multi_lender": (0.22, 0.10),
    "overdue": (0.28, 0.15),
    "serious_overdue": (0.30, 0.30),
}


class Repayment(StrEnum):
    """How a borrower meets one loan's installments."""

    ON_TIME = "on_time"  # the withholding on the due date collects, or they pay in the app
    EARLY = "early"  # pays the whole loan off before it ends
    LATE = "late"  # the account is short on the due date; pays `late_days` later
    NEVER = "never"  # never pays again


class CardTrouble(StrEnum):
    NONE = "none"
    CREDIT_CARD_FIRST = "credit_card_first"  # tries a credit card, is refused, binds a debit
    WRONG_CODE_FIRST = "wrong_code_first"  # mistypes the SMS code once
    FROZEN_ACCOUNT = "frozen_account"  # the card's account is frozen: every payout fails


@dataclass(frozen=True, slots=True)
class Person:
    """One member of the market, as the platform will meet them."""

    index: int
    name: str
    phone: str
    id_number: str
    profile: str  # the simulated bureau's kind of file
    card: str
    credit_card: str  # what CREDIT_CARD_FIRST tries first
    card_trouble: CardTrouble
    contacts: tuple[tuple[str, str, str], ...]  # (name, phone, relation)
    declared: Declared
    device: str
    ip: str
    channel: str
    arrives_on_day: int  # days after the demo's start
    pays_in_app: bool  # pays on the due date in the app instead of waiting for 代扣
    returns: float  # the chance of applying again after a loan is settled

    def repayment(self, loan_number: int, seed: int) -> tuple[Repayment, int]:
        """How this person repays their `loan_number`-th loan, and how many days late."""
        rng = random.Random(stable_int(f"{seed}:{self.index}:{loan_number}", "repay"))
        late, never = _RISK.get(self.profile, (0.2, 0.1))
        draw = rng.random()
        if draw < never:
            return Repayment.NEVER, 0
        if draw < never + late:
            return Repayment.LATE, rng.choice((1, 2, 3, 4, 5, 7, 10, 14, 21, 38))
        if draw < never + late + 0.10:
            return Repayment.EARLY, 0
        return Repayment.ON_TIME, 0


def _name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


def _weighted_channel(rng: random.Random) -> str:
    return rng.choices([c.code for c in CHANNELS], [c.weight for c in CHANNELS])[0]


def _arrival_day(rng: random.Random, days: int) -> int:
    """A day in [0, days): the lender grows, so later days see more newcomers."""
    return min(days - 1, int(days * rng.random() ** 0.75))


def _declared(rng: random.Random, profile: str) -> Declared:
    weak = profile in ("overdue", "serious_overdue", "multi_lender")
    income = rng.randrange(3, 12 if weak else 30) * 100_000 + rng.randrange(10) * 10_000
    return Declared(
        monthly_income_fen=None if rng.random() < 0.04 else income,
        employment_type=rng.choices(
            ("salaried", "self_employed", "freelance", "student", "unemployed"),
            (70, 14, 10, 3, 3) if not weak else (50, 18, 18, 6, 8),
        )[0],
        education=rng.choice(("high_school", "college", "bachelor", "bachelor", "master")),
        city=rng.choice(CITIES),
        phonebook_count=rng.randrange(40, 700),
    )


def market(people: int, days: int, *, seed: int) -> list[Person]:
    """`people` synthetic people arriving over `days` days, the same for the same seed."""
    rng = random.Random(seed)
    ids: list[str] = []
    seen_ids: set[str] = set()
    batch = 0
    while len(ids) < people:
        for number in valid_sample_ids(seed=seed * 1000 + batch, count=max(100, people)):
            if number not in seen_ids:
                seen_ids.add(number)
                ids.append(number)
        batch += 1
    phones: list[str] = []
    seen_phones: set[str] = set()
    salt = 0
    while len(phones) < people:
        phone = make_phone(f"demo-{seed}-{len(phones)}-{salt}")
        if phone in seen_phones:
            salt += 1
            continue
        seen_phones.add(phone)
        phones.append(phone)
    ring_device = f"dev-{seed}-ring"  # a handful of applicants share one phone (a fraud ring)
    result: list[Person] = []
    for index in range(people):
        own = random.Random(stable_int(f"{seed}:{index}", "person"))
        profile = bureau_profile(ids[index])
        contacts = []
        for seq in range(2):
            if index > 10 and own.random() < 0.15:  # a contact who is a borrower too
                friend = own.randrange(index)
                phone = phones[friend]
            else:
                phone = make_phone(f"demo-contact-{seed}-{index}-{seq}")
            relation = RELATIONS[0] if seq == 0 else own.choice(RELATIONS[1:])
            contacts.append((_name(own), phone, relation))
        trouble = own.choices(list(CardTrouble), (90, 4, 4, 2))[0]
        bank = own.choice(BANKS)
        card = (
            make_card_number(f"demo-frozen-{seed}-{index}", suffix="0000")
            if trouble is CardTrouble.FROZEN_ACCOUNT
            else valid_sample_card(bank, seed * 100_000 + index)
        )
        result.append(
            Person(
                index=index,
                name=_name(own),
                phone=phones[index],
                id_number=ids[index],
                profile=profile,
                card=card,
                credit_card=valid_sample_card("CMB", index, kind=CardKind.CREDIT),
                card_trouble=trouble,
                contacts=tuple(contacts),
                declared=_declared(own, profile),
                device=ring_device if index % 97 == 13 else f"dev-{seed}-{index}",
                ip=f"10.{own.randrange(1, 250)}.{own.randrange(256)}.{own.randrange(1, 255)}",
                channel=_weighted_channel(own),
                arrives_on_day=_arrival_day(rng, days),
                pays_in_app=own.random() < 0.35,
                returns=0.8 if profile in ("clean", "thin") else 0.55,
            )
        )
    return result
