"""The rule sandbox, attacked: every hostile rule file is refused at validation (with its file and
line) or stopped by the engine, through `rules validate`, `rules test` and `audit` alike.

Each attack is a rule file a test writes next to files a rule must never read or write (a CSV, a
text file, NDJSON, Parquet with metadata, another program's DuckDB database, a log folder). The
engine's own walls are then attacked directly, as if the check before them had a hole.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

import coaltrace.cli
from coaltrace.errors import ExitCode
from coaltrace.rules.casetest import insert_rows
from coaltrace.store import Store
from tests.conftest import copy_db

SECRET = "SECRET-"

RULE = """\
id: attack
version: 1
title: {{zh: 攻击, en: attack}}
description: {{zh: 攻击测试, en: an attack}}
checks: {{check: [2], clause: [1]}}
severity: low
status: experimental
entity: trip
query: |
{query}
evidence: [entity_id]
tests:
  - name: one trip
    tables:
      transports:
        - {{trip_id: T1, plate: 晋E12345, origin_id: M1, destination_id: Y1, departed_at: 2021-12-01 08:00:00, tonnes_loaded: 5}}
    expect: [T1]
    reject: [T2]
"""
QUERY_KEY_LINE = 9


@dataclass(frozen=True)
class Attack:
    id: str
    query: str
    # Text on the line the refusal must point at; None: the `query:` line (the whole statement is wrong).
    at: str | None = None


ATTACKS = [
    # Files read through functions no denylist named.
    Attack("read_json_objects", "SELECT json AS entity_id FROM read_json_objects('{json}')", "read_json_objects"),
    Attack("read_ndjson_auto", "SELECT token AS entity_id FROM read_ndjson_auto('{json}')", "read_ndjson_auto"),
    Attack("read_single_csv_file", "SELECT token AS entity_id FROM read_single_csv_file('{csv}')", "read_single"),
    Attack(
        "parquet_kv_metadata",
        "SELECT CAST(value AS VARCHAR) AS entity_id FROM parquet_kv_metadata('{parquet}')",
        "parquet_kv_metadata",
    ),
    Attack("read_duckdb", "SELECT token AS entity_id FROM read_duckdb('{db}', table_name = 'secrets')", "read_duckdb"),
    Attack(
        "json_execute_serialized_sql",
        "SELECT content AS entity_id\n"
        "FROM json_execute_serialized_sql(json_serialize_sql('SELECT content FROM read_text(''{txt}'')'))",
        "json_execute_serialized_sql",
    ),
    # A quoted path as a table name, while a CTE of the same name stands in another scope.
    Attack(
        "path_as_table_beside_cte",
        'SELECT entity_id FROM (WITH "{csv}" AS (SELECT \'x\' AS token) SELECT token AS entity_id FROM "{csv}")\n'
        "UNION ALL\n"
        'SELECT token FROM "{csv}" AS outside',
        "AS outside",
    ),
    Attack(
        "store_table_qualified_beside_cte",
        "SELECT entity_id FROM (WITH loaded_files AS (SELECT 'x' AS path) SELECT path AS entity_id FROM loaded_files)\n"
        "UNION ALL\n"
        "SELECT path FROM main.loaded_files",
        "main.loaded_files",
    ),
    Attack(
        "store_table_plain_beside_cte",
        "SELECT entity_id FROM (WITH loaded_files AS (SELECT 'x' AS path) SELECT path AS entity_id FROM loaded_files)\n"
        "UNION ALL\n"
        "SELECT path FROM loaded_files AS outside",
        "AS outside",
    ),
    # Files written, and settings shown.
    Attack(
        "enable_logging_to_file",
        "SELECT 'T1' AS entity_id FROM enable_logging(storage = 'file', storage_path = '{logs}')",
        "enable_logging",
    ),
    Attack("write_log", "SELECT write_log('SECRET-LOG', level = 'error') AS entity_id", "write_log"),
    Attack(
        "duckdb_settings",
        "SELECT value AS entity_id FROM duckdb_settings() WHERE name = 'temp_directory'",
        "duckdb_settings",
    ),
    Attack("duckdb_databases", "SELECT path AS entity_id FROM duckdb_databases()", "duckdb_databases"),
    Attack("current_setting", "SELECT current_setting('temp_directory') AS entity_id", "current_setting"),
    # Our own: settings, variables and the catalog by other doors.
    Attack("getvariable", "SELECT getvariable('secret') AS entity_id", "getvariable"),
    Attack("pragma_table_info", "SELECT name AS entity_id FROM pragma_table_info('loaded_files')", "pragma_table_info"),
    Attack(
        "pragma_database_size",
        "SELECT database_name AS entity_id FROM pragma_database_size()",
        "pragma_database_size",
    ),
    Attack("duckdb_extensions", "SELECT extension_name AS entity_id FROM duckdb_extensions()", "duckdb_extensions"),
    Attack("duckdb_tables", "SELECT table_name AS entity_id FROM duckdb_tables()", "duckdb_tables"),
    Attack("duckdb_temporary_files", "SELECT path AS entity_id FROM duckdb_temporary_files()", "duckdb_temporary"),
    Attack("current_database", "SELECT current_database() AS entity_id", "current_database"),
    Attack("information_schema", "SELECT table_name AS entity_id FROM information_schema.tables", "information_schema"),
    Attack("getenv", "SELECT getenv('HOME') AS entity_id", "getenv"),
    Attack(
        "json_serialize_plan_binds_a_read",
        "SELECT json_serialize_plan('SELECT * FROM read_text(''{txt}'')') AS entity_id",
        "json_serialize_plan",
    ),
    Attack(
        "from_json_of_serialized_sql",
        "SELECT from_json(json_serialize_sql('SELECT 1'), '\"JSON\"')::VARCHAR AS entity_id",
        "from_json",
    ),
    # Hiding a name: dot calls, lambdas, quoted or qualified function names, VALUES.
    Attack("dot_call", "SELECT 'temp_directory'.current_setting() AS entity_id", "current_setting"),
    Attack(
        "lambda",
        "SELECT list_transform(['temp_directory'],\n  x -> current_setting(x))[1] AS entity_id",
        "current_setting",
    ),
    Attack(
        "lambda_keyword",
        "SELECT list_transform(['temp_directory'],\n  lambda x: current_setting(x))[1] AS entity_id",
        "current_setting",
    ),
    Attack("quoted_function", "SELECT \"current_setting\"('temp_directory') AS entity_id", "current_setting"),
    Attack(
        "qualified_function",
        "SELECT system.main.current_setting('temp_directory') AS entity_id",
        "system.main",
    ),
    Attack(
        "values_row",
        "SELECT v.x AS entity_id FROM (VALUES (current_setting('temp_directory'))) v(x)",
        "current_setting",
    ),
    # Files, other databases and store tables by other doors.
    Attack("path_literal_as_table", "SELECT token AS entity_id FROM '{csv}'", "FROM '"),
    Attack("glob", "SELECT file AS entity_id FROM glob('/*')", "glob"),
    Attack("query_function", "SELECT path AS entity_id FROM query('SELECT path FROM loaded_files')", "query("),
    Attack("query_table", "SELECT path AS entity_id FROM query_table('loaded_files')", "query_table"),
    Attack("read_blob", "SELECT content::VARCHAR AS entity_id FROM read_blob('{txt}')", "read_blob"),
    Attack("sniff_csv", "SELECT Delimiter AS entity_id FROM sniff_csv('{csv}')", "sniff_csv"),
    Attack("lateral_read_text", "SELECT t.trip_id AS entity_id\nFROM period_trips t, read_text('{txt}')", "read_text"),
    Attack(
        "store_table_in_subquery",
        "SELECT trip_id AS entity_id,\n  (SELECT max(path) FROM loaded_files) AS leak\nFROM period_trips",
        "max(path)",
    ),
    Attack(
        "union_by_name_quarantine",
        "SELECT trip_id AS entity_id FROM period_trips\nUNION ALL BY NAME\nSELECT raw_value AS entity_id FROM quarantine",
        "FROM quarantine",
    ),
    Attack("engine_temp_table", "SELECT finding_id AS entity_id FROM _new_findings", "_new_findings"),
    Attack("describe_subquery", "SELECT column_name AS entity_id FROM (DESCRIBE period_trips)", "DESCRIBE"),
    Attack("checkpoint", "SELECT 'T1' AS entity_id FROM checkpoint()", "checkpoint"),
    Attack("duckdb_logs", "SELECT message AS entity_id FROM duckdb_logs()", "duckdb_logs"),
    Attack("which_secret", "SELECT name AS entity_id FROM which_secret('s3://x', 's3')", "which_secret"),
    Attack("sleep", "SELECT sleep_ms(600000)::VARCHAR AS entity_id", "sleep_ms"),
    Attack("pg_sleep", "SELECT pg_sleep(600)::VARCHAR AS entity_id", "pg_sleep"),
    Attack("random", "SELECT random()::VARCHAR AS entity_id", "random"),
    Attack("nextval", "SELECT nextval('s')::VARCHAR AS entity_id", "nextval"),
    # Statements that are not one SELECT.
    Attack("copy_inside_cte", "WITH x AS (COPY (SELECT 'SECRET-COPY') TO '{out}')\nSELECT 'T1' AS entity_id", None),
    Attack("copy", "COPY period_trips TO '{out}'", None),
    Attack("export_database", "EXPORT DATABASE '{logs}'", None),
    Attack("attach", "ATTACH '{db}' AS o", None),
    Attack("set", "SET enable_external_access = true", None),
    Attack("call", "CALL enable_logging(storage = 'file', storage_path = '{logs}')", None),
    Attack("load", "LOAD parquet", None),
    Attack("install", "INSTALL httpfs", None),
    Attack("pivot_statement", "PIVOT period_trips ON plate", None),
    Attack("create_macro", "CREATE TEMP MACRO m() AS 1", None),
    Attack("two_statements", "SELECT 'T1' AS entity_id;\nSELECT path AS entity_id FROM loaded_files", None),
]

# Pass every check of what they name, and would run for ever: the time limit stops them.
TIMEOUTS = [
    Attack(
        "recursive_cte_without_end",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r)\n"
        "SELECT n::VARCHAR AS entity_id FROM r WHERE n < 0",
    ),
    Attack("huge_range", "SELECT count(*)::VARCHAR AS entity_id FROM range(1000000000000) r WHERE hash(r.range) = 42"),
]


@pytest.fixture(scope="module")
def outside_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Files and a database a rule must never read."""
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    d = tmp_path_factory.mktemp("outside")
    (d / "secret.csv").write_text(f"token\n{SECRET}CSV\n", encoding="utf-8")
    (d / "secret.txt").write_text(f"{SECRET}TXT", encoding="utf-8")
    (d / "secret.json").write_text(f'{{"token": "{SECRET}JSON"}}\n', encoding="utf-8")
    table = pa.table({"token": [f"{SECRET}PARQUET"]}).replace_schema_metadata({"token": f"{SECRET}PARQUET-META"})
    pq.write_table(table, d / "secret.parquet")
    with duckdb.connect(str(d / "other.duckdb")) as con:
        con.execute(f"CREATE TABLE secrets AS SELECT '{SECRET}DB' AS token")
    return d


