"""The audit report as Markdown and as one self-contained HTML page (no script, no CDN).

Both say the same things, in the language asked for; every finding lists the
source rows (file and line) an inspector can open to check it by hand.
"""

from __future__ import annotations

import html
import json
from typing import Any

from coaltrace.i18n import say
from coaltrace.report.model import Report

L = {
    "title": ("煤炭来源审计报告 {period}", "Coal provenance audit {period}"),
    "meta": ("数据库 {db}；生成于 {at}；coaltrace {version}", "database {db}; generated {at}; coaltrace {version}"),
    "data": ("载入数据", "Data loaded"),
    "table": ("表", "table"),
    "rows": ("行数", "rows"),
    "files_q": (
        "共 {files} 个文件；{q} 行无法读取已隔离。",
        "{files} files; {q} rows could not be read and are in quarantine.",
    ),
    "summary": ("审计结果", "Findings"),
    "severity": ("严重程度", "severity"),
    "count": ("数量", "count"),
    "total": ("共 {n} 条问题线索，涉及 {t} 吨。", "{n} findings, {t} t at risk."),
    "by_rule": ("按规则", "By rule"),
    "rule": ("规则", "rule"),
    "name": ("名称", "name"),
    "version": ("版本", "version"),
    "findings": ("问题数", "findings"),
    "tonnes": ("涉及吨数", "tonnes at risk"),
    "worst": ("问题最多的单位", "Facilities with most at stake"),
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
    "sev_critical": ("严重", "critical"),
    "sev_high": ("高", "high"),
    "sev_medium": ("中", "medium"),
    "sev_low": ("低", "low"),
}
SEVERITIES = ("critical", "high", "medium", "low")


def _t(key: str, lang: str, **kw: object) -> str:
    return say(L, key, lang, **kw)


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:,.1f}"


def _refs(evidence: Any, limit: int = 3) -> str:
    ev = json.loads(evidence) if isinstance(evidence, str) else (evidence or {})
    rows = ev.get("rows", [])
    refs = [f"{r.get('_file')}:{r.get('_line')}" for r in rows[:limit] if r.get("_file")]
    more = int(ev.get("total_rows", len(rows))) - len(refs)
    return ", ".join(refs) + (f" (+{more})" if more > 0 and refs else "")


def _sections(r: Report, lang: str) -> list[tuple[str, list[str], list[list[str]], str | None]]:
    """(heading, column labels, rows, note) for each section, shared by both renderers."""
    title = "title_zh" if lang == "zh" else "title_en"
    out: list[tuple[str, list[str], list[list[str]], str | None]] = []
    out.append(
        (
            _t("data", lang),
            [_t("table", lang), _t("rows", lang)],
            [[n, f"{v:,}"] for n, v in r.rows.items()],
            _t("files_q", lang, files=r.files, q=sum(r.quarantined.values())),
        )
    )
    if not r.rules and not r.findings_total:
        out.append((_t("summary", lang), [], [], _t("no_audit", lang)))
        return out
    out.append(
        (
            _t("summary", lang),
            [_t("severity", lang), _t("count", lang)],
            [[_t(f"sev_{s}", lang), str(r.by_severity.get(s, 0))] for s in SEVERITIES],
            _t("total", lang, n=r.findings_total, t=_num(r.tonnes_at_risk)),
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
                _t("findings", lang),
                _t("tonnes", lang),
            ],
            [
                [
                    x.rule_id,
                    getattr(x, title),
                    _t(f"sev_{x.severity}", lang),
                    str(x.rule_version),
                    str(x.findings),
                    _num(x.tonnes_at_risk),
                ]
                for x in r.rules
            ],
            None,
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
                _t("tonnes", lang),
                _t("rules", lang),
            ],
            [
                [
                    w["facility_id"],
                    w.get("name") or "",
                    w.get("kind") or "",
                    w.get("county") or "",
                    str(w["findings"]),
                    _num(w["tonnes_at_risk"]),
                    w["rules"],
                ]
                for w in r.worst_facilities
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
                    _t(f"sev_{f['severity']}", lang),
                    f"{f['entity_kind']} {f['entity_id']}",
                    f.get("facility_id") or "",
                    _num(f["tonnes_at_risk"]),
                    _refs(f["evidence"]),
                ]
                for f in r.findings
            ],
            None,
        )
    )
    return out


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
