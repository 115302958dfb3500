"""Running stock in time order: coal shipped before it was received.

A month can balance in total while a yard ships on the 3rd what it only
receives on the 20th. For each facility of the kinds in
`ProvenanceConfig.running_kinds` whose inflows the data records (see
`coaltrace.provenance.balance`), the stock starts at the opening stock and
moves with every shipment: + tonnes × yield when one arrives, - tonnes when
one leaves. At the same instant arrivals count first, so a same-day
receive-and-ship is never a breach. A breach is a stock below -tolerance_t.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coaltrace.config import ProvenanceConfig
from coaltrace.engine import Workspace

if TYPE_CHECKING:
    import polars as pl

_RUNNING = """
WITH n AS (
    SELECT facility_id, yield_factor, opening_stock_t FROM _ct_balance_nodes
    WHERE list_contains($kinds, kind) AND inflow_recorded
), ev AS (
    SELECT e.buyer_id AS facility_id, e.arrived_at AS ts, 0 AS leaving, e.event_id,
           e.tonnes * n.yield_factor AS delta
    FROM _ct_events e JOIN n ON n.facility_id = e.buyer_id
    UNION ALL
    SELECT e.seller_id, e.departed_at, 1, e.event_id, -e.tonnes
    FROM _ct_events e JOIN n ON n.facility_id = e.seller_id
), run AS (
    SELECT ev.facility_id, ev.ts,
           n.opening_stock_t + sum(ev.delta) OVER (
               PARTITION BY ev.facility_id ORDER BY ev.ts, ev.leaving, ev.event_id
               ROWS UNBOUNDED PRECEDING) AS stock
    FROM ev JOIN n USING (facility_id)
)
SELECT facility_id,
       min(ts) FILTER (WHERE stock < $floor) AS first_negative_at,
       min(stock) AS min_balance_t,
       -min(stock) AS shortfall_t
FROM run GROUP BY facility_id
HAVING min(stock) < $floor
ORDER BY facility_id
"""


def running_breaches(store: Workspace, balances: pl.DataFrame, config: ProvenanceConfig) -> pl.DataFrame:
    """One row per facility whose running stock went negative; call inside `staged(...)`."""
    nodes = balances.select("facility_id", "kind", "yield_factor", "opening_stock_t", "inflow_recorded")
    with store.engine.registered("_ct_balance_nodes", nodes):
        return store.engine.frame(_RUNNING, {"kinds": list(config.running_kinds), "floor": -config.tolerance_t})
