"""A rule's own cases on Spark (`coaltrace rules test --engine spark`): the same tables in, the
same entities that must and must not be found, through the Spark engine.

Each case's rows go into an in-memory store, leave it as the Parquet layout (`export tables`),
and are audited on Spark for that one rule, as `audit --engine spark` would: a rule that passes
its cases on DuckDB and on Spark finds the same things on both, negatives included.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coaltrace.config import AuditConfig
from coaltrace.errors import CoaltraceError
from coaltrace.export.tables import export_tables
from coaltrace.period import Period
from coaltrace.rules import coverage
from coaltrace.rules.casetest import CaseResult, CaseRunner, insert_rows, judged, needs_provenance
from coaltrace.rules.model import Rule, RuleCase
from coaltrace.rules.runner import run_rule_query
from coaltrace.spark.audit import prepare_on_spark
from coaltrace.store import Store

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def case_runner(spark: SparkSession) -> CaseRunner:
    """A runner for `run_rule_tests` that runs each case on SPARK."""

    def run(rule: Rule, case: RuleCase, **options: Any) -> CaseResult:
        return run_case_on_spark(spark, rule, case, **options)

    return run


def run_case_on_spark(
    spark: SparkSession, rule: Rule, case: RuleCase, *, source: Path | None = None, timeout_s: float
) -> CaseResult:
    try:
        with tempfile.TemporaryDirectory(prefix="coaltrace-case-") as work:
            tables = Path(work) / "tables"
            with Store(":memory:") as store:
                insert_rows(store, case.tables)
                export_tables(store, tables)
            period = Period.parse(case.period)
            ws = prepare_on_spark(spark, tables, period, AuditConfig(), provenance=needs_provenance(rule))
            if coverage.measure(ws, period, [rule]).stopped_by(rule.id):
                return judged(rule, case, None)
            rows = run_rule_query(ws, rule, rule.param_values(case.params), source=source, timeout_s=timeout_s)
            return judged(rule, case, rows)
    except CoaltraceError as e:
        return CaseResult(rule.id, case.name, (), error=str(e))
