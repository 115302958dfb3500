"""`coaltrace export`: each export opens in what it is for (QGIS, Gephi, Polars, Excel)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import networkx as nx
import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.errors import ExitCode
from coaltrace.store import Store
from tests.demo_month import demo_month
from tests.provenance_helpers import facility, mine, sale, stock

pytestmark = pytest.mark.slow

CLASSES = ("licensed", "over_capacity", "unlicensed", "unsourced", "data_gap", "opening_stock")
HOSTILE = '=HYPERLINK("http://evil.example","点我")'


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_month(tmp_path_factory)


@pytest.fixture(scope="module")
def ring(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three traders selling coal round in a ring, one of them named like a formula, and a mine feeding it."""
    path = tmp_path_factory.mktemp("ring") / "ring.duckdb"
    with Store(path) as s:
        mine(s, "M1")
        facility(s, "T1", "trader")
        facility(s, "T2", "trader", county="高平市")
        facility(s, "T3", "trader")
        facility(s, "Y1", "yard")
        s.con.execute("UPDATE facilities SET name = ?, lat = 35.5, lon = 112.8 WHERE facility_id = 'T1'", [HOSTILE])
        s.con.execute("UPDATE facilities SET lat = 35.6, lon = 112.9 WHERE facility_id <> 'T1'")
        stock(s, "Y1", 10, date(2021, 12, 1))
        sale(s, "M1", "T1", 900, "2021-12-02")
        sale(s, "T1", "T2", 800, "2021-12-03")
        sale(s, "T2", "T3", 700, "2021-12-04")
        sale(s, "T3", "T1", 600, "2021-12-05")
        sale(s, "T3", "Y1", 50, "2021-12-06")
    res = CliRunner().invoke(app, ["audit", "--period", "2021-12", "--db", str(path)])
    assert res.exit_code == 0, res.output
    return path


def run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, ["--lang", "en", *args])
    return res.exit_code, res.stdout, res.stderr


def test_geojson_is_rfc7946_points_and_lines_lon_first(month: Path, tmp_path: Path) -> None:
    db = month / "coaltrace.duckdb"
    out = tmp_path / "graph.geojson"
    code, _, err = run("export", "graph", "--period", "2021-12", "-f", "geojson", "-o", str(out), "--db", str(db))
    assert code == 0, err
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    kinds = {f["properties"]["feature"]: set() for f in data["features"]}
    for f in data["features"]:
        assert f["type"] == "Feature" and set(f) == {"type", "id", "geometry", "properties"}
        kinds[f["properties"]["feature"]].add(f["geometry"]["type"] if f["geometry"] else None)
    assert kinds == {"facility": {"Point"}, "flow": {"LineString"}}
    with Store(db, read_only=True) as s:
        where = {r[0]: (r[1], r[2]) for r in s.engine.rows("SELECT facility_id, lon, lat FROM facilities")}
    points = {f["id"]: f for f in data["features"] if f["properties"]["feature"] == "facility"}
    for fid, p in points.items():
        lon, lat = p["geometry"]["coordinates"]
        assert (lon, lat) == pytest.approx(where[fid], abs=1e-6)  # longitude first
        assert 73 < lon < 136 and 18 < lat < 54  # China, so not swapped
        props = p["properties"]
        assert {"facility_id", "name", "kind", "kind_label", "county", "status", "licence_state"} <= set(props)
        assert {"inflow_t", "outflow_t", "tonnes_at_risk"} <= set(props)
    lines = [f for f in data["features"] if f["properties"]["feature"] == "flow"]
    assert lines
    for f in lines:
        props = f["properties"]
        seller, buyer = props["seller_id"], props["buyer_id"]
        assert f["geometry"]["coordinates"] == [
            points[seller]["geometry"]["coordinates"],
            points[buyer]["geometry"]["coordinates"],
        ]
        assert sum(props[f"{c}_share"] for c in CLASSES) == pytest.approx(1, abs=1e-5)
        assert isinstance(props["findings"], int) and props["tonnes"] > 0
    assert any(f["properties"]["findings"] for f in lines)