@pytest.fixture
def outside(outside_once: Path, tmp_path: Path) -> dict[str, str]:
    """Files and a database a rule must never read, and places it must never write: a test's own copy."""
    d = shutil.copytree(outside_once, tmp_path / "outside")
    return {
        "csv": str(d / "secret.csv"),
        "txt": str(d / "secret.txt"),
        "json": str(d / "secret.json"),
        "parquet": str(d / "secret.parquet"),
        "db": str(d / "other.duckdb"),
        "logs": str(d / "logs"),
        "out": str(d / "written.csv"),
    }


def write_attack(folder: Path, query: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "attack.yaml"
    indented = "\n".join("  " + line for line in query.splitlines())
    path.write_text(RULE.format(query=indented), encoding="utf-8")
    return path


def expected_line(path: Path, at: str | None) -> int:
    if at is None:
        return QUERY_KEY_LINE
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if i > QUERY_KEY_LINE and at in line)


def nothing_escaped(outside: dict[str, str], output: str) -> None:
    assert SECRET not in output
    assert not Path(outside["logs"]).exists()
    assert not Path(outside["out"]).exists()


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.id)
def test_hostile_rule_is_refused_at_validation_with_file_and_line(
    attack: Attack, tmp_path: Path, outside: dict[str, str], runner: CliRunner
) -> None:
    path = write_attack(tmp_path / "rules", attack.query.format(**outside))
    r = runner.invoke(coaltrace.cli.app, ["--lang", "en", "rules", "validate", str(path.parent)])
    assert r.exit_code == ExitCode.BAD_INPUT, r.output
    assert f"{path}:{expected_line(path, attack.at)}: query:" in r.output
    # `rules test` reads the same files through the same check, and runs nothing of them.
    r = runner.invoke(coaltrace.cli.app, ["--lang", "en", "rules", "test", str(path.parent)])
    assert r.exit_code == ExitCode.BAD_INPUT, r.output
    nothing_escaped(outside, r.output)


