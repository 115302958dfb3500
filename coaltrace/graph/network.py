"""The period's facility graph as NetworkX sees it: components and round-tripping cycles.

Built from the stored, aggregated flows (one edge per seller and buyer, never
one per trip), so its size is the number of trading relations, not of trucks.

A round trip is coal sold back and forth in a cycle (A sells to B, B to C, C
back to A): traders do it to make coal of no source look traded, and to
inflate turnover. `round_trips` lists every simple cycle of at most
`max_length` facilities (`nx.simple_cycles` with a length bound, which keeps the
search polynomial), each with the least tonnes on any of its flows: the most
coal that can have gone all the way round.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx

# A cycle longer than this is a supply chain that closes on itself by chance, not a round trip.
MAX_CYCLE_LENGTH = 4
# More cycles than this in one period: the graph is dense and the list would be noise; it is cut, and says so.
MAX_CYCLES = 1000


def facility_graph(nodes: Iterable[Mapping[str, Any]], edges: Iterable[Mapping[str, Any]]) -> nx.DiGraph:
    """Nodes keyed by `facility_id`, edges by `seller_id` and `buyer_id`; every other field an attribute."""
    import networkx as nx

    g = nx.DiGraph()
    for n in nodes:
        g.add_node(n["facility_id"], **{k: v for k, v in n.items() if k != "facility_id"})
    for e in edges:
        attrs = {k: v for k, v in e.items() if k not in ("seller_id", "buyer_id")}
        g.add_edge(e["seller_id"], e["buyer_id"], **attrs)
    return g


def components(g: nx.DiGraph) -> dict[str, int]:
    """Each facility's weakly connected component: 1 is the largest (ties by smallest id), and so on."""
    import networkx as nx

    parts = sorted(nx.weakly_connected_components(g), key=lambda c: (-len(c), min(c)))
    return {node: i for i, part in enumerate(parts, start=1) for node in part}


def round_trips(g: nx.DiGraph, max_length: int = MAX_CYCLE_LENGTH, limit: int = MAX_CYCLES) -> list[dict[str, Any]]:
    """Every cycle of 2 to MAX_LENGTH facilities, heaviest first; at most LIMIT of them.

    Each: `cycle_id` (its facilities from the smallest id, joined by `>`), `facilities`,
    `length`, `tonnes_round` (the least tonnes of its flows) and `tonnes_each` (per flow).
    """
    import networkx as nx

    found: list[dict[str, Any]] = []
    for cycle in nx.simple_cycles(g, length_bound=max_length):
        if len(cycle) < 2:
            continue  # a facility selling to itself is no trade
        start = cycle.index(min(cycle))
        ring = cycle[start:] + cycle[:start]
        hops = list(zip(ring, ring[1:] + ring[:1], strict=True))
        tonnes = [float(g.edges[a, b].get("tonnes") or 0.0) for a, b in hops]
        found.append(
            {
                "cycle_id": ">".join(ring),
                "facilities": ring,
                "length": len(ring),
                "tonnes_round": min(tonnes),
                "tonnes_each": tonnes,
            }
        )
        if len(found) > limit * 10:
            break  # enough to rank; a graph this dense has more cycles than anyone reads
    found.sort(key=lambda c: (-c["tonnes_round"], c["cycle_id"]))
    return found[:limit]


def cycles_of(cycles: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Facility id -> the ids of the cycles it is part of."""
    out: dict[str, list[str]] = {}
    for c in cycles:
        for f in c["facilities"]:
            out.setdefault(f, []).append(c["cycle_id"])
    return out
