"""The spot check's checklist: one XLSX to work in and one HTML page to print, for the supervision group.

Both list the drawn items with what the county reported (status, who is
responsible, the deadline, who signed, when it was closed) and empty columns
for what the city's inspector finds. Every cell of the workbook goes through
`spreadsheet_cell`; every text of the page is escaped; the page needs no
network (no script, no font, no image from elsewhere).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from coaltrace.engine import Engine
from coaltrace.files import output_dir, write_whole
from coaltrace.i18n import Text
from coaltrace.labels import label
from coaltrace.ledger.queries import description, titles
from coaltrace.ledger.sampling import Sample
from coaltrace.ledger.sheet_export import workbook

COLUMNS: tuple[tuple[Text, int], ...] = (
    (Text("序号", "No."), 6),
    (Text("县区", "County"), 10),
    (Text("台账编号", "Item id"), 15),
    (Text("单位名称", "Facility or place"), 26),
    (Text("问题类型", "Problem type"), 20),
    (Text("严重程度", "Severity"), 8),
    (Text("问题描述", "Description"), 34),
    (Text("问题来源", "Source"), 10),
    (Text("整改状态", "Status"), 10),
    (Text("责任单位", "Responsible unit"), 16),
    (Text("责任人", "Responsible person"), 10),
    (Text("整改时限", "Deadline"), 12),
    (Text("县级核查人", "County signer"), 10),
    (Text("销号时间", "Closed on"), 12),
    (Text("抽查结果", "Spot-check result"), 16),
    (Text("抽查意见", "Remarks"), 24),
    (Text("抽查人签字", "Inspector's signature"), 14),
)
TITLE = Text("市级抽查清单 {sample_id}", "City spot-check list {sample_id}")
META = Text(
    "抽样编号 {sample_id}；随机种子 {seed}；抽查比例 {rate:.0%}（各县区按严重程度分层，不少于该比例，严重问题全部抽取）；"
    "共 {population} 项，抽取 {drawn} 项；抽取人 {drawn_by}；抽取时间 {drawn_at}。",
    "Sample {sample_id}; seed {seed}; rate {rate:.0%} (per county and severity, at least that share, every critical "
    "item); {drawn} of {population} items drawn by {drawn_by} at {drawn_at}.",
)
COUNTY = Text("{county}：{population} 项中抽取 {drawn} 项", "{county}: {drawn} of {population} items")
SIGN = Text("抽查人（签字）：__________  日期：__________", "Inspector (signature): __________  Date: __________")


def _rows(engine: Engine, sample: Sample, lang: str) -> list[list[Any]]:
    found = titles(engine)
    rows: list[list[Any]] = []
    ordered = sorted(sample.items, key=lambda i: (i.county or "\uffff", i.item_id))
    for n, i in enumerate(ordered, start=1):
        rows.append(
            [
                n,
                i.county or "",
                i.item_id,
                i.facility_name or i.subject_id,
                label("ledger_problem", i.problem_type, lang),
                label("severity", i.severity, lang),
                description(i, found, lang),
                label("ledger_source", i.source.value, lang),
                label("ledger_status", i.status.value, lang),
                i.unit or "",
                i.owner or "",
                i.deadline,
                i.signer or "",
                i.closed_on,
                "",
                "",
                "",
            ]
        )
    return rows


def _meta(sample: Sample, lang: str) -> str:
    return META.say(
        lang,
        sample_id=sample.sample_id,
        seed=sample.seed,
        rate=sample.rate,
        population=sample.population,
        drawn=len(sample.items),
        drawn_by=sample.drawn_by,
        drawn_at=sample.drawn_at.isoformat(sep=" "),
    )


def write_checklist(engine: Engine, sample: Sample, outdir: Path, lang: str) -> list[Path]:
    """OUTDIR/spot-check-<sample id>.xlsx and .html; returns their paths."""
    output_dir(outdir)
    rows = _rows(engine, sample, lang)
    headers = [t.say(lang) for t, _ in COLUMNS]
    title = TITLE.say(lang, sample_id=sample.sample_id)
    counties = [
        COUNTY.say(lang, county=c["county"] or "-", population=c["population"], drawn=c["drawn"])
        for c in sample.by_county()
    ]
    xlsx = outdir / f"spot-check-{sample.sample_id}.xlsx"
    write_whole(
        xlsx,
        workbook(
            Text("抽查清单", "spot check").say(lang),
            headers,
            rows,
            [w for _, w in COLUMNS],
            date_columns=[11, 13],
            wrap_columns=[6, 15],
            notes=[(Text("说明", "about").say(lang), _meta(sample, lang)), *[("", c) for c in counties]],
            notes_title=Text("说明", "about").say(lang),
            print_title=title,
        ),
    )
    page = outdir / f"spot-check-{sample.sample_id}.html"
    write_whole(page, _html(title, _meta(sample, lang), counties, headers, rows, lang).encode("utf-8"))
    return [xlsx, page]


_CSS = """
@page{size:A4 landscape;margin:12mm}
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",system-ui,sans-serif;font-size:10pt;color:#000;margin:0 auto}
h1{font-size:14pt;margin:0 0 .4em}
p{margin:.2em 0}
table{border-collapse:collapse;width:100%;margin:.6em 0}
th,td{border:1px solid #444;padding:2px 4px;text-align:left;vertical-align:top}
th{background:#eee}
thead{display:table-header-group}
tr{page-break-inside:avoid}
td.blank{min-width:6em}
.sign{margin-top:2em}
"""


def _html(title: str, meta: str, counties: list[str], headers: list[str], rows: list[list[Any]], lang: str) -> str:
    esc = html.escape
    blanks = {len(headers) - 3, len(headers) - 2, len(headers) - 1}

    def cell(i: int, v: Any) -> str:
        text = "" if v is None else v.isoformat() if hasattr(v, "isoformat") else str(v)
        return f'<td class="blank">{esc(text)}</td>' if i in blanks else f"<td>{esc(text)}</td>"

    body = "\n".join("<tr>" + "".join(cell(i, v) for i, v in enumerate(r)) + "</tr>" for r in rows)
    return "\n".join(
        [
            "<!doctype html>",
            f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
            f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
            f"<h1>{esc(title)}</h1>",
            f"<p>{esc(meta)}</p>",
            *(f"<p>{esc(c)}</p>" for c in counties),
            "<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in headers) + "</tr></thead>",
            f"<tbody>\n{body}\n</tbody></table>",
            f'<p class="sign">{esc(SIGN.say(lang))}</p>',
            "</body></html>",
        ]
    )
