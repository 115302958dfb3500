"""Spot checks, the county sheet (export and import) and the look-back, through the CLI on the sample."""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest

from coaltrace.ledger.sheets import COLUMNS, check_code
from tests.ledger_helpers import Audited, case_facility, cli, copy_db, history_count, item_of, items, ok, prepare

pytestmark = pytest.mark.slow

HEADERS = [c.title.zh for c in COLUMNS]


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Audited:
    return prepare(tmp_path_factory.mktemp("ledger-sheets"))


@pytest.fixture
def db(audited: Audited, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("COALTRACE_USER", raising=False)
    return copy_db(audited, tmp_path)


# --- spot checks -------------------------------------------------------------------------------


def test_a_spot_check_is_reproducible_and_covers_the_rate_in_every_county(db: Path, tmp_path: Path) -> None:
    twin = tmp_path / "twin.duckdb"
    shutil.copy(db, twin)
    out = tmp_path / "checklist"
    first = json.loads(ok(db, "ledger", "sample", "--rate", "0.3", "--seed", "2022", "--as", "市督导组",
                          "--out", str(out), "--json").stdout)  # fmt: skip
    second = json.loads(ok(twin, "ledger", "sample", "--rate", "0.3", "--seed", "2022", "--as", "市督导组",
                           "--out", str(tmp_path / "other"), "--json").stdout)  # fmt: skip
    assert first["items"] == second["items"], "the same seed and ledger draw the same items"
    other = json.loads(ok(twin, "ledger", "sample", "--rate", "0.3", "--seed", "7", "--as", "X",
                          "--out", str(tmp_path / "third"), "--json").stdout)  # fmt: skip
    assert other["items"] != first["items"]

    every = {r["item_id"]: r for r in items(db)}
    drawn = set(first["items"])
    for county in {r["county"] for r in every.values()}:
        mine = [r for r in every.values() if r["county"] == county]
        got = [r for r in mine if r["item_id"] in drawn]
        assert len(got) >= math.ceil(0.3 * len(mine)), county
    assert {r["item_id"] for r in every.values() if r["severity"] == "critical"} <= drawn
    assert len(drawn) < len(every), "a sample, not everything"

    # Recorded in the ledger: who drew it, when, with which seed.
    one = sorted(drawn)[0]
    [entry] = [e for e in json.loads(ok(db, "ledger", "history", one, "--json").stdout) if e["action"] == "sample"]
    assert entry["actor"] == "市督导组" and entry["fields"]["sample"]["seed"] == 2022
    assert every[one]["samples"] == [first["sample_id"]]
    assert {r["item_id"] for r in items(db) if r["samples"]} == drawn

    xlsx, page = (Path(f) for f in first["files"])
    sheet = openpyxl.load_workbook(xlsx).active
    assert sheet is not None
    ids = {row[2] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert ids == drawn and sheet.freeze_panes == "A2"
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "<script" not in html and "http" not in html
    assert all(i in html for i in drawn)


def test_the_checklist_is_formula_safe_and_escaped(db: Path, tmp_path: Path) -> None:
    ok(db, "ledger", "add", "--source", "tip_off", "--lat", "35.5", "--lon", "112.6", "--county", "城区",
       "--place", "=HYPERLINK(\"http://x\",\"y\")", "--description", "<script>alert(1)</script>",
       "--severity", "critical", "--as", "A")  # fmt: skip
    done = json.loads(ok(db, "ledger", "sample", "--rate", "0.3", "--seed", "1", "--county", "城区", "--as", "B",
                         "--out", str(tmp_path), "--json").stdout)  # fmt: skip
    xlsx, page = (Path(f) for f in done["files"])
    cells = [c for row in openpyxl.load_workbook(xlsx).active.iter_rows(values_only=True) for c in row]  # type: ignore[union-attr]
    assert '\'=HYPERLINK("http://x","y")' in cells
    assert not any(isinstance(c, str) and c.startswith("=") for c in cells)
    html = page.read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_rate_out_of_range_is_refused(db: Path) -> None:
    done = cli(db, "ledger", "sample", "--rate", "1.5", "--seed", "1", "--as", "A")
    assert done.exit_code == 2 and "at most 1" in done.output


# --- the county sheet ----------------------------------------------------------------------------


def _rows(path: Path) -> tuple[Any, list[list[Any]]]:
    wb = openpyxl.load_workbook(path)
    ws = wb["问题台账"]
    return wb, [list(r) for r in ws.iter_rows(values_only=True)]


def _save(wb: Any, rows: list[list[Any]], path: Path) -> Path:
    ws = wb["问题台账"]
    ws.delete_rows(1, ws.max_row)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def _col(name: str) -> int:
    return HEADERS.index(name)


def test_the_export_is_the_county_sheet(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "台账.xlsx"
    ok(db, "ledger", "export", "--format", "xlsx", "--out", str(out), lang="zh")
    wb, rows = _rows(out)
    ws = wb["问题台账"]
    assert rows[0] == HEADERS
    assert rows[0][:14] == ["序号", "县区", "问题来源", "问题类型", "单位名称", "问题描述", "发现时间", "整改要求",
                            "责任单位", "责任人", "整改时限", "整改状态", "核查人", "销号时间"]  # fmt: skip
    assert len(rows) - 1 == len(items(db))
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$1:$1"
    assert ws.column_dimensions["F"].width > 20
    assert rows[1][_col("整改状态")] == "待交办" and rows[1][_col("问题来源")] == "数据审计"
    con = duckdb.connect(str(db), read_only=True)
    [(db_id,)] = con.execute("SELECT value FROM meta WHERE key = 'database_id'").fetchall()
    con.close()
    assert {r[_col("数据库编号")] for r in rows[1:]} == {db_id}
    assert "说明" in wb.sheetnames

    csv_out = tmp_path / "台账.csv"
    ok(db, "ledger", "export", "--out", str(csv_out), "--county", rows[1][_col("县区")])
    raw = csv_out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0] == [c.title.en for c in COLUMNS]
    assert {r[1] for r in table[1:]} == {rows[1][_col("县区")]}


def test_an_excel_round_trip_applies_edits_and_reports_a_conflict(db: Path, tmp_path: Path) -> None:
    sheet = ok(db, "ledger", "export", "--out", str(tmp_path / "a.xlsx"), lang="zh") and tmp_path / "a.xlsx"
    wb, rows = _rows(sheet)
    first, second, third = rows[1], rows[2], rows[3]
    first[_col("责任单位")], first[_col("责任人")], first[_col("整改状态")] = "城区自然资源局", "周七", "已交办"
    second[_col("备注")] = "已约谈企业负责人"
    second[_col("整改时限")] = "2099/12/31"
    edited = _save(wb, rows, tmp_path / "edited.xlsx")
    trial = ok(db, "ledger", "import", str(edited), "--as", "城区专班", "--dry-run", "--json")
    assert len(json.loads(trial.stdout)["applied"]) == 2
    assert items(db)[0]["status"] == "open", "a dry run writes nothing"

    done = json.loads(ok(db, "ledger", "import", str(edited), "--as", "城区专班", "--json").stdout)
    assert done["rows"] == len(rows) - 1 and done["unchanged"] == len(rows) - 3
    now = {r["item_id"]: r for r in items(db)}
    a, b = now[first[_col("台账编号")]], now[second[_col("台账编号")]]
    assert (a["status"], a["unit"], a["owner"]) == ("assigned", "城区自然资源局", "周七")
    assert b["note"] == "已约谈企业负责人" and b["deadline"] == "2099-12-31"
    history = json.loads(ok(db, "ledger", "history", a["item_id"], "--json").stdout)
    assert history[-1]["actor"] == "城区专班" and history[-1]["to"] == "assigned"

    # The same sheet again: what it asks is already there.
    again = json.loads(ok(db, "ledger", "import", str(edited), "--as", "城区专班", "--json").stdout)
    assert again["applied"] == []

    # Someone changes the third item in the ledger; the old sheet's edit to it is a conflict.
    ok(db, "ledger", "update", third[_col("台账编号")], "--owner", "吴八", "--as", "市局")
    third[_col("责任人")] = "郑九"
    before = history_count(db)
    conflict = cli(db, "ledger", "import", str(_save(wb, rows, tmp_path / "late.xlsx")), "--as", "城区专班")
    assert conflict.exit_code == 3
    assert (
        f"conflict: item {third[_col('台账编号')]} changed in the ledger since this sheet was exported"
        in conflict.output
    )
    assert "last by 市局" in conflict.output
    assert history_count(db) == before
    assert {r["item_id"]: r for r in items(db)}[third[_col("台账编号")]]["owner"] == "吴八"


def test_a_csv_saved_by_excel_in_gb18030_comes_back(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "county.csv"
    ok(db, "ledger", "export", "--out", str(path), lang="zh")
    table = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    table[1][_col("责任单位")], table[1][_col("责任人")], table[1][_col("整改状态")] = "县能源局", "钱十", "已交办"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(table)
    path.write_bytes(buf.getvalue().encode("gb18030"))
    ok(db, "ledger", "import", str(path), "--as", "县专班")
    assert {r["item_id"]: r for r in items(db)}[table[1][_col("台账编号")]]["owner"] == "钱十"


def _sheet(db: Path, tmp_path: Path) -> tuple[Any, list[list[Any]]]:
    path = tmp_path / "base.xlsx"
    ok(db, "ledger", "export", "--out", str(path), lang="zh")
    return _rows(path)


def _refused(db: Path, tmp_path: Path, wb: Any, rows: list[list[Any]], says: str) -> None:
    before = history_count(db)
    done = cli(db, "ledger", "import", str(_save(wb, rows, tmp_path / "bad.xlsx")), "--as", "A")
    assert done.exit_code == 3, done.output
    assert says in done.output
    assert history_count(db) == before, "nothing is applied"


def test_a_sheet_with_wrong_or_missing_columns_is_refused(db: Path, tmp_path: Path) -> None:
    wb, rows = _sheet(db, tmp_path)
    _refused(db, tmp_path, wb, [[*r[:9], *r[10:]] for r in rows], "missing: 责任人")
    wb, rows = _sheet(db, tmp_path)
    _refused(
        db,
        tmp_path,
        wb,
        [[*r, "x"] if i else [*r, "我的列"] for i, r in enumerate(rows)],
        "not a ledger column: 我的列",
    )


def test_edited_ids_duplicates_and_unknown_items_are_refused_with_the_good_rows(db: Path, tmp_path: Path) -> None:
    wb, rows = _sheet(db, tmp_path)
    rows[1][_col("责任人")] = "有效修改"
    rows[2][_col("台账编号")] = "TZ-0000000000"
    _refused(db, tmp_path, wb, rows, "line 3 (台账编号): the item id TZ-0000000000 does not fit")
    wb, rows = _sheet(db, tmp_path)
    _refused(db, tmp_path, wb, [*rows, list(rows[1])], f"item {rows[1][_col('台账编号')]} is also on line 2")
    wb, rows = _sheet(db, tmp_path)
    rows[1][_col("版本")] = 99
    _refused(db, tmp_path, wb, rows, "no item")
    wb, rows = _sheet(db, tmp_path)
    rows[1][_col("台账编号")] = "TZ-FFFFFFFFFF"
    rows[1][_col("校验码")] = check_code(rows[1][_col("数据库编号")], "TZ-FFFFFFFFFF")
    _refused(db, tmp_path, wb, rows, "no item TZ-FFFFFFFFFF (version 1) in this ledger")
    wb, rows = _sheet(db, tmp_path)
    rows[1][_col("整改状态")] = "已销号"
    _refused(db, tmp_path, wb, rows, "cannot go from open to closed")
    wb, rows = _sheet(db, tmp_path)
    rows[1][_col("问题类型")] = "其他"
    _refused(db, tmp_path, wb, rows, "kept by the ledger")
    wb, rows = _sheet(db, tmp_path)
    rows[1][_col("整改状态")] = "差不多了"
    _refused(db, tmp_path, wb, rows, "is not a status")
    assert all(r["owner"] is None for r in items(db))


def test_a_sheet_from_another_database_is_refused(audited: Audited, db: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    shutil.copy(audited.db, other)
    con = duckdb.connect(str(other))
    con.execute("UPDATE meta SET value = 'another' WHERE key = 'database_id'")
    con.close()
    sheet = tmp_path / "theirs.xlsx"
    ok(other, "ledger", "export", "--out", str(sheet))
    done = cli(db, "ledger", "import", str(sheet), "--as", "A")
    assert done.exit_code == 3 and "exported from another database (another" in done.output


# --- look back ------------------------------------------------------------------------------------


def test_look_back_finds_a_closed_mine_at_work_again_and_reopens_it(audited: Audited, db: Path) -> None:
    mine = case_facility(audited, "03.1", "mine_closed_shipping")
    added = ok(db, "ledger", "add", "--source", "patrol", "--facility", mine, "--problem", "unsealed_shaft",
               "--description", "井口未填实", "--found-on", "2021-09-10", "--as", "巡查员", "--json")  # fmt: skip
    item = json.loads(added.stdout)["item_id"]
    ok(db, "ledger", "update", item, "--status", "assigned", "--unit", "U", "--owner", "O", "--on", "2021-09-12",
       "--as", "A")  # fmt: skip
    ok(db, "ledger", "update", item, "--status", "rectifying", "--on", "2021-09-20", "--as", "O")
    checks = [a for c in ("1:clear", "3:clear", "4:clear", "5:clear", "6:clear", "7:clear", "8:clear")
              for a in ("--check", c)]  # fmt: skip
    ok(db, "ledger", "update", item, "--status", "verified", *checks, "--on", "2021-10-15", "--as", "S")
    ok(db, "ledger", "close", item, "--signer", "S", "--note", "井口已回填", "--on", "2021-10-20", "--as", "A")
    # An item closed today is not two months old for January 2022: it is not looked at.
    recent = item_of(db, case_facility(audited, "19.1", "power_at_closed_mine"), "closed_mine_mining")["item_id"]
    ok(db, "ledger", "update", recent, "--status", "assigned", "--unit", "U", "--owner", "O", "--as", "A")

    seen = json.loads(ok(db, "ledger", "lookback", "--period", "2022-01", "--json").stdout)
    assert seen["closed_before"] == "2021-11-01" and seen["looked_at"] == 1
    [found] = seen["items"]
    assert found["item_id"] == item and found["active"]
    assert found["sales"] > 0 and found["sales_tonnes"] > 0 and found["kwh"] > 1000
    assert items(db, "--status", "closed")[0]["item_id"] == item, "looking changes nothing"
    # For December the closing (20 October) is less than two months before the period (1 December).
    assert json.loads(ok(db, "ledger", "lookback", "--period", "2021-12", "--json").stdout)["looked_at"] == 0

    no_actor = cli(db, "ledger", "lookback", "--period", "2022-01", "--reopen")
    assert no_actor.exit_code == 2
    ok(db, "ledger", "lookback", "--period", "2022-01", "--reopen", "--as", "回头看专班")
    back = json.loads(ok(db, "ledger", "show", item, "--json").stdout)
    assert back["status"] == "reopened" and back["lookbacks"] == ["2022-01"]
    assert back["history"][-1]["actor"] == "回头看专班" and "look-back 2022-01" in back["history"][-1]["note"]
    assert back["history"][-1]["fields"]["lookback"]["sales"] == found["sales"]
    assert json.loads(ok(db, "ledger", "lookback", "--period", "2022-01", "--json").stdout)["looked_at"] == 0
    ok(db, "ledger", "verify")


def test_dates_of_a_change_must_be_possible(audited: Audited, db: Path) -> None:
    mine = case_facility(audited, "03.1", "mine_closed_shipping")
    added = ok(db, "ledger", "add", "--source", "patrol", "--facility", mine, "--description", "x",
               "--found-on", "2021-09-10", "--as", "A", "--json")  # fmt: skip
    item = json.loads(added.stdout)["item_id"]
    early = cli(db, "ledger", "update", item, "--owner", "O", "--on", "2021-09-01", "--as", "A")
    assert early.exit_code == 2 and "before the problem was found" in early.output
    late = cli(db, "ledger", "update", item, "--owner", "O", "--on", "2999-01-01", "--as", "A")
    assert late.exit_code == 2 and "in the future" in late.output
    past = cli(db, "ledger", "update", item, "--deadline", "2021-09-01", "--as", "A")
    assert past.exit_code == 2 and "already past" in past.output


def test_a_sheet_older_than_the_next_audit_still_comes_back(db: Path, tmp_path: Path) -> None:
    wb, rows = _sheet(db, tmp_path)
    ok(db, "audit", "--period", "2022-01")
    now = {r["item_id"]: r for r in items(db)}
    grown = [r for r in rows[1:] if now[r[_col("台账编号")]]["version"] > r[_col("版本")]]
    still = [r for r in rows[1:] if now[r[_col("台账编号")]]["version"] == r[_col("版本")]]
    assert grown and still, "January filed evidence on some items and left others alone"
    still[0][_col("责任人")] = "孙十一"
    done = json.loads(
        ok(db, "ledger", "import", str(_save(wb, rows, tmp_path / "old.xlsx")), "--as", "A", "--json").stdout
    )
    assert [a["item_id"] for a in done["applied"]] == [still[0][_col("台账编号")]]
    grown[0][_col("责任人")] = "周十二"
    late = cli(db, "ledger", "import", str(_save(wb, rows, tmp_path / "older.xlsx")), "--as", "A")
    assert late.exit_code == 3 and f"conflict: item {grown[0][_col('台账编号')]}" in late.output
