"""`coaltrace yard` for the inspector: every field of the page, a terminal view that fits A4, and lookup by
id in any case or part of a name, with suggestions."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.errors import ExitCode
from coaltrace.store import Store
from tests.demo_month import demo_month
from tests.provenance_helpers import facility, mine, sale, stock

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_month(tmp_path_factory)


@pytest.fixture(scope="module")
def yard_id(month: Path) -> str:
    truth = pl.read_csv(month / "sample" / "truth.csv", infer_schema_length=0)
    return str(truth.filter(pl.col("rule_id") == "facility_low_licensed_share")["entity_id"][0])


def run(*args: str, lang: str = "en") -> tuple[int, str, str]:
    res = CliRunner().invoke(app, ["--lang", lang, *args])
    return res.exit_code, res.stdout, res.stderr


def page_of(month: Path, facility: str) -> dict:
    code, out, err = run("yard", facility, "--json", "--db", str(month / "coaltrace.duckdb"))
    assert code == 0, err
    return json.loads(out)


def test_the_page_has_what_an_inspector_needs(month: Path, yard_id: str) -> None:
    page = page_of(month, yard_id)
    assert page["kind"] == "yard" and page["name"] and page["county"]
    assert page["address"] and page["legal_rep"] and page["phone"]  # the register's contact columns, kept
    assert page["suppliers"] and all(
        {"seller_id", "name", "tonnes", "licence_state"} <= set(s) for s in page["suppliers"]
    )
    assert page["buyers"] and all({"buyer_id", "name", "tonnes", "trips"} <= set(b) for b in page["buyers"])
    assert 0 < page["licensed_share"] < 0.8
    assert page["rest"] and {o["origin_class"] for o in page["rest"]} <= {
        "unlicensed",
        "over_capacity",
        "unsourced",
        "data_gap",
        "opening_stock",
    }
    st = page["stock"]
    computed = st["opening_t"] + st["usable_inflow_t"] + st["production_t"] - st["outflow_t"]
    assert st["closing_computed_t"] == pytest.approx(computed, abs=1e-3)
    assert st["usable_inflow_t"] == pytest.approx(st["inflow_t"] * st["yield_factor"], abs=1e-3)
    intake = next(f for f in page["findings"] if f["rule_id"] == "intake_unlicensed_supplier")
    assert (
        0 < len(intake["evidence"]) <= 8
        and intake["evidence_total"] == len(intake["evidence"]) + intake["evidence_more"]
    )
    for record in intake["evidence"]:
        assert record["table"] == "intakes" and record["plate"] and record["at"] and record["file"] and record["line"]
    assert [r["at"] for r in intake["evidence"]] == sorted(r["at"] for r in intake["evidence"])
    assert intake["false_positives"] and intake["false_positives"][0]["zh"] and intake["checks"] == [2]
    checks = {c["check"]: c for c in page["checklist"]}
    assert set(checks) == {1, 2, 4, 5, 8}  # a yard: no shafts or outcrops to check
    assert intake["finding_id"] in checks[2]["findings"] and checks[2]["title"]["zh"] == "煤场收货渠道是否正规"
    assert len(page["sign"]) >= 3 and all(s["zh"] and s["en"] for s in page["sign"])
    assert page["round_trips"] == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_terminal_view_fits_100_columns_when_piped(month: Path, yard_id: str, lang: str) -> None:
    code, out, err = run("yard", yard_id, "--db", str(month / "coaltrace.duckdb"), lang=lang)
    assert code == 0, err
    lines = out.splitlines()
    assert max(cell_len(line) for line in lines) <= 100
    words = {
        "zh": [
            "库存核对",
            "计算期末库存",
            "供货单位",
            "去向单位",
            "未结问题",
            "可能误报",
            "八查",
            "检查人员（签字）",
            "煤场",
        ],
        "en": [
            "Stock check",
            "computed",
            "Suppliers",
            "Buyers",
            "Open findings",
            "false positive",
            "eight checks",
            "inspector",
        ],
    }[lang]
    for w in words:
        assert w in out, w
    if lang == "zh":  # labels, not codes (rule ids such as facility_low_licensed_share stay as they are)
        assert not re.findall(r"(?<![_a-z])(mine|yard|valid|unlicensed|unsourced|opening_stock|high)(?![_a-z])", out)


def test_lookup_by_lower_case_id_and_part_of_a_chinese_name(month: Path, yard_id: str) -> None:
    db = str(month / "coaltrace.duckdb")
    assert page_of(month, yard_id.lower())["facility_id"] == yard_id
    with Store(month / "coaltrace.duckdb", read_only=True) as s:
        name = s.engine.scalar("SELECT name FROM facilities WHERE facility_id = ?", [yard_id])
    part = name[2:6]
    with Store(month / "coaltrace.duckdb", read_only=True) as s:
        assert (
            s.engine.scalar("SELECT count(DISTINCT facility_id) FROM facilities WHERE contains(name, ?)", [part]) == 1
        )
    code, out, err = run("yard", part, "--json", "--db", db)
    assert code == 0 and json.loads(out)["facility_id"] == yard_id and yard_id in err
    code, out, err = run("trace", yard_id.lower(), "--json", "--db", db)
    assert code == 0 and json.loads(out)["facility_id"] == yard_id


def test_a_near_miss_gets_suggestions_and_several_matches_are_listed(month: Path, yard_id: str) -> None:
    db = str(month / "coaltrace.duckdb")
    with Store(month / "coaltrace.duckdb", read_only=True) as s:
        name = s.engine.scalar("SELECT name FROM facilities WHERE facility_id = ?", [yard_id])
        county = s.engine.scalar("SELECT county FROM facilities WHERE facility_id = ?", [yard_id])
    slip = name[:3] + "X" + name[4:8]  # one character wrong
    code, out, err = run("yard", slip, "--db", db)
    assert code == ExitCode.USAGE and not out
    assert "did you mean" in err and yard_id in err
    code, _, err = run("yard", slip, "--db", db, lang="zh")
    assert code == ExitCode.USAGE and "是否要找" in err and yard_id in err
    code, out, err = run("yard", county, "--db", db)  # every facility of the county
    assert code == ExitCode.USAGE and "facilities; give one of their ids" in err and err.count(county) >= 3


def test_a_trader_in_a_round_trip_sees_it_on_its_page(tmp_path: Path) -> None:
    db = tmp_path / "ring.duckdb"
    with Store(db) as s:
        mine(s, "M1")
        for t in ("T1", "T2"):
            facility(s, t, "trader")
        stock(s, "T1", 0, date(2021, 12, 1))
        sale(s, "M1", "T1", 500, "2021-12-02")
        sale(s, "T1", "T2", 400, "2021-12-03")
        sale(s, "T2", "T1", 300, "2021-12-04")
    assert run("audit", "--period", "2021-12", "--db", str(db))[0] == 0
    page = json.loads(run("yard", "t2", "--json", "--db", str(db))[1])
    [ring] = page["round_trips"]
    assert ring["facilities"] == ["T1", "T2"] and ring["tonnes_round"] == pytest.approx(300)
    code, out, _ = run("yard", "T1", "--db", str(db))
    assert code == 0 and "T1 → T2" in out.replace("T1 名称", "").replace("T2 名称", "").replace("  ", " ")
