"""What the `trace`, `balance` and `yard` commands show, as plain data.

Each function makes sure the period's provenance is current (with the config
the caller resolved, or the stored build's), then reads the stored tables; the
CLI only renders what comes back. Figures are rounded as measured
(`coaltrace.numbers`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from coaltrace.config import ProvenanceConfig
from coaltrace.errors import UsageError
from coaltrace.numbers import tidy
from coaltrace.period import Period
from coaltrace.provenance.current import ensure_current
from coaltrace.provenance.origins import facility_origins, origins_of
from coaltrace.rules.summary import at_origin
from coaltrace.store import Store

if TYPE_CHECKING:
    from coaltrace.provenance.paths import Direction, FlowGraph

Policy = Literal["proportional", "taint", "both"]  # both: side by side, upstream only
ConfigArg = ProvenanceConfig | Mapping[str, Any] | None


@dataclass(frozen=True)
class PeriodChoice:
    """The period a command works on, and how it was chosen: `given`, or, when --period
    was left out, `latest_audit` (the period audited last) or `latest_sales` (no audit yet:
    the latest month with sales). The CLI says which on stderr."""

    period: Period
    how: str


def choose_period(store: Store, text: str | None) -> PeriodChoice:
    if text is not None:
        return PeriodChoice(Period.parse(text), "given")
    audited = store.query(
        "SELECT period FROM audit_runs ORDER BY started_at DESC, run_id DESC LIMIT 1"
        if _exists(store, "audit_runs")
        else "SELECT NULL AS period WHERE FALSE"
    )
    if audited:
        return PeriodChoice(Period.parse(audited[0]["period"]), "latest_audit")
    row = store.engine.first("SELECT max(sold_at) FROM sales")
    if row is None or row[0] is None:
        raise UsageError(
            "the database has no sales yet",
            zh="数据库中还没有销售数据",
            hint="Load a month first: `coaltrace load FILES`.",
            hint_zh="请先载入一个月的数据：coaltrace load 文件。",
        )
    return PeriodChoice(Period.parse(f"{row[0]:%Y-%m}"), "latest_sales")


def _exists(store: Store, table: str) -> bool:
    return bool(store.query("SELECT 1 FROM information_schema.tables WHERE table_name = ?", [table]))


def _known(store: Store, facility_id: str, period: Period) -> None:
    found = store.engine.rows(
        "SELECT 1 FROM facilities WHERE facility_id = $f UNION ALL "
        "SELECT 1 FROM balances WHERE facility_id = $f AND period = $p LIMIT 1",
        {"f": facility_id, "p": period.label},
    )
    if not found:
        raise UsageError(
            f"unknown facility {facility_id!r}: it is not registered and has no flow in {period.label}",
            zh=f"未知单位 {facility_id!r}：既未登记，{period.label} 也没有任何购销",
            hint="Check the facility_id (单位编码), or list the facilities with `coaltrace balance`.",
            hint_zh="请核对单位编码，或用 `coaltrace balance` 列出全部单位。",
        )


def balance_rows(
    store: Store, period: Period, kind: str | None = None, config: ConfigArg = None, *, source: str | None = None
) -> list[dict[str, Any]]:
    ensure_current(store, period, config, source=source, keep_build=True)
    rows = store.query(
        "SELECT * EXCLUDE (period) FROM balances WHERE period = ? AND (? IS NULL OR kind = ?) "
        "ORDER BY unsourced_t DESC, facility_id",
        [period.label, kind, kind],
    )
    return [tidy(r) for r in rows]


def _named_origins(store: Store, period: Period, facility_id: str) -> list[dict[str, Any]]:
    """Every origin of the facility's coal by id and name; tiny shares grouped per class with their count."""
    rows = facility_origins(store, period, facility_id)
    names = facility_names(store, [r["origin_id"] for r in rows if r["origin_id"] is not None])
    drop = ("facility_id", "policy")
    return [{**{k: v for k, v in r.items() if k not in drop}, "origin_name": names.get(r["origin_id"])} for r in rows]


