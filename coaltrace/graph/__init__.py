"""The shipment graph: facilities and the aggregated flows between them, per period."""

from coaltrace.graph.build import GraphData, build_graph, load_graph_data, to_networkx

__all__ = ["GraphData", "build_graph", "load_graph_data", "to_networkx"]