@pytest.fixture(scope="module")
def trips_db_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("trips") / "audit.duckdb"
    with Store(path) as store:
        insert_rows(
            store,
            {
                "transports": [
                    {
                        "trip_id": "T1",
                        "plate": "晋E12345",
                        "origin_id": "M1",
                        "destination_id": "Y1",
                        "departed_at": "2021-12-01 08:00:00",
                        "tonnes_loaded": 5,
                    }
                ]
            },
        )
    return path


@pytest.fixture
def trips_db(trips_db_once: Path, tmp_path: Path) -> Path:
    return copy_db(trips_db_once, tmp_path)


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.id)
def test_hostile_rule_is_refused_by_audit(
    attack: Attack, tmp_path: Path, outside: dict[str, str], runner: CliRunner, trips_db: Path
) -> None:
    path = write_attack(tmp_path / "rules", attack.query.format(**outside))
    args = ["--lang", "en", "audit", "--period", "2021-12", "--rules", str(path.parent), "--db", str(trips_db)]
    r = runner.invoke(coaltrace.cli.app, args)
    assert r.exit_code == ExitCode.BAD_INPUT, r.output
    assert str(path) in r.output
    nothing_escaped(outside, r.output)


@pytest.mark.slow
@pytest.mark.parametrize("attack", TIMEOUTS, ids=lambda a: a.id)
def test_a_rule_that_runs_for_ever_is_stopped_and_the_database_let_go(
    attack: Attack, tmp_path: Path, runner: CliRunner, trips_db: Path
) -> None:
    path = write_attack(tmp_path / "rules", attack.query)
    r = runner.invoke(coaltrace.cli.app, ["--lang", "en", "rules", "validate", str(path.parent)])
    assert r.exit_code == 0, r.output
    started = time.perf_counter()
    args = ["--lang", "en", "audit", "-p", "2021-12", "--rules", str(path.parent), "--db", str(trips_db)]
    r = runner.invoke(coaltrace.cli.app, [*args, "--rule-timeout", "1"])
    assert time.perf_counter() - started < 30
    assert r.exit_code == ExitCode.BAD_INPUT, r.output
    assert "rule attack stopped after 1 s, its time limit" in r.output
    assert "--rule-timeout" in r.output
    # The lock is released: the database opens for writing at once.
    with Store(trips_db) as store:
        assert store.query("SELECT count(*) AS n FROM transports") == [{"n": 1}]
    r = runner.invoke(coaltrace.cli.app, ["--lang", "en", "rules", "test", str(path.parent), "--rule-timeout", "1"])
    assert r.exit_code == ExitCode.FINDINGS, r.output
    assert "stopped after 1 s, its time limit" in r.output


