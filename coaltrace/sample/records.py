"""The records that follow from the trips: yard intakes, GPS points, zones, power, stocks.

All tables here use the contract's column names and canonical values; the
writer turns them into the formats offices really send.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from coaltrace.sample.geo import corridor_wkt, min_distance_km, offset, square_wkt
from coaltrace.sample.month import Month
from coaltrace.sample.world import _SURNAMES, _VILLAGE_A, _VILLAGE_B, DECEMBER, TOWNS, MonthSpec, World

INTAKE_KINDS = ("yard", "washery", "coking_plant", "power_plant")


def to_time(seconds: pl.Expr, epoch: datetime = DECEMBER.epoch) -> pl.Expr:
    """Seconds since the month's first midnight (EPOCH) as a timestamp."""
    return pl.lit(epoch) + pl.duration(seconds=seconds)


def messy_plates(plate: pl.Expr, r: pl.Expr | pl.Series) -> pl.Expr:
    """How people type plates: 晋E·12345, 晋e12345, 晋E 12345, or as they should be."""
    head, tail = plate.str.slice(0, 2), plate.str.slice(2)
    return (
        pl.when(r < 0.35)
        .then(head + "·" + tail)
        .when(r < 0.45)
        .then(head.str.to_lowercase() + tail)
        .when(r < 0.55)
        .then(head + " " + tail)
        .otherwise(plate)
    )


def intakes(rng: np.random.Generator, world: World, month: Month, spec: MonthSpec = DECEMBER) -> pl.DataFrame:
    """One intake per trip into a yard, washery, coking plant or power plant, plus the odd ones."""
    ids, names, kind = world.col("facility_id"), world.col("name"), world.col("kind")
    t = month.trips
    into = np.isin(kind[t["buyer"].to_numpy()], INTAKE_KINDS)
    t = t.filter(pl.Series(into))
    n = t.height
    out = pl.DataFrame(
        {
            "facility_id": ids[t["buyer"].to_numpy()],
            "received": t["arr_true"].to_numpy() + rng.integers(2, 16, n) * 60,
            "supplier_id": ids[t["seller"].to_numpy()],
            "supplier_name": names[t["seller"].to_numpy()],
            "plate_true": t["plate_written"].to_numpy(),
            "waybill_no": t["waybill_no"].to_numpy(),
            "tonnes": t["tonnes_unloaded"].to_numpy(),
            "case": [None] * n,
        },
        schema_overrides={"case": pl.String},
    ).with_columns(
        # Half the offices write the supplier's name next to its code.
        pl.when(pl.Series(rng.random(n) < 0.5)).then(pl.col("supplier_name")).alias("supplier_name")
    )
    odd = _odd_intakes(rng, world)
    out = (
        pl.concat([out, odd], how="diagonal_relaxed")
        .sort("received", "facility_id", "plate_true", "tonnes", maintain_order=True)
        .with_row_index("i")
    )
    return out.with_columns(
        pl.format(f"RK{spec.tag}{{}}", (pl.col("i") + 1).cast(pl.String).str.pad_start(7, "0")).alias("intake_id"),
        to_time(pl.col("received"), spec.epoch).alias("received_at"),
        messy_plates(pl.col("plate_true"), pl.Series(rng.random(out.height))).alias("plate"),
    ).drop("i", "received", "plate_true")


