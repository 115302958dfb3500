"""The demo runs the whole job, and the report it writes is offline, bilingual and checkable."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from coaltrace.cli import app
from tests.conftest import copy_db

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    res = CliRunner().invoke(app, ["--lang", "en", "demo", str(out), "--scale", "0.02"])
    assert res.exit_code == 0, res.output
    assert "report.html" in res.stdout
    return out


def test_demo_writes_sample_database_and_report(demo: Path) -> None:
    for rel in ("sample/truth.csv", "sample/data", "coaltrace.duckdb", "report.md", "report.html"):
        assert (demo / rel).exists(), rel
    md = (demo / "report.md").read_text(encoding="utf-8")
    assert "# Coal provenance audit 2021-12" in md
    assert "Global Energy Monitor, Global Coal Mine Tracker" in md
    truth_rules = set(pl.read_csv(demo / "sample" / "truth.csv")["rule_id"])
    assert sum(rule in md for rule in truth_rules) == len(truth_rules)


def test_the_html_report_needs_no_network(demo: Path) -> None:
    page = (demo / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script" not in page


def test_report_in_chinese(demo: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app,
        [
            "--lang",
            "zh",
            "report",
            "--period",
            "2021-12",
            "--out",
            str(tmp_path),
            "--db",
            str(demo / "coaltrace.duckdb"),
        ],
    )
    assert res.exit_code == 0, res.output
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "煤炭来源审计报告 2021-12" in md and "严重程度" in md and "证据（文件:行）" in md


@pytest.mark.parametrize("command", [["report", "--period", "2021-12", "--out"], ["sample"], ["demo"]])
def test_an_output_folder_that_cannot_be_made_is_a_usage_error(demo: Path, tmp_path: Path, command: list[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    res = CliRunner().invoke(
        app,
        ["--lang", "en", *command, str(blocker / "out"), "--db", str(demo / "coaltrace.duckdb")]
        if command[0] == "report"
        else ["--lang", "en", *command, str(blocker), "--scale", "0.01"],
    )
    assert res.exit_code == 2, res.output
    assert f"cannot write into {blocker}" in res.output


def test_evidence_points_at_the_row_in_the_source_file(demo: Path) -> None:
    res = CliRunner().invoke(
        app,
        ["findings", "--db", str(demo / "coaltrace.duckdb"), "--rule", "trip_heavier_on_arrival", "--format", "json"],
    )
    findings = json.loads(res.stdout)
    assert findings
    for f in findings:
        ev = f["evidence"] if isinstance(f["evidence"], dict) else json.loads(f["evidence"])
        row = ev["rows"][0]
        source = next((demo / "sample" / "data").rglob(row["_file"]))
        # Parquet counts records from 1: the evidence line is the record an inspector opens.
        record = pl.read_parquet(source).row(row["_line"] - 1, named=True)
        assert record["trip_id"] == f["entity_id"]
        assert record["tonnes_unloaded"] > record["tonnes_loaded"]


def test_the_audit_summary_says_severities_in_the_readers_language(demo: Path, tmp_path: Path) -> None:
    db = copy_db(demo / "coaltrace.duckdb", tmp_path)
    zh = CliRunner().invoke(app, ["--lang", "zh", "audit", "--period", "2021-12", "--db", str(db)])
    assert zh.exit_code == 0, zh.output
    [line] = [x for x in zh.output.splitlines() if x.startswith("按级别：")]
    assert "严重" in line and "critical" not in line and "high" not in line
    en = CliRunner().invoke(app, ["--lang", "en", "audit", "--period", "2021-12", "--db", str(db)])
    assert "by severity: critical" in en.output
