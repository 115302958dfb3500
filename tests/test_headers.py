"""Header rows: found below a title, in CSV (GB18030) and xlsx, with the file's own line numbers."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import openpyxl
import pytest
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.contract import TABLES
from coaltrace.errors import ExitCode, InputFileError, Location
from coaltrace.ingest.headers import locate_header

SALES = ["销售单号", "销售日期", "销售单位编码", "购买单位编码", "煤种", "数量（吨）"]
TITLE = "泽州县2021年12月煤炭销售台账"
ROWS = [
    ["S1", "2021-12-01", "M1", "Y1", "原煤", "30"],
    ["S2", "2021-12-02", "M1", "Y1", "精煤", "三十"],
    ["S3", "2021-12-03", "M1", "Y2", "原煤", "32"],
]


def _csv(path: Path, lines: list[list[str]]) -> Path:
    path.write_bytes("\r\n".join(",".join(r) for r in lines).encode("gb18030") + b"\r\n")
    return path


def _xlsx(path: Path, rows: list[list[object]], merge_title: bool = True) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    for i, r in enumerate(rows, start=1):
        for j, v in enumerate(r, start=1):
            if v not in (None, ""):
                ws.cell(row=i, column=j, value=v)
    if merge_title:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(SALES))
    wb.save(path)
    return path


def _load(runner: CliRunner, db: Path, *args: str) -> tuple[int, str, dict | None]:
    res = runner.invoke(app, ["--lang", "en", "load", "--db", str(db), *args])
    data = None
    if "--json" in args and res.exit_code == 0:
        data = json.loads(res.stdout)
    return res.exit_code, res.output, data


def _stored(db: Path) -> tuple[list[tuple], list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return (
            con.execute("SELECT sale_id, tonnes, _line FROM sales ORDER BY _line").fetchall(),
            con.execute("SELECT line, column_name, raw_value FROM quarantine").fetchall(),
        )


@pytest.mark.parametrize("padded", [True, False])
def test_gb18030_csv_with_a_title_and_a_blank_row_above_the_header(
    tmp_path: Path, db_path: Path, runner: CliRunner, padded: bool
) -> None:
    # Excel's "save as CSV" pads the title row with commas to the sheet's width; hand-made files do not.
    pad = [""] * (len(SALES) - 1) if padded else []
    f = _csv(tmp_path / "台账.csv", [[TITLE, *pad], [""] * len(pad) if padded else [], SALES, *ROWS])
    code, output, report = _load(runner, db_path, "--json", str(f))
    assert code == 0, output
    assert report is not None
    assert report["files"][0]["header_line"] == 3 and report["files"][0]["encoding"] == "gb18030"
    assert _stored(db_path) == ([("S1", 30.0, 4), ("S3", 32.0, 6)], [(5, "tonnes", "三十")])


def test_xlsx_with_a_merged_title_and_a_blank_row(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = _xlsx(
        tmp_path / "台账.xlsx", [[TITLE], [], ["填报单位：泽州县能源局", None, None, None, "单位：吨"], SALES, *ROWS]
    )
    code, output, _ = _load(runner, db_path, str(f))
    assert code == 0, output
    assert "header found on line 4" in output
    assert _stored(db_path) == ([("S1", 30.0, 5), ("S3", 32.0, 7)], [(6, "tonnes", "三十")])


def test_the_header_is_searched_for_the_table_given(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    # Line 2 names a stocks-like header; with --table sales only line 3 fits.
    f = _csv(tmp_path / "s.csv", [[TITLE], ["单位编码", "盘点日期", "库存"], SALES, *ROWS])
    code, output, report = _load(runner, db_path, "--json", "--table", "sales", str(f))
    assert code == 0, output
    assert report is not None and report["files"][0]["header_line"] == 3


def test_a_header_beyond_the_search_is_refused_naming_the_lines_searched(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    f = _csv(tmp_path / "deep.csv", [[f"说明{i}"] for i in range(10)] + [SALES, *ROWS])
    code, output, _ = _load(runner, db_path, str(f))
    assert code == ExitCode.BAD_INPUT
    assert "deep.csv:1" in output and "cannot tell which table" in output and "any of lines 2-10" in output


def test_the_first_row_is_kept_when_it_fits() -> None:
    rows = [(1, SALES), (2, ["单位编码", "盘点日期", "库存"])]
    index, match = locate_header(rows, Location(file="x.csv"))
    assert (index, match.table.name) == (0, "sales")


def test_a_title_row_that_fits_no_table_is_skipped_and_a_second_row_that_fits_wins() -> None:
    rows = [(1, [TITLE]), (3, ["单位编码", "盘点日期", "库存"]), (4, SALES)]
    index, match = locate_header(rows, Location(file="x.csv"))
    assert (index, match.table.name) == (1, "stocks")
    index, match = locate_header(rows, Location(file="x.csv"), TABLES["sales"])
    assert (index, match.table.name) == (2, "sales")


def test_refusal_names_the_first_row_line() -> None:
    with pytest.raises(InputFileError) as e:
        locate_header([(2, [TITLE]), (4, ["备注"])], Location(file="x.xlsx", sheet="台账"))
    assert "x.xlsx[台账]:2" in str(e.value) and "nor does line 4 below it" in str(e.value)
