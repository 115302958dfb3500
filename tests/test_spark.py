"""The audit on Apache Spark, in local mode: the same rule pack gives the same findings as DuckDB.

The sample month (`coaltrace demo`, the README's) is loaded and audited on DuckDB, its tables
exported as Parquet (`export tables`), and audited again on Spark from those files. Every
rule of the pack finds something in that month, so every rule is compared.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.engine.spark_engine import SparkEngine
from coaltrace.rules.runner import AuditResult
from coaltrace.rules.sandbox import RuleTimeoutError
from coaltrace.rules.sql import RuleSQLError
from coaltrace.spark.audit import run_spark_audit
from coaltrace.spark.inputs import InputSchemaError, read_inputs
from coaltrace.spark.output import SparkOutput
from coaltrace.spark.session import SparkSettings, start
from coaltrace.store import Store
from tests.spark_helpers import PERIOD, demo_and_tables

pytestmark = pytest.mark.slow

# A query that runs for minutes in many short tasks (a task stops between rows only where Spark
# checks for it, so a runaway cross join could run on in its task after the job is cancelled).
RUNAWAY = "SELECT count(*) AS n FROM range(0, 40000000000, 1, 4000) WHERE hash(id) % 7 = 3"

# Compared exactly; tonnes to 0.001 t.
SAME = ["finding_id", "rule_id", "rule_version", "severity", "entity_kind", "entity_id", "facility_id", "county"]
SAME += ["period", "tonnes_role", "origin_class", "title_zh", "title_en"]


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return demo_and_tables(tmp_path_factory)


@pytest.fixture(scope="module")
def demo(month: tuple[Path, Path]) -> Path:
    """The README's sample month, loaded and audited on DuckDB."""
    return month[0]


@pytest.fixture(scope="module")
def tables(month: tuple[Path, Path]) -> Path:
    """Its tables as Parquet, as `export tables` writes them."""
    return month[1]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = start(SparkSettings(master="local[2]"))
    yield session
    session.stop()


@pytest.fixture(scope="module")
def spark_run(spark: Any, tables: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditResult, SparkOutput]:
    return run_spark_audit(spark, tables, PERIOD, tmp_path_factory.mktemp("spark-out") / "out")


def _duckdb_findings(db: Path) -> pl.DataFrame:
    with Store(db, read_only=True) as store:
        return store.engine.frame("SELECT * FROM findings WHERE period = ?", [PERIOD])


def _duckdb_summary(db: Path) -> dict[str, Any]:
    with Store(db, read_only=True) as store:
        [(text,)] = store.engine.rows(
            "SELECT summary FROM audit_runs WHERE period = ? ORDER BY started_at DESC LIMIT 1", [PERIOD]
        )
    summary: dict[str, Any] = json.loads(text)
    return summary


def test_spark_finds_exactly_what_duckdb_finds(demo: Path, spark_run: tuple[AuditResult, SparkOutput]) -> None:
    result, output = spark_run
    duck = _duckdb_findings(demo / "coaltrace.duckdb").sort("finding_id")
    sparked = pl.read_parquet(output.folder / "findings.parquet").sort("finding_id")
    assert sparked.height == duck.height == result.findings
    # Every rule of the pack ran and found something: every rule is compared, not only some.
    assert {r.rule_id for r in result.rules if r.status == "ran" and r.findings} == set(duck["rule_id"])
    assert len(result.rules) >= 25
    assert sparked.select(SAME).equals(duck.select(SAME))
    tonnes = sparked.select("tonnes_at_risk").to_series() - duck.select("tonnes_at_risk").to_series()
    assert (tonnes.abs().fill_null(0) <= 0.0005).all()
    assert sparked["tonnes_at_risk"].is_null().to_list() == duck["tonnes_at_risk"].is_null().to_list()
    # The evidence an inspector checks by hand, and the parameters in force, are the same rows and values.
    for column in ("evidence", "params"):
        assert [json.loads(v) for v in sparked[column]] == [json.loads(v) for v in duck[column]], column


