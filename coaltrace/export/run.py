"""`export`: one period's flows, findings, facilities or whole graph, in the format it is opened in.

| export | formats | what it holds |
|---|---|---|
| flows | csv, xlsx, parquet, json, jsonl, geojson, graphml | one row per seller and buyer: tonnes, origin shares by class, findings, heaviest upstream path, round trips |
| findings | csv, xlsx, parquet, json, jsonl | the findings, with names and labels; xlsx adds a sheet of their evidence rows |
| facilities | csv, xlsx, parquet, json, jsonl, geojson | one row per facility: register, balance, origin shares, findings, component, round trips |
| graph | graphml, geojson, xlsx, json | facilities, flows and round trips together |

GraphML is written through NetworkX for Gephi, yEd or Cytoscape: every
attribute a scalar (GraphML has no list, no record and no null: lists are
joined into text and missing values left out).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from coaltrace.errors import UsageError
from coaltrace.export.contents import (
    ExportFilter,
    facility_frame,
    finding_rows,
    flow_frame,
    found,
    keep_facilities,
    keep_flows,
)
from coaltrace.export.formats import check_format, write_file, write_text
from coaltrace.export.geo import facility_features, feature_collection, flat, flow_features
from coaltrace.i18n import Text
from coaltrace.numbers import decimals_for, tidy
from coaltrace.period import Period
from coaltrace.store import Store

if TYPE_CHECKING:
    import networkx as nx
    import polars as pl

    from coaltrace.provenance.queries import ConfigArg

EXPORTS: dict[str, tuple[str, ...]] = {
    "flows": ("csv", "xlsx", "parquet", "json", "jsonl", "geojson", "graphml"),
    "findings": ("csv", "xlsx", "parquet", "json", "jsonl"),
    "facilities": ("csv", "xlsx", "parquet", "json", "jsonl", "geojson"),
    "graph": ("graphml", "geojson", "xlsx", "json"),
}
EXPORT_NAMES = {
    "flows": Text("流向导出", "the flows export"),
    "findings": Text("问题导出", "the findings export"),
    "facilities": Text("单位导出", "the facilities export"),
    "graph": Text("运输网络导出", "the graph export"),
}
# Lists in flat formats (csv, xlsx, GeoJSON, GraphML) are joined into text: a path with arrows, the rest with commas.
_ARROW_JOINED = ("upstream_path", "facilities")


@dataclass
class ExportResult:
    what: str
    period: str
    format: str
    path: str | None
    rows: dict[str, int] = field(default_factory=dict)  # per part: facilities, flows, findings, round_trips
    bytes: int | None = None
    seconds: float = 0.0


def check_export(what: str, fmt: str, f: ExportFilter, out: Path | None) -> str:
    """The format, if it fits the export and where it is sent; UsageError naming the ones that do otherwise."""
    if what not in EXPORTS:
        raise UsageError(f"unknown export {what!r}: use one of {', '.join(EXPORTS)}")
    if what == "findings" and f.min_share is not None:
        raise UsageError(
            "--min-share filters flows and facilities, not findings",
            zh="--min-share 用于筛选流向和单位，不适用于问题",
            hint="Use --severity, --rule or --county for findings.",
            hint_zh="筛选问题请用 --severity、--rule 或 --county。",
        )
    return check_format(fmt, EXPORTS[what], what=EXPORT_NAMES[what], out=out)


def export(
    store: Store,
    what: str,
    period: Period,
    fmt: str,
    out: Path | None,
    f: ExportFilter | None = None,
    *,
    lang: str = "zh",
    config: ConfigArg = None,
    source: str | None = None,
    stream: TextIO | None = None,
) -> ExportResult:
    """Write the export WHAT of PERIOD as FMT to OUT (or, for a text format, to STREAM: stdout by default).

    The period's provenance is built first if it is not current (with CONFIG, else the stored build's)."""
    from coaltrace.provenance.current import ensure_current

    f = f or ExportFilter()
    fmt = check_export(what, fmt, f, out)
    started = time.perf_counter()
    if what != "findings":
        ensure_current(store, period, config, source=source, keep_build=True)
    result = ExportResult(what=what, period=period.label, format=fmt, path=str(out) if out else None)
    parts = _parts(store, what, period, f, lang, fmt)
    result.rows = {name: len(rows) for name, rows in parts.items()}
    result.bytes = _write(what, fmt, parts, out, stream or sys.stdout, period)
    result.seconds = time.perf_counter() - started
    return result


def _parts(store: Store, what: str, period: Period, f: ExportFilter, lang: str, fmt: str) -> dict[str, Any]:
    """The tables the export holds, by name, as frames (findings as rows: their evidence is nested)."""
    import polars as pl

    from coaltrace.graph.network import components, cycles_of, facility_graph, round_trips

    if what == "findings":
        rows = finding_rows(store, period, f, lang)
        return {"findings": rows, "evidence": _evidence(rows)} if fmt == "xlsx" else {"findings": rows}
    facilities = facility_frame(store, period, lang)
    flows = flow_frame(store, period)
    whole = facility_graph(facilities.select("facility_id").to_dicts(), flows.to_dicts())
    cycles = round_trips(whole)
    member = cycles_of(cycles)
    component = components(whole)
    facilities = facilities.with_columns(
        pl.col("facility_id").replace_strict(component, default=None, return_dtype=pl.Int64).alias("component")
    ).join(_lists("facility_id", "cycles", member), on="facility_id", how="left")
    facilities = facilities.with_columns(pl.col("cycles").fill_null([]))
    on_edge: dict[str, list[str]] = {}
    for c in cycles:
        ring = c["facilities"]
        for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
            on_edge.setdefault(f"{a}>{b}", []).append(c["cycle_id"])
    flows = flows.join(_lists("flow_id", "round_trips", on_edge), on="flow_id", how="left")
    flows = flows.with_columns(pl.col("round_trips").fill_null([]))
    facility_ids, flow_ids = found(store, period, f) if f.by_findings else (set(), set())
    kept_flows = keep_flows(flows, f, facility_ids, flow_ids)
    if what == "facilities":
        return {"facilities": _rounded(keep_facilities(facilities, f, facility_ids))}
    if what == "flows" and fmt != "graphml":
        return {"flows": _rounded(kept_flows)}
    # A graph: the kept flows and the facilities at their ends (every facility when nothing is filtered).
    if f.any:
        ends = set(kept_flows["seller_id"].to_list()) | set(kept_flows["buyer_id"].to_list())
        facilities = facilities.filter(pl.col("facility_id").is_in(sorted(ends)))
    kept = set(facilities["facility_id"].to_list())
    cycle_rows = [_cycle_row(c, facilities) for c in cycles if set(c["facilities"]) <= kept]
    return {"facilities": _rounded(facilities), "flows": _rounded(kept_flows), "round_trips": cycle_rows}


def _lists(key: str, name: str, values: Mapping[str, list[str]]) -> pl.DataFrame:
    """A frame of KEY and the list NAME, for a left join (an empty list where a key has none)."""
    import polars as pl

    return pl.DataFrame(
        {key: list(values), name: list(values.values())}, schema={key: pl.String, name: pl.List(pl.String)}
    )


def _cycle_row(cycle: Mapping[str, Any], facilities: pl.DataFrame) -> dict[str, Any]:
    import polars as pl

    info = {
        r["facility_id"]: r
        for r in facilities.filter(pl.col("facility_id").is_in(cycle["facilities"]))
        .select("facility_id", "name", "kind")
        .to_dicts()
    }
    return tidy(
        {
            **cycle,
            "names": [info.get(x, {}).get("name") or x for x in cycle["facilities"]],
            "kinds": [info.get(x, {}).get("kind") for x in cycle["facilities"]],
            "traders": sum(info.get(x, {}).get("kind") == "trader" for x in cycle["facilities"]),
        }
    )


def _rounded(frame: pl.DataFrame) -> pl.DataFrame:
    """Every float column rounded as measured (tonnes to the kilogram, shares to a millionth, degrees to 0.1 m)."""
    import polars as pl

    return frame.with_columns(
        pl.col(name).round(decimals_for(name)) for name, dtype in frame.schema.items() if dtype.is_float()
    )


def _evidence(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per evidence record of every finding: where it is (table, file, sheet, line) and its fields."""
    rows = []
    for fnd in findings:
        for e in (fnd.get("evidence") or {}).get("rows", []):
            rest = {k: v for k, v in e.items() if k not in ("_table", "_file", "_sheet", "_line")}
            rows.append(
                {
                    "finding_id": fnd["finding_id"],
                    "rule_id": fnd["rule_id"],
                    "table": e.get("_table"),
                    "file": e.get("_file"),
                    "sheet": e.get("_sheet"),
                    "line": e.get("_line"),
                    "record": rest,
                }
            )
    return rows