def _odd_intakes(rng: np.random.Generator, world: World) -> pl.DataFrame:
    kind, role, ids = world.col("kind"), world.col("role"), world.col("facility_id")
    yards = np.flatnonzero((kind == "yard") & (role == "clean"))
    yards = yards[yards != world.role("c22_bad_uscc")[0]]
    mines = np.flatnonzero((kind == "mine") & (role == "clean"))
    rows = []
    for i in range(world.n_cases):
        yard = ids[yards[i % len(yards)]]
        base = int(rng.integers(3, 28)) * 86400 + int(rng.integers(8, 17)) * 3600
        person = str(rng.choice(_SURNAMES)) + "某某"
        plate = f"晋E{rng.integers(10000, 99999)}"
        rows += [
            # A supplier code that no register knows.
            {
                "facility_id": yard,
                "received": base,
                "supplier_id": f"{ids[yards[0]][:6]}MK9{rng.integers(100, 999)}",
                "supplier_name": None,
                "plate_true": plate,
                "waybill_no": f"SX{rng.integers(10**7, 10**8)}",
                "tonnes": round(float(rng.uniform(30, 40)), 2),
                "case": f"c11.{i}.id",
            },
            # A supplier known only by a person's name.
            {
                "facility_id": yard,
                "received": base + 2 * 86400,
                "supplier_id": None,
                "supplier_name": person,
                "plate_true": plate,
                "waybill_no": f"SX{rng.integers(10**7, 10**8)}",
                "tonnes": round(float(rng.uniform(30, 40)), 2),
                "case": f"c11.{i}.name",
            },
            # Coal booked in with no waybill at all.
            {
                "facility_id": ids[yards[(i + 1) % len(yards)]],
                "received": base + 86400 + 3600,
                "supplier_id": ids[int(rng.choice(mines))],
                "supplier_name": None,
                "plate_true": f"晋E{rng.integers(10000, 99999)}",
                "waybill_no": None,
                "tonnes": round(float(rng.uniform(30, 40)), 2),
                "case": f"c12.{i}",
            },
        ]
    return pl.DataFrame(
        rows, schema_overrides={"supplier_id": pl.String, "supplier_name": pl.String, "waybill_no": pl.String}
    )


