"""The rule sandbox: what a rule query may name, and the locked connection it runs on.

A rule file comes from whoever wrote it; its query must not reach past the
audit's views. Three walls stand in the way, each checked by DuckDB itself
rather than by a second parser that could read the query differently:

1. What the query names (`check_rule_sql`, also what `rules validate` runs).
   DuckDB's own parser reads it (`json_serialize_sql`): it must be one SELECT;
   every function, aggregate, window and table function it calls must be on
   the allowlist (`coaltrace.rules.allowlist`), unqualified; every table it
   names must be a CTE visible at that point or an audit view, by its plain
   name (no `main.x`, no `"a/b.csv"`).
2. What the query reads once bound (`check_plan`). On the connection it will
   run on, DuckDB binds it (`json_serialize_plan`): every table scanned must be
   one the audit views it names read, every table function on the allowlist.
3. The engine (`lock_down`, `run_sandboxed`). Before the first rule runs the
   connection is switched to `enable_external_access = false` (no file, no
   database, no extension outside the store) and `lock_configuration = true`
   (no setting can change until the process ends, not even that one); the
   query runs in a transaction that is always rolled back, under a time limit
   that interrupts it.

Everything that needs the outside world (provenance, views, zone hits, which
register Arrow data) is prepared before the lock; after it, results still
come back as Arrow and findings are still written to the store.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any

from coaltrace.errors import is_no_space
from coaltrace.rules.allowlist import FUNCTIONS, TABLE_FUNCTIONS
from coaltrace.rules.sql import RuleSQLError

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

# The parse tree's building blocks a SELECT is made of; any other kind is refused.
_QUERY_NODES = frozenset({"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"})
_TABLE_REFS = frozenset(
    {"BASE_TABLE", "JOIN", "SUBQUERY", "TABLE_FUNCTION", "EXPRESSION_LIST", "EMPTY", "EMPTY_FROM", "PIVOT"}
)
_EXPRESSIONS = frozenset(
    {
        "FUNCTION",
        "WINDOW",
        "COLUMN_REF",
        "CONSTANT",
        "CAST",
        "CASE",
        "COMPARISON",
        "CONJUNCTION",
        "OPERATOR",
        "STAR",
        "SUBQUERY",
        "TYPE",
        "BETWEEN",
        "LAMBDA",
        "LAMBDA_REF",
        "COLLATE",
        "POSITIONAL_REFERENCE",
    }
)
# Plan operators a read-only query binds to.
_PLAN_OPERATORS = frozenset(
    "LOGICAL_" + op
    for op in (
        "PROJECTION FILTER AGGREGATE_AND_GROUP_BY WINDOW UNNEST LIMIT ORDER_BY TOP_N DISTINCT SAMPLE PIVOT "
        "COMPARISON_JOIN ANY_JOIN CROSS_PRODUCT POSITIONAL_JOIN ASOF_JOIN DEPENDENT_JOIN DELIM_JOIN "
        "UNION EXCEPT INTERSECT RECURSIVE_CTE MATERIALIZED_CTE CTE_REF GET DELIM_GET EXPRESSION_GET "
        "DUMMY_SCAN EMPTY_RESULT"
    ).split()
)
_NO_LOCATION = 2**63
# What the parse tree calls a kind, said the way a rule author wrote it.
_SAID = {
    "SHOW_REF": "DESCRIBE, SHOW or SUMMARIZE",
    "COPY_QUERY_NODE": "COPY",
    "COPY_INFO": "COPY",
    "INSERT_QUERY_NODE": "INSERT",
    "UPDATE_QUERY_NODE": "UPDATE",
    "DELETE_QUERY_NODE": "DELETE",
}


class RuleTimeoutError(RuleSQLError):
    """The query ran past its time limit and was interrupted."""


# --- wall 1: what the query names -------------------------------------------------------------


_parser_con: duckdb.DuckDBPyConnection | None = None


def _parser() -> duckdb.DuckDBPyConnection:
    """An empty, locked in-memory database that only parses (one per process)."""
    global _parser_con
    if _parser_con is None:
        import duckdb

        con = duckdb.connect(":memory:", config={"autoload_known_extensions": False})
        lock_down(con)
        _parser_con = con
    return _parser_con


class _Names:
    """Walks DuckDB's parse tree of one query, collecting what it may not do."""

    def __init__(self, sql: str, views: Collection[str]) -> None:
        self.encoded = sql.encode("utf-8")
        self.views = {v.lower() for v in views}
        self.problems: list[RuleSQLError] = []
        self.views_read: set[str] = set()

    def line(self, node: dict[str, Any], fallback: int | None) -> int | None:
        at = node.get("query_location")
        if isinstance(at, int) and 0 <= at < _NO_LOCATION:
            # DuckDB counts bytes of UTF-8, and a Chinese comment is three bytes a character.
            return self.encoded.count(b"\n", 0, at) + 1
        return fallback

    def refuse(self, message: str, line: int | None) -> None:
        self.problems.append(RuleSQLError(message, line))

    def walk(self, node: Any, ctes: frozenset[str], line: int | None) -> None:
        if isinstance(node, list):
            for item in node:
                self.walk(item, ctes, line)
            return
        if not isinstance(node, dict):
            return
        line = self.line(node, line)
        kind = node.get("type")
        if "cte_map" in node:
            if kind not in _QUERY_NODES:
                self.refuse(f"a rule may only read: {_words(kind)} is not allowed", line)
                return
            ctes = ctes | {str(entry["key"]).lower() for entry in node["cte_map"].get("map", [])}
        elif "info_type" in node:
            self.refuse(f"a rule may only read: {_words(node['info_type'])} is not allowed", line)
            return
        elif "class" in node:
            if node["class"] not in _EXPRESSIONS:
                self.refuse(f"a rule may not use {_words(node['class'])} expressions", line)
                return
            if node["class"] in ("FUNCTION", "WINDOW"):
                self.function(node, line, FUNCTIONS)
        elif "sample" in node and isinstance(kind, str):
            if kind not in _TABLE_REFS:
                self.refuse(f"a rule may only read the audit views, not {_words(kind)}", line)
                return
            if kind == "BASE_TABLE":
                self.table(node, ctes, line)
            elif kind == "TABLE_FUNCTION":
                function = node["function"]
                self.function(function, line, TABLE_FUNCTIONS)
                self.walk([v for k, v in function.items() if k != "function_name"], ctes, line)
                self.walk([v for k, v in node.items() if k != "function"], ctes, line)
                return
        self.walk(list(node.values()), ctes, line)

    def function(self, node: dict[str, Any], line: int | None, allowed: frozenset[str]) -> None:
        name = str(node.get("function_name", "")).lower()
        schema = ".".join(str(node.get(k) or "") for k in ("catalog", "schema") if node.get(k))
        if schema:
            self.refuse(f"a rule may not name where a function lives: {schema}.{name}()", line)
        elif name not in allowed:
            if allowed is TABLE_FUNCTIONS:
                self.refuse(
                    f"a rule may not read from {name}(): in FROM a rule may only use "
                    f"{', '.join(sorted(TABLE_FUNCTIONS))} besides the audit views",
                    line,
                )
            else:
                self.refuse(f"a rule may not call {name}(): it is not on the list of functions rules may use", line)

    def table(self, node: dict[str, Any], ctes: frozenset[str], line: int | None) -> None:
        name = str(node.get("table_name", ""))
        qualifier = [str(node.get(k)) for k in ("catalog_name", "schema_name") if node.get(k)]
        if qualifier:
            self.refuse(
                f"a rule may only read the audit views by their plain names, not {'.'.join([*qualifier, name])}",
                line,
            )
        elif name.lower() in ctes:
            return
        elif name.lower() in self.views:
            self.views_read.add(name.lower())
        else:
            self.refuse(f"reads {name!r}, which is not an audit view (docs/rules.md lists them)", line)


