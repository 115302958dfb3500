"""The county sheet's shape, shared by its export and its import: its columns, an item as a row, a cell read back.

The sheet (问题台账) has the columns counties keep (序号, 县区, 问题来源, 问题类型,
单位名称, 问题描述, 发现时间, 整改要求, 责任单位, 责任人, 整改时限, 整改状态,
核查人, 销号时间, then 现场核查 and 备注), and four columns that let the sheet come
back: the item id, its version, a check code and the database id. An item's
values by column are what the export writes and what the import compares an
edited row with; the cell readers (text, date, status) undo what a spreadsheet
does to a cell, for the import and for dates typed on the command line.
`coaltrace.ledger.sheet_export` writes the sheet; `coaltrace.ledger.sheet_import`
reads it back and applies the edits.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from coaltrace.export import spreadsheet_cell
from coaltrace.i18n import Text
from coaltrace.labels import LABELS, label
from coaltrace.ledger.model import Item, Status, checks_text
from coaltrace.ledger.queries import description, requirement

SHEET = Text("问题台账", "ledger")
INFO_SHEET = Text("说明", "about")


@dataclass(frozen=True)
class Column:
    key: str
    title: Text
    width: int


COLUMNS: tuple[Column, ...] = (
    Column("seq", Text("序号", "No."), 6),
    Column("county", Text("县区", "County"), 10),
    Column("source", Text("问题来源", "Source"), 11),
    Column("problem", Text("问题类型", "Problem type"), 20),
    Column("name", Text("单位名称", "Facility or place"), 26),
    Column("description", Text("问题描述", "Description"), 36),
    Column("found_on", Text("发现时间", "Found on"), 12),
    Column("requirement", Text("整改要求", "Rectification required"), 36),
    Column("unit", Text("责任单位", "Responsible unit"), 18),
    Column("owner", Text("责任人", "Responsible person"), 11),
    Column("deadline", Text("整改时限", "Deadline"), 12),
    Column("status", Text("整改状态", "Status"), 11),
    Column("signer", Text("核查人", "Signed by"), 11),
    Column("closed_on", Text("销号时间", "Closed on"), 12),
    Column("checks", Text("现场核查", "Field checks"), 28),
    Column("note", Text("备注", "Note"), 28),
    Column("item_id", Text("台账编号", "Item id"), 15),
    Column("version", Text("版本", "Version"), 6),
    Column("check_code", Text("校验码", "Check code"), 10),
    Column("database", Text("数据库编号", "Database id"), 34),
)
KEYS = tuple(c.key for c in COLUMNS)
DATES = ("found_on", "deadline", "closed_on")
# Columns only the ledger changes: an edit there is refused, not passed over.
FIXED = ("county", "source", "problem", "name", "description", "found_on")
EDITABLE = ("requirement", "unit", "owner", "deadline", "status", "signer", "closed_on", "checks", "note")


def check_code(db_id: str, item_id: str) -> str:
    """`K` and eight hex digits that fit one item id in one database: an edited id no longer fits its code.

    The letter keeps a spreadsheet from reading the code as a number (`00123456`, `1234e567`) when a
    county opens the CSV and saves it again."""
    return "K" + hashlib.sha256(f"{db_id}|{item_id}".encode()).hexdigest()[:8].upper()


def _name(item: Item, lang: str) -> str:
    if item.facility_name:
        return item.facility_name
    if item.subject_kind == "place":
        return item.subject_id
    return f"{label('entity', item.subject_kind, lang)} {item.subject_id}"


def sheet_values(item: Item, lang: str, db_id: str, found: Mapping[str, Text]) -> dict[str, Any]:
    """An item as a row of the sheet (before spreadsheet safety): text, dates and numbers by column key."""
    return {
        "county": item.county or "",
        "source": label("ledger_source", item.source.value, lang),
        "problem": label("ledger_problem", item.problem_type, lang),
        "name": _name(item, lang),
        "description": description(item, found, lang),
        "found_on": item.found_on,
        "requirement": requirement(item, lang),
        "unit": item.unit or "",
        "owner": item.owner or "",
        "deadline": item.deadline,
        "status": label("ledger_status", item.status.value, lang),
        "signer": item.signer or "",
        "closed_on": item.closed_on,
        "checks": checks_text(item.field_checks, lang),
        "note": item.note or "",
        "item_id": item.item_id,
        "version": item.version,
        "check_code": check_code(db_id, item.item_id),
        "database": db_id,
    }


# --- reading a cell back: what the sheet shows, as the ledger holds it ---


def cell_text(value: Any) -> str:
    """A cell as the text it shows, without the quote `spreadsheet_cell` put before formula-like text."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text.startswith("'") and text[1:2] and spreadsheet_cell(text[1:]) == text:
        return text[1:]
    return text


_DATE_FORMS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")


def cell_date(value: Any) -> date | None:
    """A date cell: a date, an Excel serial day, or text in the usual forms; ValueError otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and 20000 < value < 80000:
        return date(1899, 12, 30) + timedelta(days=int(value))
    text = cell_text(value).split(" ")[0].split("T")[0]
    for form in _DATE_FORMS:
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    raise ValueError(text)


def cell_status(text: str) -> Status:
    word = text.strip().lower()
    for code, t in LABELS["ledger_status"].items():
        if word in (code, t.zh, t.en.lower()):
            return Status(code)
    raise ValueError(text)


def same_text(cell: str, *expected: str) -> bool:
    squash = re.compile(r"\s+")
    return squash.sub(" ", cell).strip() in {squash.sub(" ", e).strip() for e in expected}
