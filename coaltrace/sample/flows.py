"""The month's coal flows: trips first, then the sales they carry.

Everything is vectorised over trips. Facilities are processed in supply-chain
order (mines, washeries, traders, coking plants, yards); each intermediary may
ship at most what it received two days earlier (times its yield, plus opening
stock), so the clean part never ships before receipt nor more than it got.
Each shipped truck carries at most 40 t, so `floor(budget / 40)` trucks never
overspend a budget whatever their draws.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from coaltrace.sample.geo import haversine_km
from coaltrace.sample.world import DAYS, World

HOUR = 3600
DAY = 24 * HOUR
SHIFT_START = 5 * HOUR + 30 * 60  # trucks leave from 05:30
SHIFT_WIDTH = 10 * HOUR  # and start their last loaded run before 15:30

# seller kind -> buyer kind -> share of its output
BUYERS = {
    "mine": {
        "power_plant": 0.33,
        "rail_station": 0.30,
        "washery": 0.12,
        "coking_plant": 0.07,
        "yard": 0.12,
        "trader": 0.06,
    },
    "washery": {"power_plant": 0.35, "rail_station": 0.25, "coking_plant": 0.30, "trader": 0.10},
    "trader": {"power_plant": 0.35, "rail_station": 0.30, "coking_plant": 0.15, "yard": 0.20},
    "coking_plant": {"rail_station": 1.0},
    "yard": {"power_plant": 0.6, "rail_station": 0.4},
    "final": {"power_plant": 0.55, "rail_station": 0.45},
}
PRODUCT = {"mine": "raw", "washery": "washed", "coking_plant": "coke", "yard": "raw", "trader": "raw", "other": "raw"}
FINALS = ("power_plant", "rail_station")
MAX_HAUL_KM = 150
# Roles whose inflow the case plan sets; ordinary sellers never pick them.
SPECIAL_BUYERS = {"c07_village", "c08_trader_a", "c08_trader_b", "c09_yard", "c10_yard"}


@dataclass
class TripBatch:
    """Trips not yet scheduled: who ships to whom on which day, and how much."""

    seller: np.ndarray
    buyer: np.ndarray
    day: np.ndarray
    tonnes: np.ndarray

    @staticmethod
    def concat(batches: list[TripBatch]) -> TripBatch:
        return TripBatch(
            *(
                np.concatenate([getattr(b, f) for b in batches]) if batches else np.empty(0)
                for f in ("seller", "buyer", "day", "tonnes")
            )
        )

    def __len__(self) -> int:
        return len(self.seller)


class Edges:
    """Each seller's buyers and the share each gets, sampled with one searchsorted."""

    def __init__(self, rng: np.random.Generator, world: World, sellers: np.ndarray, plan: dict[str, float]) -> None:
        kind, role = world.col("kind"), world.col("role")
        lat, lon = world.col("lat"), world.col("lon")
        es, eb, ew = [], [], []
        for buyer_kind, share in plan.items():
            cand = np.flatnonzero((kind == buyer_kind) & ~np.isin(role, list(SPECIAL_BUYERS)))
            if len(cand) == 0 or len(sellers) == 0:
                continue
            d = haversine_km(lat[sellers][:, None], lon[sellers][:, None], lat[cand][None, :], lon[cand][None, :])
            near = np.argsort(d, axis=1, kind="stable")[:, : min(6, len(cand))]
            # Buyers within a day's haul only (the nearest one always qualifies), so
            # province-wide samples keep coal inside its region, as trucks do.
            near_d = np.take_along_axis(d, near, axis=1)
            ok = near_d <= np.maximum(near_d[:, :1], MAX_HAUL_KM)
            order = np.argsort(np.where(ok, rng.random(near.shape), 2.0), axis=1, kind="stable")[
                :, : min(2, near.shape[1])
            ]
            pick = np.take_along_axis(near, order, axis=1)
            w = rng.dirichlet(np.ones(pick.shape[1]), size=len(sellers)) * np.take_along_axis(ok, order, axis=1) * share
            es.append(np.repeat(sellers, pick.shape[1]))
            eb.append(cand[pick].ravel())
            ew.append(w.ravel())
        seller, buyer, weight = np.concatenate(es), np.concatenate(eb), np.concatenate(ew)
        order = np.lexsort((buyer, seller))
        self.seller, self.buyer, weight = seller[order], buyer[order], weight[order]
        self.rank = np.full(world.fac.height, -1)
        uniq, start = np.unique(self.seller, return_index=True)
        self.rank[uniq] = np.arange(len(uniq))
        total = np.add.reduceat(weight, start)
        cum = np.cumsum(weight) - np.repeat(
            np.concatenate([[0], np.cumsum(total)[:-1]]), np.diff(np.append(start, len(weight)))
        )
        cum = cum / np.repeat(total, np.diff(np.append(start, len(weight))))
        cum[np.append(start[1:], len(weight)) - 1] = 1.0
        self.key = self.rank[self.seller] + cum

    def sample(self, rng: np.random.Generator, seller: np.ndarray) -> np.ndarray:
        q = self.rank[seller] + rng.random(len(seller))
        return np.asarray(self.buyer[np.searchsorted(self.key, q, side="right")])


