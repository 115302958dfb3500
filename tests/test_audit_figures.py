"""Figures an auditor can sign: each tonne at risk counted once, data gaps named, no findings out of nothing.

The small worlds here are loaded through the real CLI from files shaped like the
contract's (Chinese headers, GB18030), and audited through the CLI; the figures
are compared with ones worked out by hand in the test.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coaltrace.cli import app
from tests.conftest import write_csv

FACILITY_HEADER = ["单位编码", "单位名称", "单位类型", "所属县区", "状态", "状态日期"]
LICENCE_HEADER = [
    "采矿许可证号",
    "单位编码",
    "许可证类型",
    "开采矿种",
    "有效期起",
    "有效期止",
    "核定生产能力（万吨/年）",
]
SALE_HEADER = ["销售单号", "销售日期", "销售单位编码", "购买单位编码", "煤种", "数量（吨）"]


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, ["--lang", "en", *args])


def load(
    tmp_path: Path, facilities: list[list[object]], licences: list[list[object]], sales: list[list[object]]
) -> Path:
    folder = tmp_path / "data"
    write_csv(folder / "单位.csv", FACILITY_HEADER, facilities, encoding="gb18030")
    write_csv(folder / "许可证.csv", LICENCE_HEADER, licences, encoding="utf-8-sig")
    write_csv(folder / "销售.csv", SALE_HEADER, sales, encoding="gb18030")
    db = tmp_path / "audit.duckdb"
    r = cli("load", str(folder), "--db", str(db))
    assert r.exit_code == 0, r.output
    return db


def audit(db: Path, period: str = "2021-12", *extra: str) -> dict[str, Any]:
    r = cli("audit", "--period", period, "--db", str(db), "--json", *extra)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def findings(db: Path) -> list[dict[str, Any]]:
    r = cli("findings", "--db", str(db), "--format", "json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


# A chain where the same coal used to be counted three times: an unlicensed mine sells to a
# washery that also ships 700 t it never received; the washery sells on to two power plants
# through a trader. The distinct coal at risk is the mine's 1,000 t plus the washery's shortfall.
CHAIN_FACILITIES = [
    ["M1", "甲煤矿", "煤矿", "泽州县", "正常", ""],
    ["M2", "乙煤矿（无证）", "煤矿", "泽州县", "正常", ""],
    ["W1", "某洗煤厂", "洗煤厂", "阳城县", "正常", ""],
    ["W2", "乙洗煤厂", "洗煤厂", "阳城县", "正常", ""],
    ["T1", "某贸易公司", "贸易商", "阳城县", "正常", ""],
    ["P1", "甲电厂", "电厂", "高平市", "正常", ""],
    ["P2", "乙电厂", "电厂", "高平市", "正常", ""],
]
CHAIN_LICENCES = [["C1", "M1", "采矿许可证", "煤", "2019-01-01", "2030-12-31", "120"]]
CHAIN_SALES = [
    ["S1", "2021-12-01", "M2", "W1", "原煤", "1000"],
    ["S2", "2021-12-01", "M1", "W2", "原煤", "2000"],
    ["S3", "2021-12-05", "W1", "T1", "精煤", "1550"],
    ["S4", "2021-12-06", "W2", "P2", "精煤", "1700"],
    ["S5", "2021-12-10", "T1", "P1", "精煤", "900"],
    ["S6", "2021-12-11", "T1", "P2", "精煤", "650"],
]


def test_each_tonne_at_risk_is_counted_once_at_its_origin(tmp_path: Path) -> None:
    db = load(tmp_path, CHAIN_FACILITIES, CHAIN_LICENCES, CHAIN_SALES)
    summary = audit(db)
    # Worked out by hand: the unlicensed mine's 1,000 t, and what W1 shipped beyond 85% of its intake.
    shortfall = 1550 - 0.85 * 1000
    assert summary["tonnes_at_risk_by_class"] == {
        "unlicensed": 1000.0,
        "over_capacity": 0.0,
        "unsourced": pytest.approx(shortfall, abs=0.001),
    }
    assert summary["tonnes_at_risk"] == pytest.approx(1000 + shortfall, abs=0.001)
    rows = findings(db)
    by_rule = {(f["rule_id"], f["entity_id"]): f for f in rows}
    # The same coal still shows downstream, labelled as carried and not added.
    carried = [f for f in rows if f["tonnes_role"] == "carried"]
    assert carried, "the flows out of W1 and T1 carry the coal on"
    assert sum(f["tonnes_at_risk"] for f in rows) > summary["tonnes_at_risk"]
    assert by_rule[("mine_unlicensed_sales", "M2")]["tonnes_role"] == "origin"
    assert by_rule[("facility_unsourced_output", "W1")]["tonnes_at_risk"] == pytest.approx(shortfall, abs=0.001)
    # No facility is charged with more coal at risk than it ever handled.
    for f in summary["worst_facilities"]:
        handled = sum(float(s[5]) for s in CHAIN_SALES if f["facility_id"] in (s[2], s[3]))
        assert f["tonnes_at_risk"] <= handled
    assert sum(c["tonnes_at_risk"] for c in summary["counties"]) == pytest.approx(summary["tonnes_at_risk"])


def test_a_kind_without_recorded_inflows_is_one_data_gap_not_critical_findings(tmp_path: Path) -> None:
    # As in a public data set that records no flows into preparation plants: a dozen washeries
    # ship coal to power plants and none of them is recorded receiving any.
    facilities = [["M1", "甲煤矿", "煤矿", "泽州县", "正常", ""], ["P1", "甲电厂", "电厂", "高平市", "正常", ""]]
    facilities += [[f"W{i}", f"第{i}洗煤厂", "洗煤厂", "阳城县", "正常", ""] for i in range(1, 13)]
    sales = [["S0", "2021-12-02", "M1", "P1", "原煤", "3000"]]
    sales += [[f"S{i}", "2021-12-03", f"W{i}", "P1", "精煤", str(400 * i)] for i in range(1, 13)]
    db = load(tmp_path, facilities, [["C1", "M1", "采矿许可证", "煤", "2019-01-01", "2030-12-31", "120"]], sales)
    summary = audit(db)
    gaps = [g for g in summary["data_gaps"] if g["code"] == "inflows_unrecorded"]
    assert len(gaps) == 1
    gap = gaps[0]
    assert gap["subject"] == "washery" and gap["facilities"] == 12
    assert gap["tonnes"] == pytest.approx(400 * 78)
    assert "facility_unsourced_output" in gap["rules"] and "washery" in gap["message"]["en"]
    assert "洗煤厂" in gap["message"]["zh"]
    serious = [f for f in findings(db) if f["severity"] in ("critical", "high")]
    assert serious == []
    assert summary["tonnes_at_risk"] == 0
    # The power plant's share is of judged coal: the washeries' coal is left out, not counted as unlicensed.
    r = cli("yard", "P1", "--db", str(db), "--json")
    page = json.loads(r.stdout)
    assert page["licensed_share"] == 1.0
    assert {o["origin_class"] for o in page["origins"]} == {"licensed", "data_gap"}


def test_a_lone_washery_with_no_inflow_is_still_a_finding(tmp_path: Path) -> None:
    # Where washeries' inflows are recorded, one that ships what it never received is clause 3.
    facilities = [
        ["M1", "甲煤矿", "煤矿", "泽州县", "正常", ""],
        ["W1", "甲洗煤厂", "洗煤厂", "阳城县", "正常", ""],
        ["W2", "乙洗煤厂", "洗煤厂", "阳城县", "正常", ""],
        ["W3", "村里洗煤点", "洗煤厂", "阳城县", "正常", ""],
        ["P1", "甲电厂", "电厂", "高平市", "正常", ""],
    ]
    sales = [
        ["S1", "2021-12-01", "M1", "W1", "原煤", "1000"],
        ["S2", "2021-12-01", "M1", "W2", "原煤", "1000"],
        ["S3", "2021-12-04", "W1", "P1", "精煤", "800"],
        ["S4", "2021-12-04", "W2", "P1", "精煤", "800"],
        ["S5", "2021-12-04", "W3", "P1", "精煤", "600"],
    ]
    db = load(tmp_path, facilities, [["C1", "M1", "采矿许可证", "煤", "2019-01-01", "2030-12-31", "120"]], sales)
    summary = audit(db)
    assert not [g for g in summary["data_gaps"] if g["code"].startswith("inflows_")]
    found = {(f["rule_id"], f["entity_id"]) for f in findings(db)}
    assert ("facility_unsourced_output", "W3") in found
    assert summary["tonnes_at_risk_by_class"]["unsourced"] == pytest.approx(600)


def test_a_ring_of_fronts_none_of_which_received_coal_is_judged_and_the_report_says_why(tmp_path: Path) -> None:
    # Three village fronts of kind "other" sell coal and none is recorded receiving any: too few to be
    # a data set that leaves their inflows out, so each is a finding, and the gaps say what to change
    # if the data really has no inflows for that kind.
    facilities = [["M1", "甲煤矿", "煤矿", "泽州县", "正常", ""], ["P1", "甲电厂", "电厂", "高平市", "正常", ""]]
    facilities += [[f"F{i}", f"{i}号村发煤点", "其他", "阳城县", "正常", ""] for i in range(1, 4)]
    sales = [["S0", "2021-12-02", "M1", "P1", "原煤", "3000"]]
    sales += [[f"S{i}", "2021-12-03", f"F{i}", "P1", "原煤", str(300 * i)] for i in range(1, 4)]
    db = load(tmp_path, facilities, [["C1", "M1", "采矿许可证", "煤", "2019-01-01", "2030-12-31", "120"]], sales)
    summary = audit(db)
    assert not [g for g in summary["data_gaps"] if g["code"] == "inflows_unrecorded"]
    (note,) = [g for g in summary["data_gaps"] if g["code"] == "inflows_maybe_unrecorded"]
    assert note["subject"] == "other" and note["facilities"] == 3 and note["rules"] == []
    assert note["shipped"] == pytest.approx(1800)
    assert "min_unrecorded_facilities" in note["message"]["en"] and "其他单位" in note["message"]["zh"]
    found = {(f["rule_id"], f["entity_id"]) for f in findings(db)}
    assert {("facility_unsourced_output", f"F{i}") for i in range(1, 4)} <= found
    assert summary["tonnes_at_risk_by_class"]["unsourced"] == pytest.approx(1800)
    # The same data with the threshold lowered to three: one gap, no finding against the fronts.
    config = tmp_path / "three.toml"
    config.write_text("[provenance]\nmin_unrecorded_facilities = 3\n", encoding="utf-8")
    summary = audit(db, "2021-12", "--config", str(config))
    assert [g["facilities"] for g in summary["data_gaps"] if g["code"] == "inflows_unrecorded"] == [3]
    assert summary["tonnes_at_risk"] == 0


def test_a_month_without_records_gives_no_findings_and_says_why(tmp_path: Path) -> None:
    facilities = [row[:4] + ["关闭", "2021-06-30"] if row[0] == "W1" else row for row in CHAIN_FACILITIES]
    db = load(tmp_path, facilities, CHAIN_LICENCES, CHAIN_SALES)
    summary = audit(db, "2021-11")
    assert summary["findings"] == 0 and summary["tonnes_at_risk"] == 0
    assert [g["code"] for g in summary["data_gaps"]] == ["no_records"]
    assert {r["status"] for r in summary["rules"]} == {"no_data"}
    assert findings(db) == []
    r = cli("audit", "--period", "2021-11", "--db", str(db))
    assert r.exit_code == 0 and "no records at all" in r.stderr
    # December, with the same files, judges as usual.
    assert audit(db)["findings"] > 0


def test_rules_whose_tables_are_empty_say_no_data(tmp_path: Path) -> None:
    db = load(tmp_path, CHAIN_FACILITIES, CHAIN_LICENCES, CHAIN_SALES)
    status = {r["id"]: r["status"] for r in audit(db)["rules"]}
    assert status["trip_too_fast"] == "no_data" and status["power_at_closed_mine"] == "no_data"
    assert status["mine_unlicensed_sales"] == "ran" and status["intake_no_waybill"] == "no_data"
    # With no coal licence loaded at all, no mine can be judged unlicensed: a gap, not 2 critical findings.
    summary = audit(load(tmp_path / "nolic", CHAIN_FACILITIES, [], CHAIN_SALES))
    (gap,) = [g for g in summary["data_gaps"] if "licences" in (g["subject"] or "") or "licence" in g["code"]]
    assert gap["code"] == "no_mining_licences" and gap["facilities"] == 2 and gap["tonnes"] == 3000
    assert {r["id"]: r["status"] for r in summary["rules"]}["mine_unlicensed_sales"] == "no_data"
    assert summary["tonnes_at_risk_by_class"]["unlicensed"] == 0


def test_a_closed_washery_that_sells_is_flagged(tmp_path: Path) -> None:
    facilities = [row[:4] + ["关闭", "2021-06-30"] if row[0] == "W2" else row for row in CHAIN_FACILITIES]
    db = load(tmp_path, facilities, CHAIN_LICENCES, CHAIN_SALES)
    audit(db)
    closed = [f for f in findings(db) if f["rule_id"] == "facility_closed_shipping"]
    assert [(f["entity_id"], f["severity"], f["tonnes_at_risk"], f["tonnes_role"]) for f in closed] == [
        ("W2", "critical", 1700.0, "records")
    ]
    r = cli("yard", "W2", "--db", str(db), "--json")
    page = json.loads(r.stdout)
    assert page["status"] == "closed" and page["status_since"] == "2021-06-30"


def test_balance_findings_carry_the_sales_behind_them(tmp_path: Path) -> None:
    db = load(tmp_path, CHAIN_FACILITIES, CHAIN_LICENCES, CHAIN_SALES)
    audit(db)
    (w1,) = [f for f in findings(db) if f["rule_id"] == "facility_unsourced_output"]
    rows = w1["evidence"]["rows"]
    assert w1["evidence"]["total_rows"] == len(rows) == 3  # the register line, S1 in, S3 out
    by_record = {r["record_id"]: r for r in rows if r["_table"] == "sales"}
    assert set(by_record) == {"S1", "S3"}
    assert by_record["S1"]["direction"] == "in" and by_record["S3"]["direction"] == "out"
    assert by_record["S1"]["_file"] == "销售.csv" and by_record["S1"]["_line"] == 2
    assert by_record["S3"]["_line"] == 4
    register = [r for r in rows if r["_table"] == "facilities"]
    assert register[0]["_file"] == "单位.csv" and register[0]["_line"] == 4


def _decimals(value: float) -> int:
    text = repr(value)
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def test_figures_come_out_rounded_to_what_was_measured(tmp_path: Path) -> None:
    # Thirds of a tonne sum to float noise unless the output rounds them.
    sales = [
        *CHAIN_SALES,
        ["S7", "2021-12-12", "M2", "W1", "原煤", "0.1"],
        ["S8", "2021-12-12", "M2", "W1", "原煤", "0.2"],
    ]
    db = load(tmp_path, CHAIN_FACILITIES, CHAIN_LICENCES, sales)
    summary = audit(db)

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, float) and math.isfinite(node):
            limit = 6 if key.endswith("share") else 3
            assert _decimals(node) <= limit, (key, node)
        elif isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)

    walk(summary)
    walk(findings(db))
    for args in (("balance", "--json"), ("yard", "T1", "--json"), ("trace", "P2", "--json")):
        r = cli(*args, "--db", str(db))
        assert r.exit_code == 0, r.output
        walk(json.loads(r.stdout))


def test_commands_without_period_use_the_latest_audit_and_say_so(tmp_path: Path) -> None:
    db = load(tmp_path, CHAIN_FACILITIES, CHAIN_LICENCES, CHAIN_SALES)
    r = cli("yard", "W1", "--db", str(db), "--json")
    assert "latest month with sales" in r.stderr and json.loads(r.stdout)["period"] == "2021-12"
    audit(db, "2021")
    for command in (("yard", "W1"), ("trace", "P1"), ("balance",)):
        r = cli(*command, "--db", str(db), "--json")
        assert r.exit_code == 0, r.output
        assert "using 2021, the period audited last" in r.stderr
    year = json.loads(cli("trace", "P1", "--period", "2021", "--db", str(db), "--json").stdout)
    assert year["period"] == "2021" and year["origins"]


def test_trace_and_yard_keep_the_audits_config_and_record_it(tmp_path: Path) -> None:
    db = load(tmp_path, CHAIN_FACILITIES, CHAIN_LICENCES, CHAIN_SALES)
    config = tmp_path / "strict.toml"
    config.write_text("[provenance]\nyields = {washery = 0.7}\n", encoding="utf-8")
    audit(db, "2021-12", "--config", str(config))
    # No --config and no ./coaltrace.toml: the stored build stays as the audit made it.
    page = json.loads(cli("yard", "W1", "--period", "2021-12", "--db", str(db), "--json").stdout)
    assert page["unsourced_t"] == pytest.approx(1550 - 0.7 * 1000)
    from coaltrace.store import Store

    with Store(db, read_only=True) as store:
        (run,) = store.query("SELECT config, config_source FROM provenance_runs WHERE period = '2021-12'")
    assert run["config_source"] == str(config) and json.loads(run["config"])["yields"]["washery"] == 0.7
    # Another config on a reading command does not silently rebuild beside the audit's findings: it says so.
    other = tmp_path / "other.toml"
    other.write_text("[provenance]\n", encoding="utf-8")
    r = cli("yard", "W1", "--period", "2021-12", "--config", str(other), "--db", str(db), "--json")
    assert json.loads(r.stdout)["unsourced_t"] == pytest.approx(1550 - 0.7 * 1000)
    assert "built by the last audit with" in r.stderr and str(config) in r.stderr
    # The audit with the other config rebuilds, and the yard page follows it.
    audit(db, "2021-12", "--config", str(other))
    page = json.loads(cli("yard", "W1", "--period", "2021-12", "--db", str(db), "--json").stdout)
    assert page["unsourced_t"] == pytest.approx(1550 - 0.85 * 1000)


def test_every_origin_keeps_its_name_beyond_the_tracked_budget(tmp_path: Path) -> None:
    # Thirty licensed mines feed one yard; the graph-wide budget names one origin only.
    facilities = [[f"M{i:02d}", f"第{i}煤矿", "煤矿", "泽州县", "正常", ""] for i in range(30)]
    facilities += [["Y1", "甲煤场", "煤场", "泽州县", "正常", ""], ["P1", "甲电厂", "电厂", "高平市", "正常", ""]]
    licences = [[f"C{i}", f"M{i:02d}", "采矿许可证", "煤", "2019-01-01", "2030-12-31", "120"] for i in range(30)]
    sales = [[f"S{i}", "2021-12-02", f"M{i:02d}", "Y1", "原煤", str(100 + i)] for i in range(30)]
    sales.append(["S99", "2021-12-20", "Y1", "P1", "原煤", "3000"])
    db = load(tmp_path, facilities, licences, sales)
    config = tmp_path / "coaltrace.toml"
    config.write_text("[provenance]\nmax_origin_nodes = 1\n", encoding="utf-8")
    audit(db, "2021-12", "--config", str(config))
    trace = json.loads(cli("trace", "P1", "--period", "2021-12", "--db", str(db), "--json").stdout)
    named = {o["origin_id"]: o for o in trace["origins"]}
    assert set(named) == {f"M{i:02d}" for i in range(30)}
    assert named["M29"]["origin_name"] == "第29煤矿"
    assert named["M29"]["tonnes"] == pytest.approx(129 * 3000 / sum(100 + i for i in range(30)), abs=0.001)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--param", "facility_low_licensed_share.min_share=nan"], "not a finite number"),
        (["--param", "mine_over_capacity.tolerance=inf"], "not a finite number"),
        (["--param", "flow_carries_unsourced.policy=tiant"], "not one of proportional, taint"),
        (["--only", ""], "--only names no rule"),
        (["--only", " , "], "--only names no rule"),
        (["--param", "trip_starts_in_zone.zone_kinds=bogus"], "'bogus' is not one of closed_mine"),
        (["--param", "trip_starts_in_zone.zone_kinds="], "name at least one of closed_mine"),
    ],
)
def test_bad_parameters_are_usage_errors_naming_what_is_allowed(tmp_path: Path, args: list[str], says: str) -> None:
    db = load(tmp_path, CHAIN_FACILITIES, CHAIN_LICENCES, CHAIN_SALES)
    r = cli("audit", "--period", "2021-12", "--db", str(db), *args)
    assert r.exit_code == 2, r.output
    assert says in r.output


def test_an_empty_period_or_rules_folder_is_a_usage_error(tmp_path: Path) -> None:
    db = load(tmp_path, CHAIN_FACILITIES, CHAIN_LICENCES, CHAIN_SALES)
    r = cli("audit", "--period", "", "--db", str(db))
    assert r.exit_code == 2 and "not a month" in r.output
    r = cli("findings", "--period", "", "--db", str(db))
    assert r.exit_code == 2 and "not a month" in r.output
    empty = tmp_path / "county-rules"
    empty.mkdir()
    r = cli("audit", "--period", "2021-12", "--db", str(db), "--rules", str(empty))
    assert r.exit_code == 2 and "no rule files" in r.output


def test_a_county_whose_purchases_are_missing_is_a_gap_not_a_shortfall(tmp_path: Path) -> None:
    # 乙县 sent its yard's intake book but no sale or trip into the county: the yard's sales are not coal from nowhere.
    facilities = [*CHAIN_FACILITIES, ["Y9", "乙县煤场", "煤场", "乙县", "正常", ""]]
    sales = [*CHAIN_SALES, ["S9", "2021-12-20", "Y9", "P1", "原煤", "1000"]]
    db = load(tmp_path, facilities, CHAIN_LICENCES, sales)
    write_csv(
        tmp_path / "intakes.csv",
        ["入库单号", "煤场编码", "入库时间", "供货单位编码", "入库数量"],
        [["I1", "Y9", "2021-12-02 08:00", "M1", "1000"]],
        encoding="gb18030",
    )
    assert cli("load", str(tmp_path / "intakes.csv"), "--db", str(db)).exit_code == 0
    summary = audit(db)
    (gap,) = [g for g in summary["data_gaps"] if g["code"] == "county_no_shipments"]
    assert gap["subject"] == "乙县" and gap["tonnes"] == 1000 and "facility_unsourced_output" in gap["rules"]
    about_y9 = {f["rule_id"] for f in findings(db) if f["facility_id"] == "Y9" or "Y9" in f["entity_id"]}
    assert about_y9 == {"intake_no_waybill"}  # its intake has no waybill; its balance is not judged
    # W1's shortfall in the other counties is still judged and counted.
    assert summary["tonnes_at_risk_by_class"]["unsourced"] == pytest.approx(1550 - 0.85 * 1000)


def test_a_year_with_one_month_of_data_is_judged_as_that_month(tmp_path: Path) -> None:
    db = load(tmp_path, CHAIN_FACILITIES, CHAIN_LICENCES, CHAIN_SALES)
    month, year = audit(db, "2021-12"), audit(db, "2021")
    assert year["tonnes_at_risk_by_class"] == month["tonnes_at_risk_by_class"]
    (gap,) = [g for g in year["data_gaps"] if g["code"] == "months_without_shipments"]
    assert gap["facilities"] == 11 and gap["subject"].startswith("2021-01, ")
    # A range of one month is that month: same label, same finding ids.
    assert audit(db, "2021-12..2021-12")["period"] == "2021-12"


def test_a_closed_mine_is_judged_without_any_licence_loaded(tmp_path: Path) -> None:
    facilities = [row[:4] + ["关闭", "2021-06-30"] if row[0] == "M2" else row for row in CHAIN_FACILITIES]
    summary = audit(load(tmp_path, facilities, [], CHAIN_SALES))
    # M2 was shut all month: unlicensed whatever its licences; M1's production cannot be judged.
    assert summary["tonnes_at_risk_by_class"]["unlicensed"] == 1000
    (gap,) = [g for g in summary["data_gaps"] if g["code"] == "no_mining_licences"]
    assert gap["facilities"] == 2 and "except on days they were shut" in gap["message"]["en"]


def test_an_origin_rule_that_finds_several_records_of_one_facility_adds_them(tmp_path: Path) -> None:
    db = load(
        tmp_path, CHAIN_FACILITIES, CHAIN_LICENCES, [*CHAIN_SALES, ["S7", "2021-12-20", "M2", "P1", "原煤", "300"]]
    )
    rules = tmp_path / "county-rules"
    rules.mkdir()
    (rules / "sale_from_unlicensed_mine.yaml").write_text(
        """id: sale_from_unlicensed_mine
