"""The ledger's rules on their own: moves, checks, the chain, the draw, its config, and the sandbox wall."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from coaltrace.checks import applicable
from coaltrace.config import AuditConfig, load_config
from coaltrace.errors import UsageError
from coaltrace.labels import LABELS
from coaltrace.ledger.chain import commit, verify
from coaltrace.ledger.model import (
    PROBLEM_TYPES,
    RULE_PROBLEMS,
    TRANSITIONS,
    CheckResult,
    FieldCheck,
    Item,
    Source,
    Status,
    parse_check,
    parse_checks,
    problem_of,
)
from coaltrace.ledger.sampling import choose, draw_key
from coaltrace.ledger.schema import TABLES, ensure_tables
from coaltrace.ledger.workflow import Lead, Update, new_lead, update
from coaltrace.rules import load_rules
from coaltrace.rules.sandbox import check_rule_sql
from coaltrace.rules.views import READABLE
from coaltrace.store import Store

SETTINGS = AuditConfig().ledger
TODAY = date(2022, 1, 20)


def _item(status: Status = Status.open, **kw: object) -> Item:
    base: dict[str, object] = {
        "item_id": "TZ-TEST000001",
        "status": status,
        "problem_type": "illegal_mining",
        "severity": "high",
        "source": Source.patrol,
        "subject_kind": "facility",
        "subject_id": "Y1",
        "found_by": "A",
        "found_on": date(2022, 1, 2),
        "deadline": date(2022, 2, 1),
        "checks_applicable": (1, 2, 5, 8),
    }
    return Item(**(base | kw))  # type: ignore[arg-type]


def test_every_status_and_source_has_its_words_and_every_move_lands_on_a_status() -> None:
    assert set(LABELS["ledger_status"]) == {s.value for s in Status}
    assert set(LABELS["ledger_source"]) == {s.value for s in Source}
    assert set(TRANSITIONS) == set(Status)
    assert set(RULE_PROBLEMS.values()) <= set(PROBLEM_TYPES)
    # Every shipped rule has its problem type in the ledger's words.
    assert {r.id for r in load_rules()} <= set(RULE_PROBLEMS)
    assert {str(c) for c in range(1, 9)} == set(LABELS["field_check"])


@pytest.mark.parametrize(
    "family",
    [
        "ledger_status",
        "ledger_source",
        "ledger_problem",
        "field_check",
        "check_result",
        "ledger_action",
        "ledger_field",
    ],
)
def test_every_ledger_code_has_both_labels(family: str) -> None:
    from coaltrace.ledger.model import STATE_FIELDS

    for code, text in LABELS[family].items():
        assert text.zh and text.en and text.zh != text.en, code
    assert set(STATE_FIELDS) <= set(LABELS["ledger_field"])
    assert {"create", "attach", "update", "status", "recur", "sample"} == set(LABELS["ledger_action"])


def test_a_rule_of_a_county_takes_its_first_checks_type_unless_the_config_names_one() -> None:
    assert problem_of("county_rule", (6, 1), {}) == "closed_mine_mining"
    assert problem_of("county_rule", (), {}) == "other"
    assert problem_of("trip_too_fast", (4,), {"trip_too_fast": "data_quality"}) == "data_quality"


@pytest.mark.parametrize(
    ("text", "check", "result", "note"),
    [
        ("2:clear", 2, "clear", None),
        ("5:found:院内有筛分机", 5, "found", "院内有筛分机"),
        ("8 未查 无人在场", 8, "not_done", "无人在场"),
        ("第2项 未发现问题", 2, "clear", None),
        ("3：发现问题：新挖痕迹", 3, "found", "新挖痕迹"),
        ("1 problem found meter tampered", 1, "found", "meter tampered"),
    ],
)
def test_a_field_check_reads_as_people_write_it(text: str, check: int, result: str, note: str | None) -> None:
    assert parse_check(text) == FieldCheck(check, CheckResult(result), note)


@pytest.mark.parametrize("text", ["9:clear", "2:maybe", "7:not_done", "clear", ""])
def test_a_field_check_that_makes_no_sense_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_check(text)


def test_checks_round_trip_through_their_text() -> None:
    from coaltrace.ledger.model import checks_text

    checks = (FieldCheck(2, CheckResult.clear), FieldCheck(5, CheckResult.found, "筛分机"))
    for lang in ("zh", "en"):
        assert parse_checks(checks_text(checks, lang)) == checks


def test_what_a_verification_covers_follows_the_site_and_the_rules() -> None:
    assert applicable("yard") == (1, 2, 4, 5, 8)
    assert applicable("mine") == (1, 3, 4, 5, 6, 7, 8)
    assert applicable("trader", (4,)) == (2, 4)
    assert applicable(None) == applicable("a kind nobody knows") == tuple(range(1, 9))


@pytest.mark.parametrize(
    ("status", "change", "says"),
    [
        (Status.open, Update(status=Status.rectifying), "from open it can go to: assigned, dismissed"),
        (Status.closed, Update(status=Status.assigned), "from closed it can go to: reopened"),
        (Status.verified, Update(status=Status.dismissed, note="x"), "signs for it"),
        (Status.verified, Update(status=Status.closed, signer="S"), "a note is required"),
        (Status.verified, Update(status=Status.rectifying), "say why"),
        (Status.closed, Update(status=Status.reopened), "say why"),
        (Status.open, Update(signer="S"), "give the status it signs for"),
        (Status.open, Update(), "nothing to change"),
        (Status.open, Update(deadline=date(2022, 1, 1)), "already past"),
    ],
)
def test_a_move_the_workflow_does_not_allow_is_refused(status: Status, change: Update, says: str) -> None:
    with pytest.raises(UsageError) as e:
        update(_item(status), change, actor="A", settings=SETTINGS, today=TODAY)
    assert says in e.value.message and e.value.zh


def test_a_reopened_item_needs_a_new_verification_and_gets_a_new_deadline() -> None:
    closed = _item(
        Status.closed,
        signer="S",
        closed_on=date(2022, 1, 5),
        field_checks=(FieldCheck(1, CheckResult.clear),),
        deadline=date(2022, 1, 10),
    )
    after, entry = update(
        closed, Update(status=Status.reopened, note="又有车辆"), actor="A", settings=SETTINGS, today=TODAY
    )
    assert after.status is Status.reopened and after.field_checks == () and after.closed_on is None
    assert after.deadline == date(2022, 2, 19)  # today + 30 days for a high item
    assert entry.from_status is Status.closed and entry.fields["deadline"] == "2022-02-19"


def test_a_lead_needs_a_place_and_a_deadline_not_already_past() -> None:
    lead = Lead(source=Source.tip_off, description="x", lat=35.5, lon=112.5, county="城区")
    item, entry = new_lead(lead, None, actor="A", settings=SETTINGS, today=TODAY, checks=(1, 2))
    assert item.deadline == date(2022, 2, 19) and item.subject_kind == "place" and entry.action == "create"
    with pytest.raises(UsageError):
        new_lead(
            Lead(source=Source.tip_off, description="x"), None, actor="A", settings=SETTINGS, today=TODAY, checks=()
        )
    with pytest.raises(UsageError):
        new_lead(
            Lead(source=Source.tip_off, description="x", lat=95.0, lon=112.5, county="城区"),
            None,
            actor="A",
            settings=SETTINGS,
            today=TODAY,
            checks=(),
        )


def test_the_draw_takes_every_critical_item_and_the_rate_per_county_from_hashes_alone() -> None:
    population = [
        _item(item_id=f"TZ-{county}{n:03d}", county=county, severity=sev)
        for county, count in (("A", 10), ("B", 3))
        for n, sev in zip(range(count), ["critical", "high", "high", "medium", "low"] * 3, strict=False)
    ]
    chosen, strata = choose(population, 0.3, 42)
    for county, size in (("A", 10), ("B", 3)):
        got = [i for i in chosen if i.county == county]
        critical = [i for i in population if i.county == county and i.severity == "critical"]
        assert len(got) == max(-(-3 * size // 10), len(critical))
        assert set(critical) <= set(got)
    # The same seed, whatever order the items come in: the same draw.
    assert choose(list(reversed(population)), 0.3, 42)[0] == chosen
    # An item is drawn by its own hash: smallest sha256("SEED|ID") first within its stratum.
    a_high = sorted(
        (i for i in population if i.county == "A" and i.severity == "high"), key=lambda i: draw_key(42, i.item_id)
    )
    assert a_high[0] in chosen
    assert sum(s.population for s in strata) == len(population)


def test_rule_sql_cannot_read_the_ledger() -> None:
    assert not set(TABLES) & set(READABLE)
    for table in TABLES:
        refused, _ = check_rule_sql(f"SELECT * FROM {table}", READABLE)
        assert refused and "not an audit view" in str(refused[0])
        refused, _ = check_rule_sql(
            f"SELECT f.* FROM facilities f JOIN {table} l ON l.facility_id = f.facility_id", READABLE
        )
        assert refused


def test_commit_and_verify_in_a_fresh_store() -> None:
    with Store(":memory:") as store, store.transaction() as engine:
        ensure_tables(engine)
        lead = Lead(source=Source.satellite, description="卫片图斑", lat=35.5, lon=112.5, county="城区")
        item, entry = new_lead(
            lead, None, actor="A", settings=SETTINGS, today=TODAY, checks=(1,), at=datetime(2022, 1, 20, 9)
        )
        [saved] = commit(engine, [(item, entry)])
        assert saved.version == 1 and saved.created_at == datetime(2022, 1, 20, 9)
        after, change = update(saved, Update(owner="O"), actor="B", settings=SETTINGS, today=TODAY)
        [again] = commit(engine, [(after, change)])
        assert again.version == 2 and again.owner == "O"
        report = verify(engine)
        assert report.ok and report.entries == 2 and report.head


def test_the_ledger_section_of_the_config(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "c.toml"
    path.write_text("[ledger]\ndeadline_days = {critical = 7}\nlookback_months = 3\n", encoding="utf-8")
    ledger = load_config(path).ledger
    assert ledger.days_for("critical") == 7 and ledger.days_for("low") == 60 and ledger.lookback_months == 3
    path.write_text("[ledger]\ndeadline_days = {critical = 0}\n", encoding="utf-8")
    with pytest.raises(UsageError) as e:
        load_config(path)
    assert "ledger.deadline_days" in "\n".join(e.value.details)
    path.write_text("[ledger]\nsoon = 1\n", encoding="utf-8")
    with pytest.raises(UsageError):
        load_config(path)
    from coaltrace.config import default_user

    monkeypatch.setenv("COALTRACE_USER", "  王局长 ")
    assert default_user() == "王局长"
    monkeypatch.setenv("COALTRACE_USER", "")
    assert default_user() is None
