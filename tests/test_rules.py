"""The rule format, its validation (with file and line), read-only SQL, and every rule's own cases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import coaltrace.cli
from coaltrace.engine.base import render_sql
from coaltrace.errors import ExitCode, RuleError
from coaltrace.files import shipped
from coaltrace.period import Period
from coaltrace.rules import RuleSet, collect, load_rules
from coaltrace.rules.casetest import run_case
from coaltrace.rules.model import ParamType, coerce_param
from coaltrace.rules.sandbox import check_rule_sql
from coaltrace.rules.sql import RuleSQLError
from coaltrace.rules.views import READABLE, VIEWS, view_sql
from tests.conftest import shipped_rules

PLANTED = {
    "mine_unlicensed_sales",
    "mine_closed_shipping",
    "mine_over_capacity",
    "facility_closed_shipping",
    "facility_unsourced_output",
    "facility_ships_before_receipt",
    "facility_low_licensed_share",
    "flow_carries_unsourced",
    "intake_unregistered_supplier",
    "intake_unlicensed_supplier",
    "intake_no_waybill",
    "intake_without_trip_or_sale",
    "trip_heavier_on_arrival",
    "trip_without_sale",
    "trip_too_fast",
    "plate_cloned",
    "trip_starts_in_zone",
    "trip_remote_road_night",
    "power_at_closed_mine",
    "power_residential_industrial",
    "mine_low_kwh_per_tonne",
    "dq_invalid_uscc",
    "dq_impossible_times",
    "dq_negative_tonnes",
    "dq_invalid_plate",
}

GOOD = """\
id: {id}
version: 1
title: {{zh: 测试规则, en: test rule}}
description: {{zh: 测试, en: a test}}
checks: {{check: [2], clause: [1]}}
severity: low
status: experimental
entity: trip
params:
  limit:
    type: float
    default: 1.0
    description: {{zh: 上限, en: limit}}
query: |
  SELECT t.trip_id AS entity_id, t.tonnes_loaded AS tonnes_at_risk, t.trip_id
  FROM period_trips t
  WHERE t.tonnes_loaded > ${{limit}}
evidence: [trip_id]
tests:
  - name: heavy fires, light does not
    tables:
      transports:
        - {{trip_id: T1, plate: 晋E12345, origin_id: M1, destination_id: Y1, departed_at: 2021-12-01 08:00:00, tonnes_loaded: 5}}
        - {{trip_id: T2, plate: 晋E12345, origin_id: M1, destination_id: Y1, departed_at: 2021-12-02 08:00:00, tonnes_loaded: 0.5}}
    expect: [T1]
    reject: [T2]
