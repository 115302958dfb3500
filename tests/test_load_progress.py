"""Loading shows progress by stage within each file, with row counts; `--quiet` and a pipe stay quiet."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.ingest.loader import LoadProgress, load_paths
from coaltrace.store import Store
from tests.conftest import write_csv, write_xlsx

SALES = ["销售单号", "销售日期", "销售单位编码", "购买单位编码", "数量"]


def files(tmp_path: Path) -> list[Path]:
    a = write_csv(
        tmp_path / "sales_a.csv",
        SALES,
        [[f"S{i}", "2021-12-01", "M1", "Y1", 30] for i in range(120)] + [["BAD", "2021-12-01", "M1", "Y1", "abc"]],
        encoding="gb18030",
    )
    b = write_xlsx(
        tmp_path / "sales_b.xlsx",
        {
            "一": [SALES, *([f"T{i}", "2021-12-02", "M1", "Y1", 31] for i in range(40))],
            "二": [SALES, ["U1", "2021-12-03", "M2", "Y1", 5]],
        },
    )
    return [a, b]


def test_every_file_reports_its_stages_with_row_counts(tmp_path: Path, fresh_db: Store) -> None:
    events: list[LoadProgress] = []
    report = load_paths(fresh_db, files(tmp_path), progress=events.append)
    stages = [(e.stage, e.file, e.rows) for e in events]
    assert stages[:5] == [
        ("reading", "sales_a.csv", None),
        ("read", "sales_a.csv", 121),
        ("normalised", "sales_a.csv", 121),
        ("staged", "sales_a.csv", 120),
        ("reading", "sales_b.xlsx", None),
    ]
    assert [e.quarantined for e in events if e.stage == "normalised"][0] == 1
    # A workbook's sheets each go through the stages, as part of the same file.
    assert [(s, r) for s, f, r in stages if f == "sales_b.xlsx" and s == "read"] == [("read", 40), ("read", 1)]
    assert stages[-3:] == [("merging", "", 161), ("merged", "", 161), ("done", "", None)]
    assert all(e.files_total == 2 for e in events)
    assert [e.files_done for e in events if e.stage == "reading"] == [0, 1]
    assert sum(f.rows_read for f in report.files) == 162


def test_quiet_and_piped_loads_print_no_progress(tmp_path: Path, db_path: Path, runner: CliRunner) -> None:
    paths = [str(p) for p in files(tmp_path)]
    res = runner.invoke(app, ["--lang", "en", "load", *paths, "--db", str(db_path), "--quiet"])
    assert res.exit_code == 0, res.output
    # Only the warning about the unreadable row: no bar, no summary table.
    assert res.stderr.strip().splitlines() == [
        "1 row(s) could not be read and were quarantined; see `coaltrace quarantine`."
    ]
    assert res.stdout == ""
    res = runner.invoke(app, ["--lang", "en", "load", *paths, "--db", str(db_path)])
    assert res.exit_code == 0 and "reading" not in res.stderr and "staged" not in res.stderr  # piped: no bar
    res = runner.invoke(app, ["--lang", "en", "audit", "--period", "2021-12", "--db", str(db_path), "--quiet"])
    assert res.exit_code == 0 and "audit of 2021-12 done" not in res.stderr and res.stdout
