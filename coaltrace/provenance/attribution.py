"""Origin shares per facility under the two policies.

`proportional`: each facility's coal splits over its origins as the solve says.
`taint`: any coal of unknown or illegal origin (over-capacity, unlicensed,
unsourced) in a facility's mix taints the whole of it, the way the EU
deforestation regulation treats mixed goods: the facility's tonnes are then
spread over its tainting origins only, in their proportional ratios, so the
two policies can be compared origin by origin. Opening stock does not taint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from coaltrace.provenance.solve import CLASSES, GROUPED, SUSPECT, Attribution, Network

if TYPE_CHECKING:
    import polars as pl

POLICIES = ("proportional", "taint")
SUSPECT_CLASSES = tuple(CLASSES[c] for c in SUSPECT)
_TAINT_FLOOR = 1e-9  # below this relative share a taint is float noise, not coal


def origin_rows(ids: list[str], net: Network, a: Attribution) -> pl.DataFrame:
    """Proportional rows: facility, origin class, origin facility (null = grouped), tonnes,
    share of the facility's total, and received_t, the part that came in by inflows."""
    import polars as pl

    f, o, c = a.facility, a.origin, a.origin_class
    own = net.sources[f, c]
    is_self = o == f
    self_kept = np.zeros((net.n, len(CLASSES)), dtype=bool)
    self_kept[f[is_self], c[is_self]] = True
    holds_own = is_self | ((o == GROUPED) & ~self_kept[f, c])
    tonnes = a.share * a.total[f]
    received = np.maximum(tonnes - np.where(holds_own, own, 0.0), 0.0)
    received[received < 1e-9 * np.maximum(a.total[f], 1.0)] = 0.0
    # GROUPED is -1, so indexing this array with it yields the trailing None.
    id_array = np.array([*ids, None], dtype=object)
    return (
        pl.DataFrame(
            {
                "facility_id": id_array[f].tolist(),
                "origin_class": np.array(CLASSES, dtype=object)[c].tolist(),
                "origin_id": id_array[o].tolist(),
                "tonnes": tonnes,
                "share": a.share,
                "received_t": received,
            },
            schema_overrides={"facility_id": pl.Utf8, "origin_class": pl.Utf8, "origin_id": pl.Utf8},
        )
        .with_columns(pl.lit("proportional").alias("policy"))
        .sort("facility_id", "origin_class", "origin_id", nulls_last=True)
    )


def taint(rows: pl.DataFrame) -> pl.DataFrame:
    """The taint policy's rows, derived from the proportional ones."""
    import polars as pl

    suspect = pl.col("origin_class").is_in(SUSPECT_CLASSES)

    def spread(col: str) -> pl.Expr:
        total = pl.col(col).sum().over("facility_id")
        tainted = pl.when(suspect).then(pl.col(col)).otherwise(0.0).sum().over("facility_id")
        return (
            pl.when(tainted > _TAINT_FLOOR * total)
            .then(pl.when(suspect).then(pl.col(col) * total / tainted).otherwise(0.0))
            .otherwise(pl.col(col))
            .alias(col)
        )

    out = rows.with_columns(spread("tonnes"), spread("received_t"), pl.lit("taint").alias("policy"))
    out = out.with_columns((pl.col("tonnes") / pl.col("tonnes").sum().over("facility_id")).alias("share"))
    return out.filter((pl.col("tonnes") > 0) | (pl.col("received_t") > 0))


def licensed_shares(rows: pl.DataFrame) -> pl.DataFrame:
    """Per facility, the share of the coal it received that traces back to licensed
    production; for a facility that received nothing (a mine), the share of its own
    production. Opening stock is its own origin and stays out of both, and so is coal
    whose origin the data cannot judge (`data_gap`): the share is of judged coal, NULL
    when there is none."""
    import polars as pl

    fresh = rows.filter(~pl.col("origin_class").is_in(["opening_stock", "data_gap"]))
    licensed = pl.col("origin_class") == "licensed"
    return (
        fresh.group_by("facility_id")
        .agg(
            pl.col("received_t").filter(licensed).sum().alias("lic_in"),
            pl.col("received_t").sum().alias("all_in"),
            pl.col("tonnes").filter(licensed).sum().alias("lic_all"),
            pl.col("tonnes").sum().alias("all"),
        )
        .select(
            "facility_id",
            pl.when(pl.col("all_in") > 0)
            .then(pl.col("lic_in") / pl.col("all_in"))
            .when(pl.col("all") > 0)
            .then(pl.col("lic_all") / pl.col("all"))
            .alias("licensed_share"),
        )
    )
