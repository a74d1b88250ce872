"""SQL fragments for close of business that SQLite and PostgreSQL spell differently, and the
pieces built from data (bucket scheme, chart of accounts).

Statements use the named parameters `:d` (the business date), `:jd` (its Julian day number,
SQLite only), `:lo` / `:hi` (the partition's loan ids, inclusive) and `:now` (a timestamp).
Dates are compared as dates on PostgreSQL and through `julianday` on SQLite, where
SQLAlchemy stores them as ISO text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime
from sqlalchemy.engine import Dialect as SqlAlchemyDialect

from xindai.servicing.allocation import Component
from xindai.servicing.delinquency import BucketScheme
from xindai.servicing.state import COMPONENTS

OPEN_STATUSES = "('active', 'overdue')"

_JULIAN_DAY_OF_ORDINAL_0 = 1721424.5  # julianday('0001-01-01') - 1


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def outstanding(alias: str, component: Component) -> str:
    """Fen of `component` still owed on installment row `alias` (due − paid − waived)."""
    c = component.value
    return f"({alias}.{c}_due_fen - {alias}.{c}_paid_fen - {alias}.{c}_waived_fen)"


def outstanding_total(alias: str) -> str:
    return "(" + " + ".join(outstanding(alias, c) for c in COMPONENTS) + ")"


def paid_total(alias: str) -> str:
    return "(" + " + ".join(f"{alias}.{c.value}_paid_fen" for c in COMPONENTS) + ")"


def bucket_case(scheme: BucketScheme, dpd: str) -> str:
    """A CASE giving the bucket name of the (non-negative) DPD expression `dpd`."""
    whens = " ".join(
        f"WHEN {dpd} <= {bucket.max_dpd} THEN {quote(bucket.name)}"
        for bucket in scheme.buckets[:-1]
    )
    last = quote(scheme.buckets[-1].name)
    return f"CASE {whens} ELSE {last} END" if whens else last


def value_case(column: str, mapping: Mapping[str, str]) -> str:
    """CASE column WHEN key THEN value …: e.g. the account of each component."""
    whens = " ".join(f"WHEN {quote(k)} THEN {quote(v)}" for k, v in mapping.items())
    return f"CASE {column} {whens} END"


@dataclass(frozen=True, slots=True)
class Dialect:
    """The SQL spelling and parameter conversions of one database."""

    sa_dialect: SqlAlchemyDialect

    @property
    def name(self) -> str:
        return str(self.sa_dialect.name)

    @property
    def is_sqlite(self) -> bool:
        return self.name == "sqlite"

    # ------------------------------------------------------------ expressions

    def days_since(self, column: str) -> str:
        """Whole days from the date `column` to the business date :d."""
        if self.is_sqlite:
            return f"CAST(:jd - julianday({column}) AS INTEGER)"
        return f"(:d - {column})"

    def past_grace(self, due: str, grace_days: str) -> str:
        """True when the business date :d is after `due` + `grace_days` days (overdue)."""
        if self.is_sqlite:
            return f"(julianday({due}) + {grace_days} < :jd)"
        return f"({due} + {grace_days} < :d)"

    def no_index(self, expression: str) -> str:
        """`expression`, kept from choosing SQLite's index (unary +): for a term that should
        filter rows found through another index. PostgreSQL's planner needs no such hint."""
        return f"+{expression}" if self.is_sqlite else expression

    def greatest(self, *values: str) -> str:
        return f"{'MAX' if self.is_sqlite else 'GREATEST'}({', '.join(values)})"

    def least(self, *values: str) -> str:
        return f"{'MIN' if self.is_sqlite else 'LEAST'}({', '.join(values)})"

    def concat_agg(self, expression: str) -> str:
        """An aggregate joining text with ', ' (used as an ordered window function)."""
        if self.is_sqlite:
            return f"group_concat({expression}, ', ')"
        return f"string_agg({expression}, ', ')"

    def temp_table(self, name: str) -> str:
        """The qualified name of session temp table `name`, for DROP."""
        return f"temp.{name}" if self.is_sqlite else f"pg_temp.{name}"

    # ------------------------------------------------------------ parameters

    def _convert(self, sa_type: Date | DateTime, value: Any) -> Any:
        processor: Callable[[Any], Any] | None = sa_type.bind_processor(self.sa_dialect)
        return processor(value) if processor is not None else value

    def date_param(self, day: date) -> Any:
        return self._convert(Date(), day)

    def timestamp_param(self, moment: datetime) -> Any:
        return self._convert(DateTime(), moment)

    def params(self, day: date, *, lo: int = 0, hi: int = 0, now: datetime) -> dict[str, Any]:
        """The standard parameters of a step statement."""
        return {
            "d": self.date_param(day),
            "jd": _JULIAN_DAY_OF_ORDINAL_0 + day.toordinal(),
            "lo": lo,
            "hi": hi,
            "now": self.timestamp_param(now),
        }