def _flat_rows(frame: pl.DataFrame | list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = frame if isinstance(frame, list) else frame.to_dicts()
    return [{k: flat(v, " > " if k in _ARROW_JOINED else ", ") for k, v in r.items()} for r in rows]


def _write(what: str, fmt: str, parts: dict[str, Any], out: Path | None, stream: TextIO, period: Period) -> int | None:
    import json

    if fmt == "geojson":
        features = []
        if "facilities" in parts:
            features += facility_features(_flat_rows(parts["facilities"]))
        if "flows" in parts:
            features += flow_features(_flat_rows(parts["flows"]))
        text = json.dumps(feature_collection(features), ensure_ascii=False, allow_nan=False)
        return _text_out(text, out, stream)
    if fmt == "graphml":
        from networkx.readwrite.graphml import GraphMLWriter

        # Numeric types inferred across all values of a key: a tonnage that is 0 on one node stays a double.
        # Key ids stay d0, d1...: nodes and edges share attribute names (findings, rules), and ids must be unique.
        writer = GraphMLWriter(graphml_graph(parts, period), infer_numeric_types=True)
        return _text_out(str(writer), out, stream)
    if what == "graph" and fmt == "json":
        body = {"period": period.label, **{k: _plain_rows(v) for k, v in parts.items()}}
        text = json.dumps(body, ensure_ascii=False, indent=2, default=str, allow_nan=False)
        return _text_out(text + "\n", out, stream)
    if fmt == "xlsx":
        assert out is not None
        return write_file({name: _flat_rows(rows) for name, rows in parts.items()}, "xlsx", out)
    [(name, rows)] = parts.items()
    table = _flat_rows(rows) if fmt == "csv" else rows
    if out is None:
        write_text(table, fmt, stream)
        return None
    return write_file(table, fmt, out, sheet=name)


def _plain_rows(rows: pl.DataFrame | list[dict[str, Any]]) -> list[dict[str, Any]]:
    import math

    data = rows if isinstance(rows, list) else rows.to_dicts()
    return [{k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in r.items()} for r in data]


def _text_out(text: str, out: Path | None, stream: TextIO) -> int | None:
    if out is None:
        stream.write(text)
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return out.stat().st_size


def graphml_graph(parts: Mapping[str, Any], period: Period) -> nx.DiGraph:
    """Facilities and flows as a NetworkX graph every attribute of which GraphML can hold."""
    from coaltrace.graph.network import facility_graph

    def scalars(row: Mapping[str, Any]) -> dict[str, Any]:
        # No value is written as no attribute: GraphML has no null, and an empty list is no value either.
        flattened = {k: flat(v, " > " if k in _ARROW_JOINED else ", ") for k, v in row.items() if v != []}
        return {k: v for k, v in flattened.items() if v is not None}

    nodes = [scalars(r) | {"label": r.get("name") or r["facility_id"]} for r in parts["facilities"].to_dicts()]
    edges = [scalars(r) for r in parts["flows"].to_dicts()]
    # The ends' names and places are node attributes already.
    drop = {f"{end}_{x}" for end in ("seller", "buyer") for x in ("name", "kind", "county", "lat", "lon")}
    g = facility_graph(nodes, [{k: v for k, v in e.items() if k not in drop} for e in edges])
    g.graph["period"] = period.label
    cycles = parts.get("round_trips", [])
    g.graph["round_trip_count"] = len(cycles)
    if cycles:
        g.graph["round_trip_cycles"] = "; ".join(c["cycle_id"] for c in cycles)
    return g
