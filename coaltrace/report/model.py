"""What the audit report says, gathered from the store as data (rendering is elsewhere).

The figures are the audit's own: each tonne at risk counted once at its origin
(`coaltrace.rules.summary`), the data gaps it measured before judging, and every
rule with what became of it (ran, no data, disabled), as each rule's latest
audit run of the period left it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from coaltrace import __version__
from coaltrace.ledger.queries import ledger_state
from coaltrace.numbers import tidy
from coaltrace.period import Period
from coaltrace.rules.findings import SEVERITY_RANK_SQL
from coaltrace.rules.summary import counted_once
from coaltrace.store import Store
from coaltrace.store.status import store_status

TOP = 20


class RuleLine(BaseModel):
    rule_id: str
    title_zh: str
    title_en: str
    severity: str
    rule_version: int
    status: str  # ran, no_data or disabled
    reason: str | None = None
    findings: int
    tonnes_at_risk: float
    tonnes_role: str
    params: dict[str, Any] = {}
    unjudged_counties: list[str] = []


class Report(BaseModel):
    period: str
    db: str
    generated_at: datetime
    version: str
    audited: bool
    rows: dict[str, int]  # rows per table in the period (registers: all of them)
    files: int
    quarantined: dict[str, int]
    by_severity: dict[str, int]
    tonnes_at_risk: float  # counted once, at the origin
    tonnes_at_risk_by_class: dict[str, float]
    data_gaps: list[dict[str, Any]]
    rules: list[RuleLine]
    config: str | None  # the config file the latest audit read
    worst_facilities: list[dict[str, Any]]
    counties: list[dict[str, Any]]
    unsourced: list[dict[str, Any]]  # facilities that shipped more than they had, largest first
    findings: list[dict[str, Any]]  # the most serious, with their evidence references
    findings_total: int
    credit: str | None = None
    # The problem ledger for the period (coaltrace.ledger.queries.ledger_state); None without a ledger.
    ledger: dict[str, Any] | None = None


def _table_exists(store: Store, name: str) -> bool:
    return bool(store.query("SELECT 1 FROM information_schema.tables WHERE table_name = ?", [name]))


def _runs(store: Store, period: Period) -> list[dict[str, Any]]:
    """The period's audit summaries, oldest first."""
    if not _table_exists(store, "audit_runs"):
        return []
    rows = store.query(
        "SELECT summary FROM audit_runs WHERE period = ? AND summary IS NOT NULL ORDER BY started_at, run_id",
        [period.label],
    )
    return [json.loads(r["summary"]) if isinstance(r["summary"], str) else r["summary"] for r in rows]


def build_report(store: Store, period: Period, *, credit: str | None = None) -> Report:
    status = store_status(store)
    runs = _runs(store, period)
    # Each rule as its latest run left it, and every gap those runs measured (a later run that ran a few
    # rules does not hide what an earlier full run found missing); the rows as the latest run counted them.
    latest: dict[str, dict[str, Any]] = {}
    for run in runs:
        for r in run["rules"]:
            latest[r["id"]] = r | {"params": run.get("params", {}).get(r["id"], {}), "run_id": run["run_id"]}
    kept = {r["run_id"] for r in latest.values()}
    gaps: dict[tuple[str, str | None], dict[str, Any]] = {}
    for run in runs:
        if run["run_id"] in kept:
            gaps.update({(g["code"], g.get("subject")): g for g in run.get("data_gaps", [])})
    last = runs[-1] if runs else {}
    counts = (
        {
            r["rule_id"]: r["n"]
            for r in store.query(
                "SELECT rule_id, count(*) AS n FROM findings WHERE period = ? GROUP BY 1", [period.label]
            )
        }
        if _table_exists(store, "findings")
        else {}
    )
    rules = [
        RuleLine(
            rule_id=rid,
            title_zh=r["title"]["zh"],
            title_en=r["title"]["en"],
            severity=r["severity"],
            rule_version=r["version"],
            status=r["status"],
            reason=r.get("reason"),
            findings=counts.get(rid, 0),
            tonnes_at_risk=r.get("tonnes_at_risk", 0.0),
            tonnes_role=r["tonnes_role"],
            params=r.get("params", {}),
            unjudged_counties=list(r.get("unjudged_counties") or []),
        )
        for rid, r in sorted(latest.items(), key=lambda kv: (-counts.get(kv[0], 0), kv[0]))
    ]
    figures: dict[str, Any] = {"by_severity": {}, "tonnes_at_risk": 0.0, "tonnes_at_risk_by_class": {}}
    figures |= {"worst_facilities": [], "counties": []}
    findings: list[dict[str, Any]] = []
    total = 0
    if runs:
        figures = counted_once(store, period=period.label)
        findings = store.query(
            f"""SELECT finding_id, rule_id, rule_version, severity, title_zh, title_en, entity_kind, entity_id,
                      f.facility_id, r.name AS facility_name, f.county, tonnes_at_risk, tonnes_role, evidence
               FROM findings f
               LEFT JOIN (SELECT facility_id, any_value(name) AS name FROM facilities GROUP BY 1) r
                 ON r.facility_id = f.facility_id
               WHERE period = ?
               ORDER BY {SEVERITY_RANK_SQL} DESC, tonnes_at_risk DESC NULLS LAST, finding_id
               LIMIT 100""",
            [period.label],
        )
        total = sum(counts.values())
    unsourced: list[dict[str, Any]] = []
    if _table_exists(store, "balances"):
        unsourced = store.query(
            """SELECT b.facility_id, fa.name, b.kind, b.county, b.inflow_t, b.outflow_t, b.unsourced_t
               FROM balances b LEFT JOIN facilities fa USING (facility_id)
               WHERE b.period = ? AND b.unsourced_t > 0.5
               ORDER BY b.unsourced_t DESC, b.facility_id LIMIT ?""",
            [period.label, TOP],
        )
    return Report(
        period=period.label,
        db=status.db,
        generated_at=datetime.now().replace(microsecond=0),
        version=__version__,
        audited=bool(runs),
        rows=last.get("rows") or {n: t.rows for n, t in status.tables.items()},
        files=sum(len(t.files) for t in status.tables.values()),
        quarantined=status.quarantine,
        by_severity=figures["by_severity"],
        tonnes_at_risk=figures["tonnes_at_risk"],
        tonnes_at_risk_by_class=figures["tonnes_at_risk_by_class"],
        data_gaps=list(gaps.values()),
        rules=rules,
        config=last.get("config"),
        worst_facilities=figures["worst_facilities"],
        counties=figures["counties"],
        unsourced=tidy(unsourced),
        findings=tidy(findings),
        findings_total=total,
        credit=credit,
        ledger=ledger_state(store.engine, period),
    )
