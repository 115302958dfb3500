"""What the audit report says, gathered from the store as data (rendering is elsewhere).

The figures are the audit's own: each tonne at risk counted once at its origin
(`coaltrace.rules.summary`), the data gaps it measured before judging, and every
rule with what became of it (ran, no data, disabled), as each rule's latest
audit run of the period left it. Beside them: where the period's coal went
(origin class, the kind of facility that delivered it, the end buyer), the
facilities and flagged flows on a map, the flows that carried coal at risk,
the previous audited period for comparison, and the ledger as it stands.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from coaltrace import __version__
from coaltrace.errors import UsageError
from coaltrace.ledger.queries import ledger_state
from coaltrace.numbers import tidy
from coaltrace.period import Period
from coaltrace.rules.findings import SEVERITY_RANK_SQL
from coaltrace.rules.notes import rule_notes
from coaltrace.rules.summary import ORIGINS_SQL, counted_once
from coaltrace.severity import Severity
from coaltrace.store import Store
from coaltrace.store.status import store_status

TOP = 20
# Findings listed in full (with their evidence); a period with more says how many are left out.
FINDINGS_LISTED = 2000
# Evidence references shown beside a finding on the page; the workbook has every row.
REFS_SHOWN = 5
# Flows at risk in the workbook: the heaviest first.
FLOWS_LISTED = 5000
# Origin classes of coal with no licensed source (the rest: licensed, opening stock, data gap).
AT_RISK_CLASSES = ("unlicensed", "over_capacity", "unsourced")
ORIGIN_ORDER = ("licensed", "over_capacity", "unlicensed", "unsourced", "opening_stock", "data_gap")


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
    checks: list[int] = []
    false_positives: list[dict[str, str]] = []  # {zh, en}, from the rule file


class Previous(BaseModel):
    """The audited period before this one, for the change in the headline figures."""

    period: str
    findings: int
    tonnes_at_risk: float
    by_severity: dict[str, int]


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
    tonnes_traced: float  # coal that reached an end buyer, every tonne traced to an origin class
    traced_by_class: dict[str, float]
    licensed_share: float | None  # licensed part of the traced coal whose origin was judged
    previous: Previous | None
    data_gaps: list[dict[str, Any]]
    rules: list[RuleLine]
    config: str | None  # the config file the latest audit read
    worst_facilities: list[dict[str, Any]]
    most_findings: list[dict[str, Any]]  # facilities by worst severity, then by how many findings, then tonnes
    counties: list[dict[str, Any]]
    unsourced: list[dict[str, Any]]  # facilities that shipped more than they had, largest first
    flow: list[dict[str, Any]]  # origin_class, via_kind, to_kind, tonnes
    places: list[dict[str, Any]]  # registered facilities with coordinates, and their worst finding
    flagged_flows: list[dict[str, Any]]  # flows a finding is about, with both ends' coordinates
    flows_at_risk: list[dict[str, Any]]  # flows whose seller's coal is partly of no licensed source
    findings: list[dict[str, Any]]  # worst first, each with its evidence (parsed) and facility
    findings_total: int
    credit: str | None = None
    # The problem ledger for the period (coaltrace.ledger.queries.ledger_state); None without a ledger.
    ledger: dict[str, Any] | None = None

    def by_county(self) -> list[tuple[str | None, list[dict[str, Any]]]]:
        """The listed findings by county: the county with the worst, then the most, findings first."""
        groups: dict[str | None, list[dict[str, Any]]] = {}
        for f in self.findings:
            groups.setdefault(f.get("county"), []).append(f)
        return sorted(
            groups.items(),
            key=lambda kv: (
                -max(Severity.rank_of(f["severity"]) for f in kv[1]),
                -len(kv[1]),
                kv[0] is None,
                kv[0] or "",
            ),
        )

    def rule(self, rule_id: str) -> RuleLine | None:
        return next((r for r in self.rules if r.rule_id == rule_id), None)


def _table_exists(store: Store, name: str) -> bool:
    return bool(store.query("SELECT 1 FROM information_schema.tables WHERE table_name = ?", [name]))


def _runs(store: Store, period: str) -> list[dict[str, Any]]:
    """The period's audit summaries, oldest first."""
    if not _table_exists(store, "audit_runs"):
        return []
    rows = store.query(
        "SELECT summary FROM audit_runs WHERE period = ? AND summary IS NOT NULL ORDER BY started_at, run_id",
        [period],
    )
    return [json.loads(r["summary"]) if isinstance(r["summary"], str) else r["summary"] for r in rows]


