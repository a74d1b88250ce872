"""Collections in close of business (SPEC §6 step 5): the `reminders` extension point sends
the day's reminders; `cases` (partitioned, pure SQL) judges promises and opens, closes and
refreshes cases; `early_warning` (partitioned: SQL, then the bureau refresh after commit)
records the watch list's hits, raises their cases' priority and opens pre-due cases;
`allocate` (one run over the book) recalls ended placements and allocates what was
marked. `registry_for` composes the whole of close of business as the platform
runs it: the built-in steps, withholding through the payment channel (optional), and these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xindai.cob.registry import DEFAULT_REGISTRY, StepRegistry
from xindai.collections.allocation import allocation_step
from xindai.collections.cases_cob import cases_step
from xindai.collections.reminders import Sender, reminders_step
from xindai.collections.warnings_cob import early_warning_step

if TYPE_CHECKING:
    from xindai.platform import Platform

CASES_STEP, WARNING_STEP, ALLOCATE_STEP = "cases", "early_warning", "allocate"


def register_collections(
    registry: StepRegistry, sender: Sender | None, *, send_reminders: bool = True
) -> StepRegistry:
    """Fill `reminders` and add `cases`, `early_warning` and `allocate` after it, in
    `registry` (a copy is the caller's business). `sender` None (or `send_reminders` False)
    queues reminders without sending them; without a `sender` early warning asks no bureau
    (its behaviour rules still run)."""
    registry.register(
        "reminders", reminders_step(sender, send=send_reminders and sender is not None)
    )
    registry.register(CASES_STEP, cases_step, after="reminders", parallel=True)
    registry.register(
        WARNING_STEP, early_warning_step(sender), after=CASES_STEP, parallel=True, locks_loans=False
    )
    registry.register(ALLOCATE_STEP, allocation_step, after=WARNING_STEP, partitioned=False)
    return registry


def registry_for(platform: Platform, *, withholding: bool = True) -> StepRegistry:
    """Close of business as the platform runs it (API, CLI): withholding when asked, and
    the collection steps always."""
    if withholding:
        from xindai.origination.withholding import registry_with_withholding

        registry = registry_with_withholding(DEFAULT_REGISTRY, platform)
    else:
        registry = DEFAULT_REGISTRY.copy()
    return register_collections(registry, platform)


__all__ = ["ALLOCATE_STEP", "CASES_STEP", "WARNING_STEP", "register_collections", "registry_for"]
