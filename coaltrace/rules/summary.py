"""An audit's figures, each tonne counted once.

Coal at risk is counted where it entered the chain with no licensed source: at
an unlicensed or closed producer, as production over capacity, as a shortfall at
a non-mine. A finding whose rule says its tonnes are that origin
(`tonnes: {role: origin, class: ...}`) contributes them once per facility and
origin class, however many rules found the same coal there; tonnes carried on
downstream, or standing on the records a rule found, are shown with their
findings and never added. So the headline, the by-class split, the facility and
county rankings are sums of distinct coal.
"""

from __future__ import annotations

from typing import Any

from coaltrace.engine import Workspace
from coaltrace.numbers import tidy
from coaltrace.rules.at_risk import OriginClass
from coaltrace.rules.findings import SEVERITY_RANK_SQL
from coaltrace.severity import Severity

TOP = 10

# Origin tonnes per facility and class: a rule's findings there add up (a rule may find several
# records of one facility), and rules that found the same coal count it once (the largest).
ORIGINS_SQL = """
SELECT facility_id, origin_class, max(tonnes) AS tonnes FROM (
    SELECT rule_id, facility_id, origin_class, sum(tonnes_at_risk) AS tonnes
    FROM findings
    WHERE {scope} AND tonnes_role = 'origin' AND facility_id IS NOT NULL AND tonnes_at_risk > 0
    GROUP BY ALL
) GROUP BY ALL
"""

_FACILITIES = f"""
WITH o AS ({ORIGINS_SQL}),
here AS (SELECT facility_id, sum(tonnes) AS at_risk FROM o GROUP BY 1),
f AS (
    SELECT facility_id, count(*) AS findings, max({SEVERITY_RANK_SQL}) AS worst_rank, min(county) AS county
    FROM findings WHERE {{scope}} AND facility_id IS NOT NULL GROUP BY 1
)
SELECT f.facility_id, r.name, r.kind, COALESCE(f.county, r.county) AS county, f.findings, f.worst_rank,
       COALESCE(here.at_risk, 0) AS tonnes_at_risk
FROM f LEFT JOIN here USING (facility_id)
LEFT JOIN (SELECT facility_id, any_value(name) AS name, any_value(kind) AS kind, any_value(county) AS county
           FROM facilities GROUP BY 1) r USING (facility_id)
ORDER BY worst_rank DESC, tonnes_at_risk DESC, findings DESC, facility_id
"""

_COUNTIES = f"""
WITH o AS ({ORIGINS_SQL}),
risk AS (
    SELECT COALESCE(r.county, '') AS county, sum(o.tonnes) AS at_risk FROM o
    LEFT JOIN (SELECT facility_id, any_value(county) AS county FROM facilities GROUP BY 1) r USING (facility_id)
    GROUP BY 1
),
f AS (
    SELECT COALESCE(county, '') AS county, count(*) AS findings, max({SEVERITY_RANK_SQL}) AS worst_rank
    FROM findings WHERE {{scope}} GROUP BY 1
)
SELECT NULLIF(f.county, '') AS county, f.findings, f.worst_rank, COALESCE(risk.at_risk, 0) AS tonnes_at_risk
FROM f LEFT JOIN risk USING (county)
ORDER BY tonnes_at_risk DESC, worst_rank DESC, findings DESC, county NULLS LAST
"""


def _ranked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for r in rows:
        r["worst_severity"] = (Severity.of_rank(int(r.pop("worst_rank") or 0)) or Severity.low).value
    return rows


def at_origin(store: Workspace, period: str, facility_id: str) -> dict[str, float]:
    """The coal at risk that entered the chain at one facility, by class, as the period's findings count it."""
    by_class = {c.value: 0.0 for c in OriginClass}
    rows = store.engine.rows(
        ORIGINS_SQL.replace("{scope}", "period = $period AND facility_id = $facility"),
        {"period": period, "facility": facility_id},
    )
    for _, origin_class, tonnes in rows:
        by_class[origin_class] = float(tonnes)
    return tidy(by_class)


def counted_once(store: Workspace, *, run_id: str | None = None, period: str | None = None) -> dict[str, Any]:
    """tonnes_at_risk, tonnes_at_risk_by_class, by_severity, worst_facilities and counties of one
    audit run, or of a period's findings as they stand (each rule's latest run)."""
    scope, params = ("run_id = $key", {"key": run_id}) if run_id is not None else ("period = $key", {"key": period})

    def sql(template: str) -> str:
        return template.replace("{scope}", scope)

    origins = store.engine.rows(sql(ORIGINS_SQL), params)
    by_class = {c.value: 0.0 for c in OriginClass}
    for _, origin_class, tonnes in origins:
        by_class[origin_class] = by_class.get(origin_class, 0.0) + float(tonnes)
    severities = dict(
        store.engine.rows(sql("SELECT severity, count(*) FROM findings WHERE {scope} GROUP BY 1"), params)
    )
    facilities = store.engine.query(sql(_FACILITIES) + f" LIMIT {TOP}", params)
    counties = store.engine.query(sql(_COUNTIES), params)
    return tidy(
        {
            "tonnes_at_risk": sum(by_class.values()),
            "tonnes_at_risk_by_class": by_class,
            "by_severity": {s.value: int(severities.get(s.value, 0)) for s in Severity.worst_first()},
            "worst_facilities": _ranked(facilities),
            "counties": _ranked(counties),
        }
    )
