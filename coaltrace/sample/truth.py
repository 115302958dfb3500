"""The ground truth: every (rule, entity) a correct rule pack reports on the sample, and nothing else.

Tonnes are measured on the written sales (what the seller declared), the way
the mass-balance rules read them; see docs/sample.md for the rule semantics
this table assumes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from coaltrace.sample.month import Month
from coaltrace.sample.world import DAYS, DECEMBER, MonthSpec, World

WASHERY_MAX_YIELD = 0.85
COKE_MAX_YIELD = 0.80
TOLERANCE_T = 0.5  # weighbridge rounding the mass balance forgives
FLOW_MIN_TONNES = 100.0  # flow_carries_unsourced's defaults
FLOW_MIN_SHARE = 0.2

COLUMNS = ("case_id", "rule_id", "entity_kind", "entity_id", "facility_id", "tonnes", "period", "note")


def truth(
    world: World,
    month: Month,
    intakes: pl.DataFrame,
    power: pl.DataFrame,
    spec: MonthSpec = DECEMBER,
    rectified: frozenset[str] = frozenset(),
    booked: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """SPEC's truth. RECTIFIED: the cases put right that month (they report nothing). BOOKED: every intake
    written so far (an intake booked in this month may come from last month's trip); default INTAKES."""
    ids = world.col("facility_id")
    booked = intakes if booked is None else booked
    start, end = spec.epoch, datetime(spec.end.year, spec.end.month, spec.end.day)
    sales = month.sales
    seller, buyer, tonnes, day = (sales[c].to_numpy() for c in ("seller", "buyer", "tonnes", "day"))
    out_t = np.zeros(world.fac.height)
    in_t = np.zeros(world.fac.height)
    np.add.at(out_t, seller, tonnes)
    np.add.at(in_t, buyer, tonnes)
    rows: list[dict[str, Any]] = []

    def row(case: str, rule: str, kind: str, entity: str, facility: str | None, t: float | None, note: str) -> None:
        rows.append(
            {
                "case_id": case,
                "rule_id": rule,
                "entity_kind": kind,
                "entity_id": entity,
                "facility_id": facility,
                "tonnes": None if t is None else round(float(t), 2),
                "note": note,
            }
        )

    def fac(case: str, rule: str, f: int, t: float | None, note: str) -> None:
        row(case, rule, "facility", ids[f], ids[f], t, note)

    def account_of(f: int) -> str:
        return str(power.filter(pl.col("facility_id") == ids[f])["account_id"][0])

    cap = world.col("cap_tpa")
    unsourced_case: dict[int, str] = {}  # facility that ships coal it never got -> its case
    for k in range(world.n_cases):
        c = f".{k + 1}"
        f = world.role("c01_unlicensed")[k]
        fac("01" + c, "mine_unlicensed_sales", f, out_t[f], "mine with no coal mining licence sells coal")
        f = world.role("c02_expired")[k]
        if "c02_expired" not in rectified:
            fac(
                "02" + c,
                "mine_unlicensed_sales",
                f,
                out_t[f],
                "mining licence expired before December; the mine still sells",
            )
        f = world.role("c03_closed")[k]
        status = world.col("status")[f]
        fac(
            "03" + c,
            "mine_closed_shipping",
            f,
            out_t[f],
            f"mine {status} since {world.col('status_since')[f]} still sells coal",
        )
        row(
            "03" + c,
            "power_at_closed_mine",
            "power_account",
            account_of(f),
            ids[f],
            None,
            f"consequence: the {status} mine that ships also draws power",
        )
        f = world.role("c04_overcap")[k]
        if "c04_overcap" not in rectified:
            fac(
                "04" + c,
                "mine_over_capacity",
                f,
                out_t[f] - cap[f] * DAYS / 365,
                "sells 1.5-2x its prorated approved capacity",
            )
        f = world.role("c05_washery")[k]
        if "c05_washery" not in rectified:
            fac(
                "05" + c,
                "facility_unsourced_output",
                f,
                out_t[f] - WASHERY_MAX_YIELD * in_t[f],
                "washery ships more washed coal than raw intake x 0.85",
            )
        f = world.role("c06_coking")[k]
        if "c06_coking" not in rectified:
            fac(
                "06" + c,
                "facility_unsourced_output",
                f,
                out_t[f] - COKE_MAX_YIELD * in_t[f],
                "coking plant ships more coke than intake x 0.80",
            )
        f = world.role("c07_village")[k]
        fac("07" + c, "facility_unsourced_output", f, out_t[f], "village coal point ships coal it never received")
        b = world.role("c08_trader_b")[k]
        if "c08_traders" not in rectified:
            fac(
                "08" + c,
                "facility_unsourced_output",
                b,
                out_t[b] - in_t[b],
                f"round-trips coal with trader {ids[world.role('c08_trader_a')[k]]} and ships more than it got",
            )
        f = world.role("c09_yard")[k]
        if "c09_yard" not in rectified:
            fac(
                "09" + c,
                "facility_ships_before_receipt",
                f,
                _deficit(f, seller, buyer, tonnes, day, month.stock[f]),
                "month balances, but the yard ships in the first days before any coal arrives",
            )
        f = world.role("c10_yard")[k]
        suspects = [world.role(r)[k] for r in ("c01_unlicensed", "c03_closed", "c07_village")]
        dirty = tonnes[(buyer == f) & np.isin(seller, suspects)].sum()
        fac(
            "10" + c,
            "facility_low_licensed_share",
            f,
            dirty,
            f"buys {dirty / in_t[f]:.0%} of its coal from cases 01, 03 and 07",
        )

        for num, role in (("05", "c05_washery"), ("06", "c06_coking"), ("07", "c07_village"), ("08", "c08_trader_b")):
            unsourced_case[int(world.role(role)[k])] = num + c
        for num, role in (("01", "c01_unlicensed"), ("02", "c02_expired"), ("03", "c03_closed")):
            _unlicensed_channels(row, num + c, ids[world.role(role)[k]], booked, start, end)

    for (s, b), (t_flow, t_dirty, origin) in _unsourced_flows(world, month).items():
        row(
            unsourced_case[origin],
            "flow_carries_unsourced",
            "flow",
            f"{ids[s]}>{ids[b]}",
            ids[s],
            t_dirty,
            f"consequence: {t_dirty / t_flow:.0%} of this flow is coal that appeared at {ids[origin]}",
        )

    odd = intakes.filter(pl.col("case").is_not_null())
    for r in odd.iter_rows(named=True):
        n = r["case"].split(".")
        case = f"{n[0][1:]}.{int(n[1]) + 1}"
        if n[0] == "c11":
            row(
                case,
                "intake_unregistered_supplier",
                "intake",
                r["intake_id"],
                r["facility_id"],
                r["tonnes"],
                "supplier code matches no registered facility"
                if n[2] == "id"
                else f"supplier named only as {r['supplier_name']}",
            )
        else:
            row(
                case,
                "intake_no_waybill",
                "intake",
                r["intake_id"],
                r["facility_id"],
                r["tonnes"],
                "intake with no waybill",
            )
        row(
            case,
            "intake_without_trip_or_sale",
            "intake",
            r["intake_id"],
            r["facility_id"],
            r["tonnes"],
            "no trip or sale carries this intake" + (" (consequence of case 11)" if n[0] == "c11" else ""),
        )

    t = month.trips
    trip_rules = {
        "c13": ("13", "trip_heavier_on_arrival", "trip arrives 2-5% heavier than it left"),
        "c15": ("15", "trip_too_fast", "straight-line speed over 130 km/h"),
        "c17": ("17", "trip_starts_in_zone", "GPS trace starts in an outcrop zone, not at the declared mine"),
        "c18": ("18", "trip_remote_road_night", "passes a remote-road zone between 22:00 and 05:00"),
        "c22_times": ("22", "dq_impossible_times", "arrives before it departs"),
    }
    for key, (num, rule, note) in trip_rules.items():
        for j, pos in enumerate(month.picks[key]):
            tr = t.row(pos, named=True)
            row(
                f"{num}.{j // 2 + 1 if key == 'c13' else j + 1}",
                rule,
                "trip",
                tr["trip_id"],
                ids[tr["seller"]],
                tr["tonnes_loaded"],
                note,
            )
    # A made-up plate is one problem however many trips it drives, so the finding is the plate.
    for j, pos in enumerate(month.picks["c22_plate"]):
        tr = t.row(pos, named=True)
        row(
            f"22.{j + 1}",
            "dq_invalid_plate",
            "plate",
            tr["plate_written"],
            ids[tr["seller"]],
            None,
            f"plate with a digit missing, on trip {tr['trip_id']}",
        )
    for tr in t.filter(pl.col("tag").str.starts_with("c14")).iter_rows(named=True):
        row(
            f"14.{int(tr['tag'].split('.')[1]) + 1}",
            "trip_without_sale",
            "trip",
            tr["trip_id"],
            ids[tr["seller"]],
            tr["tonnes_loaded"],
            "waybill matches no sale",
        )
    cloned = t.filter(pl.col("tag").str.starts_with("c16")).sort("dep")
    for tag, grp in cloned.group_by("tag", maintain_order=True):
        first = grp.row(0, named=True)
        row(
            f"16.{int(str(tag[0]).split('.')[1]) + 1}",
            "plate_cloned",
            "plate",
            first["plate"],
            ids[first["seller"]],
            None,
            "one plate on two overlapping trips from mines over 50 km apart",
        )

    for k, f in enumerate(world.role("c19_closed_power")):
        row(
            f"19.{k + 1}",
            "power_at_closed_mine",
            "power_account",
            account_of(f),
            ids[f],
            None,
            "closed mine draws industrial power",
        )
    for r in power.filter(pl.col("case").is_not_null()).iter_rows(named=True):
        n = r["case"].split(".")
        row(
            f"20.{int(n[1]) + 1}",
            "power_residential_industrial",
            "power_account",
            r["account_id"],
            None,
            None,
            f"household uses {r['kwh']:,.0f} kWh" + (", under 2 km from an outcrop zone" if n[2] == "near" else ""),
        )
    for k, f in enumerate(world.role("c21_lowkwh")):
        fac(f"21.{k + 1}", "mine_low_kwh_per_tonne", f, None, "3-6 kWh per tonne shipped, peers 20-40")
    f = world.role("c22_bad_uscc")[0]
    fac("22.1", "dq_invalid_uscc", f, None, "credit code with a wrong check character")
    f = world.role("c23_closed_washery")[0]
    fac("23.1", "facility_closed_shipping", f, out_t[f], "washery closed since 2021-10-31 still sells coal")
    for neg in sales.filter(pl.col("tonnes") < 0).iter_rows(named=True):
        row("22.1", "dq_negative_tonnes", "sale", neg["sale_id"], ids[neg["seller"]], None, "sale with negative tonnes")
    return (
        pl.DataFrame(rows, schema_overrides={"facility_id": pl.String, "tonnes": pl.Float64})
        .with_columns(pl.lit(spec.label).alias("period"))
        .select(COLUMNS)
        .sort("case_id", "rule_id", "entity_id")
    )


def _deficit(f: int, seller: np.ndarray, buyer: np.ndarray, tonnes: np.ndarray, day: np.ndarray, stock: float) -> float:
    flow = np.zeros(DAYS)
    np.add.at(flow, day[buyer == f], tonnes[buyer == f])
    np.add.at(flow, day[seller == f], -tonnes[seller == f])
    return float(-min(0.0, (stock + np.cumsum(flow)).min()))


def _unlicensed_channels(
    row: Callable[..., None], case: str, mine: str, intakes: pl.DataFrame, start: datetime, end: datetime
) -> None:
    """Consequence of cases 01-03: every facility that books in coal from the mine in [START, END), one row
    per channel (an intake booked after the month is next month's audit)."""
    booked = (
        intakes.filter(
            (pl.col("supplier_id") == mine) & (pl.col("received_at") >= start) & (pl.col("received_at") < end)
        )
        .group_by("facility_id")
        .agg(pl.col("tonnes").sum(), pl.len().alias("n"))
        .sort("facility_id")
    )
    for r in booked.iter_rows(named=True):
        row(
            case,
            "intake_unlicensed_supplier",
            "flow",
            f"{mine}>{r['facility_id']}",
            r["facility_id"],
            r["tonnes"],
            f"consequence: books in {r['n']} truckloads from a mine with no valid licence or closed",
        )


def _unsourced_flows(world: World, month: Month) -> dict[tuple[int, int], tuple[float, float, int]]:
    """Flows that carry at least FLOW_MIN_TONNES and FLOW_MIN_SHARE of coal that appeared at a non-mine.

    An independent reading of proportional mixing over the month, on the declared sales:
    each facility holds x = max(outflow, opening stock + yield x inflow), a non-mine's
    shortfall enters as unsourced, and every facility's coal is the mix of what it got.
    Returns (seller, buyer) -> (flow tonnes, unsourced tonnes, origin contributing most).
    """
    sales = month.sales.filter(pl.col("tonnes") > 0)
    seller, buyer, tonnes = (sales[c].to_numpy() for c in ("seller", "buyer", "tonnes"))
    keep = seller != buyer
    seller, buyer, tonnes = seller[keep], buyer[keep], tonnes[keep].astype(float)
    n = world.fac.height
    kind = world.col("kind")
    y = np.where(kind == "washery", WASHERY_MAX_YIELD, np.where(kind == "coking_plant", COKE_MAX_YIELD, 1.0))
    usable = month.stock + y * np.bincount(buyer, tonnes, minlength=n)
    out = np.bincount(seller, tonnes, minlength=n)
    gap = np.where((kind != "mine") & (out - usable > TOLERANCE_T), out - usable, 0.0)
    origins = np.flatnonzero(gap)
    x = np.maximum(out, usable)
    safe = np.where(x > 0, x, 1.0)
    q = np.zeros((n, n))
    np.add.at(q, (buyer, seller), y[buyer] * tonnes / safe[buyer])
    rhs = np.zeros((n, len(origins)))
    rhs[origins, np.arange(len(origins))] = gap[origins] / safe[origins]
    mix = np.linalg.solve(np.eye(n) - q, rhs)  # share of each facility's coal from each origin
    pair = seller * n + buyer
    keys, first = np.unique(pair, return_index=True)
    flow_t = np.bincount(np.searchsorted(keys, pair), tonnes)
    s, b = seller[first], buyer[first]
    dirty = flow_t * mix[s].sum(axis=1)
    hit = (dirty > FLOW_MIN_TONNES) & (dirty >= FLOW_MIN_SHARE * flow_t)
    top = origins[mix[s].argmax(axis=1)] if len(origins) else np.zeros(len(s), dtype=int)
    return {(int(s[i]), int(b[i])): (float(flow_t[i]), float(dirty[i]), int(top[i])) for i in np.flatnonzero(hit)}
