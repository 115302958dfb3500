"""The inspector's page of one facility: who supplies it, how much of its coal traces
to a licensed mine, and what is open against it.

It composes the provenance page (`coaltrace.provenance.queries.yard_report`) with the
facility's suppliers, their licence state, and the audit's findings about it.
"""

from __future__ import annotations

from typing import Any

from coaltrace.numbers import tidy
from coaltrace.period import Period
from coaltrace.provenance.queries import ConfigArg, yard_report
from coaltrace.rules.findings import SEVERITY_RANK_SQL
from coaltrace.store import Store


def _has_findings(store: Store) -> bool:
    return bool(store.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'findings'"))


def yard_page(
    store: Store, facility_id: str, period: Period, config: ConfigArg = None, *, source: str | None = None
) -> dict[str, Any]:
    page = yard_report(store, facility_id, period, config, source=source)
    p = page["period"]
    page["suppliers"] = store.query(
        """SELECT s.seller_id, b.name, b.kind, b.licence_state, s.tonnes, s.declared_t, s.physical_t, s.trips,
                  os.licensed_share AS supplier_licensed_share
           FROM (SELECT seller_id, sum(tonnes) AS tonnes, sum(declared_t) AS declared_t,
                        sum(physical_t) AS physical_t, sum(trips) AS trips
                 FROM flows WHERE period = ? AND buyer_id = ? AND seller_id <> buyer_id GROUP BY seller_id) s
           LEFT JOIN balances b ON b.period = ? AND b.facility_id = s.seller_id
           LEFT JOIN (SELECT facility_id, any_value(licensed_share) AS licensed_share FROM balances
                      WHERE period = ? GROUP BY facility_id) os ON os.facility_id = s.seller_id
           ORDER BY s.tonnes DESC, s.seller_id""",
        [p, facility_id, p, p],
    )
    page["findings"] = []
    if _has_findings(store):
        # About the facility itself, or a flow into or out of it (ids 'seller>buyer').
        page["findings"] = store.query(
            f"""SELECT finding_id, rule_id, rule_version, severity, title_zh, title_en, entity_kind, entity_id,
                      tonnes_at_risk, tonnes_role
               FROM findings
               WHERE period = ? AND (facility_id = ? OR entity_id = ?
                                     OR ends_with(entity_id, ?) OR starts_with(entity_id, ?))
               ORDER BY {SEVERITY_RANK_SQL} DESC,
                        tonnes_at_risk DESC NULLS LAST, finding_id""",
            # Not LIKE: an id's own `_` or `%` would match other facilities' flows.
            [p, facility_id, facility_id, f">{facility_id}", f"{facility_id}>"],
        )
    return tidy(page)