@pytest.mark.slow
def test_the_time_limit_comes_from_the_config_file(tmp_path: Path, runner: CliRunner, trips_db: Path) -> None:
    path = write_attack(tmp_path / "rules", TIMEOUTS[0].query)
    config = tmp_path / "coaltrace.toml"
    config.write_text("[rules]\ntimeout_s = 1\n", encoding="utf-8")
    args = ["--lang", "en", "audit", "-p", "2021-12", "--rules", str(path.parent), "--db", str(trips_db)]
    r = runner.invoke(coaltrace.cli.app, [*args, "--config", str(config)])
    assert r.exit_code == ExitCode.BAD_INPUT, r.output
    assert "stopped after 1 s" in r.output


def test_a_param_value_cannot_break_out_of_its_literal(tmp_path: Path, runner: CliRunner, trips_db: Path) -> None:
    """--param is the user's text: it is rendered as a literal, and the query is checked again with it."""
    text = RULE.format(
        query="  SELECT t.trip_id AS entity_id, ${plate} AS asked FROM period_trips t WHERE t.plate = ${plate}"
    ).replace(
        "evidence: [entity_id]",
        "params:\n  plate: {type: str, default: 晋E12345, description: {zh: 车牌, en: plate}}\nevidence: [entity_id, asked]",
    )
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "attack.yaml").write_text(text, encoding="utf-8")
    hostile = "x' UNION ALL SELECT path, path FROM main.loaded_files --"
    args = ["--lang", "en", "audit", "-p", "2021-12", "--rules", str(folder), "--db", str(trips_db), "--json"]
    r = runner.invoke(coaltrace.cli.app, [*args, "--param", f"attack.plate={hostile}"])
    assert r.exit_code == 0, r.output
    with Store(trips_db, read_only=True) as store:
        assert store.query("SELECT count(*) AS n FROM findings") == [{"n": 0}]