"""


def write_rule(folder: Path, rule_id: str, text: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{rule_id}.yaml"
    path.write_text(text if text is not None else GOOD.format(id=rule_id), encoding="utf-8")
    return path


def test_the_pack_has_every_planted_rule_and_nothing_is_wrong() -> None:
    ruleset, problems = collect()
    assert problems == []
    assert set(ruleset.rules) == PLANTED
    assert shipped("rules").is_dir()


def case_id(rule_id: str, case_name: str) -> str:
    """`rule_id::case-name`: pick one case with `-k` or by its node id."""
    return f"{rule_id}::{re.sub(r'[^a-z0-9]+', '-', case_name.lower()).strip('-')}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # One test per case of every shipped rule, as sqlfluff runs its YAML rule cases.
    if "rule_case" in metafunc.fixturenames:
        ruleset, _ = shipped_rules()
        cases = [(rule.id, i) for rule in ruleset for i in range(len(rule.tests))]
        ids = [case_id(rule_id, ruleset.rules[rule_id].tests[i].name) for rule_id, i in cases]
        metafunc.parametrize("rule_case", cases, ids=ids)


def test_rule_case(rule_case: tuple[str, int], rule_pack: RuleSet) -> None:
    rule_id, index = rule_case
    rule = rule_pack.get(rule_id)
    result = run_case(rule, rule.tests[index], source=rule_pack.files[rule_id])
    assert result.ok, result


def test_every_rule_has_a_case_that_fires_and_one_that_must_not(rule_pack: RuleSet) -> None:
    for rule in rule_pack:
        assert any(c.expect for c in rule.tests), f"{rule.id}: no case where the rule must fire"
        assert any(c.reject for c in rule.tests), f"{rule.id}: no case where the rule must not fire"


def test_every_case_has_its_own_id(rule_pack: RuleSet) -> None:
    ids = [case_id(rule.id, c.name) for rule in rule_pack for c in rule.tests]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_views_transpile_to_spark() -> None:
    views = view_sql(Period.parse("2021-12"))
    # Every view is defined as SQL, but the two the engine computes from the zones.
    assert set(views) | {"gps_zone_hits", "zone_circles"} == set(VIEWS)
    for body in views.values():
        sqlglot.parse_one(render_sql(body, "spark"), read="spark")


def test_rule_file_with_misspelt_key_names_file_and_line(tmp_path: Path) -> None:
    text = GOOD.format(id="bad_key").replace("severity: low", "severty: low")
    write_rule(tmp_path, "bad_key", text)
    with pytest.raises(RuleError) as e:
        load_rules([tmp_path])
    message = str(e.value)
    assert "bad_key.yaml" in message
    # The misspelt key is on line 6; the missing one is reported too.
    assert ":6: severty: unknown key" in message
    assert "severity: Field required" in message


def test_rule_file_wrong_type_points_at_the_param_line(tmp_path: Path) -> None:
    text = GOOD.format(id="bad_default").replace("default: 1.0", "default: many")
    write_rule(tmp_path, "bad_default", text)
    _, problems = collect([tmp_path])
    assert [(p.line, p.message) for p in problems] == [
        (10, "params.limit: default: could not convert string to float: 'many'")
    ]


def test_rule_id_must_match_file_name(tmp_path: Path) -> None:
    write_rule(tmp_path, "other_name", GOOD.format(id="some_rule"))
    _, problems = collect([tmp_path])
    assert len(problems) == 1
    assert problems[0].line == 1
    assert "must match the file name 'other_name'" in problems[0].message


def test_unknown_placeholder_and_unknown_view_are_refused(tmp_path: Path) -> None:
    text = GOOD.format(id="bad_sql").replace("${limit}", "${limt}").replace("period_trips", "secret_table")
    write_rule(tmp_path, "bad_sql", text)
    _, problems = collect([tmp_path])
    messages = " | ".join(p.message for p in problems)
    assert "${limt} is not a parameter" in messages
    assert "declared but not used in the query: limit" in messages


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM transports",
        "SELECT 1 AS entity_id; DROP TABLE transports",
        "CREATE TABLE x AS SELECT 1 AS entity_id",
        "COPY transports TO 'out.csv'",
        "ATTACH 'other.duckdb' AS o",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT nextval('s') AS entity_id",
        "INSTALL spatial",
        "PRAGMA version",
        "SELECT * FROM o.main.transports",
    ],
)
def test_queries_that_write_or_escape_are_refused(query: str) -> None:
    refused, _ = check_rule_sql(query, READABLE)
    assert refused and all(isinstance(e, RuleSQLError) for e in refused)


def test_a_write_hidden_from_the_check_is_rolled_back(rule_pack: RuleSet) -> None:
    """Defence in depth: the rule runs in a transaction that is always rolled back."""
    from coaltrace.rules.runner import run_rule_query
    from coaltrace.store import Store

    rule = rule_pack.get("dq_negative_tonnes")
    sneaky = rule.model_copy(update={"query": "SELECT 1 AS entity_id"})
    with Store(":memory:") as store:
        store.con.execute("INSERT INTO sales (sale_id, tonnes) VALUES ('S1', 1)")
        store.con.execute("CREATE TEMP VIEW period_sales AS SELECT * FROM sales")
        rows = run_rule_query(store, sneaky, {})
        assert rows.num_rows == 1
        # A query that fails mid-way leaves nothing behind either.
        broken = rule.model_copy(update={"query": "SELECT no_such_column AS entity_id FROM sales"})
        with pytest.raises(RuleError, match="dq_negative_tonnes failed"):
            run_rule_query(store, broken, {})
        assert store.query("SELECT count(*) AS n FROM sales") == [{"n": 1}]


def test_a_failing_case_is_reported_not_raised(tmp_path: Path) -> None:
    text = GOOD.format(id="wrong_case").replace("expect: [T1]", "expect: [T2]").replace("reject: [T2]", "reject: [T1]")
    write_rule(tmp_path, "wrong_case", text)
    rule = load_rules([tmp_path]).get("wrong_case")
    result = run_case(rule, rule.tests[0])
    assert not result.ok
    assert result.missed == ("T2",)
    assert result.false_alarms == ("T1",)


def test_case_params_override_defaults(rule_pack: RuleSet) -> None:
    rule = rule_pack.get("mine_over_capacity")
    tight = next(c for c in rule.tests if c.params)
    assert run_case(rule, tight).found == ("M2",)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9))
def test_float_params_read_back_from_text(value: float) -> None:
    assert coerce_param(ParamType.float, repr(value)) == value


def test_bool_is_not_a_number() -> None:
    with pytest.raises(ValueError):
        coerce_param(ParamType.int, True)
    assert coerce_param(ParamType.list, "outcrop, closed_mine") == ["outcrop", "closed_mine"]


# --- the commands -------------------------------------------------------------------------------


def test_rules_list_shows_titles_in_the_chosen_language() -> None:
    r = CliRunner().invoke(coaltrace.cli.app, ["--lang", "en", "rules", "list", "--json"])
    assert r.exit_code == 0, r.output
    assert "Trip arrives heavier than it left" in r.output
    r = CliRunner().invoke(coaltrace.cli.app, ["--lang", "zh", "rules", "list", "--json"])
    assert "到达重量大于出发重量的运输" in r.output
    r = CliRunner().invoke(coaltrace.cli.app, ["--lang", "en", "rules", "list"])
    assert "severity" in r.output and "critical" in r.output


def test_rules_show_prints_params_and_query() -> None:
    r = CliRunner().invoke(coaltrace.cli.app, ["--lang", "en", "rules", "show", "trip_too_fast"])
    assert r.exit_code == 0, r.output
    assert "max_kmh (float) = 100.0" in r.output
    assert "period_trips" in r.output


def test_rules_show_unknown_id_is_a_usage_error() -> None:
    r = CliRunner().invoke(coaltrace.cli.app, ["rules", "show", "no_such_rule"])
    assert r.exit_code == ExitCode.USAGE


def test_rules_validate_exit_codes(tmp_path: Path) -> None:
    r = CliRunner().invoke(coaltrace.cli.app, ["--lang", "en", "rules", "validate"])
    assert r.exit_code == 0
    assert f"all {len(PLANTED)} rules are valid" in r.output
    write_rule(tmp_path, "broken", GOOD.format(id="broken").replace("entity: trip", "entity: truck"))
    r = CliRunner().invoke(coaltrace.cli.app, ["--lang", "en", "rules", "validate", str(tmp_path)])
    assert r.exit_code == ExitCode.BAD_INPUT
    assert "broken.yaml:8: entity: Input should be" in r.output


def test_rules_test_reports_per_rule(tmp_path: Path) -> None:
    write_rule(tmp_path, "fine_rule")
    write_rule(
        tmp_path,
        "wrong_case",
        GOOD.format(id="wrong_case").replace("expect: [T1]", "expect: [T2]").replace("reject: [T2]", "reject: [T1]"),
    )
    r = CliRunner().invoke(coaltrace.cli.app, ["--lang", "en", "rules", "test", str(tmp_path)])
    assert r.exit_code == ExitCode.FINDINGS
    assert "ok     fine_rule (1)" in r.output
    assert "FAIL   wrong_case (1)" in r.output
    assert "missed T2; false alarms T1" in r.output
    assert "2 rules, 2 cases, 1 failed" in r.output
