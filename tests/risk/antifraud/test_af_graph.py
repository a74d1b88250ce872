"""Relation graph: one hop vs two hops, components, hubs and rings (SPEC §7)."""

from __future__ import annotations

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xindai.errors import InvalidValue
from xindai.risk.antifraud import NodeKind, RelationGraph
from xindai.risk.antifraud.graph import GRAPH_FEATURES


def chain() -> RelationGraph:
    """A – B share a device, B lists C's phone as a contact, C – D share a device, and E
    shares nothing: a chain A–B–C–D (a tree) and an isolated applicant."""
    graph = RelationGraph()
    graph.add_applicant("A", phone="pA", devices=["d1"])
    graph.add_applicant("B", phone="pB", devices=["d1"], contact_phones=["pC"])
    graph.add_applicant("C", phone="pC", devices=["d2"], blacklisted=True)
    graph.add_applicant("D", phone="pD", devices=["d2"], overdue=True)
    graph.add_applicant("E", phone="pE", devices=["d9"], blacklisted=True)
    return graph


def test_one_hop_and_two_hops() -> None:
    graph = chain()
    a = graph.features("A")
    assert list(a) == list(GRAPH_FEATURES)
    assert a["graph_applicants_1hop"] == 1  # B
    assert a["graph_applicants_2hop"] == 2  # B, C (D is three hops away)
    assert (a["graph_blacklisted_1hop"], a["graph_blacklisted_2hop"]) == (0, 1)
    assert (a["graph_overdue_1hop"], a["graph_overdue_2hop"]) == (0, 0)
    b = graph.features("B")
    assert (b["graph_blacklisted_1hop"], b["graph_blacklisted_2hop"]) == (1, 1)
    assert (b["graph_overdue_1hop"], b["graph_overdue_2hop"]) == (0, 1)
    c = graph.features("C")  # its own flag does not count
    assert (c["graph_blacklisted_1hop"], c["graph_overdue_1hop"]) == (0, 1)
    assert a["graph_component_applicants"] == 4
    assert graph.features("E")["graph_component_applicants"] == 1
    assert graph.features("E")["graph_blacklisted_2hop"] == 0


def test_a_tree_is_not_a_ring() -> None:
    graph = chain()
    # a star: five applicants on one device is a tree in the applicant–identifier graph
    for n in range(5):
        graph.add_applicant(f"S{n}", devices=["star"])
    assert graph.find_rings() == []
    for applicant in ["A", "B", "C", "D", "S0"]:
        assert graph.features(applicant)["graph_ring"] is False


def test_a_planted_contact_ring_is_found() -> None:
    graph = chain()
    # R1 → R2 → R3 → R1 list one another's phones as contacts
    graph.add_applicant("R1", phone="r1", contact_phones=["r2"])
    graph.add_applicant("R2", phone="r2", contact_phones=["r3"])
    graph.add_applicant("R3", phone="r3", contact_phones=["r1"])
    graph.add_applicant("R4", phone="r4", contact_phones=["r1"])  # hangs off the ring
    assert graph.find_rings() == [{"R1", "R2", "R3"}]
    for applicant in ["R1", "R2", "R3"]:
        assert graph.features(applicant)["graph_ring"] is True
    assert graph.features("R4")["graph_ring"] is False
    assert graph.features("R4")["graph_component_applicants"] == 4
    # a two-applicant cycle is not a ring of three
    assert graph.find_rings(min_size=2)[0] == {"R1", "R2", "R3"}
    assert graph.features("R1", min_ring_size=4)["graph_ring"] is False


def test_a_device_passed_round_is_a_ring_and_two_sharing_twice_is_not() -> None:
    graph = RelationGraph()
    graph.add_applicant("X", devices=["d1", "d2"])
    graph.add_applicant("Y", devices=["d2", "d3"])
    graph.add_applicant("Z", devices=["d3", "d1"])
    graph.add_applicant("P", phone="p", devices=["dp"])
    graph.add_applicant("Q", phone="p", devices=["dp"])  # shares two identifiers with P
    assert graph.find_rings() == [{"X", "Y", "Z"}]
    assert graph.features("X")["graph_ring"] is True
    assert graph.features("P")["graph_ring"] is False
    assert graph.find_rings(min_size=2) == [{"X", "Y", "Z"}, {"P", "Q"}]


def test_three_sharing_one_device_and_one_phone_are_a_ring() -> None:
    graph = RelationGraph()
    for name in "UVW":
        graph.add_applicant(name, devices=["dev"], contact_phones=["same-contact"])
    assert graph.find_rings() == [{"U", "V", "W"}]
    assert graph.features("U")["graph_ring"] is True


def test_an_application_not_yet_added_is_scored_on_its_own_links() -> None:
    graph = chain()
    virtual = graph.features("N", phone="pN", devices=["d1"], contact_phones=["pD"])
    graph.add_applicant("N", phone="pN", devices=["d1"], contact_phones=["pD"])
    assert virtual == graph.features("N")
    assert virtual["graph_applicants_1hop"] == 3  # A and B on d1, D by phone
    assert virtual["graph_component_applicants"] == 5
    # N closes the cycle N–d1–B–pC–C–d2–D–pD–N: a ring within two hops of N
    assert virtual["graph_ring"] is True
    assert "N" in graph


def test_an_unknown_applicant_without_links() -> None:
    features = chain().features("nobody")
    assert features["graph_component_applicants"] == 1
    assert features["graph_applicants_2hop"] == 0 and features["graph_ring"] is False


