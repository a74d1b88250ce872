"""What the demo's people do in the borrower app, as calls of the real journey service: sign
up with an SMS code, accept the agreements, verify their identity, name contacts, bind a
card (some stumble first), apply, read and sign the contract, repay. Each step goes to the
simulated providers as it would from the app."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from xindai.demo.people import CardTrouble, Person
from xindai.errors import XindaiError
from xindai.integrations.simulators.control import SimulatorControl
from xindai.integrations.simulators.people import stable_int
from xindai.origination.agreements import DEFAULT_AGREEMENTS
from xindai.origination.journey import OriginationService

PURPOSES = ("consumption", "consumption", "consumption", "education", "medical", "travel")


@dataclass(frozen=True, slots=True)
class Ask:
    """What a person applies for."""

    product: str
    amount_fen: int
    term: int
    purpose: str


def first_ask(person: Person, seed: int) -> Ask:
    """A newcomer's first application: small and short, as a cash-loan lender's first loans."""
    rng = random.Random(stable_int(f"{seed}:{person.index}", "ask"))
    purpose = rng.choice(PURPOSES)
    pick = rng.random()
    if pick < 0.45:
        return Ask("CASH14", rng.randrange(5, 26) * 10_000, rng.choice((14, 14, 21)), purpose)
    if pick < 0.70:
        return Ask("INST12", rng.randrange(10, 31) * 10_000, rng.choice((3, 3, 6)), purpose)
    if pick < 0.85:
        return Ask("WEEK8", rng.randrange(5, 21) * 10_000, rng.choice((4, 8)), purpose)
    return Ask("FLAT6", rng.randrange(10, 26) * 10_000, 3, purpose)


def next_ask(person: Person, loans_so_far: int, last_fen: int, seed: int) -> Ask:
    """A returning borrower asks for more and longer, within what the ladder may give."""
    rng = random.Random(stable_int(f"{seed}:{person.index}:{loans_so_far}", "ask"))
    purpose = rng.choice(PURPOSES)
    amount = min(5_000_000, (last_fen * rng.choice((10, 12, 15, 20)) // 10) // 10_000 * 10_000)
    pick = rng.random()
    if pick < 0.30:
        return Ask("CASH14", min(amount, 500_000), rng.choice((14, 21)), purpose)
    if pick < 0.80:
        return Ask("INST12", max(amount, 100_000), rng.choice((3, 6, 6, 12)), purpose)
    if pick < 0.90:
        return Ask("WEEK8", min(max(amount, 50_000), 1_000_000), 8, purpose)
    return Ask("FLAT6", min(max(amount, 100_000), 2_000_000), rng.choice((3, 6)), purpose)


class BorrowerApp:
    """The person's side of the journey, through `OriginationService` and the simulators."""

    def __init__(self, journey: OriginationService, control: SimulatorControl):
        self.journey = journey
        self.control = control

    def sign_up(self, person: Person) -> int:
        """Steps 1–4: SMS login (from the person's channel), agreements, real name with the
        three photos, two contacts. The borrower's id."""
        self.journey.send_login_code(person.phone, person.ip)
        code = self.control.last_sms_code(person.phone)
        login = self.journey.login(person.phone, code, person.ip, channel=person.channel)
        accepted = [(a.code.value, a.version) for a in DEFAULT_AGREEMENTS]
        self.journey.accept_agreements(login.borrower_id, accepted, person.ip)
        photos = {
            kind: b"\xff\xd8\xff\xe0" + f"{kind}:{person.id_number}".encode()
            for kind in ("id_front", "id_back", "face")
        }
        self.journey.verify_identity(login.borrower_id, person.name, person.id_number, photos)
        contacts = [
            {"name": name, "phone": phone, "relation": relation}
            for name, phone, relation in person.contacts
        ]
        self.journey.set_contacts(login.borrower_id, contacts)
        return login.borrower_id

    def bind_card(self, person: Person, borrower_id: int) -> tuple[int, int]:
        """Step 5: bind the debit card (four elements and the channel's SMS code); a credit
        card is refused first, a mistyped code fails once. (card id, failed attempts)."""
        failures = 0
        if person.card_trouble is CardTrouble.CREDIT_CARD_FIRST:
            try:
                self.journey.start_card(borrower_id, person.credit_card, person.phone)
            except XindaiError:
                failures += 1  # CARD_CREDIT_REFUSED: a credit card cannot receive a loan
        started = self.journey.start_card(borrower_id, person.card, person.phone)
        card_id = int(started["card_id"])
        if person.card_trouble is CardTrouble.WRONG_CODE_FIRST:
            code = self.control.last_sms_code(person.phone)
            wrong = f"{(int(code) + 1) % 1_000_000:06d}"
            try:
                self.journey.confirm_card(borrower_id, card_id, wrong)
            except XindaiError:
                failures += 1  # CARD_VERIFICATION_FAILED (code_mismatch): try again
                self.journey.start_card(borrower_id, person.card, person.phone)
        self.journey.confirm_card(borrower_id, card_id, self.control.last_sms_code(person.phone))
        return card_id, failures

    def apply(self, person: Person, borrower_id: int, card_id: int, ask: Ask) -> dict[str, Any]:
        """Step 6: the application, decided at once by the live strategy."""
        return self.journey.apply(
            borrower_id,
            product_code=ask.product,
            amount_fen=ask.amount_fen,
            term=ask.term,
            purpose=ask.purpose,
            card_id=card_id,
            device_fingerprint=person.device,
            ip=person.ip,
            declared=person.declared,
        )

    def sign(self, borrower_id: int, application_id: int) -> dict[str, Any]:
        """Step 7: read the contract, sign it; the payout is requested from the channel."""
        self.journey.contract(borrower_id, application_id)
        return self.journey.sign(borrower_id, application_id)

    def repay(self, borrower_id: int, loan_id: int, mode: str) -> bool:
        """Repay in the app (current_due, payoff or extension); False when the platform
        refuses (nothing owed now, a collection still in flight, not allowed)."""
        try:
            self.journey.repay(borrower_id, loan_id, mode=mode)
        except XindaiError:
            return False
        return True