def _previous(store: Store, period: Period) -> Previous | None:
    """The latest audited period that ended before this one began, of the same length when there is one."""
    if not _table_exists(store, "audit_runs"):
        return None
    earlier = []
    for (label,) in store.engine.rows("SELECT DISTINCT period FROM audit_runs WHERE summary IS NOT NULL"):
        try:
            p = Period.parse(label)
        except UsageError:
            continue
        if p.end <= period.start:
            earlier.append(p)
    if not earlier:
        return None
    same = [p for p in earlier if len(p.months) == len(period.months)]
    chosen = max(same or earlier, key=lambda p: (p.end, p.start))
    figures = counted_once(store, period=chosen.label)
    return Previous(
        period=chosen.label,
        findings=int(store.engine.scalar("SELECT count(*) FROM findings WHERE period = ?", [chosen.label]) or 0),
        tonnes_at_risk=figures["tonnes_at_risk"],
        by_severity=figures["by_severity"],
    )


def _most_findings(store: Store, period: str) -> list[dict[str, Any]]:
    """The facilities with the most serious findings and, among equals, the most of them: the ones to visit."""
    # Its tonnes at origin as the audit's total counts them: once, however many rules found that coal.
    origins = ORIGINS_SQL.replace("{scope}", "period = $p")
    rows = store.engine.query(
        f"""WITH here AS (SELECT facility_id, sum(tonnes) AS at_risk FROM ({origins}) GROUP BY 1)
            SELECT f.facility_id, r.name, r.kind, COALESCE(min(f.county), any_value(r.county)) AS county,
                   count(*) AS findings, max({SEVERITY_RANK_SQL}) AS worst_rank,
                   any_value(here.at_risk) AS tonnes_at_origin
            FROM findings f
            LEFT JOIN (SELECT facility_id, any_value(name) AS name, any_value(kind) AS kind,
                              any_value(county) AS county FROM facilities GROUP BY 1) r USING (facility_id)
            LEFT JOIN here USING (facility_id)
            WHERE f.period = $p AND f.facility_id IS NOT NULL
            GROUP BY f.facility_id, r.name, r.kind
            ORDER BY worst_rank DESC, findings DESC, tonnes_at_origin DESC NULLS LAST, f.facility_id
            LIMIT {TOP}""",
        {"p": period},
    )
    for r in rows:
        r["worst_severity"] = (Severity.of_rank(int(r.pop("worst_rank") or 0)) or Severity.low).value
    return rows


def _flow(store: Store, period: str) -> list[dict[str, Any]]:
    """Coal that reached an end buyer (a facility that sold none on), by its origin class, the kind of
    facility that delivered it and the buyer's kind: each flow split by its seller's origin shares."""
    return store.engine.query(
        """WITH ends AS (SELECT facility_id, COALESCE(kind, 'other') AS kind FROM balances
                         WHERE period = $p AND outflow_t = 0 AND inflow_t > 0),
           shares AS (SELECT facility_id, origin_class, share FROM origin_shares
                      WHERE period = $p AND policy = 'proportional')
           SELECT COALESCE(os.origin_class, 'data_gap') AS origin_class, COALESCE(s.kind, 'other') AS via_kind,
                  e.kind AS to_kind, sum(f.tonnes * COALESCE(os.share, 1)) AS tonnes
           FROM flows f
           JOIN ends e ON e.facility_id = f.buyer_id
           LEFT JOIN balances s ON s.period = f.period AND s.facility_id = f.seller_id
           LEFT JOIN shares os ON os.facility_id = f.seller_id
           WHERE f.period = $p AND f.seller_id <> f.buyer_id
           GROUP BY ALL HAVING sum(f.tonnes * COALESCE(os.share, 1)) > 0.0005
           ORDER BY via_kind, to_kind, origin_class""",
        {"p": period},
    )


def _places(store: Store, period: str, audited: bool) -> list[dict[str, Any]]:
    worst = (
        f"""LEFT JOIN (SELECT facility_id, max({SEVERITY_RANK_SQL}) AS worst_rank, count(*) AS findings
                       FROM findings WHERE period = $p AND facility_id IS NOT NULL GROUP BY 1) w USING (facility_id)"""
        if audited
        else "LEFT JOIN (SELECT NULL AS facility_id, NULL AS worst_rank, 0 AS findings) w USING (facility_id)"
    )
    rows = store.engine.query(
        f"""SELECT r.facility_id, r.name, r.kind, r.county, r.lat, r.lon, w.worst_rank,
                   COALESCE(w.findings, 0) AS findings
            FROM (SELECT facility_id, any_value(name) AS name, any_value(kind) AS kind,
                         any_value(county) AS county, any_value(lat) AS lat, any_value(lon) AS lon
                  FROM facilities GROUP BY 1) r
            {worst}
            WHERE r.lat IS NOT NULL AND r.lon IS NOT NULL
            ORDER BY r.facility_id""",
        {"p": period} if audited else None,
    )
    for r in rows:
        rank = r.pop("worst_rank")
        s = Severity.of_rank(int(rank)) if rank else None
        r["worst_severity"] = s.value if s else None
    return rows