# --- the engine's walls, attacked as if the check before them had a hole -------------------------


@pytest.fixture
def locked(outside: dict[str, str]) -> Store:
    from coaltrace.rules.sandbox import lock_down

    store = Store(":memory:")
    insert_rows(store, {"transports": [{"trip_id": "T1", "departed_at": "2021-12-01 08:00:00"}]})
    lock_down(store.con)
    return store


ENGINE_ATTACKS = {
    "read_text": "SELECT * FROM read_text('{txt}')",
    "read_csv": "SELECT * FROM read_csv('{csv}')",
    "read_json_objects": "SELECT * FROM read_json_objects('{json}')",
    "read_ndjson_auto": "SELECT * FROM read_ndjson_auto('{json}')",
    "parquet_kv_metadata": "SELECT * FROM parquet_kv_metadata('{parquet}')",
    "read_duckdb": "SELECT * FROM read_duckdb('{db}', table_name = 'secrets')",
    "path_as_table": "SELECT * FROM '{csv}'",
    "json_execute_serialized_sql": (
        "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT * FROM read_text(''{txt}'')'))"
    ),
    "attach": "ATTACH '{db}' AS o",
    "copy": "COPY (SELECT 'SECRET-COPY') TO '{out}'",
    "copy_inside_cte": "WITH x AS (COPY (SELECT 'SECRET-COPY') TO '{out}') SELECT 1",
    "export_database": "EXPORT DATABASE '{logs}'",
    "enable_logging": "SELECT * FROM enable_logging(storage = 'file', storage_path = '{logs}')",
    "external_access_back_on": "SET enable_external_access = true",
    "unlock": "SET lock_configuration = false",
    "allowed_directories": "SET allowed_directories = ['/']",
}


