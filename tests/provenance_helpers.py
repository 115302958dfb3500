"""Build small audit databases by hand: rows go straight into the store with SQL."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, datetime

from coaltrace.store import Store

DEC = date(2021, 12, 1)
_ids = itertools.count(1)


def facility(
    store: Store,
    facility_id: str,
    kind: str,
    *,
    county: str = "泽州县",
    status: str | None = None,
    status_since: date | None = None,
) -> None:
    store.con.execute(
        "INSERT INTO facilities (facility_id, name, kind, county, status, status_since) VALUES (?, ?, ?, ?, ?, ?)",
        [facility_id, f"{facility_id} 名称", kind, county, status, status_since],
    )


def licence(
    store: Store,
    facility_id: str,
    *,
    valid_from: date = date(2015, 1, 1),
    valid_to: date = date(2030, 12, 31),
    capacity_tpa: float | None = None,
    mineral: str | None = "煤",
    licence_type: str = "mining",
) -> None:
    store.con.execute(
        "INSERT INTO licences (licence_id, facility_id, licence_type, mineral, valid_from, valid_to, capacity_tpa) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [f"L{next(_ids)}", facility_id, licence_type, mineral, valid_from, valid_to, capacity_tpa],
    )


def mine(store: Store, facility_id: str, **licence_kw: object) -> None:
    """A registered mine with a valid coal licence."""
    facility(store, facility_id, "mine")
    licence(store, facility_id, **licence_kw)  # type: ignore[arg-type]


def sale(
    store: Store,
    seller: str,
    buyer: str,
    tonnes: float,
    at: datetime | str = "2021-12-10 08:00",
    *,
    product: str | None = "raw",
    waybill: str | None = None,
) -> None:
    store.con.execute(
        "INSERT INTO sales (sale_id, sold_at, seller_id, buyer_id, product, tonnes, waybill_no) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [f"S{next(_ids)}", at, seller, buyer, product, tonnes, waybill],
    )


def trip(
    store: Store,
    origin: str,
    destination: str,
    loaded: float,
    *,
    unloaded: float | None = None,
    departed: str = "2021-12-10 08:00",
    arrived: str | None = None,
    waybill: str | None = None,
) -> None:
    store.con.execute(
        "INSERT INTO transports (trip_id, waybill_no, plate, origin_id, destination_id, departed_at, arrived_at, tonnes_loaded, tonnes_unloaded) "
        "VALUES (?, ?, '晋E12345', ?, ?, ?, ?, ?, ?)",
        [f"T{next(_ids)}", waybill, origin, destination, departed, arrived, loaded, unloaded],
    )


def stock(store: Store, facility_id: str, tonnes: float, as_of: date = DEC) -> None:
    store.con.execute("INSERT INTO stocks (facility_id, as_of, tonnes) VALUES (?, ?, ?)", [facility_id, as_of, tonnes])


def sales(store: Store, rows: Sequence[tuple[str, str, float]]) -> None:
    for seller, buyer, tonnes in rows:
        sale(store, seller, buyer, tonnes)
