"""The period's shipments, staged once in DuckDB as temporary tables.

Every later step (flows, licence state per day, running balance) reads these
instead of the raw tables, so all of them count the same tonnes:

- `_ct_sales`, `_ct_trips`: the period's sales (by `sold_at`) and trips (by
  `departed_at`) with positive tonnes; a trip's tonnes are what was unloaded,
  or loaded when the far weighbridge is missing. A trip takes the product of
  the sale with its waybill, else the pair's main product.
- `_ct_flows`: one row per seller, buyer and product, with `measure` saying
  whether `tonnes` are the declared or the physical ones (the same for the
  whole pair, see `ProvenanceConfig.flow_measure`).
- `_ct_events`: the individual shipments behind `tonnes`, seller != buyer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from coaltrace.config import ProvenanceConfig
from coaltrace.engine import Workspace
from coaltrace.period import Period

if TYPE_CHECKING:
    pass

TEMP_TABLES = ("_ct_sales", "_ct_trips", "_ct_pairs", "_ct_flows", "_ct_events")

_SALES = """
CREATE OR REPLACE TEMP TABLE _ct_sales AS
SELECT sale_id AS event_id, seller_id, buyer_id, product, sold_at, tonnes, waybill_no
FROM sales
WHERE sold_at >= $start AND sold_at < $end AND tonnes > 0
  AND seller_id IS NOT NULL AND buyer_id IS NOT NULL
"""

_TRIPS = """
CREATE OR REPLACE TEMP TABLE _ct_trips AS
WITH t AS (
    SELECT trip_id AS event_id, origin_id AS seller_id, destination_id AS buyer_id, waybill_no,
           departed_at, coalesce(arrived_at, departed_at) AS arrived_at,
           coalesce(tonnes_unloaded, tonnes_loaded) AS tonnes
    FROM transports
    WHERE departed_at >= $start AND departed_at < $end
      AND origin_id IS NOT NULL AND destination_id IS NOT NULL
), by_waybill AS (
    SELECT seller_id, buyer_id, waybill_no, min(product) AS product
    FROM _ct_sales WHERE waybill_no IS NOT NULL GROUP BY ALL
), main AS (
    SELECT seller_id, buyer_id, product FROM (
        SELECT seller_id, buyer_id, product,
               row_number() OVER (PARTITION BY seller_id, buyer_id
                                  ORDER BY sum(tonnes) DESC, product NULLS LAST) AS r
        FROM _ct_sales GROUP BY seller_id, buyer_id, product
    ) WHERE r = 1
)
SELECT t.*, CASE WHEN w.seller_id IS NOT NULL THEN w.product ELSE m.product END AS product
FROM t
LEFT JOIN by_waybill w ON w.seller_id = t.seller_id AND w.buyer_id = t.buyer_id AND w.waybill_no = t.waybill_no
LEFT JOIN main m ON m.seller_id = t.seller_id AND m.buyer_id = t.buyer_id
WHERE t.tonnes > 0
"""

_PAIRS = """
CREATE OR REPLACE TEMP TABLE _ct_pairs AS
SELECT seller_id, buyer_id,
       CASE WHEN $measure = 'physical' THEN 'physical'
            WHEN $measure = 'declared' THEN 'declared'
            WHEN bool_or(src = 'sale') THEN 'declared'
            ELSE 'physical' END AS measure
FROM (SELECT seller_id, buyer_id, 'sale' AS src FROM _ct_sales
      UNION ALL SELECT seller_id, buyer_id, 'trip' FROM _ct_trips)
