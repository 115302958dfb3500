"""Provenance solve speed: 20,000 facilities and 500,000 flow edges in at most 5 s and 2 GB.

Builds a seeded random supply chain shaped like a province's month: mines,
washeries, coking plants, yards, traders, rail stations and power plants in
tiers, 80% of edges inside a county, flows that roughly conserve mass, 3%
backward edges that make traders and yards trade in cycles (one strongly
connected component then spans most of the graph), 1% of non-mines shipping
20% more than they hold, 5% unlicensed mines. Then times what `ensure_current`
does after the SQL: the balance shortfalls, closing the loops, the sparse solve
(all origin classes exactly, the 256 heaviest origin facilities one by one)
and both policies' origin rows. Prints one JSON line.

    python bench/bench_provenance.py [--facilities 20000] [--edges 500000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np

KINDS = {
    "mine": 0.10,
    "washery": 0.05,
    "coking_plant": 0.015,
    "yard": 0.30,
    "trader": 0.38,
    "rail_station": 0.01,
    "power_plant": 0.145,
}
TIER = {"mine": 0, "washery": 1, "coking_plant": 3, "yard": 1, "trader": 2, "rail_station": 2, "power_plant": 4}
YIELD = {"washery": 0.85, "coking_plant": 0.75}
COUNTIES = 120


def supply_chain(n: int, e: int, seed: int = 42) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    names = list(KINDS)
    kind = rng.choice(len(names), size=n, p=list(KINDS.values()))
    tier = np.array([TIER[k] for k in names])[kind]
    y = np.array([YIELD.get(k, 1.0) for k in names])[kind]
    county = rng.integers(0, COUNTIES, n)
    order = np.argsort(tier + rng.random(n))  # facilities in supply-chain order
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n)
    # Forward edges: each seller sells to someone later in the chain, mostly in its county.
    m = int(e * 1.15)
    s = rng.choice(np.flatnonzero(tier < 4), m)
    lo = pos[s] + 1
    d = order[np.minimum(n - 1, lo + (rng.random(m) ** 2 * (n - lo)).astype(np.int64))]
    local = rng.random(m) < 0.8
    for c in range(COUNTIES):
        sel = np.flatnonzero(local & (county[s] == c))
        here = np.sort(pos[county == c])
        first = np.searchsorted(here, pos[s[sel]], side="right")
        ok = first < len(here)
        pick = first[ok] + (rng.random(ok.sum()) * (len(here) - first[ok])).astype(np.int64)
        d[sel[ok]] = order[here[pick]]
    keep = (s != d) & (tier[d] > 0)
    key = np.unique(s[keep] * n + d[keep])
    rng.shuffle(key)
    key = key[: int(e * 0.97)]
    s, d = key // n, key % n
    # Mass flows down the chain: each facility passes on 85-100% of what it holds.
    w = np.zeros(len(s))
    by_seller = np.argsort(pos[s], kind="stable")
    starts = np.searchsorted(pos[s][by_seller], np.arange(n + 1))
    produced = np.where(tier == 0, rng.lognormal(10, 1, n), 0.0)
    inflow = np.zeros(n)
    split = rng.random(len(s)) + 0.05
    for p in range(n):
        idx = by_seller[starts[p] : starts[p + 1]]
        if not len(idx):
            continue
        v = order[p]
        hold = produced[v] + y[v] * inflow[v]
        hold *= rng.uniform(0.85, 1.0) if tier[v] else 1.0
        w[idx] = hold * split[idx] / split[idx].sum()
        np.add.at(inflow, d[idx], w[idx])
    middle = np.flatnonzero((tier == 1) | (tier == 2))
    k = int(e * 0.03)
    bs, bd = rng.choice(middle, k), rng.choice(middle, k)
    back = bs != bd
    s = np.r_[s, bs[back]]
    d = np.r_[d, bd[back]]
    w = np.r_[w, rng.lognormal(5, 1, back.sum())]
    key, inv = np.unique(s * n + d, return_inverse=True)
    w = np.bincount(inv, w)
    s, d = key // n, key % n
    inflated = (rng.random(n) < 0.01) & (tier > 0)
    w = np.where(inflated[s], w * 1.2, w)
    unlicensed = (rng.random(n) < 0.05) & (tier == 0)
    return {"seller": s, "buyer": d, "tonnes": w, "yield": y, "mine": tier == 0, "unlicensed": unlicensed}


def solve_once(g: dict[str, np.ndarray]) -> tuple[int, int]:
    import polars as pl

    from coaltrace.config import ProvenanceConfig
    from coaltrace.provenance.attribution import origin_rows, taint
    from coaltrace.provenance.solve import (
        CLASSES,
        LICENSED,
        UNLICENSED,
        UNSOURCED,
        Network,
        close_loops,
        solve,
    )

    cfg = ProvenanceConfig()
    n = len(g["yield"])
    sources = np.zeros((n, len(CLASSES)))
    net = Network(g["seller"], g["buyer"], g["tonnes"], g["yield"], sources)
    need = net.outflow() - g["yield"] * net.inflow()
    produced = np.where(g["mine"], np.maximum(need, 0.0), 0.0)
    sources[:, LICENSED] = np.where(g["unlicensed"], 0.0, produced)
    sources[:, UNLICENSED] = np.where(g["unlicensed"], produced, 0.0)
    sources[:, UNSOURCED] = np.where(~g["mine"] & (need > cfg.tolerance_t), need, 0.0)
    sources[:, UNSOURCED] += close_loops(net)
    net = Network(g["seller"], g["buyer"], g["tonnes"], g["yield"], sources)
    a = solve(
        net, max_origin_nodes=cfg.max_origin_nodes, min_share=cfg.min_share, direct_max_nodes=cfg.direct_max_nodes
    )
    rows = origin_rows([f"F{i:05d}" for i in range(n)], net, a)
    both = pl.concat([rows, taint(rows)])
    return both.height, int(np.isclose(a.class_share.sum(axis=1), 1.0).sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--facilities", type=int, default=20_000)
    ap.add_argument("--edges", type=int, default=500_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--quick", action="store_true", help="a tenth of the size")
    args = ap.parse_args()
    n, e = (args.facilities // 10, args.edges // 10) if args.quick else (args.facilities, args.edges)
    t0 = time.perf_counter()
    g = supply_chain(n, e, args.seed)
    built = time.perf_counter() - t0
    t1 = time.perf_counter()
    rows, balanced = solve_once(g)
    seconds = time.perf_counter() - t1
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ok = seconds <= 5 and rss_mb <= 2048
    print(
        json.dumps(
            {
                "bench": "provenance",
                "facilities": n,
                "edges": int(len(g["seller"])),
                "graph_build_s": round(built, 2),
                "solve_s": round(seconds, 2),
                "peak_rss_mb": round(rss_mb),
                "origin_rows": rows,
                "facilities_with_shares": balanced,
                "target": "<= 5 s and <= 2048 MB",
                "ok": ok,
            }
        )
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
