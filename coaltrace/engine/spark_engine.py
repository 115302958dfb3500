"""The Spark engine: the same SQL on a Spark session, local or on a cluster.

Everything above the engine seam speaks coaltrace's dialect (DuckDB's); this
engine binds the parameters as literals, lets sqlglot write the statement as
Spark SQL, and runs it. Spark has no temporary tables and no transactions: a
`CREATE TEMP TABLE x AS ...` becomes a temporary view over a materialised
(checkpointed) result, so later steps do not recompute it, and a transaction
is a plain block (a Spark audit writes nothing until it writes its output).

Rule queries run in the Spark sandbox (`run_rule`): the query was already read
by DuckDB's parser against the function allowlist and the audit's view names
(`coaltrace.rules.sandbox.check_rule_sql`); here it runs on a session that
can no longer read a file by its path (`spark.sql.runSQLOnFiles = false`),
every file the bound query reads must be one the views it names read, and a
time limit interrupts its operations.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from coaltrace.engine.base import SOURCE_DIALECT, Engine, Params

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession
    from sqlglot import exp


class SparkSQLError(RuntimeError):
    """A statement Spark refused, with its first line of explanation."""


def _literal(value: Any) -> exp.Expression:
    from sqlglot import exp

    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, int | float):
        return exp.Literal.number(repr(value))
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, list | tuple):
        return exp.Array(expressions=[_literal(v) for v in value])
    return exp.Literal.string(str(value))


def bind(sql: str, params: Params) -> exp.Expr:
    """SQL in coaltrace's dialect with `$name` and `?` parameters replaced by literals, as a tree."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read=SOURCE_DIALECT)
    if not params:
        return tree
    positional = list(params) if not isinstance(params, Mapping) else []
    named: Mapping[str, Any] = params if isinstance(params, Mapping) else {}

    def replace(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder):
            if node.args.get("this"):
                return _literal(named[node.name])
            return _literal(positional.pop(0))
        return node

    return tree.transform(replace)


def _spark_forms(node: exp.Expr) -> exp.Expr:
    """What sqlglot writes in a form Spark's parser refuses, in one it reads: `x IS TRUE` / `IS FALSE`."""
    from sqlglot import exp

    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Boolean):
        wanted = node.expression.this
        return exp.Coalesce(
            this=exp.EQ(this=exp.Paren(this=node.this), expression=exp.Boolean(this=wanted)), expressions=[exp.false()]
        )
    return node


