"""Rule SQL: parameters in, the query's shape, the tables it reads, the Spark form.

A rule's query is written for DuckDB in plain SQL so that sqlglot can carry it
to Spark unchanged. Parameters appear as `${name}` and are rendered as SQL
literals before anything parses the query, so every dialect sees constants.
What a query may call and read is decided by DuckDB's own reading of it, in
`coaltrace.rules.sandbox`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError

PLACEHOLDER = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")


class RuleSQLError(ValueError):
    """What is wrong with a query, and on which line of the query (1-based), if known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def literal(value: Any) -> str:
    """A parameter value as a SQL literal that every dialect reads the same way."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, list | tuple):
        return ", ".join(literal(v) for v in value) or "NULL"
    return "'" + str(value).replace("'", "''") + "'"


def placeholders(sql: str) -> list[str]:
    return list(dict.fromkeys(PLACEHOLDER.findall(sql)))


def render(sql: str, values: dict[str, Any]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in values:
            raise RuleSQLError(
                f"the query uses ${{{name}}} but the rule has no parameter {name!r}", _line_of(sql, m.start())
            )
        return literal(values[name])

    return PLACEHOLDER.sub(sub, sql)


def _line_of(sql: str, offset: int) -> int:
    return sql.count("\n", 0, offset) + 1


def parse_select(sql: str) -> exp.Query:
    """The query's tree, if sqlglot reads it as one SELECT (or WITH ... SELECT, or a set operation)."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb", error_level=ErrorLevel.RAISE) if s is not None]
    except ParseError as e:
        first = e.errors[0] if e.errors else {}
        raise RuleSQLError(f"the query does not parse: {first.get('description') or e}", first.get("line")) from None
    except SqlglotError as e:
        raise RuleSQLError(f"the query does not parse: {e}") from None
    if len(statements) != 1:
        raise RuleSQLError(f"the query must be one SELECT statement, found {len(statements)} statements")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise RuleSQLError(f"the query must be a SELECT (or WITH ... SELECT), not {tree.key.upper()}")
    return tree


def tables_read(tree: exp.Query) -> set[str]:
    """Names the query reads that are not its own CTEs."""
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    return {t.name for t in tree.find_all(exp.Table) if t.name and t.name not in ctes}
