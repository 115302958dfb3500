"""Declarative rules: YAML files that find coal with no licensed source, and the engine that runs them.

The way through: `load` reads and validates rule files (`model` is the format),
`views` and `zones` prepare what queries read for one period, `coverage`
measures what the period's data holds, `runner` runs the rules read-only and
stores `findings`, `summary` counts the tonnes at risk once; `casetest` runs
each rule's own cases.

The names below are imported on first use, not with the package: a page that
reads one module of it (the findings' severity order, the rule notes) must not
pay for the SQL parser and the rule runner.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coaltrace.rules.casetest import CaseResult, RuleTestReport, run_rule_tests
    from coaltrace.rules.findings import FindingFilter, query_findings
    from coaltrace.rules.load import Problem, RuleSet, collect, load_rules
    from coaltrace.rules.model import Entity, Rule
    from coaltrace.rules.runner import AuditResult, RuleRun, run_audit
    from coaltrace.severity import Severity

_HOME = {
    "AuditResult": "coaltrace.rules.runner",
    "CaseResult": "coaltrace.rules.casetest",
    "Entity": "coaltrace.rules.model",
    "FindingFilter": "coaltrace.rules.findings",
    "Problem": "coaltrace.rules.load",
    "Rule": "coaltrace.rules.model",
    "RuleRun": "coaltrace.rules.runner",
    "RuleSet": "coaltrace.rules.load",
    "RuleTestReport": "coaltrace.rules.casetest",
    "Severity": "coaltrace.severity",
    "collect": "coaltrace.rules.load",
    "load_rules": "coaltrace.rules.load",
    "query_findings": "coaltrace.rules.findings",
    "run_audit": "coaltrace.rules.runner",
    "run_rule_tests": "coaltrace.rules.casetest",
}

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


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # once imported, an ordinary attribute (and one a test may patch)
    return value