def test_graphml_reads_back_with_networkx_with_flat_attributes(month: Path, tmp_path: Path) -> None:
    db = month / "coaltrace.duckdb"
    out = tmp_path / "g.graphml"
    assert run("export", "graph", "-o", str(out), "--db", str(db))[0] == 0
    g = nx.read_graphml(out)
    with Store(db, read_only=True) as s:
        nodes = s.engine.scalar("SELECT count(*) FROM balances WHERE period = '2021-12'")
        edges = s.engine.scalar(
            "SELECT count(*) FROM (SELECT DISTINCT seller_id, buyer_id FROM flows WHERE period = '2021-12' "
            "AND seller_id <> buyer_id GROUP BY ALL HAVING sum(tonnes) > 0)"
        )
    assert (g.number_of_nodes(), g.number_of_edges()) == (nodes, edges)
    for _, attrs in g.nodes(data=True):
        assert attrs["label"] and attrs["kind"] and isinstance(attrs["component"], int)
        assert all(isinstance(v, str | int | float | bool) for v in attrs.values())
    for _, _, attrs in g.edges(data=True):
        assert sum(attrs[f"{c}_share"] for c in CLASSES) == pytest.approx(1, abs=1e-5)
        assert isinstance(attrs["tonnes"], float) and isinstance(attrs["trips"], int)
        assert " > " in attrs["upstream_path"] or attrs["upstream_path"].count(">") == 0
    assert g.graph["period"] == "2021-12"


def test_round_tripping_traders_are_listed_in_every_graph_export(ring: Path, tmp_path: Path) -> None:
    code, out, err = run("export", "graph", "-f", "json", "--db", str(ring))
    assert code == 0, err
    data = json.loads(out)
    [cycle] = data["round_trips"]
    assert cycle["facilities"] == ["T1", "T2", "T3"] and cycle["traders"] == 3
    assert cycle["tonnes_round"] == pytest.approx(600)
    members = {r["facility_id"]: r["cycles"] for r in data["facilities"]}
    assert members["T2"] == ["T1>T2>T3"] and members["M1"] == [] and members["Y1"] == []
    assert run("export", "graph", "-o", str(tmp_path / "r.graphml"), "--db", str(ring))[0] == 0
    g = nx.read_graphml(tmp_path / "r.graphml")
    assert g.nodes["T3"]["cycles"] == "T1>T2>T3" and "cycles" not in g.nodes["M1"]
    assert g.graph["round_trip_cycles"] == "T1>T2>T3"
    flows = pl.DataFrame(json.loads(run("export", "flows", "-f", "json", "--db", str(ring))[1]))
    on_ring = flows.filter(pl.col("round_trips").list.len() > 0)["flow_id"].sort().to_list()
    assert on_ring == ["T1>T2", "T2>T3", "T3>T1"]


def test_parquet_reads_back_with_polars_typed(month: Path, tmp_path: Path) -> None:
    db = month / "coaltrace.duckdb"
    out = tmp_path / "flows.parquet"
    assert run("export", "flows", "-f", "parquet", "-o", str(out), "--db", str(db))[0] == 0
    flows = pl.read_parquet(out)
    assert flows.schema["tonnes"] == pl.Float64 and flows.schema["trips"] == pl.Int64
    assert flows.schema["upstream_path"] == pl.List(pl.String) and flows.schema["finding_ids"] == pl.List(pl.String)
    shares = flows.select(pl.sum_horizontal(f"{c}_share" for c in CLASSES).alias("s"))["s"]
    assert shares.min() == pytest.approx(1, abs=1e-5) and shares.max() == pytest.approx(1, abs=1e-5)
    # The heaviest path ends with the flow itself: ... > seller > buyer.
    ends = flows.select(pl.col("upstream_path").list.slice(-2, 2), pl.concat_list("seller_id", "buyer_id").alias("e"))
    assert (ends["upstream_path"] == ends["e"]).all()
    found = flows.filter(pl.col("findings") > 0)
    assert found.height and (found["finding_ids"].list.len() == found["findings"]).all()