def test_hub_nodes_link_nobody() -> None:
    graph = RelationGraph(max_link_applicants=3)
    graph.add_applicant("H1", devices=["emulator"], phone="h1")
    graph.add_applicant("H2", devices=["emulator"])
    assert graph.features("H1")["graph_component_applicants"] == 2
    graph.add_applicant("H3", devices=["emulator"])
    graph.add_applicant("H4", devices=["emulator"], contact_phones=["h1"])  # now a hub
    h1 = graph.features("H1")
    assert h1["graph_applicants_1hop"] == 1  # only H4, through H1's phone
    assert h1["graph_component_applicants"] == 2
    assert graph.features("H2")["graph_component_applicants"] == 1


def test_flags_and_validation() -> None:
    graph = chain()
    graph.set_flags("A", overdue=True)
    assert graph.flags("A").overdue and not graph.flags("A").blacklisted
    graph.set_flags("A", blacklisted=True, overdue=False)
    assert graph.flags("A").blacklisted and not graph.flags("A").overdue
    assert graph.features("B")["graph_blacklisted_1hop"] == 2
    assert graph.applicant_count == 5
    with pytest.raises(InvalidValue):
        graph.add_applicant("")
    with pytest.raises(InvalidValue):
        RelationGraph(max_link_applicants=1)
    with pytest.raises(InvalidValue):
        graph.find_rings(min_size=1)


# --- the local search against networkx, on random small graphs ---------------------------

links = st.lists(
    st.tuples(st.integers(0, 7), st.sampled_from(["own", "device", "contact"]), st.integers(0, 5)),
    max_size=24,
)


def build(edges: list[tuple[int, str, int]], limit: int) -> RelationGraph:
    graph = RelationGraph(max_link_applicants=limit)
    for applicant in range(8):
        graph.add_applicant(
            f"a{applicant}", blacklisted=applicant % 3 == 0, overdue=applicant % 2 == 0
        )
    for applicant, kind, node in edges:
        if kind == "device":
            graph.add_applicant(f"a{applicant}", devices=[f"d{node}"])
        elif kind == "own":
            graph.add_applicant(f"a{applicant}", phone=f"p{node}")
        else:
            graph.add_applicant(f"a{applicant}", contact_phones=[f"p{node}"])
    return graph


def linking_graph(graph: RelationGraph) -> nx.Graph:
    whole = graph.graph
    keep = [
        n
        for n in whole
        if n[0] is NodeKind.APPLICANT or whole.degree(n) <= graph.max_link_applicants
    ]
    return whole.subgraph(keep)


@settings(max_examples=150, deadline=None)
@given(edges=links, limit=st.integers(2, 8))
def test_features_agree_with_networkx(edges: list[tuple[int, str, int]], limit: int) -> None:
    graph = build(edges, limit)
    linked = linking_graph(graph)
    global_ring_members = set().union(*graph.find_rings(), set())
    for applicant in range(8):
        me = (NodeKind.APPLICANT, f"a{applicant}")
        distances = nx.single_source_shortest_path_length(linked, me, cutoff=4)
        hop1 = {n for n, d in distances.items() if d == 2}
        within2 = {n for n, d in distances.items() if d in (2, 4)}
        features = graph.features(f"a{applicant}")
        assert features["graph_applicants_1hop"] == len(hop1)
        assert features["graph_applicants_2hop"] == len(within2)
        assert features["graph_blacklisted_2hop"] == sum(
            graph.flags(n[1]).blacklisted for n in within2
        )
        assert features["graph_overdue_1hop"] == sum(graph.flags(n[1]).overdue for n in hop1)
        component = nx.node_connected_component(linked, me)
        assert features["graph_component_applicants"] == sum(
            1 for n in component if n[0] is NodeKind.APPLICANT
        )
        ball = linked.subgraph([n for n, d in distances.items() if d <= 4])
        local = any(
            me in block and sum(1 for n in block if n[0] is NodeKind.APPLICANT) >= 3
            for block in nx.biconnected_components(ball)
        )
        assert features["graph_ring"] is local
        if local:  # a ring within two hops is a ring of the whole graph
            assert f"a{applicant}" in global_ring_members


@settings(max_examples=100, deadline=None)
@given(
    edges=links,
    limit=st.integers(2, 8),
    phone=st.one_of(st.none(), st.integers(0, 5)),
    devices=st.lists(st.integers(0, 5), max_size=2),
    contacts=st.lists(st.integers(0, 5), max_size=3),
)
def test_an_application_scores_alike_before_and_after_it_is_added(
    edges: list[tuple[int, str, int]],
    limit: int,
    phone: int | None,
    devices: list[int],
    contacts: list[int],
) -> None:
    links_of_new = dict(
        phone=None if phone is None else f"p{phone}",
        devices=[f"d{n}" for n in devices],
        contact_phones=[f"p{n}" for n in contacts],
    )
    graph = build(edges, limit)
    before = graph.features("new", **links_of_new)  # type: ignore[arg-type]
    hubs_before = {
        n for n in graph.graph if n[0] is not NodeKind.APPLICANT and graph.graph.degree(n) > limit
    }
    graph.add_applicant("new", **links_of_new)  # type: ignore[arg-type]
    hubs_after = {
        n for n in graph.graph if n[0] is not NodeKind.APPLICANT and graph.graph.degree(n) > limit
    }
    if hubs_before == hubs_after:  # adding may turn a node into a hub, changing the links
        assert graph.features("new") == before