def zones(
    rng: np.random.Generator, world: World, month: Month, *, month_only: bool = False, first_id: int = 1
) -> tuple[pl.DataFrame, dict[str, list[int]]]:
    """Closed mines, outcrops, remote roads and a protected area, away from every facility.

    Returns the zones and, per case, the zone rows it relies on. MONTH_ONLY: only the zones a later
    month's own cases need (the outcrops its trucks load at, the remote roads they take at night),
    numbered from FIRST_ID after the zones already written.
    """
    lat, lon, kind = world.col("lat"), world.col("lon"), world.col("kind")
    county = world.col("county")
    rows: list[dict[str, Any]] = []
    used: dict[str, list[int]] = {}

    def free_spot(near_lat: float, near_lon: float, lo: float, hi: float, clearance: float) -> tuple[float, float]:
        # Widen the search ring slowly where facilities crowd together.
        for attempt in range(1000):
            ring = rng.uniform(lo, hi + attempt * 0.05)
            zl, zo = offset(np.array(near_lat), np.array(near_lon), np.array(ring), np.array(rng.uniform(0, 2 * np.pi)))
            if min_distance_km(np.array([zl]), np.array([zo]), lat, lon)[0] >= clearance:
                return float(zl), float(zo)
        raise RuntimeError("no free spot for a zone")

    def town_of(i: int) -> str:
        return str(rng.choice(TOWNS.get(str(county[i]), ["城关镇"])))

    def village() -> str:
        return str(rng.choice(_VILLAGE_A)) + str(rng.choice(_VILLAGE_B)) + "村"

    def add(
        kind_: str,
        name: str,
        zl: float,
        zo: float,
        *,
        radius: float | None = None,
        wkt: str | None = None,
        case: str | None = None,
    ) -> None:
        if case:
            used.setdefault(case, []).append(len(rows))
        rows.append(
            {
                "kind": kind_,
                "name": name,
                "geometry": wkt,
                "lat": None if wkt else round(zl, 6),
                "lon": None if wkt else round(zo, 6),
                "radius_m": radius,
            }
        )

    mines = np.flatnonzero(kind == "mine")
    static = 0 if month_only else 1
    for r in world.closed_registry.iter_rows(named=True) if static else ():
        add("closed_mine", f"{r['name']}（已关闭）", r["lat"], r["lon"], radius=float(rng.integers(3, 6) * 100))
    for f in world.role("c19_closed_power") if static else ():
        add("closed_mine", f"{world.col('name')[f]}（已关闭）", lat[f], lon[f], radius=float(rng.integers(3, 8) * 100))
    for _ in range((2 + world.n_cases) * static):
        a = int(rng.choice(mines))
        zl, zo = free_spot(lat[a], lon[a], 4, 15, 3.0)
        add("closed_mine", f"{town_of(a)}{village()}煤矿（2017年关闭）", zl, zo, radius=float(rng.integers(3, 8) * 100))
    # Outcrop zones: the planted ones beside the mines whose trucks load there.
    seller = month.trips["seller"].to_numpy()
    for k, pos in enumerate(month.picks["c17"]):
        m = int(seller[pos])
        zl, zo = free_spot(lat[m], lon[m], 3, 5, 2.0)
        add("outcrop", f"{town_of(m)}{village()}露头煤区", zl, zo, wkt=square_wkt(zl, zo, 0.5), case=f"c17.{k}")
    for k in range((3 + world.n_cases) * static):
        a = int(rng.choice(mines))
        zl, zo = free_spot(lat[a], lon[a], 4, 15, 3.0)
        circle = k < world.n_cases or k % 2 == 0
        add(
            "outcrop",
            f"{town_of(a)}{village()}露头煤线",
            zl,
            zo,
            radius=float(rng.integers(4, 7) * 100) if circle else None,
            wkt=None if circle else square_wkt(zl, zo, float(rng.uniform(0.3, 0.6))),
            case=f"c20.{k}" if k < world.n_cases else None,
        )
    via_lat, via_lon = month.trips["via_lat"].to_numpy(), month.trips["via_lon"].to_numpy()
    for k, pos in enumerate(month.picks["c18"]):
        add(
            "remote_road",
            f"{town_of(int(seller[pos]))}{village()}偏僻路段",
            via_lat[pos],
            via_lon[pos],
            wkt=corridor_wkt(via_lat[pos], via_lon[pos], float(rng.uniform(3, 6)), 0.4, float(rng.uniform(0, np.pi))),
            case=f"c18.{k}",
        )
    for k in range((2 + world.n_cases) * static):
        a = int(rng.choice(mines))
        zl, zo = free_spot(lat[a], lon[a], 5, 20, 2.0)
        if k % 2:
            add("remote_road", f"{town_of(a)}{village()}山路", zl, zo, radius=float(rng.integers(3, 6) * 100))
        else:
            add(
                "remote_road",
                f"{town_of(a)}{village()}至{village()}沟路",
                zl,
                zo,
                wkt=corridor_wkt(zl, zo, float(rng.uniform(3, 8)), 0.3, float(rng.uniform(0, np.pi))),
            )
    if static:
        a = int(rng.choice(mines))
        zl, zo = free_spot(lat[a], lon[a], 8, 25, 4.0)
        add("protected", "蟒河省级自然保护区" if not world.province else "历山国家级自然保护区", zl, zo, radius=3000.0)
    out = pl.DataFrame(
        rows,
        schema={
            "kind": pl.String,
            "name": pl.String,
            "geometry": pl.String,
            "lat": pl.Float64,
            "lon": pl.Float64,
            "radius_m": pl.Float64,
        },
    )
    return out.with_row_index("i").with_columns(
        pl.format("ZN{}", (pl.col("i") + first_id).cast(pl.String).str.pad_start(4, "0")).alias("zone_id")
    ).drop("i"), used


