"""Running rules: coverage first, then each rule in the sandbox, findings stored per period.

A rule query can only read the audit views: `coaltrace.rules.sandbox` checks
what it names and what it binds to, and runs it on a connection that can no
longer reach outside the store, in a transaction that is always rolled back,
under a time limit. Only the engine writes, and only the findings.

Before any rule runs, the audit measures what the period's data covers
(`coaltrace.rules.coverage`): a rule whose inputs are missing does not run
(`no_data`), and a gap that leaves part of the data unjudged is reported once,
with what it left unjudged. The figures are counted once (`coaltrace.rules.summary`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coaltrace.config import DEFAULT_RULE_TIMEOUT_S, AuditConfig
from coaltrace.engine import Workspace
from coaltrace.errors import Location, RuleError, UsageError
from coaltrace.i18n import Text
from coaltrace.numbers import tidy
from coaltrace.period import Period
from coaltrace.rules import coverage
from coaltrace.rules.findings import NAMES, Staging, ensure_tables, group_rows
from coaltrace.rules.load import RuleSet, load_rules
from coaltrace.rules.model import Rule
from coaltrace.rules.sandbox import RuleTimeoutError, check_rule_sql
from coaltrace.rules.sql import RuleSQLError, parse_select, render
from coaltrace.rules.summary import counted_once
from coaltrace.rules.views import READABLE, create_views
from coaltrace.rules.zones import build_zone_tables
from coaltrace.severity import Severity
from coaltrace.store import Store

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa

RAN, NO_DATA, DISABLED = "ran", "no_data", "disabled"


@dataclass(frozen=True)
class RuleRun:
    """What became of one rule in an audit."""

    rule_id: str
    version: int
    title: Text
    severity: Severity
    tonnes_role: str
    status: str  # ran, no_data (a data gap stopped it) or disabled (the config turned it off)
    findings: int = 0
    # The rule's own tonnes, of the kind tonnes_role says: added to the headline only for origin rules.
    tonnes_at_risk: float = 0.0
    seconds: float = 0.0
    reason: str | None = None  # why it did not run: the config's reason, or the data gap
    unjudged_counties: tuple[str, ...] = ()  # counties it did not judge (a county data gap, or the config)

    @classmethod
    def of(cls, rule: Rule, status: str, **outcome: Any) -> RuleRun:
        return cls(
            rule_id=rule.id,
            version=rule.version,
            title=rule.title,
            severity=rule.severity,
            tonnes_role=rule.tonnes.role.value,
            status=status,
            **outcome,
        )

    def as_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["id"] = record.pop("rule_id")
        record["title"] = self.title.as_dict()
        record["severity"] = self.severity.value
        return record


@dataclass
class AuditResult:
    run_id: str
    period: str
    rules: list[RuleRun] = field(default_factory=list)
    findings: int = 0
    # Each tonne at risk once, at its origin; see coaltrace.rules.summary.
    tonnes_at_risk: float = 0.0
    tonnes_at_risk_by_class: dict[str, float] = field(default_factory=dict)
    by_severity: dict[str, int] = field(default_factory=dict)
    data_gaps: list[dict[str, Any]] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # rows per table in the period
    worst_facilities: list[dict[str, Any]] = field(default_factory=list)
    counties: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # every rule's parameters in force
    config: str | None = None  # the config file, if one was read
    seconds: float = 0.0
    prepare_seconds: float = 0.0
    ledger: dict[str, int] = field(default_factory=dict)  # what the audit filed in the ledger (coaltrace.ledger)
    engine: str = "duckdb"  # where the rules ran
    created_at: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))

    def worst_severity(self) -> Severity | None:
        present = [Severity(s) for s, n in self.by_severity.items() if n]
        return max(present, key=lambda s: s.rank) if present else None

    def summary(self) -> dict[str, Any]:
        """The audit as one JSON object (`coaltrace audit --json`, and kept with the run)."""
        record = {k: v for k, v in asdict(self).items() if k != "rules"}
        record["rules"] = [r.as_record() for r in self.rules]
        return tidy(record)

    @classmethod
    def from_summary(cls, record: dict[str, Any]) -> AuditResult:
        """The run `summary()` described (an audit that ran elsewhere, read back)."""
        known = {f.name for f in fields(cls)} - {"rules", "created_at"}
        result = cls(**{k: v for k, v in record.items() if k in known})
        if record.get("created_at"):
            result.created_at = datetime.fromisoformat(str(record["created_at"]))
        for r in record.get("rules", []):
            result.rules.append(
                RuleRun(
                    rule_id=r["id"],
                    version=int(r["version"]),
                    title=Text(**r["title"]),
                    severity=Severity(r["severity"]),
                    tonnes_role=r["tonnes_role"],
                    status=r["status"],
                    findings=int(r.get("findings", 0)),
                    tonnes_at_risk=float(r.get("tonnes_at_risk", 0.0)),
                    seconds=float(r.get("seconds", 0.0)),
                    reason=r.get("reason"),
                    unjudged_counties=tuple(r.get("unjudged_counties", ())),
                )
            )
        return result


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

        # The audit's config decides, an empty [provenance] meaning the defaults.
        ensure_current(store, period, config.provenance if config else None, source=config.source if config else None)
    create_views(store.engine, period)
    build_zone_tables(store.engine)


def run_rule_query(
    store: Workspace,
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
        refused, views_read = check_rule_sql(sql, READABLE)
        if refused:
            raise refused[0]
        parse_select(sql)
    except RuleSQLError as e:
        line = f" (line {e.line} of its query)" if e.line else ""
        raise RuleError(f"rule {rule.id}{line}: {e}", location=where) from None
    try:
        return store.engine.run_rule(store.engine.render(sql), views_read, timeout_s)
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


def choose_rules(
    rule_dirs: Iterable[Path] | None,
    only: Iterable[str] | None,
    params: dict[str, dict[str, Any]] | None,
    config: AuditConfig,
) -> tuple[RuleSet, list[Rule], dict[str, dict[str, Any]]]:
    """The rule set, the rules an audit runs, and every rule's parameter values."""
    ruleset = load_rules(rule_dirs)
    selected = [ruleset.get(r) for r in dict.fromkeys(only)] if only is not None else [r for r in ruleset if r.enabled]
    if not selected:
        raise UsageError("no rule to run", zh="没有可运行的规则", hint="Name at least one rule id with --only.")
    values = resolve_params(ruleset, config.params, params or {})
    for d in config.disable:
        # A misspelt rule id would otherwise turn nothing off, silently.
        ruleset.get(d.rule)
    return ruleset, selected, values