def _words(kind: object) -> str:
    return _SAID.get(str(kind), str(kind).replace("_", " ").upper())


def _parse_tree(sql: str) -> dict[str, Any]:
    [(text,)] = _parser().execute("SELECT json_serialize_sql(?::VARCHAR)", [sql]).fetchall()
    tree: dict[str, Any] = json.loads(text)
    return tree


def check_rule_sql(sql: str, views: Collection[str]) -> tuple[list[RuleSQLError], set[str]]:
    """What the query does that a rule may not (each with its line), and the views it reads."""
    tree = _parse_tree(sql)
    if tree.get("error"):
        message = str(tree.get("error_message", "")).splitlines()[0]
        if "Only SELECT" in message:
            return [RuleSQLError("the query must be a SELECT (or WITH ... SELECT)")], set()
        at = str(tree.get("position", ""))
        line = sql.encode("utf-8").count(b"\n", 0, int(at)) + 1 if at.isdigit() else None
        return [RuleSQLError(f"the query does not parse: {message}", line)], set()
    statements = tree.get("statements", [])
    if len(statements) != 1:
        return [RuleSQLError(f"the query must be one SELECT statement, found {len(statements)} statements")], set()
    names = _Names(sql, views)
    names.walk(statements[0], frozenset(), None)
    return names.problems, names.views_read


