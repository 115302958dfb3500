"""`write_sample`: build the month, plant the cases, write the files and the ground truth."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from pydantic import BaseModel

from coaltrace.errors import UsageError
from coaltrace.export import spreadsheet_frame
from coaltrace.files import output_dir
from coaltrace.sample import records
from coaltrace.sample.month import RECTIFIABLE, Month, build_month
from coaltrace.sample.truth import truth
from coaltrace.sample.world import JANUARY, MONTHS, World, build_world
from coaltrace.sample.writer import (
    Output,
    write_facilities,
    write_gps,
    write_intakes,
    write_licences,
    write_power,
    write_sales,
    write_stocks,
    write_trips,
    write_zones,
)

CREDIT = "Global Energy Monitor, Global Coal Mine Tracker"
# The records go in data/, so `coaltrace load OUTDIR/data` takes them all; the
# answers (truth, expected quarantine) and the README stay beside, never loaded.
DATA_DIR = "data"
OWN_DIRS = (DATA_DIR,)
OWN_FILES = ("truth.csv", "quarantine_expected.csv", "README.md")


class SampleSummary(BaseModel):
    outdir: str
    seed: int
    scale: float
    province: bool
    months: list[str] = ["2021-12"]  # the periods written (a second month's records are in data/2022-01/)
    files: dict[str, list[str]]  # table -> files written, relative to outdir/data
    rows: dict[str, int]  # table -> data rows written (duplicates and unreadable rows included)
    quarantined: int  # rows the loader must quarantine
    cases: int  # planted cases
    truth_rows: int  # (rule, entity) pairs a correct rule pack reports


def write_sample(
    outdir: Path,
    *,
    seed: int = 42,
    scale: float = 1.0,
    province: bool = False,
    force: bool = False,
    months: int = 1,
) -> SampleSummary:
    """Write a synthetic December 2021 of a Jincheng-sized city (or all of Shanxi) into OUTDIR;
    with MONTHS=2 also January 2022 (in OUTDIR/data/2022-01/), where some cases were put right and
    the others go on, so a problem closed in December can come back.

    Deterministic: the same seed, scale, province flag and months give the same files; December's
    are the same whether January is written or not.
    Refuses a non-empty OUTDIR unless FORCE, which first removes only the
    files and folders a sample consists of.
    """
    if not scale > 0 or scale > 50:
        raise UsageError(
            f"scale must be above 0 and at most 50, not {scale}", zh=f"--scale 须大于 0 且不超过 50，而不是 {scale}"
        )
    if months not in (1, 2):
        raise UsageError(
            f"--months {months}: the sample writes 1 month (December 2021) or 2 (and January 2022)",
            zh=f"--months {months}：样例可写 1 个月（2021年12月）或 2 个月（再加 2022年1月）",
        )
    outdir = Path(outdir)
    if outdir.is_dir() and any(outdir.iterdir()):
        if not force:
            raise UsageError(
                f"{outdir} is not empty",
                zh=f"{outdir} 不是空文件夹",
                hint="Choose an empty folder, or pass --force to overwrite a previous sample.",
                hint_zh="请选一个空文件夹，或加 --force 覆盖之前的样例。",
            )
        for d in OWN_DIRS:
            shutil.rmtree(outdir / d, ignore_errors=True)
        for f in OWN_FILES:
            (outdir / f).unlink(missing_ok=True)
    output_dir(outdir)

    rng = np.random.default_rng(seed)
    world = build_world(rng, scale, province)
    month = build_month(rng, world)
    _negative_sale(rng, world, month)
    intakes = records.intakes(rng, world, month)
    zones, zone_use = records.zones(rng, world, month)
    gps = records.gps(rng, world, month, zones, zone_use)
    power = records.power(rng, world, month, zones, zone_use)
    stocks = records.stocks(world, month)
    found = truth(world, month, intakes, power)

    ids = world.col("facility_id")
    region = world.col("region" if province else "county")
    out = Output(outdir / DATA_DIR)
    write_facilities(out, world.fac, rng)
    write_licences(out, world.licences)
    write_sales(
        out,
        month.sales.with_columns(
            pl.Series("seller_id", ids[month.sales["seller"].to_numpy()]),
            pl.Series("buyer_id", ids[month.sales["buyer"].to_numpy()]),
        ),
        region,
    )
    write_trips(
        out,
        month.trips.with_columns(
            pl.Series("origin_id", ids[month.trips["seller"].to_numpy()]),
            pl.Series("destination_id", ids[month.trips["buyer"].to_numpy()]),
        ),
    )
    write_intakes(out, intakes, dict(zip(ids.tolist(), region.tolist(), strict=True)))
    write_stocks(out, stocks)
    write_power(out, power)
    write_gps(out, gps)
    if months == 2:
        later, zones = _january(
            seed,
            world,
            closing_stock(world, month),
            zones,
            zone_use,
            intakes,
            outdir / DATA_DIR / JANUARY.label,
            region,
        )
        found = pl.concat([found, later.truth])
        for table, files in later.out.files.items():
            out.files.setdefault(table, []).extend(f"{JANUARY.label}/{f}" for f in files)
            out.rows[table] = out.rows.get(table, 0) + later.out.rows[table]
    write_zones(out, zones)
    spreadsheet_frame(found).write_csv(outdir / "truth.csv")
    spreadsheet_frame(
        pl.DataFrame(
            out.quarantine, schema={"file": pl.String, "line": pl.Int64, "column": pl.String, "reason": pl.String}
        )
    ).write_csv(outdir / "quarantine_expected.csv")
    summary = SampleSummary(
        outdir=str(outdir),
        seed=seed,
        scale=scale,
        province=province,
        months=[m.label for m in MONTHS[:months]],
        files=out.files,
        rows=out.rows,
        quarantined=len(out.quarantine),
        cases=found["case_id"].n_unique(),
        truth_rows=found.height,
    )
    (outdir / "README.md").write_text(_readme(summary, world), encoding="utf-8")
    return summary


# What January finds put right (see RECTIFIABLE); every other December case goes on.
JANUARY_RECTIFIED = RECTIFIABLE


@dataclass
class _Later:
    truth: pl.DataFrame
    out: Output


def closing_stock(world: World, month: Month) -> np.ndarray:
    """What each yard holds at the month's end on its declared sales (rounded down, so a count of it
    never makes the month's balance short): the next month's opening stock."""
    n = world.fac.height
    sales = month.sales
    inflow = np.bincount(sales["buyer"].to_numpy(), sales["tonnes"].to_numpy(), minlength=n)
    outflow = np.bincount(sales["seller"].to_numpy(), sales["tonnes"].to_numpy(), minlength=n)
    held = np.floor((month.stock + inflow - outflow) * 10) / 10
    return np.where(world.col("kind") == "yard", np.clip(held, 0, None), 0.0)


def _january(
    seed: int,
    world: World,
    closing: np.ndarray,
    zones: pl.DataFrame,
    zone_use: dict[str, list[int]],
    december_intakes: pl.DataFrame,
    folder: Path,
    region: np.ndarray,
) -> tuple[_Later, pl.DataFrame]:
    """January 2022 of the same world, from a generator of its own (December's files do not change):
    its records in FOLDER, its truth, and the zones with January's own appended."""
    rng = np.random.default_rng([seed, JANUARY.start.year, JANUARY.start.month])
    month = build_month(rng, world, JANUARY, JANUARY_RECTIFIED, opening=closing)
    intakes = records.intakes(rng, world, month, JANUARY)
    own, own_use = records.zones(rng, world, month, month_only=True, first_id=zones.height + 1)
    gps = records.gps(rng, world, month, own, own_use, JANUARY)
    power = records.power(rng, world, month, zones, zone_use, JANUARY)
    stocks = records.stocks(world, month, JANUARY)
    booked = pl.concat([december_intakes, intakes], how="diagonal_relaxed")
    found = truth(world, month, intakes, power, JANUARY, JANUARY_RECTIFIED, booked)
    ids = world.col("facility_id")
    out = Output(folder)
    write_sales(
        out,
        month.sales.with_columns(
            pl.Series("seller_id", ids[month.sales["seller"].to_numpy()]),
            pl.Series("buyer_id", ids[month.sales["buyer"].to_numpy()]),
        ),
        region,
        JANUARY,
        junk=False,
    )
    write_trips(
        out,
        month.trips.with_columns(
            pl.Series("origin_id", ids[month.trips["seller"].to_numpy()]),
            pl.Series("destination_id", ids[month.trips["buyer"].to_numpy()]),
        ),
        JANUARY,
        junk=False,
    )
    write_intakes(out, intakes, dict(zip(ids.tolist(), region.tolist(), strict=True)))
    write_stocks(out, stocks, junk=False)
    write_power(out, power, JANUARY, junk=False)
    write_gps(out, gps)
    return _Later(found, out), pl.concat([zones, own])


def _negative_sale(rng: np.random.Generator, world: World, month: Month) -> None:
    """A credit note typed as a sale with negative tonnes, between a clean mine and a power plant."""
    kind, role = world.col("kind"), world.col("role")
    mine = int(rng.choice(np.flatnonzero((kind == "mine") & (role == "clean"))))
    plant = int(rng.choice(np.flatnonzero(kind == "power_plant")))
    s = month.sales
    row = s[:1].with_columns(
        pl.lit(mine, dtype=s["seller"].dtype).alias("seller"),
        pl.lit(plant, dtype=s["buyer"].dtype).alias("buyer"),
        pl.lit(19, dtype=s["day"].dtype).alias("day"),
        pl.lit(19 * 86400 + 15 * 3600, dtype=s["first_dep"].dtype).alias("first_dep"),
        pl.lit("XS2021129999999").alias("sale_id"),
        pl.lit(None, dtype=pl.String).alias("waybill_no"),
        pl.lit(-round(float(rng.uniform(30, 40)), 2)).alias("tonnes"),
        pl.lit("raw").alias("product"),
    )
    month.sales = pl.concat([s, row])


def _readme(summary: SampleSummary, world: World) -> str:
    tables = "\n".join(
        f"- `{t}`: {', '.join(f'`{f}`' for f in fs[:4])}{' …' if len(fs) > 4 else ''} ({summary.rows[t]:,} rows)"
        for t, fs in summary.files.items()
    )
    second = (
        """
## January 2022

`data/2022-01/` holds January 2022 of the same facilities (the registers in `data/` serve both months):
the mine whose licence expired stopped selling, the over-capacity mine keeps to its capacity, the washery
and coking plant ship what their intake yields, and the traders and the yard of cases 08 and 09 stopped
trading; every other case goes on. So problems found in December come back in January (the ledger reopens
an item closed in between). The yards' opening stock on 1 January is what they held at the end of December.
`truth.csv` lists both months (column `period`).
"""
        if len(summary.months) > 1
        else ""
    )
    return f"""# coaltrace sample month: December 2021

Synthetic records of {"Shanxi province" if summary.province else "a Jincheng-sized city"} for the campaign month,
generated by `coaltrace sample` (seed {summary.seed}, scale {summary.scale}). Nothing here is real except
the coal mines' names, locations and capacities.

Mine data: **{CREDIT}** (CC BY 4.0). Licence numbers, validity dates,
statuses, every other facility and every flow are generated. Licence capacities are the
tracker's capacities times {world.cap_factor:.3g}, so the month's volumes fit them.

## Files

The records are in `data/` (load them with `coaltrace load data`):

{tables}

The files use the formats offices really send: Chinese headers with stray spaces and
full-width brackets, GB18030 and UTF-8 with BOM, mixed date styles, thousands separators
and full-width digits, kilograms in one weighbridge file, Excel serial dates in one workbook,
a second sheet of notes, and one week of trips exported twice (`trips_week2_resend.parquet`).

## Ground truth

- `truth.csv`: every (rule_id, entity) a correct rule pack reports on this month, and
  nothing else: {summary.truth_rows} findings from {summary.cases} planted cases. Columns: case_id,
  rule_id, entity_kind, entity_id, facility_id (where the finding belongs; for trips the
  origin), tonnes (the tonnes at risk, empty where not meaningful), period, note.
- `quarantine_expected.csv`: the {summary.quarantined} rows a loader must quarantine (file, line with the
  header as line 1 in CSV and Excel and rows counted from 1 in Parquet, column, reason). They are not part of the ground truth.
{second}"""
