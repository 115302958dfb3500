"""Reading rule files: every problem in a file, each with its line, before stopping.

YAML is read twice: once for the values, once as a node tree that remembers
where each key sits, so a pydantic error on `params.min_share.default` points
at the line an auditor has to change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from coaltrace.errors import Location, RuleError, UsageError, validation_problems
from coaltrace.files import shipped
from coaltrace.rules.model import Rule
from coaltrace.rules.notes import rule_files
from coaltrace.rules.sandbox import check_rule_sql
from coaltrace.rules.sql import RuleSQLError, parse_select, placeholders, render, tables_read
from coaltrace.rules.views import READABLE, tables_behind


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


@dataclass
class RuleSet:
    """The rules of one or more directories, by id, in file-name order."""

    rules: dict[str, Rule] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    def __iter__(self) -> Any:
        return iter(self.rules.values())

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, rule_id: str) -> Rule:
        try:
            return self.rules[rule_id]
        except KeyError:
            raise UsageError(
                f"no rule {rule_id!r}",
                zh=f"没有规则 {rule_id!r}",
                hint="`coaltrace rules list` shows the rules; check --rules points at the right folder.",
                hint_zh="`coaltrace rules list` 列出全部规则；请检查 --rules 指向的文件夹。",
            ) from None


def _node_at(node: yaml.Node | None, loc: Sequence[Any]) -> yaml.Node | None:
    """The deepest node along a pydantic error location."""
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if k.value == str(key):
                    nxt = v if key != loc[-1] else k
                    break
            if nxt is None:
                return node
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return node
    return node


def _line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _key_line(root: yaml.Node, key: str, offset: int | None) -> int | None:
    """The file line of a top-level key; for a block scalar (`query: |`), of its line `offset`."""
    for k, v in getattr(root, "value", []):
        if k.value == key:
            if offset is None:
                return _line(k)
            return int(v.start_mark.line) + (1 if v.style in ("|", ">") else 0) + offset
    return None


def check_query(rule: Rule) -> list[tuple[str, int | None, str]]:
    """Problems of a rule's SQL as (key, query line, message): parameters, the sandbox, columns."""
    problems: list[tuple[str, int | None, str]] = []
    used = placeholders(rule.query)
    for name in used:
        if name not in rule.params:
            problems.append(("query", None, f"query: ${{{name}}} is not a parameter of this rule"))
    unused = set(rule.params) - set(used)
    if unused:
        problems.append(("params", None, f"params: declared but not used in the query: {', '.join(sorted(unused))}"))
    try:
        sql = render(rule.query, rule.param_values())
        refused, _ = check_rule_sql(sql, READABLE)
        if refused:
            return problems + [("query", e.line, f"query: {e}") for e in refused]
        tree = parse_select(sql)
    except RuleSQLError as e:
        problems.append(("query", e.line, f"query: {e}"))
        return problems
    unread = rule.required_tables() - tables_behind(tables_read(tree))
    if unread:
        problems.append(("requires", None, f"requires: the query reads nothing of {', '.join(sorted(unread))}"))
    names = set(getattr(tree, "named_selects", []))
    if "entity_id" not in names:
        problems.append(("query", None, "query: must return a column named entity_id"))
    absent = [c for c in rule.evidence if c not in names]
    if absent:
        problems.append(("evidence", None, f"evidence: the query does not return {', '.join(absent)}"))
    return problems


def load_rule_file(path: Path) -> tuple[Rule | None, list[Problem]]:
    """The rule in `path`, or None with every problem found in it."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return None, [Problem(shown, None, f"cannot read the file: {e}")]
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        return None, [Problem(shown, mark.line + 1 if mark else None, f"not valid YAML: {getattr(e, 'problem', e)}")]
    if not isinstance(data, dict) or root is None:
        return None, [Problem(shown, 1, "a rule file is a YAML mapping (id: ..., title: ..., query: ...)")]
    problems: list[Problem] = []
    try:
        rule = Rule.model_validate(data)
    except ValidationError as e:
        for p in validation_problems(e):
            problems.append(Problem(shown, _line(_node_at(root, p.loc)), f"{p.where}: {p.en}"))
        return None, problems
    if rule.id != path.stem:
        problems.append(
            Problem(shown, _line(_node_at(root, ("id",))), f"id: {rule.id!r} must match the file name {path.stem!r}")
        )
    for key, offset, msg in check_query(rule):
        problems.append(Problem(shown, _key_line(root, key, offset), msg))
    for i, case in enumerate(rule.tests):
        for name in case.params:
            if name not in rule.params:
                problems.append(
                    Problem(
                        shown,
                        _line(_node_at(root, ("tests", i, "params", name))),
                        f"tests.{i}.params: unknown parameter {name!r}",
                    )
                )
    return (None if problems else rule), problems


def collect(dirs: Iterable[Path] | None = None) -> tuple[RuleSet, list[Problem]]:
    """Every rule that reads, and every problem, including those across files."""
    folders = list(dirs) if dirs else [shipped("rules")]
    ruleset, problems = RuleSet(), []
    for path in rule_files(folders):
        rule, found = load_rule_file(path)
        problems.extend(found)
        if rule is None:
            continue
        if rule.id in ruleset.rules:
            problems.append(Problem(str(path), 1, f"id {rule.id!r} is also defined in {ruleset.files[rule.id]}"))
            continue
        if not rule.tests:
            problems.append(Problem(str(path), None, "tests: every rule needs at least one case"))
        elif not any(c.expect for c in rule.tests) or not any(c.reject for c in rule.tests):
            problems.append(Problem(str(path), None, "tests: a rule needs a case that fires and one that must not"))
        ruleset.rules[rule.id] = rule
        ruleset.files[rule.id] = path
    return ruleset, problems


def load_rules(dirs: Iterable[Path] | None = None) -> RuleSet:
    """The rules, or a RuleError listing every problem with its file and line."""
    ruleset, problems = collect(dirs)
    if problems:
        first = problems[0]
        raise RuleError(
            f"{len(problems)} problem(s) in the rule files" if len(problems) > 1 else first.message,
            location=Location(file=first.file, line=first.line),
            details=[str(p) for p in problems] if len(problems) > 1 else None,
            hint="Fix the rule file(s); `coaltrace rules validate` checks them without running anything.",
        )
    return ruleset
