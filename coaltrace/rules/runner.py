"""Running rules: views for the period, each rule in the sandbox, findings stored per period.

A rule query can only read the audit views: `coaltrace.rules.sandbox` checks
what it names and what it binds to, and runs it on a connection that can no
longer reach outside the store, in a transaction that is always rolled back,
under a time limit. Only the engine writes, and only the findings.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coaltrace.errors import Location, RuleError, UsageError
from coaltrace.period import Period
from coaltrace.rules.config import DEFAULT_RULE_TIMEOUT_S, AuditConfig
from coaltrace.rules.findings import SEVERITY_RANK_SQL, ensure_tables, finding_id_sql
from coaltrace.rules.load import RuleSet, load_rules
from coaltrace.rules.model import Rule, Severity
from coaltrace.rules.sandbox import RuleTimeoutError, check_rule_sql, run_sandboxed
from coaltrace.rules.sql import RuleSQLError, parse_select, render
from coaltrace.rules.views import VIEWS, create_views
from coaltrace.rules.zones import build_zone_tables
from coaltrace.store import Store

if TYPE_CHECKING:
    import pyarrow as pa

# Enough rows for an inspector to see the pattern; the rest are counted.
EVIDENCE_ROWS = 50
LINEAGE = ("_table", "_file", "_sheet", "_line")


@dataclass(frozen=True)
class RuleRun:
    rule_id: str
    title: tuple[str, str]
    severity: Severity
    findings: int = 0
    tonnes_at_risk: float = 0.0
    seconds: float = 0.0
    # Why the rule did not run (config entry), or None.
    skipped: str | None = None


@dataclass
class AuditResult:
    run_id: str
    period: str
    rules: list[RuleRun] = field(default_factory=list)
    by_severity: dict[str, int] = field(default_factory=dict)
    worst_facilities: list[dict[str, Any]] = field(default_factory=list)
    findings: int = 0
    tonnes_at_risk: float = 0.0
    seconds: float = 0.0
    prepare_seconds: float = 0.0

    def worst_severity(self) -> Severity | None:
        present = [Severity(s) for s, n in self.by_severity.items() if n]
        return max(present, key=lambda s: s.rank) if present else None


def parse_param_overrides(items: Iterable[str]) -> dict[str, dict[str, str]]:
    """`RULE.NAME=VALUE` strings from the command line, by rule."""
    out: dict[str, dict[str, str]] = {}
    for item in items:
        key, eq, value = item.partition("=")
        rule_id, dot, name = key.strip().partition(".")
        if not eq or not dot or not rule_id or not name:
            raise UsageError(
                f"--param {item!r}: write RULE.NAME=VALUE, e.g. trip_too_fast.max_kmh=90",
                zh=f"--param {item!r}：请写成 规则.参数=值，如 trip_too_fast.max_kmh=90",
            )
        out.setdefault(rule_id, {})[name] = value
    return out


def resolve_params(ruleset: RuleSet, *layers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each rule's parameter values: defaults, then each layer in turn (config, then command line)."""
    for layer in layers:
        for rule_id in layer:
            ruleset.get(rule_id)
    values: dict[str, dict[str, Any]] = {}
    for rule in ruleset:
        merged: dict[str, Any] = {}
        for layer in layers:
            merged.update(layer.get(rule.id, {}))
        try:
            values[rule.id] = rule.param_values(merged)
        except (KeyError, ValueError) as e:
            raise UsageError(f"rule {rule.id}: {e.args[0] if e.args else e}") from None
    return values


def prepare(store: Store, period: Period, config: AuditConfig | None = None, *, provenance: bool = True) -> None:
    """Provenance if not current, then the period's views and zone hits on this connection."""
    if provenance:
        from coaltrace.provenance import ensure_current

        ensure_current(store, period, config=(config.provenance or None) if config else None)
    create_views(store.con, period)
    build_zone_tables(store.con)


