"""Bad input: every case a real file, every message naming the file (and row and column)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.errors import ExitCode
from tests.conftest import write_csv

FILES = Path(__file__).parent / "files" / "invalid"
SALES = ["销售单号", "销售日期", "销售单位编码", "购买单位编码", "数量"]


def invoke(runner: CliRunner, db: Path, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--lang", "en", "load", "--db", str(db), *args])


def dump(db: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in tables}


def test_unknown_table_is_refused_with_the_closest_table(db_path: Path, runner: CliRunner) -> None:
    res = invoke(runner, db_path, str(FILES / "unknown_table.csv"))
    assert res.exit_code == ExitCode.BAD_INPUT
    assert "unknown_table.csv" in res.output and "cannot tell which table" in res.output
    assert "--table" in res.output


def test_missing_required_column_names_file_column_and_aliases(db_path: Path, runner: CliRunner) -> None:
    res = invoke(runner, db_path, str(FILES / "missing_column.csv"), "--table", "sales")
    assert res.exit_code == ExitCode.BAD_INPUT
    assert "missing_column.csv" in res.output
    assert "seller_id" in res.output and "销售单位编码" in res.output and "发货单位编码" in res.output


def test_undetectable_encoding(db_path: Path, runner: CliRunner) -> None:
    res = invoke(runner, db_path, str(FILES / "bad_encoding.csv"))
    assert res.exit_code == ExitCode.BAD_INPUT
    assert "bad_encoding.csv" in res.output and "encoding" in res.output and "--encoding" in res.output


def test_empty_file(db_path: Path, runner: CliRunner) -> None:
    res = invoke(runner, db_path, str(FILES / "empty.csv"))
    assert res.exit_code == ExitCode.BAD_INPUT
    assert "empty.csv" in res.output and "empty" in res.output


def test_header_only_loads_nothing_and_says_so(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = write_csv(tmp_path / "sales_header_only.csv", SALES, [])
    res = runner.invoke(app, ["load", "--db", str(db_path), "--json", str(f)])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)["files"][0]
    assert (report["table"], report["rows_read"], report["rows_loaded"]) == ("sales", 0, 0)


def test_unknown_enum_value_is_quarantined_with_line_and_column(db_path: Path, runner: CliRunner) -> None:
    res = invoke(runner, db_path, str(FILES / "unknown_kind.csv"))
    assert res.exit_code == 0, res.output
    assert "1 row(s) could not be read" in res.output
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert con.execute("SELECT facility_id, kind FROM facilities").fetchall() == [("F2", "mine")]
        assert con.execute("SELECT file, line, column_name, raw_value, reason FROM quarantine").fetchall() == [
            ("unknown_kind.csv", 2, "kind", "煤窑", "unknown_value")
        ]


def test_missing_id_text_in_number_and_bad_date_are_quarantined(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    f = write_csv(
        tmp_path / "s.csv",
        SALES,
        [
            ["", "2021-12-01", "M1", "Y1", "30"],
            ["S2", "2021-12-01", "M1", "Y1", "三十"],
            ["S3", "12/45/2021", "M1", "Y1", "30"],
            ["S4", "2021-12-01", "M1", "Y1", "30"],
        ],
    )
    res = runner.invoke(app, ["load", "--db", str(db_path), "--json", str(f)])
    assert res.exit_code == 0
    report = json.loads(res.stdout)["files"][0]
    assert (report["rows_read"], report["rows_loaded"], report["rows_quarantined"]) == (4, 1, 3)
    q = json.loads(runner.invoke(app, ["quarantine", "--db", str(db_path), "--json"]).stdout)
    assert [(r["line"], r["column_name"], r["reason"]) for r in q] == [
        (2, "sale_id", "missing_value"),
        (3, "tonnes", "not_a_number"),
        (4, "sold_at", "not_a_date"),
    ]


def test_a_file_that_does_not_exist(db_path: Path, runner: CliRunner) -> None:
    res = invoke(runner, db_path, "no_such_file.csv")
    assert res.exit_code == ExitCode.BAD_INPUT
    assert "no_such_file.csv" in res.output and "no such file" in res.output
    assert "Traceback" not in res.output


def test_unknown_table_name_on_the_command_line(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = write_csv(tmp_path / "s.csv", SALES, [["S1", "2021-12-01", "M1", "Y1", "30"]])
    res = invoke(runner, db_path, str(f), "--table", "shipments")
    assert res.exit_code == ExitCode.USAGE
    assert "shipments" in res.output and "transports" in res.output


def test_a_failing_file_in_the_middle_leaves_the_database_as_it_was(
    tmp_path: Path, db_path: Path, runner: CliRunner
) -> None:
    first = write_csv(tmp_path / "a_sales.csv", SALES, [["S1", "2021-12-01", "M1", "Y1", "30"]])
    assert invoke(runner, db_path, str(first)).exit_code == 0
    before = dump(db_path)
    good = write_csv(
        tmp_path / "call" / "1_sales.csv",
        SALES,
        [["S2", "2021-12-02", "M1", "Y1", "31"], ["S1", "2021-12-01", "M1", "Y1", "99"]],
    )
    bad = write_csv(tmp_path / "call" / "2_bad.csv", ["foo", "bar"], [["1", "2"]])
    later = write_csv(tmp_path / "call" / "3_missing.csv", ["销售单号", "数量"], [["S9", "1"]])
    res = invoke(runner, db_path, str(good), str(bad), str(later))
    assert res.exit_code == ExitCode.BAD_INPUT
    assert "2_bad.csv" in res.output and "3_missing.csv" in res.output  # every refusal, not only the first
    assert "nothing was loaded" in res.output
    assert dump(db_path) == before


def test_a_second_writer_gets_a_clear_message(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    f = write_csv(tmp_path / "s.csv", SALES, [["S1", "2021-12-01", "M1", "Y1", "30"]])
    assert invoke(runner, db_path, str(f)).exit_code == 0
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,time; c=duckdb.connect({str(db_path)!r}); print('ready', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        res = invoke(runner, db_path, str(f))
        assert res.exit_code == ExitCode.STORE_BUSY
        assert f"in use by another process (PID {holder.pid}," in res.output
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    assert invoke(runner, db_path, str(f)).exit_code == 0


def test_messages_come_in_chinese_by_default(db_path: Path, runner: CliRunner) -> None:
    res = runner.invoke(app, ["load", "--db", str(db_path), str(FILES / "missing_column.csv"), "--table", "sales"])
    assert res.exit_code == ExitCode.BAD_INPUT
    assert "错误" in res.output and "缺少" in res.output and "销售单位编码" in res.output
    res = runner.invoke(app, ["load", "--db", str(db_path), str(FILES / "unknown_table.csv"), str(FILES / "empty.csv")])
    assert "本次未载入任何数据" in res.output and "文件是空的" in res.output and "无法判断文件属于哪张表" in res.output


def test_db_pointing_at_a_folder(tmp_path: Path, runner: CliRunner) -> None:
    f = write_csv(tmp_path / "s.csv", SALES, [["S1", "2021-12-01", "M1", "Y1", "30"]])
    res = runner.invoke(app, ["--lang", "en", "load", "--db", str(tmp_path), str(f)])
    assert res.exit_code == ExitCode.USAGE
    assert "is a folder" in res.output and "coaltrace.duckdb" in res.output
