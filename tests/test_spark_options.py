"""The Spark engine's options, the Parquet export and `load-findings`' refusals: no JVM needed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coaltrace.cli import app
from tests.demo_month import demo_month

AUDIT = ["--lang", "en", "audit", "--period", "2021-12"]


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_month(tmp_path_factory) / "coaltrace.duckdb"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--input", "t"], "--input is for --engine spark only"),
        (["--master", "local[2]"], "--master is for --engine spark only"),
        (["--engine", "spark", "--out", "o"], "--engine spark needs --input"),
        (["--engine", "flink"], "--engine 'flink': choose duckdb or spark"),
        (["--engine", "spark", "--input", "t", "--out", "o", "--conf", "executor.memory=4g"], "spark.KEY=VALUE"),
        (
            ["--engine", "spark", "--input", "t", "--out", "o", "--conf", "spark.sql.session.timeZone=UTC"],
            "coaltrace sets it to Asia/Shanghai",
        ),
    ],
)
def test_engine_options_that_do_not_fit_are_usage_errors(args: list[str], words: str) -> None:
    res = CliRunner().invoke(app, [*AUDIT, *args])
    assert res.exit_code == 2, res.output
    assert words in res.output and "Traceback" not in res.output


def test_without_pyspark_the_spark_engine_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("pyspark", "pyspark.sql", "pyspark.errors"):
        monkeypatch.setitem(sys.modules, name, None)
    (tmp_path / "t").mkdir()
    res = CliRunner().invoke(app, [*AUDIT, "--engine", "spark", "--input", "t", "--out", "o"])
    assert res.exit_code == 2, res.output
    assert "needs pyspark" in res.output and "pip install 'coaltrace[spark]'" in res.output


def test_an_older_pyspark_is_refused_with_the_version_it_needs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import pyspark

    monkeypatch.setattr(pyspark, "__version__", "3.5.1")
    (tmp_path / "t").mkdir()
    res = CliRunner().invoke(app, [*AUDIT, "--engine", "spark", "--input", "t", "--out", "o"])
    assert res.exit_code == 2, res.output
    assert "needs pyspark 4 or later, this machine has 3.5.1" in res.output


def test_export_tables_writes_the_layout_by_table_and_month(month: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["--lang", "en", "export", "tables", "--out", "t", "--db", str(month)])
    assert res.exit_code == 0, res.output
    assert "exported the tables to t (Parquet, by table and month)" in res.output
    manifest = json.loads((tmp_path / "t" / "tables.json").read_text(encoding="utf-8"))
    assert [t["table"] for t in manifest["tables"]][:3] == ["facilities", "licences", "sales"]
    assert (tmp_path / "t" / "facilities" / "part-0.parquet").is_file()
    assert [p.name for p in (tmp_path / "t" / "gps").iterdir()] == ["month=2021-12"]
    # Again into its own export: replaced. Into a folder that is not one: refused, nothing touched.
    assert runner.invoke(app, ["export", "tables", "--out", "t", "--db", str(month)]).exit_code == 0
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me", encoding="utf-8")
    refused = runner.invoke(app, ["--lang", "en", "export", "tables", "--out", "mine", "--db", str(month)])
    assert refused.exit_code == 2 and "is not a tables export" in refused.output
    assert (tmp_path / "mine" / "notes.txt").read_text(encoding="utf-8") == "keep me"
    # A period's months and one either side (the opening stock counted the day before is in the month before).
    dec = runner.invoke(app, ["export", "tables", "--out", "dec", "--period", "2021-12", "--db", str(month)])
    assert dec.exit_code == 0, dec.output
    manifest = json.loads((tmp_path / "dec" / "tables.json").read_text(encoding="utf-8"))
    assert manifest["months"] == ["2021-11", "2021-12", "2022-01"]
    whole = json.loads((tmp_path / "t" / "tables.json").read_text(encoding="utf-8"))
    assert {t["table"]: t["rows"] for t in manifest["tables"]} == {t["table"]: t["rows"] for t in whole["tables"]}
    # Another period's months: the registers whole, every dated table empty but typed.
    other = runner.invoke(app, ["export", "tables", "--out", "sep", "--period", "2021-09", "--db", str(month)])
    assert other.exit_code == 0, other.output
    sep = json.loads((tmp_path / "sep" / "tables.json").read_text(encoding="utf-8"))
    rows = {t["table"]: t["rows"] for t in sep["tables"]}
    assert rows["sales"] == 0 and rows["facilities"] > 0
    assert (tmp_path / "sep" / "sales" / "month=none" / "part-0.parquet").is_file()
    wrong = runner.invoke(
        app, ["--lang", "en", "export", "tables", "--out", "x", "--format", "csv", "--db", str(month)]
    )
    assert wrong.exit_code == 2 and "Parquet only" in wrong.output


def test_load_findings_refuses_a_folder_that_is_not_an_audit_output(tmp_path: Path) -> None:
    (tmp_path / "f").mkdir()
    res = CliRunner().invoke(app, ["--lang", "en", "load-findings", "f", "--db", "x.duckdb"])
    assert res.exit_code == 3, res.output
    assert "audit.json" in res.output and "no audit.json" in res.output
    (tmp_path / "f" / "audit.json").write_text('{"layout": "something else"}', encoding="utf-8")
    res = CliRunner().invoke(app, ["--lang", "en", "load-findings", "f", "--db", "x.duckdb"])
    assert res.exit_code == 3 and "'something else'" in res.output
    assert not (tmp_path / "x.duckdb").exists()
