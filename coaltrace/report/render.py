"""The audit report as Markdown and as one self-contained HTML page (no script, no CDN).

Both say the same things, in the language asked for; every finding lists the
source rows (file and line) an inspector can open to check it by hand.
"""

from __future__ import annotations

import html
import json
from typing import Any

from coaltrace.i18n import catalogue, say
from coaltrace.report.model import Report
from coaltrace.severity import Severity

L = catalogue(
    {
        "title": ("煤炭来源审计报告 {period}", "Coal provenance audit {period}"),
        "meta": ("数据库 {db}；生成于 {at}；coaltrace {version}", "database {db}; generated {at}; coaltrace {version}"),
        "data": ("{period} 的数据", "Data for {period}"),
        "gaps": ("数据缺口（本期未能判断的部分）", "Data gaps: what this period's data could not judge"),
        "gap": ("缺口", "gap"),
        "status": ("状态", "status"),
        "status_ran": ("已运行", "ran"),
        "status_no_data": ("无数据未运行", "no data"),
        "status_disabled": ("已停用", "disabled"),
        "unjudged": ("未判断的县区", "not judged in"),
        "roles": (
            "涉险吨数只在煤进入链条的源头计算一次；标“携带”的为已在源头计数、沿流向带到下游的吨数，"
            "标“记录”的为所涉记录上的吨数，二者均不计入总量。",
            "Tonnes at risk are counted once, where the coal entered the chain; “carried” tonnes were "
            "counted at their origin and travelled on, “on records” tonnes stand on the records found; "
            "neither is added to the total.",
        ),
        "role_carried": ("（携带）", "(carried)"),
        "role_records": ("（记录）", "(on records)"),
        "params": ("参数", "Parameters in force"),
        "config": ("配置文件：{file}", "config file: {file}"),
        "class_unlicensed": ("无证或关停生产", "unlicensed or closed production"),
        "class_over_capacity": ("超能力生产", "production over capacity"),
        "class_unsourced": ("非煤矿单位凭空多出的煤", "shortfall at a non-mine"),
        "worst_sev": ("最高级别", "worst"),
        "at_risk_here": ("源头涉险吨数", "at risk at origin (t)"),
        "counties": ("各县区", "By county"),
        "table": ("表", "table"),
        "rows": ("行数", "rows"),
        "files_q": (
            "共 {files} 个文件；{q} 行无法读取已隔离。",
            "{files} files; {q} rows could not be read and are in quarantine.",
        ),
        "summary": ("审计结果", "Findings"),
        "severity": ("严重程度", "severity"),
        "count": ("数量", "count"),
        "total": (
            "共 {n} 条问题线索；涉险煤炭（按源头只计一次）{t} 吨：{by_class}。",
            "{n} findings; coal at risk, each tonne counted once at its origin: {t} t ({by_class}).",
        ),
        "by_rule": ("按规则", "By rule"),
        "rule": ("规则", "rule"),
        "name": ("名称", "name"),
        "version": ("版本", "version"),
        "findings": ("问题数", "findings"),
        "tonnes": ("涉及吨数", "tonnes at risk"),
        "worst": ("问题最严重的单位", "Facilities with the most serious findings"),
        "facility": ("单位", "facility"),
        "kind": ("类型", "kind"),
        "county": ("县区", "county"),
        "rules": ("规则", "rules"),
        "unsourced": ("物料不平衡（销出多于来源）", "Mass balance: shipped more than it had"),
        "inflow": ("来煤 t", "inflow t"),
        "outflow": ("销出 t", "outflow t"),
        "shortfall": ("无来源 t", "unsourced t"),
        "list": ("主要问题线索（前 {n} 条，共 {total} 条）", "Most serious findings (first {n} of {total})"),
        "id": ("编号", "id"),
        "entity": ("对象", "entity"),
        "evidence": ("证据（文件:行）", "evidence (file:line)"),
        "none": ("无", "none"),
        "no_audit": ("尚未运行审计（coaltrace audit）。", "No audit has been run yet (coaltrace audit)."),
        "ledger": ("问题台账", "Problem ledger"),
        "ledger_note": (
            "本期 {n} 项；销号率 {rate}（已销号 / 未排除的事项）；逾期 {overdue} 项；复发 {recurred} 项。截至 {as_of}；历史链末端 {head}。",
            "{n} items this period; closure rate {rate} (closed / items not dismissed); {overdue} overdue; "
            "{recurred} recurred. As of {as_of}; history chain head {head}.",
        ),
        "items": ("事项", "items"),
        "overdue": ("逾期", "overdue"),
        "closure_rate": ("销号率", "closure rate"),
        "ledger_attention": ("逾期和复发的事项", "Overdue and recurring items"),
        "deadline": ("整改时限", "deadline"),
        "owner": ("责任人", "owner"),
        "recurrences": ("复发次数", "recurrences"),
        "problem": ("问题类型", "problem"),
    }
)


