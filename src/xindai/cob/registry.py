"""The ordered steps of close of business and the registry that later features plug into.

Built in, in order (SPEC §6): `due`, `dpd`, `penalty`, `withholding`, `reminders`,
`snapshot`, `advance`. `withholding` (自动代扣) and `reminders` (催收提醒) are extension points:
empty until a feature registers the callable that fills them, and then still recorded as done
(with 0 rows) every day. `register_step(name, after=...)` adds a new step after an existing
one; `advance` (the business date moves on) is always last.

A step callable receives a `StepContext` (the connection, inside the transaction that also
records the step's progress) and returns the number of rows it touched. A partitioned step
runs once per partition of loan ids, `:lo` to `:hi`; it must touch only loans in that range.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, CursorResult, text

from xindai import clock
from xindai.cob.sql import Dialect
from xindai.errors import InvalidValue
from xindai.servicing.delinquency import DEFAULT_BUCKET_SCHEME, BucketScheme

EXTENSION_POINTS = ("withholding", "reminders")
LAST_STEP = "advance"
MAX_STEP_NAME = 20  # cob_step_runs.step is 32 characters: "<name>/<partition>"
ANALYZE_FROM_ROWS = 5_000  # smaller temp tables: the planner's guess from their size will do


@dataclass(frozen=True, slots=True)
class StepContext:
    """What a step needs: the connection (in the step's transaction), the business date, the
    partition's loan ids (inclusive; 0..0 for a step that is not partitioned)."""

    connection: Connection
    dialect: Dialect
    business_date: date
    lo: int = 0
    hi: int = 0
    now: datetime = field(default_factory=clock.now)
    bucket_scheme: BucketScheme = DEFAULT_BUCKET_SCHEME
    indexes: frozenset[str] = frozenset()  # the indexes of cob.tuning that exist
    # calls to make once the step's transaction committed (e.g. requests to a channel whose
    # rows must exist before the channel can answer them); the step or partition is done
    # only when all of them returned
    after_commit: list[Callable[[], object]] = field(default_factory=list)

    @property
    def params(self) -> dict[str, Any]:
        return self.dialect.params(self.business_date, lo=self.lo, hi=self.hi, now=self.now)

    def execute(self, sql: str, **extra: Any) -> CursorResult[Any]:
        """Run `sql` with the standard parameters (:d, :jd, :lo, :hi, :now) and `extra`."""
        return self.connection.execute(text(sql), {**self.params, **extra})

    def scalar(self, sql: str, **extra: Any) -> Any:
        return self.execute(sql, **extra).scalar()

    def create_temp(self, name: str, select: str, **extra: Any) -> int:
        """(Re)create session temp table `name` from `select`; returns its row count."""
        self.drop_temp(name)
        self.execute(f"CREATE TEMP TABLE {name} AS {select}", **extra)
        count = int(self.scalar(f"SELECT COUNT(*) FROM {name}"))
        if not self.dialect.is_sqlite and count >= ANALYZE_FROM_ROWS:
            self.connection.execute(text(f"ANALYZE {name}"))  # temp tables get no autovacuum
        return count

    def analyze(self, *tables: str) -> None:
        """Fresh planner statistics of `tables` on PostgreSQL (within the step's transaction;
        nothing on SQLite): for tables a step grows in bulk, which autovacuum analyses only
        later, while the next statements, and the next day's steps, plan by the old size."""
        if not self.dialect.is_sqlite and tables:
            self.connection.execute(text(f"ANALYZE {', '.join(tables)}"))

    def drop_temp(self, *names: str) -> None:
        tables = [self.dialect.temp_table(name) for name in names]
        if self.dialect.is_sqlite:  # one table per DROP
            for table in tables:
                self.connection.execute(text(f"DROP TABLE IF EXISTS {table}"))
        elif tables:
            self.connection.execute(text(f"DROP TABLE IF EXISTS {', '.join(tables)}"))


StepFn = Callable[[StepContext], int]


@dataclass(frozen=True, slots=True)
class Step:
    """One step of close of business: `run` is None for an empty extension point."""

    name: str
    run: StepFn | None
    partitioned: bool = True
    anchor: str | None = None  # the step it was registered after (None: built in)
    parallel: bool = False  # its partitions may run at once on several connections
    # its partitions lock their open loans first (PostgreSQL; see runner._lock_open_loans);
    # off for a step that only reads them
    locks_loans: bool = True


class StepRegistry:
    """The ordered steps of close of business."""

    def __init__(self, steps: tuple[Step, ...] | None = None) -> None:
        if steps is None:
            from xindai.cob import steps as builtin

            steps = (
                Step("due", builtin.recognise_due, parallel=True),
                Step("dpd", builtin.age_loans, parallel=True),
                Step("penalty", builtin.accrue_penalty, parallel=True),
                Step("withholding", None),
                Step("reminders", None),
                Step("snapshot", builtin.take_snapshots, parallel=True, locks_loans=False),
                Step(LAST_STEP, builtin.advance_business_date, partitioned=False),
            )
        self._steps: list[Step] = list(steps)

    def copy(self) -> StepRegistry:
        return StepRegistry(tuple(self._steps))

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(self._steps)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(step.name for step in self._steps)

    def register(
        self,
        name: str,
        run: StepFn,
        *,
        after: str | None = None,
        partitioned: bool = True,
        parallel: bool = False,
        locks_loans: bool = True,
    ) -> None:
        """Fill extension point `name` (`withholding`, `reminders`), or add step `name` right
        after `after` (and after the steps registered earlier after it). `parallel`: its
        partitions may run at once, each on its own connection and thread (only if the
        callable is safe for that, e.g. pure SQL). `locks_loans` False: the step only reads
        the loans (see `Step.locks_loans`)."""
        names = self.names
        if name in EXTENSION_POINTS:
            index = names.index(name)
            if self._steps[index].run is not None:
                raise InvalidValue("step", name, "is already registered", "该步骤已注册")
            if after is not None and after != names[index - 1]:
                raise InvalidValue(
                    "after",
                    after,
                    f"{name} runs after {names[index - 1]}",
                    f"{name} 固定在 {names[index - 1]} 之后",
                )
            self._steps[index] = replace(
                self._steps[index],
                run=run,
                partitioned=partitioned,
                parallel=parallel,
                locks_loans=locks_loans,
            )
            return
        if not name or len(name) > MAX_STEP_NAME or "/" in name or name == "plan":
            raise InvalidValue(
                "step",
                name,
                f"a step name is 1–{MAX_STEP_NAME} characters without '/'",
                "步骤名称应为 1–20 个字符且不含 /",
            )
        if name in names:
            raise InvalidValue("step", name, "is already registered", "该步骤已注册")
        if after is None or after not in names or after == LAST_STEP:
            raise InvalidValue(
                "after",
                after,
                f"must name a step before {LAST_STEP}: {', '.join(names[:-1])}",
                "必须指定一个已有步骤（不能在日切之后）",
            )
        position = names.index(after) + 1
        # keep registration order among the steps that follow the same anchor
        while position < len(names) and self._follows(position, after):
            position += 1
        self._steps.insert(position, Step(name, run, partitioned, after, parallel, locks_loans))

    def _follows(self, position: int, anchor: str) -> bool:
        """Whether the step at `position` was registered after `anchor`, directly or not."""
        step_anchor = self._steps[position].anchor
        while step_anchor is not None:
            if step_anchor == anchor:
                return True
            step_anchor = next(s.anchor for s in self._steps if s.name == step_anchor)
        return False


DEFAULT_REGISTRY = StepRegistry()


def register_step(
    name: str, *, after: str | None = None, partitioned: bool = True, parallel: bool = False
) -> Callable[[StepFn], StepFn]:
    """Decorator: register a step callable in the default registry (see
    `StepRegistry.register`)."""

    def decorate(run: StepFn) -> StepFn:
        DEFAULT_REGISTRY.register(
            name, run, after=after, partitioned=partitioned, parallel=parallel
        )
        return run

    return decorate