version: 1
title: {zh: 无证煤矿的销售, en: Sale from a mine without a licence}
description: {zh: 每笔无证煤矿的销售, en: Each sale by a mine with no licence}
checks: {check: [2]}
severity: high
status: experimental
entity: sale
tonnes: {role: origin, class: unlicensed}
requires: [sales]
query: |
  SELECT s.sale_id AS entity_id, s.seller_id AS facility_id, s.tonnes AS tonnes_at_risk,
         s.tonnes, 'sales' AS _table, s._file, s._line
  FROM period_sales s JOIN facilities f ON f.facility_id = s.seller_id
  WHERE f.kind = 'mine' AND s.seller_id NOT IN (SELECT facility_id FROM coal_mining_licences)
evidence: [tonnes]
tests:
  - name: a sale of a mine with no licence fires
    tables:
      facilities: [{facility_id: M1, name: 甲, kind: mine}, {facility_id: M2, name: 乙, kind: mine}]
      licences: [{licence_id: C1, facility_id: M1, licence_type: mining, valid_from: 2019-01-01, valid_to: 2030-12-31}]
      sales:
        - {sale_id: S1, sold_at: 2021-12-02 08:00:00, seller_id: M2, buyer_id: P1, tonnes: 30}
        - {sale_id: S2, sold_at: 2021-12-02 08:00:00, seller_id: M1, buyer_id: P1, tonnes: 30}
    expect: [S1]
    reject: [S2]