def _t(key: str, lang: str, **kw: object) -> str:
    return say(L, key, lang, **kw)


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:,.3f}"


def _refs(evidence: Any, limit: int = 3) -> str:
    ev = json.loads(evidence) if isinstance(evidence, str) else (evidence or {})
    rows = ev.get("rows", [])
    refs = [f"{r.get('_file')}:{r.get('_line')}" for r in rows[:limit] if r.get("_file")]
    more = int(ev.get("total_rows", len(rows))) - len(refs)
    return ", ".join(refs) + (f" (+{more})" if more > 0 and refs else "")


def _tonnes_cell(tonnes: float | None, role: str | None, lang: str) -> str:
    """Tonnes with what they are: counted at their origin, or carried and on records (never added)."""
    if tonnes is None or role == "none":
        return ""
    # A finding stored before tonnes had roles says nothing of its tonnes: they are its records'.
    role = role or "records"
    label = "" if role == "origin" else " " + _t(f"role_{role}", lang)
    return _num(tonnes) + label


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in params.items())


def _rate(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _ledger(r: Report, lang: str) -> list[tuple[str, list[str], list[list[str]], str | None]]:
    """The ledger's state for the period: by county and status, then the items overdue or recurring."""
    from coaltrace.labels import label

    g = r.ledger
    if not g:
        return []
    statuses = list(g["by_status"])
    note = _t(
        "ledger_note",
        lang,
        n=g["items"],
        rate=_rate(g["closure_rate"]),
        overdue=len(g["overdue"]),
        recurred=len(g["recurrences"]),
        as_of=g["as_of"],
        head=(g["chain_head"] or "-")[:16],
    )
    by_county = (
        _t("ledger", lang),
        [
            _t("county", lang),
            _t("items", lang),
            *(label("ledger_status", s, lang) for s in statuses),
            _t("overdue", lang),
            _t("closure_rate", lang),
        ],
        [
            [
                c["county"] or _t("none", lang),
                str(c["items"]),
                *(str(c["by_status"][s]) for s in statuses),
                str(c["overdue"]),
                _rate(c["closure_rate"]),
            ]
            for c in g["counties"]
        ],
        note,
    )
    attention = {i["item_id"]: i for i in [*g["overdue"], *g["recurrences"]]}
    if not attention:
        return [by_county]
    rows = [
        [
            i["item_id"],
            i["county"] or "",
            " ".join(x for x in (i["facility_id"], i["facility_name"]) if x),
            label("ledger_problem", i["problem_type"], lang),
            label("ledger_status", i["status"], lang),
            i["deadline"],
            i["owner"] or "",
            str(i["recurrences"]),
        ]
        for i in list(attention.values())[:TOP_LEDGER]
    ]
    cols = ["id", "county", "facility", "problem", "status", "deadline", "owner", "recurrences"]
    return [by_county, (_t("ledger_attention", lang), [_t(c, lang) for c in cols], rows, None)]


TOP_LEDGER = 50


def _sections(r: Report, lang: str) -> list[tuple[str, list[str], list[list[str]], str | None]]:
    """(heading, column labels, rows, note) for each section, shared by both renderers."""
    title = "title_zh" if lang == "zh" else "title_en"
    out: list[tuple[str, list[str], list[list[str]], str | None]] = []
    if r.data_gaps:
        # Before any figure: what the data could not tell, so no figure is read without it.
        out.append((_t("gaps", lang), [_t("gap", lang)], [[g["message"][lang]] for g in r.data_gaps], None))
    out.append(
        (
            _t("data", lang, period=r.period),
            [_t("table", lang), _t("rows", lang)],
            [[n, f"{v:,}"] for n, v in r.rows.items()],
            _t("files_q", lang, files=r.files, q=sum(r.quarantined.values())),
        )
    )
    if not r.audited:
        out.append((_t("summary", lang), [], [], _t("no_audit", lang)))
        return out + _ledger(r, lang)
    by_class = "; ".join(f"{_t('class_' + c, lang)} {_num(t)}" for c, t in r.tonnes_at_risk_by_class.items())
    out.append(
        (
            _t("summary", lang),
            [_t("severity", lang), _t("count", lang)],
            [[s.label.say(lang), str(r.by_severity.get(s.value, 0))] for s in Severity.worst_first()],
            _t("total", lang, n=r.findings_total, t=_num(r.tonnes_at_risk), by_class=by_class),
        )
    )
    out.append(
        (
            _t("by_rule", lang),
            [
                _t("rule", lang),
                _t("name", lang),
                _t("severity", lang),
                _t("version", lang),
                _t("status", lang),
                _t("findings", lang),
                _t("tonnes", lang),
            ],
            [
                [
                    x.rule_id,
                    getattr(x, title),
                    Severity(x.severity).label.say(lang),
                    str(x.rule_version),
                    _t(f"status_{x.status}", lang)
                    + (f" ({x.reason})" if x.reason else "")
                    + (f" ({_t('unjudged', lang)}: {', '.join(x.unjudged_counties)})" if x.unjudged_counties else ""),
                    str(x.findings) if x.status == "ran" else "-",
                    _tonnes_cell(x.tonnes_at_risk, x.tonnes_role, lang) if x.status == "ran" else "",
                ]
                for x in r.rules
            ],
            _t("roles", lang),
        )
    )
    out.append(
        (
            _t("params", lang),
            [_t("rule", lang), _t("params", lang)],
            [[x.rule_id, _params(x.params)] for x in r.rules if x.params],
            _t("config", lang, file=r.config or _t("none", lang)),
        )
    )
    out.append(
        (
            _t("worst", lang),
            [
                _t("facility", lang),
                _t("name", lang),
                _t("kind", lang),
                _t("county", lang),
                _t("findings", lang),
                _t("worst_sev", lang),
                _t("at_risk_here", lang),
            ],
            [
                [
                    w["facility_id"],
                    w.get("name") or "",
                    w.get("kind") or "",
                    w.get("county") or "",
                    str(w["findings"]),
                    Severity(w["worst_severity"]).label.say(lang),
                    _num(w["tonnes_at_risk"]),
                ]
                for w in r.worst_facilities
            ],
            None,
        )
    )
    out.append(
        (
            _t("counties", lang),
            [_t("county", lang), _t("findings", lang), _t("worst_sev", lang), _t("at_risk_here", lang)],
            [
                [
                    c["county"] or _t("none", lang),
                    str(c["findings"]),
                    Severity(c["worst_severity"]).label.say(lang),
                    _num(c["tonnes_at_risk"]),
                ]
                for c in r.counties
            ],
            None,
        )
    )
    if r.unsourced:
        out.append(
            (
                _t("unsourced", lang),
                [
                    _t("facility", lang),
                    _t("name", lang),
                    _t("kind", lang),
                    _t("inflow", lang),
                    _t("outflow", lang),
                    _t("shortfall", lang),
                ],
                [
                    [
                        u["facility_id"],
                        u.get("name") or "",
                        u.get("kind") or "",
                        _num(u["inflow_t"]),
                        _num(u["outflow_t"]),
                        _num(u["unsourced_t"]),
                    ]
                    for u in r.unsourced
                ],
                None,
            )
        )
    out.append(
        (
            _t("list", lang, n=len(r.findings), total=r.findings_total),
            [
                _t("id", lang),
                _t("rule", lang),
                _t("severity", lang),
                _t("entity", lang),
                _t("facility", lang),
                _t("tonnes", lang),
                _t("evidence", lang),
            ],
            [
                [
                    f["finding_id"],
                    f"{f['rule_id']} v{f['rule_version']}: {f[title]}",
                    Severity(f["severity"]).label.say(lang),
                    f"{f['entity_kind']} {f['entity_id']}",
                    f"{f.get('facility_id') or ''} {f.get('facility_name') or ''}".strip(),
                    _tonnes_cell(f["tonnes_at_risk"], f["tonnes_role"], lang),
                    _refs(f["evidence"]),
                ]
                for f in r.findings
            ],
            None,
        )
    )
    return out + _ledger(r, lang)


# Markdown that data could use to become something else: a link or image (`[`, `]`, which also
# fetch a tracking pixel), code (`` ` ``), and the backslash that would undo an escape. Emphasis
# (`*`, `_`) is left alone: it changes no meaning, and ids like mine_over_capacity stay searchable.
_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`[]"})


def md_text(text: str) -> str:
    """Text from data as Markdown that renders exactly as that text: HTML escaped (no `<script>`,
    no `<img onerror>`), Markdown links and code defused, one line, and no `|` to end a table cell."""
    one_line = " ".join(text.splitlines())
    return html.escape(one_line, quote=False).translate(_MARKDOWN_SPECIAL).replace("|", "\\|")


def to_markdown(r: Report, lang: str) -> str:
    lines = [
        f"# {md_text(_t('title', lang, period=r.period))}",
        "",
        md_text(_t("meta", lang, db=r.db, at=r.generated_at.isoformat(sep=" "), version=r.version)),
        "",
    ]
    for heading, cols, rows, note in _sections(r, lang):
        lines += [f"## {md_text(heading)}", ""]
        if note:
            lines += [md_text(note), ""]
        if cols:
            lines.append("| " + " | ".join(map(md_text, cols)) + " |")
            lines.append("|" + "---|" * len(cols))
            lines += ["| " + " | ".join(map(md_text, row)) + " |" for row in rows]
            lines.append("")
    if r.credit:
        lines += ["---", "", md_text(r.credit), ""]
    return "\n".join(lines)


_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",system-ui,sans-serif;margin:2em auto;max-width:72em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:90%}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f2f2f2}
td.n{text-align:right;font-variant-numeric:tabular-nums}
footer{color:#666;font-size:85%;border-top:1px solid #ccc;margin-top:2em;padding-top:.5em}
"""


def to_html(r: Report, lang: str) -> str:
    esc = html.escape

    def td(s: str) -> str:
        numeric = s.replace(",", "").replace(".", "", 1).isdigit()
        return f"<td class=n>{esc(s)}</td>" if numeric else f"<td>{esc(s)}</td>"

    parts = [
        "<!doctype html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{esc(_t('title', lang, period=r.period))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(_t('title', lang, period=r.period))}</h1>",
        f"<p>{esc(_t('meta', lang, db=r.db, at=r.generated_at.isoformat(sep=' '), version=r.version))}</p>",
    ]
    for heading, cols, rows, note in _sections(r, lang):
        parts.append(f"<h2>{esc(heading)}</h2>")
        if note:
            parts.append(f"<p>{esc(note)}</p>")
        if cols:
            parts.append("<table><tr>" + "".join(f"<th>{esc(c)}</th>" for c in cols) + "</tr>")
            parts += ["<tr>" + "".join(td(c) for c in row) + "</tr>" for row in rows]
            parts.append("</table>")
    if r.credit:
        parts.append(f"<footer>{esc(r.credit)}</footer>")
    parts.append("</body></html>")
    return "\n".join(parts)
