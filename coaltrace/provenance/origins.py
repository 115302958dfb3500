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
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from coaltrace.period import Period
from coaltrace.provenance.solve import CLASSES
from coaltrace.store import Store

if TYPE_CHECKING:
    import polars as pl

# Stored balance column holding each origin class's tonnes entering the chain at a facility.
SOURCE_COLUMNS = {
    "licensed": "licensed_production_t",
    "over_capacity": "over_capacity_t",
    "unlicensed": "unlicensed_production_t",
    "unsourced": "unsourced_t + circular_t",
    "data_gap": "data_gap_t",
    "opening_stock": "opening_stock_t",
}
# Below this share of the facility's coal an origin is grouped with the others of its class.
MIN_SHARE = 1e-4


def origins_of(store: Store, period: Period, facility_id: str, *, min_share: float = MIN_SHARE) -> pl.DataFrame:
    """The proportional origins of FACILITY_ID's coal: facility_id, origin_class, origin_id
    (NULL for a grouped row), tonnes, share, received_t (the part that came in by inflows),
    grouped (how many origins a grouped row holds, 0 for a named one), policy."""
    import polars as pl
    import scipy.sparse as sp
    from scipy.sparse.csgraph import breadth_first_order
    from scipy.sparse.linalg import spsolve

    sources = ", ".join(f"{expr} AS {cls}" for cls, expr in SOURCE_COLUMNS.items())
    p = {"p": period.label}
    nodes = store.engine.frame(
        f"SELECT facility_id, total_t, yield_factor, {sources} FROM balances WHERE period = $p ORDER BY 1", p
    )
    edges = store.engine.frame(
        "SELECT seller_id, buyer_id, sum(tonnes) AS tonnes FROM flows WHERE period = $p AND seller_id <> buyer_id "
        "GROUP BY ALL HAVING sum(tonnes) > 0",
        p,
    )
    ids = nodes["facility_id"].to_list()
    at = {f: i for i, f in enumerate(ids)}
    if facility_id not in at:
        return _empty()
    n = len(ids)
    seller = np.array([at[s] for s in edges["seller_id"]], dtype=np.int64)
    buyer = np.array([at[b] for b in edges["buyer_id"]], dtype=np.int64)
    tonnes = edges["tonnes"].to_numpy().astype(float)
    # Upstream: from the facility against the flows, every facility its coal passed through.
    up = sp.csr_matrix((np.ones(len(seller)), (buyer, seller)), shape=(n, n))
    ancestors = np.sort(breadth_first_order(up, at[facility_id], directed=True, return_predecessors=False))
    local = np.full(n, -1, dtype=np.int64)
    local[ancestors] = np.arange(len(ancestors))
    keep = (local[buyer] >= 0) & (local[seller] >= 0)
    x = nodes["total_t"].to_numpy()[ancestors]
    y = nodes["yield_factor"].to_numpy()[ancestors]
    safe = np.where(x > 0, x, 1.0)
    b, s = local[buyer[keep]], local[seller[keep]]
    q = sp.csr_matrix((y[b] * tonnes[keep] / safe[b], (b, s)), shape=(len(ancestors),) * 2)
    unit = np.zeros(len(ancestors))
    unit[local[at[facility_id]]] = 1.0
    m = np.atleast_1d(spsolve((sp.identity(len(ancestors), format="csc") - q).T.tocsc(), unit))
    me = local[at[facility_id]]
    total = float(x[me])
    if total <= 0:
        return _empty()
    src = nodes.select(list(SOURCE_COLUMNS)).to_numpy()[ancestors]
    share = m[:, None] * src / safe[:, None]  # (ancestors, classes)
    j, k = np.nonzero(share > 0)
    rows = pl.DataFrame(
        {
            "origin_id": [ids[a] for a in ancestors[j]],
            "origin_class": [CLASSES[c] for c in k],
            "share": share[j, k],
            "own": j == me,
        },
        schema={"origin_id": pl.String, "origin_class": pl.String, "share": pl.Float64, "own": pl.Boolean},
    ).with_columns((pl.col("share") * total).alias("tonnes"))
    named = rows.filter(pl.col("share") >= min_share).with_columns(pl.lit(0, dtype=pl.Int64).alias("grouped"))
    grouped = (
        rows.filter(pl.col("share") < min_share)
        .group_by("origin_class")
        .agg(pl.col("share", "tonnes").sum(), pl.len().cast(pl.Int64).alias("grouped"))
        .with_columns(pl.lit(None, dtype=pl.String).alias("origin_id"), pl.lit(False).alias("own"))
    )
    return (
        pl.concat([named, grouped.select(named.columns)])
        .with_columns(
            pl.lit(facility_id).alias("facility_id"),
            pl.when(pl.col("own")).then(0.0).otherwise(pl.col("tonnes")).alias("received_t"),
            pl.lit("proportional").alias("policy"),
        )
        .select("facility_id", "origin_class", "origin_id", "tonnes", "share", "received_t", "grouped", "policy")
        .sort(["tonnes", "origin_class", "origin_id"], descending=[True, False, False], nulls_last=True)
    )


def _empty() -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame(
        schema={
            "facility_id": pl.String,
            "origin_class": pl.String,
            "origin_id": pl.String,
            "tonnes": pl.Float64,
            "share": pl.Float64,
            "received_t": pl.Float64,
            "grouped": pl.Int64,
            "policy": pl.String,
        }
    )
