"""The views rule queries read: the store as one audit period sees it.

Rules never name a date: the engine defines these views for the period under
audit, so the same rule file audits a month, a year or a range. The view
bodies are plain SQL (checked by transpiling them to Spark in the tests) so a
national audit can define the same names over its own tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coaltrace.period import Period

if TYPE_CHECKING:
    import duckdb

# Provenance tables carry their own `period` label; rules see the audited one.
PROVENANCE_TABLES = ("balances", "running_breaches", "origin_shares", "flow_origins", "flows")

# Views every rule may read, with what they hold (docs/rules.md lists them too).
VIEWS: dict[str, str] = {
    "audit_period": "one row: period label, period_start, period_end (timestamps, end exclusive), days",
    "facilities": "the facility register (all of it)",
    "licences": "every licence and permit (all of them)",
    "coal_mining_licences": "mining licences for coal (mineral empty or naming coal)",
    "zones": "closed-mine, outcrop, remote-road and protected zones",
    "zone_circles": "every zone as a circle that covers it: zone_id, kind, lat, lon, radius_m",
    "facility_uscc": "facility_id, uscc, uscc_valid (GB 32100 check character), with lineage",
    "stocks": "stock counts (all of them)",
    "sales": "every sale loaded, any period (for look-ups across the period's edges)",
    "transports": "every trip loaded, any period (for look-ups across the period's edges)",
    "period_sales": "sales sold in the period",
    "period_trips": "transports departed in the period, with plate_valid",
    "period_intakes": "intakes received in the period, with plate_valid",
    "period_power": "power readings for the period's months",
    "period_gps": "GPS points in the period",
    "gps_zone_hits": "GPS points of the period inside a zone: plate, ts, lat, lon, zone_id, zone_kind",
    "period_balances": "mass balance per facility (provenance)",
    "period_running_breaches": "facilities whose running stock went below zero (provenance)",
    "period_origin_shares": "origin classes of each facility's coal (provenance)",
    "period_flow_origins": "origin classes of the coal on each flow (provenance)",
    "period_flows": "seller to buyer flows, declared and physical (provenance)",
}


def _ts(d: object) -> str:
    return f"CAST('{d} 00:00:00' AS TIMESTAMP)"


def view_sql(period: Period) -> dict[str, str]:
    """Name -> SELECT for every view but gps_zone_hits and zone_circles (which the engine computes)."""
    from coaltrace.contract.codes import plate_valid_sql, uscc_valid_sql
    from coaltrace.contract.tables import COAL_MINING_LICENCE

    start, end = _ts(period.start), _ts(period.end)
    months = ", ".join(f"'{m}'" for m in period.months)
    label = period.label.replace("'", "''")
    views = {
        "audit_period": (
            f"SELECT '{label}' AS period, {start} AS period_start, {end} AS period_end, {period.days} AS days"
        ),
        "coal_mining_licences": f"SELECT * FROM licences WHERE {COAL_MINING_LICENCE}",
        "facility_uscc": (
            f"SELECT facility_id, uscc, {uscc_valid_sql('uscc')} AS uscc_valid, _file, _sheet, _line FROM facilities"
        ),
        "period_sales": f"SELECT * FROM sales WHERE sold_at >= {start} AND sold_at < {end}",
        "period_trips": (
            f"SELECT *, {plate_valid_sql('plate')} AS plate_valid FROM transports "
            f"WHERE departed_at >= {start} AND departed_at < {end}"
        ),
        "period_intakes": (
            f"SELECT *, {plate_valid_sql('plate')} AS plate_valid FROM intakes "
            f"WHERE received_at >= {start} AND received_at < {end}"
        ),
        "period_power": f"SELECT * FROM power WHERE month IN ({months})",
        "period_gps": f"SELECT * FROM gps WHERE ts >= {start} AND ts < {end}",
    }
    for table in PROVENANCE_TABLES:
        views[f"period_{table}"] = f"SELECT * FROM {table} WHERE period = '{label}'"
    return views


def create_views(con: duckdb.DuckDBPyConnection, period: Period) -> None:
    """Define the period's views on this connection (temporary: other sessions see nothing)."""
    existing = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    for name, body in view_sql(period).items():
        source = name.removeprefix("period_")
        if source in PROVENANCE_TABLES and source not in existing:
            continue
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {body}")
