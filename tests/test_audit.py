"""`coaltrace audit`: provenance first, every enabled rule, findings stored per period with stable ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import coaltrace.cli
from coaltrace.config import AuditConfig, Disable, load_config
from coaltrace.errors import ExitCode
from coaltrace.rules import query_findings, run_audit
from coaltrace.rules.casetest import insert_rows
from coaltrace.store import Store

ROWS: dict[str, list[dict[str, object]]] = {
    "facilities": [
        {
            "facility_id": "M1",
            "name": "甲煤矿",
            "kind": "mine",
            "status": "active",
            "county": "泽州县",
            "lat": 35.5,
            "lon": 112.8,
        },
        {
            "facility_id": "M2",
            "name": "乙煤矿",
            "kind": "mine",
            "status": "closed",
            "status_since": "2021-01-01",
            "county": "阳城县",
            "lat": 35.4,
            "lon": 112.4,
        },
        {"facility_id": "Y1", "name": "某煤场", "kind": "yard", "county": "泽州县", "lat": 35.6, "lon": 112.9},
    ],
    "licences": [
        {
            "licence_id": "C1",
            "facility_id": "M1",
            "licence_type": "mining",
            "mineral": "煤",
            "valid_from": "2019-01-01",
            "valid_to": "2025-12-31",
            "capacity_tpa": 9_000_000,
        },
        {
            "licence_id": "C2",
            "facility_id": "M2",
            "licence_type": "mining",
            "mineral": "煤",
            "valid_from": "2019-01-01",
            "valid_to": "2025-12-31",
            "capacity_tpa": 900_000,
        },
    ],
    "sales": [
        {
            "sale_id": "S1",
            "sold_at": "2021-12-03 08:00:00",
            "seller_id": "M1",
            "buyer_id": "Y1",
            "product": "raw",
            "tonnes": 60,
            "waybill_no": "W1",
        },
        {
            "sale_id": "S2",
            "sold_at": "2021-12-04 08:00:00",
            "seller_id": "M2",
            "buyer_id": "Y1",
            "product": "raw",
            "tonnes": 30,
            "waybill_no": "W2",
        },
        {
            "sale_id": "S3",
            "sold_at": "2021-11-04 08:00:00",
            "seller_id": "M1",
            "buyer_id": "Y1",
            "product": "raw",
            "tonnes": -5,
            "waybill_no": "W3",
        },
    ],
    "transports": [
        {
            "trip_id": "T1",
            "waybill_no": "W1",
            "plate": "晋E11111",
            "origin_id": "M1",
            "destination_id": "Y1",
            "departed_at": "2021-12-03 08:00:00",
            "arrived_at": "2021-12-03 10:00:00",
            "tonnes_loaded": 30,
            "tonnes_unloaded": 33,
        },
        {
            "trip_id": "T2",
            "waybill_no": "W1",
            "plate": "晋E22222",
            "origin_id": "M1",
            "destination_id": "Y1",
            "departed_at": "2021-12-03 08:00:00",
            "arrived_at": "2021-12-03 10:00:00",
            "tonnes_loaded": 30,
            "tonnes_unloaded": 30,
        },
        {
            "trip_id": "T3",
            "waybill_no": "W2",
            "plate": "晋E33333",
            "origin_id": "M2",
            "destination_id": "Y1",
            "departed_at": "2021-12-04 08:00:00",
            "arrived_at": "2021-12-04 08:30:00",
            "tonnes_loaded": 30,
            "tonnes_unloaded": 30,
        },
    ],
}

ONLY = ["trip_heavier_on_arrival", "mine_closed_shipping", "dq_negative_tonnes", "trip_too_fast"]


@pytest.fixture
def month_db(db_path: Path) -> Path:
    with Store(db_path) as store:
        insert_rows(store, ROWS)
    return db_path


def found(store: Store) -> set[tuple[str, str]]:
    return {(r["rule_id"], r["entity_id"]) for r in query_findings(store)}


def test_audit_finds_and_stores_with_evidence(month_db: Path) -> None:
    with Store(month_db) as store:
        result = run_audit(store, "2021-12", only=ONLY)
        assert found(store) == {
            ("trip_heavier_on_arrival", "T1"),
            ("mine_closed_shipping", "M2"),
            ("trip_too_fast", "T3"),
        }
        [heavy] = [r for r in query_findings(store) if r["rule_id"] == "trip_heavier_on_arrival"]
    assert result.findings == 3
    assert result.by_severity["critical"] == 1
    assert heavy["tonnes_at_risk"] == pytest.approx(3.0)
    assert heavy["county"] == "泽州县"
    assert heavy["params"] == {"tolerance": 0.01}
    [row] = heavy["evidence"]["rows"]
    assert row["_file"] == "case" and row["_line"] == 2 and row["trip_id"] == "T1"
    closed = next(f for f in result.worst_facilities if f["facility_id"] == "M2")
    assert closed["worst_severity"] == "critical"


def test_finding_ids_are_stable_and_a_rerun_replaces_the_period(month_db: Path) -> None:
    with Store(month_db) as store:
        run_audit(store, "2021-12", only=ONLY)
        first = {r["finding_id"]: r["run_id"] for r in query_findings(store)}
        run_audit(store, "2021-12", only=ONLY)
        second = {r["finding_id"]: r["run_id"] for r in query_findings(store)}
        runs = store.query("SELECT count(*) AS n FROM audit_runs")
    assert set(first) == set(second)
    assert len(second) == 3, "a rerun must replace, not add"
    assert set(first.values()) != set(second.values())
    assert runs == [{"n": 2}]


def test_the_period_decides_what_is_read(month_db: Path) -> None:
    with Store(month_db) as store:
        run_audit(store, "2021-11", only=["dq_negative_tonnes"])
        run_audit(store, "2021-10..2021-12", only=["dq_negative_tonnes"])
        rows = query_findings(store)
    assert sorted((r["period"], r["entity_id"]) for r in rows) == [("2021-10..2021-12", "S3"), ("2021-11", "S3")]
    assert rows[0]["finding_id"] != rows[1]["finding_id"]


def test_params_from_config_and_command_line(month_db: Path) -> None:
    with Store(month_db) as store:
        cfg = AuditConfig(params={"trip_too_fast": {"max_kmh": 5.0}}, source="coaltrace.toml")
        run_audit(store, "2021-12", only=["trip_too_fast"], config=cfg)
        assert {r["entity_id"] for r in query_findings(store)} == {"T1", "T2", "T3"}
        run_audit(store, "2021-12", only=["trip_too_fast"], config=cfg, params={"trip_too_fast": {"max_kmh": "1000"}})
        assert query_findings(store) == []


def test_config_turns_a_rule_off_for_a_county_and_records_it(month_db: Path) -> None:
    cfg = AuditConfig(
        disable=(
            Disable(rule="trip_heavier_on_arrival", county="泽州县", reason="scales"),
            Disable(rule="trip_too_fast", period="2021"),
        ),
        source="x.toml",
    )
    with Store(month_db) as store:
        result = run_audit(store, "2021-12", only=ONLY, config=cfg)
        rows = query_findings(store)
    assert {r["rule_id"] for r in rows} == {"mine_closed_shipping"}
    not_run = {r.rule_id: (r.status, r.reason) for r in result.rules if r.status != "ran"}
    assert not_run == {"trip_too_fast": ("disabled", "config")}
    assert rows[0]["config"]["source"] == "x.toml"


def test_load_config_reads_toml(tmp_path: Path) -> None:
    path = tmp_path / "coaltrace.toml"
    path.write_text(
        '[params]\n"trip_too_fast.max_kmh" = 80\n\n[[disable]]\nrule = "trip_remote_road_night"\n'
        'county = "阳城县"\nperiod = "2021-12"\n',
        encoding="utf-8",
    )
    cfg = load_config(path)
    assert cfg.params == {"trip_too_fast": {"max_kmh": 80}}
    assert cfg.disable[0].county == "阳城县"
    example = Path(__file__).resolve().parents[1] / "coaltrace.example.toml"
    assert load_config(example).params


def test_load_config_reads_dotted_keys_as_toml_writes_them(tmp_path: Path) -> None:
    path = tmp_path / "coaltrace.toml"
    path.write_text("[params]\ntrip_too_fast.max_kmh = 80\n\n[params.plate_cloned]\nmin_km = 30\n", encoding="utf-8")
    assert load_config(path).params == {"trip_too_fast": {"max_kmh": 80}, "plate_cloned": {"min_km": 30}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[provenance]\nflow_measure = "nope"\n', "provenance.flow_measure: Input should be 'declared'"),
        ("[provenance]\nstock_window_days = -1\n", "provenance.stock_window_days: Input should be greater"),
        ("params = 3\n", "params: Input should be a valid dictionary"),
        ('disable = ["trip_too_fast"]\n', "disable.0: Input should be a valid dictionary"),
        ("[engin]\nmemory_limit = '1GB'\n", "engin: unknown key (misspelt?)"),
        ("[engine]\nmemory_limit = 'lots'\n", "engine.memory_limit: 'lots' is not a size"),
        ("[rules]\ntimeout_s = nan\n", "rules.timeout_s: Input should be"),
        ('[[disable]]\nrule = "trip_too_fsat"\n', "no rule 'trip_too_fsat'"),
    ],
)
def test_cli_audit_a_wrong_config_is_a_usage_error(month_db: Path, tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "coaltrace.toml"
    path.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(
        coaltrace.cli.app,
        [
            "--lang",
            "en",
            "audit",
            "--period",
            "2021-12",
            "--db",
            str(month_db),
            "--only",
            "trip_too_fast",
            "--config",
            str(path),
        ],
    )
    assert r.exit_code == ExitCode.USAGE, r.output
    assert message in r.output


def test_cli_audit_fail_on_and_summary(month_db: Path) -> None:
    args = ["--lang", "en", "audit", "--period", "2021-12", "--db", str(month_db), "--only", ",".join(ONLY)]
    r = CliRunner().invoke(coaltrace.cli.app, args)
    assert r.exit_code == 0, r.output
    assert "audit of 2021-12 done: 4 rules ran, 3 findings" in r.output
    r = CliRunner().invoke(coaltrace.cli.app, [*args, "--fail-on", "high"])
    assert r.exit_code == ExitCode.FINDINGS
    assert "1 finding(s) at or above high" in r.output
    r = CliRunner().invoke(coaltrace.cli.app, [*args, "--fail-on", "critical", "--only", "trip_too_fast"])
    assert r.exit_code == 0


def test_cli_audit_usage_errors(month_db: Path) -> None:
    base = ["--lang", "en", "audit", "--db", str(month_db)]
    r = CliRunner().invoke(coaltrace.cli.app, [*base, "--period", "2021-13"])
    assert r.exit_code == ExitCode.USAGE
    r = CliRunner().invoke(coaltrace.cli.app, [*base, "--period", "2021-12", "--param", "trip_too_fast.speed=3"])
    assert r.exit_code == ExitCode.USAGE
    assert "has no parameter 'speed'" in r.output
    r = CliRunner().invoke(coaltrace.cli.app, [*base, "--period", "2021-12", "--fail-on", "severe"])
    assert r.exit_code == ExitCode.USAGE


def test_cli_audit_bad_rule_file_exits_3(month_db: Path, tmp_path: Path) -> None:
    (tmp_path / "oops.yaml").write_text("id: oops\nversion: one\n", encoding="utf-8")
    r = CliRunner().invoke(
        coaltrace.cli.app,
        ["--lang", "en", "audit", "--period", "2021-12", "--db", str(month_db), "--rules", str(tmp_path)],
    )
    assert r.exit_code == ExitCode.BAD_INPUT
    assert "oops.yaml:2" in r.output


def test_cli_audit_json(month_db: Path) -> None:
    r = CliRunner().invoke(
        coaltrace.cli.app,
        ["audit", "--period", "2021-12", "--db", str(month_db), "--only", "trip_heavier_on_arrival", "--json"],
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["period"] == "2021-12" and data["findings"] == 1
    assert [(r["id"], r["status"], r["findings"]) for r in data["rules"]] == [("trip_heavier_on_arrival", "ran", 1)]
    # A trip's extra weight is a record's tonnes, not coal of no licensed origin: nothing adds up.
    assert data["tonnes_at_risk"] == 0 and data["rules"][0]["tonnes_role"] == "records"
    assert set(data) >= {"by_severity", "tonnes_at_risk_by_class", "data_gaps", "rules"}


def test_cli_audit_unreadable_zone_geometry_is_bad_input(month_db: Path) -> None:
    with Store(month_db) as store:
        insert_rows(
            store,
            {
                "zones": [
                    {"zone_id": "Z1", "kind": "outcrop", "geometry": "POINT(112.8 35.5)"},
                    {"zone_id": "Z2", "kind": "remote_road", "geometry": "LINESTRING(112.8 35.5, 112.9)"},
                    {
                        "zone_id": "Z3",
                        "kind": "outcrop",
                        "geometry": "POLYGON((112.8 35.5, 112.9 35.5, 112.9 35.6, 112.8 35.5))",
                    },
                ]
            },
        )
    r = CliRunner().invoke(
        coaltrace.cli.app,
        ["--lang", "en", "audit", "--period", "2021-12", "--db", str(month_db), "--only", "trip_starts_in_zone"],
    )
    assert r.exit_code == ExitCode.BAD_INPUT, r.output
    assert "2 zone(s) have a geometry that cannot be read" in r.output
    assert "case:2, column 'geometry': zone Z1" in r.output
    assert "case:3, column 'geometry': zone Z2" in r.output
