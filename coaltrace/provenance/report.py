"""What the `trace`, `balance` and `yard` commands show, as plain data.

Each function makes sure the period's provenance is current, then reads the
stored tables; the CLI only renders what comes back.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from coaltrace.errors import UsageError
from coaltrace.period import Period
from coaltrace.provenance.config import ProvenanceConfig
from coaltrace.provenance.current import ensure_current
from coaltrace.provenance.paths import Direction, FlowGraph, heaviest_paths
from coaltrace.store import Store

Policy = Literal["proportional", "taint", "both"]  # both: side by side, upstream only


def latest_period(store: Store) -> Period:
    """The latest month that has sales: what a command means when --period is left out."""
    row = store.con.execute("SELECT max(sold_at) FROM sales").fetchone()
    if row is None or row[0] is None:
        raise UsageError(
            "the database has no sales yet",
            zh="数据库中还没有销售数据",
            hint="Load a month first: `coaltrace load FILES`.",
            hint_zh="请先载入一个月的数据：coaltrace load 文件。",
        )
    return Period.parse(f"{row[0]:%Y-%m}")


def resolve_period(store: Store, text: str | None) -> Period:
    return Period.parse(text) if text else latest_period(store)


def _known(store: Store, facility_id: str, period: Period) -> None:
    found = store.con.execute(
        "SELECT 1 FROM facilities WHERE facility_id = $f UNION ALL "
        "SELECT 1 FROM balances WHERE facility_id = $f AND period = $p LIMIT 1",
        {"f": facility_id, "p": period.label},
    ).fetchone()
    if found is None:
        raise UsageError(
            f"unknown facility {facility_id!r}: it is not registered and has no flow in {period.label}",
            zh=f"未知单位 {facility_id!r}：既未登记，{period.label} 也没有任何购销",
            hint="Check the facility_id (单位编码), or list the facilities with `coaltrace balance`.",
            hint_zh="请核对单位编码，或用 `coaltrace balance` 列出全部单位。",
        )


def balance_rows(
    store: Store, text_period: str | None, kind: str | None = None, config: ProvenanceConfig | None = None
) -> tuple[Period, list[dict[str, Any]]]:
    period = resolve_period(store, text_period)
    ensure_current(store, period, config)
    rows = store.query(
        "SELECT * EXCLUDE (period) FROM balances WHERE period = ? AND (? IS NULL OR kind = ?) "
        "ORDER BY unsourced_t DESC, facility_id",
        [period.label, kind, kind],
    )
    return period, rows


def yard_report(
    store: Store, facility_id: str, text_period: str | None, config: ProvenanceConfig | None = None
) -> dict[str, Any]:
    """The provenance part of the inspector's page of one facility."""
    period = resolve_period(store, text_period)
    ensure_current(store, period, config)
    _known(store, facility_id, period)
    b = store.query("SELECT * FROM balances WHERE period = ? AND facility_id = ?", [period.label, facility_id])
    origins = store.query(
        "SELECT origin_class, origin_id, tonnes, share, received_t FROM origin_shares "
        "WHERE period = ? AND policy = 'proportional' AND facility_id = ? ORDER BY tonnes DESC, origin_class, origin_id",
        [period.label, facility_id],
    )
    suppliers = store.query(
        "SELECT seller_id, sum(tonnes) AS tonnes, sum(declared_t) AS declared_t, sum(physical_t) AS physical_t, "
        "sum(trips) AS trips FROM flows WHERE period = ? AND buyer_id = ? AND seller_id <> buyer_id "
        "GROUP BY seller_id ORDER BY tonnes DESC, seller_id",
        [period.label, facility_id],
    )
    breach = store.query(
        "SELECT first_negative_at, min_balance_t, shortfall_t FROM running_breaches WHERE period = ? AND facility_id = ?",
        [period.label, facility_id],
    )
    row = b[0] if b else {}
    return {
        "facility_id": facility_id,
        "period": period.label,
        "name": row.get("name"),
        "kind": row.get("kind"),
        "licensed_share": row.get("licensed_share"),
        "unsourced_t": row.get("unsourced_t", 0.0),
        "inflow_t": row.get("inflow_t", 0.0),
        "outflow_t": row.get("outflow_t", 0.0),
        "opening_stock_t": row.get("opening_stock_t", 0.0),
        "origins": origins,
        "suppliers": suppliers,
        "running_breach": breach[0] if breach else None,
    }


