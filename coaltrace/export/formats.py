"""Rows in the formats people open: JSON, JSON Lines, CSV, XLSX, Parquet.

One writer for every list coaltrace prints or exports (findings, status,
quarantine, balance, rules, ad-hoc queries, the ledger, the exports), so the
same `--format` choice gives the same file everywhere, in the manner of
sqlite-utils' `--csv`, `--tsv`, `--json`, `--nl`:

- `csv`: UTF-8, with a byte-order mark in a file (Excel and WPS read a file as
  UTF-8 only with one, and Chinese text is garbled without) but none on stdout
  (a pipe feeds a program, which would take the mark for part of the first
  header); CRLF line ends, every cell through `spreadsheet_cell`; nested values
  (a finding's evidence) as JSON text;
- `xlsx`: one sheet per table, the header row frozen and filtered, columns
  sized to their content, ids stored as text (a spreadsheet turns `000123` or
  `20211201` into a number otherwise), every cell through `spreadsheet_cell`;
- `parquet`: typed columns, nested values kept nested where Arrow can hold
  them and as JSON text where it cannot (a list of mixed records);
- `json`: one array of objects; `jsonl`: one object a line.

`xlsx` and `parquet` are files, never a stream: the CLI asks for `--out`.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from coaltrace.errors import UsageError
from coaltrace.export.cells import spreadsheet_cell, write_csv
from coaltrace.i18n import Text

if TYPE_CHECKING:
    import polars as pl

Rows = Sequence[Mapping[str, Any]]

# Every format a list command knows, in the order help lists them.
FORMATS = ("table", "json", "jsonl", "csv", "xlsx", "parquet")
# Formats that are files (binary): written only with --out.
FILE_FORMATS = frozenset({"xlsx", "parquet"})

# A column holding an identifier: stored as text in a workbook, whatever it looks like.
_ID_COLUMN = re.compile(r"(^|_)(id|ids|no|uscc|plate|phone)$")
# Characters a workbook cannot hold (XML 1.0 forbids them); openpyxl refuses the cell otherwise.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_MAX_WIDTH = 60


def check_format(fmt: str, allowed: Sequence[str], *, what: Text, out: Path | None = None) -> str:
    """FMT, lower-cased, if ALLOWED has it and it can go where it is sent; UsageError naming the choices otherwise.

    WHAT names the list or export in both languages (`Text("问题", "findings")`)."""
    choice = fmt.strip().lower()
    if choice not in allowed:
        raise UsageError(
            f"--format {fmt!r} does not fit {what.en}: use one of {', '.join(allowed)}",
            zh=f"--format {fmt!r} 不适用于{what.zh}：只能是 {', '.join(allowed)} 之一",
        )
    if out is not None and out.is_dir():
        raise UsageError(
            f"--out {out} is a folder: name the file to write, e.g. {out / ('data.' + choice)}",
            zh=f"--out {out} 是文件夹：请指定要写出的文件，如 {out / ('data.' + choice)}",
        )
    if choice in FILE_FORMATS and out is None:
        raise UsageError(
            f"--format {choice} writes a file: name it with --out PATH",
            zh=f"--format {choice} 会写出文件：请用 --out 路径 指定文件",
            hint=f"e.g. --format {choice} --out {what.en.split()[-1]}.{choice}",
            hint_zh=f"例如 --format {choice} --out {what.en.split()[-1]}.{choice}",
        )
    return choice


def is_id_column(name: str) -> bool:
    """Whether the column NAME holds identifiers (kept as text in a workbook)."""
    return bool(_ID_COLUMN.search(name.lower()))


def plain(value: Any) -> Any:
    """VALUE as JSON can hold it: dates as ISO text, models as their JSON, paths as text, numpy scalars as numbers."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_line(row: Mapping[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, default=plain)


def _dicts(rows: Rows | pl.DataFrame) -> list[dict[str, Any]]:
    # A frame can only come from a process that imported polars: no need to import it for plain rows.
    polars = sys.modules.get("polars")
    if polars is not None and isinstance(rows, polars.DataFrame):
        return cast("list[dict[str, Any]]", rows.to_dicts())
    return [dict(r) for r in cast("Rows", rows)]


def _columns(rows: list[dict[str, Any]], columns: Sequence[str] | None) -> list[str]:
    if columns is not None:
        return list(columns)
    return list(dict.fromkeys(k for r in rows for k in r))


