"""Files an attacker or a careless office sends: nothing loaded vanishes without a word.

Each test writes its hostile file itself and checks what the auditor sees:
the rows read right, a quarantine row with its reason, a refusal naming file,
sheet, line and column, or a line in the summary saying what was not read.
"""

from __future__ import annotations

import gzip
import json
import os
import zipfile
from datetime import datetime
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.errors import ExitCode
from coaltrace.ingest import readers
from tests.conftest import write_csv, write_xlsx

SALES = ["销售单号", "销售日期", "销售单位编码", "购买单位编码", "数量"]
ROWS = [
    ["S1", "2021-12-01", "M1", "Y1", "30"],
    ["S2", "2021-12-02", "M1", "Y1", "31"],
    ["S3", "2021-12-03", "M2", "Y1", "32"],
]
FACILITIES = ["单位编码", "单位名称", "单位类型"]


def invoke(runner: CliRunner, db: Path, *args: str, lang: str = "en"):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--lang", lang, "load", "--db", str(db), *args])


def load_json(runner: CliRunner, db: Path, *args: str) -> dict:
    res = invoke(runner, db, "--json", *args)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def quarantined(db: Path) -> list[tuple]:
    return rows(db, "SELECT line, column_name, raw_value, reason FROM quarantine ORDER BY line, column_name")


def csv_text(header: list[str], body: list[list[str]], end: str) -> str:
    return end.join(",".join(r) for r in [header, *body]) + end


# --- line endings -------------------------------------------------------------------


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_ending_reads_with_its_line_numbers(
    tmp_path: Path, db_path: Path, runner: CliRunner, end: str
) -> None:
    f = tmp_path / "sales.csv"
    f.write_bytes(csv_text(SALES, ROWS, end).encode("gb18030"))
    report = load_json(runner, db_path, str(f))
    assert report["files"][0]["rows_loaded"] == 3
    assert rows(db_path, "SELECT sale_id, tonnes, _line FROM sales ORDER BY _line") == [
        ("S1", 30.0, 2),
        ("S2", 31.0, 3),
        ("S3", 32.0, 4),
    ]


