"""The provenance tables in the store: their columns, and how a period is (re)written.

Columns are documented in docs/provenance.md; rules and reports query them with SQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coaltrace.store import Store

if TYPE_CHECKING:
    import polars as pl

    from coaltrace.engine import Engine

COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "balances": (
        ("period", "VARCHAR"),
        ("facility_id", "VARCHAR"),
        ("name", "VARCHAR"),
        ("kind", "VARCHAR"),
        ("county", "VARCHAR"),
        ("registered", "BOOLEAN"),
        ("licence_state", "VARCHAR"),
        ("opening_stock_t", "DOUBLE"),
        ("inflow_t", "DOUBLE"),
        ("yield_factor", "DOUBLE"),
        ("usable_inflow_t", "DOUBLE"),
        ("production_t", "DOUBLE"),
        ("capacity_t", "DOUBLE"),
        ("licensed_production_t", "DOUBLE"),
        ("over_capacity_t", "DOUBLE"),
        ("unlicensed_production_t", "DOUBLE"),
        ("outflow_t", "DOUBLE"),
        ("closing_stock_t", "DOUBLE"),
        ("unsourced_t", "DOUBLE"),
        ("data_gap_t", "DOUBLE"),
        ("inflow_recorded", "BOOLEAN"),
        ("circular_t", "DOUBLE"),
        ("total_t", "DOUBLE"),
        ("licensed_share", "DOUBLE"),
    ),
    "running_breaches": (
        ("period", "VARCHAR"),
        ("facility_id", "VARCHAR"),
        ("first_negative_at", "TIMESTAMP"),
        ("min_balance_t", "DOUBLE"),
        ("shortfall_t", "DOUBLE"),
    ),
    "origin_shares": (
        ("period", "VARCHAR"),
        ("policy", "VARCHAR"),
        ("facility_id", "VARCHAR"),
        ("origin_class", "VARCHAR"),
        ("origin_id", "VARCHAR"),
        ("tonnes", "DOUBLE"),
        ("share", "DOUBLE"),
        ("received_t", "DOUBLE"),
    ),
    "flows": (
        ("period", "VARCHAR"),
        ("seller_id", "VARCHAR"),
        ("buyer_id", "VARCHAR"),
        ("product", "VARCHAR"),
        ("declared_t", "DOUBLE"),
        ("physical_t", "DOUBLE"),
        ("trips", "BIGINT"),
        ("sales", "BIGINT"),
        ("measure", "VARCHAR"),
        ("tonnes", "DOUBLE"),
    ),
    "provenance_runs": (
        ("period", "VARCHAR"),
        ("fingerprint", "VARCHAR"),
        ("built_at", "TIMESTAMP"),
        ("seconds", "DOUBLE"),
        ("data_fingerprint", "VARCHAR"),
        ("config", "JSON"),  # the ProvenanceConfig that made the build
        ("config_source", "VARCHAR"),  # the config file it came from, if any
    ),
}

# A flow carries its seller's mix: no second copy of the shares is stored.
FLOW_ORIGINS = """
SELECT f.period, s.policy, f.seller_id, f.buyer_id, f.tonnes, s.origin_class, s.origin_id,
       f.tonnes * s.share AS origin_tonnes, s.share
FROM (SELECT period, seller_id, buyer_id, sum(tonnes) AS tonnes FROM flows
      WHERE seller_id <> buyer_id GROUP BY ALL) f
JOIN origin_shares s ON s.period = f.period AND s.facility_id = f.seller_id AND s.share > 0
"""


def _present(store: Store) -> set[tuple[str, str]]:
    return {
        (t, c)
        for t, c in store.engine.rows(
            # duckdb_columns(), not information_schema.columns: the same rows in a fifth of the time,
            # and every page asks this before it reads the stored build.
            "SELECT table_name, column_name FROM duckdb_columns() WHERE table_name IN "
            f"({', '.join(repr(n) for n in (*COLUMNS, 'flow_origins'))})"
        )
    }


def has_tables(store: Store) -> bool:
    """Are the provenance tables there, with every column this version writes?"""
    present = _present(store)
    return all((n, c) in present for n, cols in COLUMNS.items() for c, _ in cols) and any(
        t == "flow_origins" for t, _ in present
    )


def create_tables(store: Store) -> None:
    """Create what is missing (a database from an older version gains the new columns); writes nothing otherwise."""
    if has_tables(store):
        return
    for name, cols in COLUMNS.items():
        body = ", ".join(f"{c} {t}" for c, t in cols)
        store.engine.execute(f"CREATE TABLE IF NOT EXISTS {name} ({body})")
        for c, t in cols:
            store.engine.execute(f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS {c} {t}")
    store.engine.create_view("flow_origins", FLOW_ORIGINS, temporary=False)


def stored_frame(name: str, frame: pl.DataFrame, period: str) -> pl.DataFrame:
    """FRAME as table NAME stores it: its period, and its columns in order."""
    import polars as pl

    return frame.with_columns(pl.lit(period).alias("period")).select([c for c, _ in COLUMNS[name]])


def replace_period(store: Store, period: str, frames: dict[str, pl.DataFrame]) -> None:
    """Replace one period's rows of every provenance table, all or nothing."""
    with store.transaction() as engine:
        write_period(engine, period, frames)


def write_period(engine: Engine, period: str, frames: dict[str, pl.DataFrame]) -> None:
    """Replace one period's rows of the tables FRAMES names, inside the caller's transaction."""
    for name, frame in frames.items():
        cols = [c for c, _ in COLUMNS[name]]
        staged = stored_frame(name, frame, period)
        engine.execute(f"DELETE FROM {name} WHERE period = ?", [period])
        names = ", ".join(cols)
        with engine.registered("_ct_write", staged):
            engine.execute(f"INSERT INTO {name} ({names}) SELECT {names} FROM _ct_write")
