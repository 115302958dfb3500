"""The findings table: what the audit found, with evidence, kept per period.

A finding's id depends only on the rule, the entity and the period, so the
same problem keeps its id from run to run and a ledger can follow it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from coaltrace.rules.model import Severity
from coaltrace.store import Store

FINDINGS_DDL = """
CREATE TABLE IF NOT EXISTS findings (
    finding_id VARCHAR, rule_id VARCHAR, rule_version INTEGER, severity VARCHAR,
    entity_kind VARCHAR, entity_id VARCHAR, facility_id VARCHAR, county VARCHAR,
    period VARCHAR, tonnes_at_risk DOUBLE, evidence JSON, params JSON, config JSON,
    title_zh VARCHAR, title_en VARCHAR, created_at TIMESTAMP, run_id VARCHAR
);
CREATE TABLE IF NOT EXISTS audit_runs (
    run_id VARCHAR, period VARCHAR, started_at TIMESTAMP, seconds DOUBLE,
    rules JSON, config JSON, findings BIGINT
);
"""

COLUMNS = (
    "finding_id",
    "rule_id",
    "rule_version",
    "severity",
    "entity_kind",
    "entity_id",
    "facility_id",
    "county",
    "period",
    "tonnes_at_risk",
    "evidence",
    "params",
    "config",
    "title_zh",
    "title_en",
    "created_at",
    "run_id",
)

SEVERITY_RANK_SQL = (
    "CASE severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END"
)


def ensure_tables(store: Store) -> None:
    store.con.execute(FINDINGS_DDL)


def finding_id_sql(rule_id: str, entity_kind: str, entity_sql: str, period: str) -> str:
    """sha1(rule_id|entity_kind|entity_id|period), first 16 hex digits."""
    head = "|".join((rule_id, entity_kind)).replace("'", "''")
    return f"SUBSTRING(SHA1('{head}|' || {entity_sql} || '|{period.replace(chr(39), chr(39) * 2)}') FROM 1 FOR 16)"


@dataclass(frozen=True)
class FindingFilter:
    period: str | None = None
    rule_id: str | None = None
    min_severity: Severity | None = None
    facility_id: str | None = None
    county: str | None = None


def query_findings(store: Store, f: FindingFilter | None = None) -> list[dict[str, Any]]:
    """Findings, worst first (severity, tonnes at risk), then by id for a stable order.

    Reads only (the store may be read-only): no findings table yet means no findings.
    """
    if not store.con.execute(
        "SELECT 1 FROM duckdb_tables() WHERE table_name = 'findings' AND NOT temporary"
    ).fetchall():
        return []
    f = f or FindingFilter()
    conditions: list[tuple[str, object]] = [
        ("period = ?", f.period),
        ("rule_id = ?", f.rule_id),
        (f"{SEVERITY_RANK_SQL} >= ?", f.min_severity.rank if f.min_severity else None),
        ("facility_id = ?", f.facility_id),
        ("county = ?", f.county),
    ]
    where = ["TRUE", *(sql for sql, value in conditions if value)]
    args = [value for _, value in conditions if value]
    rows = store.query(
        f"SELECT {', '.join(COLUMNS)} FROM findings WHERE {' AND '.join(where)} "
        f"ORDER BY {SEVERITY_RANK_SQL} DESC, tonnes_at_risk DESC NULLS LAST, rule_id, entity_id, finding_id",
        args,
    )
    for r in rows:
        for key in ("evidence", "params", "config"):
            if isinstance(r[key], str):
                r[key] = json.loads(r[key])
    return rows
