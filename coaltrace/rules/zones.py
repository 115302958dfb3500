"""Which GPS points fall inside a zone: the `gps_zone_hits` table the rules read.

There is no spatial extension (nothing may download at run time), and there
are few zones but many points. So each zone is parsed once in Python, DuckDB
cuts the points down to the zone's bounding box, and numpy decides the rest
over whole arrays: even-odd ray casting for polygons (holes included), distance
to the nearest segment for roads, haversine for circles.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from coaltrace.errors import CoaltraceError, InputFileError, Location

if TYPE_CHECKING:
    from coaltrace.engine import Engine

EARTH_RADIUS_M = 6_371_008.8
# A road given as a line with no radius: points this close to it are on it.
DEFAULT_ROAD_BUFFER_M = 200.0

_RING = re.compile(r"\(([^()]+)\)")
_KIND = re.compile(r"^\s*([A-Za-z]+)")

CIRCLES_DDL = """
CREATE OR REPLACE TEMP TABLE zone_circles (zone_id VARCHAR, kind VARCHAR, lat DOUBLE, lon DOUBLE, radius_m DOUBLE)
"""

HITS_DDL = """
CREATE OR REPLACE TEMP TABLE gps_zone_hits (
    plate VARCHAR, ts TIMESTAMP, lat DOUBLE, lon DOUBLE, zone_id VARCHAR, zone_kind VARCHAR
)
"""


@dataclass(frozen=True)
class Shape:
    """A zone as rings (polygon) or paths (line), each an (n, 2) array of lon, lat."""

    zone_id: str
    kind: str
    polygon: bool
    parts: tuple[np.ndarray, ...]
    buffer_m: float

    def bbox(self) -> tuple[float, float, float, float]:
        pts = np.vstack(self.parts)
        lat_pad = self.buffer_m / 111_320.0
        lon_pad = lat_pad / max(math.cos(math.radians(float(np.abs(pts[:, 1]).max()))), 0.01)
        return (
            float(pts[:, 0].min()) - lon_pad,
            float(pts[:, 1].min()) - lat_pad,
            float(pts[:, 0].max()) + lon_pad,
            float(pts[:, 1].max()) + lat_pad,
        )

    def circle(self) -> tuple[float, float, float]:
        """Centre (lat, lon) and a radius in metres that covers the whole shape."""
        pts = np.vstack(self.parts)
        lat0, lon0 = float(pts[:, 1].mean()), float(pts[:, 0].mean())
        dy = (pts[:, 1] - lat0) * 111_320.0
        dx = (pts[:, 0] - lon0) * 111_320.0 * math.cos(math.radians(lat0))
        return lat0, lon0, float(np.hypot(dx, dy).max()) + self.buffer_m

    def contains(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        if self.polygon:
            return _in_rings(lon, lat, self.parts)
        return _near_paths(lon, lat, self.parts, self.buffer_m)


def parse_wkt(zone_id: str, kind: str, wkt: str, radius_m: float | None) -> Shape:
    """POLYGON, MULTIPOLYGON, LINESTRING or MULTILINESTRING in lon lat order (WKT's order)."""
    m = _KIND.match(wkt)
    geom = m.group(1).upper() if m else ""
    if geom not in ("POLYGON", "MULTIPOLYGON", "LINESTRING", "MULTILINESTRING"):
        raise ValueError(f"zone {zone_id}: geometry must be a WKT polygon or line, not {wkt[:40]!r}")
    parts = []
    for ring in _RING.findall(wkt):
        try:
            coords = [(float(x), float(y)) for x, y, *_ in (pair.split() for pair in ring.split(",") if pair.strip())]
        except ValueError:
            raise ValueError(f"zone {zone_id}: each point is two numbers, lon lat, in {wkt[:40]!r}") from None
        if len(coords) < 2:
            raise ValueError(f"zone {zone_id}: a ring or line needs at least two points")
        parts.append(np.asarray(coords, dtype=np.float64))
    if not parts:
        raise ValueError(f"zone {zone_id}: no coordinates in {wkt[:40]!r}")
    polygon = "POLYGON" in geom
    buffer_m = 0.0 if polygon else float(radius_m or DEFAULT_ROAD_BUFFER_M)
    return Shape(zone_id, kind, polygon, tuple(parts), buffer_m)


def _in_rings(lon: np.ndarray, lat: np.ndarray, rings: tuple[np.ndarray, ...]) -> np.ndarray:
    inside = np.zeros(lon.shape, dtype=bool)
    for ring in rings:
        x1, y1 = ring[:, 0], ring[:, 1]
        x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
        # One edge at a time keeps memory at O(points), whatever the ring's size.
        for ax, ay, bx, by in zip(x1, y1, x2, y2, strict=True):
            if ay == by:
                continue
            crosses = (ay > lat) != (by > lat)
            x_at = ax + (lat - ay) * (bx - ax) / (by - ay)
            inside ^= crosses & (lon < x_at)
    return inside


def _near_paths(lon: np.ndarray, lat: np.ndarray, paths: tuple[np.ndarray, ...], buffer_m: float) -> np.ndarray:
    # Local equirectangular metres: exact enough over the few hundred metres of a buffer.
    k_lat = 111_320.0
    k_lon = k_lat * np.cos(np.radians(lat))
    best = np.full(lon.shape, np.inf)
    for path in paths:
        for (ax, ay), (bx, by) in zip(path[:-1], path[1:], strict=True):
            px, py = (lon - ax) * k_lon, (lat - ay) * k_lat
            dx, dy = (bx - ax) * k_lon, (by - ay) * k_lat
            seg2 = dx * dx + dy * dy
            t = np.clip(np.where(seg2 > 0, (px * dx + py * dy) / np.where(seg2 > 0, seg2, 1), 0), 0, 1)
            best = np.minimum(best, np.hypot(px - t * dx, py - t * dy))
    return best <= buffer_m


def haversine_sql(lat1: str, lon1: str, lat2: str, lon2: str) -> str:
    """Great-circle metres between two points, in SQL every dialect reads."""
    return (
        f"2 * {EARTH_RADIUS_M} * ASIN(SQRT(POWER(SIN(RADIANS({lat2} - {lat1}) / 2), 2) + "
        f"COS(RADIANS({lat1})) * COS(RADIANS({lat2})) * POWER(SIN(RADIANS({lon2} - {lon1}) / 2), 2)))"
    )


def _shapes(zones: list[tuple[Any, ...]]) -> list[Shape]:
    """The zones given as WKT; every unreadable geometry is reported at once, with its file and line."""
    shapes: list[Shape] = []
    bad: list[CoaltraceError] = []
    for z, k, g, _la, _lo, r, file, sheet, line in zones:
        if not g:
            continue
        try:
            shapes.append(parse_wkt(z, k, g, r))
        except ValueError as e:
            bad.append(InputFileError(str(e), location=Location(file=file, sheet=sheet, line=line, column="geometry")))
    if bad:
        raise InputFileError(
            f"{len(bad)} zone(s) have a geometry that cannot be read",
            zh=f"{len(bad)} 个区域的范围无法读取",
            causes=bad,
            hint="Write the geometry as a WKT POLYGON or LINESTRING in lon lat order, or give lat, lon and "
            "radius_m instead; then load the zones file again.",
            hint_zh="请把范围写成经度在前的 WKT POLYGON 或 LINESTRING，或改填纬度、经度和半径，然后重新载入区域文件。",
        )
    return shapes


def build_zone_tables(engine: Engine, gps_view: str = "period_gps") -> int:
    """Fill zone_circles and gps_zone_hits (from the period's GPS points); returns the number of hits."""
    import pyarrow as pa

    engine.execute(CIRCLES_DDL)
    engine.execute(HITS_DDL)
    zones = engine.rows(
        "SELECT zone_id, kind, geometry, lat, lon, radius_m, _file, _sheet, _line FROM zones ORDER BY zone_id"
    )
    circles = [
        (z, k, la, lo, r) for z, k, g, la, lo, r, *_ in zones if not g and la is not None and lo is not None and r
    ]
    shapes = _shapes(zones)
    covering = circles + [(s.zone_id, s.kind, *s.circle()) for s in shapes]
    if covering:
        names = ("zone_id", "kind", "lat", "lon", "radius_m")
        rows = pa.table({name: [c[i] for c in covering] for i, name in enumerate(names)})
        with engine.registered("_zone_circle_rows", rows):
            engine.execute("INSERT INTO zone_circles SELECT zone_id, kind, lat, lon, radius_m FROM _zone_circle_rows")
    if circles:
        # The box test lets DuckDB skip the trigonometry for almost every point.
        engine.execute(
            f"""
            INSERT INTO gps_zone_hits
            SELECT g.plate, g.ts, g.lat, g.lon, c.zone_id, c.kind
            FROM {gps_view} g JOIN (SELECT * FROM zone_circles WHERE zone_id IN (SELECT UNNEST(?::VARCHAR[]))) c
              ON g.lat BETWEEN c.lat - c.radius_m / 111320.0 AND c.lat + c.radius_m / 111320.0
             AND g.lon BETWEEN c.lon - c.radius_m / (111320.0 * COS(RADIANS(c.lat)))
                           AND c.lon + c.radius_m / (111320.0 * COS(RADIANS(c.lat)))
            WHERE {haversine_sql("g.lat", "g.lon", "c.lat", "c.lon")} <= c.radius_m
            """,
            [[c[0] for c in circles]],
        )
    for shape in shapes:
        x0, y0, x1, y1 = shape.bbox()
        cand = engine.arrow(
            f"SELECT plate, ts, lat, lon FROM {gps_view} WHERE lon BETWEEN $x0 AND $x1 AND lat BETWEEN $y0 AND $y1",
            {"x0": x0, "x1": x1, "y0": y0, "y1": y1},
        )
        if cand.num_rows == 0:
            continue
        lon = cand.column("lon").to_numpy()
        lat = cand.column("lat").to_numpy()
        hit = cand.filter(shape.contains(lon, lat))
        if hit.num_rows:
            with engine.registered("_zone_hit_rows", hit):
                engine.execute(
                    "INSERT INTO gps_zone_hits SELECT plate, ts, lat, lon, ?, ? FROM _zone_hit_rows",
                    [shape.zone_id, shape.kind],
                )
    return int(engine.scalar("SELECT count(*) FROM gps_zone_hits") or 0)