def run_rule_query(
    store: Store,
    rule: Rule,
    values: dict[str, Any],
    *,
    source: Path | None = None,
    timeout_s: float = DEFAULT_RULE_TIMEOUT_S,
) -> pa.Table:
    """The rule's rows, read in the sandbox (`coaltrace.rules.sandbox`): checked, bound, locked, timed."""
    where = Location(file=str(source) if source else rule.id)
    try:
        # Checked again with the values it runs with: a --param value is the user's text.
        sql = render(rule.query, values)
        refused, views_read = check_rule_sql(sql, VIEWS)
        if refused:
            raise refused[0]
        parse_select(sql)
    except RuleSQLError as e:
        line = f" (line {e.line} of its query)" if e.line else ""
        raise RuleError(f"rule {rule.id}{line}: {e}", location=where) from None
    try:
        return run_sandboxed(store.con, sql, views_read, timeout_s)
    except RuleTimeoutError as e:
        raise RuleError(
            f"rule {rule.id} {e}",
            zh=f"规则 {rule.id} 运行超过时限 {timeout_s:g} 秒，已中止",
            location=where,
            hint="Give it more time (audit --rule-timeout SECONDS, or timeout_s under [rules] in coaltrace.toml), "
            "or make its query cheaper; `coaltrace rules test` runs its cases.",
            hint_zh="可放宽时限（audit --rule-timeout 秒数，或 coaltrace.toml 的 [rules] timeout_s），或简化该规则的查询。",
        ) from None
    except RuleSQLError as e:
        raise RuleError(
            f"rule {rule.id} failed: {e}",
            location=where,
            hint="Run `coaltrace rules test` on the rule; check the view and column names in docs/rules.md.",
        ) from None


def _stage_findings(
    store: Store,
    rule: Rule,
    rows: pa.Table,
    *,
    period: Period,
    values: dict[str, Any],
    config: dict[str, Any],
    counties_off: list[str],
    run_id: str,
    created_at: datetime,
) -> tuple[int, float]:
    """Group the rule's rows by entity into findings in `_new_findings`; returns (count, tonnes)."""
    names = set(rows.column_names)
    if "entity_id" not in names:
        raise RuleError(f"rule {rule.id}: the query returned no entity_id column")
    evidence_cols = [c for c in LINEAGE if c in names] + [c for c in rule.evidence if c not in LINEAGE]
    struct = "struct_pack(" + ", ".join(f'"{c}" := r."{c}"' for c in evidence_cols) + ")"
    tonnes = "max(r.tonnes_at_risk)" if "tonnes_at_risk" in names else "CAST(NULL AS DOUBLE)"
    facility = "min(r.facility_id)" if "facility_id" in names else "CAST(NULL AS VARCHAR)"
    county = "min(r.county)" if "county" in names else "CAST(NULL AS VARCHAR)"
    severity = (
        "max(CASE r.severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 END)"
        if "severity" in names
        else "CAST(NULL AS INTEGER)"
    )
    con = store.con
    con.register("_rule_rows", rows)
    try:
        con.execute(
            f"""
            INSERT INTO _new_findings
            WITH g AS (
                SELECT CAST(r.entity_id AS VARCHAR) AS entity_id, {facility} AS facility_id,
                       {county} AS county, {tonnes} AS tonnes_at_risk, {severity} AS sev_rank,
                       list({struct} ORDER BY {struct}) AS ev, count(*) AS n
                FROM _rule_rows r WHERE r.entity_id IS NOT NULL GROUP BY 1
            )
            SELECT {finding_id_sql(rule.id, rule.entity.value, "g.entity_id", period.label)},
                   ?, ?, COALESCE(CASE g.sev_rank WHEN 4 THEN 'critical' WHEN 3 THEN 'high'
                                  WHEN 2 THEN 'medium' WHEN 1 THEN 'low' END, ?),
                   ?, g.entity_id, g.facility_id, COALESCE(g.county, f.county), ?,
                   g.tonnes_at_risk,
                   to_json(struct_pack(rows := g.ev[1:{EVIDENCE_ROWS}], total_rows := g.n)),
                   ?::JSON, ?::JSON, ?, ?, ?, ?
            FROM g LEFT JOIN (SELECT facility_id, min(county) AS county FROM facilities GROUP BY 1) f
              ON f.facility_id = g.facility_id
            WHERE COALESCE(g.county, f.county, '') NOT IN (SELECT UNNEST(?::VARCHAR[]))
            """,
            [
                rule.id,
                rule.version,
                rule.severity.value,
                rule.entity.value,
                period.label,
                json.dumps(values, ensure_ascii=False, default=str),
                json.dumps(config, ensure_ascii=False, default=str),
                rule.title.zh,
                rule.title.en,
                created_at,
                run_id,
                counties_off,
            ],
        )
    finally:
        con.unregister("_rule_rows")
    row = con.execute(
        "SELECT count(*), COALESCE(sum(tonnes_at_risk), 0) FROM _new_findings WHERE rule_id = ?", [rule.id]
    ).fetchone()
    assert row is not None
    return int(row[0]), float(row[1])


