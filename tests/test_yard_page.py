"""`coaltrace yard`: the inspector's page on the sample month's contaminated yard."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.period import Period
from coaltrace.rules.casetest import insert_rows
from coaltrace.rules.findings import ensure_tables
from coaltrace.store import Store
from coaltrace.yard.page import yard_page

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("inspect")
    res = CliRunner().invoke(app, ["demo", str(out), "--scale", "0.02", "--seed", "5"])
    assert res.exit_code == 0, res.output
    return out


def test_yard_page_names_suppliers_origins_and_open_findings(month: Path) -> None:
    truth = pl.read_csv(month / "sample" / "truth.csv", infer_schema_length=0)
    yard = truth.filter(pl.col("rule_id") == "facility_low_licensed_share")["entity_id"][0]
    bad_channels = truth.filter(
        (pl.col("rule_id") == "intake_unlicensed_supplier") & pl.col("entity_id").str.ends_with(f">{yard}")
    )
    res = CliRunner().invoke(app, ["yard", yard, "--db", str(month / "coaltrace.duckdb"), "--json"])
    assert res.exit_code == 0, res.output
    page = json.loads(res.stdout)
    assert page["facility_id"] == yard and page["licensed_share"] < 0.8
    # Every supplier with no valid licence shows as such, and the open findings name the channel.
    unlicensed = {s["seller_id"] for s in page["suppliers"] if s["kind"] == "mine" and s["licence_state"] != "valid"}
    assert unlicensed == {c.split(">")[0] for c in bad_channels["entity_id"]}
    rules = {(f["rule_id"], f["entity_id"]) for f in page["findings"]}
    assert ("facility_low_licensed_share", yard) in rules
    assert {("intake_unlicensed_supplier", c) for c in bad_channels["entity_id"]} <= rules
    assert abs(sum(o["share"] for o in page["origins"]) - 1) < 1e-4  # shares are rounded to 1e-6


def test_yard_page_in_chinese_and_unknown_facility(month: Path) -> None:
    db = str(month / "coaltrace.duckdb")
    truth = pl.read_csv(month / "sample" / "truth.csv", infer_schema_length=0)
    yard = truth.filter(pl.col("rule_id") == "facility_low_licensed_share")["entity_id"][0]
    res = CliRunner().invoke(app, ["--lang", "zh", "yard", yard, "--db", db])
    assert res.exit_code == 0 and "供货单位" in res.stdout and "未结问题" in res.stdout
    res = CliRunner().invoke(app, ["--lang", "en", "yard", "NOPE", "--db", db])
    assert res.exit_code == 2 and "NOPE" in res.output


def test_trace_compares_the_two_policies_side_by_side(month: Path) -> None:
    truth = pl.read_csv(month / "sample" / "truth.csv", infer_schema_length=0)
    yard = truth.filter(pl.col("rule_id") == "facility_low_licensed_share")["entity_id"][0]
    res = CliRunner().invoke(
        app, ["trace", yard, "--policy", "both", "--json", "--db", str(month / "coaltrace.duckdb")]
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["origins"]
    assert abs(sum(r["proportional_share"] for r in rows) - 1) < 1e-4
    assert abs(sum(r["taint_share"] for r in rows) - 1) < 1e-4
    licensed = [r for r in rows if r["origin_class"] == "licensed"]
    # Mixed with unknown coal, the licensed part keeps its share proportionally and loses it under taint.
    assert sum(r["proportional_share"] for r in licensed) > 0
    assert sum(r["taint_share"] for r in licensed) == 0


def test_common_mistakes_are_told_in_chinese(month: Path) -> None:
    db = str(month / "coaltrace.duckdb")
    cases = [
        (["yard", "NOPE", "--db", db], "未知单位"),
        (["rules", "show", "no_such_rule"], "没有规则"),
        (["findings", "--db", db, "--format", "xml"], "只能是"),
        (["audit", "--period", "2021-12", "--db", db, "--param", "oops"], "规则.参数=值"),
        (["sample", str(month), "--scale", "0.01"], "不是空文件夹"),
    ]
    for args, words in cases:
        res = CliRunner().invoke(app, ["--lang", "zh", *args])
        assert res.exit_code == 2, (args, res.output)
        assert words in res.output, (args, res.output)


def test_yard_findings_of_an_id_with_an_underscore_are_its_own(fresh_db: Store) -> None:
    insert_rows(
        fresh_db,
        {
            "facilities": [{"facility_id": f, "name": f, "kind": "yard"} for f in ("Y_1", "YA1")]
            + [{"facility_id": "M1", "name": "M1", "kind": "mine"}],
            "sales": [
                {"sale_id": f"S{i}", "sold_at": "2021-12-03 08:00:00", "seller_id": "M1", "buyer_id": b, "tonnes": 30}
                for i, b in enumerate(("Y_1", "YA1"))
            ],
        },
    )
    ensure_tables(fresh_db)
    for entity in ("M1>Y_1", "M1>YA1", "YA1>M1"):
        fresh_db.con.execute(
            "INSERT INTO findings (finding_id, rule_id, severity, entity_kind, entity_id, period) "
            "VALUES (?, 'r', 'high', 'flow', ?, '2021-12')",
            [entity, entity],
        )
    page = yard_page(fresh_db, "Y_1", Period.parse("2021-12"))
    assert [f["entity_id"] for f in page["findings"]] == ["M1>Y_1"]
