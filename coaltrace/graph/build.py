"""The facility-level shipment graph of a period: aggregated flows, never one edge per trip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from coaltrace.config import ProvenanceConfig
from coaltrace.graph.nodes import node_frame
from coaltrace.graph.staging import staged
from coaltrace.period import Period
from coaltrace.store import Store

if TYPE_CHECKING:
    import networkx as nx
    import polars as pl


@dataclass(frozen=True)
class GraphData:
    """`nodes`: one row per facility (see `coaltrace.graph.nodes`); `flows`: one row per
    seller, buyer and product (see `coaltrace.graph.staging`)."""

    nodes: pl.DataFrame
    flows: pl.DataFrame

    def edges(self) -> pl.DataFrame:
        """Flows summed per seller and buyer: the edges of the graph, self-sales left out."""
        import polars as pl

        return (
            self.flows.filter(pl.col("seller_id") != pl.col("buyer_id"))
            .sort("seller_id", "buyer_id", pl.col("tonnes").neg(), "product", nulls_last=True)
            .group_by("seller_id", "buyer_id", maintain_order=True)
            .agg(
                pl.col("product").first().alias("product"),
                pl.col("declared_t", "physical_t", "tonnes", "trips", "sales").sum(),
                pl.col("measure").first(),
            )
            .filter(pl.col("tonnes") > 0)
        )


def load_graph_data(store: Store, period: Period, config: ProvenanceConfig | None = None) -> GraphData:
    config = config or ProvenanceConfig()
    with staged(store, period, config) as window:
        flows = store.engine.frame("SELECT * FROM _ct_flows")
        nodes = node_frame(store, window, config)
    return GraphData(nodes=nodes, flows=flows)


def to_networkx(data: GraphData) -> nx.DiGraph:
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from((row["facility_id"], row) for row in data.nodes.to_dicts())
    g.add_edges_from((row.pop("seller_id"), row.pop("buyer_id"), row) for row in data.edges().to_dicts())
    return g


def build_graph(store: Store, period: Period, config: ProvenanceConfig | None = None) -> nx.DiGraph:
    """Facilities as nodes (kind, county, licence_state, capacity_t, opening_stock_t,
    yield_factor, sink, ...), aggregated flows as edges (declared_t, physical_t, trips,
    sales, tonnes, and the main product)."""
    return to_networkx(load_graph_data(store, period, config))