def run_audit(
    store: Store,
    period: Period | str,
    *,
    rule_dirs: Iterable[Path] | None = None,
    only: Iterable[str] | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    config: AuditConfig | None = None,
) -> AuditResult:
    """Run the enabled rules for PERIOD and replace that period's findings of those rules."""
    started = time.perf_counter()
    created_at = datetime.now().replace(microsecond=0)
    p = period if isinstance(period, Period) else Period.parse(period)
    config = config or AuditConfig()
    ruleset = load_rules(rule_dirs)
    selected = [ruleset.get(r) for r in dict.fromkeys(only)] if only else [r for r in ruleset if r.enabled]
    values = resolve_params(ruleset, config.params, params or {})
    for d in config.disables:
        # A misspelt rule id would otherwise turn nothing off, silently.
        ruleset.get(d.rule)
    run_id = hashlib.sha1(f"{p.label}|{created_at.isoformat()}|{time.time_ns()}".encode()).hexdigest()[:12]
    result = AuditResult(run_id=run_id, period=p.label)

    prepare(store, p, config)
    result.prepare_seconds = time.perf_counter() - started
    ensure_tables(store)
    store.con.execute("CREATE OR REPLACE TEMP TABLE _new_findings AS SELECT * FROM findings LIMIT 0")
    for rule in selected:
        title = (rule.title.zh, rule.title.en)
        off = config.rule_off(rule.id, p)
        if off is not None:
            result.rules.append(RuleRun(rule.id, title, rule.severity, skipped=off.reason or "config"))
            continue
        t0 = time.perf_counter()
        rows = run_rule_query(
            store, rule, values[rule.id], source=ruleset.files.get(rule.id), timeout_s=config.rule_timeout_s
        )
        counties_off = [d.county for d in config.counties_off(rule.id, p) if d.county]
        n, tonnes = _stage_findings(
            store,
            rule,
            rows,
            period=p,
            values=values[rule.id],
            config=config.record(rule.id, p),
            counties_off=counties_off,
            run_id=run_id,
            created_at=created_at,
        )
        result.rules.append(RuleRun(rule.id, title, rule.severity, n, tonnes, time.perf_counter() - t0))

    with store.transaction() as con:
        con.execute(
            "DELETE FROM findings WHERE period = ? AND rule_id IN (SELECT UNNEST(?::VARCHAR[]))",
            [p.label, [r.id for r in selected]],
        )
        con.execute("INSERT INTO findings SELECT * FROM _new_findings")
        con.execute("DROP TABLE _new_findings")
        result.seconds = time.perf_counter() - started
        result.findings = sum(r.findings for r in result.rules)
        con.execute(
            "INSERT INTO audit_runs VALUES (?, ?, ?, ?, ?::JSON, ?::JSON, ?)",
            [
                run_id,
                p.label,
                created_at,
                result.seconds,
                json.dumps([r.id for r in selected]),
                json.dumps({"source": config.source, "params": values}, ensure_ascii=False, default=str),
                result.findings,
            ],
        )
    _summarise(store, result)
    return result


def _summarise(store: Store, result: AuditResult) -> None:
    rows = store.query("SELECT severity, count(*) AS n FROM findings WHERE run_id = ? GROUP BY 1", [result.run_id])
    result.by_severity = {s.value: 0 for s in Severity} | {r["severity"]: int(r["n"]) for r in rows}
    result.tonnes_at_risk = sum(r.tonnes_at_risk for r in result.rules)
    result.worst_facilities = store.query(
        f"""
        SELECT facility_id, min(county) AS county, count(*) AS findings,
               max({SEVERITY_RANK_SQL}) AS worst_rank,
               COALESCE(sum(tonnes_at_risk), 0) AS tonnes_at_risk
        FROM findings WHERE run_id = ? AND facility_id IS NOT NULL
        GROUP BY facility_id
        ORDER BY worst_rank DESC, tonnes_at_risk DESC, findings DESC, facility_id
        LIMIT 10
        """,
        [result.run_id],
    )
    ranks = {s.rank: s.value for s in Severity}
    for f in result.worst_facilities:
        f["worst_severity"] = ranks.get(int(f.pop("worst_rank")), "low")
