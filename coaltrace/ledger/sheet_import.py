"""A county's edited sheet read back and its edits applied through the ledger's workflow.

`import_sheet` reads a sheet `ledger export` wrote (XLSX, or CSV in UTF-8 or
GB18030 as Excel saves it) and applies the edited status, people, deadline,
requirement, signer, closing date, field checks and notes through the same
workflow checks as the command line. It refuses a sheet from another database,
wrong or missing columns, an edited item id (its check code no longer fits), an
item the ledger does not have, a row given twice, and an edit to a column that
only the ledger changes; an item changed in the ledger since the export is a
conflict, reported and not overwritten. Nothing is applied unless every row can be.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from coaltrace.config import LedgerSettings
from coaltrace.engine import Engine
from coaltrace.errors import CoaltraceError, InputFileError, Location, UsageError
from coaltrace.i18n import Text
from coaltrace.labels import LABELS
from coaltrace.ledger.chain import commit, load_items, state_at
from coaltrace.ledger.model import Entry, Item, Status, parse_checks
from coaltrace.ledger.queries import REQUIREMENTS, require_ledger, titles
from coaltrace.ledger.schema import database_id
from coaltrace.ledger.sheets import (
    COLUMNS,
    DATES,
    FIXED,
    KEYS,
    SHEET,
    cell_date,
    cell_status,
    cell_text,
    check_code,
    same_text,
    sheet_values,
)
from coaltrace.ledger.workflow import Update, now, update


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str | None
    en: str
    zh: str
    item_id: str | None = None


@dataclass
class Imported:
    path: Path
    rows: int = 0
    unchanged: int = 0
    applied: list[dict[str, Any]] = field(default_factory=list)  # item_id, fields changed, status move
    dry_run: bool = False

    def as_record(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "rows": self.rows,
            "unchanged": self.unchanged,
            "applied": self.applied,
            "dry_run": self.dry_run,
        }


_HEADERS = {t: c.key for c in COLUMNS for t in (c.title.zh, c.title.en, c.title.en.lower(), c.key)}


def _header_key(text: Any) -> str | None:
    word = re.sub(r"\s+", "", str(text or "")).strip()
    return _HEADERS.get(word) or _HEADERS.get(word.lower()) or _HEADERS.get(str(text or "").strip())


def _read_rows(path: Path) -> tuple[list[Any], list[tuple[int, list[Any]]]]:
    """The header and the (line, cells) of every non-empty row of the sheet's first (or ledger) sheet."""
    if not path.is_file():
        raise UsageError(f"no file at {path}", zh=f"{path} 处没有文件")
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            from openpyxl import load_workbook

            wb = load_workbook(path, read_only=True, data_only=True)
            names = wb.sheetnames
            ws = wb[next((n for n in names if n in (SHEET.zh, SHEET.en)), names[0])]
            table = [list(r) for r in ws.iter_rows(values_only=True)]
            wb.close()
        elif suffix in (".csv", ".txt"):
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = raw.decode("gb18030")
            table = [list(r) for r in csv.reader(io.StringIO(text))]
        else:
            raise InputFileError(
                f"{path}: a ledger sheet is .xlsx or .csv",
                zh=f"{path}：台账表须为 .xlsx 或 .csv 文件",
                location=Location(file=str(path)),
            )
    except CoaltraceError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, KeyError) as e:
        raise InputFileError(
            f"cannot read {path} as a ledger sheet: {e}",
            zh=f"无法读取台账表 {path}：{e}",
            location=Location(file=str(path)),
        ) from None
    except Exception as e:  # openpyxl raises many kinds on a damaged workbook
        raise InputFileError(
            f"cannot read {path} as a ledger sheet: {type(e).__name__}: {e}",
            zh=f"无法读取台账表 {path}：{type(e).__name__}：{e}",
            location=Location(file=str(path)),
        ) from None
    if not table:
        raise InputFileError(f"{path} is empty", zh=f"{path} 是空文件", location=Location(file=str(path)))
    body = [(n, r) for n, r in enumerate(table[1:], start=2) if any(str(c).strip() for c in r if c is not None)]
    return table[0], body


