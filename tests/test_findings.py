"""`coaltrace findings`: filters and formats over the stored findings."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import coaltrace.cli
from coaltrace.errors import ExitCode
from coaltrace.rules import run_audit
from coaltrace.rules.casetest import insert_rows
from coaltrace.store import Store
from tests.conftest import copy_db

from .test_audit import ONLY, ROWS


@pytest.fixture(scope="module")
def audited_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("audited") / "audit.duckdb"
    with Store(path) as store:
        insert_rows(store, ROWS)
        run_audit(store, "2021-12", only=ONLY)
    return path


@pytest.fixture
def audited(audited_once: Path, tmp_path: Path) -> Path:
    return copy_db(audited_once, tmp_path)


def invoke(db: Path, *args: str) -> object:
    return CliRunner().invoke(coaltrace.cli.app, ["--lang", "en", "findings", "--db", str(db), *args])


def test_json_has_the_promised_fields_worst_first(audited: Path) -> None:
    r = invoke(audited, "--format", "json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [x["rule_id"] for x in rows] == ["mine_closed_shipping", "trip_too_fast", "trip_heavier_on_arrival"]
    for key in (
        "finding_id",
        "rule_id",
        "severity",
        "entity_kind",
        "entity_id",
        "period",
        "tonnes_at_risk",
        "evidence",
    ):
        assert key in rows[0]
    assert rows[0]["title"] == "Closed, suspended or revoked mine still ships coal"
    assert len(rows[0]["finding_id"]) == 16


def test_filters(audited: Path) -> None:
    def ids(*args: str) -> list[str]:
        return [x["entity_id"] for x in json.loads(invoke(audited, "--format", "json", *args).stdout)]

    assert ids("--severity", "high") == ["M2"]
    assert ids("--rule", "trip_too_fast") == ["T3"]
    assert ids("--facility", "M1") == ["T1"]
    # As a person types it: another case, or part of the name; said on stderr.
    lower = invoke(audited, "--format", "json", "--facility", "m1")
    assert [x["entity_id"] for x in json.loads(lower.stdout)] == ["T1"] and "'m1' is M1" in lower.stderr
    unknown = invoke(audited, "--facility", "nowhere")
    assert unknown.exit_code == ExitCode.USAGE and "unknown facility 'nowhere'" in unknown.output
    assert ids("--period", "2021-11") == []
    assert sorted(ids("--period", "2021-12")) == ["M2", "T1", "T3"]


def test_jsonl_and_csv_are_clean_on_stdout(audited: Path) -> None:
    lines = invoke(audited, "--format", "jsonl").stdout.splitlines()
    assert len(lines) == 3 and all(json.loads(line)["period"] == "2021-12" for line in lines)
    rows = list(csv.DictReader(io.StringIO(invoke(audited, "--format", "csv").stdout)))
    assert len(rows) == 3
    assert json.loads(rows[0]["evidence"])["total_rows"] >= 1


def test_table_and_bad_format(audited: Path) -> None:
    r = invoke(audited)
    assert r.exit_code == 0 and "M2" in r.stdout and "T3" in r.stdout
    assert invoke(audited, "--format", "xml").exit_code == ExitCode.USAGE
    r = invoke(audited, "--rule", "no_such_rule")
    assert r.exit_code == 0 and "No findings match." in r.output
