"""What the rule commands (`findings`, `rules ...`) and `audit` share: their words in both
languages, the `--rules` and `--rule-timeout` options, and reading a severity option."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coaltrace.i18n import catalogue
from coaltrace.severity import Severity

MESSAGES = catalogue(
    {
        "rule": ("规则", "rule"),
        "title": ("名称", "title"),
        "severity": ("级别", "severity"),
        "status": ("状态", "status"),
        "entity": ("对象", "entity"),
        "checks": ("八查", "checks"),
        "findings": ("问题数", "findings"),
        "tonnes": ("涉及吨数", "tonnes at risk"),
        "facility": ("单位", "facility"),
        "county": ("县区", "county"),
        "period": ("期间", "period"),
        "entity_id": ("对象编号", "entity id"),
        "finding_id": ("问题编号", "finding id"),
        "valid": ("{n} 条规则全部有效。", "all {n} rules are valid."),
        "invalid": ("{n} 个问题：", "{n} problem(s):"),
        "case_ok": ("通过", "ok"),
        "case_fail": ("失败", "FAIL"),
        "missed": ("漏报 {ids}", "missed {ids}"),
        "false_alarms": ("误报 {ids}", "false alarms {ids}"),
        "wrong_severity": ("级别不符 {ids}", "wrong severity {ids}"),
        "tests_summary": (
            "{rules} 条规则，{cases} 个用例，{failed} 个失败",
            "{rules} rules, {cases} cases, {failed} failed",
        ),
        "no_findings": ("没有符合条件的问题。", "No findings match."),
        "description": ("说明", "description"),
        "params": ("参数", "parameters"),
        "evidence": ("证据列", "evidence"),
        "false_positives": ("可能误报", "false positives"),
        "references": ("依据", "references"),
        "query": ("查询", "query"),
        "file": ("文件", "file"),
        "version": ("版本", "version"),
        "clause": ("整治重点", "clauses"),
    }
)

RulesOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--rules", help="Rule folder or file; repeat for more (default: the shipped rule pack).", show_default=False
    ),
]

RuleTimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--rule-timeout",
        min=0.001,
        max=7 * 24 * 3600,
        help="Stop a rule whose query runs longer than this many seconds (default: [rules] timeout_s, or 300).",
        show_default=False,
    ),
]


def severity_option(value: str | None, option: str) -> Severity | None:
    from coaltrace.severity import parse_option

    return None if value is None else parse_option(value, option)
