"""zen-engine behind our own interface: each version compiled once, evaluated with a trace
from which the fired rules are read.

A call through the Python binding costs about 0.1–0.3 ms, so the engine keeps compiled
decisions in memory keyed by content hash and never recompiles.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import zen

from xindai.errors import XindaiError
from xindai.risk.engine.strategy import StrategyVersion

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class StrategyEvaluationError(XindaiError):
    code = "STRATEGY_EVALUATION"


@dataclass(frozen=True, slots=True)
class FiredRule:
    """A rule that matched: its node, the row (or statement / expression) and its outputs."""

    node: str
    node_type: str
    rule_id: str
    description: str
    index: int
    inputs: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class EngineResult:
    outputs: dict[str, Any]
    fired: tuple[FiredRule, ...]
    total_micros: float


def _rows(trace_data: Any) -> list[dict[str, Any]]:
    if isinstance(trace_data, dict) and "index" in trace_data:
        return [trace_data]
    if isinstance(trace_data, list):
        return [row for row in trace_data if isinstance(row, dict) and "index" in row]
    return []


def fired_rules(trace: dict[str, Any], node_types: dict[str, str]) -> tuple[FiredRule, ...]:
    """Every decision-table row and switch statement that matched, in evaluation order."""
    fired: list[FiredRule] = []
    ordered = sorted(trace.values(), key=lambda node: node.get("order", 0))
    for node in ordered:
        node_type = node_types.get(node.get("id", ""), "")
        if node_type not in ("decisionTableNode", "switchNode"):
            continue
        for row in _rows(node.get("traceData")):
            rule = row.get("rule") or {}
            inputs = tuple(sorted((str(k), v) for k, v in (row.get("reference_map") or {}).items()))
            fired.append(
                FiredRule(
                    node=str(node.get("name", node.get("id"))),
                    node_type=node_type,
                    rule_id=str(rule.get("_id", row.get("index"))),
                    description=str(rule.get("_description", "")),
                    index=int(row["index"]),
                    inputs=inputs,
                )
            )
    return tuple(fired)


class CompiledStrategy:
    """One strategy version compiled by zen-engine.

    Each version gets its own engine with the graph in a static loader: evaluating through
    `ZenEngine.evaluate(key)` costs about a quarter of `ZenDecision.evaluate` here (measured
    77 µs against 300 µs for the default strategy), and `evaluate_batch` runs many contexts
    in one call for back-testing."""

    _KEY = "strategy"

    def __init__(self, version: StrategyVersion):
        self.version = version
        self._engine = zen.ZenEngine(
            {"loader": {"type": "static", "content": {self._KEY: version.graph}}}
        )
        self._engine.create_decision(version.graph_json).validate()  # fail on a bad graph now
        self._node_types = {n["id"]: n["type"] for n in version.graph["nodes"]}
        # every name the graph could read: a feature it never mentions is not passed in
        # (zen copies the whole context through each node; 80 features cost twice 30)
        self._names = frozenset(_NAME.findall(version.graph_json))

    def _trim(self, context: dict[str, Any]) -> dict[str, Any]:
        names = self._names
        return {k: v for k, v in context.items() if k in names}

    def evaluate_batch(self, contexts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The outputs of many contexts in one call, without traces (back-testing)."""
        results = self._engine.evaluate_batch(
            [{"key": self._KEY, "context": self._trim(c)} for c in contexts], {"trace": False}
        )
        outputs: list[dict[str, Any]] = []
        for result in results:
            if not result.get("success"):
                raise StrategyEvaluationError(
                    f"strategy {self.version.label} failed: {result.get('error')}",
                    f"策略 {self.version.label} 执行失败：{result.get('error')}",
                )
            outputs.append(result["data"].get("result") or {})
        return outputs

    def evaluate(self, context: dict[str, Any], *, trace: bool = True) -> EngineResult:
        started = time.perf_counter()
        try:
            response = self._engine.evaluate(self._KEY, self._trim(context), {"trace": trace})
        except RuntimeError as exc:
            detail = str(exc).split("\n", 1)[0]
            with contextlib.suppress(ValueError):
                detail = json.loads(detail).get("source", detail)
            raise StrategyEvaluationError(
                f"strategy {self.version.label} failed: {detail}",
                f"策略 {self.version.label} 执行失败：{detail}",
            ) from None
        elapsed = (time.perf_counter() - started) * 1e6
        raw_trace = response.get("trace") or {}
        return EngineResult(
            outputs=response.get("result") or {},
            fired=fired_rules(raw_trace, self._node_types) if trace else (),
            total_micros=elapsed,
        )


class StrategyEngine:
    """Compiles each strategy version once and reuses it (keyed by content hash)."""

    def __init__(self) -> None:
        self._compiled: dict[str, CompiledStrategy] = {}

    def compiled(self, version: StrategyVersion) -> CompiledStrategy:
        found = self._compiled.get(version.content_hash)
        if found is None:
            found = CompiledStrategy(version)
            self._compiled[version.content_hash] = found
        return found

    def evaluate(
        self, version: StrategyVersion, context: dict[str, Any], *, trace: bool = True
    ) -> EngineResult:
        return self.compiled(version).evaluate(context, trace=trace)

    @property
    def compiled_count(self) -> int:
        return len(self._compiled)