class SparkEngine(Engine):
    dialect: ClassVar[str] = "spark"
    supports_transactions: ClassVar[bool] = False
    supports_temp_views: ClassVar[bool] = True

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self._cached: dict[str, DataFrame] = {}

    # --- statements ---------------------------------------------------------------------------

    def _spark_sql(self, tree: exp.Expr) -> str:
        from sqlglot.errors import ErrorLevel

        return tree.transform(_spark_forms).sql(dialect=self.dialect, unsupported_level=ErrorLevel.RAISE)

    def _df(self, sql: str, params: Params = None) -> DataFrame:
        return self._sql(self._spark_sql(bind(sql, params)))

    def _sql(self, text: str, session: SparkSession | None = None) -> DataFrame:
        from pyspark.errors import PySparkException

        try:
            return (session or self.spark).sql(text)
        except PySparkException as e:
            raise SparkSQLError(str(e).strip().splitlines()[0]) from None

    def render_params(self, sql: str, params: Params = None) -> str:
        """The statement as Spark is given it (for messages and tests)."""
        return self._spark_sql(bind(sql, params))

    def execute(self, sql: str, params: Params = None) -> None:
        from sqlglot import exp

        tree = bind(sql, params)
        temporary = isinstance(tree, exp.Create) and tree.find(exp.TemporaryProperty) is not None
        if isinstance(tree, exp.Create) and tree.kind in ("TABLE", "VIEW") and temporary:
            name = tree.this.name
            df = self._sql(self._spark_sql(tree.expression))
            if tree.kind == "TABLE":
                # Materialised once, as DuckDB's temporary table is: later reads do not recompute it.
                df = df.localCheckpoint(eager=True)
                self._cached[name] = df
            df.createOrReplaceTempView(name)
            return
        if isinstance(tree, exp.Drop) and tree.kind in ("TABLE", "VIEW"):
            for table in tree.args.get("tables") or [tree.this]:
                self.unregister(table.name)
            return
        self._sql(self._spark_sql(tree)).collect()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        for row in rows:
            self.execute(sql, list(row))

    def rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._df(sql, params).collect()]

    def arrow(self, sql: str, params: Params = None) -> pa.Table:
        return self.arrow_of(self._df(sql, params))

    @staticmethod
    def arrow_of(df: DataFrame) -> pa.Table:
        table: pa.Table = df.toArrow()
        return table

    # --- names --------------------------------------------------------------------------------

    def create_view(self, name: str, sql: str, *, temporary: bool = True) -> None:
        self._df(sql).createOrReplaceTempView(name)

    def register(self, name: str, data: pa.Table | pl.DataFrame) -> None:
        import polars as pl

        table = data.to_arrow() if isinstance(data, pl.DataFrame) else data
        self.spark.createDataFrame(_spark_ready(table)).createOrReplaceTempView(name)

    def unregister(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)
        cached = self._cached.pop(name, None)
        if cached is not None:
            cached.unpersist()

    def append(self, table: str, data: pa.Table) -> None:
        raise NotImplementedError("a Spark audit reads Parquet; it does not load files row by row")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    def tables(self) -> set[str]:
        return {t.name for t in self.spark.catalog.listTables()}

    # --- the sandbox --------------------------------------------------------------------------

    def run_rule(self, sql: str, views_read: Collection[str], timeout_s: float) -> pa.Table:
        from coaltrace.rules.sandbox import RuleTimeoutError
        from coaltrace.rules.sql import RuleSQLError

        # No file can be read by its path from here on: the audit's own inputs are already bound.
        self.spark.conf.set("spark.sql.runSQLOnFiles", "false")
        allowed = {f for view in views_read for f in self.spark.table(view).inputFiles()}
        try:
            df = self._sql(sql)
        except SparkSQLError as e:
            raise RuleSQLError(str(e)) from None
        outside = set(df.inputFiles()) - allowed
        if outside:
            raise RuleSQLError(f"a rule may not read {sorted(outside)[0]}")
        stop, release = self._interrupter(f"coaltrace-rule-{id(df)}")
        stopped = threading.Event()

        def on_time() -> None:
            stopped.set()
            stop()

        timer = threading.Timer(timeout_s, on_time)
        timer.daemon = True
        timer.start()
        try:
            return self.arrow_of(df)
        except Exception as e:
            if stopped.is_set():
                raise RuleTimeoutError(f"stopped after {timeout_s:g} s, its time limit") from None
            raise RuleSQLError(str(e).strip().splitlines()[0]) from None
        finally:
            timer.cancel()
            release()

    def _interrupter(self, name: str) -> tuple[Callable[[], None], Callable[[], None]]:
        """(stop, release) for the operations this thread starts next: a job group on Spark Classic
        (inherited by the threads that collect a result), an operation tag on Spark Connect."""
        try:
            context = self.spark.sparkContext
        except Exception:  # Spark Connect has no SparkContext
            context = None
        spark = self.spark
        if context is None:
            spark.addTag(name)

            def interrupt() -> None:
                spark.interruptTag(name)

            def untag() -> None:
                spark.removeTag(name)

            return interrupt, untag
        classic = context
        classic.setJobGroup(name, "coaltrace rule", interruptOnCancel=True)

        def cancel() -> None:
            classic.cancelJobGroup(name)

        def ungroup() -> None:
            classic.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]

        return cancel, ungroup


def _spark_ready(table: pa.Table) -> pa.Table:
    """Arrow types Spark reads: large strings and nanosecond instants become their plain forms."""
    import pyarrow as pa

    fields = []
    for f in table.schema:
        t = f.type
        if pa.types.is_large_string(t) or pa.types.is_string_view(t):
            t = pa.string()
        elif pa.types.is_timestamp(t) and t.unit == "ns":
            t = pa.timestamp("us", t.tz)
        fields.append(pa.field(f.name, t))
    return table.cast(pa.schema(fields))
