"""Close of business (日终批处理, SPEC §6): set-based SQL steps over partitions of loan ids,
their registry and the resumable runner. Imports store, servicing and ledger; not api or cli.
"""

from xindai.cob.registry import (
    DEFAULT_REGISTRY,
    EXTENSION_POINTS,
    Step,
    StepContext,
    StepRegistry,
    register_step,
)
from xindai.cob.rules import loan_rule_columns
from xindai.cob.runner import (
    DEFAULT_PARTITION_SIZE,
    CobError,
    CobProgress,
    CobSummary,
    DayResult,
    StepResult,
    run_cob,
)

__all__ = [
    "DEFAULT_PARTITION_SIZE",
    "DEFAULT_REGISTRY",
    "EXTENSION_POINTS",
    "CobError",
    "CobProgress",
    "CobSummary",
    "DayResult",
    "Step",
    "StepContext",
    "StepRegistry",
    "StepResult",
    "loan_rule_columns",
    "register_step",
    "run_cob",
]
