"""Skip tracing (失联修复): a debtor's numbers ranked for the next contact — the borrower's
own mobile, then the emergency contacts (family before others) — raised by what answered
before (right-party contacts most, then any connected call) and lowered by what failed (a
vacant or suspended number, a holder who refused). Numbers are decrypted only to dial or
send; what is shown is masked."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from xindai.origination.contacts import Relation
from xindai.security.pii import PiiCipher, mask_phone
from xindai.store.models import Borrower
from xindai.store.models_collections import ContactAction
from xindai.store.models_origination import Contact

BASE_SCORE = {"self": 100, "related": 60, "unrelated": 40}
HISTORY_LIMIT = 2000  # the debtor's most recent calls read for the ranking
DEAD = ("vacant", "suspended")


@dataclass(frozen=True, slots=True)
class RankedContact:
    ref: str  # "borrower" or "contact:<seq>"
    party: str  # self | related | unrelated: whose number it is
    relation: str | None
    relation_zh: str
    phone_hash: str
    phone_enc: str
    masked: str
    score: int
    reason: str
    attempts_today: int
    connected_today: int
    last_result: str | None
    refused: bool

    def view(self) -> dict[str, object]:
        return {
            "ref": self.ref,
            "masked": self.masked,
            "party": self.party,
            "relation": self.relation,
            "relation_zh": self.relation_zh,
            "score": self.score,
            "reason": self.reason,
            "attempts_today": self.attempts_today,
            "reachable": self.last_result not in DEAD,
            "last_result": self.last_result,
            "refused": self.refused,
        }


CallRow = tuple[str | None, str | None, str | None, str | None, date]
"""A call as the ranking reads it: number hash, connection, party, result, local day."""


def contacts_of(
    session: Session, cipher: PiiCipher, borrower_id: int, local_day: date
) -> list[RankedContact]:
    """The debtor's numbers, best first (see the module docstring)."""
    borrower = session.get(Borrower, borrower_id)
    contacts = session.scalars(
        select(Contact).where(Contact.borrower_id == borrower_id).order_by(Contact.seq)
    ).all()
    history = session.execute(
        select(
            ContactAction.phone_hash,
            ContactAction.connection,
            ContactAction.party,
            ContactAction.result,
            ContactAction.local_day,
        )
        .where(ContactAction.borrower_id == borrower_id, ContactAction.kind == "call")
        .order_by(ContactAction.id.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    calls = [(h, c, p, r, d) for h, c, p, r, d in history]
    return rank_contacts(cipher, borrower, contacts, calls, local_day)


def _numbers(
    borrower: Borrower | None, contacts: Sequence[Contact]
) -> list[tuple[str, str, str | None, str, str, str]]:
    numbers: list[tuple[str, str, str | None, str, str, str]] = []
    if borrower is not None and borrower.mobile_enc and borrower.mobile_hash:
        numbers.append(
            ("borrower", "self", None, "本人", borrower.mobile_hash, borrower.mobile_enc)
        )
    for contact in contacts:
        try:
            known = Relation(contact.relation)
            family, label = known.is_family, known.label_zh
        except ValueError:
            family, label = False, contact.relation
        party = "related" if family else "unrelated"
        numbers.append(
            (
                f"contact:{contact.seq}",
                party,
                contact.relation,
                label,
                contact.phone_hash,
                contact.phone_enc,
            )
        )
    return numbers


def rank_contacts(
    cipher: PiiCipher,
    borrower: Borrower | None,
    contacts: Sequence[Contact],
    history: Sequence[CallRow],
    local_day: date,
) -> list[RankedContact]:
    """The numbers of `borrower` and its `contacts` (in seq order) ranked by `history`, the
    debtor's most recent calls (newest first, at most `HISTORY_LIMIT`)."""
    numbers = _numbers(borrower, contacts)
    right_party: dict[str, int] = defaultdict(int)
    connected: dict[str, int] = defaultdict(int)
    attempts: dict[str, int] = defaultdict(int)
    connected_now: dict[str, int] = defaultdict(int)
    last: dict[str, str] = {}
    refused: set[str] = set()
    for number, connection, answered_by, result, day in history:
        if number is None:
            continue
        last.setdefault(number, connection or "")
        if connection == "connected":
            connected[number] += 1
            if answered_by == "self":
                right_party[number] += 1
            if answered_by == "unrelated" and result == "refused":
                refused.add(number)
        if day == local_day:
            attempts[number] += 1
            connected_now[number] += connection == "connected"
    ranked = []
    for ref, party, relation, label, phone_hash, phone_enc in numbers:
        score = BASE_SCORE[party] + min(right_party[phone_hash], 5) * 10
        score += min(connected[phone_hash], 5) * 4
        reasons = [f"{label}手机" if party == "self" else f"联系人（{label}）"]
        if right_party[phone_hash]:
            reasons.append(f"曾联系到本人 {right_party[phone_hash]} 次")
        if last.get(phone_hash) in DEAD:
            score -= 80
            reasons.append("上次为空号/停机")
        if phone_hash in refused:
            score -= 200
            reasons.append("对方拒绝再联系")
        masked = mask_phone(cipher.decrypt("phone", phone_enc))
        ranked.append(
            RankedContact(
                ref,
                party,
                relation,
                label,
                phone_hash,
                phone_enc,
                masked,
                score,
                "；".join(reasons),
                attempts[phone_hash],
                connected_now[phone_hash],
                last.get(phone_hash),
                phone_hash in refused,
            )
        )
    ranked.sort(key=lambda c: (-c.score, c.ref != "borrower", c.ref))
    return ranked


__all__ = ["CallRow", "RankedContact", "contacts_of", "rank_contacts"]
