"""What the audit report says, gathered from the store as data (rendering is elsewhere)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from coaltrace import __version__
from coaltrace.period import Period
from coaltrace.rules.findings import SEVERITY_RANK_SQL
from coaltrace.store import Store
from coaltrace.store.status import store_status

TOP = 20


class RuleLine(BaseModel):
    rule_id: str
    title_zh: str
    title_en: str
    severity: str
    rule_version: int
    findings: int
    tonnes_at_risk: float


class Report(BaseModel):
    period: str
    db: str
    generated_at: datetime
    version: str
    rows: dict[str, int]
    files: int
    quarantined: dict[str, int]
    by_severity: dict[str, int]
    tonnes_at_risk: float
    rules: list[RuleLine]
    worst_facilities: list[dict[str, Any]]
    unsourced: list[dict[str, Any]]  # facilities that shipped more than they had, largest first
    findings: list[dict[str, Any]]  # the most serious, with their evidence references
    findings_total: int
    credit: str | None = None


def _table_exists(store: Store, name: str) -> bool:
    return bool(store.query("SELECT 1 FROM information_schema.tables WHERE table_name = ?", [name]))


def build_report(store: Store, period: Period, *, credit: str | None = None) -> Report:
    status = store_status(store)
    have_findings = _table_exists(store, "findings")
    p = [period.label]
    rules: list[RuleLine] = []
    by_severity: dict[str, int] = {}
    worst: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    total = 0
    if have_findings:
        rules = [
            RuleLine(**r)
            for r in store.query(
                f"""SELECT rule_id, any_value(title_zh) AS title_zh, any_value(title_en) AS title_en,
                      arg_max(severity, {SEVERITY_RANK_SQL}) AS severity, max(rule_version) AS rule_version,
                      count(*) AS findings, COALESCE(sum(tonnes_at_risk), 0) AS tonnes_at_risk
               FROM findings WHERE period = ? GROUP BY rule_id
               ORDER BY findings DESC, rule_id""",
                p,
            )
        ]
        by_severity = {
            r["severity"]: r["n"]
            for r in store.query("SELECT severity, count(*) AS n FROM findings WHERE period = ? GROUP BY 1", p)
        }
        worst = store.query(
            """SELECT f.facility_id, any_value(fa.name) AS name, any_value(fa.kind) AS kind,
                      any_value(f.county) AS county, count(*) AS findings,
                      COALESCE(sum(f.tonnes_at_risk), 0) AS tonnes_at_risk,
                      string_agg(DISTINCT f.rule_id, ', ' ORDER BY f.rule_id) AS rules
               FROM findings f LEFT JOIN facilities fa USING (facility_id)
               WHERE f.period = ? AND f.facility_id IS NOT NULL
               GROUP BY f.facility_id ORDER BY tonnes_at_risk DESC, findings DESC, f.facility_id LIMIT ?""",
            [*p, TOP],
        )
        findings = store.query(
            f"""SELECT finding_id, rule_id, rule_version, severity, title_zh, title_en, entity_kind, entity_id,
                      facility_id, county, tonnes_at_risk, evidence
               FROM findings WHERE period = ?
               ORDER BY {SEVERITY_RANK_SQL} DESC,
                        tonnes_at_risk DESC NULLS LAST, finding_id
               LIMIT 100""",
            p,
        )
        total = store.query("SELECT count(*) AS n FROM findings WHERE period = ?", p)[0]["n"]
    unsourced: list[dict[str, Any]] = []
    if _table_exists(store, "balances"):
        unsourced = store.query(
            """SELECT b.facility_id, fa.name, b.kind, b.county, b.inflow_t, b.outflow_t, b.unsourced_t
               FROM balances b LEFT JOIN facilities fa USING (facility_id)
               WHERE b.period = ? AND b.unsourced_t > 0.5
               ORDER BY b.unsourced_t DESC, b.facility_id LIMIT ?""",
            [*p, TOP],
        )
    return Report(
        period=period.label,
        db=status.db,
        generated_at=datetime.now().replace(microsecond=0),
        version=__version__,
        rows={n: t.rows for n, t in status.tables.items()},
        files=sum(len(t.files) for t in status.tables.values()),
        quarantined=status.quarantine,
        by_severity=by_severity,
        tonnes_at_risk=sum(r.tonnes_at_risk for r in rules),
        rules=rules,
        worst_facilities=worst,
        unsourced=unsourced,
        findings=findings,
        findings_total=total,
        credit=credit,
    )