def _flagged_flows(store: Store, period: str) -> list[dict[str, Any]]:
    """Flows a finding is about (entity ids `seller>buyer`), with both ends where the register places them."""
    return store.engine.query(
        f"""WITH ff AS (
               SELECT split_part(entity_id, '>', 1) AS seller_id, split_part(entity_id, '>', 2) AS buyer_id,
                      max({SEVERITY_RANK_SQL}) AS worst_rank, count(*) AS findings
               FROM findings WHERE period = $p AND entity_kind = 'flow' AND contains(entity_id, '>') GROUP BY 1, 2),
           reg AS (SELECT facility_id, any_value(lat) AS lat, any_value(lon) AS lon FROM facilities GROUP BY 1),
           t AS (SELECT seller_id, buyer_id, sum(tonnes) AS tonnes FROM flows WHERE period = $p GROUP BY 1, 2)
           SELECT ff.seller_id, ff.buyer_id, s.lat AS seller_lat, s.lon AS seller_lon,
                  b.lat AS buyer_lat, b.lon AS buyer_lon, COALESCE(t.tonnes, 0) AS tonnes, ff.worst_rank, ff.findings
           FROM ff JOIN reg s ON s.facility_id = ff.seller_id JOIN reg b ON b.facility_id = ff.buyer_id
           LEFT JOIN t USING (seller_id, buyer_id)
           WHERE s.lat IS NOT NULL AND b.lat IS NOT NULL
           ORDER BY ff.seller_id, ff.buyer_id""",
        {"p": period},
    )


def _flows_at_risk(store: Store, period: str, audited: bool) -> list[dict[str, Any]]:
    """Every flow whose seller's coal is partly of no licensed source: the tonnes it carried on (already
    counted where they entered the chain), heaviest first, and whether a finding is about it."""
    classes = ", ".join(f"'{c}'" for c in AT_RISK_CLASSES)
    flagged = (
        "LEFT JOIN (SELECT DISTINCT entity_id FROM findings WHERE period = $p AND entity_kind = 'flow') ff "
        "ON ff.entity_id = f.seller_id || '>' || f.buyer_id"
        if audited
        else "LEFT JOIN (SELECT NULL AS entity_id) ff ON false"
    )
    return store.engine.query(
        f"""WITH risk AS (SELECT facility_id, sum(share) AS share FROM origin_shares
                          WHERE period = $p AND policy = 'proportional' AND origin_class IN ({classes})
                          GROUP BY 1 HAVING sum(share) > 0),
           reg AS (SELECT facility_id, any_value(name) AS name, any_value(kind) AS kind,
                          any_value(county) AS county FROM facilities GROUP BY 1),
           f AS (SELECT seller_id, buyer_id, sum(tonnes) AS tonnes, sum(trips) AS trips
                 FROM flows WHERE period = $p AND seller_id <> buyer_id GROUP BY 1, 2)
           SELECT f.seller_id, s.name AS seller_name, s.kind AS seller_kind, s.county AS seller_county,
                  f.buyer_id, b.name AS buyer_name, b.kind AS buyer_kind, f.tonnes, f.trips,
                  risk.share AS at_risk_share, f.tonnes * risk.share AS carried_at_risk_t,
                  ff.entity_id IS NOT NULL AS flagged
           FROM f JOIN risk ON risk.facility_id = f.seller_id
           LEFT JOIN reg s ON s.facility_id = f.seller_id LEFT JOIN reg b ON b.facility_id = f.buyer_id
           {flagged}
           WHERE f.tonnes * risk.share >= 0.001
           ORDER BY carried_at_risk_t DESC, f.seller_id, f.buyer_id
           LIMIT {FLOWS_LISTED}""",
        {"p": period},
    )


def _evidence(value: Any) -> dict[str, Any]:
    ev = json.loads(value) if isinstance(value, str) else (value or {})
    return ev if isinstance(ev, dict) else {"rows": []}


