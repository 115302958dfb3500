"""The input-output attribution as sparse linear algebra.

After Kastner et al. (2011) and Franca et al. (Nature Sustainability, 2023):
every facility f holds a total x_f = its own sources (production by class,
shortfall, opening stock) + yield_f × the tonnes it received. Its coal is a
mix: c_f = s_f / x_f + Σ_j Q[f, j] c_j with Q[f, j] = yield_f × w_jf / x_f, so
C = (I - Q)^-1 diag(1/x) S, the Leontief inverse of the row-normalised flows.
Cycles (two traders selling back and forth) are just more non-zeros in Q; no
path is ever enumerated.

Up to `direct_max_nodes` facilities the system is factorised once (SuperLU);
above that, fill-in on a large strongly connected component would cost more
than iterating: the Neumann series C ← B + Q C converges in about as many
sweeps as the chain is deep, and GMRES finishes any column that a slow cycle
holds back. Only facilities on or between cycles need the sweeps until the
series has converged; those upstream of every cycle and those downstream of
them only are solved before and after, each in as many sweeps as their part
of the chain is deep (`_parts`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components
from scipy.sparse.linalg import gmres, splu

CLASSES: tuple[str, ...] = ("licensed", "over_capacity", "unlicensed", "unsourced", "data_gap", "opening_stock")
LICENSED, OVER_CAPACITY, UNLICENSED, UNSOURCED, DATA_GAP, OPENING_STOCK = range(6)
# Coal at risk: it entered the chain with no licensed source. `data_gap` is a gap in
# the data (a kind of facility whose inflows nobody recorded), not a judgement.
SUSPECT = (OVER_CAPACITY, UNLICENSED, UNSOURCED)
GROUPED = -1  # origin index of the row that groups every origin not tracked one by one

_MAX_SWEEPS = 400
_CONVERGED = 1e-15
_BLOCK = 32  # columns summed together: 20,000 facilities x 32 is 5 MB of terms


@dataclass(frozen=True)
class Network:
    """Facilities 0..n-1, the aggregated flows between them, and what enters at each."""

    seller: np.ndarray  # int64, one per flow; seller != buyer, tonnes > 0
    buyer: np.ndarray
    tonnes: np.ndarray
    yield_factor: np.ndarray  # (n,)
    sources: np.ndarray  # (n, len(CLASSES)) tonnes entering the chain at each facility

    @property
    def n(self) -> int:
        return len(self.yield_factor)

    def inflow(self) -> np.ndarray:
        return np.bincount(self.buyer, self.tonnes, minlength=self.n)

    def outflow(self) -> np.ndarray:
        return np.bincount(self.seller, self.tonnes, minlength=self.n)

    def total(self) -> np.ndarray:
        return np.asarray(self.sources.sum(axis=1) + self.yield_factor * self.inflow())


@dataclass(frozen=True)
class Attribution:
    total: np.ndarray  # x_f
    class_share: np.ndarray  # (n, len(CLASSES)); rows sum to 1 where total > 0
    tracked: np.ndarray  # bool (n,): origin facilities tracked one by one
    facility: np.ndarray  # one entry per origin row
    origin: np.ndarray  # origin facility, or GROUPED
    origin_class: np.ndarray
    share: np.ndarray


def close_loops(net: Network) -> np.ndarray:
    """Unsourced tonnes that make coal circulating in a closed loop traceable.

    A ring of facilities that only sell to each other, with nothing entering it,
    has coal of no origin at all, and I - Q is singular there. In each such ring
    the facility that ships most (lowest index on a tie) gets its outflow as
    unsourced: the biggest shipment in the ring is coal that came from nowhere.
    """
    n = net.n
    extra = np.zeros(n)
    has_source = net.sources.sum(axis=1) > 0
    if n == 0 or not len(net.seller):
        return extra
    # A virtual node n feeds every facility with a source; what it cannot reach is in trouble.
    roots = np.flatnonzero(has_source)
    adj = sp.csr_matrix(
        (np.ones(len(net.seller) + len(roots)), (np.r_[net.seller, np.full(len(roots), n)], np.r_[net.buyer, roots])),
        shape=(n + 1, n + 1),
    )
    reached = np.zeros(n + 1, dtype=bool)
    reached[breadth_first_order(adj, n, directed=True, return_predecessors=False)] = True
    stuck = ~reached[:n] & (net.inflow() > 0)
    if not stuck.any():
        return extra
    _, label = connected_components(adj[:n, :n], directed=True, connection="strong")
    fed = np.zeros(label.max() + 1, dtype=bool)  # components fed from another stuck component
    cross = stuck[net.seller] & stuck[net.buyer] & (label[net.seller] != label[net.buyer])
    fed[label[net.buyer[cross]]] = True
    out = net.outflow()
    for comp in np.unique(label[stuck]):
        if fed[comp]:
            continue
        members = np.flatnonzero(label == comp)
        head = members[np.argmax(out[members])]  # argmax takes the first, i.e. lowest index
        extra[head] = out[head]
    return extra


def _row_normalised(net: Network, x: np.ndarray) -> sp.csr_matrix:
    safe = np.where(x > 0, x, 1.0)
    weights = net.yield_factor[net.buyer] * net.tonnes / safe[net.buyer]
    return sp.csr_matrix((weights, (net.buyer, net.seller)), shape=(net.n, net.n))


def _reached(flows: sp.csr_matrix, start: np.ndarray) -> np.ndarray:
    """Facilities reached along FLOWS (row = from, column = to) from those where START is true, them included."""
    n = flows.shape[0]
    seeds = np.flatnonzero(start)
    root = sp.csr_matrix((np.ones(len(seeds)), (np.full(len(seeds), n), seeds)), shape=(n + 1, n + 1))
    adj = sp.csr_matrix(sp.block_diag((flows, sp.csr_matrix((1, 1)))) + root)
    reached = np.zeros(n + 1, dtype=bool)
    reached[breadth_first_order(adj, n, directed=True, return_predecessors=False)] = True
    return reached[:n]


def _parts(q: sp.csr_matrix) -> list[np.ndarray]:
    """The facilities in three parts, each needing only the ones before it solved.

    First those downstream of no cycle, then those on a cycle or between two, then those
    downstream of cycles only. The first and last parts have no cycle, so the Neumann series
    stops there after as many sweeps as they are deep; only the middle one needs the sweeps
    until convergence, and it is often the smaller part of the edges.
    """
    n = q.shape[0]
    _, label = connected_components(q, directed=True, connection="strong")
    on_cycle = np.bincount(label)[label] > 1
    if not on_cycle.any():
        return [np.arange(n)]
    # q[f, j] > 0 when j ships to f: q leads from a buyer to its sellers, q.T from a seller to its buyers.
    down = _reached(q.T.tocsr(), on_cycle)
    up = _reached(q, on_cycle)
    return [p for p in (np.flatnonzero(~down), np.flatnonzero(down & up), np.flatnonzero(down & ~up)) if len(p)]


def _neumann(rhs: np.ndarray, q: sp.csr_matrix) -> tuple[np.ndarray, bool]:
    """rhs + Q rhs + Q² rhs + ... until a term is at most _CONVERGED everywhere; and whether it got there.

    Columns are independent, so they are summed _BLOCK at a time: a block of terms stays in the
    CPU cache while Q reads it at random, which a term of every column at once does not.
    """
    c = np.empty_like(rhs)
    converged = True
    for j in range(0, rhs.shape[1], _BLOCK):
        term = np.ascontiguousarray(rhs[:, j : j + _BLOCK])
        total = term.copy()
        for _ in range(_MAX_SWEEPS):
            term = q @ term
            total += term
            if not term.size or max(float(term.max()), -float(term.min())) <= _CONVERGED:
                break
        else:
            converged = False
        c[:, j : j + _BLOCK] = total
    return c, converged


def _solver(q: sp.csr_matrix, direct: bool) -> Callable[[np.ndarray], np.ndarray]:
    def system() -> sp.csc_matrix:
        return (sp.identity(q.shape[0], format="csc") - q.tocsc()).tocsc()

    if direct:
        lu = splu(system())
        return lambda b: np.asarray(lu.solve(b)).reshape(b.shape)
    parts = [(p, q[p]) for p in _parts(q)]
    inner = [rows[:, p] for p, rows in parts]

    def iterate(b: np.ndarray) -> np.ndarray:
        c = np.zeros_like(b)
        converged = True
        for (p, rows), q_pp in zip(parts, inner, strict=True):
            # Rows of parts not solved yet are still zero, and p's own sellers are summed by the series.
            c[p], done = _neumann(b[p] + rows @ c, q_pp)
            converged &= done
        if converged:
            return c
        m = system()
        for j in range(b.shape[1]):
            col, info = gmres(m, b[:, j], x0=c[:, j], rtol=1e-14, atol=0.0, restart=200, maxiter=50)
            if info != 0:
                raise ArithmeticError(f"provenance solve did not converge (GMRES info {info})")
            c[:, j] = col
        return c

    return iterate


def _origin_order(sources: np.ndarray) -> np.ndarray:
    """Facilities with a source, suspect tonnes first, then total tonnes, then index."""
    candidates = np.flatnonzero(sources.sum(axis=1) > 0)
    suspect = sources[candidates][:, SUSPECT].sum(axis=1)
    total = sources[candidates].sum(axis=1)
    return candidates[np.lexsort((candidates, -total, -suspect))]


def solve(
    net: Network,
    *,
    max_origin_nodes: int = 256,
    min_share: float = 0.0,
    direct_max_nodes: int = 5000,
) -> Attribution:
    """Split every facility's coal by origin class, and by origin facility for the heaviest origins.

    `net` must be balanced, as `coaltrace.provenance.balance` leaves it: no facility ships
    more than its total, and every closed ring has a source (`close_loops`).
    """
    n, k = net.n, len(CLASSES)
    x = net.total()
    live = x > 0
    safe = np.where(live, x, 1.0)
    run = _solver(_row_normalised(net, x), direct=n <= direct_max_nodes)

    class_share = run(net.sources / safe[:, None])
    class_share[~live] = 0.0

    chosen = _origin_order(net.sources)[:max_origin_nodes]
    tracked = np.zeros(n, dtype=bool)
    tracked[chosen] = True
    reach = run(_unit_columns(n, chosen)) if len(chosen) else np.zeros((n, 0))
    fac: list[np.ndarray] = []
    org: list[np.ndarray] = []
    cls: list[np.ndarray] = []
    val: list[np.ndarray] = []
    kept = np.zeros((n, k))
    floor = max(min_share, 1e-15)
    for c in range(k):
        fraction = net.sources[chosen, c] / safe[chosen]
        cols = np.flatnonzero(fraction > 0)
        if not len(cols):
            continue
        part = reach[:, cols] * fraction[cols]
        f, j = np.nonzero((part >= floor) & live[:, None])
        v = part[f, j]
        fac.append(f)
        org.append(chosen[cols][j])
        cls.append(np.full(len(f), c))
        val.append(v)
        kept[:, c] = np.bincount(f, v, minlength=n)
    rest = class_share - kept
    rf, rc = np.nonzero((rest > 1e-12) & live[:, None])
    fac.append(rf)
    org.append(np.full(len(rf), GROUPED))
    cls.append(rc)
    val.append(rest[rf, rc])
    return Attribution(
        total=x,
        class_share=class_share,
        tracked=tracked,
        facility=np.concatenate(fac).astype(np.int64),
        origin=np.concatenate(org).astype(np.int64),
        origin_class=np.concatenate(cls).astype(np.int64),
        share=np.concatenate(val),
    )


def _unit_columns(n: int, nodes: np.ndarray) -> np.ndarray:
    e = np.zeros((n, len(nodes)))
    e[nodes, np.arange(len(nodes))] = 1.0
    return e
