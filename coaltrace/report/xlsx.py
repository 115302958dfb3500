"""The report as a workbook, for people who live in Excel.

Sheets: the summary (headline figures, severities, data gaps, every rule with its
status and parameters), the findings in Chinese (or English) columns with names
and titles, their evidence one source row per line (file and line kept), the flows
that carried coal at risk, and the ledger when there is one.

Every id, code and period is written as text in a text-formatted cell, so `2021-12`
stays a period and `0012` keeps its zeros; every text cell passes through
`coaltrace.export.spreadsheet_cell`, so a facility named `=HYPERLINK(...)` stays text.
Headers are frozen and filtered, columns sized, and each sheet prints landscape on A4
with its header row on every page.
"""

from __future__ import annotations

import io
import json
from collections.abc import Collection, Sequence
from typing import Any

from coaltrace.export import spreadsheet_cell
from coaltrace.i18n import catalogue
from coaltrace.labels import label
from coaltrace.numbers import decimals_for
from coaltrace.report.ledger import ledger_sections
from coaltrace.report.model import Report
from coaltrace.severity import Severity

X = catalogue(
    {
        "summary": ("汇总", "Summary"),
        "findings": ("问题线索", "Findings"),
        "evidence": ("证据", "Evidence"),
        "flows": ("涉险流向", "Flows at risk"),
        "item": ("项目", "item"),
        "value": ("数值", "value"),
        "period": ("期间", "period"),
        "generated": ("生成时间", "generated"),
        "traced": ("追溯吨数（到达终端买方）", "tonnes traced (reached an end buyer)"),
        "licensed_share": ("合法来源占比", "share with a licensed source"),
        "at_risk": ("涉险煤炭吨数（按源头只计一次）", "coal at risk, tonnes counted once"),
        "at_risk_class": ("其中：{label}", "of which: {label}"),
        "findings_total": ("问题线索总数", "findings"),
        "severity_n": ("{label}级问题", "{label} findings"),
        "previous": ("上一审计期间", "previous audited period"),
        "previous_findings": ("上一期间问题数", "findings then"),
        "previous_tonnes": ("上一期间涉险吨数", "tonnes at risk then"),
        "gap": ("数据缺口", "data gap"),
        "no_gaps": ("无", "none"),
        "rules_head": ("各规则", "every rule"),
        "rule_id": ("规则编号", "rule id"),
        "rule_title": ("规则名称", "rule"),
        "rule_version": ("规则版本", "rule version"),
        "severity": ("严重程度", "severity"),
        "status": ("状态", "status"),
        "reason": ("原因", "reason"),
        "n_findings": ("问题数", "findings"),
        "tonnes": ("涉险吨数", "tonnes at risk"),
        "tonnes_role": ("吨数性质", "what the tonnes are"),
        "params": ("参数", "parameters"),
        "finding_id": ("问题编号", "finding id"),
        "entity_kind": ("对象类型", "entity kind"),
        "entity_id": ("对象编号", "entity id"),
        "facility_id": ("单位编码", "facility id"),
        "facility_name": ("单位名称", "facility"),
        "facility_kind": ("单位类型", "facility kind"),
        "county": ("县区", "county"),
        "origin_class": ("来源类别", "origin class"),
        "evidence_rows": ("证据行数", "evidence rows"),
        "false_positives": ("可能的误报", "known false positives"),
        "table": ("表", "table"),
        "file": ("文件", "file"),
        "sheet": ("工作表", "sheet"),
        "line": ("行号", "line"),
        "record": ("记录内容", "record"),
        "seller_id": ("卖方编码", "seller id"),
        "seller_name": ("卖方名称", "seller"),
        "seller_kind": ("卖方类型", "seller kind"),
        "seller_county": ("卖方县区", "seller county"),
        "buyer_id": ("买方编码", "buyer id"),
        "buyer_name": ("买方名称", "buyer"),
        "buyer_kind": ("买方类型", "buyer kind"),
        "flow_tonnes": ("流量吨数", "tonnes"),
        "trips": ("车次", "trips"),
        "at_risk_share": ("涉险占比", "share at risk"),
        "carried": ("携带涉险吨数（不重复计）", "carried at risk, tonnes (not added)"),
        "flagged": ("已列问题", "flagged"),
        "yes": ("是", "yes"),
        "no": ("否", "no"),
    }
)