def _flow_graph(store: Store, period: Period) -> FlowGraph:
    nodes = store.query(
        "SELECT facility_id, total_t, yield_factor, production_t + unsourced_t + circular_t + opening_stock_t AS own "
        "FROM balances WHERE period = ? ORDER BY facility_id",
        [period.label],
    )
    ids = [n["facility_id"] for n in nodes]
    at = {f: i for i, f in enumerate(ids)}
    edges = store.con.execute(
        "SELECT seller_id, buyer_id, sum(tonnes) FROM flows WHERE period = ? AND seller_id <> buyer_id "
        "GROUP BY ALL HAVING sum(tonnes) > 0 ORDER BY seller_id, buyer_id",
        [period.label],
    ).fetchnumpy()
    values = list(edges.values())
    return FlowGraph(
        ids=ids,
        seller=np.array([at[s] for s in values[0]], dtype=np.int64),
        buyer=np.array([at[s] for s in values[1]], dtype=np.int64),
        tonnes=np.asarray(values[2], dtype=float),
        total=np.array([n["total_t"] for n in nodes], dtype=float),
        own=np.array([n["own"] for n in nodes], dtype=float),
        yield_factor=np.array([n["yield_factor"] for n in nodes], dtype=float),
    )


def compare_policies(store: Store, facility_id: str, period: Period) -> list[dict[str, Any]]:
    """The facility's origins under both policies, side by side, one row per (class, origin)."""
    return store.query(
        """WITH p AS (SELECT origin_class, origin_id, tonnes, share FROM origin_shares
                      WHERE period = ? AND policy = 'proportional' AND facility_id = ?),
                t AS (SELECT origin_class, origin_id, tonnes, share FROM origin_shares
                      WHERE period = ? AND policy = 'taint' AND facility_id = ?)
           SELECT COALESCE(p.origin_class, t.origin_class) AS origin_class,
                  COALESCE(p.origin_id, t.origin_id) AS origin_id,
                  COALESCE(p.tonnes, 0) AS proportional_t, COALESCE(p.share, 0) AS proportional_share,
                  COALESCE(t.tonnes, 0) AS taint_t, COALESCE(t.share, 0) AS taint_share
           FROM p FULL OUTER JOIN t
             ON p.origin_class = t.origin_class AND p.origin_id IS NOT DISTINCT FROM t.origin_id
           WHERE COALESCE(p.tonnes, 0) > 0 OR COALESCE(t.tonnes, 0) > 0
           ORDER BY proportional_t DESC, taint_t DESC, origin_class, origin_id""",
        [period.label, facility_id, period.label, facility_id],
    )


def trace_report(
    store: Store,
    facility_id: str,
    text_period: str | None,
    direction: Direction = "upstream",
    depth: int = 4,
    policy: Policy = "proportional",
    config: ProvenanceConfig | None = None,
) -> dict[str, Any]:
    """Where a facility's coal came from (upstream) or went (downstream): origin shares
    or destinations with tonnes, and the heaviest paths."""
    period = resolve_period(store, text_period)
    ensure_current(store, period, config)
    _known(store, facility_id, period)
    if direction == "upstream" and policy == "both":
        shares = compare_policies(store, facility_id, period)
    elif direction == "upstream":
        shares = store.query(
            "SELECT origin_class, origin_id, tonnes, share FROM origin_shares "
            "WHERE period = ? AND policy = ? AND facility_id = ? AND tonnes > 0 "
            "ORDER BY tonnes DESC, origin_class, origin_id",
            [period.label, policy, facility_id],
        )
    else:
        shares = store.query(
            "SELECT buyer_id, sum(tonnes) AS tonnes FROM flows WHERE period = ? AND seller_id = ? "
            "AND seller_id <> buyer_id GROUP BY buyer_id ORDER BY tonnes DESC, buyer_id",
            [period.label, facility_id],
        )
    g = _flow_graph(store, period)
    paths: list[dict[str, Any]] = []
    if facility_id in g.ids:
        found = heaviest_paths(g, g.ids.index(facility_id), direction, depth)
        paths = [{"path": p, "tonnes": t} for p, t in found]
    return {
        "facility_id": facility_id,
        "period": period.label,
        "direction": direction,
        "policy": policy,
        "depth": depth,
        "origins" if direction == "upstream" else "destinations": shares,
        "paths": paths,
    }