GROUP BY seller_id, buyer_id
"""

_FLOWS = """
CREATE OR REPLACE TEMP TABLE _ct_flows AS
WITH d AS (
    SELECT seller_id, buyer_id, product, sum(tonnes) AS declared_t, count(*) AS sales
    FROM _ct_sales GROUP BY ALL
), p AS (
    SELECT seller_id, buyer_id, product, sum(tonnes) AS physical_t, count(*) AS trips
    FROM _ct_trips GROUP BY ALL
), j AS (
    SELECT coalesce(d.seller_id, p.seller_id) AS seller_id,
           coalesce(d.buyer_id, p.buyer_id) AS buyer_id,
           coalesce(d.product, p.product) AS product,
           coalesce(d.declared_t, 0) AS declared_t, coalesce(p.physical_t, 0) AS physical_t,
           coalesce(p.trips, 0) AS trips, coalesce(d.sales, 0) AS sales
    FROM d FULL JOIN p ON d.seller_id = p.seller_id AND d.buyer_id = p.buyer_id
                      AND d.product IS NOT DISTINCT FROM p.product
)
SELECT j.*, pr.measure,
       CASE WHEN pr.measure = 'declared' THEN j.declared_t ELSE j.physical_t END AS tonnes
FROM j JOIN _ct_pairs pr USING (seller_id, buyer_id)
ORDER BY seller_id, buyer_id, product NULLS LAST
"""

_EVENTS = """
CREATE OR REPLACE TEMP TABLE _ct_events AS
SELECT s.event_id, s.seller_id, s.buyer_id, s.sold_at AS departed_at, s.sold_at AS arrived_at, s.tonnes
FROM _ct_sales s JOIN _ct_pairs pr USING (seller_id, buyer_id)
WHERE pr.measure = 'declared' AND s.seller_id <> s.buyer_id
UNION ALL
SELECT t.event_id, t.seller_id, t.buyer_id, t.departed_at, t.arrived_at, t.tonnes
FROM _ct_trips t JOIN _ct_pairs pr USING (seller_id, buyer_id)
WHERE pr.measure = 'physical' AND t.seller_id <> t.buyer_id
"""


_COVERED = """
SELECT DISTINCT strftime(ts, '%Y-%m') FROM (
    SELECT sold_at AS ts FROM _ct_sales UNION ALL SELECT departed_at FROM _ct_trips
) ORDER BY 1
"""


@dataclass(frozen=True)
class Window:
    """The part of a period the data covers, as the balance reads it.

    A year audited with only December loaded is December for the balance: its
    opening stock is the count at the start of the first month with a sale or
    trip, its closing stock the count at the end of the last, and capacity is
    prorated over the days of the months with shipments (`days`). `months` are
    those months; the audit reports the others as a data gap.
    """

    period: Period
    months: tuple[str, ...]
    start: date
    end: date
    days: int
    stock_window_days: int

    @classmethod
    def of(cls, period: Period, months: Iterable[str], stock_window_days: int) -> Window:
        covered = tuple(m for m in months if m in period.months) or tuple(period.months)
        first, last = Period.parse(covered[0]), Period.parse(covered[-1])
        days = sum(Period.parse(m).days for m in covered)
        return cls(period, covered, first.start, last.end, days, stock_window_days)

    def params(self) -> dict[str, object]:
        return {
            "start": self.start,
            "end": self.end,
            "open_from": self.start - timedelta(days=self.stock_window_days),
            "close_from": self.end - timedelta(days=self.stock_window_days),
            "last_day": self.end - timedelta(days=1),
            "days": self.days,
        }


@contextmanager
def staged(store: Workspace, period: Period, config: ProvenanceConfig) -> Iterator[Window]:
    """Stage the period's shipments for the duration of the block; yields the window they cover."""
    engine = store.engine
    try:
        engine.execute(_SALES, {"start": period.start, "end": period.end})
        engine.execute(_TRIPS, {"start": period.start, "end": period.end})
        engine.execute(_PAIRS, {"measure": config.flow_measure})
        engine.execute(_FLOWS)
        engine.execute(_EVENTS)
        months = [m for (m,) in engine.rows(_COVERED)]
        yield Window.of(period, months, config.stock_window_days)
    finally:
        for name in TEMP_TABLES:
            engine.execute(f"DROP TABLE IF EXISTS {name}")