def test_xlsx_has_text_ids_frozen_filtered_headers_and_no_formula(ring: Path, month: Path, tmp_path: Path) -> None:
    out = tmp_path / "graph.xlsx"
    assert run("export", "graph", "-f", "xlsx", "-o", str(out), "--db", str(ring))[0] == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["facilities", "flows", "round_trips"]
    ws = wb["facilities"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["facility_id", "name", "kind"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}{ws.max_row}"
    names = {ws.cell(r, 1).value: ws.cell(r, 2) for r in range(2, ws.max_row + 1)}
    assert names["T1"].value == "'" + HOSTILE and names["T1"].data_type == "s"
    for r in range(2, ws.max_row + 1):
        assert ws.cell(r, 1).data_type == "s" and ws.cell(r, 1).number_format == "@"
    assert not [c for row in wb["flows"].iter_rows() for c in row if c.data_type == "f"]
    out = tmp_path / "findings.xlsx"
    assert run("export", "findings", "-f", "xlsx", "-o", str(out), "--db", str(month / "coaltrace.duckdb"))[0] == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["findings", "evidence"]
    evidence = [c.value for c in wb["evidence"][1]]
    assert evidence[:6] == ["finding_id", "rule_id", "table", "file", "sheet", "line"]
    assert wb["evidence"].max_row > wb["findings"].max_row  # a finding has several rows behind it


def test_csv_starts_with_a_bom_and_keeps_chinese(month: Path, tmp_path: Path) -> None:
    out = tmp_path / "facilities.csv"
    assert run("export", "facilities", "-o", str(out), "--db", str(month / "coaltrace.duckdb"))[0] == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and "煤".encode() in raw
    frame = pl.read_csv(out, infer_schema_length=0)
    assert frame.columns[0] == "facility_id" and frame.height > 10
    _, stdout, _ = run("export", "facilities", "--db", str(month / "coaltrace.duckdb"))
    assert stdout.startswith("facility_id,")  # no mark on a pipe


def test_filters_keep_what_they_name(month: Path) -> None:
    db = str(month / "coaltrace.duckdb")

    def flows(*args: str) -> list[dict]:
        code, out, err = run("export", "flows", "-f", "json", "--db", db, *args)
        assert code == 0, err
        return json.loads(out)

    every = flows()
    risky = flows("--min-share", "50%")
    assert 0 < len(risky) < len(every) and all(f["at_risk_share"] >= 0.5 for f in risky)
    county = every[0]["seller_county"]
    assert all(county in (f["seller_county"], f["buyer_county"]) for f in flows("--county", county))
    high = flows("--severity", "高", "--period", "2021年12月")
    assert high and len(high) < len(every)
    rule = flows("--rule", "flow_carries_unsourced")
    assert rule and all(
        "flow_carries_unsourced" in f["rules"] or f["seller_id"] in {x["seller_id"] for x in rule} for f in rule
    )
    code, out, _ = run("export", "findings", "-f", "json", "--db", db, "--severity", "critical")
    assert code == 0 and {f["severity"] for f in json.loads(out)} == {"critical"}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["export", "findings", "-f", "graphml"], "csv, xlsx, parquet, json, jsonl"),
        (["export", "facilities", "-f", "graphml"], "geojson"),
        (["export", "flows", "-f", "xlsx"], "--out"),
        (["export", "findings", "--min-share", "0.5"], "--min-share"),
        (["export", "flows", "--min-share", "150%"], "0.2 or 20%"),
        (["export", "flows", "--severity", "urgent"], "low, medium, high, critical"),
        (["export", "graph", "--period", "2021-13"], "not a month"),
    ],
)
def test_a_format_or_filter_that_does_not_fit_is_a_usage_error(month: Path, args: list[str], words: str) -> None:
    code, out, err = run(*args, "--db", str(month / "coaltrace.duckdb"))
    assert code == ExitCode.USAGE and words in err and not out


def test_out_naming_a_folder_is_a_usage_error_not_a_crash(month: Path, tmp_path: Path) -> None:
    code, out, err = run("export", "flows", "-f", "csv", "-o", str(tmp_path), "--db", str(month / "coaltrace.duckdb"))
    assert code == ExitCode.USAGE and "is a folder" in err
