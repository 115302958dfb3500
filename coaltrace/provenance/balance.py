"""Mass balance per facility: what it had and got against what it shipped.

opening stock + inflow × yield + production = outflow (+ closing stock where known).

A mine's production is what it must have dug to ship what it shipped; it is
split by the licence state on each shipment day (licensed or unlicensed), and
licensed production beyond the prorated approved capacity is over-capacity.
Any other facility that ships more than it had and got creates the shortfall
as unsourced coal at itself. Shortfalls within `tolerance_t` are weighbridge
rounding, not coal.

Coverage comes before judgement. A shortfall is `data_gap`, a gap in the data
that no rule judges, rather than `unsourced` coal, where the data cannot record
the facility's inflows: when no facility of its kind received anything in the
period while at least `ProvenanceConfig.min_unrecorded_facilities` of them
shipped (a public data set without the flows into preparation plants); when
its county booked intakes but no sale or trip into the county is recorded (a
county that sent no purchase records); and when the period has no shipment at
all. Likewise, when no coal mining licence is loaded at all, a mine's production
on days it was open cannot be judged licensed or not: it is `data_gap` too
(production on days it was closed, suspended or revoked stays unlicensed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from coaltrace.config import ProvenanceConfig
from coaltrace.graph import GraphData
from coaltrace.provenance.solve import (
    CLASSES,
    DATA_GAP,
    LICENSED,
    OPENING_STOCK,
    OVER_CAPACITY,
    UNLICENSED,
    UNSOURCED,
    Network,
    close_loops,
)

if TYPE_CHECKING:
    import polars as pl


@dataclass(frozen=True)
class Balanced:
    ids: list[str]  # facility of each index, sorted
    network: Network  # sources include the tonnes added by `close_loops`
    balances: pl.DataFrame


def balance(data: GraphData, config: ProvenanceConfig) -> Balanced:
    import polars as pl

    nodes = data.nodes.sort("facility_id")
    ids = nodes["facility_id"].to_list()
    index = pl.DataFrame({"facility_id": pl.Series(ids, dtype=pl.Utf8), "i": np.arange(len(ids), dtype=np.int64)})
    edges = (
        data.edges()
        .join(index.rename({"facility_id": "seller_id", "i": "s"}), on="seller_id")
        .join(index.rename({"facility_id": "buyer_id", "i": "b"}), on="buyer_id")
    )
    n = len(ids)
    seller = edges["s"].to_numpy()
    buyer = edges["b"].to_numpy()
    tonnes = edges["tonnes"].to_numpy().astype(float)
    y = nodes["yield_factor"].to_numpy()
    inflow = np.bincount(buyer, tonnes, minlength=n)
    outflow = np.bincount(seller, tonnes, minlength=n)
    usable = inflow * y
    opening = nodes["opening_stock_t"].fill_null(0.0).to_numpy()
    closing = nodes["closing_stock_t"].fill_null(0.0).to_numpy()
    is_mine = (nodes["kind"] == "mine").fill_null(False).to_numpy()

    need = outflow + closing - opening - usable
    production = np.where(is_mine, np.maximum(need, 0.0), 0.0)
    lic_sold = nodes["licensed_sold_t"].to_numpy()
    bad_sold = nodes["unlicensed_sold_t"].to_numpy()
    sold = lic_sold + bad_sold
    at_end = nodes["licensed_at_end"].fill_null(False).to_numpy().astype(float)
    lic_fraction = np.where(sold > 0, lic_sold / np.where(sold > 0, sold, 1.0), at_end)
    lic_part = production * lic_fraction
    capacity = nodes["capacity_t"].to_numpy().astype(float)  # NaN where unknown
    licensed = np.where(np.isnan(capacity), lic_part, np.minimum(lic_part, np.nan_to_num(capacity)))
    over = lic_part - licensed
    unlicensed = production - lic_part
    shut_sold = nodes["shut_sold_t"].to_numpy()
    shut = production * np.where(sold > 0, shut_sold / np.where(sold > 0, sold, 1.0), 0.0)
    # Without any coal licence loaded, only the days a mine was shut can be judged.
    unjudged = 0.0 if bool(nodes["licences_recorded"].any()) or not n else unlicensed - shut
    shortfall = np.where(~is_mine & (need > config.tolerance_t), need, 0.0)
    recorded = inflow_recorded(nodes, inflow, outflow, config)

    sources = np.zeros((n, len(CLASSES)))
    sources[:, LICENSED] = licensed
    sources[:, OVER_CAPACITY] = over
    sources[:, UNLICENSED] = unlicensed - unjudged
    unsourced = np.where(recorded, shortfall, 0.0)
    sources[:, UNSOURCED] = unsourced
    sources[:, DATA_GAP] = np.where(recorded, 0.0, shortfall) + unjudged
    sources[:, OPENING_STOCK] = opening
    net = Network(seller=seller, buyer=buyer, tonnes=tonnes, yield_factor=y, sources=sources)
    circular = close_loops(net)
    sources[:, UNSOURCED] += circular
    net = Network(seller=seller, buyer=buyer, tonnes=tonnes, yield_factor=y, sources=sources)

    balances = nodes.select(
        "facility_id",
        "name",
        "kind",
        "county",
        "registered",
        "opening_stock_t",
        "yield_factor",
        "closing_stock_t",
        "capacity_t",
        "licence_state",
    ).with_columns(
        pl.col("opening_stock_t").fill_null(0.0),
        pl.Series("inflow_t", inflow),
        pl.Series("usable_inflow_t", usable),
        pl.Series("production_t", production),
        pl.Series("licensed_production_t", licensed),
        pl.Series("over_capacity_t", over),
        pl.Series("unlicensed_production_t", sources[:, UNLICENSED].copy()),
        pl.Series("outflow_t", outflow),
        pl.Series("unsourced_t", unsourced),
        pl.Series("data_gap_t", sources[:, DATA_GAP].copy()),
        pl.Series("inflow_recorded", recorded),
        pl.Series("circular_t", circular),
        pl.Series("total_t", net.total()),
    )
    return Balanced(ids=ids, network=net, balances=balances)


def inflow_recorded(
    nodes: pl.DataFrame, inflow: np.ndarray, outflow: np.ndarray, config: ProvenanceConfig
) -> np.ndarray:
    """Per facility: can the data tell what it received?

    Not when no facility of its kind received anything while at least
    `min_unrecorded_facilities` of them shipped (mines produce and ids nobody
    registered are always judged, so neither counts), not when its county booked
    intakes with no shipment into the county on record, and not when the period
    has no shipment at all.
    """
    import polars as pl

    if not (inflow > 0).any():
        return np.zeros(len(inflow), dtype=bool)
    frame = pl.DataFrame({"kind": nodes["kind"], "ships": outflow > 0, "gets": inflow > 0})
    kinds = (
        frame.filter(pl.col("kind").is_not_null() & (pl.col("kind") != "mine"))
        .group_by("kind")
        .agg(pl.col("ships").sum().alias("shippers"), pl.col("gets").any().alias("any_inflow"))
        .filter(~pl.col("any_inflow") & (pl.col("shippers") >= config.min_unrecorded_facilities))
    )["kind"]
    kind_ok = ~frame["kind"].is_in(kinds.to_list()).fill_null(False).to_numpy()
    return np.asarray(kind_ok & ~nodes["county_inflow_missing"].fill_null(False).to_numpy())
