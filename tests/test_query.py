"""`coaltrace query`: ad-hoc SQL over the documented views, held to the rules' sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.errors import ExitCode
from tests.demo_month import demo_month

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(demo_month(tmp_path_factory) / "coaltrace.duckdb")


def run(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, ["--lang", "en", *args])
    return res.exit_code, res.stdout, res.stderr


def test_a_question_over_the_registers_and_the_period_views(db: str, tmp_path: Path) -> None:
    code, out, err = run(
        "query", "SELECT kind, count(*) AS n FROM facilities GROUP BY 1 ORDER BY 1", "-f", "json", "--db", db
    )
    assert code == 0, err
    kinds = {r["kind"]: r["n"] for r in json.loads(out)}
    assert kinds["mine"] > 0 and kinds["yard"] > 0
    sql = (
        "SELECT f.seller_id, sum(f.tonnes) AS t, any_value(b.licence_state) AS licence_state FROM period_flows f "
        "JOIN period_balances b ON b.facility_id = f.seller_id GROUP BY 1 ORDER BY t DESC LIMIT 5"
    )
    code, out, err = run("query", sql, "--period", "2021年12月", "-f", "csv", "--db", db)
    assert code == 0, err
    frame = pl.read_csv(out.encode())
    assert frame.columns == ["seller_id", "t", "licence_state"] and frame.height == 5
    assert frame["t"].is_sorted(descending=True)
    code, _, err = run("query", sql, "-p", "2021-12", "-f", "xlsx", "-o", str(tmp_path / "q.xlsx"), "--db", db)
    assert code == 0, err
    sheet = openpyxl.load_workbook(tmp_path / "q.xlsx")["query"]
    assert [c.value for c in sheet[1]] == ["seller_id", "t", "licence_state"] and sheet.max_row == 6
    code, out, _ = run("query", "SELECT 1 AS one", "--db", db)
    assert code == 0 and "one" in out and "1" in out


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("DELETE FROM facilities", "must be a SELECT"),
        ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
        ("SELECT * FROM findings", "not an audit view"),
        ("SELECT getenv('HOME')", "getenv"),
        ("SELECT 1; SELECT 2", "one SELECT"),
    ],
)
def test_what_a_rule_may_not_do_a_query_may_not_either(db: str, sql: str, words: str) -> None:
    code, out, err = run("query", sql, "--db", db)
    assert code == ExitCode.BAD_INPUT and words in err and not out


def test_a_period_view_without_a_period_is_a_usage_error(db: str) -> None:
    code, _, err = run("query", "SELECT count(*) FROM period_sales", "--db", db)
    assert code == ExitCode.USAGE and "--period" in err
    code, _, err = run("--lang", "zh", "query", "SELECT count(*) FROM period_sales", "--db", db)
    assert code == ExitCode.USAGE and "请指定 --period" in err