# Widths in characters; a Chinese character takes about two.
_WIDE, _MID, _NARROW = 40, 20, 11
_TEXT = "@"


def to_xlsx(r: Report, lang: str) -> bytes:
    """The workbook of report R in LANG, as the bytes of an .xlsx file."""
    from openpyxl import Workbook

    def t(key: str, **values: object) -> str:
        return X[key].say(lang, **values)

    title = "title_zh" if lang == "zh" else "title_en"
    wb = Workbook()
    summary = wb.active
    summary.title = t("summary")
    rows: list[list[Any]] = [
        [t("period"), r.period],
        [t("generated"), r.generated_at.isoformat(sep=" ")],
        [t("traced"), r.tonnes_traced],
        [t("licensed_share"), r.licensed_share],
        [t("at_risk"), r.tonnes_at_risk],
        *[[t("at_risk_class", label=label("origin_class", c, lang)), v] for c, v in r.tonnes_at_risk_by_class.items()],
        [t("findings_total"), r.findings_total],
        *[[t("severity_n", label=s.label.say(lang)), r.by_severity.get(s.value, 0)] for s in Severity.worst_first()],
    ]
    if r.previous:
        rows += [
            [t("previous"), r.previous.period],
            [t("previous_findings"), r.previous.findings],
            [t("previous_tonnes"), r.previous.tonnes_at_risk],
        ]
    rows += [[t("gap"), g["message"][lang]] for g in r.data_gaps] or [[t("gap"), t("no_gaps")]]
    _sheet(summary, [t("item"), t("value")], rows, [_WIDE, _WIDE * 2])
    # The rules under the figures, with their own header row.
    start = summary.max_row + 2
    heads = ["rule_id", "rule_title", "rule_version", "severity", "status", "reason", "n_findings", "tonnes"]
    heads += ["tonnes_role", "params"]
    summary.append([])
    summary.append([t(h) for h in heads])
    _header_row(summary, start)
    for x in r.rules:
        summary.append(
            _cells(
                [
                    x.rule_id,
                    x.title_zh if lang == "zh" else x.title_en,
                    x.rule_version,
                    Severity(x.severity).label.say(lang),
                    label("rule_status", x.status, lang),
                    x.reason,
                    x.findings,
                    x.tonnes_at_risk,
                    label("tonnes_role", x.tonnes_role, lang),
                    ", ".join(f"{k} = {v}" for k, v in x.params.items()),
                ],
                [None, None, None, None, None, None, None, "tonnes"],
            )
        )
    for row in summary.iter_rows(min_row=start + 1):
        for cell in row:
            if isinstance(cell.value, str):
                cell.number_format = _TEXT

    fps = {x.rule_id: "；".join(fp[lang] for fp in x.false_positives) for x in r.rules}
    f_cols = ["finding_id", "rule_id", "rule_title", "severity", "entity_kind", "entity_id", "facility_id"]
    f_cols += ["facility_name", "facility_kind", "county", "period", "tonnes", "tonnes_role", "origin_class"]
    f_cols += ["evidence_rows", "false_positives"]
    _sheet(
        wb.create_sheet(t("findings")),
        [t(c) for c in f_cols],
        [
            [
                f["finding_id"],
                f["rule_id"],
                f[title],
                Severity(f["severity"]).label.say(lang),
                label("entity", f["entity_kind"], lang),
                f["entity_id"],
                f["facility_id"],
                f["facility_name"],
                label("facility_kind", f["facility_kind"], lang),
                f["county"],
                f["period"],
                f["tonnes_at_risk"],
                label("tonnes_role", f["tonnes_role"], lang),
                label("origin_class", f["origin_class"], lang),
                int((f["evidence"] or {}).get("total_rows", len((f["evidence"] or {}).get("rows", [])))),
                fps.get(f["rule_id"], ""),
            ]
            for f in r.findings
        ],
        [_MID, _MID, _WIDE, _NARROW, _NARROW, _MID, _MID, _WIDE, _NARROW, _NARROW, _NARROW, 14, 16, 16, 10, _WIDE],
        text_columns={0, 1, 5, 6, 10},
        names=[None] * 11 + ["tonnes"],
    )

    ev_cols = ["finding_id", "rule_id", "facility_id", "table", "file", "sheet", "line", "record"]
    _sheet(
        wb.create_sheet(t("evidence")),
        [t(c) for c in ev_cols],
        [
            [
                f["finding_id"],
                f["rule_id"],
                f["facility_id"],
                row.get("_table"),
                row.get("_file"),
                row.get("_sheet"),
                row.get("_line"),
                _record(row),
            ]
            for f in r.findings
            for row in (f["evidence"] or {}).get("rows", [])
        ],
        [_MID, _MID, _MID, _NARROW, 28, _NARROW, 8, 80],
        text_columns={0, 1, 2, 3, 4, 5},
    )

    fl_cols = ["seller_id", "seller_name", "seller_kind", "seller_county", "buyer_id", "buyer_name", "buyer_kind"]
    fl_cols += ["flow_tonnes", "trips", "at_risk_share", "carried", "flagged"]
    _sheet(
        wb.create_sheet(t("flows")),
        [t(c) for c in fl_cols],
        [
            [
                f["seller_id"],
                f["seller_name"],
                label("facility_kind", f["seller_kind"], lang),
                f["seller_county"],
                f["buyer_id"],
                f["buyer_name"],
                label("facility_kind", f["buyer_kind"], lang),
                f["tonnes"],
                f["trips"],
                f["at_risk_share"],
                f["carried_at_risk_t"],
                t("yes") if f["flagged"] else t("no"),
            ]
            for f in r.flows_at_risk
        ],
        [_MID, _WIDE, _NARROW, _NARROW, _MID, _WIDE, _NARROW, 14, 8, 12, 18, 8],
        text_columns={0, 4},
        names=[None] * 7 + ["tonnes", None, "share", "tonnes"],
    )
    for sec in ledger_sections(r.ledger, lang):
        if not sec.rows:
            continue
        _sheet(
            wb.create_sheet(sec.heading[:31]),
            sec.columns,
            sec.rows,
            [_MID] * len(sec.columns),
            text_columns={i for i, v in enumerate(sec.rows[0]) if isinstance(v, str)},
            names=[None] * len(sec.columns),
        )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _record(row: dict[str, Any]) -> str:
    """The evidence row's own fields (not where it came from), one `name: value` after another."""
    shown = {k: v for k, v in row.items() if not k.startswith("_")}
    return "; ".join(
        f"{k}: {json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v}" for k, v in shown.items()
    )