def write_text(
    rows: Rows | pl.DataFrame, fmt: str, stream: TextIO, columns: Sequence[str] | None = None, *, bom: bool = False
) -> None:
    """ROWS as json, jsonl or csv on STREAM (stdout, or a file opened as text); BOM: start a CSV with one."""
    data = _dicts(rows)
    cols = _columns(data, columns)
    if fmt == "json":
        stream.write(
            json.dumps([{c: r.get(c) for c in cols} for r in data], ensure_ascii=False, indent=2, default=plain)
        )
        stream.write("\n")
    elif fmt == "jsonl":
        for r in data:
            stream.write(json_line({c: r.get(c) for c in cols}) + "\n")
    elif fmt == "csv":
        write_csv(data, cols, stream, bom=bom)
    else:
        raise ValueError(f"not a text format: {fmt}")


def write_file(
    rows: Rows | pl.DataFrame | Mapping[str, Rows | pl.DataFrame],
    fmt: str,
    path: Path,
    columns: Sequence[str] | None = None,
    *,
    sheet: str = "data",
) -> int:
    """ROWS written to PATH as FMT (any of FORMATS but table); the bytes written.

    For xlsx, ROWS may map sheet names to tables (a workbook of several sheets).
    The file is written beside PATH first and moved into place, so a failure
    never leaves half a file where a finished one is expected.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        if fmt == "xlsx":
            sheets = rows if isinstance(rows, Mapping) else {sheet: rows}
            write_xlsx({name: _dicts(r) for name, r in sheets.items()}, partial, columns)
        elif fmt == "parquet":
            if isinstance(rows, Mapping):
                raise ValueError("parquet holds one table")
            frame(rows, columns).write_parquet(partial)
        elif fmt in ("json", "jsonl", "csv"):
            if isinstance(rows, Mapping):
                raise ValueError(f"{fmt} holds one table")
            # newline="" keeps the CSV writer's CRLF as it is.
            with partial.open("w", encoding="utf-8", newline="") as f:
                write_text(rows, fmt, f, columns, bom=True)
        else:
            raise ValueError(f"not a file format: {fmt}")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path.stat().st_size


def frame(rows: Rows | pl.DataFrame, columns: Sequence[str] | None = None) -> pl.DataFrame:
    """ROWS as a typed frame. Records (dicts, and lists of them) become JSON text: their keys differ
    from row to row (a finding's evidence), and Parquet cannot hold an empty one."""
    import polars as pl

    if isinstance(rows, pl.DataFrame):
        return rows.select(columns) if columns is not None else rows
    data = [dict(r) for r in rows]
    cols = _columns(data, columns)
    series = []
    for c in cols:
        values = [r.get(c) for r in data]
        if any(_is_record(v) for v in values):
            values = [None if v is None else json_line_value(v) for v in values]
        try:
            series.append(pl.Series(c, values, strict=True))
        except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
            texts = [None if v is None else v if isinstance(v, str) else json_line_value(v) for v in values]
            series.append(pl.Series(c, texts, dtype=pl.String))
    return pl.DataFrame(series)


def _is_record(value: Any) -> bool:
    return isinstance(value, dict) or (isinstance(value, list | tuple) and any(isinstance(v, dict) for v in value))


def json_line_value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=plain)


def _xlsx_value(value: Any) -> Any:
    cell = spreadsheet_cell(value)
    if isinstance(cell, str):
        return _XML_ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", cell)
    if isinstance(value, float) and value != value:  # NaN: an empty cell, not an error cell
        return None
    return cell


def write_xlsx(
    sheets: Mapping[str, Iterable[Mapping[str, Any]]], path: Path, columns: Sequence[str] | None = None
) -> None:
    """A workbook of SHEETS: header frozen and filtered, ids as text, every cell formula-safe."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    for name, rows in sheets.items():
        data = [dict(r) for r in rows]
        cols = _columns(data, columns)
        # Sheet names: at most 31 characters, none of []:*?/\ .
        ws = wb.create_sheet(re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "data")
        ws.freeze_panes = "A2"
        last = get_column_letter(max(len(cols), 1))
        ws.auto_filter.ref = f"A1:{last}{len(data) + 1}"
        cells = [[_xlsx_value(r.get(c)) for c in cols] for r in data]
        for i, c in enumerate(cols):
            longest = max([_width(c), *(_width(row[i]) for row in cells[:1000])])
            ws.column_dimensions[get_column_letter(i + 1)].width = min(longest + 2, _MAX_WIDTH)
        ws.append([_xlsx_value(c) for c in cols])
        as_text = [is_id_column(c) for c in cols]
        for row in cells:
            out: list[Any] = []
            for value, text in zip(row, as_text, strict=True):
                if text and value is not None:
                    cell = WriteOnlyCell(ws, value=str(value))
                    cell.number_format = "@"
                    out.append(cell)
                else:
                    out.append(value)
            ws.append(out)
    if not sheets:
        wb.create_sheet("data")
    wb.save(path)


def _width(value: Any) -> int:
    """Columns a value takes in a spreadsheet: a Chinese character takes two."""
    if value is None:
        return 0
    text = value if isinstance(value, str) else str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text[:_MAX_WIDTH])
