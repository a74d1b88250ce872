"""Applicants for the end-to-end tests: ID numbers whose simulated credit report is clean,
and what a creditworthy applicant declares, so that the live strategy approves them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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


CALLS_MADE = {"applicant_phone_verified": True, "contact_phone_verified": True}
"""The reviewer's checklist when both phone checks are done."""

REVIEW_ALL_NOTE = "e2e: every applicant scoring 520 or more goes to manual review"


@contextmanager
def all_to_review(stack: Any) -> Iterator[None]:
    """The risk team makes live a version that sends every creditworthy applicant to manual
    review (the grey zone widened to every score of 520 or more), and rolls back afterwards."""
    from xindai.risk.default_strategy import default_strategy_graph
    from xindai.risk.engine.store import load_registry, record
    from xindai.risk.engine.strategy import content_hash
    from xindai.store.db import make_engine, session_factory

    graph = default_strategy_graph()
    for node in graph["nodes"]:
        for rule in node.get("content", {}).get("rules", []):
            if rule.get("_id") == "SC_GREY":
                for key, cell in list(rule.items()):
                    if cell == "[520..560)":
                        rule[key] = ">= 520"
    engine = make_engine(stack.database_url)
    sessions = session_factory(engine)
    try:
        with sessions.begin() as session:
            registry = load_registry(session, "origination")
            existing = [v for v in registry.versions if v.content_hash == content_hash(graph)]
            if existing:
                number = existing[0].version
            else:
                registry, version, event = registry.create(
                    graph, actor="risk-e2e", at="2026-11-28T00:00:00", notes=REVIEW_ALL_NOTE
                )
                record(session, event, version)
                number = version.version
            registry, event = registry.promote(
                number, actor="risk-e2e", at="2026-11-28T00:00:00", reason=REVIEW_ALL_NOTE
            )
            record(session, event)
        yield
    finally:
        with sessions.begin() as session:
            registry = load_registry(session, "origination")
            registry, event = registry.rollback(
                actor="risk-e2e", at="2026-11-28T00:00:01", reason="e2e done"
            )
            record(session, event)
        engine.dispose()
