"""The relation graph (关联图谱): applicants linked through the phones and devices they share,
with blacklisted / overdue flags, two-hop link features and fraud rings (团伙).

The graph is bipartite: applicant nodes on one side, identifier nodes (device, phone) on the
other. Edges are applicant–own phone, applicant–device and applicant–contact phone; a contact
phone is the same node as that number's own phone, so "A lists B's phone as a contact" links
A and B. Two applicants are one hop apart when they share an identifier node, two hops when
they are linked through a third applicant.

An identifier shared by more than `max_link_applicants` applicants (a switchboard number, an
emulator's default device id) says nothing about who knows whom, and it would make every
local search visit thousands of applicants: such *hub* nodes link nobody. The device-sharing
and velocity features measure them instead.

Ring (团伙环): a set of at least `min_size` applicants in one biconnected component (block)
of the applicant–identifier graph without hubs: any two of them are joined by two paths that
share no applicant and no identifier in between, so the group stays linked whichever single
applicant or identifier is taken away. A chain or a star (a tree) is never a ring; three
applicants listing one another as contacts in a cycle, or passing devices round in a cycle,
or sharing both a device and a phone, are. `find_rings` finds every ring in the graph;
`graph_ring` asks only whether the applicant is in a ring within its two-hop neighbourhood,
so that a feature costs a local search, not a whole-graph algorithm.

The graph is a snapshot of the links and flags the caller loaded for the decision time; it
takes no time itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import networkx as nx  # type: ignore[import-untyped]

from xindai.errors import InvalidValue

DEFAULT_MAX_LINK_APPLICANTS = 200
"""Identifier nodes shared by more applicants than this are hubs and link nobody."""

DEFAULT_MIN_RING_SIZE = 3
"""The fewest applicants that make a ring."""

GRAPH_FEATURES: tuple[str, ...] = (
    "graph_applicants_1hop",
    "graph_applicants_2hop",
    "graph_blacklisted_1hop",
    "graph_blacklisted_2hop",
    "graph_overdue_1hop",
    "graph_overdue_2hop",
    "graph_component_applicants",
    "graph_ring",
)
"""Feature names written by `RelationGraph.features`, in order."""


class NodeKind(StrEnum):
    APPLICANT = "applicant"
    DEVICE = "device"
    PHONE = "phone"  # own phones and contact phones alike


class LinkKind(StrEnum):
    """Why an applicant is joined to an identifier node (kept on the edge as `links`)."""

    OWN_PHONE = "own_phone"
    DEVICE = "device"
    CONTACT_PHONE = "contact_phone"


Node = tuple[NodeKind, str]
"""A graph node: its kind and its key (applicant id, or the identifier's keyed hash)."""


@dataclass(frozen=True, slots=True)
class ApplicantFlags:
    """What is known against an applicant: blacklisted, or overdue on a loan."""

    blacklisted: bool = False
    overdue: bool = False


_APPLICANT = NodeKind.APPLICANT  # a module constant: enum attribute access is slow in 3.11
_LINK_KINDS = {kind.value: kind for kind in LinkKind}


def _applicant(applicant_id: str) -> Node:
    return (_APPLICANT, applicant_id)


def _identifier_nodes(
    phone: str | None, devices: Iterable[str], contact_phones: Iterable[str]
) -> list[tuple[Node, LinkKind]]:
    links: list[tuple[Node, LinkKind]] = []
    if phone is not None:
        links.append(((NodeKind.PHONE, phone), LinkKind.OWN_PHONE))
    links.extend(((NodeKind.DEVICE, device), LinkKind.DEVICE) for device in devices)
    links.extend(((NodeKind.PHONE, contact), LinkKind.CONTACT_PHONE) for contact in contact_phones)
    return links


def _largest_block_at(root: Node, neighbours: Callable[[Node], Iterable[Node]]) -> int:
    """The most applicants in one biconnected component containing `root`, by an iterative
    Hopcroft–Tarjan search from `root` over the graph that `neighbours` describes."""
    disc: dict[Node, int] = {root: 0}
    low: dict[Node, int] = {root: 0}
    edges: list[tuple[Node, Node]] = []
    stack: list[tuple[Node, Node | None, Iterator[Node]]] = [(root, None, iter(neighbours(root)))]
    best = 0
    while stack:
        vertex, parent, pending = stack[-1]
        for other in pending:
            if other not in disc:
                disc[other] = low[other] = len(disc)
                edges.append((vertex, other))
                stack.append((other, vertex, iter(neighbours(other))))
                break
            if other != parent and disc[other] < disc[vertex]:
                if disc[other] < low[vertex]:
                    low[vertex] = disc[other]
                edges.append((vertex, other))
        else:
            stack.pop()
            if not stack:
                break
            above = stack[-1][0]
            if low[vertex] < low[above]:
                low[above] = low[vertex]
            if low[vertex] >= disc[above]:
                # `above` separates the block just finished from the rest: pop its edges
                applicants: set[Node] = set()
                while True:
                    edge = edges.pop()
                    for end in edge:
                        if end[0] is _APPLICANT:
                            applicants.add(end)
                    if edge == (above, vertex):
                        break
                if above == root and len(applicants) > best:
                    best = len(applicants)
    return best


class RelationGraph:
    """Applicants, the phones and devices they use and list as contacts, and their flags.

    Links are only added. Component sizes are kept by an incremental union-find (rebuilt
    once when a node turns into a hub), so `graph_component_applicants` costs no graph walk.
    """

    def __init__(self, *, max_link_applicants: int = DEFAULT_MAX_LINK_APPLICANTS) -> None:
        if (
            not isinstance(max_link_applicants, int)
            or isinstance(max_link_applicants, bool)
            or max_link_applicants < 2
        ):
            raise InvalidValue(
                "max_link_applicants", max_link_applicants, "must be at least 2", "必须至少为 2"
            )
        self.max_link_applicants = max_link_applicants
        self._graph: Any = nx.Graph()
        # networkx's own adjacency dict: read directly on the hot path (its views cost more),
        # written only through the Graph API
        self._adj: dict[Node, dict[Node, dict[str, Any]]] = self._graph._adj
        self._flags: dict[str, ApplicantFlags] = {}
        self._parent: dict[str, str] = {}
        self._size: dict[str, int] = {}
        self._components_stale = False

    @classmethod
    def from_links(
        cls,
        links: Iterable[tuple[str, str, str]],
        *,
        max_link_applicants: int = DEFAULT_MAX_LINK_APPLICANTS,
    ) -> RelationGraph:
        """A graph built in one pass from `(applicant id, link kind, identifier hash)` triples
        (link kind: a `LinkKind` value) — one networkx call instead of one per link, for
        graphs loaded from the database per decision; components are worked out on first
        use. Flags start unset (`set_flags`)."""
        graph = cls(max_link_applicants=max_link_applicants)
        edges: dict[tuple[Node, Node], set[LinkKind]] = {}
        for applicant_id, link, value in links:
            kind = _LINK_KINDS[link]
            node = (NodeKind.DEVICE if kind is LinkKind.DEVICE else NodeKind.PHONE, value)
            edges.setdefault(((_APPLICANT, applicant_id), node), set()).add(kind)
        applicants = {edge[0] for edge in edges}
        graph._graph.add_nodes_from(applicants)
        graph._graph.add_edges_from((a, n, {"links": kinds}) for (a, n), kinds in edges.items())
        graph._flags = {node[1]: ApplicantFlags() for node in applicants}
        graph._components_stale = True
        return graph

    @property
    def graph(self) -> Any:
        """The underlying `networkx.Graph` for analysis; do not modify it directly."""
        return self._graph

    def __contains__(self, applicant_id: object) -> bool:
        return applicant_id in self._flags

    @property
    def applicant_count(self) -> int:
        return len(self._flags)

    def flags(self, applicant_id: str) -> ApplicantFlags:
        """The applicant's flags (all False for an unknown applicant)."""
        return self._flags.get(applicant_id, ApplicantFlags())

    def set_flags(
        self,
        applicant_id: str,
        *,
        blacklisted: bool | None = None,
        overdue: bool | None = None,
    ) -> None:
        """Set (True / False) or keep (None) the applicant's flags; adds the applicant."""
        self._ensure_applicant(applicant_id)
        current = self._flags[applicant_id]
        self._flags[applicant_id] = ApplicantFlags(
            blacklisted=current.blacklisted if blacklisted is None else blacklisted,
            overdue=current.overdue if overdue is None else overdue,
        )

    def add_applicant(
        self,
        applicant_id: str,
        *,
        phone: str | None = None,
        devices: Iterable[str] = (),
        contact_phones: Iterable[str] = (),
        blacklisted: bool | None = None,
        overdue: bool | None = None,
    ) -> None:
        """Add (or extend) an applicant with its own phone, devices and contact phones (keyed
        hashes) and set its flags (None keeps them; a new applicant starts unflagged)."""
        self.set_flags(applicant_id, blacklisted=blacklisted, overdue=overdue)
        applicant = _applicant(applicant_id)
        for node, link in _identifier_nodes(phone, devices, contact_phones):
            self._link(applicant, node, link)

    def _ensure_applicant(self, applicant_id: str) -> None:
        if not isinstance(applicant_id, str) or not applicant_id:
            raise InvalidValue(
                "applicant_id", applicant_id, "must be a non-empty string", "必须是非空字符串"
            )
        if applicant_id not in self._flags:
            self._flags[applicant_id] = ApplicantFlags()
            self._graph.add_node(_applicant(applicant_id))
            self._parent[applicant_id] = applicant_id
            self._size[applicant_id] = 1

    def _link(self, applicant: Node, node: Node, link: LinkKind) -> None:
        if node in self._adj and applicant in self._adj[node]:
            self._adj[node][applicant]["links"].add(link)
            return
        self._graph.add_edge(applicant, node, links={link})
        degree = len(self._adj[node])
        if degree == self.max_link_applicants + 1:
            self._components_stale = True  # a hub now: the unions it made must be undone
        elif degree > 1 and not self._components_stale and degree <= self.max_link_applicants:
            other = next(n for n in self._adj[node] if n != applicant)
            self._union(applicant[1], other[1])

    def _is_hub(self, node: Node) -> bool:
        return len(self._adj[node]) > self.max_link_applicants

    # --- components (union-find over applicant ids) ---------------------------------------

    def _find(self, applicant_id: str) -> str:
        parent = self._parent
        while parent[applicant_id] != applicant_id:
            parent[applicant_id] = parent[parent[applicant_id]]
            applicant_id = parent[applicant_id]
        return applicant_id

    def _union(self, first: str, second: str) -> None:
        a, b = self._find(first), self._find(second)
        if a == b:
            return
        if self._size[a] < self._size[b]:
            a, b = b, a
        self._parent[b] = a
        self._size[a] += self._size.pop(b)

    def _rebuild_components(self) -> None:
        self._parent = {applicant_id: applicant_id for applicant_id in self._flags}
        self._size = dict.fromkeys(self._flags, 1)
        for node, neighbours in self._adj.items():
            if node[0] is _APPLICANT or not 2 <= len(neighbours) <= self.max_link_applicants:
                continue
            first, *others = neighbours
            for other in others:
                self._union(first[1], other[1])
        self._components_stale = False

    # --- features -------------------------------------------------------------------------

    def features(
        self,
        applicant_id: str,
        *,
        phone: str | None = None,
        devices: Iterable[str] = (),
        contact_phones: Iterable[str] = (),
        min_ring_size: int = DEFAULT_MIN_RING_SIZE,
    ) -> dict[str, int | bool]:
        """Link features of `applicant_id` (see `GRAPH_FEATURES`), over its links in the graph
        plus the phone, devices and contact phones given (the application being decided need
        not have been added; the graph is not changed):

        - `graph_applicants_1hop` / `_2hop`: other applicants within one / two hops;
        - `graph_blacklisted_1hop` / `_2hop`: blacklisted applicants among them;
        - `graph_overdue_1hop` / `_2hop`: overdue applicants among them;
        - `graph_component_applicants`: applicants in its connected component, itself included;
        - `graph_ring`: in a ring of at least `min_ring_size` applicants within two hops.

        Two-hop counts include the one-hop ones.
        """
        if min_ring_size < 2:
            raise InvalidValue("min_ring_size", min_ring_size, "must be at least 2", "必须至少为 2")
        adj = self._adj
        root = _applicant(applicant_id)
        own: set[Node] = set(adj[root]) if root in adj else set()
        own.update(node for node, _ in _identifier_nodes(phone, devices, contact_phones))
        own = {node for node in own if node in adj and not self._is_hub(node)}

        hop1: set[Node] = set()
        for node in own:
            hop1.update(adj[node])
        hop1.discard(root)
        second: set[Node] = set()
        for applicant in hop1:
            second.update(n for n in adj[applicant] if n not in own and not self._is_hub(n))
        hop2: set[Node] = set()
        for node in second:
            hop2.update(adj[node])
        hop2 -= hop1
        hop2.discard(root)

        flags = self._flags
        blacklisted_1 = sum(1 for n in hop1 if flags[n[1]].blacklisted)
        overdue_1 = sum(1 for n in hop1 if flags[n[1]].overdue)
        blacklisted_2 = blacklisted_1 + sum(1 for n in hop2 if flags[n[1]].blacklisted)
        overdue_2 = overdue_1 + sum(1 for n in hop2 if flags[n[1]].overdue)

        return {
            "graph_applicants_1hop": len(hop1),
            "graph_applicants_2hop": len(hop1) + len(hop2),
            "graph_blacklisted_1hop": blacklisted_1,
            "graph_blacklisted_2hop": blacklisted_2,
            "graph_overdue_1hop": overdue_1,
            "graph_overdue_2hop": overdue_2,
            "graph_component_applicants": self._component_size(applicant_id, own),
            "graph_ring": self._local_ring(root, own, hop1, second, hop2, min_ring_size),
        }

    def _component_size(self, applicant_id: str, own: set[Node]) -> int:
        if self._components_stale:
            self._rebuild_components()
        roots: set[str] = set()
        known = applicant_id in self._parent
        if known:
            roots.add(self._find(applicant_id))
        for node in own:
            other = next((n for n in self._adj[node] if n[1] != applicant_id), None)
            if other is not None:
                roots.add(self._find(other[1]))
        return sum(self._size[root] for root in roots) + (0 if known else 1)

    def _local_ring(
        self,
        root: Node,
        own: set[Node],
        hop1: set[Node],
        second: set[Node],
        hop2: set[Node],
        min_ring_size: int,
    ) -> bool:
        # a cycle through the applicant needs two of its identifiers and somebody else
        if len(own) < 2 or len(hop1) + len(hop2) < min_ring_size - 1:
            return False
        ball = own | hop1 | second | hop2
        ball.add(root)
        adj = self._adj

        def neighbours(vertex: Node) -> list[Node]:
            if vertex == root:
                return list(own)
            linked = adj[vertex]
            within = [n for n in linked if n in ball]
            if vertex in own and root not in linked:
                within.append(root)  # the application's links need not be in the graph yet
            return within

        return _largest_block_at(root, neighbours) >= min_ring_size

    # --- rings for review -----------------------------------------------------------------

    def find_rings(self, min_size: int = DEFAULT_MIN_RING_SIZE) -> list[set[str]]:
        """Every ring of at least `min_size` applicants (applicant ids), largest first; a
        whole-graph search (biconnected components) for the risk team's review, not for the
        per-application path. Rings that share a cut applicant are reported separately."""
        if min_size < 2:
            raise InvalidValue("min_size", min_size, "must be at least 2", "必须至少为 2")
        linking = [
            node
            for node, neighbours in self._adj.items()
            if node[0] is _APPLICANT or len(neighbours) <= self.max_link_applicants
        ]
        rings: list[set[str]] = []
        for block in nx.biconnected_components(self._graph.subgraph(linking)):
            applicants = {key for kind, key in block if kind is NodeKind.APPLICANT}
            if len(applicants) >= min_size:
                rings.append(applicants)
        rings.sort(key=lambda ring: (-len(ring), sorted(ring)))
        return rings
