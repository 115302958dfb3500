"""Mass balance per facility: what it had and got against what it shipped.

opening stock + inflow × yield + production = outflow (+ closing stock where known).

A mine's production is what it must have dug to ship what it shipped; it is
split by the licence state on each shipment day (licensed or unlicensed), and
licensed production beyond the prorated approved capacity is over-capacity.
Any other facility that ships more than it had and got creates the shortfall
as unsourced coal at itself. Shortfalls within `tolerance_t` are weighbridge
rounding, not coal.

Coverage comes before judgement: when most facilities of one kind that ship
coal received none at all in the period (`ProvenanceConfig.min_inflow_coverage`),
the data set does not record that kind's inflows (a public data set without the
flows into preparation plants, a county that sent no purchase records). Their
shortfalls are then `data_gap`, a gap in the data that no rule judges, rather
than `unsourced` coal. Likewise, when no coal mining licence is loaded at all, a
mine's production cannot be judged licensed or not: it is `data_gap` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from coaltrace.graph import GraphData
from coaltrace.provenance.config import ProvenanceConfig
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
    licences_recorded = bool(nodes["licences_recorded"].any()) if n else True
    shortfall = np.where(~is_mine & (need > config.tolerance_t), need, 0.0)
    recorded = inflow_recorded(nodes["kind"], inflow, outflow, config)

    sources = np.zeros((n, len(CLASSES)))
    sources[:, LICENSED] = licensed
    sources[:, OVER_CAPACITY] = over
    sources[:, UNLICENSED] = unlicensed if licences_recorded else 0.0
    unsourced = np.where(recorded, shortfall, 0.0)
    sources[:, UNSOURCED] = unsourced
    sources[:, DATA_GAP] = np.where(recorded, 0.0, shortfall) + (0.0 if licences_recorded else unlicensed)
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


def inflow_recorded(kind: pl.Series, inflow: np.ndarray, outflow: np.ndarray, config: ProvenanceConfig) -> np.ndarray:
    """Per facility: are the inflows of its kind recorded in this data at all?

    A kind is recorded when at least `min_inflow_coverage` of its facilities that
    ship coal received some. Mines produce, so they do not count; neither do ids
    nobody registered (no kind): an unknown party that ships is always judged.
    """
    import polars as pl

    frame = pl.DataFrame({"kind": kind, "ships": outflow > 0, "gets": inflow > 0})
    kinds = (
        frame.filter(pl.col("ships") & pl.col("kind").is_not_null() & (pl.col("kind") != "mine"))
        .group_by("kind")
        .agg((pl.col("gets").sum() / pl.len()).alias("covered"))
        .filter(pl.col("covered") < config.min_inflow_coverage)
    )["kind"]
    return (~frame["kind"].is_in(kinds.to_list()).fill_null(False)).to_numpy()
