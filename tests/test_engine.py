"""The engine seam: what SQL an engine is given, and the DuckDB engine's part of the contract."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pytest
import sqlglot

from coaltrace.engine.base import SOURCE_DIALECT, render_sql
from coaltrace.files import shipped
from coaltrace.period import Period
from coaltrace.rules import RuleSet
from coaltrace.rules.sql import render
from coaltrace.rules.views import view_sql
from coaltrace.store import Store

VIEW_SQL = view_sql(Period.parse("2021-12"))
# A rule's id is its file's name (the loader refuses any other), so the ids are known without reading the pack.
RULE_IDS = sorted(path.stem for path in shipped("rules").iterdir() if path.suffix in (".yaml", ".yml"))


@pytest.fixture(scope="session")
def rule_sql(rule_pack: RuleSet) -> dict[str, str]:
    return {r.id: render(r.query, r.param_values()) for r in rule_pack}


def test_the_duckdb_engine_is_given_rule_and_view_sql_as_written(fresh_db: Store, rule_sql: dict[str, str]) -> None:
    assert sorted(rule_sql) == RULE_IDS
    assert fresh_db.engine.dialect == SOURCE_DIALECT
    for sql in [*rule_sql.values(), *VIEW_SQL.values()]:
        assert fresh_db.engine.render(sql) == sql


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_every_rule_renders_for_spark_and_parses_back(rule_id: str, rule_sql: dict[str, str]) -> None:
    spark = render_sql(rule_sql[rule_id], "spark")
    assert sqlglot.parse_one(spark, read="spark") is not None


def test_spark_is_given_its_own_forms(rule_sql: dict[str, str]) -> None:
    # DuckDB's `x NOT IN (...)` is written `NOT x IN (...)` for Spark; a month list stays a literal IN.
    spark = render_sql(rule_sql["trip_without_sale"], "spark")
    assert "NOT t.trip_id IN (SELECT trip_id FROM by_waybill)" in spark
    assert "t.trip_id NOT IN (SELECT trip_id FROM by_waybill)" in rule_sql["trip_without_sale"]
    power = render_sql(VIEW_SQL["period_power"], "spark")
    assert "WHERE month IN ('2021-12')" in power
    # DuckDB's TIMESTAMP has no time zone: Spark's equivalent is TIMESTAMP_NTZ, not its zoned TIMESTAMP.
    assert "CAST('2021-12-01 00:00:00' AS TIMESTAMP)" in VIEW_SQL["period_sales"]
    assert "CAST('2021-12-01 00:00:00' AS TIMESTAMP_NTZ)" in render_sql(VIEW_SQL["period_sales"], "spark")


def test_the_duckdb_engine_reads_writes_and_rolls_back(fresh_db: Store) -> None:
    engine = fresh_db.engine
    engine.execute("CREATE TABLE t (a INTEGER, b VARCHAR)")
    with engine.registered("incoming", pa.table({"a": [1, 2, 3], "b": ["x", "y", None]})):
        engine.execute("INSERT INTO t SELECT * FROM incoming")
    assert not engine.has_table("incoming") and engine.has_table("t")
    assert engine.rows("SELECT a FROM t WHERE b IS NOT NULL ORDER BY a") == [(1,), (2,)]
    assert engine.query("SELECT a, b FROM t WHERE a = ?", [1]) == [{"a": 1, "b": "x"}]
    assert engine.scalar("SELECT sum(a) FROM t") == 6 and engine.first("SELECT a FROM t WHERE a > 5") is None
    assert engine.frame("SELECT a FROM t WHERE a >= $low ORDER BY a", {"low": 2})["a"].to_list() == [2, 3]
    assert engine.arrow("SELECT b FROM t ORDER BY a").column("b").to_pylist() == ["x", "y", None]
    with pytest.raises(RuntimeError), engine.transaction():
        engine.execute("DELETE FROM t")
        raise RuntimeError("the block fails: nothing of it stays")
    assert engine.scalar("SELECT count(*) FROM t") == 3
    engine.create_view("small", "SELECT a FROM t WHERE a < 3")
    assert pl.DataFrame(engine.query("SELECT * FROM small ORDER BY a"))["a"].to_list() == [1, 2]


def test_appended_rows_are_not_held_while_the_transaction_lasts(fresh_db: Store) -> None:
    # A load is one transaction over many files: each file's rows must be let go once they are in,
    # or a province month is held in memory whole (DuckDB keeps what is registered until commit).
    import gc
    import weakref

    engine = fresh_db.engine
    held = []
    with fresh_db.transaction():
        engine.execute("CREATE TEMP TABLE _appended (a BIGINT, b VARCHAR)")
        for i in range(3):
            rows = pa.table({"b": [f"x{i}"] * 1000, "a": list(range(1000))})  # columns in another order: by name
            engine.append("_appended", rows)
            held.append(weakref.ref(rows))
            del rows
        gc.collect()
        assert [ref() for ref in held] == [None, None, None]
        assert engine.rows("SELECT count(*), count(DISTINCT b), sum(a) FROM _appended") == [(3000, 3, 3 * 499500)]


# --- the Spark engine's rendering (no JVM needed) ---------------------------------------------


def test_spark_binds_parameters_as_literals_of_their_type() -> None:
    from datetime import date, datetime

    from coaltrace.engine.spark_engine import SparkEngine

    engine = SparkEngine(spark=None)  # type: ignore[arg-type]
    named = engine.render_params(
        "SELECT * FROM t WHERE d >= $start AND ts < $at AND list_contains($kinds, kind) AND s = $s AND x = $none",
        {
            "start": date(2021, 12, 1),
            "at": datetime(2022, 1, 1, 6, 30),
            "kinds": ["mine", "yard"],
            "s": "O'Brien",
            "none": None,
        },
    )
    assert "CAST('2021-12-01' AS DATE)" in named
    assert "CAST('2022-01-01 06:30:00' AS TIMESTAMP)" in named
    assert "ARRAY_CONTAINS(ARRAY('mine', 'yard'), kind)" in named
    assert "'O\\'Brien'" in named or "'O''Brien'" in named
    assert "x = NULL" in named
    positional = engine.render_params("SELECT * FROM t WHERE n = ? AND ok = ? AND f = ?", [3, True, 0.25])
    assert positional.endswith("WHERE n = 3 AND ok = TRUE AND f = 0.25")


def test_spark_is_given_is_true_in_a_form_its_parser_reads() -> None:
    from coaltrace.engine.spark_engine import SparkEngine

    sql = SparkEngine(spark=None).render_params("SELECT a IN (SELECT b FROM t) IS TRUE AS x FROM u")  # type: ignore[arg-type]
    assert "IS TRUE" not in sql
    assert "COALESCE((a IN (SELECT b FROM t)) = TRUE, FALSE)" in sql