@pytest.mark.parametrize("sql", list(ENGINE_ATTACKS.values()), ids=list(ENGINE_ATTACKS))
def test_the_locked_connection_reaches_nothing_outside_the_store(
    sql: str, locked: Store, outside: dict[str, str]
) -> None:
    import duckdb

    with pytest.raises(duckdb.Error) as caught:
        rows = locked.con.sql(sql.format(**outside))
        if rows is not None:
            rows.fetchall()
    nothing_escaped(outside, str(caught.value))
    [(external, lock)] = locked.con.execute(
        "SELECT current_setting('enable_external_access'), current_setting('lock_configuration')"
    ).fetchall()
    assert (external, lock) == (False, True)


def test_the_locked_connection_still_does_the_audits_own_work(locked: Store) -> None:
    """After the lock: Arrow results out, Arrow data registered in, findings written."""
    import pyarrow as pa

    assert locked.con.sql("SELECT trip_id FROM transports").to_arrow_table().num_rows == 1
    locked.con.register("_rows", pa.table({"x": [1, 2]}))
    locked.con.execute("CREATE TEMP TABLE kept AS SELECT * FROM _rows")
    assert locked.query("SELECT count(*) AS n FROM kept") == [{"n": 2}]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT path FROM main.loaded_files",
        "SELECT path FROM loaded_files",
        "WITH loaded_files AS (SELECT 1) SELECT raw_value FROM quarantine",
        "SELECT * FROM duckdb_settings()",
        "SELECT * FROM period_trips, duckdb_tables()",
    ],
)
def test_the_bound_plan_reads_only_what_the_named_views_read(sql: str, locked: Store) -> None:
    """If the names check were fooled about scope, binding still tells which tables are scanned."""
    from coaltrace.period import Period
    from coaltrace.rules.sandbox import check_plan
    from coaltrace.rules.sql import RuleSQLError
    from coaltrace.rules.views import create_views

    create_views(locked.engine, Period.parse("2021-12"))
    check_plan(locked.con, "SELECT trip_id FROM period_trips", ["period_trips"])
    with pytest.raises(RuleSQLError, match="may only read the audit views|may not read from"):
        check_plan(locked.con, sql, ["period_trips"])


def test_an_interrupted_query_leaves_the_connection_usable(locked: Store) -> None:
    from coaltrace.rules.sandbox import RuleTimeoutError, run_sandboxed

    forever = TIMEOUTS[0].query
    started = time.perf_counter()
    with pytest.raises(RuleTimeoutError):
        run_sandboxed(locked.con, forever, [], 0.5)
    assert time.perf_counter() - started < 10
    assert locked.query("SELECT count(*) AS n FROM transports") == [{"n": 1}]
    # Rolled back: not left inside a transaction.
    locked.con.execute("BEGIN TRANSACTION")
    locked.con.execute("ROLLBACK")


def test_every_allowed_name_is_a_duckdb_function() -> None:
    """The allowlist names what DuckDB offers, spelt as its parser reports it (a typo would allow nothing)."""
    import duckdb

    from coaltrace.rules.allowlist import AGGREGATES, FUNCTIONS, TABLE_FUNCTIONS, WINDOWS

    con = duckdb.connect()
    kinds: dict[str, set[str]] = {}
    for name, kind in con.execute("SELECT DISTINCT function_name, function_type FROM duckdb_functions()").fetchall():
        kinds.setdefault(name, set()).add(kind)
    assert {n for n in FUNCTIONS if not kinds.get(n)} == set()
    assert {n for n in TABLE_FUNCTIONS if "table" not in kinds[n]} == set()
    assert {n for n in AGGREGATES if not kinds[n] & {"aggregate", "macro"}} == set()
    assert {n for n in WINDOWS if not kinds[n] & {"window", "aggregate"}} == set()
    # Nothing that reads files, settings or the catalog slipped in.
    assert not {n for n in FUNCTIONS | TABLE_FUNCTIONS if n.startswith(("read_", "duckdb_", "pragma_", "parquet_"))}
    assert not FUNCTIONS & {"current_setting", "getvariable", "getenv", "glob", "query", "json_serialize_sql"}