def gps(
    rng: np.random.Generator,
    world: World,
    month: Month,
    zone_df: pl.DataFrame,
    zone_use: dict[str, list[int]],
    spec: MonthSpec = DECEMBER,
) -> pl.DataFrame:
    """Three to five positions per trip along the straight line, start and end at the sites."""
    lat, lon = world.col("lat"), world.col("lon")
    t = month.trips
    n = t.height
    s, b = t["seller"].to_numpy(), t["buyer"].to_numpy()
    lat0, lon0, lat1, lon1 = lat[s].copy(), lon[s].copy(), lat[b], lon[b]
    # Trucks that loaded at an outcrop: the trace starts inside the zone, not at the mine.
    for k, pos in enumerate(month.picks["c17"]):
        z = zone_df.row(zone_use[f"c17.{k}"][0], named=True)
        wkt = z["geometry"]
        xs = [float(v) for v in wkt.replace("POLYGON ((", "").replace("))", "").replace(",", " ").split()]
        lon0[pos], lat0[pos] = (xs[0] + xs[2]) / 2, (xs[1] + xs[5]) / 2
    k_pts = rng.integers(3, 6, n)
    frac = np.sort(rng.uniform(0.15, 0.85, (n, 3)), axis=1)
    frac = np.concatenate([np.zeros((n, 1)), frac, np.ones((n, 1))], axis=1)
    keep = np.ones((n, 5), dtype=bool)
    keep[:, 3] = k_pts >= 4
    keep[:, 2] = k_pts >= 5
    via = ~np.isnan(t["via_lat"].to_numpy())
    frac[via, 1:4] = 0.5  # night detours: one point at the remote road
    keep[via, 2:4] = False
    rows = np.repeat(np.arange(n), keep.sum(axis=1))
    f = frac[keep]
    la = lat0[rows] + (lat1[rows] - lat0[rows]) * f
    lo = lon0[rows] + (lon1[rows] - lon0[rows]) * f
    on_via = via[rows] & (f == 0.5)
    la[on_via] = t["via_lat"].to_numpy()[rows[on_via]]
    lo[on_via] = t["via_lon"].to_numpy()[rows[on_via]]
    jitter = np.where((f > 0) & (f < 1), 0.0004, 0.00005)
    la += rng.normal(0, 1, len(rows)) * jitter
    lo += rng.normal(0, 1, len(rows)) * jitter
    dep, arr = t["dep"].to_numpy(), t["arr_true"].to_numpy()
    ts = dep[rows] + ((arr[rows] - dep[rows]) * f).astype(np.int64)
    kmh = t["dist_km"].to_numpy() / np.maximum(arr - dep, 60) * 3600
    speed = np.where((f > 0) & (f < 1), kmh[rows] * rng.uniform(0.8, 1.2, len(rows)), 0.0)
    return (
        pl.DataFrame(
            {
                "plate": t["plate"].to_numpy()[rows],
                "ts_s": ts,
                "lat": np.round(la, 6),
                "lon": np.round(lo, 6),
                "speed_kmh": np.round(speed, 1),
            }
        )
        .with_columns(to_time(pl.col("ts_s"), spec.epoch).alias("ts"))
        .sort("ts_s", "plate", maintain_order=True)
        .unique(["plate", "ts_s"], keep="first", maintain_order=True)
    )


