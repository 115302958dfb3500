"""A rule's own regression cases: small tables in, the entity ids that must and must not be found.

Each case gets a fresh in-memory store, so cases cannot leak into each other;
provenance is computed from the case's tables when the rule reads it, exactly
as `audit` would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from coaltrace.config import DEFAULT_RULE_TIMEOUT_S
from coaltrace.contract import TABLES
from coaltrace.errors import CoaltraceError
from coaltrace.period import Period
from coaltrace.rules import coverage
from coaltrace.rules.load import RuleSet
from coaltrace.rules.model import Rule, RuleCase
from coaltrace.rules.runner import prepare, run_rule_query
from coaltrace.rules.sql import parse_select, render, tables_read
from coaltrace.rules.views import NEEDS_PROVENANCE
from coaltrace.severity import Severity
from coaltrace.store import Store

if TYPE_CHECKING:
    import pyarrow as pa

CASE_FILE = "case"


@dataclass(frozen=True)
class CaseResult:
    rule_id: str
    case: str
    found: tuple[str, ...]
    missed: tuple[str, ...] = ()
    false_alarms: tuple[str, ...] = ()
    wrong_severity: tuple[str, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return not (self.missed or self.false_alarms or self.wrong_severity or self.error)


@dataclass
class RuleTestReport:
    rule_id: str
    cases: list[CaseResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.cases)


def needs_provenance(rule: Rule) -> bool:
    tree = parse_select(render(rule.query, rule.param_values()))
    return bool(tables_read(tree) & NEEDS_PROVENANCE)


def insert_rows(store: Store, tables: dict[str, list[dict[str, object]]]) -> None:
    """Case rows into the contract tables; lineage says `case` and the row's line (header = 1)."""
    for name, rows in tables.items():
        table = TABLES[name]
        cols = [*table.names, "_load_id", "_file", "_sheet", "_line"]
        marks = ", ".join("?" for _ in cols)
        store.engine.executemany(
            f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({marks})",
            [[row.get(c) for c in table.names] + ["case", CASE_FILE, None, i + 2] for i, row in enumerate(rows)],
        )


def run_case(
    rule: Rule, case: RuleCase, *, source: Path | None = None, timeout_s: float = DEFAULT_RULE_TIMEOUT_S
) -> CaseResult:
    """One case in a store of its own, the rule run in the same sandbox as in an audit."""
    try:
        with Store(":memory:") as store:
            insert_rows(store, case.tables)
            period = Period.parse(case.period)
            prepare(store, period, provenance=needs_provenance(rule))
            # As in an audit: a rule whose data is missing judges nothing.
            if coverage.measure(store, period, [rule]).stopped_by(rule.id):
                return judged(rule, case, None)
            rows = run_rule_query(store, rule, rule.param_values(case.params), source=source, timeout_s=timeout_s)
    except CoaltraceError as e:
        return CaseResult(rule.id, case.name, (), error=str(e))
    return judged(rule, case, rows)


def judged(rule: Rule, case: RuleCase, rows: pa.Table | None) -> CaseResult:
    """The case judged by the rows the rule's query returned, on any engine (None: it did not run,
    its data missing, as in an audit)."""
    if rows is None:
        return _result(rule, case, set(), {})
    ids = [str(v) for v in rows.column("entity_id").to_pylist() if v is not None]
    severities: dict[str, set[str]] = {}
    if "severity" in rows.column_names:
        for eid, sev in zip(rows.column("entity_id").to_pylist(), rows.column("severity").to_pylist(), strict=True):
            severities.setdefault(str(eid), set()).add(sev or rule.severity.value)
    return _result(rule, case, set(ids), severities)


def _result(rule: Rule, case: RuleCase, found: set[str], severities: dict[str, set[str]]) -> CaseResult:
    wrong = tuple(
        sorted(
            eid
            for eid, sev in case.severity.items()
            if max(severities.get(eid, {rule.severity.value}), key=Severity.rank_of) != sev.value
        )
    )
    return CaseResult(
        rule.id,
        case.name,
        tuple(sorted(found)),
        missed=tuple(sorted(set(case.expect) - found)),
        false_alarms=tuple(sorted(set(case.reject) & found)),
        wrong_severity=wrong,
    )


# How one case is run: `run_case` on DuckDB, `coaltrace.spark.cases.case_runner(spark)` on Spark.
CaseRunner = Callable[..., CaseResult]


def run_rule_tests(
    ruleset: RuleSet,
    only: Iterable[str] | None = None,
    *,
    timeout_s: float = DEFAULT_RULE_TIMEOUT_S,
    runner: CaseRunner = run_case,
) -> list[RuleTestReport]:
    """Every case of every rule (or of ONLY), in rule order; each case's query stops after TIMEOUT_S.
    RUNNER runs one case (`run_case(rule, case, source=..., timeout_s=...)`): DuckDB's, or Spark's."""
    chosen = [ruleset.get(r) for r in only] if only else list(ruleset)
    reports = []
    for rule in chosen:
        report = RuleTestReport(rule.id)
        for case in rule.tests:
            report.cases.append(runner(rule, case, source=ruleset.files.get(rule.id), timeout_s=timeout_s))
        reports.append(report)
    return reports
