"""Counties work in Excel: the ledger written as the sheet they use.

`export_sheet` writes the 台账 in the columns of `coaltrace.ledger.sheets`. XLSX
has its header frozen, filters, column widths and a print setup (A4 landscape,
one page wide, the header on every page); CSV is UTF-8 with a BOM. Every cell
goes through `coaltrace.export.spreadsheet_cell`; the file is written whole or
not at all. `workbook` builds such an XLSX for other lists too (the spot check).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from coaltrace.engine import Engine
from coaltrace.export import spreadsheet_cell, write_csv
from coaltrace.files import write_whole
from coaltrace.i18n import Text
from coaltrace.ledger.chain import head
from coaltrace.ledger.queries import ItemFilter, find, require_ledger, titles
from coaltrace.ledger.schema import database_id
from coaltrace.ledger.sheets import COLUMNS, DATES, INFO_SHEET, KEYS, SHEET, sheet_values
from coaltrace.ledger.workflow import now


@dataclass(frozen=True)
class Exported:
    path: Path
    items: int
    database_id: str
    head: str | None


def workbook(
    title: str,
    headers: list[str],
    rows: list[list[Any]],
    widths: list[int],
    *,
    date_columns: Sequence[int] = (),
    wrap_columns: Sequence[int] = (),
    notes: Sequence[tuple[str, str]] = (),
    notes_title: str = "",
    print_title: str = "",
) -> bytes:
    """An XLSX a county can work in and print: frozen header, filters, widths, A4 landscape one page wide."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    ws.append([spreadsheet_cell(h) for h in headers])
    for values in rows:
        ws.append([spreadsheet_cell(v) if not isinstance(v, date) else v for v in values])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE5F0")
    for cell in ws[1]:
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for i in date_columns:
        for (cell,) in ws.iter_rows(min_row=2, min_col=i + 1, max_col=i + 1):
            cell.number_format = "yyyy-mm-dd"
    for i in wrap_columns:
        for (cell,) in ws.iter_rows(min_row=2, min_col=i + 1, max_col=i + 1):
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    last = get_column_letter(len(headers))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{last}{max(1, len(rows) + 1)}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    ws.print_options.gridLines = True
    ws.oddHeader.center.text = spreadsheet_cell(print_title or title)
    ws.oddFooter.center.text = "&P / &N"
    if notes:
        info = wb.create_sheet(notes_title or "notes")
        for key, value in notes:
            info.append([spreadsheet_cell(key), spreadsheet_cell(value)])
        info.column_dimensions["A"].width = 18
        info.column_dimensions["B"].width = 90
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_sheet(engine: Engine, path: Path, *, fmt: str, lang: str, where: ItemFilter) -> Exported:
    """Write the items WHERE leaves to PATH as the county sheet (xlsx or csv)."""
    require_ledger(engine)
    db_id = database_id(engine)
    assert db_id is not None
    items = find(engine, where)
    found = titles(engine)
    columns = [c.title.say(lang) for c in COLUMNS]
    rows = []
    for n, item in enumerate(items, start=1):
        values = sheet_values(item, lang, db_id, found)
        values["seq"] = n
        rows.append([values[k] for k in KEYS])
    kept = head(engine)
    chain_head = kept[1] if kept else None
    if fmt == "csv":
        buf = io.StringIO()
        write_csv(
            [dict(zip(columns, (v.isoformat() if isinstance(v, date) else v for v in r), strict=True)) for r in rows],
            columns,
            buf,
        )
        # UTF-8 with a BOM: Excel opens it as UTF-8, not as the system's code page.
        write_whole(path, ("\ufeff" + buf.getvalue()).encode("utf-8"))
    else:
        notes = [
            (Text("数据库编号", "database id").say(lang), db_id),
            (Text("导出时间", "exported at").say(lang), now().isoformat(sep=" ")),
            (Text("事项数", "items").say(lang), str(len(items))),
            (Text("历史链末端哈希", "history chain head").say(lang), chain_head or ""),
            (Text("填写说明", "how to fill in").say(lang), HOW_TO.say(lang)),
        ]
        data = workbook(
            SHEET.say(lang),
            columns,
            rows,
            [c.width for c in COLUMNS],
            date_columns=[KEYS.index(k) for k in DATES],
            wrap_columns=[KEYS.index(k) for k in ("description", "requirement", "checks", "note")],
            notes=notes,
            notes_title=INFO_SHEET.say(lang),
            print_title=Text("问题台账", "Problem ledger").say(lang),
        )
        write_whole(path, data)
    return Exported(path, len(items), db_id, chain_head)


HOW_TO = Text(
    "可修改：整改状态、责任单位、责任人、整改时限、整改要求、核查人、销号时间、现场核查、备注；其余各列由台账维护，请勿修改。"
    "整改状态每次只能前进一步（待交办→已交办→整改中→已核查→已销号，或已排除）；销号和排除须填写核查人和备注。"
    "现场核查按“序号 结果 说明”逐项填写，用分号分隔，如“2 未发现问题；5 发现问题 院内有筛分机；8 未查 无人在场”。"
    "台账编号、版本、校验码、数据库编号四列用于导入核对，请勿修改。改好后用 coaltrace ledger import 文件 --as 姓名 导入。",
    "You may change: status, responsible unit and person, deadline, requirement, signer, closing date, field checks "
    "and note; the other columns belong to the ledger. A status moves one step at a time (open → assigned → "
    "rectifying → verified → closed, or dismissed); closing and dismissing need the signer and a note. Field checks "
    "are written 'number result note', separated by semicolons, e.g. '2 clear; 5 found crusher in the yard; "
    "8 not_done nobody there'. Do not change the item id, version, check code or database id: they bring the sheet "
    "back. Import it with `coaltrace ledger import FILE --as NAME`.",
)