@dataclass
class _Row:
    line: int
    cells: dict[str, Any]


def _columns(header: list[Any]) -> tuple[dict[str, int], list[str], list[str]]:
    keys: dict[str, int] = {}
    unknown: list[str] = []
    twice: list[str] = []
    for i, cell in enumerate(header):
        if cell is None or not str(cell).strip():
            continue
        key = _header_key(cell)
        if key is None:
            unknown.append(str(cell))
        elif key in keys:
            twice.append(str(cell))
        else:
            keys[key] = i
    return keys, unknown, twice


def import_sheet(
    engine: Engine,
    path: Path,
    *,
    actor: str,
    settings: LedgerSettings,
    today: date | None = None,
    dry_run: bool = False,
) -> Imported:
    """Apply the edits in the sheet at PATH, all or none. Call inside a transaction."""
    require_ledger(engine)
    today = today or date.today()
    where = Location(file=str(path))
    header, body = _read_rows(path)
    keys, unknown, twice = _columns(header)
    missing = [c for c in COLUMNS if c.key not in keys and c.key != "seq"]
    if unknown or twice or missing:
        details, details_zh = [], []
        if missing:
            details.append("missing: " + ", ".join(f"{c.title.zh} ({c.title.en})" for c in missing))
            details_zh.append("缺少：" + "、".join(c.title.zh for c in missing))
        if unknown:
            details.append("not a ledger column: " + ", ".join(unknown))
            details_zh.append("不是台账的列：" + "、".join(unknown))
        if twice:
            details.append("given twice: " + ", ".join(twice))
            details_zh.append("重复的列：" + "、".join(twice))
        raise InputFileError(
            "the sheet's columns are not the ledger's",
            zh="该表的列与问题台账不符",
            location=where,
            details=details,
            details_zh=details_zh,
            hint="Export the ledger (`coaltrace ledger export`), edit that sheet and import it; keep its columns.",
            hint_zh="请先导出台账（coaltrace ledger export），在导出的表上修改后导入，不要增删列。",
        )
    rows = [_Row(line, {k: (cells[i] if i < len(cells) else None) for k, i in keys.items()}) for line, cells in body]
    db_id = database_id(engine)
    assert db_id is not None
    others = sorted({cell_text(r.cells["database"]) for r in rows} - {db_id})
    if others:
        raise InputFileError(
            f"the sheet was exported from another database ({', '.join(o or '(none)' for o in others)}; this is {db_id})",
            zh=f"该表导出自另一个数据库（{'、'.join(o or '（空）' for o in others)}；本库为 {db_id}）",
            location=where,
            hint="Import a sheet into the database it was exported from.",
            hint_zh="请把表导入到导出它的数据库中。",
        )
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    wanted: list[tuple[_Row, str, int]] = []
    for r in rows:
        item_id = cell_text(r.cells["item_id"]).upper()
        code = cell_text(r.cells["check_code"]).upper()
        version_text = cell_text(r.cells["version"])
        if not item_id:
            problems.append(
                RowProblem(
                    r.line,
                    COLUMNS[KEYS.index("item_id")].title.zh,
                    "a row with no item id: new problems are registered with `coaltrace ledger add`",
                    "该行没有台账编号：新问题请用 coaltrace ledger add 登记",
                )
            )
            continue
        if code != check_code(db_id, item_id):
            problems.append(
                RowProblem(
                    r.line,
                    COLUMNS[KEYS.index("item_id")].title.zh,
                    f"the item id {item_id} does not fit the row's check code: the id was edited",
                    f"台账编号 {item_id} 与该行校验码不符：编号被改动过",
                    item_id,
                )
            )
            continue
        if item_id in seen:
            problems.append(
                RowProblem(
                    r.line,
                    COLUMNS[KEYS.index("item_id")].title.zh,
                    f"item {item_id} is also on line {seen[item_id]}: each item once",
                    f"事项 {item_id} 与第 {seen[item_id]} 行重复：每个事项只能出现一次",
                    item_id,
                )
            )
            continue
        seen[item_id] = r.line
        if not version_text.isdigit() or int(version_text) < 1:
            problems.append(
                RowProblem(
                    r.line,
                    COLUMNS[KEYS.index("version")].title.zh,
                    f"version {version_text!r} is not a version",
                    f"版本 {version_text!r} 无效",
                    item_id,
                )
            )
            continue
        wanted.append((r, item_id, int(version_text)))
    current = load_items(engine, [item_id for _, item_id, _ in wanted])
    found = titles(engine)
    report = Imported(path=path, rows=len(rows), dry_run=dry_run)
    changes: list[tuple[Item, Entry]] = []
    at = now()
    for r, item_id, version in wanted:
        item = current.get(item_id)
        if item is None or version > item.version:
            problems.append(
                RowProblem(
                    r.line,
                    None,
                    f"no item {item_id} (version {version}) in this ledger",
                    f"本台账中没有事项 {item_id}（版本 {version}）",
                    item_id,
                )
            )
            continue
        then = item if version == item.version else state_at(engine, item_id, version)
        assert then is not None
        try:
            edit = _edit(r, then, found, db_id)
            # A sheet imported again: what it asks is what the ledger already holds.
            if edit is not None and version != item.version and _edit(r, item, found, db_id) is None:
                edit = None
        except _CellError as e:
            problems.append(RowProblem(r.line, e.column, e.en, e.zh, item_id))
            continue
        if edit is None:
            report.unchanged += 1
            continue
        if version != item.version:
            problems.append(
                RowProblem(
                    r.line,
                    None,
                    f"conflict: item {item_id} changed in the ledger since this sheet was exported "
                    f"(version {version}, now {item.version}, last by {_last_actor(engine, item_id)}); "
                    "its edits were not applied",
                    f"冲突：事项 {item_id} 在导出后已在台账中变更（导出时版本 {version}，现为 {item.version}，"
                    f"最近由 {_last_actor(engine, item_id)} 修改），该行的修改未应用",
                    item_id,
                )
            )
            continue
        try:
            after, entry = update(item, edit, actor=actor, settings=settings, today=today, at=at)
        except UsageError as e:
            problems.append(RowProblem(r.line, None, e.message, e.zh or e.message, item_id))
            continue
        changes.append((after, entry))
        report.applied.append(
            {
                "item_id": item_id,
                "line": r.line,
                "from": entry.from_status.value if entry.from_status else None,
                "to": entry.to_status.value if entry.to_status else None,
                "fields": sorted(entry.fields),
            }
        )
    if problems:
        raise InputFileError(
            f"nothing was imported: {len(problems)} row(s) cannot be applied",
            zh=f"未导入任何修改：{len(problems)} 行无法应用",
            location=where,
            details=[_say(p, "en") for p in problems[:50]]
            + ([f"... and {len(problems) - 50} more"] if len(problems) > 50 else []),
            details_zh=[_say(p, "zh") for p in problems[:50]]
            + ([f"……另有 {len(problems) - 50} 行"] if len(problems) > 50 else []),
            hint="Correct those rows (or export the ledger again for the conflicts) and import the sheet again.",
            hint_zh="请更正这些行（有冲突的请重新导出台账后再修改），然后重新导入。",
        )
    if not dry_run:
        commit(engine, changes)
    return report