def test_mixed_line_endings_and_a_bad_row_keep_their_lines(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = tmp_path / "sales.csv"
    f.write_bytes(
        (
            ",".join(SALES)
            + "\n"
            + "S1,2021-12-01,M1,Y1,30\r"
            + "S2,2021-12-02,M1,Y1,abc\r\n"
            + "S3,2021-12-03,M1,Y1,32\n"
        ).encode()
    )
    load_json(runner, db_path, str(f))
    assert rows(db_path, "SELECT sale_id, _line FROM sales ORDER BY _line") == [("S1", 2), ("S3", 4)]
    assert quarantined(db_path) == [(3, "tonnes", "abc", "not_a_number")]


def test_a_quoted_cell_with_a_lone_cr_counts_as_a_line_break(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = tmp_path / "sales.csv"
    f.write_bytes((",".join([*SALES, "备注"]) + '\rS1,2021-12-01,M1,Y1,30,"a\rb"\rS2,2021-12-01,M1,Y1,x,\r').encode())
    load_json(runner, db_path, str(f))
    assert quarantined(db_path) == [(4, "tonnes", "x", "not_a_number")]


# --- workbooks ----------------------------------------------------------------------


def test_every_sheet_of_a_workbook_is_read_and_notes_are_named(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    f = write_xlsx(
        tmp_path / "month.xlsx",
        {
            "销售": [SALES, ROWS[0]],
            "说明": [["填表说明"], ["数量单位为吨"]],
            "单位": [FACILITIES, ["M1", "一号煤矿", "煤矿"]],
            "空": [],
        },
    )
    report = load_json(runner, db_path, str(f))
    assert [(r["sheet"], r["table"], r["rows_loaded"]) for r in report["files"]] == [
        ("销售", "sales", 1),
        ("单位", "facilities", 1),
    ]
    assert [(s["file"], s["sheet"], s["reason"]) for s in report["skipped"]] == [
        ("month.xlsx", "说明", "fits_no_table"),
        ("month.xlsx", "空", "empty_sheet"),
    ]
    assert report["skipped"][0]["detail"] == "填表说明"
    assert rows(db_path, "SELECT _sheet, _line FROM facilities") == [("单位", 2)]


def test_the_summary_names_every_sheet_not_read_in_both_languages(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    f = write_xlsx(tmp_path / "month.xlsx", {"销售": [SALES, ROWS[0]], "说明": [["填表说明"]]})
    en = invoke(runner, db_path, str(f))
    assert en.exit_code == 0, en.output
    assert "not read:" in en.output and "month.xlsx[说明]: its header fits no table" in en.output
    zh = invoke(runner, tmp_path / "zh.duckdb", str(f), lang="zh")
    assert "未读取：" in zh.output and "month.xlsx[说明]：" not in zh.output and "表头与任何数据表都不符" in zh.output


def test_two_sheets_of_one_table_both_load(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = write_xlsx(tmp_path / "sales.xlsx", {"第一周": [SALES, ROWS[0]], "第二周": [SALES, ROWS[1]]})
    load_json(runner, db_path, str(f))
    assert rows(db_path, "SELECT sale_id, _sheet FROM sales ORDER BY sale_id") == [("S1", "第一周"), ("S2", "第二周")]
    # The same workbook again: nothing changes.
    again = load_json(runner, db_path, str(f))
    assert [r["rows_present"] for r in again["files"]] == [1, 1]


def test_sheet_option_reads_only_that_sheet_and_lists_the_others(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    f = write_xlsx(tmp_path / "sales.xlsx", {"第一周": [SALES, ROWS[0]], "第二周": [SALES, ROWS[1]]})
    report = load_json(runner, db_path, "--sheet", "第二周", str(f))
    assert [r["sheet"] for r in report["files"]] == ["第二周"]
    assert [(s["sheet"], s["reason"]) for s in report["skipped"]] == [("第一周", "other_sheet")]


def test_a_data_sheet_that_lacks_a_column_refuses_the_workbook(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    f = write_xlsx(tmp_path / "sales.xlsx", {"销售": [SALES, ROWS[0]], "销售2": [SALES[:4], ROWS[1][:4]]})
    res = invoke(runner, db_path, str(f))
    assert res.exit_code == ExitCode.BAD_INPUT
    assert "sales.xlsx[销售2]" in res.output and "tonnes" in res.output
    assert rows(db_path, "SELECT count(*) FROM sales") == [(0,)]


def test_a_workbook_of_notes_only_is_refused(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = write_xlsx(tmp_path / "notes.xlsx", {"说明": [["填表说明"]], "空": []})
    res = invoke(runner, db_path, str(f))
    assert res.exit_code == ExitCode.BAD_INPUT
    assert "no sheet of the workbook holds a table" in res.output
    assert (
        "说明: its header fits no table (a sheet of notes?) / 表头与任何数据表都不符（说明页？） (填表说明)"
        in res.output
    )
    assert "空: an empty sheet / 空工作表" in res.output


def test_an_empty_first_sheet_does_not_hide_the_data(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = write_xlsx(tmp_path / "sales.xlsx", {"Sheet1": [], "数据": [SALES, ROWS[0]]})
    report = load_json(runner, db_path, str(f))
    assert [r["sheet"] for r in report["files"]] == ["数据"]
    assert report["skipped"][0]["reason"] == "empty_sheet"


def test_an_xls_workbook_reads_like_xlsx(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    for name, data in {"销售": [SALES, *ROWS], "说明": [["备注"]]}.items():
        sheet = book.add_sheet(name)
        for r, values in enumerate(data):
            for c, v in enumerate(values):
                sheet.write(r, c, v)
    f = tmp_path / "sales.xls"
    book.save(str(f))
    report = load_json(runner, db_path, str(f))
    assert [(r["sheet"], r["rows_loaded"]) for r in report["files"]] == [("销售", 3)]
    assert rows(db_path, "SELECT sale_id, tonnes, _line FROM sales ORDER BY _line")[0] == ("S1", 30.0, 2)


def _ods(path: Path, sheets: dict[str, list[list[str]]]) -> Path:
    """A minimal OpenDocument spreadsheet (what LibreOffice and WPS save as .ods)."""
    tables = "".join(
        f'<table:table table:name="{name}">'
        + "".join(
            "<table:table-row>"
            + "".join(
                f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>' for v in r
            )
            + "</table:table-row>"
            for r in data
        )
        + "</table:table>"
        for name, data in sheets.items()
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def test_an_ods_workbook_reads_like_xlsx(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = _ods(tmp_path / "sales.ods", {"销售": [SALES, *ROWS]})
    report = load_json(runner, db_path, str(f))
    assert (report["files"][0]["sheet"], report["files"][0]["rows_loaded"]) == ("销售", 3)


# --- folders ------------------------------------------------------------------------


def test_every_file_of_a_folder_that_is_not_read_is_listed(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    folder = tmp_path / "2021-12"
    write_csv(folder / "sales.csv", SALES, [ROWS[0]])
    (folder / "sales2.csv.gz").write_bytes(gzip.compress(csv_text(SALES, [ROWS[1]], "\n").encode("gb18030")))
    with zipfile.ZipFile(folder / "more.zip", "w") as z:
        z.writestr("sales3.csv", csv_text(SALES, [ROWS[2]], "\n"))
    (folder / "notes.docx").write_bytes(b"PK")
    (folder / "~$sales.xlsx").write_bytes(b"lock")
    (folder / ".DS_Store").write_bytes(b"\0")
    (folder / "gone.csv").symlink_to(folder / "nowhere.csv")
    report = load_json(runner, db_path, str(folder))
    assert sorted(r["file"] for r in report["files"]) == ["sales.csv", "sales2.csv.gz"]
    assert sorted((s["file"], s["reason"], s["detail"]) for s in report["skipped"]) == [
        (".DS_Store", "hidden", None),
        ("gone.csv", "broken_link", None),
        ("more.zip", "archive", ".zip"),
        ("notes.docx", "unsupported_type", ".docx"),
        ("~$sales.xlsx", "lock_file", None),
    ]
    assert rows(db_path, "SELECT sale_id FROM sales ORDER BY 1") == [("S1",), ("S2",)]
    text = invoke(runner, tmp_path / "again.duckdb", str(folder))
    assert "more.zip: an archive: unpack it first (.zip)" in text.output


def test_a_zip_given_by_name_is_refused_with_unpack_first(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = tmp_path / "sales.zip"
    with zipfile.ZipFile(f, "w") as z:
        z.writestr("sales.csv", csv_text(SALES, [ROWS[0]], "\n"))
    res = invoke(runner, db_path, str(f))
    assert res.exit_code == ExitCode.BAD_INPUT and "sales.zip" in res.output and "Unpack it first" in res.output


def test_a_folder_link_back_up_the_tree_is_walked_once(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    folder = tmp_path / "month"
    write_csv(folder / "county" / "sales.csv", SALES, [ROWS[0]])
    (folder / "county" / "up").symlink_to(folder, target_is_directory=True)
    report = load_json(runner, db_path, str(folder))
    assert [r["file"] for r in report["files"]] == ["sales.csv"]
    assert [(s["file"], s["reason"]) for s in report["skipped"]] == [("up", "link_loop")]


def test_a_folder_that_cannot_be_listed_is_named(
    tmp_path: Path, db_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "month"
    write_csv(folder / "sales.csv", SALES, [ROWS[0]])
    write_csv(folder / "locked" / "sales2.csv", SALES, [ROWS[1]])
    real = os.scandir

    def scandir(path: str) -> object:  # what a folder without read permission does (tests run as any user)
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    report = load_json(runner, db_path, str(folder))
    assert [r["file"] for r in report["files"]] == ["sales.csv"]
    assert [(s["file"], s["reason"], s["detail"]) for s in report["skipped"]] == [
        ("locked", "unreadable_folder", "Permission denied")
    ]


def test_a_zero_byte_file_in_a_folder_refuses_the_call_by_name(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    folder = tmp_path / "month"
    write_csv(folder / "sales.csv", SALES, [ROWS[0]])
    (folder / "empty.csv").write_bytes(b"")
    res = invoke(runner, db_path, str(folder))
    assert res.exit_code == ExitCode.BAD_INPUT and "empty.csv: the file is empty" in res.output


def test_a_folder_with_nothing_readable_says_what_it_holds(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    folder = tmp_path / "month"
    folder.mkdir()
    (folder / "data.zip").write_bytes(b"PK")
    res = invoke(runner, db_path, str(folder))
    assert res.exit_code == ExitCode.USAGE and "data.zip: an archive: unpack it first" in res.output


# --- encodings ----------------------------------------------------------------------

BIG5_TRANSPORTS = [
    "運輸單號",
    "運單號",
    "車牌號",
    "發貨單位編碼",
    "收貨單位編碼",
    "發車時間",
    "到達時間",
    "裝車淨重（噸）",
    "卸車淨重",
]


def test_a_big5_file_is_detected_and_read_right(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = tmp_path / "trips.csv"
    body = [["T1", "W1", "晉E12345", "M1", "Y1", "2021-12-01 08:00", "2021-12-01 10:00", "30", "29.9"]]
    f.write_bytes(csv_text(BIG5_TRANSPORTS, body, "\r\n").encode("big5"))
    report = load_json(runner, db_path, str(f))["files"][0]
    assert (report["table"], report["encoding"], report["encoding_detected"]) == ("transports", "big5", True)
    assert report["ignored_columns"] == []
    assert rows(db_path, "SELECT trip_id, plate, tonnes_loaded FROM transports") == [("T1", "晉E12345", 30.0)]
    text = invoke(runner, tmp_path / "b.duckdb", str(f))
    assert "trips.csv: read as big5" in text.output


def test_traditional_enum_words_read_as_their_codes(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = write_csv(
        tmp_path / "facilities.csv",
        ["單位編碼", "單位名稱", "單位類型", "狀態"],
        [["M1", "一號煤礦", "煤礦", "停產"], ["Y1", "儲煤場", "儲煤場", "關閉"]],
        encoding="big5",
    )
    load_json(runner, db_path, str(f))
    assert rows(db_path, "SELECT facility_id, name, kind, status FROM facilities ORDER BY 1") == [
        ("M1", "一號煤礦", "mine", "suspended"),
        ("Y1", "儲煤場", "yard", "closed"),
    ]


def test_big5_text_under_an_ascii_header_is_refused_with_a_hint(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    body = [[f"F{i}", f"晉城市澤州縣第{i}煤礦有限公司", "mine"] for i in range(30)]
    f = write_csv(tmp_path / "facilities.csv", ["facility_id", "name", "kind"], body, encoding="big5")
    res = invoke(runner, db_path, str(f))
    assert res.exit_code == ExitCode.BAD_INPUT, res.output
    assert "facilities.csv" in res.output and "does not read as GB18030" in res.output and "--encoding" in res.output
    told = load_json(runner, db_path, "--encoding", "big5", str(f))
    assert told["files"][0]["rows_loaded"] == 30
    assert rows(db_path, "SELECT name FROM facilities WHERE facility_id = 'F1'") == [("晉城市澤州縣第1煤礦有限公司",)]


def test_gb18030_text_with_rare_name_characters_still_loads(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    body = [[f"F{i}", f"晋城市泽州县第{i}煤矿有限公司（法人：王堃）", "mine"] for i in range(30)]
    f = write_csv(tmp_path / "facilities.csv", ["facility_id", "name", "kind"], body, encoding="gb18030")
    report = load_json(runner, db_path, str(f))["files"][0]
    assert (report["encoding"], report["rows_loaded"]) == ("gb18030", 30)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom(tmp_path: Path, db_path: Path, runner: CliRunner, encoding: str) -> None:
    f = tmp_path / "sales.csv"
    f.write_bytes(csv_text(SALES, ROWS, "\r\n").encode(encoding))
    report = load_json(runner, db_path, str(f))["files"][0]
    assert (report["encoding"], report["rows_loaded"]) == (encoding, 3)


def test_a_header_that_fits_in_no_encoding_suggests_encoding(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = tmp_path / "sales.csv"
    f.write_bytes("编号,日期,金额\n1,2021-12-01,3\n".encode("gb18030"))
    res = invoke(runner, db_path, str(f))
    assert res.exit_code == ExitCode.BAD_INPUT
    assert "cannot tell which table" in res.output and "--encoding" in res.output


# --- times, numbers, dates ---------------------------------------------------------


def test_parquet_timestamps_with_a_time_zone_are_china_time(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = tmp_path / "sales.parquet"
    pl.DataFrame(
        {
            "sale_id": ["S1", "S2"],
            "sold_at": pl.Series(["2021-12-05T00:30", "2021-12-31T20:00"]).str.to_datetime(time_zone="UTC"),
            "seller_id": ["M1", "M1"],
            "buyer_id": ["Y1", "Y1"],
            "tonnes": [30.0, 31.0],
        }
    ).write_parquet(f)
    load_json(runner, db_path, str(f))
    assert rows(db_path, "SELECT sold_at FROM sales ORDER BY sale_id") == [
        (datetime(2021, 12, 5, 8, 30),),
        (datetime(2022, 1, 1, 4, 0),),
    ]


def test_parquet_timestamps_in_another_zone_are_converted(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = tmp_path / "sales.parquet"
    stamp = pl.Series(["2021-12-05T09:30"]).str.to_datetime(time_zone="Asia/Tokyo")
    pl.DataFrame(
        {"sale_id": ["S1"], "sold_at": stamp, "seller_id": ["M"], "buyer_id": ["Y"], "tonnes": [1.0]}
    ).write_parquet(f)
    load_json(runner, db_path, str(f))
    assert rows(db_path, "SELECT sold_at FROM sales") == [(datetime(2021, 12, 5, 8, 30),)]


def test_csv_and_xlsx_times_with_an_offset_are_converted(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    stamps = ["2021-12-05T00:30:00Z", "2021-12-05T00:30:00+00:00", "2021-12-05T09:30:00+09:00"]
    body = [[f"S{i}", s, "M1", "Y1", "30"] for i, s in enumerate(stamps)]
    write_csv(tmp_path / "d" / "sales.csv", SALES, body)
    write_xlsx(tmp_path / "d" / "sales.xlsx", {"销售": [SALES, *[[f"X{i}", *r[1:]] for i, r in enumerate(body)]]})
    load_json(runner, db_path, str(tmp_path / "d"))
    assert set(rows(db_path, "SELECT DISTINCT sold_at FROM sales")) == {(datetime(2021, 12, 5, 8, 30),)}


def test_impossible_numbers_and_dates_are_quarantined_not_stored(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    body = [
        ["S1", "2021-12-01", "M1", "Y1", "1e309"],
        ["S2", "2021-12-01", "M1", "Y1", "1,2,3"],
        ["S3", "99999", "M1", "Y1", "3"],
        ["S4", "0001-01-01", "M1", "Y1", "3"],
        ["S5", "9999-12-31", "M1", "Y1", "3"],
        ["S6", "2021-12-01", "M1", "Y1", "1,234.5"],
        ["S7", "2021-12-01", "M1", "Y1", "2,000,000"],
        ["S8", "2021-12-01", "M1", "Y1", "12,345"],
    ]
    f = write_csv(tmp_path / "sales.csv", SALES, body)
    load_json(runner, db_path, str(f))
    assert rows(db_path, "SELECT sale_id, tonnes FROM sales ORDER BY 1") == [("S6", 1234.5), ("S8", 12345.0)]
    assert quarantined(db_path) == [
        (2, "tonnes", "1e309", "out_of_range"),
        (3, "tonnes", "1,2,3", "bad_separator"),
        (4, "sold_at", "99999", "out_of_range"),
        (5, "sold_at", "0001-01-01", "out_of_range"),
        (6, "sold_at", "9999-12-31", "out_of_range"),
        (8, "tonnes", "2,000,000", "out_of_range"),
    ]
    shown = runner.invoke(app, ["--lang", "en", "quarantine", "--db", str(db_path)])
    assert "outside what is possible" in shown.output and "thousands separator in the wrong place" in shown.output


def test_an_excel_serial_beyond_the_range_in_a_real_workbook(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(SALES)
    ws.append(["S1", 99999, "M1", "Y1", 30])
    ws.append(["S2", 44531, "M1", "Y1", 30])  # 2021-12-01
    f = tmp_path / "sales.xlsx"
    wb.save(f)
    load_json(runner, db_path, str(f))
    assert rows(db_path, "SELECT sale_id FROM sales") == [("S2",)]
    assert quarantined(db_path) == [(2, "sold_at", "99999", "out_of_range")]


# --- NUL bytes, wide rows -------------------------------------------------------------


def test_a_nul_byte_deep_in_a_csv_refuses_the_file_with_its_line(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    body = "".join(f"S{i},2021-12-01,M1,Y1,30\n" for i in range(5000))
    f = tmp_path / "sales.csv"
    f.write_bytes((",".join(SALES) + "\n" + body + "S\x00X,2021-12-01,M1,Y1,30\n").encode())
    res = invoke(runner, db_path, str(f))
    assert res.exit_code == ExitCode.BAD_INPUT
    assert "sales.csv:5002" in res.output and "NUL" in res.output
    assert rows(db_path, "SELECT count(*) FROM sales") == [(0,)]


def test_a_nul_character_in_a_parquet_id_refuses_the_file(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = tmp_path / "sales.parquet"
    frame = {"sale_id": ["S1", "S\x002"], "sold_at": ["2021-12-01"] * 2, "seller_id": ["M"] * 2, "buyer_id": ["Y"] * 2}
    pl.DataFrame({**frame, "tonnes": [1.0, 2.0]}).write_parquet(f)
    res = invoke(runner, db_path, str(f))
    assert res.exit_code == ExitCode.BAD_INPUT
    assert "sales.parquet" in res.output and "sale_id" in res.output and "NUL character on line 2" in res.output


def test_a_nul_character_in_an_excel_cell_refuses_the_sheet(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    # XML cannot hold a NUL, but Excel's escape `_x0000_` writes one, and readers decode it.
    f = write_xlsx(tmp_path / "sales.xlsx", {"销售": [SALES, ROWS[0], ["S_x0000_2", *ROWS[1][1:]]]})
    res = invoke(runner, db_path, str(f))
    assert res.exit_code == ExitCode.BAD_INPUT
    assert "sales.xlsx[销售]:3, column '#1'" in res.output and "NUL" in res.output


def test_a_row_wider_than_its_header_is_quarantined_not_cut(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = tmp_path / "sales.csv"
    f.write_text(
        ",".join(SALES)
        + "\nS1,2021-12-01,M1,Y1,30\n"
        + "S2,2021-12-01,M1,Y1,1,234\n"  # an unquoted thousands separator shifts the row
        + "S3,2021-12-01,M1,Y1,30,,\n"  # trailing empty cells are harmless
        + "S4,2021-12-01,M1,Y1,30,,,,,,,,,,,,late\n",
        encoding="utf-8",
    )
    load_json(runner, db_path, str(f))
    assert rows(db_path, "SELECT sale_id FROM sales ORDER BY 1") == [("S1",), ("S3",)]
    assert quarantined(db_path) == [(3, "#6", "234", "extra_cells"), (5, "#17", "late", "extra_cells")]
    shown = runner.invoke(app, ["--lang", "en", "quarantine", "--db", str(db_path)])
    assert "cells beyond the header" in shown.output


def test_an_excel_row_with_cells_beyond_its_header_is_quarantined(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    f = write_xlsx(tmp_path / "sales.xlsx", {"销售": [SALES, [*ROWS[0], None, "多出"], ROWS[1]]})
    load_json(runner, db_path, str(f))
    assert rows(db_path, "SELECT sale_id FROM sales") == [("S2",)]
    assert quarantined(db_path) == [(2, "#7", "多出", "extra_cells")]


# --- what is not a file, and what is too big ---------------------------------------------


def test_a_fifo_is_refused_before_it_is_read(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    fifo = tmp_path / "sales.csv"
    os.mkfifo(fifo)
    res = invoke(runner, db_path, str(fifo))  # would wait forever if it were opened
    assert res.exit_code == ExitCode.BAD_INPUT and "sales.csv" in res.output and "FIFO" in res.output


def test_a_device_is_refused_before_it_is_read(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    link = tmp_path / "zero.csv"
    link.symlink_to("/dev/zero")  # would be read until memory runs out
    res = invoke(runner, db_path, str(link))
    assert res.exit_code == ExitCode.BAD_INPUT and "zero.csv" in res.output and "a device" in res.output
    res = invoke(runner, db_path, "/dev/zero")
    assert res.exit_code == ExitCode.BAD_INPUT and "a device" in res.output


def test_a_file_over_the_size_limit_is_refused(
    tmp_path: Path, db_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "max_file_bytes", lambda: 1000)
    big = write_csv(tmp_path / "sales.csv", SALES, [[f"S{i}", "2021-12-01", "M1", "Y1", "30"] for i in range(100)])
    res = invoke(runner, db_path, str(big))
    assert res.exit_code == ExitCode.BAD_INPUT and "sales.csv" in res.output and "Split it" in res.output


def test_a_gzip_bomb_stops_at_the_limit(
    tmp_path: Path, db_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "max_file_bytes", lambda: 1 << 20)
    f = tmp_path / "sales.csv.gz"
    f.write_bytes(gzip.compress((",".join(SALES) + "\n").encode() + b"0" * (64 << 20)))
    assert f.stat().st_size < 1 << 20
    res = invoke(runner, db_path, str(f))
    assert res.exit_code == ExitCode.BAD_INPUT and "unpacks to more than" in res.output


def test_a_damaged_gzip_is_refused(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = tmp_path / "sales.csv.gz"
    f.write_bytes(gzip.compress(csv_text(SALES, ROWS, "\n").encode())[:30])
    res = invoke(runner, db_path, str(f))
    assert res.exit_code == ExitCode.BAD_INPUT and "not a readable gzip file" in res.output


# --- Parquet columns that are not values ----------------------------------------------


def test_a_nested_parquet_column_the_contract_does_not_name_is_ignored(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    f = tmp_path / "sales.parquet"
    frame = {"sale_id": ["S1"], "sold_at": ["2021-12-01"], "seller_id": ["M"], "buyer_id": ["Y"], "tonnes": [1.0]}
    pl.DataFrame({**frame, "tags": [[1, 2]], "meta": [{"a": 1}], "blob": [b"\xff\x00"]}).write_parquet(f)
    report = load_json(runner, db_path, str(f))["files"][0]
    assert report["rows_loaded"] == 1 and report["ignored_columns"] == ["tags", "meta", "blob"]


@pytest.mark.parametrize(
    ("value", "shown"), [([1.0, 2.0], "list(float64)"), ({"t": 1.0}, "struct"), (b"\xff\xfe", "binary, not text")]
)
def test_a_contract_column_that_is_not_a_value_refuses_the_file(
    tmp_path: Path, db_path: Path, runner: CliRunner, value: object, shown: str
) -> None:
    f = tmp_path / "sales.parquet"
    frame = {"sale_id": ["S1"], "sold_at": ["2021-12-01"], "seller_id": ["M"], "buyer_id": ["Y"]}
    pl.DataFrame({**frame, "tonnes": [value]}).write_parquet(f)
    res = invoke(runner, db_path, str(f))
    assert res.exit_code == ExitCode.BAD_INPUT, res.output
    assert "sales.parquet" in res.output and "tonnes" in res.output and shown in res.output.lower()


# --- other shapes of file -------------------------------------------------------------


def test_a_header_of_twenty_thousand_cells_is_shown_cut(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = tmp_path / "wide.csv"
    f.write_text(",".join(f"c{i}" for i in range(20000)) + "\n" + ",".join("1" * 20000) + "\n", encoding="utf-8")
    res = invoke(runner, db_path, str(f))
    assert res.exit_code == ExitCode.BAD_INPUT and "c39, … (+" in res.output and "c40," not in res.output


def test_a_header_below_the_search_rows_is_refused_naming_the_lines(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    f = tmp_path / "sales.csv"
    f.write_text("泽州县销售台账\n" * 11 + ",".join(SALES) + "\nS1,2021-12-01,M1,Y1,30\n", encoding="utf-8")
    res = invoke(runner, db_path, str(f))
    assert res.exit_code == ExitCode.BAD_INPUT and "sales.csv:1" in res.output and "lines 2-10" in res.output


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\n\r\n  \n", b",,,\n,,\n"])
def test_a_file_with_nothing_in_it_is_refused_as_empty(
    tmp_path: Path, db_path: Path, runner: CliRunner, content: bytes
) -> None:
    f = tmp_path / "sales.csv"
    f.write_bytes(content)
    res = invoke(runner, db_path, str(f))
    assert res.exit_code == ExitCode.BAD_INPUT, res.output
    assert "sales.csv: the file is empty" in res.output


def test_a_file_of_only_a_header_loads_nothing_and_says_so(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    for end in ("\n", "\r", ""):
        f = tmp_path / f"sales{len(end)}{end == chr(13)}.csv"
        f.write_text(",".join(SALES) + end, encoding="utf-8")
        report = load_json(runner, db_path, str(f))["files"][0]
        assert (report["table"], report["rows_read"]) == ("sales", 0)


def test_merged_header_cells_are_refused_with_the_header_as_read(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["销售单号", "销售日期", "单位编码", None, "数量"])
    ws.merge_cells("C1:D1")
    ws.append(["S1", "2021-12-01", "M1", "Y1", 30])
    f = tmp_path / "sales.xlsx"
    wb.save(f)
    res = invoke(runner, db_path, str(f))
    assert res.exit_code == ExitCode.BAD_INPUT
    assert "sales.xlsx[Sheet]:1" in res.output and "销售单号, 销售日期, 单位编码, , 数量" in res.output
    assert "merged cells?" in res.output


# --- what used to end in an internal error ------------------------------------------------


def test_a_file_name_that_is_not_utf8_loads_under_a_readable_name(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    folder = tmp_path / "month"
    folder.mkdir()
    raw_name = os.path.join(os.fsencode(folder), b"sales\xff.csv")
    with open(raw_name, "wb") as f:
        f.write(csv_text(SALES, [ROWS[0]], "\n").encode())
    report = load_json(runner, db_path, str(folder))
    assert report["files"][0]["file"] == "sales\ufffd.csv"
    assert rows(db_path, "SELECT _file FROM sales") == [("sales\ufffd.csv",)]


def test_a_quote_that_is_never_closed_is_named(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = tmp_path / "sales.csv"
    f.write_text(",".join(SALES) + '\nS1,2021-12-01,M1,Y1,"30\nS2,2021-12-01,M1,Y1,31\n', encoding="utf-8")
    res = invoke(runner, db_path, str(f))
    assert res.exit_code == ExitCode.BAD_INPUT and "sales.csv" in res.output and "never closed" in res.output


def test_a_file_that_cannot_be_read_is_refused_not_a_crash(
    tmp_path: Path, db_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = write_csv(tmp_path / "sales.csv", SALES, [ROWS[0]])

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    res = invoke(runner, db_path, str(f))
    assert res.exit_code == ExitCode.BAD_INPUT and "sales.csv" in res.output and "Permission denied" in res.output


def test_the_readme_explains_every_reason_code() -> None:
    from coaltrace.ingest.reasons import QUARANTINE_REASONS, SKIP_REASONS

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for code in [*QUARANTINE_REASONS, *SKIP_REASONS]:
        assert f"`{code}`" in readme, f"README's load section does not explain {code}"
