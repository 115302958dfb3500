"""The audit report as one self-contained HTML page (charts as SVG inside, a print stylesheet, no
script, nothing loaded) and as Markdown, both from the templates in `coaltrace/templates/`.

Both say the same things in the language asked for, data gaps first; every finding
lists the source rows (file and line) an inspector can open to check it by hand,
and its rule's known false positives.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from coaltrace.config import ReportSettings
from coaltrace.i18n import catalogue
from coaltrace.labels import label
from coaltrace.pages import environment, md_text, num
from coaltrace.report.charts import charts
from coaltrace.report.ledger import ledger_sections
from coaltrace.report.model import REFS_SHOWN, Report

# Flows at risk shown on the page; the workbook has them all.
FLOWS_SHOWN = 20

L = catalogue(
    {
        "title": ("煤炭来源审计报告 {period}", "Coal provenance audit {period}"),
        "meta": ("数据库 {db}；生成于 {at}；coaltrace {version}", "database {db}; generated {at}; coaltrace {version}"),
        "data": ("{period} 的数据", "Data for {period}"),
        "gaps": ("数据缺口（本期未能判断的部分）", "Data gaps: what this period's data could not judge"),
        "no_gaps": ("本期数据未发现缺口：每条规则都有可判断的数据。", "No data gaps: every rule had data to judge."),
        "headline": ("主要数字", "Headline figures"),
        "figure": ("指标", "figure"),
        "value": ("数值", "value"),
        "traced": ("追溯吨数（到达终端买方的煤）", "tonnes traced (coal that reached an end buyer)"),
        "licensed_share": ("合法来源占比", "share with a licensed source"),
        "at_risk": ("涉险煤炭（按源头只计一次）", "coal at risk, each tonne counted once at its origin"),
        "findings_n": ("问题线索", "findings"),
        "change": ("与上一审计期间 {period} 相比（问题数）", "change against {period}, the previous audit (findings)"),
        "change_tonnes": ("涉险吨数变化", "change in tonnes at risk"),
        "no_previous": ("没有更早的审计期间可比较。", "No earlier audited period to compare with."),
        "traced_note": (
            "追溯吨数为本期到达终端买方（本期未再销出的单位）的煤，按供货单位的来源构成逐吨归到来源类别；"
            "合法来源占比不计期初库存和数据缺口。",
            "Tonnes traced: the coal that reached an end buyer (a facility that sold none on this period), each "
            "tonne put to an origin class by its supplier's provenance; the licensed share leaves out opening stock "
            "and data gaps.",
        ),
        "roles": (
            "涉险吨数只在煤进入链条的源头计算一次；标“携带”的为已在源头计数、沿流向带到下游的吨数，"
            "标“记录”的为所涉记录上的吨数，二者均不计入总量。",
            "Tonnes at risk are counted once, where the coal entered the chain; “carried” tonnes were "
            "counted at their origin and travelled on, “on records” tonnes stand on the records found; "
            "neither is added to the total.",
        ),
        "charts": ("图表", "Charts"),
        "flow_from": ("来源类别", "origin class"),
        "flow_via": ("交付单位类型", "delivered by"),
        "flow_to": ("终端买方类型", "end buyer"),
        "flow_caption": (
            "煤的流向：来源类别 → 最后交付的单位类型 → 终端买方类型（宽度为吨数；很小的类别按最小高度画出，以便看见）。",
            "Where the coal went: origin class → kind of facility that delivered it → kind of end buyer "
            "(widths in tonnes; a very small class is drawn at a least height, so it can be seen).",
        ),
        "map_lon": ("经度", "longitude"),
        "map_lat": ("纬度", "latitude"),
        "map_flagged": ("有问题（最高：{severity}）", "flagged (worst: {severity})"),
        "map_caption": (
            "单位位置（按登记坐标）；圆圈为有问题线索的单位，箭头为有问题的流向，灰字为县区。",
            "Facilities where the register places them; rings mark facilities with findings, arrows the flagged "
            "flows, grey names the counties.",
        ),
        "counties_caption": (
            "各县区涉险煤炭（按源头只计一次），旁注问题数和最高级别。",
            "Coal at risk per county (counted once at its origin), with the findings and the worst severity.",
        ),
        "rules_caption": ("各规则发现的问题数，颜色为规则的严重程度。", "Findings per rule, coloured by its severity."),
        "bar_note": ("{t}；{n} 条，最高 {severity}", "{t}; {n} findings, worst {severity}"),
        "bar_tonnes": ("涉险吨数", "tonnes at risk"),
        "bar_findings": ("问题数", "findings"),
        "most": ("问题最严重、最多的单位", "Facilities with the most serious, then the most, findings"),
        "worst_sev": ("最高级别", "worst"),
        "at_origin": ("源头涉险 t", "at risk at origin t"),
        "status": ("状态", "status"),
        "unjudged": ("未判断的县区", "not judged in"),
        "role_carried": ("（携带）", "(carried)"),
        "role_records": ("（记录）", "(on records)"),
        "params": ("参数", "Parameters in force"),
        "config": ("配置文件：{file}", "config file: {file}"),
        "checks": ("八查", "checks"),
        "table": ("表", "table"),
        "rows": ("行数", "rows"),
        "files_q": (
            "共 {files} 个文件；{q} 行无法读取已隔离。",
            "{files} files; {q} rows could not be read and are in quarantine.",
        ),
        "severity": ("严重程度", "severity"),
        "by_rule": ("各规则", "Every rule"),
        "rule": ("规则", "rule"),
        "name": ("名称", "name"),
        "findings": ("问题数", "findings"),
        "tonnes": ("涉及吨数", "tonnes at risk"),
        "facility": ("单位", "facility"),
        "kind": ("类型", "kind"),
        "county": ("县区", "county"),
        "no_county": ("未注明县区", "no county"),
        "county_n": ("{n} 条问题线索", "{n} findings"),
        "unsourced": ("物料不平衡（销出多于来源）", "Mass balance: shipped more than it had"),
        "inflow": ("来煤 t", "inflow t"),
        "outflow": ("销出 t", "outflow t"),
        "shortfall": ("无来源 t", "unsourced t"),
        "flows_at_risk": (
            "携带涉险煤炭的流向（前 {n} 条，共 {total} 条）",
            "Flows carrying coal at risk (first {n} of {total})",
        ),
        "flows_note": (
            "按卖方的来源构成，流向中无合法来源的部分；这些吨数已在源头计数，此处不再相加。全部流向见 report.xlsx。",
            "The part of each flow with no licensed source, by its seller's provenance; these tonnes were counted "
            "where they entered the chain and are not added again. report.xlsx lists every flow.",
        ),
        "seller": ("卖方", "seller"),
        "buyer": ("买方", "buyer"),
        "flow_tonnes": ("流量 t", "tonnes"),
        "at_risk_share": ("涉险占比", "share at risk"),
        "carried": ("携带涉险 t", "carried at risk t"),
        "flagged": ("已列问题", "flagged"),
        "yes": ("是", "yes"),
        "list": ("问题线索（按县区，列出 {n} 条，共 {total} 条）", "Findings by county ({n} listed of {total})"),
        "id": ("编号", "id"),
        "entity": ("对象", "entity"),
        "evidence": ("证据（文件:行）", "evidence (file:line)"),
        "evidence_more": ("另 {n} 行", "{n} more rows"),
        "fp": ("可能的误报（规则文件所列）：", "Known false positives (from the rule files):"),
        "none": ("无", "none"),
        "no_audit": ("尚未运行审计（coaltrace audit）。", "No audit has been run yet (coaltrace audit)."),
    }
)


def _tonnes_cell(lang: str, tonnes: float | None, role: str | None) -> str:
    """Tonnes with what they are: counted at their origin, or carried and on records (never added)."""
    if tonnes is None or role == "none":
        return ""
    # A finding stored before tonnes had roles says nothing of its tonnes: they are its records'.
    role = role or "records"
    return num(tonnes) + ("" if role == "origin" else " " + L[f"role_{role}"].say(lang))


def _refs(lang: str, finding: dict[str, Any]) -> str:
    """The first evidence rows as file:line, and how many more the finding has."""
    ev = finding.get("evidence") or {}
    rows = ev.get("rows", [])
    refs = [f"{r.get('_file')}:{r.get('_line')}" for r in rows[:REFS_SHOWN] if r.get("_file")]
    more = int(ev.get("total_rows", len(rows))) - len(refs)
    return ", ".join(refs) + (f" ({L['evidence_more'].say(lang, n=more)})" if more > 0 and refs else "")


def _change(now: float, before: float, decimals: int) -> str:
    diff = now - before
    return ("+" if diff > 0 else "±" if diff == 0 else "−") + num(abs(round(diff, decimals)), decimals)


def _context(r: Report, lang: str, *, html: bool) -> dict[str, Any]:
    def fp_notes(items: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
        """Each rule found in ITEMS that has known false positives: its title and them, once."""
        out = []
        for rule_id in dict.fromkeys(f["rule_id"] for f in items):
            rule = r.rule(rule_id)
            if rule and rule.false_positives:
                out.append(
                    (rule.title_zh if lang == "zh" else rule.title_en, [fp[lang] for fp in rule.false_positives])
                )
        return out

    def status_cell(x: Any) -> str:
        text = label("rule_status", x.status, lang) + (f": {x.reason}" if x.reason else "")
        if x.unjudged_counties:
            text += f" ({L['unjudged'].say(lang)}: {', '.join(x.unjudged_counties)})"
        return text

    drawn = {k: Markup(v) for k, v in charts(r, lang, lambda key: L[key].say(lang)).items()} if html else {}
    return {
        "r": r,
        "charts": drawn,
        "generated_at": r.generated_at.isoformat(sep=" "),
        "quarantined": sum(r.quarantined.values()),
        "top": FLOWS_SHOWN,
        "refs": lambda f: _refs(lang, f),
        "tonnes_cell": lambda tonnes, role: _tonnes_cell(lang, tonnes, role),
        "change": _change,
        "params": lambda p: ", ".join(f"{k} = {v}" for k, v in p.items()),
        "entity": lambda e: str(e).replace(">", " → "),
        "fp_notes": fp_notes,
        "ledger": ledger_sections(r.ledger, lang),
        "status_cell": status_cell,
    }


def to_html(r: Report, lang: str, settings: ReportSettings | None = None) -> str:
    env = environment(lang, L, settings)
    return env.get_template("report.html.j2").render(_context(r, lang, html=True))


def to_markdown(r: Report, lang: str, settings: ReportSettings | None = None) -> str:
    env = environment(lang, L, settings, markdown=True)
    return env.get_template("report.md.j2").render(_context(r, lang, html=False))


__all__ = ["L", "md_text", "to_html", "to_markdown"]
