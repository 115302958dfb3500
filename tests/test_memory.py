"""The engine's memory: a bounded default, the limit and spill folder as the user sets them, and
a clear refusal (exit 6, the store as it was) when the work cannot fit."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.config import default_memory_limit, give_engine, machine_memory
from coaltrace.errors import ExitCode
from coaltrace.store import Store
from tests.conftest import write_csv

SALES = ["销售单号", "销售日期", "销售单位编码", "购买单位编码", "数量"]


def _settings(db: Path) -> tuple[int, str]:
    with Store(db) as store:
        limit, temp = store.engine.rows("SELECT current_setting('memory_limit'), current_setting('temp_directory')")[0]
    return _bytes(limit), str(temp)


def _bytes(size: str) -> int:
    number, unit = size.split()
    return int(float(number) * {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30}[unit])


def test_the_default_limit_is_a_quarter_of_the_memory_at_most_one_gib(tmp_path: Path) -> None:
    memory = machine_memory()
    assert memory is not None
    expected = max(256, min(1024, memory // 4 // 2**20)) * 2**20
    assert default_memory_limit() == f"{expected // 2**20}MiB"
    limit, _ = _settings(tmp_path / "a.duckdb")
    assert abs(limit - expected) <= 2**20  # DuckDB shows it rounded


def test_limit_and_spill_folder_from_the_command_line_the_environment_and_the_config(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "a.duckdb"
    spill = tmp_path / "spill"
    Store(db).close()
    res = runner.invoke(app, ["--memory-limit", "300MB", "--temp-dir", str(spill), "status", "--db", str(db)])
    assert res.exit_code == 0, res.output
    # What the command line gave holds for every store the command opens (here: this process).
    assert _settings(db) == (pytest.approx(300 * 10**6, rel=0.01), str(spill))
    give_engine()  # the next command line gives nothing
    monkeypatch.chdir(tmp_path)
    (tmp_path / "coaltrace.toml").write_text("[engine]\nmemory_limit = '700MB'\n", encoding="utf-8")
    assert _settings(db)[0] == pytest.approx(700 * 10**6, rel=0.01)
    monkeypatch.setenv("COALTRACE_MEMORY_LIMIT", "600MB")
    monkeypatch.setenv("COALTRACE_TEMP_DIR", str(spill))
    limit, temp = _settings(db)
    assert limit == pytest.approx(600 * 10**6, rel=0.01) and temp == str(spill)


def test_a_size_that_is_no_size_is_a_usage_error(tmp_path: Path, runner: CliRunner) -> None:
    res = runner.invoke(app, ["--lang", "en", "--memory-limit", "lots", "status", "--db", str(tmp_path / "a.duckdb")])
    assert res.exit_code == ExitCode.USAGE
    assert "'lots' is not a size such as 2GB" in res.output


def test_out_of_memory_is_exit_6_with_the_store_as_it_was(tmp_path: Path, runner: CliRunner) -> None:
    db = tmp_path / "a.duckdb"
    rows = [[f"S{i}", "2021-12-01", f"M{i % 7}", f"Y{i % 5}", "30.5"] for i in range(20_000)]
    first = write_csv(tmp_path / "sales1.csv", SALES, rows[:100], encoding="gb18030")
    assert runner.invoke(app, ["load", str(first), "--db", str(db), "-q"]).exit_code == 0
    more = write_csv(tmp_path / "sales2.csv", SALES, rows, encoding="gb18030")
    res = runner.invoke(app, ["--lang", "en", "--memory-limit", "1MB", "load", str(more), "--db", str(db), "-q"])
    assert res.exit_code == ExitCode.OUT_OF_MEMORY, res.output
    assert "out of memory" in res.output and "--memory-limit" in res.output
    assert "Traceback" not in res.output
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM sales").fetchall() == [(100,)]
    finally:
        con.close()
    # With the limit lifted the same load goes through.
    assert runner.invoke(app, ["load", str(more), "--db", str(db), "-q"]).exit_code == 0


def test_no_progress_bar_on_stdout(tmp_path: Path) -> None:
    # DuckDB draws one on stdout during a query longer than two seconds: it would break --json and csv.
    with Store(tmp_path / "a.duckdb") as store:
        assert store.engine.rows("SELECT current_setting('enable_progress_bar')") == [(False,)]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_a_container_s_memory_cap_counts_not_the_machine_s(tmp_path: Path, version: str) -> None:
    # Under a 1 GB cap the default limit and the largest file follow the cap, or the kernel kills the load.
    cgroups = tmp_path / "cgroup"
    if version == "v1":
        cgroups.write_text("4:memory:/bench/capped\n0::/\n")
        limit = tmp_path / "memory" / "bench" / "capped" / "memory.limit_in_bytes"
    else:
        cgroups.write_text("0::/bench/capped\n")
        limit = tmp_path / "bench" / "capped" / "memory.max"
    limit.parent.mkdir(parents=True)
    limit.write_text(f"{2**30}\n")
    assert machine_memory(cgroups, tmp_path) == 2**30
    limit.write_text("max\n")  # no cap: the machine's memory
    assert machine_memory(cgroups, tmp_path) == machine_memory(tmp_path / "none", tmp_path)
