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

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from coaltrace.config import ReportSettings
from coaltrace.files import output_dir, write_whole
from coaltrace.i18n import Text, catalogue
from coaltrace.pages import environment

# Rows per table on the page: one A4 sheet holds this much; the rest is counted, and in --json.
SUPPLIERS_SHOWN = 8
ORIGINS_SHOWN = 6
FINDINGS_SHOWN = 8
RECORDS_SHOWN = 4

# What the template itself lays out; anything else the page holds goes under "other facts".
KNOWN = frozenset(
    {
        "facility_id", "period", "name", "kind", "county", "registered", "status", "status_since", "lat", "lon",
        "address", "legal_representative", "licences", "licence_state", "licensed_share", "licensed_share_received",
        "at_risk_here", "tonnes_at_risk", "balance_at_risk", "unsourced_t", "data_gap_t", "inflow_recorded",
        "inflow_t", "outflow_t", "opening_stock_t", "closing_stock_t", "computed_closing_stock_t", "production_t",
        "origins", "suppliers", "buyers", "running_breach", "findings", "checklist",
    }
)  # fmt: skip

# The campaign's eight checks (八查) and the kinds of site each is made at, for a page that does not
# bring its own checklist. Checks 7 and 8 are field work the data cannot answer; the inspector still makes them.
EIGHT_CHECKS: tuple[tuple[int, Text, frozenset[str] | None], ...] = (
    (1, Text("用电是否异常", "is electricity use abnormal"), None),
    (
        2,
        Text(
            "收货渠道是否正规（供货单位、运单、过磅单）",
            "are the intake channels regular (suppliers, waybills, tickets)",
        ),
        frozenset({"yard", "washery", "coking_plant", "trader", "power_plant", "rail_station", "other"}),
    ),
    (3, Text("露头煤线是否有开采迹象", "traces of digging at outcrop seams"), frozenset({"mine", "other"})),
    (4, Text("偏僻路段是否有车辆运煤痕迹", "coal-truck traces on remote roads nearby"), None),
    (
        5,
        Text("圈占场地内是否有机械设备和生产迹象", "machinery and production inside the fenced site"),
        frozenset({"yard", "washery", "coking_plant", "trader", "other"}),
    ),
    (6, Text("关闭井口是否填实填死", "are closed shafts really sealed"), frozenset({"mine"})),
    (
        7,
        Text("废弃矿井周边有无隐蔽建筑和巷道", "hidden structures and tunnels near abandoned mines"),
        frozenset({"mine"}),
    ),
    (8, Text("重点区域有无非法用工", "illegal workers on the site"), None),
)

Y = catalogue(
    {
        "title": ("现场检查单", "Site inspection sheet"),
        "period": ("期间 {period}", "period {period}"),
        "kind": ("类型", "kind"),
        "county": ("县区", "county"),
        "address": ("地址", "address"),
        "coordinates": ("坐标", "coordinates"),
        "legal_rep": ("法定代表人", "legal representative"),
        "status": ("状态", "status"),
        "since": ("自 {date}", "since {date}"),
        "unregistered": ("未在单位名录中登记", "not in the facility register"),
        "licences": ("许可证", "licences"),
        "no_licence": ("无", "none"),
        "valid_at_end": ("期末有效", "valid at the period's end"),
        "not_valid_at_end": ("期末无效", "not valid at the period's end"),
        "capacity": ("核定能力 {t} 吨/年", "capacity {t} t a year"),
        "licence_state": ("采矿许可状态", "mining licence state"),
        "licensed_share": ("合法来源占比", "licensed share"),
        "at_risk_here": ("在本单位进入链条的涉险煤", "coal at risk entering the chain here"),
        "stock": ("库存核对（吨）", "Stock check (t)"),
        "opening": ("期初库存", "opening stock"),
        "production": ("产量", "production"),
        "inflow": ("购入", "inflow"),
        "outflow": ("销出", "outflow"),
        "closing_computed": ("计算期末库存", "closing stock, computed"),
        "closing_declared": ("申报期末库存", "closing stock, declared"),
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
        "party_kind": ("类型", "kind"),
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
        "findings": ("未结问题（{n} 条）", "Open findings ({n})"),
        "no_findings": ("无未结问题。", "No open findings."),
        "severity": ("级别", "severity"),
        "rule": ("问题", "finding"),
        "entity": ("对象", "entity"),
        "records": ("依据记录", "records behind it"),
        "more_findings": (
            "另有 {n} 条，见 coaltrace findings --facility {id}",
            "{n} more: coaltrace findings --facility {id}",
        ),
        "more_records": ("另 {n} 条", "{n} more"),
        "fp": ("可能的误报", "known false positives"),
        "checklist": ("八查核对", "The eight checks (八查)"),
        "checked": ("已查", "checked"),
        "result": ("情况记录", "what was found"),
        "other": ("其他信息", "Other facts"),
        "sign_inspector": ("检查人", "inspector"),
        "sign_facility": ("被检查单位负责人", "head of the facility"),
        "sign_date": ("日期", "date"),
        "role_carried": ("（携带）", "(carried)"),
        "role_records": ("（记录）", "(on records)"),
    }
)


