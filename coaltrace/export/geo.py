"""GeoJSON (RFC 7946) of facilities and flows, for QGIS and any web map.

Facilities are Points, flows LineStrings from seller to buyer; positions are
WGS-84 `[longitude, latitude]` (RFC 7946 §3.1.1: longitude first), six decimals
(about 0.1 m, as §11.2 advises). A facility or flow without coordinates keeps
its feature with a null geometry (§3.2 allows it), so no record is dropped
silently. Properties are flat scalars (lists joined into text), which is what
a GIS attribute table can show and filter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from coaltrace.export.contents import CLASSES

FACILITY_PROPERTIES = (
    "facility_id",
    "name",
    "kind",
    "kind_label",
    "county",
    "address",
    "status",
    "status_label",
    "licence_state",
    "licence_state_label",
    "inflow_t",
    "outflow_t",
    "opening_stock_t",
    "closing_stock_computed_t",
    "unsourced_t",
    "at_risk_share",
    "tonnes_at_risk",
    "findings",
    "worst_severity",
    "rules",
    "component",
    "cycles",
)
FLOW_PROPERTIES = (
    "flow_id",
    "seller_id",
    "seller_name",
    "buyer_id",
    "buyer_name",
    "product",
    "tonnes",
    "trips",
    *(f"{c}_share" for c in CLASSES),
    "at_risk_share",
    "at_risk_t",
    "findings",
    "finding_ids",
    "rules",
    "worst_severity",
    "upstream_path",
    "round_trips",
)
DEGREES = 6


def flat(value: Any, joiner: str = ", ") -> Any:
    """A value a GIS attribute table (or GraphML) can hold: scalars stay, lists become text, dates ISO text."""
    if isinstance(value, list | tuple):
        return joiner.join(str(v) for v in value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN, and GraphML readers choke on it
    return value


def _position(lon: Any, lat: Any) -> list[float] | None:
    if lon is None or lat is None:
        return None
    return [round(float(lon), DEGREES), round(float(lat), DEGREES)]


def _properties(row: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    return {n: flat(row.get(n), " > " if n == "upstream_path" else ", ") for n in names if n in row}


def facility_features(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    features = []
    for r in rows:
        at = _position(r.get("lon"), r.get("lat"))
        features.append(
            {
                "type": "Feature",
                "id": r["facility_id"],
                "geometry": {"type": "Point", "coordinates": at} if at else None,
                "properties": {"feature": "facility", **_properties(r, FACILITY_PROPERTIES)},
            }
        )
    return features


def flow_features(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    features = []
    for r in rows:
        a = _position(r.get("seller_lon"), r.get("seller_lat"))
        b = _position(r.get("buyer_lon"), r.get("buyer_lat"))
        features.append(
            {
                "type": "Feature",
                "id": r["flow_id"],
                "geometry": {"type": "LineString", "coordinates": [a, b]} if a and b and a != b else None,
                "properties": {"feature": "flow", **_properties(r, FLOW_PROPERTIES)},
            }
        )
    return features


def feature_collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}
