"""The inspector's page of one facility as HTML to print and sign: one A4 page per facility.

It renders the dict `coaltrace.yard.page.yard_page` returns, and nothing else: who
the facility is (name, kind, county, address or coordinates, legal representative,
licences), who supplied it and whom it sold to, the licensed share and where the
rest entered the chain, its stock (opening, in, out, closing as computed, and a blank
for the count on site), the findings with the records behind them and the rule's
known false positives, the eight checks (八查) that apply to this kind of site, and
lines to sign. A field the page does not have is left out; a field this template does
not know is still shown, under "other facts", so nothing the page says is lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from coaltrace.config import ReportSettings
from coaltrace.files import output_dir, write_whole
from coaltrace.i18n import catalogue
from coaltrace.pages import environment
from coaltrace.yard.page import record_words

# Rows per table on the page at most; the rest is counted on the sheet, and in --json.
PARTIES_SHOWN = 4
ORIGINS_SHOWN = 4
FINDINGS_SHOWN = 5
RECORDS_SHOWN = 2
# Printed lines one A4 sheet has for the parts that vary (tables, findings, checks), with room
# to spare for fonts wider than ours: a busy mine (eight checks, many findings) shows fewer
# records per finding and fewer findings rather than spill onto a second sheet.
SHEET_LINES = 30
CHECK_LINES = 4  # one row of two checks: title, what to do (two lines), the line to write on

# What the template itself lays out; anything else the page holds goes under "other facts".
KNOWN = frozenset(
    {
        "facility_id", "period", "name", "kind", "county", "registered", "status", "status_since", "lat", "lon",
        "address", "legal_rep", "phone", "licences", "licence_state", "licensed_share", "licensed_share_received",
        "origins", "rest", "at_risk_here", "tonnes_at_risk", "balance_at_risk", "stock", "opening_stock_t",
        "inflow_t", "outflow_t", "closing_stock_t", "unsourced_t", "data_gap_t", "inflow_recorded", "suppliers",
        "buyers", "running_breach", "findings", "round_trips", "checklist", "sign",
    }
)  # fmt: skip

Y = catalogue(
    {
        "title": ("现场检查单", "Site inspection sheet"),
        "period": ("期间 {period}", "period {period}"),
        "kind": ("类型", "kind"),
        "county": ("县区", "county"),
        "address": ("地址", "address"),
        "coordinates": ("坐标", "coordinates"),
        "legal_rep": ("法定代表人", "legal representative"),
        "phone": ("电话", "phone"),
        "status": ("状态", "status"),
        "since": ("自 {date}", "since {date}"),
        "unregistered": ("未在单位名录中登记", "not in the facility register"),
        "licences": ("许可证", "licences"),
        "no_licence": ("无", "none"),
        "valid_at_end": ("期末有效", "valid at period end"),
        "not_valid_at_end": ("期末无效", "not valid at period end"),
        "capacity": ("核定能力 {t} 吨/年", "capacity {t} t/a"),
        "licence_state": ("采矿许可状态", "mining licence state"),
        "licensed_share": ("合法来源占比", "licensed share"),
        "at_risk_here": ("在本单位进入链条的涉险煤", "coal at risk entering the chain here"),
        "stock": ("库存核对（吨）", "Stock check (t)"),
        "opening": ("期初库存", "opening stock"),
        "production": ("产量", "production"),
        "inflow": ("购入", "inflow"),
        "usable_inflow": ("折算购入（×{factor}）", "usable inflow (×{factor})"),
        "outflow": ("销出", "outflow"),
        "closing_computed": ("计算期末库存", "closing stock, computed"),
        "closing_declared": ("盘点期末库存（已载入）", "closing stock, counted (loaded)"),
        "closing_count": ("现场盘点", "counted on site"),
        "inflow_unrecorded": (
            "数据中几乎没有此类单位的进煤记录，{t} 吨缺口未作判断。",
            "The data records almost no inflow to this kind of facility; {t} t of shortfall is not judged.",
        ),
        "breach": (
            "先出后进：{at} 起库存为负，最低 {min} 吨。",
            "Shipped before received: stock negative from {at}, lowest {min} t.",
        ),
        "suppliers": ("供货单位", "Suppliers"),
        "buyers": ("销往单位", "Buyers"),
        "party": ("单位", "facility"),
        "party_licence": ("许可状态", "licence"),
        "tonnes": ("吨", "tonnes"),
        "trips": ("车次", "trips"),
        "supplier_share": ("其合法来源占比", "its licensed share"),
        "more": ("另有 {n} 家，共 {t} 吨", "{n} more, {t} t in all"),
        "none_rows": ("无", "none"),
        "origins": ("非合法来源的煤从何处进入链条", "Where the coal without a licensed source entered the chain"),
        "origin_class": ("来源类别", "origin class"),
        "origin": ("来源单位", "origin"),
        "share": ("占比", "share"),
        "all_licensed": ("本单位的煤均可追溯到合法来源。", "All of its coal traces to a licensed source."),
        "round_trips": ("循环倒卖（对倒）", "Round trips"),
        "findings": ("未结问题（{n} 条）", "Open findings ({n})"),
        "no_findings": ("无未结问题。", "No open findings."),
        "severity": ("级别", "severity"),
        "rule": ("问题", "finding"),
        "more_findings": (
            "另有 {n} 条，见 coaltrace findings --facility {id}",
            "{n} more: coaltrace findings --facility {id}",
        ),
        "more_records": ("另 {n} 条", "{n} more"),
        "fp": ("可能的误报", "known false positives"),
        "checklist": ("八查核对", "The eight checks (八查)"),
        "check_findings": ("问题 {n}", "findings {n}"),
        "result": ("情况记录", "what was found"),
        "other": ("其他信息", "Other facts"),
        "role_carried": ("（携带）", "(carried)"),
        "role_records": ("（记录）", "(on records)"),
    }
)


def _record_text(record: Mapping[str, Any], lang: str) -> str:
    """One record behind a finding as the inspector checks it: table, id, time, plate, tonnes, the
    other party, and the file and line it came from."""
    return " ".join(record_words(record, lang))


def _checklist(page: Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    """The page's checklist (`coaltrace.yard.checklist`) in the page's language, each check with the
    numbers its findings have on the sheet (a finding id is for the machine; 1, 2, 3 fit a box)."""
    number = {f.get("finding_id"): i for i, f in enumerate(page.get("findings") or [], start=1)}
    return [
        {
            "check": c["check"],
            "title": c["title"][lang],
            "what_to_do": c["what_to_do"][lang],
            "findings": [str(number.get(f, f)) for f in c.get("findings") or []],
        }
        for c in page.get("checklist") or []
    ]


def _fit(page: Mapping[str, Any]) -> dict[str, int]:
    """How many rows of each table, and records per finding, PAGE shows so that it stays one sheet."""
    findings = page.get("findings") or []
    parties = min(PARTIES_SHOWN, max(len(page.get("suppliers") or []), len(page.get("buyers") or []), 1))
    origins = min(ORIGINS_SHOWN, len(page.get("rest") or []))
    checks = -(-len(page.get("checklist") or []) // 2) * CHECK_LINES
    room = SHEET_LINES - checks - parties - origins

    def lines(shown: int, records: int) -> int:
        return sum(
            1 + min(records, len(f.get("evidence") or [])) + bool(f.get("false_positives")) for f in findings[:shown]
        )

    for records in range(RECORDS_SHOWN, 0, -1):
        if lines(FINDINGS_SHOWN, records) <= room:
            break
    shown = min(FINDINGS_SHOWN, len(findings))
    while shown > 1 and lines(shown, records) > room:
        shown -= 1
    return {"parties": PARTIES_SHOWN, "origins": ORIGINS_SHOWN, "findings": shown, "records": records}


def render_yard_html(pages: Sequence[Mapping[str, Any]], lang: str, settings: ReportSettings | None = None) -> str:
    """PAGES (one `yard_page` dict each) as one HTML document, each on its own A4 sheet."""
    env = environment(lang, Y, settings)

    def other(page: Mapping[str, Any]) -> list[tuple[str, Any]]:
        return [(k, v) for k, v in page.items() if k not in KNOWN and v not in (None, "", [], {})]

    return env.get_template("yard.html.j2").render(
        pages=pages,
        fit=_fit,
        record_text=lambda r: _record_text(r, lang),
        checklist=lambda page: _checklist(page, lang),
        said=lambda text: text.get(lang, "") if isinstance(text, Mapping) else str(text),
        other=other,
        is_table=lambda v: isinstance(v, list) and bool(v) and all(isinstance(r, Mapping) for r in v),
        is_map=lambda v: isinstance(v, Mapping),
    )


def write_yard_html(
    pages: Sequence[Mapping[str, Any]], path: Path, lang: str, settings: ReportSettings | None = None
) -> Path:
    """Write PAGES to PATH as one HTML file to print (whole or not at all)."""
    output_dir(path.parent)
    write_whole(path, render_yard_html(pages, lang, settings))
    return path