""",
        encoding="utf-8",
    )
    summary = audit(db, "2021-12", "--rules", str(rules))
    # Two sales of 1,000 t and 300 t by one mine: both add up, once, to the class.
    assert summary["tonnes_at_risk_by_class"]["unlicensed"] == 1300


def test_the_yard_page_counts_what_the_audit_counts(tmp_path: Path) -> None:
    # Y1 ships 50 t more than it got: a shortfall in the balance, below the rule's threshold.
    facilities = [["M1", "甲煤矿", "煤矿", "泽州县", "正常", ""], ["Y1", "甲煤场", "煤场", "泽州县", "正常", ""]]
    facilities.append(["P1", "甲电厂", "电厂", "泽州县", "正常", ""])
    sales = [["S1", "2021-12-01", "M1", "Y1", "原煤", "1000"], ["S2", "2021-12-09", "Y1", "P1", "原煤", "1050"]]
    licences = [["C1", "M1", "采矿许可证", "煤", "2019-01-01", "2021-12-31", "120"]]
    db = load(tmp_path, facilities, licences, sales)
    assert audit(db)["tonnes_at_risk"] == 0
    page = json.loads(cli("yard", "Y1", "--db", str(db), "--json").stdout)
    assert page["tonnes_at_risk"] == 0 and page["balance_at_risk"]["unsourced"] == 50
    # A licence valid to the period's last day is valid at its end.
    mine_page = json.loads(cli("yard", "M1", "--db", str(db), "--json").stdout)
    assert [lic["valid_at_end"] for lic in mine_page["licences"]] == [True]


def test_the_report_keeps_the_gaps_of_a_full_audit_after_a_partial_one(tmp_path: Path) -> None:
    db = load(tmp_path, CHAIN_FACILITIES, CHAIN_LICENCES, CHAIN_SALES)
    audit(db)
    audit(db, "2021-12", "--only", "dq_negative_tonnes")
    assert (
        cli("--lang", "en", "report", "--period", "2021-12", "--db", str(db), "--out", str(tmp_path / "r")).exit_code
        == 0
    )
    page = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert "no transports rows for 2021-12" in page and "no power rows" in page
