"""The workbook reader: an Excel or OpenDocument workbook (`.xlsx`, `.xlsm`, `.xls`, `.xlsb`, `.ods`), every sheet,
one at a time.

Every cell is read as text. A record's `_line` is the sheet's row number,
counting the sheet's first row as 1, whatever precedes the header.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from coaltrace.errors import InputFileError, Location
from coaltrace.ingest.readers import (
    HEADER_SEARCH_ROWS,
    Candidate,
    Opened,
    check_regular_file,
    drop_blank_rows,
    is_blank,
    nul_refused,
    positional,
    sha256_of,
    short_error,
)


def _cell(value: object) -> str:
    return "" if value is None else str(value)


@dataclass
class Workbook:
    """An Excel or OpenDocument workbook, opened once; its sheets are read one at a time."""

    path: Path
    sha256: str
    sheet_names: list[str]
    book: Any = field(repr=False)

    def sheet(self, name: str) -> Opened:
        """The sheet NAME; an empty sheet has no candidates."""
        where = Location(file=str(self.path), sheet=name)
        try:
            # Read every cell as text: the normalisers, not Excel's guess, decide what a cell means.
            # No header row and no skipped rows, so grid row i is the sheet's row i + 1
            # even when the sheet starts with empty rows.
            sheet = self.book.load_sheet(name, header_row=None, skip_rows=0, dtypes="string")
            grid = positional(sheet.to_polars())
        except Exception as e:  # fastexcel raises its own error types for a broken sheet
            raise InputFileError(
                f"cannot read the sheet: {short_error(e)}", zh=f"无法读取该工作表：{short_error(e)}", location=where
            ) from None
        _refuse_nul_cells(grid, where, first_line=1)
        top = [Candidate(i + 1, [_cell(v) for v in row]) for i, row in enumerate(grid.head(HEADER_SEARCH_ROWS).rows())]

        def read(header: Candidate) -> tuple[pl.DataFrame, list[str]]:
            frame = grid.with_row_index("_line", offset=1).with_columns(pl.col("_line").cast(pl.Int64))
            frame = frame.slice(header.line).select(pl.exclude("_line"), "_line")
            return drop_blank_rows(frame), header.cells

        return Opened(self.path, self.sha256, [c for c in top if not is_blank(c.cells)], reader=read, sheet=name)


def open_workbook(path: Path) -> Workbook:
    where = Location(file=str(path))
    check_regular_file(path)
    try:
        import fastexcel

        book = fastexcel.read_excel(str(path))
        names = list(book.sheet_names)
    except Exception as e:  # fastexcel raises its own error types for broken workbooks
        raise InputFileError(
            f"not a readable Excel workbook: {short_error(e)}",
            zh=f"不是可读的 Excel 工作簿：{short_error(e)}",
            location=where,
        ) from None
    return Workbook(path, sha256_of(path), names, book)


def open_excel(path: Path, sheet: str | None = None) -> Opened:
    """Sheet SHEET of the workbook, or its first sheet that is not empty."""
    book = open_workbook(path)
    if sheet is not None:
        return book.sheet(check_sheet_name(book, sheet))
    opened = None
    for name in book.sheet_names:
        opened = book.sheet(name)
        if opened.candidates:
            break
    if opened is None:
        raise InputFileError("the workbook has no sheet", zh="工作簿中没有工作表", location=Location(file=str(path)))
    return opened


def check_sheet_name(book: Workbook, sheet: str) -> str:
    if sheet not in book.sheet_names:
        raise InputFileError(
            f"the workbook has no sheet named {sheet!r}",
            zh=f"工作簿中没有名为 {sheet!r} 的工作表",
            location=Location(file=str(book.path), sheet=sheet),
            hint=f"Its sheets are: {', '.join(book.sheet_names)}.",
            hint_zh=f"工作表有：{'、'.join(book.sheet_names)}。",
        )
    return sheet


def _refuse_nul_cells(frame: pl.DataFrame, where: Location, first_line: int) -> None:
    """Refuse a frame with a NUL character in any text cell, naming its line and column."""
    text = [c for c, t in frame.schema.items() if t == pl.String]
    if not text:
        return
    hits = frame.select(pl.col(text).str.contains("\x00", literal=True).fill_null(False).arg_max())
    has = frame.select(pl.col(text).str.contains("\x00", literal=True).fill_null(False).any())
    for c in text:
        if has[c].item():
            row = int(hits[c].item())
            index = c.removeprefix("_c")
            # Grid columns are counted from 1, as a spreadsheet user counts them.
            column = f"#{int(index) + 1}" if index.isdigit() else c
            raise nul_refused(Location(file=where.file, sheet=where.sheet, column=column), first_line + row)
