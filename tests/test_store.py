"""Opening the database: only ours, read-only when only reading, clear when it is busy, when it may not
be written, and when the disk is full (and then the file is cut back to what it held)."""

from __future__ import annotations

import errno
import hashlib
import os
import resource
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.errors import ExitCode
from coaltrace.rules import run_audit
from coaltrace.store import Store
from tests.conftest import copy_db
from tests.provenance_helpers import facility, mine, sale

ROOT = Path(__file__).resolve().parents[1]
READERS = [
    ["status"],
    ["quarantine"],
    ["findings"],
    ["report", "-p", "2021-12", "--out", "{out}"],
    ["yard", "Y1", "-p", "2021-12"],
    ["trace", "Y1", "-p", "2021-12"],
    ["balance", "-p", "2021-12"],
]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def audited_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small month, audited: provenance of 2021-12 current, findings stored."""
    path = tmp_path_factory.mktemp("audited") / "audit.duckdb"
    with Store(path) as s:
        mine(s, "M1")
        facility(s, "Y1", "yard")
        facility(s, "P1", "power_plant")
        sale(s, "M1", "Y1", 100, "2021-12-02")
        sale(s, "Y1", "P1", 400, "2021-12-05")
        run_audit(s, "2021-12", only=["facility_unsourced_output"])
    return path


@pytest.fixture
def audited(audited_once: Path, tmp_path: Path) -> Path:
    return copy_db(audited_once, tmp_path)


@pytest.fixture
def foreign(tmp_path: Path) -> Path:
    path = tmp_path / "other.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE sales (id INTEGER, amount DOUBLE)")
        con.execute("CREATE TABLE customers AS SELECT 1 AS id")
        con.execute("INSERT INTO sales VALUES (1, 9.5)")
    return path


def tables(path: Path) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return sorted(r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall())


@pytest.mark.parametrize(
    "args",
    [
        ["load", "{csv}"],
        ["findings"],
        ["status"],
        ["audit", "-p", "2021-12"],
        ["yard", "Y1", "-p", "2021-12"],
        ["report", "-p", "2021-12", "--out", "{out}"],
    ],
    ids=lambda a: a[0],
)
def test_a_database_another_program_made_is_refused_untouched(
    args: list[str], foreign: Path, tmp_path: Path, runner: CliRunner
) -> None:
    from tests.conftest import write_csv

    csv = write_csv(
        tmp_path / "sales.csv",
        ["销售单号", "销售日期", "卖方编码", "买方编码", "数量"],
        [["S1", "2021-12-01", "M1", "Y1", 30]],
    )
    before = digest(foreign)
    argv = [a.format(csv=csv, out=tmp_path / "r") for a in args]
    res = runner.invoke(app, ["--lang", "en", *argv, "--db", str(foreign)])
    assert res.exit_code == ExitCode.USAGE, res.output
    assert f"{foreign} is a DuckDB database, but not a coaltrace one (it holds customers, sales)" in res.output
    assert "coaltrace writes nothing into it" in res.output
    assert tables(foreign) == ["customers", "sales"]
    assert digest(foreign) == before


def test_a_file_that_is_not_duckdb_is_a_usage_error(tmp_path: Path, runner: CliRunner) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_text("sale_id,tonnes\nS1,30\n", encoding="utf-8")
    for args in (["status"], ["audit", "-p", "2021-12"]):
        res = runner.invoke(app, ["--lang", "en", *args, "--db", str(path)])
        assert res.exit_code == ExitCode.USAGE, res.output
        assert f"{path} is not a DuckDB database" in res.output


@pytest.fixture
def analyst(audited: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the database open read-only, as an analyst's notebook would."""
    script = textwrap.dedent(
        """
        import sys, time, duckdb
        con = duckdb.connect(sys.argv[1], read_only=True)
        print(con.execute("SELECT count(*) FROM sales").fetchone()[0], flush=True)
        time.sleep(120)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(audited)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "2"
    yield proc
    proc.kill()
    proc.wait()


@pytest.mark.parametrize("args", READERS, ids=lambda a: a[0])
def test_reading_commands_work_beside_an_analysts_read_only_connection(
    args: list[str], audited: Path, analyst: subprocess.Popen[str], tmp_path: Path, runner: CliRunner
) -> None:
    argv = [a.format(out=tmp_path / "r") for a in args]
    res = runner.invoke(app, ["--lang", "en", *argv, "--db", str(audited)])
    assert res.exit_code == 0, res.output


def test_a_writer_beside_an_analyst_is_told_who_holds_the_database(
    audited: Path, analyst: subprocess.Popen[str], runner: CliRunner
) -> None:
    res = runner.invoke(app, ["--lang", "en", "audit", "-p", "2021-12", "--db", str(audited)])
    assert res.exit_code == ExitCode.STORE_BUSY, res.output
    assert f"is in use by another process (PID {analyst.pid}," in res.output
    # Provenance of another month must be built, which writes: busy too, not a crash.
    res = runner.invoke(app, ["--lang", "en", "yard", "Y1", "-p", "2021-11", "--db", str(audited)])
    assert res.exit_code == ExitCode.STORE_BUSY, res.output


@pytest.mark.parametrize("args", READERS, ids=lambda a: a[0])
def test_reading_commands_work_on_a_read_only_file(
    args: list[str], audited: Path, tmp_path: Path, runner: CliRunner
) -> None:
    before = digest(audited)
    audited.chmod(0o444)
    try:
        argv = [a.format(out=tmp_path / "r") for a in args]
        res = runner.invoke(app, ["--lang", "en", *argv, "--db", str(audited)])
    finally:
        audited.chmod(0o644)
    assert res.exit_code == 0, res.output
    assert digest(audited) == before
    assert not Path(f"{audited}.wal").exists()


def _deny_writes(monkeypatch: pytest.MonkeyPatch, denied: Path) -> None:
    """What os.access says to someone who may not write DENIED (root may write anywhere)."""
    real = os.access

    def access(path: object, mode: int, **kw: object) -> bool:
        if Path(str(path)) == denied and mode & os.W_OK:
            return False
        return real(path, mode, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)


def test_a_command_that_writes_says_the_file_is_read_only(
    audited: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    _deny_writes(monkeypatch, audited)
    res = runner.invoke(app, ["--lang", "en", "audit", "-p", "2021-12", "--db", str(audited)])
    assert res.exit_code == ExitCode.CANNOT_WRITE, res.output
    assert f"the database file {audited} is read-only" in res.output
    # A reader that finds the provenance of its month missing says what to run where.
    res = runner.invoke(app, ["--lang", "en", "yard", "Y1", "-p", "2021-11", "--db", str(audited)])
    assert res.exit_code == ExitCode.CANNOT_WRITE, res.output
    assert "the provenance of 2021-11 is not built yet" in res.output
    assert "coaltrace audit --period 2021-11" in res.output


def test_a_folder_the_user_cannot_write_is_named(
    audited: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    _deny_writes(monkeypatch, audited.parent)
    res = runner.invoke(app, ["--lang", "en", "audit", "-p", "2021-12", "--db", str(audited)])
    assert res.exit_code == ExitCode.CANNOT_WRITE, res.output
    assert f"cannot write in the folder {audited.parent}, where the database keeps its log (audit.duckdb.wal)" in (
        res.output
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder; the test above simulates it")
def test_a_read_only_folder_for_real(audited: Path, runner: CliRunner) -> None:
    audited.parent.chmod(0o555)
    try:
        res = runner.invoke(app, ["--lang", "en", "audit", "-p", "2021-12", "--db", str(audited)])
        readers = runner.invoke(app, ["--lang", "en", "findings", "--db", str(audited)])
    finally:
        audited.parent.chmod(0o755)
    assert res.exit_code == ExitCode.CANNOT_WRITE, res.output
    assert readers.exit_code == 0, readers.output


# --- a full disk: RLIMIT_FSIZE makes any write past SIZE fail as a full disk would, without root -----


def _run_limited(limit: int, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        preexec_fn=limited,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


@pytest.fixture(scope="module")
def compact_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with no free blocks inside, so that anything more must grow the file."""
    path = tmp_path_factory.mktemp("compact") / "full.duckdb"
    with Store(path) as s:
        mine(s, "M1")
        facility(s, "Y1", "yard")
        s.con.execute(
            "INSERT INTO facilities (facility_id, name, kind) SELECT 'B' || range, 'buyer', 'power_plant' FROM range(3000)"
        )
        s.con.execute(
            "INSERT INTO sales (sale_id, sold_at, seller_id, buyer_id, product, tonnes) "
            "SELECT 'S' || range, TIMESTAMP '2021-12-01' + INTERVAL (range % 700) MINUTE, 'Y1', 'B' || (range % 3000), "
            "'raw', 10 FROM range(60000)"
        )
    return path


@pytest.fixture
def compact(compact_once: Path, tmp_path: Path) -> Path:
    return copy_db(compact_once, tmp_path)


def count(path: Path, table: str) -> int:
    with Store(path, read_only=True) as s:
        [(n,)] = s.con.execute(f"SELECT count(*) FROM {table}").fetchall()
        return int(n)


@pytest.mark.slow
def test_a_transaction_the_disk_cannot_hold_gives_the_space_back(compact: Path) -> None:
    size, rows = compact.stat().st_size, count(compact, "sales")
    done = _run_limited(
        size + 500_000,
        """
        import sys
        from coaltrace.errors import CannotWriteError
        from coaltrace.store import Store
        store = Store(sys.argv[1])
        try:
            with store.transaction() as con:
                # Large inserts go straight into the file, beyond its end, before they commit.
                con.execute("INSERT INTO sales (sale_id, tonnes) SELECT 'X' || range, 1 FROM range(3000000)")
        except CannotWriteError as e:
            print("refused:", e.message)
        """,
        str(compact),
    )
    assert "refused: no space left to write" in done.stdout, done.stderr
    assert compact.stat().st_size == size
    assert count(compact, "sales") == rows
    # The database is whole: it takes the next write.
    with Store(compact) as s:
        s.con.execute("INSERT INTO sales (sale_id, tonnes) VALUES ('S-after', 1)")
    assert count(compact, "sales") == rows + 1


@pytest.mark.slow
def test_a_log_the_file_cannot_take_in_is_kept_and_the_file_cut_back(compact: Path) -> None:
    size, rows = compact.stat().st_size, count(compact, "sales")
    done = _run_limited(
        size + 200_000,
        """
        import sys
        from coaltrace.errors import CannotWriteError
        from coaltrace.store import Store
        try:
            with Store(sys.argv[1]) as store:
                store.con.execute(
                    "INSERT INTO sales (sale_id, buyer_id, tonnes) SELECT 'W' || range, md5(range::VARCHAR), 1 "
                    "FROM range(15000)"
                )
        except CannotWriteError as e:
            print("refused:", e.message)
        """,
        str(compact),
    )
    assert "could not take in its log, which is kept (full.duckdb.wal)" in done.stdout, done.stderr
    assert compact.stat().st_size == size
    assert Path(f"{compact}.wal").exists()
    # The committed rows were in the log, and come in with room to spare.
    assert count(compact, "sales") == rows + 15_000
    with Store(compact):
        pass
    assert not Path(f"{compact}.wal").exists()
    assert count(compact, "sales") == rows + 15_000


@pytest.mark.slow
def test_audit_on_a_full_disk_exits_5_and_the_file_keeps_its_size(compact: Path) -> None:
    size = compact.stat().st_size
    done = _run_limited(
        size,
        """
        import sys
        from coaltrace.cli import main
        sys.argv = ["coaltrace", "--lang", "en", "audit", "-p", "2021-12", "--db", sys.argv[1]]
        main()
        """,
        str(compact),
    )
    assert done.returncode == ExitCode.CANNOT_WRITE, done.stderr
    assert "error: no space left to write" in done.stderr
    assert "Traceback" not in done.stderr
    assert compact.stat().st_size == size
    assert count(compact, "sales") == 60_000


def test_a_report_the_disk_cannot_hold_leaves_no_half_file(
    audited: Path, tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Path.write_text

    def full(self: Path, text: str, *args: object, **kwargs: object) -> int:
        if self.name == ".report.html.part":
            real(self, text[:100], *args, **kwargs)  # type: ignore[arg-type]
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, text, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", full)
    out = tmp_path / "r"
    res = runner.invoke(app, ["--lang", "en", "report", "-p", "2021-12", "--out", str(out), "--db", str(audited)])
    assert res.exit_code == ExitCode.CANNOT_WRITE, res.output
    assert "no space left to write" in res.output and "report.html" in res.output
    # Neither the page nor its part is left; the page is written first, so nothing else was yet.
    assert sorted(p.name for p in out.iterdir()) == []


def test_duckdb_out_of_space_anywhere_is_not_an_internal_error(
    audited: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import coaltrace.rules

    def full(*args: object, **kwargs: object) -> None:
        raise duckdb.IOException('IO Error: Could not write file "x.duckdb.wal": No space left on device')

    monkeypatch.setattr(coaltrace.rules, "run_audit", full)
    res = runner.invoke(app, ["--lang", "en", "audit", "-p", "2021-12", "--db", str(audited)])
    assert res.exit_code == ExitCode.CANNOT_WRITE, res.output
    assert 'no space left to write: IO Error: Could not write file "x.duckdb.wal"' in res.output
