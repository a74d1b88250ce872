"""Applicants for the end-to-end tests: ID numbers whose simulated credit report is clean,
and what a creditworthy applicant declares, so that the live strategy approves them."""

from __future__ import annotations

from typing import Any

from xindai.integrations.simulators.bureau import bureau_profile
from xindai.origination.identity import valid_sample_ids

GOOD_PROFILE: dict[str, Any] = {
    "monthly_income": "15000",
    "employment_type": "salaried",
    "education": "bachelor",
    "city": "上海",
    "phonebook_count": 320,
}


def clean_id(seed: int) -> str:
    """A valid ID number whose bureau report (simulated) is clean."""
    return next(n for n in valid_sample_ids(seed=seed, count=200) if bureau_profile(n) == "clean")


def apply_body(
    product: str, amount: str, term: int, card_id: int, *, device: str, **extra: Any
) -> dict[str, Any]:
    """An application of a creditworthy applicant from `device`."""
    return {
        "product": product,
        "amount": amount,
        "term": term,
        "purpose": "consumption",
        "card_id": card_id,
        "device_fingerprint": device,
        **GOOD_PROFILE,
        **extra,
    }
