"""`coaltrace sample --months 2`: January 2022 beside December, with its own truth, December unchanged,
and problems that come back."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.ledger.model import RULE_PROBLEMS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("two") / "s"
    done = CliRunner().invoke(
        app, ["--lang", "en", "sample", str(out), "--scale", "0.02", "--seed", "7", "--months", "2"]
    )
    assert done.exit_code == 0, done.output
    assert "January 2022" in done.output
    return out


def test_january_sits_beside_december_and_december_does_not_change(two: Path, tmp_path: Path) -> None:
    one = tmp_path / "one"
    assert CliRunner().invoke(app, ["sample", str(one), "--scale", "0.02", "--seed", "7"]).exit_code == 0
    jan = two / "data" / "2022-01"
    assert {p.name for p in jan.iterdir()} == {"sales", "transports", "intakes", "gps", "power.csv", "stocks.csv"}
    for f in sorted((one / "data").rglob("*")):
        if f.suffix in (".csv", ".parquet"):
            rel = f.relative_to(one)
            if rel.name != "zones.csv":
                assert (two / rel).read_bytes() == f.read_bytes(), rel
    zones_one = (one / "data" / "zones.csv").read_text(encoding="utf-8").splitlines()
    zones_two = (two / "data" / "zones.csv").read_text(encoding="utf-8").splitlines()
    assert zones_two[: len(zones_one)] == zones_one and len(zones_two) > len(zones_one)
    assert "2022年1月" in (jan / "power.csv").read_bytes().decode("gb18030")
    assert "## January 2022" in (two / "README.md").read_text(encoding="utf-8")


def test_december_problems_come_back_in_january_and_put_right_ones_do_not(two: Path) -> None:
    truth = pl.read_csv(two / "truth.csv", infer_schema_length=0)
    assert set(truth["period"]) == {"2021-12", "2022-01"}
    keyed = truth.with_columns(
        pl.col("rule_id").replace_strict(RULE_PROBLEMS).alias("problem"),
        pl.col("facility_id").fill_null(pl.col("entity_id")).alias("place"),
    )
    dec = set(keyed.filter(pl.col("period") == "2021-12").select("place", "problem").iter_rows())
    jan = set(keyed.filter(pl.col("period") == "2022-01").select("place", "problem").iter_rows())
    assert dec & jan, "some December problems recur in January"
    by_case = {(r["case_id"], r["period"]) for r in truth.iter_rows(named=True)}
    assert ("01.1", "2022-01") in by_case and ("03.1", "2022-01") in by_case
    for put_right in ("04.1", "05.1", "06.1", "08.1", "09.1"):
        assert (put_right, "2021-12") in by_case and (put_right, "2022-01") not in by_case, put_right


def test_an_audit_of_each_month_finds_exactly_its_truth(two: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    db = tmp_path / "two.duckdb"
    assert runner.invoke(app, ["load", str(two / "data"), "--db", str(db)]).exit_code == 0
    truth = pl.read_csv(two / "truth.csv", infer_schema_length=0)
    for period in ("2021-12", "2022-01"):
        done = runner.invoke(app, ["audit", "--period", period, "--db", str(db), "--json"])
        assert done.exit_code == 0, done.output
        found = runner.invoke(app, ["findings", "--period", period, "--format", "json", "--db", str(db)])
        got = {(f["rule_id"], f["entity_id"]) for f in json.loads(found.stdout)}
        want = set(truth.filter(pl.col("period") == period).select("rule_id", "entity_id").iter_rows())
        assert got == want, period


def test_more_months_than_the_sample_has_are_refused(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["sample", str(tmp_path / "x"), "--months", "3"])
    assert done.exit_code == 2
