"""Collections in close of business (SPEC §6 step 5): the `reminders` extension point sends
the day's reminders; `cases` (partitioned, pure SQL) judges promises and opens, closes and
refreshes cases; `allocate` (one run over the book) recalls ended placements and allocates
what was marked. `registry_for` composes the whole of close of business as the platform
runs it: the built-in steps, withholding through the payment channel (optional), and these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xindai.cob.registry import DEFAULT_REGISTRY, StepRegistry
from xindai.collections.allocation import allocation_step
from xindai.collections.cases_cob import cases_step
from xindai.collections.reminders import Sender, reminders_step

if TYPE_CHECKING:
    from xindai.platform import Platform

CASES_STEP, ALLOCATE_STEP = "cases", "allocate"


def register_collections(
    registry: StepRegistry, sender: Sender | None, *, send_reminders: bool = True
) -> StepRegistry:
    """Fill `reminders` and add `cases` and `allocate` after it, in `registry` (a copy is
    the caller's business). `sender` None (or `send_reminders` False) queues reminders
    without sending them."""
    registry.register(
        "reminders", reminders_step(sender, send=send_reminders and sender is not None)
    )
    registry.register(CASES_STEP, cases_step, after="reminders", parallel=True)
    registry.register(ALLOCATE_STEP, allocation_step, after=CASES_STEP, partitioned=False)
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


__all__ = ["ALLOCATE_STEP", "CASES_STEP", "register_collections", "registry_for"]
