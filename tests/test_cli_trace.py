"""`coaltrace trace`, `balance` and `yard` through the real CLI."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.store import Store
from tests.provenance_helpers import facility, mine, sale, stock


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "audit.duckdb"
    with Store(path) as s:
        mine(s, "M1")
        facility(s, "MX", "mine")  # no licence
        facility(s, "Y1", "yard")
        facility(s, "W1", "washery")
        facility(s, "P1", "power_plant")
        stock(s, "Y1", 100, date(2021, 12, 1))
        sale(s, "M1", "Y1", 600, "2021-12-02")
        sale(s, "MX", "Y1", 200, "2021-12-03")
        sale(s, "Y1", "W1", 900, "2021-12-05")
        sale(s, "W1", "P1", 800, "2021-12-08")
        sale(s, "M1", "Y1", 50, "2021-11-20")  # an earlier month
    return path


def run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, list(args))
    return res.exit_code, res.stdout, res.stderr


def test_balance_json_lists_every_facility_of_the_latest_month(db: Path) -> None:
    code, out, _ = run("balance", "--json", "--db", str(db))
    assert code == 0
    rows = {r["facility_id"]: r for r in json.loads(out)}
    assert set(rows) == {"M1", "MX", "Y1", "W1", "P1"}
    w = rows["W1"]
    assert (w["inflow_t"], w["outflow_t"], w["unsourced_t"]) == (900.0, 800.0, pytest.approx(800 - 900 * 0.85))
    code, out, _ = run("balance", "--json", "--kind", "mine", "--period", "2021-11", "--db", str(db))
    assert [r["facility_id"] for r in json.loads(out)] == ["M1"]


def test_yard_json_is_the_inspectors_page(db: Path) -> None:
    code, out, _ = run("yard", "Y1", "--json", "--db", str(db))
    assert code == 0
    page = json.loads(out)
    assert page["facility_id"] == "Y1"
    assert page["licensed_share"] == pytest.approx(600 / 800)  # opening stock stays out
    assert page["unsourced_t"] == 0
    origins = {(o["origin_class"], o["origin_id"]): o for o in page["origins"]}
    assert origins[("unlicensed", "MX")]["tonnes"] == pytest.approx(200)
    assert origins[("opening_stock", "Y1")]["share"] == pytest.approx(100 / 900, abs=1e-6)


def test_trace_upstream_gives_shares_and_heaviest_paths(db: Path) -> None:
    code, out, _ = run("trace", "P1", "--json", "--db", str(db))
    assert code == 0
    t = json.loads(out)
    classes = {o["origin_class"]: o["share"] for o in t["origins"]}
    unsourced_w = 800 - 765
    assert classes["unsourced"] == pytest.approx(unsourced_w / 800)
    assert classes["licensed"] == pytest.approx(765 / 800 * 600 / 900)
    assert t["paths"][0] == {"path": ["M1", "Y1", "W1", "P1"], "tonnes": pytest.approx(765 * 600 / 900)}
    code, out, _ = run("trace", "P1", "--json", "--policy", "taint", "--db", str(db))
    assert {o["origin_class"] for o in json.loads(out)["origins"]} == {"unlicensed", "unsourced"}


def test_trace_downstream_follows_the_coal(db: Path) -> None:
    code, out, _ = run("trace", "MX", "--downstream", "--depth", "3", "--json", "--db", str(db))
    assert code == 0
    t = json.loads(out)
    assert t["destinations"] == [{"buyer_id": "Y1", "buyer_name": "Y1 名称", "tonnes": 200.0}]
    assert [p["path"] for p in t["paths"]][:3] == [["MX", "Y1"], ["MX", "Y1", "W1"], ["MX", "Y1", "W1", "P1"]]


def test_tables_for_humans_in_both_languages(db: Path) -> None:
    code, out, _ = run("--lang", "en", "yard", "Y1", "--db", str(db))
    assert code == 0
    assert "licensed share 75.0%" in out and "unlicensed production" in out
    code, out, _ = run("--lang", "zh", "balance", "--db", str(db))
    assert code == 0 and "物料平衡" in out and "W1" in out
    code, out, _ = run("--lang", "en", "trace", "P1", "--db", str(db))
    assert code == 0 and "Heaviest paths" in out and "M1 → Y1 → W1 → P1" in out


def test_unknown_facility_is_a_usage_error_naming_it(db: Path) -> None:
    code, _, err = run("--lang", "en", "yard", "NOPE", "--db", str(db))
    assert code == 2
    assert "NOPE" in err
    code, _, err = run("trace", "NOPE", "--upstream", "--downstream", "--db", str(db))
    assert code == 2


def test_empty_database_says_to_load_first(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    Store(path).close()
    code, _, err = run("--lang", "en", "balance", "--db", str(path))
    assert code == 2 and "no sales" in err
