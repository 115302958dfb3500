"""Loading the contract's formats end to end through `coaltrace load`, on real files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.errors import ExitCode
from tests.conftest import write_csv, write_xlsx

SALES_HEADER_ZH = [" 销售单号 ", "销售日期", "销售单位编码", "购买单位编码", "煤种", "数量（吨）", "运单号", "备注"]


def load(runner: CliRunner, db: Path, *args: str) -> object:
    return runner.invoke(app, ["--lang", "en", "load", "--db", str(db), *args])


def rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_gb18030_sales_with_chinese_headers_mixed_dates_and_numbers(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    f = write_csv(
        tmp_path / "销售_泽州县.csv",
        SALES_HEADER_ZH,
        [
            ["S1", "2021/12/1", "M1", "Y1", "原煤", "1,234.5", "W1", "正常"],
            ["S2", "2021年12月2日", "M1", "Y1", "洗精煤", "３５．５", "W2", ""],
            ["S3", "20211203", "M1", "Y2", "混煤", "36", "W3", ""],
            ["S4", "2021-12-04 08:30", "M1", "Y2", "焦炭", "0.5万吨", "W4", ""],
        ],
        encoding="gb18030",
    )
    with pytest.raises(UnicodeDecodeError):
        f.read_bytes().decode("utf-8")
    res = load(runner, db_path, str(f))
    assert res.exit_code == 0, res.output
    got = rows(db_path, "SELECT sale_id, sold_at, product, tonnes, _file, _line FROM sales ORDER BY sale_id")
    assert got == [
        ("S1", dt.datetime(2021, 12, 1), "raw", 1234.5, "销售_泽州县.csv", 2),
        ("S2", dt.datetime(2021, 12, 2), "washed", 35.5, "销售_泽州县.csv", 3),
        ("S3", dt.datetime(2021, 12, 3), "mixed", 36.0, "销售_泽州县.csv", 4),
        ("S4", dt.datetime(2021, 12, 4, 8, 30), "coke", 5000.0, "销售_泽州县.csv", 5),
    ]


def test_utf8_bom_csv_and_unit_in_header(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = write_csv(
        tmp_path / "intake.csv",
        ["入库单号", "煤场编码", "入库时间", "供货人", "车牌号", "净重（千克）"],
        [["I1", "Y1", "2021-12-01 08:30:00", "张某某", "晋E·12345", "35,000"]],
        encoding="utf-8-sig",
    )
    assert f.read_bytes().startswith(b"\xef\xbb\xbf")
    res = load(runner, db_path, str(f))
    assert res.exit_code == 0, res.output
    assert rows(db_path, "SELECT intake_id, supplier_name, plate, tonnes FROM intakes") == [
        ("I1", "张某某", "晋E12345", 35.0)
    ]


def test_xlsx_first_sheet_named_sheet_and_extra_columns(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    header = [
        "单位编码",
        "单位名称",
        "单位类型",
        "统一社会信用代码",
        "县(市、区)",
        "纬度",
        "经度",
        "状态",
        "状态日期",
        "法定代表人",
        "备注",
    ]
    f = write_xlsx(
        tmp_path / "单位.xlsx",
        {
            "单位": [
                header,
                [
                    "M1",
                    "某某煤矿",
                    "煤矿",
                    "91140500MA0GRXXX1X",
                    "泽州县",
                    35.5,
                    112.8,
                    "关闭",
                    "2021年11月30日",
                    "王某",
                    "已关闭",
                ],
                ["Y1", "某某储煤场", "储煤场", None, "高平市", 35.8, 112.9, "正常", None, "李某", None],
            ],
            "说明": [["本表由县能源局填报"]],
        },
    )
    res = load(runner, db_path, str(f))
    assert res.exit_code == 0, res.output
    assert "备注" in res.output  # reported as ignored, not an error
    assert rows(db_path, "SELECT legal_rep FROM facilities ORDER BY 1") == [("李某",), ("王某",)]
    assert rows(
        db_path, "SELECT facility_id, kind, county, status, status_since, _sheet FROM facilities ORDER BY 1"
    ) == [
        ("M1", "mine", "泽州县", "closed", dt.date(2021, 11, 30), "单位"),
        ("Y1", "yard", "高平市", "active", None, "单位"),
    ]
    # A named sheet that is not the first.
    g = write_xlsx(
        tmp_path / "book.xlsx",
        {"说明": [["x"]], "库存": [["单位编码", "盘点日期", "期初库存"], ["Y1", 44531, "1,200"]]},
    )
    res = load(runner, db_path, "--sheet", "库存", str(g))
    assert res.exit_code == 0, res.output
    assert rows(db_path, "SELECT facility_id, as_of, tonnes FROM stocks") == [("Y1", dt.date(2021, 12, 1), 1200.0)]


def test_parquet_trips_with_english_headers(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = tmp_path / "trips_week1.parquet"
    pl.DataFrame(
        {
            "trip_id": ["T1", "T2"],
            "waybill_no": ["W1", None],
            "plate": ["晋E12345", "晋e 54321"],
            "origin_id": ["M1", "M1"],
            "destination_id": ["Y1", "Y1"],
            "departed_at": [dt.datetime(2021, 12, 1, 8), dt.datetime(2021, 12, 1, 9)],
            "arrived_at": [dt.datetime(2021, 12, 1, 9), None],
            "tonnes_loaded": [35.2, 34.0],
            "tonnes_unloaded": [35.1, None],
        }
    ).write_parquet(f)
    res = load(runner, db_path, str(f))
    assert res.exit_code == 0, res.output
    assert rows(db_path, "SELECT trip_id, plate, departed_at, tonnes_loaded, _line FROM transports ORDER BY 1") == [
        ("T1", "晋E12345", dt.datetime(2021, 12, 1, 8), 35.2, 1),
        ("T2", "晋E54321", dt.datetime(2021, 12, 1, 9), 34.0, 2),
    ]


def test_capacity_in_wan_tonnes_a_year_and_power_months(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    lic = write_csv(
        tmp_path / "licences.csv",
        ["采矿许可证号", "单位编码", "许可证类型", "开采矿种", "有效期自", "有效期至", "核定生产能力（万吨/年）"],
        [["C1400002009121220051234", "M1", "采矿许可证", "煤", "2019-01-01", "2029-12-31", "90"]],
        encoding="gb18030",
    )
    pw = write_csv(
        tmp_path / "power.csv",
        ["户号", "单位编码", "用电类别", "用电地址", "抄表月份", "用电量（千瓦时）"],
        [["A1", "M1", "大工业", "某村", "2021年12月", "1,200,000"], ["A2", "", "居民", "某村2号", "202112", "300"]],
        encoding="gb18030",
    )
    res = load(runner, db_path, str(lic), str(pw))
    assert res.exit_code == 0, res.output
    assert rows(db_path, "SELECT licence_type, mineral, valid_to, capacity_tpa FROM licences") == [
        ("mining", "煤", dt.date(2029, 12, 31), 900000.0)
    ]
    assert rows(db_path, "SELECT account_id, account_type, month, kwh FROM power ORDER BY 1") == [
        ("A1", "industrial", "2021-12", 1200000.0),
        ("A2", "residential", "2021-12", 300.0),
    ]


def test_every_table_is_guessed_from_its_header(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    files = {
        "a.csv": (["编码", "名称", "类型"], [["F1", "x", "贸易商"]]),
        "b.csv": (
            ["证号", "单位编码", "证照类型", "有效期起", "有效期止"],
            [["L1", "F1", "经营许可", "2021-01-01", "2022-01-01"]],
        ),
        "c.csv": (["单号", "日期", "发货单位编码", "收货单位编码", "数量"], [["S1", "2021-12-01", "F1", "F2", "30"]]),
        "d.csv": (
            ["磅单号", "车号", "起运地编码", "目的地编码", "出场时间", "出场净重"],
            [["T1", "晋E12345", "F1", "F2", "2021-12-01 08:00", "30"]],
        ),
        "e.csv": (["收货单号", "收货单位编码", "收货时间", "入库数量"], [["I1", "F2", "2021-12-01 10:00", "30"]]),
        "f.csv": (["单位编码", "盘点日期", "库存"], [["F2", "2021-12-01", "100"]]),
        "g.csv": (["用电户号", "用电类别", "月份", "电量"], [["A1", "农业", "2021-12", "10"]]),
        "h.csv": (
            ["车牌号", "定位时间", "纬度", "经度", "速度"],
            [["晋E12345", "2021-12-01 08:00:00", "35.5", "112.8", "40"]],
        ),
        "i.csv": (
            ["区域编码", "区域类型", "名称", "纬度", "经度", "半径"],
            [["Z1", "露头煤", "某露头", "35.5", "112.8", "500"]],
        ),
    }
    for name, (header, data) in files.items():
        write_csv(tmp_path / "mixed" / name, header, data)
    res = load(runner, db_path, str(tmp_path / "mixed"))
    assert res.exit_code == 0, res.output
    for table in ("facilities", "licences", "sales", "transports", "intakes", "stocks", "power", "gps", "zones"):
        assert rows(db_path, f"SELECT count(*) FROM {table}") == [(1,)], table


def test_reloading_changes_nothing_and_overlaps_are_stored_once(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    header = ["运输单号", "车牌号", "发货单位编码", "收货单位编码", "发车时间", "装车净重"]
    week1 = write_csv(
        tmp_path / "w1.csv",
        header,
        [[f"T{i}", "晋E12345", "M1", "Y1", f"2021-12-0{i} 08:00", "35"] for i in range(1, 6)],
    )
    week1b = write_csv(
        tmp_path / "w1_again.csv",
        header,
        [[f"T{i}", "晋E12345", "M1", "Y1", f"2021-12-0{i} 08:00", "35"] for i in range(4, 9)],
    )
    assert load(runner, db_path, str(week1)).exit_code == 0

    def snapshot() -> tuple:
        return (
            rows(db_path, "SELECT * EXCLUDE (_load_id) FROM transports ORDER BY trip_id"),
            rows(db_path, "SELECT count(*) FROM loaded_files"),
            rows(db_path, "SELECT count(*) FROM transports_revisions"),
        )

    before = snapshot()
    res = runner.invoke(app, ["load", "--db", str(db_path), "--json", str(week1)])
    assert res.exit_code == 0
    report = json.loads(res.stdout)
    assert report["files"][0]["rows_present"] == 5 and report["files"][0]["rows_loaded"] == 0
    assert snapshot() == before
    res = runner.invoke(app, ["load", "--db", str(db_path), "--json", str(week1b)])
    f = json.loads(res.stdout)["files"][0]
    assert (f["rows_loaded"], f["rows_present"]) == (3, 2)
    assert rows(db_path, "SELECT count(*), count(DISTINCT trip_id) FROM transports") == [(8, 8)]


def test_a_changed_record_revises_and_keeps_the_old_version(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    header = ["销售单号", "销售日期", "销售单位编码", "购买单位编码", "数量"]
    write_csv(
        tmp_path / "v1.csv", header, [["S1", "2021-12-01", "M1", "Y1", "30"], ["S2", "2021-12-01", "M1", "Y1", "31"]]
    )
    write_csv(tmp_path / "v2.csv", header, [["S1", "2021-12-01", "M1", "Y1", "33"]])
    assert load(runner, db_path, str(tmp_path / "v1.csv")).exit_code == 0
    res = load(runner, db_path, str(tmp_path / "v2.csv"))
    assert res.exit_code == 0
    assert "1" in res.output
    assert rows(db_path, "SELECT sale_id, tonnes, _file FROM sales ORDER BY 1") == [
        ("S1", 33.0, "v2.csv"),
        ("S2", 31.0, "v1.csv"),
    ]
    assert rows(db_path, "SELECT sale_id, tonnes, _file FROM sales_revisions") == [("S1", 30.0, "v1.csv")]
    res = runner.invoke(app, ["status", "--db", str(db_path), "--json"])
    assert json.loads(res.stdout)["sales"]["revisions"] == 1


def test_duplicates_and_versions_inside_one_call(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    header = ["销售单号", "销售日期", "销售单位编码", "购买单位编码", "数量"]
    write_csv(
        tmp_path / "a.csv", header, [["S1", "2021-12-01", "M1", "Y1", "30"], ["S1", "2021-12-01", "M1", "Y1", "30"]]
    )
    write_csv(tmp_path / "b.csv", header, [["S1", "2021-12-01", "M1", "Y1", "32"]])
    res = runner.invoke(app, ["load", "--db", str(db_path), "--json", str(tmp_path / "a.csv"), str(tmp_path / "b.csv")])
    assert res.exit_code == 0, res.output
    files = {f["file"]: f for f in json.loads(res.stdout)["files"]}
    assert (files["a.csv"]["rows_present"], files["a.csv"]["rows_superseded"]) == (1, 1)
    assert files["b.csv"]["rows_loaded"] == 1
    assert rows(db_path, "SELECT tonnes FROM sales") == [(32.0,)]
    assert rows(db_path, "SELECT tonnes FROM sales_revisions") == [(30.0,)]


def test_status_json_and_quarantine(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    write_csv(
        tmp_path / "sales.csv",
        ["销售单号", "销售日期", "销售单位编码", "购买单位编码", "数量"],
        [
            ["S1", "2021-12-01", "M1", "Y1", "30"],
            ["S2", "2021-12-31", "M1", "Y1", "abc"],
            ["S3", "2021-13-45", "M1", "Y1", "3"],
        ],
    )
    res = load(runner, db_path, str(tmp_path / "sales.csv"))
    assert res.exit_code == 0, res.output
    assert "2 row(s) could not be read" in res.output
    status = json.loads(runner.invoke(app, ["status", "--db", str(db_path), "--json"]).stdout)
    assert status["sales"]["rows"] == 1
    assert status["sales"]["files"][0]["file"] == "sales.csv" and len(status["sales"]["files"][0]["sha256"]) == 64
    assert status["quarantine"] == {"sales.csv": 2}
    assert all(status[t]["rows"] == 0 for t in ("transports", "intakes", "power"))
    q = json.loads(runner.invoke(app, ["quarantine", "--db", str(db_path), "--json"]).stdout)
    assert [(r["line"], r["column_name"], r["raw_value"], r["reason"]) for r in q] == [
        (3, "tonnes", "abc", "not_a_number"),
        (4, "sold_at", "2021-13-45", "not_a_date"),
    ]
    text = runner.invoke(app, ["--lang", "zh", "quarantine", "--db", str(db_path)]).stdout
    assert "不是数字" in text and "sales.csv" in text
    assert runner.invoke(app, ["quarantine", "--db", str(db_path), "--limit", "-1"]).exit_code == ExitCode.USAGE


def test_gbk_csv_is_read_as_gb18030(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = write_csv(
        tmp_path / "stocks.csv",
        ["单位编码", "盘点日期", "期初库存"],
        [["Y1", "2021年12月1日", "1,000"]],
        encoding="gbk",
    )
    res = load(runner, db_path, str(f))
    assert res.exit_code == 0, res.output
    assert rows(db_path, "SELECT facility_id, as_of, tonnes FROM stocks") == [("Y1", dt.date(2021, 12, 1), 1000.0)]


def test_rows_that_read_but_look_wrong_are_loaded_not_quarantined(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    # Bad USCC check character, negative tonnes, arrival before departure, a plate that is not a
    # plate: all readable, so they load and the rules judge them (data-quality findings).
    fac = write_csv(
        tmp_path / "f.csv",
        ["单位编码", "单位名称", "单位类型", "统一社会信用代码"],
        [["F1", "x", "煤场", "91140500MA0GRXXX1Y"]],
    )
    sale = write_csv(tmp_path / "s.csv", SALES_HEADER_ZH[:6], [["S1", "2021-12-01", "M1", "Y1", "原煤", "-35"]])
    trip = write_csv(
        tmp_path / "t.csv",
        ["运输单号", "车牌号", "发货单位编码", "收货单位编码", "发车时间", "到达时间", "装车净重"],
        [["T1", "ABC", "M1", "Y1", "2021-12-01 10:00", "2021-12-01 09:00", "35"]],
    )
    res = runner.invoke(app, ["load", "--db", str(db_path), "--json", str(fac), str(sale), str(trip)])
    assert res.exit_code == 0, res.output
    assert all(f["rows_quarantined"] == 0 and f["rows_loaded"] == 1 for f in json.loads(res.stdout)["files"])
    assert rows(db_path, "SELECT tonnes FROM sales") == [(-35.0,)]
    assert rows(db_path, "SELECT plate, arrived_at < departed_at FROM transports") == [("ABC", True)]


def test_summary_names_the_sheet_and_keeps_brackets_in_names(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    header = ["销售单号", "销售日期", "销售单位编码", "购买单位编码", "数量"]
    f = write_xlsx(
        tmp_path / "[12月]sales.xlsx",
        {"notes": [["说明"]], "week1": [header, ["S1", "2021-12-01", "M1", "Y1", "[30]"]]},
    )
    res = runner.invoke(app, ["--lang", "en", "load", "--db", str(db_path), "--sheet", "week1", str(f)])
    assert res.exit_code == 0, res.output
    assert "[12月" in res.output and "week1" in res.output
    res = runner.invoke(app, ["quarantine", "--db", str(db_path)])
    assert "[30]" in res.stdout and "week1" in res.stdout


def test_status_and_quarantine_on_a_database_coaltrace_did_not_write(tmp_path: Path, runner: CliRunner) -> None:
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    for command in ("status", "quarantine"):
        res = runner.invoke(app, ["--lang", "en", command, "--db", str(other)])
        assert res.exit_code == 2, res.output
        assert "not a coaltrace one" in res.output and "Traceback" not in res.output


def test_status_of_a_fresh_database(db_path: Path, runner: CliRunner) -> None:
    from coaltrace.store import Store

    Store(db_path).close()
    res = runner.invoke(app, ["status", "--db", str(db_path), "--json"])
    assert res.exit_code == 0, res.output
    status = json.loads(res.stdout)
    assert status["quarantine"] == {} and status["sales"] == {
        "rows": 0,
        "revisions": 0,
        "first": None,
        "last": None,
        "files": [],
    }


def test_loading_an_old_file_again_does_not_undo_its_correction(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    header = ["销售单号", "销售日期", "销售单位编码", "购买单位编码", "数量"]
    old = write_csv(
        tmp_path / "b_first.csv",
        header,
        [["S1", "2021-12-01", "M1", "Y1", "30"], ["S2", "2021-12-01", "M1", "Y1", "5"]],
    )
    fixed = write_csv(tmp_path / "a_corrected.csv", header, [["S1", "2021-12-01", "M1", "Y1", "33"]])
    assert load(runner, db_path, str(old)).exit_code == 0
    assert load(runner, db_path, str(fixed)).exit_code == 0
    after_fix = (
        rows(db_path, "SELECT sale_id, tonnes FROM sales ORDER BY 1"),
        rows(db_path, "SELECT tonnes FROM sales_revisions"),
    )
    assert after_fix == ([("S1", 33.0), ("S2", 5.0)], [(30.0,)])
    # The whole folder again, the old file sorting last: nothing changes.
    res = runner.invoke(app, ["load", "--db", str(db_path), "--json", str(tmp_path)])
    assert res.exit_code == 0, res.output
    files = {f["file"]: f for f in json.loads(res.stdout)["files"]}
    assert files["b_first.csv"]["rows_present"] == 2 and files["b_first.csv"]["rows_revised"] == 0
    assert (
        rows(db_path, "SELECT sale_id, tonnes FROM sales ORDER BY 1"),
        rows(db_path, "SELECT tonnes FROM sales_revisions"),
    ) == after_fix
    assert load(runner, db_path, str(old)).exit_code == 0
    assert (
        rows(db_path, "SELECT sale_id, tonnes FROM sales ORDER BY 1"),
        rows(db_path, "SELECT tonnes FROM sales_revisions"),
    ) == after_fix


def test_a_file_edited_and_loaded_again_revises_only_the_changed_row(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    header = ["销售单号", "销售日期", "销售单位编码", "购买单位编码", "数量"]
    f = tmp_path / "sales.csv"
    write_csv(f, header, [["S1", "2021-12-01", "M1", "Y1", "30"], ["S2", "2021-12-01", "M1", "Y1", "5"]])
    assert load(runner, db_path, str(f)).exit_code == 0
    write_csv(f, header, [["S1", "2021-12-01", "M1", "Y1", "30"], ["S2", "2021-12-01", "M1", "Y1", "6"]])
    res = runner.invoke(app, ["load", "--db", str(db_path), "--json", str(f)])
    report = json.loads(res.stdout)["files"][0]
    assert (report["rows_present"], report["rows_revised"], report["rows_loaded"]) == (1, 1, 1)
    assert rows(db_path, "SELECT sale_id, tonnes, _line FROM sales_revisions") == [("S2", 5.0, 3)]
    assert rows(db_path, "SELECT count(*) FROM loaded_files") == [(2,)]


def test_an_export_without_optional_columns_neither_revises_nor_erases_them(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    full = ["运输单号", "车牌号", "发货单位编码", "收货单位编码", "发车时间", "到达时间", "装车净重", "卸车净重"]
    origin_only = ["运输单号", "车牌号", "发货单位编码", "收货单位编码", "发车时间", "装车净重"]
    write_csv(
        tmp_path / "1_full.csv",
        full,
        [
            ["T1", "晋E12345", "M1", "Y1", "2021-12-01 08:00", "2021-12-01 10:00", "35", "34.9"],
            ["T2", "晋E12345", "M1", "Y1", "2021-12-02 08:00", "2021-12-02 10:00", "35", "34.8"],
        ],
    )
    write_csv(
        tmp_path / "2_origin.csv",
        origin_only,
        [
            ["T1", "晋E12345", "M1", "Y1", "2021-12-01 08:00", "35"],
            ["T2", "晋E12345", "M1", "Y1", "2021-12-02 08:00", "36"],
        ],
    )
    assert load(runner, db_path, str(tmp_path / "1_full.csv")).exit_code == 0
    res = runner.invoke(app, ["load", "--db", str(db_path), "--json", str(tmp_path / "2_origin.csv")])
    report = json.loads(res.stdout)["files"][0]
    assert (report["rows_present"], report["rows_revised"]) == (1, 1)
    assert rows(
        db_path, "SELECT trip_id, arrived_at, tonnes_loaded, tonnes_unloaded, _file FROM transports ORDER BY 1"
    ) == [
        ("T1", dt.datetime(2021, 12, 1, 10), 35.0, 34.9, "1_full.csv"),
        ("T2", dt.datetime(2021, 12, 2, 10), 36.0, 34.8, "2_origin.csv"),
    ]
    assert rows(db_path, "SELECT trip_id, tonnes_loaded, tonnes_unloaded FROM transports_revisions") == [
        ("T2", 35.0, 34.8)
    ]


def test_both_ends_exported_separately_in_one_call_make_one_version(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    # The destination's export has arrival data; the origin's, sorting after it, has not.
    dest = ["运输单号", "车牌号", "发货单位编码", "收货单位编码", "发车时间", "到达时间", "装车净重", "卸车净重"]
    origin = ["运输单号", "车牌号", "发货单位编码", "收货单位编码", "发车时间", "装车净重"]
    write_csv(
        tmp_path / "a_destination.csv",
        dest,
        [
            ["T1", "晋E12345", "M1", "Y1", "2021-12-01 08:00", "2021-12-01 10:00", "35", "34.9"],
            ["T2", "晋E12345", "M1", "Y1", "2021-12-02 08:00", "2021-12-02 10:00", "35", "34.8"],
        ],
    )
    write_csv(
        tmp_path / "b_origin.csv",
        origin,
        [
            ["T1", "晋E12345", "M1", "Y1", "2021-12-01 08:00", "35"],
            ["T2", "晋E12345", "M1", "Y1", "2021-12-02 08:00", "36"],
            ["T3", "晋E12345", "M1", "Y2", "2021-12-03 08:00", "30"],
        ],
    )
    res = runner.invoke(app, ["load", "--db", str(db_path), "--json", str(tmp_path)])
    assert res.exit_code == 0, res.output
    files = {f["file"]: f for f in json.loads(res.stdout)["files"]}
    assert (files["b_origin.csv"]["rows_present"], files["b_origin.csv"]["rows_loaded"]) == (1, 2)
    assert files["a_destination.csv"]["rows_superseded"] == 1
    assert rows(db_path, "SELECT trip_id, arrived_at, tonnes_loaded, tonnes_unloaded FROM transports ORDER BY 1") == [
        ("T1", dt.datetime(2021, 12, 1, 10), 35.0, 34.9),
        ("T2", dt.datetime(2021, 12, 2, 10), 36.0, 34.8),
        ("T3", None, 30.0, None),
    ]
    assert rows(db_path, "SELECT trip_id, tonnes_loaded, tonnes_unloaded FROM transports_revisions") == [
        ("T2", 35.0, 34.8)
    ]


def test_a_long_parquet_file_is_read_in_parts_as_one_file(
    tmp_path: Path, db_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A week of a province's GPS is millions of rows: read in parts, so memory does not grow with
    # the file, and still one file to the user (one report line, the file's own row numbers).
    from coaltrace.ingest import parquet_files

    monkeypatch.setattr(parquet_files, "PARQUET_BATCH_ROWS", 4)
    n = 10
    f = tmp_path / "gps_week1.parquet"
    pl.DataFrame(
        {
            "plate": [f"晋E1234{i}" for i in range(n)],
            "ts": [dt.datetime(2021, 12, 1, 8, i) for i in range(n)],
            "lat": [36.0 + i / 100 for i in range(n)],
            "lon": [112.0] * n,
            # Row 6 (in the second part) and row 10 (the third) have a speed no truck drives.
            "speed_kmh": ["40", "41", "42", "43", "44", "-5", "46", "47", "48", "fast"],
        }
    ).write_parquet(f, row_group_size=3)
    # Parts of 4 rows: lines 1-4, 5-8, 9-10.
    assert [p.read().frame["_line"].to_list() for p in parquet_files.parquet_parts(f)] == [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
        [9, 10],
    ]
    res = load(runner, db_path, "--json", str(f))
    assert res.exit_code == 0, res.output
    [report] = json.loads(res.stdout)["files"]
    assert (report["file"], report["rows_read"], report["rows_loaded"], report["rows_quarantined"]) == (
        "gps_week1.parquet",
        10,
        8,
        2,
    )
    assert sum(r["rows"] for r in report["top_reasons"]) == 2
    assert rows(db_path, "SELECT line FROM quarantine ORDER BY line") == [(6,), (10,)]
    assert rows(db_path, "SELECT min(_line), max(_line), count(DISTINCT _line) FROM gps") == [(1, 9, 8)]
    # The same file again: nothing new, whatever the parts.
    again = load(runner, db_path, "--json", str(f))
    assert json.loads(again.stdout)["files"][0]["rows_present"] == 8
    assert rows(db_path, "SELECT count(*) FROM gps") == [(8,)]