def power(
    rng: np.random.Generator,
    world: World,
    month: Month,
    zone_df: pl.DataFrame,
    zone_use: dict[str, list[int]],
    spec: MonthSpec = DECEMBER,
) -> pl.DataFrame:
    """One industrial account per producing site, and village households, in kWh for SPEC's month."""
    kind, role, ids = world.col("kind"), world.col("role"), world.col("facility_id")
    lat, lon, county = world.col("lat"), world.col("lon"), world.col("county")
    sales = month.sales.filter(pl.col("tonnes") > 0)
    shipped = np.zeros(world.fac.height)
    np.add.at(shipped, sales["seller"].to_numpy(), sales["tonnes"].to_numpy())
    received = np.zeros(world.fac.height)
    t = month.trips
    np.add.at(received, t["buyer"].to_numpy(), t["tonnes_unloaded"].to_numpy())
    kwh = np.full(world.fac.height, np.nan)
    mine = kind == "mine"
    kwh[mine] = shipped[mine] * rng.uniform(20, 40, mine.sum())
    for f in world.role("c21_lowkwh"):
        kwh[f] = shipped[f] * rng.uniform(3, 6)
    for f in world.role("c04_overcap"):
        # Power follows what the mine can really dig, not what it sells on paper.
        kwh[f] = world.col("cap_tpa")[f] * 31 / 365 * 0.85 * rng.uniform(28, 32)
    for f in world.role("c19_closed_power"):
        kwh[f] = rng.uniform(30_000, 120_000)
    for f in world.role("suspended"):
        kwh[f] = rng.uniform(200, 900)
    per_t = {"washery": (8, 15), "coking_plant": (30, 50), "yard": (1, 3)}
    for k, (lo, hi) in per_t.items():
        sel = (kind == k) & (role != "c07_village")
        kwh[sel] = received[sel] * rng.uniform(lo, hi, sel.sum()) + (1500 if k == "yard" else 20_000)
    has = ~np.isnan(kwh)
    fac_rows = np.flatnonzero(has)
    towns = [str(rng.choice(TOWNS.get(str(county[i]), ["城关镇"]))) for i in fac_rows]
    industrial = pl.DataFrame(
        {
            "facility_id": ids[fac_rows],
            "account_type": "industrial",
            "address": [f"{county[i]}{tw}{world.col('name')[i]}" for i, tw in zip(fac_rows, towns, strict=True)],
            "lat": np.round(lat[fac_rows], 6),
            "lon": np.round(lon[fac_rows], 6),
            "kwh": np.round(kwh[fac_rows], 0),
            "case": [None] * len(fac_rows),
        },
        schema_overrides={"case": pl.String},
    )
    # Households in villages near the mines, a few farms, and the planted households.
    n_res = max(30, round(200 * np.sqrt(world.scale) * (10 if world.province else 1)))
    anchor = rng.choice(np.flatnonzero(kind == "mine"), n_res)
    hl, ho = offset(lat[anchor], lon[anchor], rng.uniform(1, 8, n_res), rng.uniform(0, 2 * np.pi, n_res))
    res_type = np.where(
        rng.random(n_res) < 0.9, "residential", np.where(rng.random(n_res) < 0.5, "agricultural", "commercial")
    )
    res_kwh = np.where(res_type == "residential", rng.uniform(100, 400, n_res), rng.uniform(500, 3000, n_res))
    households = pl.DataFrame(
        {
            "facility_id": [None] * n_res,
            "account_type": res_type,
            "address": [
                f"{county[a]}{rng.choice(TOWNS.get(str(county[a]), ['城关镇']))}{rng.choice(_VILLAGE_A)}{rng.choice(_VILLAGE_B)}村{rng.integers(1, 200)}号"
                for a in anchor
            ],
            "lat": np.round(hl, 6),
            "lon": np.round(ho, 6),
            "kwh": np.round(res_kwh, 0),
            "case": [None] * n_res,
        },
        schema_overrides={"facility_id": pl.String, "case": pl.String},
    )
    planted: list[dict[str, Any]] = []
    for case_no in range(world.n_cases):
        z = zone_df.row(zone_use[f"c20.{case_no}"][0], named=True)
        near_l, near_o = offset(
            np.array(z["lat"]), np.array(z["lon"]), np.array(rng.uniform(1.0, 1.6)), np.array(rng.uniform(0, 2 * np.pi))
        )
        a = int(rng.choice(np.flatnonzero(kind == "mine")))
        far_l, far_o = offset(
            np.array(lat[a]), np.array(lon[a]), np.array(rng.uniform(3, 6)), np.array(rng.uniform(0, 2 * np.pi))
        )
        for tag, pl_, po in ((f"c20.{case_no}.near", near_l, near_o), (f"c20.{case_no}.far", far_l, far_o)):
            planted.append(
                {
                    "facility_id": None,
                    "account_type": "residential",
                    "address": f"{county[a]}{rng.choice(_VILLAGE_A)}{rng.choice(_VILLAGE_B)}村{rng.integers(1, 60)}号",
                    "lat": round(float(pl_), 6),
                    "lon": round(float(po), 6),
                    "kwh": float(round(rng.uniform(6_000, 25_000))),
                    "case": tag,
                }
            )
    out = pl.concat(
        [industrial, households, pl.DataFrame(planted, schema_overrides={"facility_id": pl.String})],
        how="diagonal_relaxed",
    )
    acct = 1_405_000_000 + rng.choice(900_000, out.height, replace=False)
    return out.with_columns(pl.Series("account_id", acct.astype(str)), pl.lit(spec.label).alias("month")).sort(
        "account_id"
    )


def stocks(world: World, month: Month, spec: MonthSpec = DECEMBER) -> pl.DataFrame:
    have = np.flatnonzero(month.stock > 0)
    rows = np.concatenate([have, world.role("c09_yard")]).astype(int)
    return pl.DataFrame(
        {"facility_id": world.col("facility_id")[rows], "as_of": spec.start, "tonnes": month.stock[rows]}
    )
