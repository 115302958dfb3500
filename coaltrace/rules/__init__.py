"""Declarative rules: YAML files that find coal with no licensed source, and the engine that runs them.

The way through: `load` reads and validates rule files (`model` is the format),
`views` and `zones` prepare what queries read for one period, `coverage`
measures what the period's data holds, `runner` runs the rules read-only and
stores `findings`, `summary` counts the tonnes at risk once; `casetest` runs
each rule's own cases.
"""

from coaltrace.rules.casetest import CaseResult, RuleTestReport, run_rule_tests
from coaltrace.rules.findings import FindingFilter, query_findings
from coaltrace.rules.load import Problem, RuleSet, collect, load_rules
from coaltrace.rules.model import Entity, Rule
from coaltrace.rules.runner import AuditResult, RuleRun, run_audit
from coaltrace.severity import Severity

__all__ = [
    "AuditResult",
    "CaseResult",
    "Entity",
    "FindingFilter",
    "Problem",
    "Rule",
    "RuleRun",
    "RuleSet",
    "RuleTestReport",
    "Severity",
    "collect",
    "load_rules",
    "query_findings",
    "run_audit",
    "run_rule_tests",
]
