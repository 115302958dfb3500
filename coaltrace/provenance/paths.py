"""The heaviest paths of one facility's coal, best first, on the aggregated graph.

Upstream, a path's tonnes are the part of the facility's coal that entered the
chain at the path's first facility and travelled along it: the facility's
total times, at every step, the fraction of the buyer's coal that came from
that seller, times the fraction of the first facility's coal that entered
there. Downstream, they are the tonnes of the facility's coal that reached the
path's last facility along it. Both only shrink as a path grows, so a
best-first search pops complete paths in order and stops after `limit`.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Literal

import numpy as np

Direction = Literal["upstream", "downstream"]
_MAX_POPS = 200_000  # bounds the search on dense graphs; the best paths come first anyway


@dataclass(frozen=True)
class FlowGraph:
    ids: list[str]
    seller: np.ndarray
    buyer: np.ndarray
    tonnes: np.ndarray
    total: np.ndarray  # per facility: x_f of the solve
    own: np.ndarray  # per facility: tonnes that entered the chain there
    yield_factor: np.ndarray

    def neighbours(self, direction: Direction) -> tuple[np.ndarray, np.ndarray]:
        """CSR-style (start offsets, edge order) of edges grouped by the node we step from."""
        key = self.buyer if direction == "upstream" else self.seller
        order = np.argsort(key, kind="stable")
        starts = np.searchsorted(key[order], np.arange(len(self.ids) + 1))
        return starts, order


def heaviest_paths(
    g: FlowGraph, start: int, direction: Direction, depth: int, limit: int = 10
) -> list[tuple[list[str], float]]:
    """Up to `limit` simple paths of at most `depth` flows, heaviest first."""
    starts, order = g.neighbours(direction)
    safe_total = np.where(g.total > 0, g.total, 1.0)
    found: list[tuple[list[str], float]] = []
    # heap items: (-tonnes, tie, is_complete, path of indices)
    heap: list[tuple[float, int, bool, tuple[int, ...]]] = []
    tie = 0
    first = g.total[start] if direction == "upstream" else 0.0
    heapq.heappush(heap, (-first, tie, False, (start,)))
    pops = 0
    while heap and len(found) < limit and pops < _MAX_POPS:
        neg, _, complete, path = heapq.heappop(heap)
        pops += 1
        weight = -neg
        if complete:
            names = [g.ids[i] for i in path]
            found.append((names[::-1] if direction == "upstream" else names, weight))
            continue
        v = path[-1]
        if direction == "upstream" and g.own[v] > 0:
            tie += 1
            heapq.heappush(heap, (-(weight * g.own[v] / safe_total[v]), tie, True, path))
        if direction == "downstream" and len(path) > 1:
            tie += 1
            heapq.heappush(heap, (-weight, tie, True, path))
        if len(path) > depth:
            continue
        for e in order[starts[v] : starts[v + 1]]:
            if direction == "upstream":
                nxt = int(g.seller[e])
                w = weight * g.yield_factor[v] * g.tonnes[e] / safe_total[v]
            else:
                nxt = int(g.buyer[e])
                w = g.tonnes[e] if len(path) == 1 else weight * g.yield_factor[v] * g.tonnes[e] / safe_total[v]
            if nxt in path or w <= 0:
                continue
            tie += 1
            heapq.heappush(heap, (-w, tie, False, (*path, nxt)))
    return found
