"""The views rule queries read: the store as one audit period sees it.

Rules never name a date: the engine defines these views for the period under
audit, so the same rule file audits a month, a year or a range. The view
bodies are plain SQL (checked by transpiling them to Spark in the tests) so a
national audit can define the same names over its own tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from coaltrace.period import Period

if TYPE_CHECKING:
    from coaltrace.engine import Engine

# Provenance tables carry their own `period` label; rules see the audited one.
PROVENANCE_TABLES = ("balances", "running_breaches", "origin_shares", "flow_origins", "flows")
_SHIPMENTS = ("sales", "transports")
_GRAPH = ("facilities", "licences", "sales", "transports", "stocks")


class View(NamedTuple):
    """What a view holds (docs/rules.md lists them) and the contract tables it reads."""

    text: str
    tables: tuple[str, ...]


# Contract tables a rule may read as they are: the registers, and shipments across the period's edges.
BASE_TABLES: dict[str, View] = {
    "facilities": View("the facility register (all of it)", ("facilities",)),
    "licences": View("every licence and permit (all of them)", ("licences",)),
    "zones": View("closed-mine, outcrop, remote-road and protected zones", ("zones",)),
    "stocks": View("stock counts (all of them)", ("stocks",)),
    "sales": View("every sale loaded, any period (for look-ups across the period's edges)", ("sales",)),
    "transports": View("every trip loaded, any period (for look-ups across the period's edges)", ("transports",)),
}

# Views the engine defines for the audited period.
VIEWS: dict[str, View] = {
    "audit_period": View("one row: period label, period_start, period_end (timestamps, end exclusive), days", ()),
    "coal_mining_licences": View("mining licences for coal (mineral empty or naming coal)", ("licences",)),
    "zone_circles": View("every zone as a circle that covers it: zone_id, kind, lat, lon, radius_m", ("zones",)),
    "facility_uscc": View("facility_id, uscc, uscc_valid (GB 32100 check character), with lineage", ("facilities",)),
    "period_sales": View("sales sold in the period", ("sales",)),
    "period_trips": View("transports departed in the period, with plate_valid", ("transports",)),
    "period_intakes": View("intakes received in the period, with plate_valid", ("intakes",)),
    "period_power": View("power readings for the period's months", ("power",)),
    "period_gps": View("GPS points in the period", ("gps",)),
    "gps_zone_hits": View(
        "GPS points of the period inside a zone: plate, ts, lat, lon, zone_id, zone_kind", ("gps", "zones")
    ),
    "period_shipments": View(
        "the period's sales and trips as one list with lineage: _table, record_id, seller_id, buyer_id, "
        "happened_at, tonnes, waybill_no, counted (its tonnes are the ones the mass balance used, see "
        "flow_measure in docs/provenance.md), _file, _sheet, _line",
        _SHIPMENTS,
    ),
    "period_balances": View("mass balance per facility (provenance)", _GRAPH),
    "period_running_breaches": View("facilities whose running stock went below zero (provenance)", _GRAPH),
    "period_origin_shares": View("origin classes of each facility's coal (provenance)", _GRAPH),
    "period_flow_origins": View("origin classes of the coal on each flow (provenance)", _GRAPH),
    "period_flows": View("seller to buyer flows, declared and physical (provenance)", _GRAPH),
}

# Everything a rule may name.
READABLE: dict[str, View] = {**BASE_TABLES, **VIEWS}

# Views that read the provenance tables, so exist only once provenance was built.
NEEDS_PROVENANCE = {f"period_{t}" for t in PROVENANCE_TABLES} | {"period_shipments"}


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
    views["period_shipments"] = (
        "SELECT e.*, COALESCE(m.measure = CASE e._table WHEN 'sales' THEN 'declared' ELSE 'physical' END "
        "AND e.tonnes > 0 AND e.seller_id <> e.buyer_id, FALSE) AS counted FROM ("
        "SELECT 'sales' AS _table, sale_id AS record_id, seller_id, buyer_id, sold_at AS happened_at, tonnes, "
        f"waybill_no, _file, _sheet, _line FROM sales WHERE sold_at >= {start} AND sold_at < {end} "
        "UNION ALL SELECT 'transports', trip_id, origin_id, destination_id, departed_at, "
        "COALESCE(tonnes_unloaded, tonnes_loaded), waybill_no, _file, _sheet, _line FROM transports "
        f"WHERE departed_at >= {start} AND departed_at < {end}) e "
        f"LEFT JOIN (SELECT DISTINCT seller_id, buyer_id, measure FROM flows WHERE period = '{label}') m "
        "ON m.seller_id = e.seller_id AND m.buyer_id = e.buyer_id"
    )
    return views


def tables_behind(views: set[str]) -> set[str]:
    """The contract tables that the named views read."""
    return {t for v in views if v in READABLE for t in READABLE[v].tables}


def create_views(engine: Engine, period: Period) -> None:
    """Define the period's views on this engine (temporary where it can: other sessions see nothing)."""
    have_provenance = engine.has_table("balances")
    for name, body in view_sql(period).items():
        if name in NEEDS_PROVENANCE and not have_provenance:
            continue
        engine.create_view(name, body)
