"""Where a record is in its file: line numbers, encodings and header cells of real files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.errors import ExitCode, Location
from coaltrace.ingest.headers import locate_header
from coaltrace.ingest.readers import open_file, read_file
from tests.conftest import examples

SALES = ["销售单号", "销售日期", "销售单位编码", "购买单位编码", "数量"]


def load_json(runner: CliRunner, db: Path, *args: str) -> dict:
    res = runner.invoke(app, ["--lang", "en", "load", "--db", str(db), "--json", *args])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def quarantine(runner: CliRunner, db: Path) -> list[tuple]:
    rows = json.loads(runner.invoke(app, ["quarantine", "--db", str(db), "--json"]).stdout)
    return [(r["line"], r["column_name"], r["raw_value"]) for r in rows]


def lines(db: Path, table: str, key: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f"SELECT {key}, _line FROM {table} ORDER BY _line").fetchall()


def test_a_quoted_cell_over_several_lines_does_not_shift_later_lines(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    f = tmp_path / "sales.csv"
    f.write_text(
        "销售单号,销售日期,销售单位编码,购买单位编码,数量,备注\r\n"
        'S1,2021-12-01,M1,Y1,30,"第一行\r\n第二行\r\n第三行"\r\n'
        "S2,2021-12-01,M1,Y1,abc,\r\n"
        "\r\n"
        "S3,2021-12-01,M1,Y1,31,\r\n",
        encoding="utf-8",
    )
    load_json(runner, db_path, str(f))
    # S2 sits on text line 5 (the note of S1 spans lines 2-4); S3 on line 7, after a blank line.
    assert quarantine(runner, db_path) == [(5, "tonnes", "abc")]
    assert lines(db_path, "sales", "sale_id") == [("S1", 2), ("S3", 7)]


def test_a_header_cell_over_two_lines_counts_both(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = tmp_path / "sales.csv"
    f.write_text(
        '销售单号,销售日期,销售单位编码,购买单位编码,"数量\n（吨）"\nS1,2021-12-01,M1,Y1,30\n', encoding="utf-8"
    )
    load_json(runner, db_path, str(f))
    assert lines(db_path, "sales", "sale_id") == [("S1", 3)]


def test_utf8_bom_before_gb18030_text(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = tmp_path / "stocks.csv"
    f.write_bytes(b"\xef\xbb\xbf" + "单位编码,盘点日期,期初库存\nY1,2021年12月1日,1000\n".encode("gb18030"))
    report = load_json(runner, db_path, str(f))
    assert report["files"][0]["encoding"] == "gb18030"
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert con.execute("SELECT facility_id, tonnes, _line FROM stocks").fetchall() == [("Y1", 1000.0, 2)]


def test_a_utf8_bom_is_not_part_of_the_first_header_under_a_named_encoding(tmp_path: Path) -> None:
    f = tmp_path / "stocks.csv"
    f.write_bytes(b"\xef\xbb\xbf" + "单位编码,盘点日期,期初库存\nY1,2021-12-01,1000\n".encode("gb18030"))
    assert read_file(f, encoding="gb18030").headers == ["单位编码", "盘点日期", "期初库存"]


def test_tsv_with_thousands_separators(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = tmp_path / "sales.tsv"
    f.write_text("\t".join(SALES) + "\nS1\t2021-12-01\tM1\tY1\t1,234.5\n", encoding="utf-8")
    load_json(runner, db_path, str(f))
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert con.execute("SELECT tonnes, _line FROM sales").fetchall() == [(1234.5, 2)]


def _sheet(path: Path, cells: dict[tuple[int, int], object], title: str = "销售") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for (row, col), value in cells.items():
        ws.cell(row=row, column=col, value=value)
    wb.save(path)
    return path


def _rows(start_row: int, start_col: int, rows: list[list[object]]) -> dict[tuple[int, int], object]:
    return {(start_row + i, start_col + j): v for i, r in enumerate(rows) for j, v in enumerate(r) if v is not None}


def test_excel_lines_are_sheet_rows_when_the_sheet_starts_lower(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    f = _sheet(
        tmp_path / "sales.xlsx",
        _rows(3, 2, [SALES, ["S1", "2021-12-01", "M1", "Y1", 30], [None] * 5, ["S2", "2021-12-02", "M1", "Y1", "abc"]]),
    )
    load_json(runner, db_path, str(f))
    assert lines(db_path, "sales", "sale_id") == [("S1", 4)]
    assert quarantine(runner, db_path) == [(6, "tonnes", "abc")]


def test_excel_header_cells_that_are_numbers_or_empty(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = _sheet(
        tmp_path / "sales.xlsx", _rows(1, 1, [[*SALES, None, 2021], ["S1", "2021-12-01", "M1", "Y1", 30, "x", "y"]])
    )
    report = load_json(runner, db_path, str(f))["files"][0]
    assert report["rows_loaded"] == 1
    assert report["ignored_columns"] == ["2021"]  # the empty header cell is not a column to mention


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_two_columns_with_the_same_contract_header_are_refused(
    tmp_path: Path, db_path: Path, runner: CliRunner, suffix: str
) -> None:
    header = [*SALES, "数量"]
    row = ["S1", "2021-12-01", "M1", "Y1", "30", "2"]
    if suffix == ".csv":
        f = tmp_path / "sales.csv"
        f.write_text(",".join(header) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    else:
        f = _sheet(tmp_path / "sales.xlsx", _rows(1, 1, [header, row]))
    res = runner.invoke(app, ["--lang", "en", "load", "--db", str(db_path), str(f)])
    assert res.exit_code == ExitCode.BAD_INPUT, res.output
    assert f.name in res.output and "tonnes" in res.output and "数量 (#5)" in res.output and "数量 (#6)" in res.output


def test_an_unrelated_repeated_column_is_ignored(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = tmp_path / "sales.csv"
    f.write_text(",".join([*SALES, "备注", "备注"]) + "\nS1,2021-12-01,M1,Y1,30,a,b\n", encoding="utf-8")
    assert load_json(runner, db_path, str(f))["files"][0]["rows_loaded"] == 1


def test_a_header_in_a_unit_the_column_cannot_take_yields_to_one_it_can(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    header = ["销售单号", "销售日期", "销售单位编码", "购买单位编码", "数量（车）", "净重（吨）"]
    f = tmp_path / "sales.csv"
    f.write_text(",".join(header) + "\nS1,2021-12-01,M1,Y1,1,35\n", encoding="utf-8")
    report = load_json(runner, db_path, "--table", "sales", str(f))["files"][0]
    assert report["ignored_columns"] == ["数量（车）"]
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert con.execute("SELECT tonnes FROM sales").fetchall() == [(35.0,)]
    alone = tmp_path / "trucks.csv"
    alone.write_text(",".join(header[:5]) + "\nS1,2021-12-01,M1,Y1,1\n", encoding="utf-8")
    res = runner.invoke(app, ["--lang", "en", "load", "--db", str(db_path), "--table", "sales", str(alone)])
    assert res.exit_code == ExitCode.BAD_INPUT and "unknown unit" in res.output and "数量（车）" in res.output


_CELL = st.lists(st.sampled_from([*'ab 1,"\n煤矿，', "\r\n"]), max_size=12).map("".join)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    titles=st.lists(st.sampled_from(["泽州县2021年12月煤炭销售台账", "", "单位：吨", '"多行\n标题"']), max_size=4),
    notes=st.lists(_CELL, min_size=1, max_size=8),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
)
def test_csv_lines_are_the_text_lines_records_start_on(
    tmp_path: Path, titles: list[str], notes: list[str], encoding: str
) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    buf.write("".join(t + "\r\n" for t in titles))
    w.writerow([*SALES, "备注"])
    expected = []
    for i, note in enumerate(notes):
        # The line a record starts on is one more than the line breaks written before it.
        expected.append((f"S{i}", buf.getvalue().count("\n") + 1))
        w.writerow([f"S{i}", "2021-12-01", "M1", "Y1", "30", note])
    f = tmp_path / "s.csv"
    f.write_bytes(buf.getvalue().encode(encoding))
    opened = open_file(f)
    index, _ = locate_header([(c.line, c.cells) for c in opened.candidates], Location(file=f.name))
    raw = opened.read(index)
    assert raw.header_line == 1 + sum(t.count("\n") + 1 for t in titles)
    assert raw.frame.select("_c0", "_line").rows() == expected
    assert raw.frame["_c5"].to_list() == [n or None for n in notes]
