"""Which GPS points fall inside a zone: the `gps_zone_hits` table the rules read.

There is no spatial extension (nothing may download at run time), and there
are few zones but many points. So each zone is parsed once in Python and gets
a bounding box; one pass over the points pairs each point with the boxes near
it through a grid (`_grid_cells`); then haversine decides for circles, in SQL,
and numpy for the other shapes, over whole arrays: even-odd ray casting for
polygons (holes included), distance to the nearest segment for roads.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from coaltrace.errors import CoaltraceError, InputFileError, Location

if TYPE_CHECKING:
    import pyarrow as pa

    from coaltrace.engine import Engine

EARTH_RADIUS_M = 6_371_008.8
# A road given as a line with no radius: points this close to it are on it.
DEFAULT_ROAD_BUFFER_M = 200.0

_RING = re.compile(r"\(([^()]+)\)")
_KIND = re.compile(r"^\s*([A-Za-z]+)")

# The two tables this module makes, and their columns.
CIRCLE_COLUMNS = (
    ("zone_id", "VARCHAR"),
    ("kind", "VARCHAR"),
    ("lat", "DOUBLE"),
    ("lon", "DOUBLE"),
    ("radius_m", "DOUBLE"),
)
HIT_COLUMNS = (
    ("plate", "VARCHAR"),
    ("ts", "TIMESTAMP"),
    ("lat", "DOUBLE"),
    ("lon", "DOUBLE"),
    ("zone_id", "VARCHAR"),
    ("zone_kind", "VARCHAR"),
)


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


# The grid's cells are a power of two of degrees wide: about the median box, so a zone
# covers a few cells, and wider when the largest zones would need too many.
_MAX_GRID_CELLS = 250_000
_MIN_CELL_DEG = 2.0**-20

# A circle's box (shape -1: decided by haversine in SQL), bounds written as they always were.
_CIRCLE_BOXES = """
SELECT zone_id, kind, CAST(-1 AS INTEGER) AS shape, lat, lon, radius_m,
       lat - radius_m / 111320.0 AS lat0, lat + radius_m / 111320.0 AS lat1,
       lon - radius_m / (111320.0 * COS(RADIANS(lat))) AS lon0,
       lon + radius_m / (111320.0 * COS(RADIANS(lat))) AS lon1