def new_run(
    period: Period, selected: list[Rule], values: dict[str, dict[str, Any]], config: AuditConfig
) -> AuditResult:
    """An audit run, with its id, before anything has run."""
    created_at = datetime.now().replace(microsecond=0)
    run_id = hashlib.sha1(f"{period.label}|{created_at.isoformat()}|{time.time_ns()}".encode()).hexdigest()[:12]
    return AuditResult(
        run_id=run_id,
        period=period.label,
        params={r.id: values[r.id] for r in selected},
        config=config.source,
        created_at=created_at,
    )


def judge(
    store: Workspace,
    p: Period,
    ruleset: RuleSet,
    selected: list[Rule],
    values: dict[str, dict[str, Any]],
    config: AuditConfig,
    result: AuditResult,
) -> pl.DataFrame | None:
    """Coverage, then each selected rule on the prepared views: the findings, and each rule's run in RESULT.

    The same on every engine: what differs is where the views are (`prepare`) and where the
    findings go (the store's findings table, or a Spark audit's output folder).
    """
    import polars as pl

    cov = coverage.measure(store, p, selected)
    result.rows = cov.rows
    result.data_gaps = [g.as_record(p.label) for g in cov.gaps]
    counties = pl.from_arrow(store.engine.arrow("SELECT facility_id, min(county) AS county FROM facilities GROUP BY 1"))
    assert isinstance(counties, pl.DataFrame)
    found: list[pl.DataFrame] = []
    for rule in selected:
        off = config.rule_off(rule.id, p)
        gap = cov.stopped_by(rule.id)
        if off is not None:
            result.rules.append(RuleRun.of(rule, DISABLED, reason=off.reason or "config"))
            continue
        if gap is not None:
            result.rules.append(
                RuleRun.of(rule, NO_DATA, reason=f"{gap.code}:{gap.subject}" if gap.subject else gap.code)
            )
            continue
        t0 = time.perf_counter()
        rows = run_rule_query(
            store, rule, values[rule.id], source=ruleset.files.get(rule.id), timeout_s=config.rule_timeout_s
        )
        unjudged = sorted(
            {d.county for d in config.counties_off(rule.id, p) if d.county} | set(cov.counties_unjudged(rule.id))
        )
        staging = Staging(
            period=p,
            values=values[rule.id],
            config=config.record(rule.id, p) | {"unjudged_counties": unjudged},
            counties_off=unjudged,
            run_id=result.run_id,
            created_at=result.created_at,
        )
        frame = group_rows(rule, rows, counties, staging)
        found.append(frame)
        tonnes = float(frame["tonnes_at_risk"].fill_null(0).sum())
        result.rules.append(
            RuleRun.of(
                rule,
                RAN,
                findings=frame.height,
                tonnes_at_risk=tonnes,
                seconds=time.perf_counter() - t0,
                unjudged_counties=tuple(unjudged),
            )
        )
    result.findings = sum(r.findings for r in result.rules)
    return pl.concat(found, how="vertical") if found else None


