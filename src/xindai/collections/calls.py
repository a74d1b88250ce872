"""A call as the collector logs it (three dimensions, SPEC §8): the connection, who
answered, and the result, with the lists of each; a promise made in the call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from xindai.collections.guardrails import GuardrailRefused
from xindai.errors import InvalidValue

CONNECTIONS = ("connected", "no_answer", "rejected", "powered_off", "suspended", "vacant", "busy")
PARTIES = ("self", "related", "unrelated")
RESULTS = ("promise", "paid", "plan", "refused", "dispute", "complaint", "relay", "lead")


def refuse_promise(en: str, zh: str) -> GuardrailRefused:
    return GuardrailRefused("COLLECTION_PROMISE_INVALID", en, zh, http_status=400)


@dataclass(frozen=True, slots=True)
class CallIn:
    contact: str
    connection: str
    party: str | None = None
    result: str | None = None
    note: str = ""
    recording_ref: str | None = None
    consented: bool = False
    promise_amount_fen: int | None = None
    promise_date: date | None = None

    def check(self) -> None:
        if self.connection not in CONNECTIONS:
            raise InvalidValue(
                "connection",
                self.connection,
                f"one of {', '.join(CONNECTIONS)}",
                "接通情况不在可选范围",
            )
        if self.connection == "connected":
            if self.party not in PARTIES:
                raise InvalidValue(
                    "party", self.party, f"one of {', '.join(PARTIES)}", "通话对象不在可选范围"
                )
            if self.result not in RESULTS:
                raise InvalidValue(
                    "result", self.result, f"one of {', '.join(RESULTS)}", "通话结果不在可选范围"
                )
        elif self.party is not None or self.result is not None:
            raise InvalidValue(
                "party", self.party, "only for a connected call", "仅接通的通话需填写"
            )
        if self.result == "promise" and (
            self.promise_amount_fen is None or self.promise_date is None
        ):
            raise refuse_promise("a promise needs an amount and a date", "承诺还款需填写金额和日期")


__all__ = ["CONNECTIONS", "PARTIES", "RESULTS", "CallIn", "refuse_promise"]
