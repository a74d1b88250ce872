"""Repayment schedules: the six methods of SPEC §3 as pure functions, exact to the fen.

`reference` is the exact Decimal/rational implementation; `vectorised` computes many schedules
at once with NumPy integers and must agree with it to the fen. Imports only money and dates.
"""

from xindai.schedules.model import (
    Installment,
    Method,
    PeriodicFeeKind,
    PeriodUnit,
    Schedule,
    ScheduleTerms,
    UpfrontFeeMode,
)
from xindai.schedules.reference import build_schedule

__all__ = [
    "Installment",
    "Method",
    "PeriodUnit",
    "PeriodicFeeKind",
    "Schedule",
    "ScheduleTerms",
    "UpfrontFeeMode",
    "build_schedule",
]
