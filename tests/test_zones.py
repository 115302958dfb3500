"""Zone hits: the grid join finds exactly the points that a test of every point against every zone finds."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from coaltrace.rules.zones import _MAX_GRID_CELLS, _grid_cells, build_zone_tables, haversine_sql, parse_wkt
from coaltrace.store import Store

POLYGON = "POLYGON ((112.50 37.50, 112.56 37.50, 112.56 37.55, 112.50 37.55, 112.50 37.50))"
ROAD = "LINESTRING (112.40 37.40, 112.45 37.43, 112.52 37.41)"

# The old query: each point against each circle, box first, then the great-circle distance.
EVERY_PAIR = f"""
SELECT g.plate, g.ts, g.lat, g.lon, c.zone_id, c.kind
FROM gps g, zone_circles c
WHERE c.zone_id IN (SELECT zone_id FROM zones WHERE geometry IS NULL)
  AND g.lat BETWEEN c.lat - c.radius_m / 111320.0 AND c.lat + c.radius_m / 111320.0
  AND g.lon BETWEEN c.lon - c.radius_m / (111320.0 * COS(RADIANS(c.lat)))
                AND c.lon + c.radius_m / (111320.0 * COS(RADIANS(c.lat)))
  AND {haversine_sql("g.lat", "g.lon", "c.lat", "c.lon")} <= c.radius_m
"""

# A point on each side of each circle's box, exactly on its bound: the cell edge cases.
ON_THE_BOX = """
INSERT INTO gps (plate, ts, lat, lon)
SELECT 'EDGE' || zone_id, TIMESTAMP '2021-12-01', lat + dy * radius_m / 111320.0,
       lon + dx * radius_m / (111320.0 * COS(RADIANS(lat)))
FROM zones, (VALUES (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (0, 0)) AS side(dy, dx)
WHERE geometry IS NULL
"""


@pytest.fixture
def store() -> Store:
    rng = np.random.default_rng(7)
    s = Store(":memory:")
    centres = rng.uniform([37.0, 112.0], [38.0, 113.0], size=(300, 2))
    # Circles from 50 m to 300 km: the biggest ones make the grid coarser than the median zone.
    radii = np.r_[rng.uniform(50, 3000, 296), 30_000.0, 120_000.0, 300_000.0, 50.0]
    zones = pa.table(
        {
            "zone_id": [f"Z{i:04d}" for i in range(300)] + ["P1", "R1"],
            "kind": ["closed_mine"] * 150 + ["outcrop"] * 150 + ["outcrop", "remote_road"],
            "geometry": [None] * 300 + [POLYGON, ROAD],
            "lat": [*centres[:, 0].tolist(), None, None],
            "lon": [*centres[:, 1].tolist(), None, None],
            "radius_m": [*radii.tolist(), None, 300.0],
        }
    )
    n = 60_000
    near = centres[rng.integers(0, 300, n)] + rng.normal(0, 0.02, (n, 2))
    spread = rng.uniform([36.0, 111.0], [39.0, 114.0], size=(n, 2))
    points = np.vstack([near, spread])
    gps = pa.table(
        {
            "plate": [f"P{i % 977}" for i in range(len(points))],
            "ts": pa.array(np.datetime64("2021-12-01") + np.arange(len(points)).astype("timedelta64[s]")),
            "lat": points[:, 0],
            "lon": points[:, 1],
        }
    )
    with s.engine.registered("_z", zones), s.engine.registered("_g", gps):
        s.engine.execute("INSERT INTO zones (zone_id, kind, geometry, lat, lon, radius_m) SELECT * FROM _z")
        s.engine.execute("INSERT INTO gps (plate, ts, lat, lon) SELECT * FROM _g")
    s.engine.execute(ON_THE_BOX)
    yield s
    s.close()


def test_circle_hits_are_those_of_every_point_against_every_circle(store: Store) -> None:
    n = build_zone_tables(store.engine, gps_view="gps")
    got = store.engine.rows(
        "SELECT * FROM gps_zone_hits WHERE zone_kind IS NOT NULL AND zone_id LIKE 'Z%' ORDER BY ALL"
    )
    expected = store.engine.rows(f"SELECT * FROM ({EVERY_PAIR}) ORDER BY ALL")
    assert len(expected) > 1000
    assert any(plate.startswith("EDGE") for plate, *_ in expected)
    assert got == expected
    assert n == len(got) + store.engine.scalar("SELECT count(*) FROM gps_zone_hits WHERE zone_id IN ('P1', 'R1')")


def test_shape_hits_are_those_of_the_shape_tested_on_every_point(store: Store) -> None:
    build_zone_tables(store.engine, gps_view="gps")
    points = store.engine.numpy("SELECT plate, ts, lat, lon FROM gps ORDER BY ALL")
    for zone_id, wkt, radius in (("P1", POLYGON, None), ("R1", ROAD, 300.0)):
        shape = parse_wkt(zone_id, "x", wkt, radius)
        inside = shape.contains(points["lon"], points["lat"])
        expected = sorted(zip(points["plate"][inside], points["lat"][inside], points["lon"][inside], strict=True))
        got = store.engine.rows("SELECT plate, lat, lon FROM gps_zone_hits WHERE zone_id = ? ORDER BY ALL", [zone_id])
        assert len(expected) > 10
        assert got == expected


def test_the_grid_stays_small_however_large_the_zones() -> None:
    # One zone as wide as the country and a thousand tiny ones: the cells get coarser, never too many.
    lat0 = np.r_[np.linspace(30, 40, 1000), 18.0]
    lon0 = np.r_[np.linspace(100, 120, 1000), 73.0]
    boxes = pa.table(
        {"lat0": lat0, "lat1": np.r_[lat0[:-1] + 0.001, 54.0], "lon0": lon0, "lon1": np.r_[lon0[:-1] + 0.001, 135.0]}
    )
    cells, size = _grid_cells(boxes)
    assert 0 < cells.num_rows <= _MAX_GRID_CELLS
    cy, cx = cells.column("cy").to_numpy(), cells.column("cx").to_numpy()
    for i in (0, 500, 1000):
        # Each box's cells cover its corners.
        mine = cells.column("lat0").to_numpy() == lat0[i]
        for lat in (boxes["lat0"][i].as_py(), boxes["lat1"][i].as_py()):
            for lon in (boxes["lon0"][i].as_py(), boxes["lon1"][i].as_py()):
                assert (mine & (cy == np.floor(lat / size)) & (cx == np.floor(lon / size))).any()


def test_a_box_that_is_not_a_number_gets_no_cell() -> None:
    boxes = pa.table({"lat0": [np.nan, 37.0], "lat1": [np.nan, 37.01], "lon0": [112.0, 112.0], "lon1": [112.0, 112.01]})
    cells, _ = _grid_cells(boxes)
    assert set(cells.column("lat0").to_pylist()) == {37.0}
