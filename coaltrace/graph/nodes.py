"""Node attributes for the period: kind, county, stocks, capacity, licence state.

A mine is licensed on day d when it holds a mining licence for coal (mineral
empty, or naming 煤 or coal) with valid_from <= d <= valid_to, and its status
is not closed, suspended or revoked as of d (a status applies from
status_since, or always when that is empty). The state is decided per
shipment day in SQL, never once a month: a sale on a day the mine was not
licensed is unlicensed production.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coaltrace.config import ProvenanceConfig
from coaltrace.contract.tables import COAL_MINING_LICENCE
from coaltrace.engine import Workspace
from coaltrace.graph.staging import Window

if TYPE_CHECKING:
    import polars as pl

LICENCE_STATES = ("valid", "none", "expired", "not_yet_valid", "closed", "suspended", "revoked")

_COAL_LICENCES = f"SELECT facility_id, valid_from, valid_to, capacity_tpa FROM licences WHERE {COAL_MINING_LICENCE}"

_STATE_ON = """
CASE WHEN f.status IN ('closed', 'suspended', 'revoked')
          AND (f.status_since IS NULL OR f.status_since <= days.d) THEN f.status
     WHEN bool_or(l.valid_from <= days.d AND days.d <= l.valid_to) THEN 'valid'
     WHEN bool_or(l.valid_to < days.d) THEN 'expired'
     WHEN bool_or(l.valid_from > days.d) THEN 'not_yet_valid'
     ELSE 'none' END
"""

# One row per facility seen in the period (in a flow or with a stock count),
# registered or not. Needs the staged tables of `coaltrace.graph.staging`.
_NODES = f"""
WITH ids AS (
    SELECT seller_id AS facility_id FROM _ct_flows
    UNION SELECT buyer_id FROM _ct_flows
    UNION SELECT facility_id FROM stocks
          WHERE as_of BETWEEN $open_from AND $start OR as_of BETWEEN $close_from AND $end
), opening AS (
    SELECT facility_id, arg_max(tonnes, as_of) AS t FROM stocks
    WHERE as_of BETWEEN $open_from AND $start GROUP BY 1
), closing AS (
    SELECT facility_id, arg_max(tonnes, as_of) AS t FROM stocks
    WHERE as_of BETWEEN $close_from AND $end GROUP BY 1
), lic AS ({_COAL_LICENCES}
), cap AS (
    SELECT facility_id, max(capacity_tpa) AS tpa FROM lic
    WHERE valid_from < $end AND valid_to >= $start GROUP BY 1
), days AS (
    SELECT DISTINCT e.seller_id AS facility_id, CAST(e.departed_at AS DATE) AS d
    FROM _ct_events e JOIN facilities f ON f.facility_id = e.seller_id WHERE f.kind = 'mine'
    UNION SELECT facility_id, CAST($last_day AS DATE) FROM facilities WHERE kind = 'mine'
), day_state AS (
    SELECT days.facility_id, days.d, {_STATE_ON} AS state
    FROM days JOIN facilities f USING (facility_id) LEFT JOIN lic l USING (facility_id)
    GROUP BY days.facility_id, days.d, f.status, f.status_since
), sold AS (
    SELECT e.seller_id AS facility_id,
           coalesce(sum(e.tonnes) FILTER (WHERE s.state = 'valid'), 0) AS licensed_sold_t,
           coalesce(sum(e.tonnes) FILTER (WHERE s.state <> 'valid'), 0) AS unlicensed_sold_t,
           coalesce(sum(e.tonnes) FILTER (WHERE s.state IN ('closed', 'suspended', 'revoked')), 0) AS shut_sold_t,
           arg_min(s.state, (e.departed_at, e.event_id)) FILTER (WHERE s.state <> 'valid') AS first_bad
    FROM _ct_events e
    JOIN day_state s ON s.facility_id = e.seller_id AND s.d = CAST(e.departed_at AS DATE)
    GROUP BY 1
), last_state AS (
    SELECT facility_id, state FROM day_state WHERE d = CAST($last_day AS DATE)
), county_of AS (
    SELECT facility_id, any_value(county) AS county FROM facilities WHERE county IS NOT NULL GROUP BY 1
), unrecorded_counties AS (
    -- Counties whose facilities booked intakes while no sale or trip into the county is recorded:
    -- their purchase records are missing from the data, not their coal from the world.
    SELECT c.county FROM intakes i JOIN county_of c USING (facility_id)
    WHERE i.received_at >= $start AND i.received_at < $end
    EXCEPT
    SELECT c.county FROM _ct_flows fl JOIN county_of c ON c.facility_id = fl.buyer_id
)
SELECT ids.facility_id, f.name, f.kind, f.county, f.status,
       f.facility_id IS NOT NULL AS registered,
       opening.t AS opening_stock_t, closing.t AS closing_stock_t,
       CASE WHEN f.kind = 'mine' THEN cap.tpa * $days / 365.0 END AS capacity_t,
       CASE WHEN f.kind = 'mine' THEN coalesce(
           sold.first_bad,
           CASE WHEN sold.licensed_sold_t > 0 THEN 'valid' END,
           last_state.state) END AS licence_state,
       coalesce(sold.licensed_sold_t, 0) AS licensed_sold_t,
       coalesce(sold.unlicensed_sold_t, 0) AS unlicensed_sold_t,
       coalesce(sold.shut_sold_t, 0) AS shut_sold_t,
       f.county IN (SELECT county FROM unrecorded_counties) IS TRUE AS county_inflow_missing,
       last_state.state = 'valid' AS licensed_at_end,
       (SELECT count(*) > 0 FROM lic) AS licences_recorded
FROM ids
LEFT JOIN facilities f USING (facility_id)
LEFT JOIN opening USING (facility_id)
LEFT JOIN closing USING (facility_id)
LEFT JOIN cap USING (facility_id)
LEFT JOIN sold USING (facility_id)
LEFT JOIN last_state USING (facility_id)
ORDER BY ids.facility_id
"""


def node_frame(store: Workspace, window: Window, config: ProvenanceConfig) -> pl.DataFrame:
    """Facilities of the period with their attributes; call inside `staged(...)`, with the window it yields."""
    import polars as pl

    nodes = store.engine.frame(_NODES, window.params())
    return nodes.with_columns(
        pl.col("kind")
        .replace_strict(config.yields, default=config.default_yield, return_dtype=pl.Float64)
        .alias("yield_factor"),
        (pl.col("kind") == "power_plant").fill_null(False).alias("sink"),
    )
