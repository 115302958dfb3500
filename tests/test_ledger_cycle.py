"""The ledger's whole cycle through the CLI on the sample: audit → items → assign → rectify → verify with
field checks → close with a signer; January brings a closed problem back; a tip-off joins; the history
holds and is verified; the report shows the ledger."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pytest

from coaltrace.cli import app
from tests.ledger_helpers import Audited, case_facility, cli, copy_db, history_count, item_of, items, ok, prepare

pytestmark = pytest.mark.slow

ALL_CHECKS = ["1:clear", "2:clear", "3:clear", "4:clear", "5:found:fresh coal dust at the shaft", "6:clear",
              "7:not_done:no access to the old workings", "8:clear"]  # fmt: skip


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Audited:
    return prepare(tmp_path_factory.mktemp("ledger"))


@pytest.fixture
def db(audited: Audited, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("COALTRACE_USER", raising=False)
    return copy_db(audited, tmp_path)


def test_audit_files_each_problem_once_with_its_tonnes(audited: Audited, db: Path) -> None:
    filed = audited.december["ledger"]
    assert filed["findings"] == audited.december["findings"]
    rows = items(db)
    assert filed["created"] == len(rows) and 0 < len(rows) < filed["findings"]
    # One item per place and problem type; every finding filed on exactly one.
    assert len({(r["subject_id"], r["problem_type"]) for r in rows}) == len(rows)
    con = duckdb.connect(str(db), read_only=True)
    [(filed_once,)] = con.execute("SELECT count(DISTINCT finding_id) = count(*) FROM ledger_findings").fetchall()
    con.close()
    assert filed_once
    # Tonnes counted once: the items add up to the audit's headline.
    assert sum(r["tonnes_at_risk"] for r in rows) == pytest.approx(audited.december["tonnes_at_risk"], abs=0.01)
    assert {r["status"] for r in rows} == {"open"} and {r["source"] for r in rows} == {"audit"}
    assert all(r["deadline"] > r["found_on"] for r in rows)


def test_the_yard_page_lists_every_check_the_ledger_will_ask_for(db: Path) -> None:
    # One table of the eight checks: the inspector's sheet for a site lists every check that verifying
    # its ledger items will ask for (it may list more: a flow the site supplied is filed at its buyer).
    # With two tables, a mine's sheet once left out check 5, which its items require.
    rows = [r for r in items(db) if r["facility_id"]]
    kinds = set()
    for facility_id in sorted({r["facility_id"] for r in rows}):
        page = json.loads(ok(db, "yard", facility_id, "--period", "2021-12", "--json").stdout)
        kinds.add(page["kind"])
        asked = {c for r in rows if r["facility_id"] == facility_id for c in r["checks_applicable"]}
        assert asked <= {c["check"] for c in page["checklist"]}, facility_id
    assert {"mine", "yard"} <= kinds


def test_auditing_the_same_period_again_changes_nothing(db: Path) -> None:
    before = history_count(db)
    again = json.loads(ok(db, "audit", "--period", "2021-12", "--json").stdout)
    assert again["ledger"] == {"findings": 0, "created": 0, "attached": 0, "reopened": 0}
    said = ok(db, "audit", "--period", "2021-12").output
    assert "ledger: 0 new item(s), new evidence on 0, 0 reopened" in said
    assert history_count(db) == before


def test_the_full_cycle_and_a_recurrence_in_january(audited: Audited, db: Path) -> None:
    mine = case_facility(audited, "01.1", "mine_unlicensed_sales")
    item = item_of(db, mine, "unlicensed_mining")["item_id"]

    no_actor = cli(
        db, "ledger", "update", item, "--status", "assigned", "--unit", "沁水县自然资源局", "--owner", "张三"
    )
    assert no_actor.exit_code == 2 and "who makes the change" in no_actor.output

    jump = cli(db, "ledger", "close", item, "--signer", "李四", "--note", "done", "--as", "王局长")
    assert jump.exit_code == 2
    assert "cannot go from open to closed" in jump.output and "assigned, dismissed" in jump.output

    unassigned = cli(db, "ledger", "update", item, "--status", "assigned", "--as", "王局长")
    assert unassigned.exit_code == 2 and "responsible unit and person" in unassigned.output

    ok(db, "ledger", "update", item, "--status", "assigned", "--unit", "沁水县自然资源局", "--owner", "张三",
       "--as", "王局长")  # fmt: skip
    ok(db, "ledger", "update", item, "--status", "rectifying", "--note", "停产整顿", "--as", "张三")
    partial = cli(db, "ledger", "update", item, "--status", "verified", "--check", "1:clear", "--as", "李四")
    assert partial.exit_code == 2 and "missing" in partial.output and "6: closed shafts sealed" in partial.output
    checks = [a for c in ALL_CHECKS for a in ("--check", c)]
    ok(db, "ledger", "update", item, "--status", "verified", *checks, "--as", "李四")
    unsigned = cli(db, "ledger", "update", item, "--status", "closed", "--note", "封井", "--as", "王局长")
    assert unsigned.exit_code == 2 and "signs for it" in unsigned.output
    ok(db, "ledger", "close", item, "--signer", "李四", "--note", "已封闭井口，拆除供电设施", "--as", "王局长")

    shown = json.loads(ok(db, "ledger", "show", item, "--json").stdout)
    assert shown["status"] == "closed" and shown["signer"] == "李四" and shown["closed_on"]
    assert {c["check"] for c in shown["field_checks"]} == set(range(1, 9))
    by_check = {c["check"]: c for c in shown["field_checks"]}
    assert (by_check[5]["done"], by_check[5]["found"], by_check[5]["note"]) == (
        True,
        True,
        "fresh coal dust at the shaft",
    )
    assert (by_check[7]["done"], by_check[7]["found"]) == (False, None) and by_check[1]["found"] is False
    assert [h["action"] for h in shown["history"]] == ["create", "status", "status", "status", "status"]
    assert [h["actor"] for h in shown["history"]][1:] == ["王局长", "张三", "李四", "王局长"]
    assert shown["findings"] and shown["findings"][0]["evidence"]["rows"][0]["_file"]

    # January: the mine sells again; its closed item reopens as a recurrence, with January's evidence.
    january = json.loads(ok(db, "audit", "--period", "2022-01", "--json").stdout)
    assert january["ledger"]["reopened"] >= 1
    back = json.loads(ok(db, "ledger", "show", item, "--json").stdout)
    assert back["status"] == "reopened" and back["recurrences"] == 1
    assert back["periods"] == ["2021-12", "2022-01"]
    assert back["history"][-1]["action"] == "recur" and back["history"][-1]["from"] == "closed"
    assert {f["period"] for f in back["findings"]} == {"2021-12", "2022-01"}
    assert item in [r["item_id"] for r in items(db, "--status", "reopened")]
    # A case put right in January (the over-capacity mine) stays as it was.
    over = case_facility(audited, "04.1", "mine_over_capacity")
    assert item_of(db, over, "over_capacity")["periods"] == ["2021-12"]
    ok(db, "ledger", "verify")


def test_a_tip_off_joins_the_ledger(audited: Audited, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COALTRACE_USER", "值班员")
    done = ok(db, "ledger", "add", "--source", "群众举报", "--lat", "35.61", "--lon", "112.52", "--county", "阳城县",
              "--place", "町店镇某沟", "--description", "夜间有车辆在沟内装煤", "--json")  # fmt: skip
    item = json.loads(done.stdout)["item_id"]
    [row] = [r for r in items(db, "--source", "tip_off") if r["item_id"] == item]
    assert row["county"] == "阳城县" and row["found_by"] == "值班员" and row["problem_type"] == "illegal_mining"
    assert row["checks_applicable"] == list(range(1, 9))
    assert row["periods"] == [row["found_on"][:7]]
    again = cli(db, "ledger", "add", "--source", "tip_off", "--lat", "35.61", "--lon", "112.52", "--county", "阳城县",
                "--description", "夜间有车辆在沟内装煤")  # fmt: skip
    assert again.exit_code == 2 and f"already in the ledger as {item}" in again.output

    yard = case_facility(audited, "10.1", "facility_low_licensed_share")
    on_facility = json.loads(
        ok(
            db,
            "ledger",
            "add",
            "--source",
            "media",
            "--facility",
            yard,
            "--description",
            "报道称夜间收购无票煤",
            "--problem",
            "irregular_intake",
            "--json",
        ).stdout  # fmt: skip
    )
    assert on_facility["related"], "the audit's open item at the same yard is pointed out"


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--source", "tip_off", "--lat", "35.6", "--lon", "112.5", "--description", "x", "--as", "A"], 2,
         "coordinates with their county"),
        (["--source", "tip_off", "--facility", "NOPE", "--description", "x", "--as", "A"], 2, "unknown facility"),
        (["--source", "audit", "--lat", "35.6", "--lon", "112.5", "--county", "城区", "--description", "x",
          "--as", "A"], 2, "filed by `coaltrace audit`"),
        (["--source", "rumour", "--lat", "35.6", "--lon", "112.5", "--county", "城区", "--description", "x",
          "--as", "A"], 2, "--source 'rumour'"),
        (["--source", "patrol", "--lat", "35.6", "--lon", "112.5", "--county", "城区", "--description", "x",
          "--deadline", "2020-01-01", "--as", "A"], 2, "already past"),
        (["--source", "patrol", "--lat", "35.6", "--lon", "112.5", "--county", "城区", "--description", "x"], 2,
         "who makes the change"),
        (["--source", "patrol", "--lat", "35.6", "--lon", "112.5", "--county", "城区", "--description", "x",
          "--found-on", "2999-01-01", "--as", "A"], 2, "in the future"),
    ],
)  # fmt: skip
def test_a_lead_that_cannot_be_registered_says_why(db: Path, args: list[str], code: int, says: str) -> None:
    before = history_count(db)
    done = cli(db, "ledger", "add", *args)
    assert done.exit_code == code, done.output
    assert says in done.output
    assert history_count(db) == before


def test_messages_come_in_chinese_too(db: Path) -> None:
    item = items(db)[0]["item_id"]
    done = cli(db, "ledger", "close", item, "--signer", "李四", "--note", "x", "--as", "王", lang="zh")
    assert (
        done.exit_code == 2 and "不能从“待交办”变为“已销号”" in done.output and "已交办、已排除（误报）" in done.output
    )
    unknown = cli(db, "ledger", "show", "TZ-NOSUCHITEM", lang="zh")
    assert unknown.exit_code == 2 and "台账中没有事项" in unknown.output
    for command in (["update", "TZ-NOSUCHITEM", "--owner", "O"], ["reopen", "TZ-NOSUCHITEM", "--note", "n"]):
        done = cli(db, "ledger", *command, "--as", "A")
        assert done.exit_code == 2 and "no item 'TZ-NOSUCHITEM' in the ledger" in done.output
    listed = ok(db, "ledger", "list", lang="zh").stdout
    assert "待交办" in listed and "数据审计" in listed
    # The same list in every format the other lists take, the same items.
    rows = list(csv.DictReader(io.StringIO(ok(db, "ledger", "list", "--format", "csv", lang="zh").stdout)))
    assert [r["item_id"] for r in rows] == [r["item_id"] for r in items(db)]
    assert {r["status_label"] for r in rows} >= {"待交办"}
    bad = cli(db, "ledger", "list", "--format", "xlsx")
    assert bad.exit_code == 2 and "--out" in bad.output


def test_history_is_json_and_chained(db: Path) -> None:
    item = items(db)[0]["item_id"]
    ok(db, "ledger", "update", item, "--owner", "赵六", "--unit", "城区能源局", "--note", "电话通知", "--as", "王")
    entries = json.loads(ok(db, "ledger", "history", item, "--json").stdout)
    assert [e["action"] for e in entries] == ["create", "update"]
    assert entries[1]["fields"] == {"owner": "赵六", "unit": "城区能源局", "note": "电话通知"}
    assert entries[1]["actor"] == "王" and entries[1]["prev_hash"] != entries[0]["prev_hash"]
    assert all(len(e["hash"]) == 64 for e in entries)


def test_verify_names_the_first_entry_altered_behind_coaltraces_back(db: Path) -> None:
    item = items(db)[0]["item_id"]
    ok(db, "ledger", "update", item, "--status", "assigned", "--unit", "U", "--owner", "O", "--as", "A")
    assert "intact" in ok(db, "ledger", "verify").output
    con = duckdb.connect(str(db))
    [(seq,)] = con.execute("SELECT seq FROM ledger_history WHERE item_id = ? AND action = 'create'", [item]).fetchall()
    con.execute("UPDATE ledger_history SET actor = 'someone else' WHERE seq = ?", [seq])
    con.close()
    done = cli(db, "ledger", "verify")
    assert done.exit_code == 1
    assert f"entry {seq} (item {item}" in done.output and "was altered" in done.output
    report = json.loads(cli(db, "ledger", "verify", "--json").stdout)
    assert report["ok"] is False and report["problems"][0]["seq"] == seq


@pytest.mark.parametrize(
    ("tamper", "says"),
    [
        ("UPDATE ledger_findings SET evidence = replace(evidence, '\"_line\":', '\"_line\":1') "
         "WHERE finding_id = (SELECT min(finding_id) FROM ledger_findings)", "evidence of finding"),
        ("UPDATE ledger_items SET owner = 'nobody' WHERE item_id = (SELECT min(item_id) FROM ledger_items)",
         "differs in ledger_items from its history (owner)"),
        ("DELETE FROM ledger_history WHERE seq = (SELECT max(seq) FROM ledger_history)", "cut off its end"),
        ("DELETE FROM ledger_history WHERE seq = 2", "entries were removed or inserted"),
        ("UPDATE ledger_history SET prev_hash = 'x' || substr(prev_hash, 2) WHERE seq = 3", "does not follow"),
        ("UPDATE ledger_history SET hash = 'x' || substr(hash, 2) WHERE seq = 3", "entry 3 (item"),
    ],
)  # fmt: skip
def test_verify_catches_every_kind_of_tampering(db: Path, tamper: str, says: str) -> None:
    con = duckdb.connect(str(db))
    con.execute(tamper)
    con.close()
    done = cli(db, "ledger", "verify")
    assert done.exit_code == 1, done.output
    assert says in done.output


def test_the_report_has_the_ledger_section(db: Path, tmp_path: Path) -> None:
    item = items(db)[0]["item_id"]
    ok(db, "ledger", "dismiss", item, "--signer", "李四", "--reason", "register typo, not a problem", "--as", "A")
    ok(db, "report", "--period", "2021-12", "--out", str(tmp_path))
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## Problem ledger" in md and "closure rate 0.0%" in md
    assert "dismissed" in md
    from coaltrace.ledger.queries import ledger_state
    from coaltrace.period import Period
    from coaltrace.store import Store

    with Store(db, read_only=True) as store:
        state = ledger_state(store.engine, Period.parse("2021-12"))
    assert state is not None
    assert state["items"] == len(items(db)) and state["by_status"]["dismissed"] == 1
    assert sum(c["items"] for c in state["counties"]) == state["items"]
    assert state["chain_head"] and state["closure_rate"] == 0.0


def test_read_commands_work_on_a_database_without_a_ledger(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    db = tmp_path / "empty.duckdb"
    from coaltrace.store import Store

    Store(db).close()
    runner = CliRunner()
    listed = runner.invoke(app, ["--lang", "en", "ledger", "list", "--db", str(db)])
    assert listed.exit_code == 0 and "No ledger item matches" in listed.output
    shown = runner.invoke(app, ["--lang", "en", "ledger", "show", "TZ-X", "--db", str(db)])
    assert shown.exit_code == 2 and "no ledger yet" in shown.output