FROM zone_circles ORDER BY zone_id
"""


def _grid_cells(boxes: pa.Table) -> tuple[pa.Table, float]:
    """Every grid cell each box touches, one row per cell and box, and the cell size in degrees.

    A point lies in cell (floor(lat / size), floor(lon / size)). Dividing by a positive
    number keeps the order of values, so a point inside a box always falls in one of the
    box's cells: joining on the cell loses no pair the box test keeps, and the box test
    still runs on what the join finds. A box with a bound that is not a number gets no
    cell: no point is inside it.
    """
    import pyarrow as pa

    lat0, lat1, lon0, lon1 = (boxes.column(c).to_numpy(zero_copy_only=False) for c in ("lat0", "lat1", "lon0", "lon1"))
    finite = np.flatnonzero(np.isfinite(lat0) & np.isfinite(lat1) & np.isfinite(lon0) & np.isfinite(lon1))
    lat0, lat1, lon0, lon1 = lat0[finite], lat1[finite], lon0[finite], lon1[finite]
    span = float(np.median(np.maximum(lat1 - lat0, lon1 - lon0))) if len(finite) else 1.0
    size = 2.0 ** math.ceil(math.log2(max(span, _MIN_CELL_DEG)))
    while True:
        y0, y1 = np.floor(lat0 / size), np.floor(lat1 / size)
        x0, x1 = np.floor(lon0 / size), np.floor(lon1 / size)
        ny, nx = (y1 - y0 + 1).astype(np.int64), (x1 - x0 + 1).astype(np.int64)
        if int((ny * nx).sum()) <= _MAX_GRID_CELLS:
            break
        size *= 2.0
    per_box = ny * nx
    box = np.repeat(np.arange(len(finite)), per_box)
    k = np.arange(len(box)) - np.repeat(np.cumsum(per_box) - per_box, per_box)
    cells = boxes.take(pa.array(finite[box]))
    cells = cells.append_column("cy", pa.array(y0[box] + k // nx[box], pa.float64()))
    return cells.append_column("cx", pa.array(x0[box] + k % nx[box], pa.float64())), size


def build_zone_tables(engine: Engine, gps_view: str = "period_gps") -> int:
    """Fill zone_circles and gps_zone_hits (from the period's GPS points); returns the number of hits."""
    import pyarrow as pa
    import pyarrow.compute as pc

    zones = engine.rows(
        "SELECT zone_id, kind, geometry, lat, lon, radius_m, _file, _sheet, _line FROM zones ORDER BY zone_id"
    )
    circles = [
        (z, k, la, lo, r) for z, k, g, la, lo, r, *_ in zones if not g and la is not None and lo is not None and r
    ]
    shapes = _shapes(zones)
    covering = circles + [(s.zone_id, s.kind, *s.circle()) for s in shapes]
    _keep(
        engine,
        "zone_circles",
        CIRCLE_COLUMNS,
        pa.table({n: [c[i] for c in covering] for i, (n, _) in enumerate(CIRCLE_COLUMNS)}),
    )
    if not covering:
        _keep(engine, "gps_zone_hits", HIT_COLUMNS, pa.table({n: [] for n, _ in HIT_COLUMNS}))
        return 0
    every_box = engine.arrow(_CIRCLE_BOXES)
    circle_boxes = every_box.filter(
        pc.is_in(every_box.column("zone_id"), value_set=pa.array([c[0] for c in circles], pa.string()))
    )
    x0, y0, x1, y1 = zip(*(s.bbox() for s in shapes), strict=True) if shapes else ((), (), (), ())
    none = [None] * len(shapes)
    shape_boxes = {
        "zone_id": [s.zone_id for s in shapes],
        "kind": [s.kind for s in shapes],
        "shape": range(len(shapes)),
    }
    shape_boxes |= {"lat": none, "lon": none, "radius_m": none, "lat0": y0, "lat1": y1, "lon0": x0, "lon1": x1}
    boxes = pa.concat_tables([circle_boxes, pa.table(shape_boxes, schema=circle_boxes.schema)])
    cells, size = _grid_cells(boxes)
    # One pass over the points: the hash join on the cell finds the few boxes near each point;
    # circles are decided here, the other shapes' candidates go to numpy, ordered by shape.
    with engine.registered("_zone_cells", cells):
        near = engine.arrow(
            f"""
            SELECT g.plate, g.ts, g.lat, g.lon, c.zone_id, c.kind, c.shape
            FROM {gps_view} g JOIN _zone_cells c
              ON floor(g.lat / $size) = c.cy AND floor(g.lon / $size) = c.cx
            WHERE g.lat BETWEEN c.lat0 AND c.lat1 AND g.lon BETWEEN c.lon0 AND c.lon1
              AND (c.shape >= 0 OR {haversine_sql("g.lat", "g.lon", "c.lat", "c.lon")} <= c.radius_m)
            ORDER BY c.shape
            """,
            {"size": size},
        )
    bounds = np.searchsorted(near.column("shape").to_numpy(zero_copy_only=False), np.arange(-1, len(shapes) + 1))
    hits = [near.slice(0, int(bounds[1]))]
    for i, shape in enumerate(shapes):
        cand = near.slice(int(bounds[i + 1]), int(bounds[i + 2] - bounds[i + 1]))
        if cand.num_rows:
            lon = cand.column("lon").to_numpy()
            lat = cand.column("lat").to_numpy()
            hits.append(cand.filter(shape.contains(lon, lat)))
    found = pa.concat_tables(hits).select(["plate", "ts", "lat", "lon", "zone_id", "kind"])
    _keep(engine, "gps_zone_hits", HIT_COLUMNS, found.rename_columns([n for n, _ in HIT_COLUMNS]))
    return int(found.num_rows)


def _keep(engine: Engine, name: str, columns: tuple[tuple[str, str], ...], rows: pa.Table) -> None:
    """ROWS as the temporary table NAME, in COLUMNS' types (on every engine: made from rows, never inserted into)."""
    select = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in columns)
    with engine.registered(f"_{name}_rows", rows):
        engine.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {select} FROM _{name}_rows")
