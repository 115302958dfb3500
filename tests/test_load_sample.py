"""The sample month, in all its messy formats, loads as its generator says it must."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from coaltrace.cli import app


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    root = tmp_path_factory.mktemp("month")
    runner = CliRunner()
    res = runner.invoke(app, ["sample", str(root / "sample"), "--scale", "0.02", "--seed", "3"])
    assert res.exit_code == 0, res.output
    db = root / "audit.duckdb"
    res = runner.invoke(app, ["load", "--db", str(db), "--json", str(root / "sample" / "data")])
    assert res.exit_code == 0, res.output
    return root / "sample", db, json.loads(res.stdout)


def test_quarantine_is_exactly_what_the_generator_planted(loaded: tuple[Path, Path, dict]) -> None:
    sample, db, _ = loaded
    expected = pl.read_csv(sample / "quarantine_expected.csv").with_columns(pl.col("file").str.split("/").list.last())
    got = json.loads(CliRunner().invoke(app, ["quarantine", "--db", str(db), "--json", "--limit", "0"]).stdout)
    assert sorted((r["file"], r["line"], r["column_name"], r["reason"]) for r in got) == sorted(expected.iter_rows())


def test_every_table_arrives_and_the_resent_week_is_stored_once(loaded: tuple[Path, Path, dict]) -> None:
    sample, db, report = loaded
    status = json.loads(CliRunner().invoke(app, ["status", "--db", str(db), "--json"]).stdout)
    for table in ("facilities", "licences", "sales", "transports", "intakes", "stocks", "power", "gps", "zones"):
        assert status[table]["rows"] > 0, table
    trips = pl.concat(
        [pl.read_parquet(f).select("trip_id") for f in sorted((sample / "data" / "transports").glob("*.parquet"))]
    )
    assert trips.height > trips["trip_id"].n_unique()  # the generator really did resend a week
    quarantined_trips = sum(f["rows_quarantined"] for f in report["files"] if f["table"] == "transports")
    assert status["transports"]["rows"] == trips["trip_id"].n_unique() - quarantined_trips
    present = sum(f["rows_present"] for f in report["files"] if f["table"] == "transports")
    assert present == trips.height - trips["trip_id"].n_unique()


def test_loading_the_month_again_changes_nothing(loaded: tuple[Path, Path, dict]) -> None:
    sample, db, _ = loaded
    runner = CliRunner()
    before = runner.invoke(app, ["status", "--db", str(db), "--json"]).stdout
    res = runner.invoke(app, ["load", "--db", str(db), "--json", str(sample / "data")])
    assert res.exit_code == 0
    assert sum(f["rows_loaded"] for f in json.loads(res.stdout)["files"]) == 0
    assert runner.invoke(app, ["status", "--db", str(db), "--json"]).stdout == before
