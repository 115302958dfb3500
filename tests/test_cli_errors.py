"""User mistakes get a clear message and their exit code from the README's table, never exit 70."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.errors import ExitCode
from coaltrace.period import Period
from coaltrace.store import Store
from tests.conftest import copy_db
from tests.provenance_helpers import facility, mine, sale

PERIOD_COMMANDS = [
    ["audit"],
    ["findings"],
    ["report", "--out", "{out}"],
    ["trace", "Y1"],
    ["balance"],
    ["yard", "Y1"],
]


@pytest.fixture(scope="module")
def month_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("month") / "audit.duckdb"
    with Store(path) as s:
        mine(s, "M1")
        facility(s, "Y1", "yard")
        sale(s, "M1", "Y1", 100, "2021-12-02")
    return path


@pytest.fixture
def month(month_once: Path, tmp_path: Path) -> Path:
    return copy_db(month_once, tmp_path)


@pytest.mark.parametrize("period", ["0000-01", "9999-12", "1989-12", "0000", "2021-10..9999-12"])
@pytest.mark.parametrize("args", PERIOD_COMMANDS, ids=lambda a: a[0])
def test_a_period_out_of_range_is_a_usage_error_on_every_command(
    args: list[str], period: str, month: Path, tmp_path: Path, runner: CliRunner
) -> None:
    argv = [a.format(out=tmp_path / "r") for a in args]
    res = runner.invoke(app, ["--lang", "en", *argv, "--period", period, "--db", str(month)])
    assert res.exit_code == ExitCode.USAGE, res.output
    assert "the year must be between 1990 and" in res.output


def test_the_period_range_ends_next_year() -> None:
    from datetime import date

    Period.parse(f"{date.today().year + 1}-12")
    with pytest.raises(Exception, match="between 1990"):
        Period.parse(f"{date.today().year + 2}-01")


def test_a_huge_quarantine_limit_is_a_usage_error(month: Path, runner: CliRunner) -> None:
    res = runner.invoke(app, ["quarantine", "--limit", "999999999999999999999999", "--db", str(month)])
    assert res.exit_code == ExitCode.USAGE, res.output
    assert "--limit" in res.output


def test_a_report_into_a_folder_nobody_may_write(month: Path, runner: CliRunner) -> None:
    res = runner.invoke(app, ["--lang", "en", "report", "-p", "2021-12", "--out", "/proc/1", "--db", str(month)])
    assert res.exit_code == ExitCode.CANNOT_WRITE, res.output
    assert "cannot write /proc/1/report.html" in res.output


@pytest.mark.parametrize("command", [["sample", "{out}", "--scale", "0.01"], ["demo", "{out}"]], ids=lambda c: c[0])
def test_a_negative_seed_is_a_usage_error(command: list[str], tmp_path: Path, runner: CliRunner) -> None:
    argv = [a.format(out=tmp_path / "s") for a in command]
    res = runner.invoke(app, [*argv, "--seed", "-1"])
    assert res.exit_code == ExitCode.USAGE, res.output
    assert "--seed" in res.output