def test_the_docs_list_exactly_the_allowed_functions() -> None:
    from coaltrace.rules.allowlist import allowlist_markdown

    page = (Path(__file__).resolve().parents[1] / "docs" / "rules.md").read_text(encoding="utf-8")
    begin = page.index("-->\n", page.index("<!-- allowlist:")) + 4
    end = page.index("<!-- end allowlist -->")
    assert page[begin:end] == allowlist_markdown(), "paste allowlist_markdown() between the allowlist markers"


@pytest.mark.parametrize(
    "setting", ["timeout_s = 0", "timeout_s = 'long'", "timeout = 5", "timeout_s = inf", "timeout_s = nan"]
)
def test_a_wrong_time_limit_in_the_config_is_a_usage_error(
    setting: str, tmp_path: Path, runner: CliRunner, trips_db: Path
) -> None:
    config = tmp_path / "coaltrace.toml"
    config.write_text(f"[rules]\n{setting}\n", encoding="utf-8")
    args = ["--lang", "en", "audit", "-p", "2021-12", "--db", str(trips_db), "--config", str(config)]
    r = runner.invoke(coaltrace.cli.app, args)
    assert r.exit_code == ExitCode.USAGE, r.output
    assert "rules.timeout" in r.output  # the key path of the wrong setting


def test_a_function_named_in_a_string_is_not_a_way_around_the_list() -> None:
    from coaltrace.rules.sandbox import check_rule_sql
    from coaltrace.rules.views import READABLE

    refused, _ = check_rule_sql("SELECT list_aggregate([1, 2], 'sum') AS entity_id", READABLE)
    assert [str(e) for e in refused] == [
        "a rule may not call list_aggregate(): it is not on the list of functions rules may use"
    ]


@pytest.mark.parametrize("value", ["inf", "1e308", "nan", "0"])
def test_a_time_limit_no_timer_can_keep_is_a_usage_error(value: str, runner: CliRunner, trips_db: Path) -> None:
    for args in (["audit", "-p", "2021-12", "--db", str(trips_db)], ["rules", "test"]):
        r = runner.invoke(coaltrace.cli.app, [*args, "--rule-timeout", value])
        assert r.exit_code == ExitCode.USAGE, r.output
        assert "--rule-timeout" in r.output


def test_a_folder_given_as_the_config_file_is_a_usage_error(tmp_path: Path, runner: CliRunner, trips_db: Path) -> None:
    args = ["--lang", "en", "audit", "-p", "2021-12", "--db", str(trips_db), "--config", str(tmp_path)]
    r = runner.invoke(coaltrace.cli.app, args)
    assert r.exit_code == ExitCode.USAGE, r.output
    assert f"no config file at {tmp_path}" in r.output