def trucks(rng: np.random.Generator, seller: int, buyer: int, tonnes: float, d0: int, d1: int) -> TripBatch:
    """About TONNES in 30-40 t truckloads from SELLER to BUYER, spread over days d0..d1."""
    n = max(1, round(tonnes / 35))
    return TripBatch(np.full(n, seller), np.full(n, buyer), rng.integers(d0, d1 + 1, n), rng.uniform(30, 40, n))


def budget_trucks(rng: np.random.Generator, seller: int, buyer: int, budget: float, d0: int, d1: int) -> TripBatch:
    """Trucks whose total never exceeds BUDGET tonnes."""
    n = int(budget // 40)
    return TripBatch(
        np.full(n, seller), np.full(n, buyer), np.sort(rng.integers(d0, d1 + 1, n)), rng.uniform(30, 40, n)
    )


def daily_inflow(world: World, trips: TripBatch) -> np.ndarray:
    """Tonnes received per facility and day, discounted for weighbridge differences."""
    inflow = np.zeros((world.fac.height, DAYS))
    np.add.at(inflow, (trips.buyer.astype(int), trips.day.astype(int)), trips.tonnes * 0.997)
    return inflow


def ship_from_budget(
    rng: np.random.Generator,
    sellers: np.ndarray,
    inflow: np.ndarray,
    stock: np.ndarray,
    yield_: np.ndarray,
    edges: Edges,
) -> TripBatch:
    """Trips out of intermediaries that only ship what arrived two days before."""
    g = rng.uniform(0.90, 0.98, len(sellers))
    cum_in = np.cumsum(inflow[sellers], axis=1)
    lagged = np.concatenate([np.zeros((len(sellers), 2)), cum_in[:, :-2]], axis=1)
    allowed = g[:, None] * (stock[sellers][:, None] + yield_[:, None] * lagged)
    n_cum = np.floor(allowed / 40).astype(int)
    per_day = np.diff(np.concatenate([np.zeros((len(sellers), 1), dtype=int), n_cum], axis=1), axis=1)
    per_day = np.clip(per_day, 0, None)
    seller = np.repeat(np.repeat(sellers, DAYS), per_day.ravel())
    day = np.repeat(np.tile(np.arange(DAYS), len(sellers)), per_day.ravel())
    return TripBatch(seller, edges.sample(rng, seller), day, rng.uniform(30, 40, len(seller)))


def schedule(
    rng: np.random.Generator, world: World, batch: TripBatch, fleet: Callable[[int], np.ndarray]
) -> pl.DataFrame:
    """Departure, arrival and plate for every trip; no plate is ever in two trips at once.

    Trucks shuttle from one seller: load, drive, come back empty. Trips of a
    (day, seller) are laid end to end on a virtual timeline and cut into
    10-hour shifts; each shift is one truck that day.
    """
    lat, lon = world.col("lat"), world.col("lon")
    s, b = batch.seller.astype(int), batch.buyer.astype(int)
    dist = haversine_km(lat[s], lon[s], lat[b], lon[b])
    # 30-60 km/h; hauls over 240 km take longer than 4 hours rather than go faster.
    speed = np.minimum(np.maximum(rng.uniform(30, 60, len(s)), dist / 4), 60)
    dur = np.clip(dist / speed * HOUR, 20 * 60, None).astype(np.int64)
    cycle = 2 * dur + rng.integers(20 * 60, 50 * 60, len(s))
    df = pl.DataFrame(
        {
            "seller": s,
            "buyer": b,
            "day": batch.day.astype(np.int64),
            "tonnes_loaded": np.round(batch.tonnes, 2),
            "dist_km": dist,
            "dur": dur,
            "cycle": cycle,
            "r": rng.random(len(s)),
        }
    ).sort("day", "seller", "r")
    df = df.with_columns((pl.col("cycle").cum_sum().over("day", "seller") - pl.col("cycle")).alias("t0"))
    df = df.with_columns((pl.col("t0") // SHIFT_WIDTH).alias("shift"))
    df = df.with_columns((pl.col("t0") - pl.col("t0").min().over("day", "seller", "shift")).alias("offset"))
    df = df.with_columns(
        (pl.col("seller") * 1000 + pl.col("shift")).rank("dense").over("day").cast(pl.Int64).alias("truck_of_day")
    )
    # A third more trucks than the busiest day needs, so trucks get rest days.
    fleet_plates = fleet(int(df["truck_of_day"].to_numpy().max(initial=0)) * 4 // 3 + 5)
    rot = rng.integers(0, len(fleet_plates), DAYS)
    plate_idx = (df["truck_of_day"].to_numpy() - 1 + rot[df["day"].to_numpy()]) % len(fleet_plates)
    df = df.with_columns(
        pl.Series("plate", fleet_plates[plate_idx]),
        (pl.col("day") * DAY + SHIFT_START + pl.col("offset")).alias("dep"),
    )
    df = df.with_columns(
        ((pl.col("dep") + pl.col("dur")) // 60 * 60).alias("arr"), (pl.col("dep") // 60 * 60).alias("dep")
    )
    return df.drop("r", "t0", "shift", "offset", "truck_of_day", "cycle")
