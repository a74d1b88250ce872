"""An immutable strategy version: a JDM decision graph with its content hash.

A version never changes once created: its id is the SHA-256 of the canonical JSON of its
graph, so a stored decision names exactly the rules it ran.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from xindai.errors import InvalidValue

NODE_TYPES = frozenset(
    {
        "inputNode",
        "outputNode",
        "decisionTableNode",
        "expressionNode",
        "switchNode",
        "functionNode",
        "decisionNode",
    }
)


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(graph: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(graph).encode()).hexdigest()


def validate_graph(graph: Any) -> None:
    """Check the JDM structure: nodes with known types, one input and one output node,
    edges between existing nodes, every node reachable from the input."""
    if not isinstance(graph, dict):
        raise InvalidValue(
            "strategy", type(graph).__name__, "must be a JDM object", "策略必须是 JDM 对象"
        )
    nodes, edges = graph.get("nodes"), graph.get("edges")
    if not isinstance(nodes, list) or not isinstance(edges, list) or not nodes:
        raise InvalidValue(
            "strategy",
            "nodes/edges",
            "needs non-empty nodes and an edges list",
            "需要节点和连线列表",
        )
    ids: dict[str, str] = {}
    for node in nodes:
        node_id, node_type = node.get("id"), node.get("type")
        if not isinstance(node_id, str) or node_id in ids:
            raise InvalidValue(
                "strategy.node.id", node_id, "missing or duplicated", "节点 id 缺失或重复"
            )
        if node_type not in NODE_TYPES:
            raise InvalidValue(
                f"strategy.node[{node_id}].type", node_type, "unknown node type", "未知节点类型"
            )
        ids[node_id] = node_type
    for kind in ("inputNode", "outputNode"):
        if sum(1 for t in ids.values() if t == kind) != 1:
            raise InvalidValue("strategy", kind, "exactly one is needed", "必须且只能有一个")
    successors: dict[str, list[str]] = {node_id: [] for node_id in ids}
    for edge in edges:
        source, target = edge.get("sourceId"), edge.get("targetId")
        if source not in ids or target not in ids:
            raise InvalidValue(
                "strategy.edge", edge.get("id"), "joins unknown nodes", "连线指向不存在的节点"
            )
        successors[source].append(target)
    start = next(node_id for node_id, t in ids.items() if t == "inputNode")
    seen, stack = {start}, [start]
    while stack:
        for nxt in successors[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    unreachable = sorted(set(ids) - seen)
    if unreachable:
        raise InvalidValue(
            "strategy.node", unreachable[0], "is not reachable from the input", "从输入节点不可达"
        )


@dataclass(frozen=True, slots=True)
class StrategyVersion:
    """One immutable version of a named strategy."""

    name: str
    version: int
    graph_json: str  # canonical JSON of the JDM graph
    content_hash: str
    created_by: str
    created_at: str  # ISO timestamp given by the caller (business clock, not wall clock)
    notes: str = ""

    @classmethod
    def create(
        cls,
        name: str,
        version: int,
        graph: dict[str, Any],
        *,
        created_by: str,
        created_at: str,
        notes: str = "",
    ) -> StrategyVersion:
        validate_graph(graph)
        if not name or not name.replace("_", "").replace("-", "").isalnum():
            raise InvalidValue(
                "strategy.name", name, "must be letters, digits, - or _", "只能包含字母、数字、-、_"
            )
        if version < 1:
            raise InvalidValue("strategy.version", version, "must be ≥ 1", "版本号必须 ≥ 1")
        return cls(
            name, version, canonical_json(graph), content_hash(graph), created_by, created_at, notes
        )

    @property
    def graph(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.graph_json)
        return data

    @property
    def label(self) -> str:
        return f"{self.name}@v{self.version}"