def _records(finding: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The records behind a finding, whatever the page calls them: its evidence rows, or any list of
    records it carries (intakes, trips...)."""
    ev = finding.get("evidence")
    if isinstance(ev, Mapping) and isinstance(ev.get("rows"), list):
        return [r for r in ev["rows"] if isinstance(r, Mapping)]
    for value in finding.values():
        if isinstance(value, list) and value and all(isinstance(r, Mapping) for r in value):
            return list(value)
    return []


def _record_text(row: Mapping[str, Any]) -> str:
    """One record as the inspector checks it: its fields (plate, date, tonnes...) and where it is filed."""
    fields = "; ".join(f"{k}: {v}" for k, v in row.items() if not str(k).startswith("_") and v not in (None, ""))
    where = f"{row.get('_file')}:{row.get('_line')}" if row.get("_file") else ""
    return f"{fields} ({where})" if where and fields else fields or where


def _checklist(page: Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    """The page's own checklist when it has one; else the eight checks that apply to its kind of site."""
    given = page.get("checklist")
    if isinstance(given, list) and given:
        out = []
        for item in given:
            if not isinstance(item, Mapping):
                out.append({"check": "", "text": str(item), "note": ""})
                continue
            text = item.get("title") or item.get("text") or item.get("question") or ""
            if isinstance(text, Mapping):
                text = text.get(lang) or text.get("zh") or ""
            note = item.get("note") or item.get("hint") or item.get("answer") or ""
            if isinstance(note, Mapping):
                note = note.get(lang) or note.get("zh") or ""
            out.append({"check": item.get("check", item.get("id", "")), "text": text, "note": note})
        return out
    kind = page.get("kind") or "other"
    return [
        {"check": n, "text": text.say(lang), "note": ""}
        for n, text, kinds in EIGHT_CHECKS
        if kinds is None or kind in kinds
    ]


def render_yard_html(
    pages: Sequence[Mapping[str, Any]],
    lang: str,
    settings: ReportSettings | None = None,
    *,
    notes: Mapping[str, list[dict[str, str]]] | None = None,
) -> str:
    """PAGES (one `yard_page` dict each) as one HTML document, each on its own A4 sheet. NOTES are the
    rules' known false positives by rule id, for findings that do not carry their own."""
    env = environment(lang, Y, settings)
    notes = notes or {}

    def fp(finding: Mapping[str, Any]) -> list[str]:
        own = finding.get("false_positives")
        items = own if isinstance(own, list) else notes.get(str(finding.get("rule_id")), [])
        return [i.get(lang) or i.get("zh") or "" if isinstance(i, Mapping) else str(i) for i in items]

    def other(page: Mapping[str, Any]) -> list[tuple[str, Any]]:
        return [(k, v) for k, v in page.items() if k not in KNOWN and v not in (None, "", [], {})]

    return env.get_template("yard.html.j2").render(
        pages=pages,
        shown={"suppliers": SUPPLIERS_SHOWN, "origins": ORIGINS_SHOWN, "findings": FINDINGS_SHOWN},
        records_shown=RECORDS_SHOWN,
        records=_records,
        record_text=_record_text,
        checklist=lambda page: _checklist(page, lang),
        fp=fp,
        other=other,
        is_table=lambda v: isinstance(v, list) and bool(v) and all(isinstance(r, Mapping) for r in v),
        is_map=lambda v: isinstance(v, Mapping),
    )


def write_yard_html(
    pages: Sequence[Mapping[str, Any]],
    path: Path,
    lang: str,
    settings: ReportSettings | None = None,
    *,
    rule_dirs: Iterable[Path] | None = None,
) -> Path:
    """Write PAGES to PATH as one HTML file to print (whole or not at all), with the rules' notes."""
    from coaltrace.report.model import rule_notes

    notes = {rule_id: fps for rule_id, (_, fps) in rule_notes(rule_dirs).items()}
    text = render_yard_html(pages, lang, settings, notes=notes)
    output_dir(path.parent)
    write_whole(path, text)
    return path
