"""Every origin of one facility's coal, by name: the row of the Leontief inverse for that facility.

The stored `origin_shares` name origin facilities one by one only for the
heaviest origins of the whole graph (`max_origin_nodes`): enough for the rules,
which read origin classes, but a large clean mine outside that budget shows in
a trace as "(other origins, grouped)". An inspector asking about one facility
wants every supplier's supplier by name.

For one facility F, its coal's origins are row F of `C = (I - Q)^-1 diag(1/x) S`
(see `coaltrace.provenance.solve`): with m the solution of `(I - Q)^T m = e_F`,
origin j of class k holds `m_j * S[j, k] / x_j` of F's coal. Only F's ancestors
(every facility some of its coal passed through) carry a non-zero m_j, so the
system is solved on that subgraph alone, rebuilt from the stored balances and
flows, exactly as the build solved it. Origins below `min_share` of F's coal are
grouped per class, and the grouped row says how many origins it holds.

The inspector's page asks this of one facility and must answer at once: the
ancestors are found in SQL (a recursive walk up the period's flows), and the
system is solved where it is cheapest. A yard has a handful of ancestors (a
province's yards at most a few dozen): solved in plain Python, in less time
than importing numpy takes. A power plant has hundreds: dense with numpy. Only
a subgraph too large for a dense matrix needs scipy's sparse solver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from coaltrace.period import Period
from coaltrace.store import Store

if TYPE_CHECKING:
    import polars as pl

# Stored balance column holding each origin class's tonnes entering the chain at a facility,
# in the order of the solver's classes (`coaltrace.provenance.solve.CLASSES`).
SOURCE_COLUMNS = {
    "licensed": "licensed_production_t",
    "over_capacity": "over_capacity_t",
    "unlicensed": "unlicensed_production_t",
    "unsourced": "unsourced_t + circular_t",
    "data_gap": "data_gap_t",
    "opening_stock": "opening_stock_t",
}
CLASSES = tuple(SOURCE_COLUMNS)
# Below this share of the facility's coal an origin is grouped with the others of its class.
MIN_SHARE = 1e-4
# Up to this many ancestors the system is solved in plain Python (at most some 50 ms, less
# than numpy's import); up to DENSE_MAX dense with numpy (at most 32 MB); above, sparse.
PLAIN_MAX = 100
DENSE_MAX = 2000

# The period's trading relations (one per seller and buyer), as the build aggregated them.
_EDGES = (
    "SELECT seller_id, buyer_id, sum(tonnes) AS tonnes FROM flows WHERE period = $p AND seller_id <> buyer_id "
    "GROUP BY ALL HAVING sum(tonnes) > 0"
)

# One non-zero of Q: (buyer, seller, Q[buyer, seller]).
Entry = tuple[int, int, float]


def facility_origins(
    store: Store, period: Period, facility_id: str, *, min_share: float = MIN_SHARE
) -> list[dict[str, Any]]:
    """The proportional origins of FACILITY_ID's coal, heaviest first, one dict each: facility_id,
    origin_class, origin_id (None for a grouped row), tonnes, share, received_t (the part that came
    in by inflows), grouped (how many origins a grouped row holds, 0 for a named one), policy."""
    sources = ", ".join(f"{expr} AS {cls}" for cls, expr in SOURCE_COLUMNS.items())
    # Every facility some of its coal passed through (itself included), walking up the flows;
    # UNION, not UNION ALL, so a round trip ends the walk instead of looping. The walk reads the
    # flows as stored (a relation whose tonnes sum to nothing adds a facility that gets no share).
    nodes = store.engine.rows(
        f"""WITH RECURSIVE up(facility_id) AS (
                SELECT $f UNION SELECT f.seller_id FROM flows f JOIN up ON f.buyer_id = up.facility_id
                WHERE f.period = $p AND f.seller_id <> f.buyer_id)
            SELECT facility_id, total_t, yield_factor, {sources}
            FROM balances JOIN up USING (facility_id) WHERE period = $p ORDER BY facility_id""",
        {"p": period.label, "f": facility_id},
    )
    ancestors = [str(n[0]) for n in nodes]
    at = {f: i for i, f in enumerate(ancestors)}
    me = at.get(facility_id)
    # Per ancestor: total, yield factor, then each class's source; a missing figure counts as none.
    values = [[0.0 if v is None else float(v) for v in n[1:]] for n in nodes]
    if me is None or not values[me][0] > 0:
        return []
    total = values[me][0]
    safe = [v[0] if v[0] > 0 else 1.0 for v in values]
    edges = store.engine.rows(
        f"SELECT seller_id, buyer_id, tonnes FROM ({_EDGES}) "
        "WHERE list_contains($ids, seller_id) AND list_contains($ids, buyer_id)",
        {"p": period.label, "ids": ancestors},
    )
    q = [(at[b], at[s], values[at[b]][1] * float(t) / safe[at[b]]) for s, b, t in edges]
    m = upstream_weights(len(ancestors), q, me)
    named: list[dict[str, Any]] = []
    grouped: dict[int, list[float]] = {}  # class -> [share, tonnes, count]
    for j, mj in enumerate(m):
        if mj == 0:
            continue
        for k in range(len(CLASSES)):
            share = mj * values[j][2 + k] / safe[j]
            if not share > 0:
                continue
            tonnes = share * total
            if share >= min_share:
                named.append(_row(facility_id, k, ancestors[j], tonnes, share, 0.0 if j == me else tonnes, 0))
            else:
                g = grouped.setdefault(k, [0.0, 0.0, 0])
                g[0], g[1], g[2] = g[0] + share, g[1] + tonnes, g[2] + 1
    rows = named + [_row(facility_id, k, None, t, s, t, int(n)) for k, (s, t, n) in grouped.items()]
    rows.sort(key=lambda r: (-r["tonnes"], r["origin_class"], r["origin_id"] is None, r["origin_id"] or ""))
    return rows


def _row(
    facility_id: str, k: int, origin_id: str | None, tonnes: float, share: float, received: float, n: int
) -> dict[str, Any]:
    return {
        "facility_id": facility_id,
        "origin_class": CLASSES[k],
        "origin_id": origin_id,
        "tonnes": tonnes,
        "share": share,
        "received_t": received,
        "grouped": n,
        "policy": "proportional",
    }


def upstream_weights(n: int, q: list[Entry], me: int) -> list[float]:
    """m solving `(I - Q)^T m = e_me` for N facilities: how much of facility ME's coal passed
    through each, per tonne of theirs."""
    if n <= PLAIN_MAX:
        return _solve_plain(n, q, me)
    import numpy as np

    buyer = np.array([b for b, _, _ in q], dtype=np.int64)
    seller = np.array([s for _, s, _ in q], dtype=np.int64)
    weight = np.array([w for _, _, w in q], dtype=float)
    unit = np.zeros(n)
    unit[me] = 1.0
    if n <= DENSE_MAX:
        a = np.eye(n)
        np.subtract.at(a, (seller, buyer), weight)  # (I - Q)^T, built transposed
        return [float(v) for v in np.linalg.solve(a, unit)]
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve

    mat = sp.csr_matrix((weight, (buyer, seller)), shape=(n, n))
    return [float(v) for v in np.atleast_1d(spsolve((sp.identity(n, format="csc") - mat).T.tocsc(), unit))]


def _solve_plain(n: int, q: list[Entry], me: int) -> list[float]:
    """Gaussian elimination with partial pivoting, skipping the zeros a sparse graph leaves."""
    a = [[1.0 if r == c else 0.0 for c in range(n)] for r in range(n)]
    for b, s, w in q:
        a[s][b] -= w  # (I - Q)^T
    rhs = [1.0 if r == me else 0.0 for r in range(n)]
    for col in range(n):
        column = [abs(a[r][col]) for r in range(col, n)]
        pivot = col + column.index(max(column))
        a[col], a[pivot] = a[pivot], a[col]
        rhs[col], rhs[pivot] = rhs[pivot], rhs[col]
        top = a[col]
        for r in range(col + 1, n):
            f = a[r][col] / top[col]
            if f:
                row = a[r]
                for c in range(col, n):
                    row[c] -= f * top[c]
                rhs[r] -= f * rhs[col]
    m = [0.0] * n
    for r in range(n - 1, -1, -1):
        m[r] = (rhs[r] - sum(a[r][c] * m[c] for c in range(r + 1, n))) / a[r][r]
    return m


def origins_of(store: Store, period: Period, facility_id: str, *, min_share: float = MIN_SHARE) -> pl.DataFrame:
    """`facility_origins` as a frame, for the trace's two policies side by side."""
    import polars as pl

    return pl.DataFrame(
        facility_origins(store, period, facility_id, min_share=min_share),
        schema={
            "facility_id": pl.String,
            "origin_class": pl.String,
            "origin_id": pl.String,
            "tonnes": pl.Float64,
            "share": pl.Float64,
            "received_t": pl.Float64,
            "grouped": pl.Int64,
            "policy": pl.String,
        },
    )