FAIR = [
    "SELECT ifnull(plate, 'x') AS entity_id, coalesce(plate, 'y') FROM period_trips",
    "SELECT trip_id AS entity_id FROM period_trips\n"
    "WHERE plate SIMILAR TO 'x.*' OR plate GLOB 'a*' OR plate ILIKE 'a%' OR plate NOT LIKE 'b%'",
    "SELECT trip_id AS entity_id FROM period_trips WHERE departed_at > CAST('2021-12-01' AS TIMESTAMP) - INTERVAL '1' DAY",
    "SELECT trip_id AS entity_id, EXTRACT(EPOCH FROM departed_at), EXTRACT(HOUR FROM departed_at),\n"
    "  date_trunc('day', departed_at), strftime(departed_at, '%Y'), DATE_DIFF('second', departed_at, arrived_at)\n"
    "FROM period_trips",
    "SELECT trip_id AS entity_id, TRY_CAST(plate AS INTEGER), COUNT(DISTINCT plate) OVER () FROM period_trips",
    "SELECT trip_id AS entity_id, position('a' IN plate), substring(plate FROM 1 FOR 2), trim(BOTH ' ' FROM plate)\n"
    "FROM period_trips",
    "SELECT trip_id AS entity_id, [1, 2][1], {'a': 1}.a, array_length([1]), len(plate), plate[1:2] FROM period_trips",
    "SELECT trip_id AS entity_id, ROW_NUMBER() OVER (PARTITION BY plate ORDER BY departed_at) AS n\n"
    "FROM period_trips QUALIFY n = 1",
    "SELECT trip_id AS entity_id, CASE WHEN plate IS NULL THEN 'n' END, plate IS DISTINCT FROM 'x',\n"
    "  tonnes_loaded BETWEEN 1 AND 2 FROM period_trips",
    "SELECT trip_id AS entity_id, greatest(1, 2), abs(-1), round(1.234, 2), ln(2), sqrt(4), pi() FROM period_trips",
    "SELECT trip_id AS entity_id, string_agg(plate, ',' ORDER BY plate) OVER (), median(tonnes_loaded) OVER (),\n"
    "  quantile_cont(tonnes_loaded, 0.9) OVER () FROM period_trips",
    "SELECT trip_id AS entity_id, list_filter([1, 2], lambda x: x > 1), list_transform([1], lambda x: x + 1)\n"
    "FROM period_trips",
    "SELECT trip_id AS entity_id, regexp_matches(plate, '^晋'), regexp_replace(plate, 'a', 'b') FROM period_trips",
    "SELECT trip_id AS entity_id, concat(plate, 'x'), plate || 'x', lower(plate), lpad(plate, 8, '0'),\n"
    "  starts_with(plate, 'a'), split_part(plate, '-', 1), md5(plate) FROM period_trips",
    "SELECT x AS entity_id FROM unnest(['a', 'b']) AS t(x)",
    "SELECT trip_id AS entity_id, count(*) FILTER (WHERE plate IS NOT NULL) FROM period_trips\n"
    "GROUP BY ALL HAVING count(*) > 1 ORDER BY 1 LIMIT 5",
    "SELECT trip_id AS entity_id, arg_max(plate, departed_at), bool_or(plate IS NULL), count_if(plate IS NULL)\n"
    "FROM period_trips GROUP BY 1",
    "SELECT trip_id AS entity_id, lead(plate, 1) OVER w, lag(plate) OVER w FROM period_trips WINDOW w AS (ORDER BY trip_id)",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3)\n"
    "SELECT CAST(n AS VARCHAR) AS entity_id FROM r",
    "WITH facilities AS (SELECT 'own' AS facility_id) SELECT facility_id AS entity_id FROM facilities",
    'SELECT t.trip_id AS entity_id FROM "PERIOD_TRIPS" t JOIN audit_period p ON t.departed_at >= p.period_start',
]


@pytest.mark.parametrize("sql", FAIR)
def test_what_a_rule_author_reasonably_writes_passes_and_runs(sql: str) -> None:
    from coaltrace.period import Period
    from coaltrace.rules.sandbox import check_rule_sql, run_sandboxed
    from coaltrace.rules.views import READABLE, create_views

    refused, views_read = check_rule_sql(sql, READABLE)
    assert refused == []
    with Store(":memory:") as store:
        insert_rows(store, {"transports": [{"trip_id": "T1", "plate": "晋E1", "departed_at": "2021-12-01 08:00:00"}]})
        create_views(store.engine, Period.parse("2021-12"))
        rows = run_sandboxed(store.con, sql, views_read, 30)
    assert "entity_id" in rows.column_names