def test_spark_figures_rules_and_gaps_match(demo: Path, spark_run: tuple[AuditResult, SparkOutput]) -> None:
    result, output = spark_run
    duck = _duckdb_summary(demo / "coaltrace.duckdb")
    spark_summary = json.loads((output.folder / "audit.json").read_text(encoding="utf-8"))["summary"]
    assert spark_summary["engine"] == "spark" and duck["engine"] == "duckdb"
    for key in ("tonnes_at_risk", "tonnes_at_risk_by_class", "by_severity", "worst_facilities", "counties"):
        assert spark_summary[key] == duck[key], key
    for key in ("data_gaps", "rows", "params", "findings"):
        assert spark_summary[key] == duck[key], key

    def runs(s: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
        return {r["id"]: (r["status"], r["findings"], round(r["tonnes_at_risk"], 3), r["reason"]) for r in s["rules"]}

    assert runs(spark_summary) == runs(duck)
    assert result.tonnes_at_risk == pytest.approx(duck["tonnes_at_risk"], abs=0.001)


def test_output_folder_holds_findings_jsonl_and_facility_sized_tables(
    spark_run: tuple[AuditResult, SparkOutput],
) -> None:
    _, output = spark_run
    lines = (output.folder / "findings.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == output.findings
    first = json.loads(lines[0])
    assert isinstance(first["evidence"]["rows"], list) and first["rule_id"]
    for name in ("balances", "flows", "origin_shares", "running_breaches"):
        assert (output.folder / "provenance" / f"{name}.parquet").is_file()
    facilities = pq.read_table(output.folder / "registers" / "facilities.parquet")
    flows = pq.read_table(output.folder / "provenance" / "flows.parquet")
    # Facility-sized: the flows are seller x buyer x product, far fewer than the trips behind them.
    assert 0 < flows.num_rows < 2_000 and facilities.num_rows == 76


def test_load_findings_gives_the_report_yard_page_and_ledger(
    spark_run: tuple[AuditResult, SparkOutput], demo: Path, tmp_path: Path
) -> None:
    _, output = spark_run
    db = tmp_path / "national.duckdb"
    runner = CliRunner()
    res = runner.invoke(app, ["--lang", "en", "load-findings", str(output.folder), "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert "registers loaded from the folder" in res.output and f"{output.findings} findings" in res.output
    with Store(db, read_only=True) as store:
        assert store.engine.scalar("SELECT count(*) FROM findings") == output.findings
        items = store.engine.scalar("SELECT count(*) FROM ledger_items")
    assert items and items > 0

    # Bringing the same folder in again changes nothing.
    again = runner.invoke(app, ["--lang", "en", "load-findings", str(output.folder), "--db", str(db), "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["ledger"]["created"] == 0
    with Store(db, read_only=True) as store:
        assert store.engine.scalar("SELECT count(*) FROM findings") == output.findings
        assert store.engine.scalar("SELECT count(*) FROM audit_runs") == 1
        assert store.engine.scalar("SELECT count(*) FROM ledger_items") == items
        worst = store.engine.first(
            "SELECT facility_id FROM findings WHERE facility_id IS NOT NULL ORDER BY tonnes_at_risk DESC LIMIT 1"
        )
    assert worst is not None

    report = runner.invoke(app, ["--lang", "en", "report", "--period", PERIOD, "--db", str(db), "--out", "rep"])
    assert report.exit_code == 0, report.output
    html = (tmp_path / "rep" / "report.html").read_text(encoding="utf-8")
    assert "34,405.728" in html
    yard = runner.invoke(app, ["--lang", "en", "yard", worst[0], "--db", str(db)])
    assert yard.exit_code == 0, yard.output
    assert "Open findings" in yard.output and "Stock check" in yard.output
    ledger = runner.invoke(app, ["--lang", "en", "ledger", "list", "--db", str(db), "--format", "json"])
    assert ledger.exit_code == 0, ledger.output
    assert len(json.loads(ledger.stdout)) == items


def test_load_findings_into_the_audited_store_keeps_its_registers(
    spark_run: tuple[AuditResult, SparkOutput], demo: Path, tmp_path: Path
) -> None:
    _, output = spark_run
    db = tmp_path / "copy.duckdb"
    shutil.copy(demo / "coaltrace.duckdb", db)
    res = CliRunner().invoke(app, ["--lang", "en", "load-findings", str(output.folder), "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    # The DuckDB audit already filed the same findings: the ledger gains nothing.
    filed = json.loads(res.stdout)["ledger"]
    assert (filed["created"], filed["attached"], filed["reopened"]) == (0, 0, 0)
    with Store(db, read_only=True) as store:
        assert store.engine.scalar("SELECT count(DISTINCT _load_id) FROM facilities WHERE _load_id LIKE 'spark:%'") == 0
        assert store.engine.scalar("SELECT count(*) FROM findings WHERE period = ?", [PERIOD]) == output.findings


def test_cli_audit_on_spark_reads_a_partial_layout_and_names_the_gap(spark: Any, tables: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    shutil.copytree(tables, partial)
    shutil.rmtree(partial / "gps")
    res = CliRunner().invoke(
        app,
        [
            "--lang",
            "en",
            "audit",
            "--engine",
            "spark",
            "--input",
            str(partial),
            "--out",
            str(tmp_path / "out"),
            "--period",
            PERIOD,
            "--only",
            "trip_too_fast,trip_starts_in_zone",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    status = {r["id"]: (r["status"], r["reason"], r["findings"]) for r in summary["rules"]}
    assert status["trip_starts_in_zone"] == ("no_data", "no_rows:gps", 0)
    assert status["trip_too_fast"][0] == "ran" and status["trip_too_fast"][2] == 1
    assert any(g["code"] == "no_rows" and g["subject"] == "gps" for g in summary["data_gaps"])
    assert (tmp_path / "out" / "findings.parquet").is_file()
    # The test's own session is still up: the command stops only a session it started.
    assert spark.sparkContext._jsc is not None


def _write_sales(folder: Path, **override: pa.Array) -> None:
    columns: dict[str, pa.Array] = {
        "sale_id": pa.array(["S1"]),
        "sold_at": pa.array([pa.scalar(0, pa.timestamp("us")).as_py()], pa.timestamp("us")),
        "seller_id": pa.array(["A"]),
        "buyer_id": pa.array(["B"]),
        "product": pa.array(["raw"]),
        "tonnes": pa.array([30.0]),
        "waybill_no": pa.array(["W1"]),
        "invoice_no": pa.array([None], pa.string()),
    }
    columns.update(override)
    for name in [n for n, v in override.items() if v is None]:
        del columns[name]
    target = folder / "sales" / "month=2021-12"
    target.mkdir(parents=True)
    pq.write_table(pa.table(columns), target / "part-0.parquet")


def test_a_table_that_does_not_fit_the_contract_is_refused_by_table_and_column(
    spark: Any, tables: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(tables, bad, ignore=shutil.ignore_patterns("sales"))
    _write_sales(bad, sold_at=pa.array(["2021-12-01 08:00"]), tonnes=None)  # type: ignore[arg-type]
    with pytest.raises(InputSchemaError) as caught:
        read_inputs(spark, bad)
    message = caught.value.render("en")
    assert "table sales does not fit the contract" in message
    assert "column 'sold_at' is string, the contract needs timestamp" in message
    assert "column 'tonnes' is missing" in message
    assert "sales/month=2021-12/part-0.parquet" in message

    res = CliRunner().invoke(
        app,
        ["--lang", "en", "audit", "--engine", "spark", "--input", str(bad), "--out", "o", "--period", PERIOD],
    )
    assert res.exit_code == 3, res.output
    assert "column 'sold_at'" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


def test_zoned_instants_are_read_as_china_time(spark: Any, tables: Path, tmp_path: Path) -> None:
    zoned = tmp_path / "zoned"
    shutil.copytree(tables, zoned, ignore=shutil.ignore_patterns("sales"))
    utc = pa.array([pa.scalar(0, pa.timestamp("us")).as_py()], pa.timestamp("us", tz="UTC"))
    _write_sales(zoned, sold_at=utc)
    sales = read_inputs(spark, zoned).frames["sales"]
    [row] = sales.select("sold_at").collect()
    assert str(row[0]) == "1970-01-01 08:00:00"


def test_the_spark_sandbox_holds_without_the_rule_checks(spark: Any, tables: Path, spark_run: Any) -> None:
    engine = SparkEngine(spark)
    path = next((tables / "facilities").glob("*.parquet"))
    # Past wall 1 (DuckDB's reading of the rule), Spark itself refuses a path as a table.
    with pytest.raises(RuleSQLError):
        engine.run_rule(f"SELECT * FROM parquet.`{path}`", ["facilities"], 30)
    # A view the rule does not say it reads is refused by the files its plan reads.
    with pytest.raises(RuleSQLError, match="may not read"):
        engine.run_rule("SELECT * FROM sales", ["facilities"], 30)
    assert engine.run_rule("SELECT count(*) AS n FROM facilities", ["facilities"], 30).column("n")[0].as_py() == 76
    # Minutes of work in thousands of short tasks: stopped at its limit, and the cores are free at once after.
    with pytest.raises(RuleTimeoutError):
        engine.run_rule(RUNAWAY, [], 1.0)
    started = time.monotonic()
    assert engine.run_rule("SELECT count(*) AS n FROM facilities", ["facilities"], 30).column("n")[0].as_py() == 76
    assert time.monotonic() - started < 10


def test_export_tables_round_trips_every_row(demo: Path, tables: Path) -> None:
    manifest = json.loads((tables / "tables.json").read_text(encoding="utf-8"))
    with Store(demo / "coaltrace.duckdb", read_only=True) as store:
        for entry in manifest["tables"]:
            name = entry["table"]
            assert entry["rows"] == store.engine.scalar(f"SELECT count(*) FROM {name}"), name
            back = duckdb.sql(
                f"SELECT count(*), count(DISTINCT _line) FROM read_parquet('{tables / name}/**/*.parquet', "
                "hive_partitioning = true)"
            ).fetchall()[0]
            assert back[0] == entry["rows"], name
    assert sorted(p.name for p in (tables / "sales").iterdir()) == ["month=2021-12"]


def test_rule_cases_pass_on_spark_positives_and_negatives(spark: Any) -> None:
    # One rule on the period's rows, one on provenance; both have cases that must not fire.
    res = CliRunner().invoke(
        app,
        [
            "--lang",
            "en",
            "rules",
            "test",
            "--engine",
            "spark",
            "--only",
            "dq_impossible_times,mine_over_capacity",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "ok     dq_impossible_times" in res.output and "ok     mine_over_capacity" in res.output
    assert "0 failed" in res.output