def facility_names(store: Store, ids: list[str]) -> dict[str, str | None]:
    """The registered name of each of IDS (a page's few), without reading the whole register."""
    if not ids:
        return {}
    return dict(
        store.engine.rows(
            "SELECT facility_id, any_value(name) FROM facilities WHERE list_contains(?, facility_id) GROUP BY 1",
            [sorted(set(ids))],
        )
    )


def yard_report(
    store: Store, facility_id: str, period: Period, config: ConfigArg = None, *, source: str | None = None
) -> dict[str, Any]:
    """The provenance part of the inspector's page of one facility."""
    ensure_current(store, period, config, source=source, keep_build=True)
    _known(store, facility_id, period)
    b = store.query("SELECT * FROM balances WHERE period = ? AND facility_id = ?", [period.label, facility_id])
    reg = store.query(
        "SELECT name, kind, county, status, status_since, lat, lon FROM facilities WHERE facility_id = ? LIMIT 1",
        [facility_id],
    )
    last_day = period.end - timedelta(days=1)
    licences = store.query(
        "SELECT licence_id, licence_type, mineral, valid_from, valid_to, capacity_tpa, "
        "valid_from <= ? AND valid_to >= ? AS valid_at_end FROM licences WHERE facility_id = ? "
        "ORDER BY valid_to DESC, licence_id",
        [last_day, last_day, facility_id],
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
    info = reg[0] if reg else {}
    origins = _named_origins(store, period, facility_id)
    # What the facility adds to the audit's total: its origin findings, counted once, as the audit counts them.
    at_risk = at_origin(store, period.label, facility_id) if _exists(store, "findings") else {}
    # Of all the coal that went through it (received and created there), the share that traces to a
    # licensed mine; opening stock and coal the data cannot judge are left out.
    judged = [o for o in origins if o["origin_class"] not in ("opening_stock", "data_gap")]
    judged_t = sum(o["tonnes"] for o in judged)
    share_all = sum(o["tonnes"] for o in judged if o["origin_class"] == "licensed") / judged_t if judged_t > 0 else None
    return tidy(
        {
            "facility_id": facility_id,
            "period": period.label,
            "name": info.get("name", row.get("name")),
            "kind": info.get("kind", row.get("kind")),
            "county": info.get("county", row.get("county")),
            "registered": bool(reg),
            "status": info.get("status"),
            "status_since": info.get("status_since"),
            "lat": info.get("lat"),
            "lon": info.get("lon"),
            "licences": licences,
            "licence_state": row.get("licence_state"),
            "licensed_share": share_all,
            "licensed_share_received": row.get("licensed_share"),
            # Coal of no licensed source that entered the chain here and that the audit found: what this
            # facility adds to the audit's total (coal it received from elsewhere counts where it entered).
            "at_risk_here": at_risk,
            "tonnes_at_risk": sum(at_risk.values()),
            # What the balance shows, found or not (a shortfall under a rule's threshold is not a finding).
            "balance_at_risk": {
                "unlicensed": row.get("unlicensed_production_t", 0.0),
                "over_capacity": row.get("over_capacity_t", 0.0),
                "unsourced": row.get("unsourced_t", 0.0) + row.get("circular_t", 0.0),
            },
            "unsourced_t": row.get("unsourced_t", 0.0),
            "data_gap_t": row.get("data_gap_t", 0.0),
            "inflow_recorded": row.get("inflow_recorded", True),
            "inflow_t": row.get("inflow_t", 0.0),
            "outflow_t": row.get("outflow_t", 0.0),
            "opening_stock_t": row.get("opening_stock_t", 0.0),
            "closing_stock_t": row.get("closing_stock_t"),
            "origins": origins,
            "suppliers": suppliers,
            "running_breach": breach[0] if breach else None,
        }
    )


def flow_graph(store: Store, period: Period) -> FlowGraph:
    import numpy as np

    from coaltrace.provenance.paths import FlowGraph

    nodes = store.query(
        "SELECT facility_id, total_t, yield_factor, "
        "production_t + unsourced_t + data_gap_t + circular_t + opening_stock_t AS own "
        "FROM balances WHERE period = ? ORDER BY facility_id",
        [period.label],
    )
    ids = [n["facility_id"] for n in nodes]
    at = {f: i for i, f in enumerate(ids)}
    edges = store.engine.numpy(
        "SELECT seller_id, buyer_id, sum(tonnes) FROM flows WHERE period = ? AND seller_id <> buyer_id "
        "GROUP BY ALL HAVING sum(tonnes) > 0 ORDER BY seller_id, buyer_id",
        [period.label],
    )
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


def _origins(store: Store, period: Period, facility_id: str, policy: Policy) -> list[dict[str, Any]]:
    """The facility's origins by name under POLICY; `both` puts the two policies side by side."""
    import polars as pl

    from coaltrace.provenance.attribution import taint

    prop = origins_of(store, period, facility_id)
    if policy == "proportional":
        chosen = prop
    else:
        tainted = taint(prop.drop("grouped")).drop("policy", "facility_id")
        if policy == "taint":
            chosen = tainted.join(
                prop.select("origin_class", "origin_id", "grouped"),
                on=["origin_class", "origin_id"],
                how="left",
                nulls_equal=True,
            )
        else:
            chosen = (
                prop.select(
                    "origin_class",
                    "origin_id",
                    "grouped",
                    pl.col("tonnes").alias("proportional_t"),
                    pl.col("share").alias("proportional_share"),
                )
                .join(
                    tainted.select(
                        "origin_class",
                        "origin_id",
                        pl.col("tonnes").alias("taint_t"),
                        pl.col("share").alias("taint_share"),
                    ),
                    on=["origin_class", "origin_id"],
                    how="left",
                    nulls_equal=True,
                )
                .with_columns(pl.col("taint_t", "taint_share").fill_null(0.0))
                .filter((pl.col("proportional_t") > 0) | (pl.col("taint_t") > 0))
                .sort(["proportional_t", "taint_t"], descending=True)
            )
    names = dict(store.engine.rows("SELECT facility_id, any_value(name) FROM facilities GROUP BY 1"))
    rows = chosen.drop([c for c in ("facility_id", "policy", "received_t") if c in chosen.columns]).to_dicts()
    return [{**r, "origin_name": names.get(r["origin_id"])} for r in rows if r.get("tonnes", 1) != 0]


def trace_report(
    store: Store,
    facility_id: str,
    period: Period,
    direction: Direction = "upstream",
    depth: int = 4,
    policy: Policy = "proportional",
    config: ConfigArg = None,
    *,
    source: str | None = None,
) -> dict[str, Any]:
    """Where a facility's coal came from (upstream) or went (downstream): every origin by
    name with shares, or destinations with tonnes, and the heaviest paths."""
    from coaltrace.provenance.paths import heaviest_paths

    ensure_current(store, period, config, source=source, keep_build=True)
    _known(store, facility_id, period)
    if direction == "upstream":
        shares = _origins(store, period, facility_id, policy)
    else:
        shares = store.query(
            "SELECT f.buyer_id, any_value(r.name) AS buyer_name, sum(f.tonnes) AS tonnes FROM flows f "
            "LEFT JOIN facilities r ON r.facility_id = f.buyer_id WHERE f.period = ? AND f.seller_id = ? "
            "AND f.seller_id <> f.buyer_id GROUP BY f.buyer_id ORDER BY tonnes DESC, f.buyer_id",
            [period.label, facility_id],
        )
    g = flow_graph(store, period)
    paths: list[dict[str, Any]] = []
    if facility_id in g.ids:
        found = heaviest_paths(g, g.ids.index(facility_id), direction, depth)
        paths = [{"path": p, "tonnes": t} for p, t in found]
    return tidy(
        {
            "facility_id": facility_id,
            "period": period.label,
            "direction": direction,
            "policy": policy,
            "depth": depth,
            "origins" if direction == "upstream" else "destinations": shares,
            "paths": paths,
        }
    )