def _cells(values: Sequence[Any], names: Sequence[str | None] | None = None) -> list[Any]:
    """Each value as a safe cell: numbers rounded as measured (by the column's name), text formula-safe,
    and a control character (which a workbook cannot hold: an escape sequence in a name) shown as its code."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    out = []
    for i, v in enumerate(values):
        name = names[i] if names and i < len(names) else None
        if isinstance(v, float) and name:
            v = round(v, decimals_for(name))
        v = spreadsheet_cell(v)
        if isinstance(v, str):
            v = ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", v)
        out.append(v)
    return out


def _header_row(ws: Any, row: int) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    for cell in ws[row]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="F0F0F0")
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _sheet(
    ws: Any,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths: Sequence[int],
    *,
    text_columns: Collection[int] = (),
    names: Sequence[str | None] | None = None,
) -> None:
    """Fill WS: a frozen, filtered header; text cells typed and formatted as text; widths; print setup."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.page import PageMargins

    ws.append(_cells(header))
    _header_row(ws, 1)
    for values in rows:
        cells = _cells(values, names)
        ws.append([str(c) if i in text_columns and c is not None else c for i, c in enumerate(cells)])
    # Text stays text when someone edits the cell: Excel would turn a typed 2021-12 into a date.
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.number_format = _TEXT
    for i, w in enumerate(widths[: len(header)], start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(ws.max_row, 1)}"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5)