# --- wall 3: the engine ----------------------------------------------------------------------


def lock_down(con: duckdb.DuckDBPyConnection) -> None:
    """No file, database or extension outside the store from now on, and no setting may change.

    DuckDB applies both to the whole database, so to every connection of this
    process to the same file, until the last of them closes. Calling it again is harmless.
    """
    [(external, locked)] = con.execute(
        "SELECT current_setting('enable_external_access'), current_setting('lock_configuration')"
    ).fetchall()
    if locked and external:
        raise RuntimeError("the configuration was locked with external access still on")
    if not locked:
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")


# --- wall 2: what the query reads once bound -------------------------------------------------


def _plan(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, Any]:
    [(text,)] = con.execute("SELECT json_serialize_plan(?::VARCHAR)", [sql]).fetchall()
    plan: dict[str, Any] = json.loads(text)
    return plan


def _scans(node: Any, found: list[tuple[str, str | None]], operators: set[str]) -> None:
    """(function, table) of every scan in a plan, and every operator kind in it."""
    if isinstance(node, list):
        for item in node:
            _scans(item, found, operators)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if isinstance(kind, str) and kind.startswith("LOGICAL_"):
        operators.add(kind)
        if kind == "LOGICAL_GET":
            path = (node.get("qname") or {}).get("path") or [node.get("name") or "?"]
            data = node.get("function_data")
            qualified = (data or {}).get("qualified_name") if isinstance(data, dict) else None
            table = ".".join(qualified.get("path", [])) if isinstance(qualified, dict) else None
            found.append((str(path[-1]).lower(), table))
    for value in node.values():
        _scans(value, found, operators)


def _bound(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[tuple[str, str | None]], set[str]]:
    plan = _plan(con, sql)
    if plan.get("error"):
        raise RuleSQLError(str(plan.get("error_message", "cannot bind the query")).splitlines()[0])
    found: list[tuple[str, str | None]] = []
    operators: set[str] = set()
    _scans(plan.get("plans", []), found, operators)
    return found, operators


def check_plan(con: duckdb.DuckDBPyConnection, sql: str, views_read: Iterable[str]) -> None:
    """Raise unless the bound query scans only what the views it names scan."""
    views = " UNION ALL ".join(f'SELECT 1 FROM "{view}"' for view in sorted(views_read))
    allowed = {table for function, table in _bound(con, views)[0] if function == "seq_scan"} if views else set()
    scans, operators = _bound(con, sql)
    unknown = sorted(operators - _PLAN_OPERATORS)
    if unknown:
        raise RuleSQLError(f"a rule may only read: the query binds to {', '.join(unknown)}")
    for function, table in scans:
        if function == "seq_scan":
            if table not in allowed:
                raise RuleSQLError(f"a rule may only read the audit views, and the query reads the table {table}")
        elif function not in TABLE_FUNCTIONS:
            raise RuleSQLError(f"a rule may not read from {function}()")


def run_sandboxed(con: duckdb.DuckDBPyConnection, sql: str, views_read: Iterable[str], timeout_s: float) -> pa.Table:
    """The query's rows, after walls 2 and 3; raises RuleSQLError (RuleTimeoutError past the limit)."""
    import duckdb

    lock_down(con)
    con.execute("BEGIN TRANSACTION")
    try:
        check_plan(con, sql, views_read)
        timer = threading.Timer(timeout_s, con.interrupt)
        timer.daemon = True
        timer.start()
        try:
            return con.sql(sql).to_arrow_table()
        except duckdb.InterruptException:
            raise RuleTimeoutError(f"stopped after {timeout_s:g} s, its time limit") from None
        except duckdb.Error as e:
            # A query too big for memory spills to temporary files: a full disk there is the machine's.
            if is_no_space(e):
                raise
            raise RuleSQLError(str(e).splitlines()[0]) from None
        finally:
            timer.cancel()
            timer.join()
    finally:
        con.execute("ROLLBACK")