def build_report(
    store: Store, period: Period, *, credit: str | None = None, rule_dirs: Iterable[Path] | None = None
) -> Report:
    status = store_status(store)
    runs = _runs(store, period.label)
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
    audited = bool(runs) and _table_exists(store, "findings")
    counts = (
        {
            r["rule_id"]: r["n"]
            for r in store.query(
                "SELECT rule_id, count(*) AS n FROM findings WHERE period = ? GROUP BY 1", [period.label]
            )
        }
        if audited
        else {}
    )
    notes = rule_notes(rule_dirs)
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
            checks=notes.get(rid, ([], []))[0],
            false_positives=notes.get(rid, ([], []))[1],
        )
        for rid, r in sorted(
            latest.items(), key=lambda kv: (-Severity.rank_of(kv[1]["severity"]), -counts.get(kv[0], 0), kv[0])
        )
    ]
    figures: dict[str, Any] = {"by_severity": {}, "tonnes_at_risk": 0.0, "tonnes_at_risk_by_class": {}}
    figures |= {"worst_facilities": [], "counties": []}
    findings: list[dict[str, Any]] = []
    if audited:
        figures = counted_once(store, period=period.label)
        findings = store.query(
            f"""SELECT finding_id, rule_id, rule_version, severity, title_zh, title_en, entity_kind, entity_id,
                      f.facility_id, r.name AS facility_name, r.kind AS facility_kind,
                      COALESCE(f.county, r.county) AS county, period, tonnes_at_risk, tonnes_role, origin_class,
                      evidence
               FROM findings f
               LEFT JOIN (SELECT facility_id, any_value(name) AS name, any_value(kind) AS kind,
                                 any_value(county) AS county FROM facilities GROUP BY 1) r
                 ON r.facility_id = f.facility_id
               WHERE period = ?
               ORDER BY {SEVERITY_RANK_SQL} DESC, tonnes_at_risk DESC NULLS LAST, finding_id
               LIMIT {FINDINGS_LISTED}""",
            [period.label],
        )
        for f in findings:
            f["evidence"] = _evidence(f["evidence"])
    has_provenance = _table_exists(store, "balances") and _table_exists(store, "origin_shares")
    unsourced: list[dict[str, Any]] = []
    flow: list[dict[str, Any]] = []
    flows_at_risk: list[dict[str, Any]] = []
    if has_provenance:
        unsourced = store.query(
            """SELECT b.facility_id, fa.name, b.kind, b.county, b.inflow_t, b.outflow_t, b.unsourced_t
               FROM balances b
               LEFT JOIN (SELECT facility_id, any_value(name) AS name FROM facilities GROUP BY 1) fa USING (facility_id)
               WHERE b.period = ? AND b.unsourced_t > 0.5
               ORDER BY b.unsourced_t DESC, b.facility_id LIMIT ?""",
            [period.label, TOP],
        )
        flow = _flow(store, period.label)
        flows_at_risk = _flows_at_risk(store, period.label, audited)
    traced_by_class = dict.fromkeys(ORIGIN_ORDER, 0.0)
    for link in flow:
        traced_by_class[link["origin_class"]] = traced_by_class.get(link["origin_class"], 0.0) + link["tonnes"]
    judged = sum(t for c, t in traced_by_class.items() if c not in ("opening_stock", "data_gap"))
    return Report(
        period=period.label,
        db=status.db,
        generated_at=datetime.now().replace(microsecond=0),
        version=__version__,
        audited=audited,
        rows=last.get("rows") or {n: t.rows for n, t in status.tables.items()},
        files=sum(len(t.files) for t in status.tables.values()),
        quarantined=status.quarantine,
        by_severity=figures["by_severity"],
        tonnes_at_risk=figures["tonnes_at_risk"],
        tonnes_at_risk_by_class=figures["tonnes_at_risk_by_class"],
        tonnes_traced=tidy(sum(traced_by_class.values()), "tonnes"),
        traced_by_class=tidy(traced_by_class),
        licensed_share=tidy(traced_by_class["licensed"] / judged, "share") if judged > 0 else None,
        previous=_previous(store, period) if audited else None,
        data_gaps=list(gaps.values()),
        rules=rules,
        config=last.get("config"),
        worst_facilities=figures["worst_facilities"],
        most_findings=tidy(_most_findings(store, period.label)) if audited else [],
        counties=figures["counties"],
        unsourced=tidy(unsourced),
        flow=tidy(flow),
        places=tidy(_places(store, period.label, audited)),
        flagged_flows=tidy(_flagged_flows(store, period.label)) if audited else [],
        flows_at_risk=tidy(flows_at_risk),
        findings=tidy(findings),
        findings_total=sum(counts.values()),
        credit=credit,
        ledger=ledger_state(store.engine, period),
    )