def take_figures(store: Workspace, result: AuditResult) -> None:
    """The run's figures, each tonne counted once, from the findings the engine holds for it."""
    figures = counted_once(store, run_id=result.run_id)
    result.tonnes_at_risk = figures["tonnes_at_risk"]
    result.tonnes_at_risk_by_class = figures["tonnes_at_risk_by_class"]
    result.by_severity = figures["by_severity"]
    result.worst_facilities = figures["worst_facilities"]
    result.counties = figures["counties"]


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
    p = period if isinstance(period, Period) else Period.parse(period)
    config = config or AuditConfig()
    ruleset, selected, values = choose_rules(rule_dirs, only, params, config)
    result = new_run(p, selected, values, config)
    prepare(store, p, config)
    result.prepare_seconds = time.perf_counter() - started
    ensure_tables(store)
    new = judge(store, p, ruleset, selected, values, config, result)
    checks = {r.id: tuple(r.checks.check) for r in selected}
    with store.transaction():
        record_run(store, result, new, values=values, config=config, checks=checks, started=started)
    return result


def record_run(
    store: Store,
    result: AuditResult,
    new: pl.DataFrame | None,
    *,
    values: dict[str, dict[str, Any]],
    config: AuditConfig,
    checks: dict[str, tuple[int, ...]],
    started: float | None = None,
) -> None:
    """Store an audit run, inside the caller's transaction: its findings (replacing the period's
    findings of the rules it ran), its row in audit_runs, its figures counted once, and what it
    filed in the ledger. STARTED (a perf_counter reading) times it; None keeps RESULT's seconds."""
    engine = store.engine
    rule_ids = [r.rule_id for r in result.rules]
    engine.execute(
        "DELETE FROM findings WHERE period = ? AND rule_id IN (SELECT UNNEST(?::VARCHAR[]))",
        [result.period, rule_ids],
    )
    engine.execute("DELETE FROM audit_runs WHERE run_id = ?", [result.run_id])
    if new is not None and new.height:
        with engine.registered("_new_findings", new.to_arrow()):
            engine.execute(f"INSERT INTO findings ({', '.join(NAMES)}) SELECT {', '.join(NAMES)} FROM _new_findings")
    engine.execute(
        "INSERT INTO audit_runs (run_id, period, started_at, seconds, rules, config, findings) "
        "VALUES (?, ?, ?, ?, ?::JSON, ?::JSON, ?)",
        [
            result.run_id,
            result.period,
            result.created_at,
            0.0,
            json.dumps(rule_ids),
            json.dumps({"source": config.source, "params": values}, ensure_ascii=False, default=str),
            result.findings,
        ],
    )
    take_figures(store, result)
    if config.ledger.sync:
        from coaltrace.ledger.sync import file_audit

        result.ledger = file_audit(engine, run_id=result.run_id, rule_checks=checks, settings=config.ledger).as_record()
    if started is not None:
        result.seconds = time.perf_counter() - started
    engine.execute(
        "UPDATE audit_runs SET seconds = ?, summary = ?::JSON WHERE run_id = ?",
        [result.seconds, json.dumps(result.summary(), ensure_ascii=False, default=str), result.run_id],
    )
