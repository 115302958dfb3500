"""One month of trips and sales: the clean flows, and the planted cases woven into them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from coaltrace.sample.codes import plates
from coaltrace.sample.flows import (
    BUYERS,
    DAY,
    FINALS,
    HOUR,
    PRODUCT,
    Edges,
    TripBatch,
    budget_trucks,
    daily_inflow,
    schedule,
    ship_from_budget,
    trucks,
)
from coaltrace.sample.geo import haversine_km, offset
from coaltrace.sample.world import DAYS, DECEMBER, PREFECTURES, MonthSpec, World

# Cases a later month may find put right: the mine with the expired licence stops, the over-capacity mine
# keeps to its capacity, the washery and coking plant ship what their intake yields, the traders and the
# yard that shipped before receipt stop trading. Every other case goes on (or comes back).
RECTIFIABLE = frozenset({"c02_expired", "c04_overcap", "c05_washery", "c06_coking", "c08_traders", "c09_yard"})


@dataclass
class Month:
    trips: pl.DataFrame  # internal columns: indices, true arrival, GPS hints, tags
    sales: pl.DataFrame
    stock: np.ndarray  # opening stock per facility (tonnes), 0 where none
    # Trips picked for planted cases: case key -> trip row numbers in `trips`.
    picks: dict[str, list[int]] = field(default_factory=dict)
    # Extra facts for the truth table (e.g. the fast trips' speeds).
    notes: dict[str, object] = field(default_factory=dict)


def _split(
    rng: np.random.Generator, seller: int, buyers: np.ndarray, tonnes: float, d0: int, d1: int
) -> list[TripBatch]:
    """Spread TONNES over a few buyers, the way a seller serves several customers."""
    pick = rng.choice(buyers, size=min(3, len(buyers)), replace=False)
    share = rng.dirichlet(np.ones(len(pick)) * 3)
    return [trucks(rng, seller, int(b), tonnes * w, d0, d1) for b, w in zip(pick, share, strict=True)]


def build_month(
    rng: np.random.Generator,
    world: World,
    spec: MonthSpec = DECEMBER,
    rectified: frozenset[str] = frozenset(),
    opening: np.ndarray | None = None,
) -> Month:
    """SPEC's trips and sales, with the planted cases; those in RECTIFIED (of RECTIFIABLE) behave lawfully.

    OPENING: the yards' opening stock (last month's closing); by default a few days of their intake.
    """
    assert rectified <= RECTIFIABLE, rectified - RECTIFIABLE
    kind, role = world.col("kind"), world.col("role")
    cap = np.nan_to_num(world.col("cap_tpa").astype(float))
    util = world.col("util")
    n_fac = world.fac.height
    v0 = world.v0
    finals = np.flatnonzero(np.isin(kind, FINALS))
    clean_mines = np.flatnonzero((kind == "mine") & (role == "clean"))
    producing = np.concatenate([clean_mines, world.role("c21_lowkwh")]).astype(int)
    if "c04_overcap" in rectified:
        # Put right: it produces within its capacity, like any licensed mine.
        producing = np.concatenate([producing, world.role("c04_overcap")]).astype(int)
    month_cap = cap * DAYS / 365

    # Planted flows that need clean coal come from the biggest clean mines, in turn.
    donors = clean_mines[np.argsort(-cap[clean_mines], kind="stable")]
    donated = np.zeros(n_fac)
    turn = 0

    def donor() -> int:
        nonlocal turn
        d = int(donors[turn % len(donors)])
        turn += 1
        return d

    special: list[TripBatch] = []

    def add(batches: list[TripBatch] | TripBatch) -> None:
        for b in batches if isinstance(batches, list) else [batches]:
            special.append(b)
            if len(b) and kind[int(b.seller[0])] == "mine" and role[int(b.seller[0])] == "clean":
                donated[int(b.seller[0])] += b.tonnes.sum()

    for i in range(world.n_cases):
        c10 = world.role("c10_yard")[i]
        c01, c02, c03 = world.role("c01_unlicensed")[i], world.role("c02_expired")[i], world.role("c03_closed")[i]
        c04, c07 = world.role("c04_overcap")[i], world.role("c07_village")[i]
        # A downstream yard buys over half its coal from unlicensed, closed and village sources.
        add(
            [
                trucks(rng, c01, c10, 0.45 * v0, 1, 24),
                trucks(rng, c03, c10, 0.45 * v0, 1, 24),
                trucks(rng, c07, c10, 0.35 * v0, 1, 24),
            ]
        )
        add(trucks(rng, donor(), c10, 1.0 * v0, 0, 27))
        # The rest of the suspect coal is diluted among the power plants and rail stations.
        add(_split(rng, c01, finals, 1.05 * v0, 0, 30))
        if "c02_expired" not in rectified:
            add(_split(rng, c02, finals, 1.5 * v0, 0, 30))
        add(_split(rng, c03, finals, 1.05 * v0, 0, 30))
        if "c04_overcap" not in rectified:
            add(_split(rng, c04, finals, month_cap[c04] * rng.uniform(1.55, 1.95), 0, 30))
        add(_split(rng, c07, finals, 0.45 * v0, 2, 30))
        a, b, y9 = world.role("c08_trader_a")[i], world.role("c08_trader_b")[i], world.role("c09_yard")[i]
        if "c08_traders" not in rectified:
            add(trucks(rng, donor(), a, v0, 0, 6))
            add(trucks(rng, donor(), b, v0, 0, 6))
        if "c09_yard" not in rectified:
            add(trucks(rng, donor(), y9, v0, 6, 23))

    # Clean mines: 72-90% of capacity, less what they already sold to the planted cases.
    target = np.maximum(month_cap[producing] * util[producing] - donated[producing], 0)
    n_trips = np.round(target / 35).astype(int)
    seller = np.repeat(producing, n_trips)
    mine_edges = Edges(rng, world, producing, BUYERS["mine"])
    flows = [
        TripBatch(
            seller, mine_edges.sample(rng, seller), rng.integers(0, DAYS, len(seller)), rng.uniform(30, 40, len(seller))
        ),
        *special,
    ]

    stock = np.zeros(n_fac)
    yields = {"washery": (0.62, 0.78), "coking_plant": (0.72, 0.78)}
    for layer in ("washery", "trader", "coking_plant", "yard"):
        sellers = np.flatnonzero((kind == layer) & np.isin(role, ["clean", "c10_yard"]))
        inflow = daily_inflow(world, TripBatch.concat(flows))
        if layer == "yard" and opening is not None:
            stock[sellers] = opening[sellers]
        elif layer == "yard":
            stock[sellers] = np.round(inflow[sellers].sum(axis=1) / DAYS * rng.uniform(2, 5, len(sellers)), 1)
        lo, hi = yields.get(layer, (1.0, 1.0))
        edges = Edges(rng, world, sellers, BUYERS[layer])
        flows.append(ship_from_budget(rng, sellers, inflow, stock, rng.uniform(lo, hi, len(sellers)), edges))
        # Planted processors ship more than their intake can yield; put right, well within it, from the second week.
        for case, ratio, lawful in (("c05_washery", 0.96, 0.75), ("c06_coking", 0.90, 0.72)):
            for f in world.role(case):
                if kind[f] == layer:
                    fixed = case in rectified
                    share = lawful if fixed else ratio
                    flows.extend(_split(rng, f, finals, share * inflow[f].sum() / 0.997, 8 if fixed else 2, 30))

    def received(f: int) -> float:
        all_trips = TripBatch.concat(flows)
        return float(all_trips.tonnes[all_trips.buyer == f].sum())

    for i in range(world.n_cases):
        a, b, y9 = world.role("c08_trader_a")[i], world.role("c08_trader_b")[i], world.role("c09_yard")[i]
        if "c08_traders" not in rectified:
            # Round trip: A and B sell the same coal back and forth; B then sells more than it ever got.
            qa, qb = received(a), received(b)
            r1 = budget_trucks(rng, a, b, 0.5 * qa, 7, 8)
            r2 = trucks(rng, b, a, r1.tonnes.sum(), 10, 11)
            r3 = budget_trucks(rng, a, b, 0.5 * (qa - r1.tonnes.sum() + r2.tonnes.sum()), 14, 15)
            left_a = qa - r1.tonnes.sum() + r2.tonnes.sum() - r3.tonnes.sum()
            fa = budget_trucks(rng, a, int(rng.choice(finals)), 0.8 * left_a, 18, 26)
            in_b = qb + r1.tonnes.sum() + r3.tonnes.sum()
            fb = _split(rng, b, finals, 1.14 * (in_b - r2.tonnes.sum()), 18, 29)
            flows.extend([r1, r2, r3, fa, *fb])
        if "c09_yard" not in rectified:
            # A yard that sells first and buys later: the month balances, the first week does not.
            early = trucks(rng, y9, int(rng.choice(finals)), 0.4 * v0, 0, 4)
            late = budget_trucks(rng, y9, int(rng.choice(finals)), 0.85 * (received(y9) - early.tonnes.sum()), 20, 29)
            flows.extend([early, late])

    batch = TripBatch.concat(flows)
    prefixes, weights = _plate_prefixes(world)
    extra_needed = 4 * world.n_cases + 8
    made: dict[str, np.ndarray] = {}

    def fleet(n: int) -> np.ndarray:
        made["all"] = plates(rng, n + extra_needed, prefixes, weights)
        return made["all"][:n]

    trips = schedule(rng, world, batch, fleet).with_columns(pl.lit("n").alias("tag"))
    extras = list(made["all"][-extra_needed:])
    trips = pl.concat([trips, _fixed_trips(rng, world, extras)], how="diagonal_relaxed")
    return _finish(rng, world, trips, stock, spec)


def _plate_prefixes(world: World) -> tuple[list[str], list[float]]:
    if world.province:
        return [p for _, _, p in PREFECTURES.values()] + ["豫H", "冀D"], [1.0] * len(PREFECTURES) + [0.3, 0.2]
    # Jincheng trucks, some from neighbouring cities and from Henan across the border.
    return ["晋E", "晋D", "晋C", "豫H", "晋L"], [0.82, 0.06, 0.03, 0.06, 0.03]


def _fixed_trips(rng: np.random.Generator, world: World, extras: list[str]) -> pl.DataFrame:
    """Trips whose plate and times the cases fix: a cloned plate, coal moved with no sale."""
    kind, role = world.col("kind"), world.col("role")
    lat, lon = world.col("lat"), world.col("lon")
    mines = np.flatnonzero((kind == "mine") & (role == "clean"))
    finals = np.flatnonzero(np.isin(kind, FINALS))
    rails = np.flatnonzero(kind == "rail_station")
    d = haversine_km(lat[mines][:, None], lon[mines][:, None], lat[mines][None, :], lon[mines][None, :])
    far = np.argwhere(d > 60)
    rows = []
    for i in range(world.n_cases):
        # Two trucks with one plate, leaving mines more than 50 km apart within minutes.
        p, q = far[rng.integers(len(far))] if len(far) else np.unravel_index(d.argmax(), d.shape)
        day = int(rng.integers(3, 28))
        dep = day * DAY + int(rng.integers(8 * HOUR, 11 * HOUR)) // 60 * 60
        plate = extras.pop()
        for k, m in enumerate((mines[p], mines[q])):
            buyer = finals[np.argmin(haversine_km(lat[m], lon[m], lat[finals], lon[finals]))]
            dist = float(haversine_km(lat[m], lon[m], lat[buyer], lon[buyer]))
            dur = max(20 * 60 + 15 * 60, int(dist / rng.uniform(35, 50) * HOUR)) // 60 * 60
            start = dep + k * 10 * 60
            rows.append(
                {
                    "seller": int(m),
                    "buyer": int(buyer),
                    "day": day,
                    "tonnes_loaded": round(float(rng.uniform(31, 39)), 2),
                    "dist_km": dist,
                    "dur": dur,
                    "dep": start,
                    "arr": start + dur,
                    "plate": plate,
                    "tag": f"c16.{i}",
                }
            )
        # Coal moved to a rail station with a waybill that no sale carries.
        m = int(rng.choice(mines))
        rail = rails[np.argmin(haversine_km(lat[m], lon[m], lat[rails], lon[rails]))]
        dist = float(haversine_km(lat[m], lon[m], lat[rail], lon[rail]))
        plate = extras.pop()
        day = int(rng.integers(2, 29))
        dep = day * DAY + int(rng.integers(7 * HOUR, 12 * HOUR)) // 60 * 60
        for k in range(2):
            dur = max(20 * 60, int(dist / rng.uniform(35, 50) * HOUR)) // 60 * 60
            start = dep + k * (2 * dur + 40 * 60)
            rows.append(
                {
                    "seller": m,
                    "buyer": int(rail),
                    "day": day,
                    "tonnes_loaded": round(float(rng.uniform(31, 39)), 2),
                    "dist_km": dist,
                    "dur": dur,
                    "dep": start,
                    "arr": start + dur,
                    "plate": plate,
                    "tag": f"c14.{i}",
                }
            )
    return pl.DataFrame(
        rows,
        schema_overrides={
            "seller": pl.Int64,
            "buyer": pl.Int64,
            "day": pl.Int64,
            "dur": pl.Int64,
            "dep": pl.Int64,
            "arr": pl.Int64,
        },
    )


def _finish(rng: np.random.Generator, world: World, trips: pl.DataFrame, stock: np.ndarray, spec: MonthSpec) -> Month:
    """Group trips into sales, number everything, and plant the trip-level cases."""
    kind = world.col("kind")
    trips = trips.sort("dep", "seller", "plate", maintain_order=True).with_row_index("row")
    trips = trips.with_columns(
        pl.format(f"YS{spec.tag}{{}}", (pl.col("row") + 1).cast(pl.String).str.pad_start(8, "0")).alias("trip_id"),
        pl.lit(None, dtype=pl.String).alias("case"),
    )
    # Sales: a seller's trips to one buyer on one day, in lots of 1-3 trucks
    # (sometimes a whole day's contract of 10 or 30 trucks on one note).
    sold = trips.filter(~pl.col("tag").str.starts_with("c14"))
    groups = sold.select("seller", "buyer", "day").unique(maintain_order=True)
    lot = rng.choice([1, 2, 3, 10, 30], size=groups.height, p=[0.6, 0.2, 0.1, 0.06, 0.04])
    groups = groups.with_columns(pl.Series("lot", lot))
    sold = (
        sold.join(groups, on=["seller", "buyer", "day"], maintain_order="left")
        # Rows are numbered in departure order and are unique, so lots are reproducible.
        .with_columns((pl.col("row").rank("ordinal").over("seller", "buyer", "day") - 1).alias("k"))
        .with_columns((pl.col("k") // pl.col("lot")).alias("lot_no"))
    )
    sales = (
        sold.group_by("seller", "buyer", "day", "lot_no")
        .agg(
            pl.col("dep").min().alias("first_dep"),
            pl.col("tonnes_loaded").sum().alias("loaded"),
            pl.len().alias("n_trips"),
        )
        .sort("first_dep", "seller", "buyer", "lot_no")
        .with_row_index("sale_row")
    )
    n = sales.height
    # Each month's waybills in a range of their own, as a platform numbers them.
    first_waybill = (
        4_210_000_000 + (spec.start.year * 12 + spec.start.month - DECEMBER.start.year * 12 - 12) * 10_000_000
    )
    sales = sales.with_columns(
        pl.format(f"XS{spec.long_tag}{{}}", (pl.col("sale_row") + 1).cast(pl.String).str.pad_start(7, "0")).alias(
            "sale_id"
        ),
        pl.Series("waybill_no", [f"YD{x}" for x in (first_waybill + rng.permutation(n) * 7 + 3).astype(str)]),
        pl.Series("invoice_no", np.char.zfill((10_000_000 + rng.choice(89_000_000, n, replace=False)).astype(str), 8)),
        (pl.col("loaded") * (1 + pl.Series(rng.uniform(-0.002, 0.002, n)))).round(2).alias("tonnes"),
        pl.Series("product", [PRODUCT[k] for k in kind[sales["seller"].to_numpy()]]),
    )
    mixed = (sales["product"] == "washed").to_numpy() & (rng.random(n) < 0.15)
    sales = sales.with_columns(
        pl.when(pl.Series(mixed)).then(pl.lit("mixed")).otherwise(pl.col("product")).alias("product")
    )
    sold = sold.join(
        sales.select("seller", "buyer", "day", "lot_no", "waybill_no"),
        on=["seller", "buyer", "day", "lot_no"],
        maintain_order="left",
    )
    trips = trips.join(sold.select("row", "waybill_no"), on="row", how="left", maintain_order="left").sort("row")
    no_sale = trips["tag"].str.starts_with("c14").to_numpy()
    trips = trips.with_columns(
        pl.when(pl.Series(no_sale))
        .then(pl.format("YD{}", pl.Series(rng.integers(5_100_000_000, 5_200_000_000, trips.height))))
        .otherwise(pl.col("waybill_no"))
        .alias("waybill_no"),
        (pl.col("tonnes_loaded") * (1 - pl.Series(rng.uniform(0, 0.003, trips.height))))
        .round(2)
        .alias("tonnes_unloaded"),
        pl.col("arr").alias("arr_true"),
    )
    month = Month(trips=trips, sales=sales, stock=stock)
    _plant_trip_cases(rng, world, month)
    return month


def _plant_trip_cases(rng: np.random.Generator, world: World, month: Month) -> None:
    """Trips that break one rule each, picked among ordinary trips out of clean mines."""
    kind, role = world.col("kind"), world.col("role")
    lat, lon = world.col("lat"), world.col("lon")
    t = month.trips
    seller, buyer = t["seller"].to_numpy(), t["buyer"].to_numpy()
    ordinary = (
        (t["tag"] == "n").to_numpy()
        & (kind[seller] == "mine")
        & (role[seller] == "clean")
        & np.isin(kind[buyer], FINALS)
    )
    dist = t["dist_km"].to_numpy()
    taken: set[int] = set()

    def pick(mask: np.ndarray, count: int) -> list[int]:
        rows = np.flatnonzero(mask & ordinary)
        rows = rows[~np.isin(rows, list(taken))]
        chosen = [int(r) for r in rng.choice(rows, size=min(count, len(rows)), replace=False)]
        taken.update(chosen)
        return chosen

    n = world.n_cases
    dep = t["dep"].to_numpy().copy()
    arr = t["arr"].to_numpy().copy()
    arr_true = t["arr_true"].to_numpy().copy()
    unloaded = t["tonnes_unloaded"].to_numpy().copy()
    loaded = t["tonnes_loaded"].to_numpy()
    plate = t["plate"].to_numpy().astype(object)
    via_lat = np.full(t.height, np.nan)
    via_lon = np.full(t.height, np.nan)
    case = np.full(t.height, None, dtype=object)

    heavy = pick(kind[buyer] == "power_plant", 2 * n)
    unloaded[heavy] = np.round(loaded[heavy] * rng.uniform(1.02, 1.05, len(heavy)), 2)
    fast = pick(dist >= 30, n)
    arr[fast] = dep[fast] + (dist[fast] / rng.uniform(130, 170, len(fast)) * HOUR).astype(np.int64) // 60 * 60
    arr_true[fast] = arr[fast]
    outcrop = pick(dist >= 5, n)
    night = pick((dist >= 8) & (dist <= 60), n)
    day = t["day"].to_numpy()
    for r in night:
        # Detour through a remote road 2-4 km off the straight line, at night.
        mlat, mlon = (lat[seller[r]] + lat[buyer[r]]) / 2, (lon[seller[r]] + lon[buyer[r]]) / 2
        vl, vo = offset(
            np.array(mlat), np.array(mlon), np.array(rng.uniform(2, 4)), np.array(rng.uniform(0, 2 * np.pi))
        )
        via_lat[r], via_lon[r] = float(vl), float(vo)
        path = float(
            haversine_km(lat[seller[r]], lon[seller[r]], vl, vo) + haversine_km(vl, vo, lat[buyer[r]], lon[buyer[r]])
        )
        dep[r] = day[r] * DAY + 22 * HOUR + int(rng.integers(30, 75)) * 60
        arr[r] = arr_true[r] = dep[r] + int(path / rng.uniform(35, 50) * HOUR) // 60 * 60
    backwards = pick(np.ones(t.height, dtype=bool), 1)
    arr[backwards] = dep[backwards] - int(rng.integers(1, 3)) * HOUR
    bad_plate = pick(np.ones(t.height, dtype=bool), 1)
    plate[bad_plate] = [p[:-1] for p in plate[bad_plate]]
    for key, rows in (
        ("c13", heavy),
        ("c15", fast),
        ("c17", outcrop),
        ("c18", night),
        ("c22_times", backwards),
        ("c22_plate", bad_plate),
    ):
        month.picks[key] = rows
        case[rows] = key
    month.trips = t.with_columns(
        pl.Series("dep", dep),
        pl.Series("arr", arr),
        pl.Series("arr_true", arr_true),
        pl.Series("tonnes_unloaded", unloaded),
        pl.Series("plate_written", plate.astype(str)),
        pl.Series("via_lat", via_lat),
        pl.Series("via_lon", via_lon),
        pl.Series("case", case.tolist(), dtype=pl.String),
    )