def _say(p: RowProblem, lang: str) -> str:
    if lang == "zh":
        where = f"第 {p.line} 行" + (f"（{p.column}）" if p.column else "")
        return f"{where}：{p.zh}"
    where = f"line {p.line}" + (f" ({p.column})" if p.column else "")
    return f"{where}: {p.en}"


def _last_actor(engine: Engine, item_id: str) -> str:
    return str(engine.scalar("SELECT actor FROM ledger_history WHERE item_id = ? ORDER BY seq DESC LIMIT 1", [item_id]))


class _CellError(Exception):
    def __init__(self, column: str, en: str, zh: str) -> None:
        super().__init__(en)
        self.column, self.en, self.zh = column, en, zh


def _title(key: str) -> str:
    return COLUMNS[KEYS.index(key)].title.zh


def _edit(r: _Row, then: Item, found: Mapping[str, Text], db_id: str) -> Update | None:
    """What the row changes against the item as it was exported; None when it changes nothing."""
    shown = {lang: sheet_values(then, lang, db_id, found) for lang in ("zh", "en")}
    cells = r.cells
    for key in FIXED:
        if key in DATES:
            try:
                same = cell_date(cells[key]) == shown["zh"][key]
            except ValueError:
                same = False
        else:
            same = same_text(cell_text(cells[key]), shown["zh"][key], shown["en"][key])
        if not same:
            raise _CellError(
                _title(key),
                f"{COLUMNS[KEYS.index(key)].title.en} is kept by the ledger and cannot be changed by a sheet",
                f"“{_title(key)}”由台账维护，不能通过导入修改",
            )
    changes: dict[str, Any] = {}
    for key in ("unit", "owner", "signer", "note"):
        text = cell_text(cells[key])
        if not same_text(text, shown["zh"][key]):
            changes[key] = text
    text = cell_text(cells["requirement"])
    standard = {REQUIREMENTS.get(then.problem_type, REQUIREMENTS["other"]).say(lang) for lang in ("zh", "en")}
    if not same_text(text, shown["zh"]["requirement"], shown["en"]["requirement"]):
        changes["requirement"] = "" if same_text(text, *standard) else text
    for key in ("deadline", "closed_on"):
        try:
            day = cell_date(cells[key])
        except ValueError:
            raise _CellError(_title(key), f"{cells[key]!r} is not a date", f"{cells[key]!r} 不是日期") from None
        if day != shown["zh"][key]:
            changes[key] = day
    status_text = cell_text(cells["status"])
    try:
        status = cell_status(status_text)
    except ValueError:
        allowed = "、".join(t.zh for t in LABELS["ledger_status"].values())
        raise _CellError(
            _title("status"),
            f"{status_text!r} is not a status ({', '.join(LABELS['ledger_status'])})",
            f"{status_text!r} 不是整改状态（{allowed}）",
        ) from None
    if status is not then.status:
        changes["status"] = status
    checks_cell = cell_text(cells["checks"])
    if not same_text(checks_cell, shown["zh"]["checks"], shown["en"]["checks"]):
        try:
            checks = parse_checks(checks_cell)
        except ValueError as e:
            raise _CellError(
                _title("checks"),
                f"cannot read the field check {e.args[0]!r}: write 'number result note', e.g. '5 found crusher in the yard'",
                f"无法识别现场核查 {e.args[0]!r}：请写成“序号 结果 说明”，如“5 发现问题 院内有筛分机”",
            ) from None
        changes["checks"] = tuple(c for c in checks if c not in then.field_checks)
    if not changes:
        return None
    status_to = changes.get("status")
    if "closed_on" in changes and status_to is not Status.closed:
        raise _CellError(
            _title("closed_on"),
            "a closing date is written when the item is closed (status closed)",
            "销号时间须与“已销号”状态一同填写",
        )
    if "signer" in changes and status_to not in (Status.verified, Status.closed, Status.dismissed):
        raise _CellError(
            _title("signer"),
            "the signer signs a verification, a closing or a dismissal: change the status with it",
            "核查人须与“已核查”“已销号”或“已排除”状态一同填写",
        )
    note = changes.get("note")
    if status_to in (Status.closed, Status.dismissed, Status.reopened) or (
        status_to is Status.rectifying and then.status is Status.verified
    ):
        # The note cell, changed or not, is the note this move needs.
        note = cell_text(cells["note"])
    signer = changes.get("signer")
    if status_to in (Status.closed, Status.dismissed) and signer is None:
        signer = cell_text(cells["signer"]) or None
    return Update(
        status=status_to,
        owner=changes.get("owner"),
        unit=changes.get("unit"),
        deadline=changes.get("deadline"),
        requirement=changes.get("requirement"),
        note=note,
        signer=signer,
        checks=changes.get("checks", ()),
        on=changes.get("closed_on") if status_to is Status.closed else None,
    )
